"""PEP 508 markers that select a set of platforms, as short as the context allows.

A source marker only has to tell apart the platforms the project targets: with every Linux
target covered, `sys_platform == 'linux'` is enough; with only one of two Linux machines
covered, the machine must be named too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from uvtorch.catalog import Platform


def marker_for(
    selected: Iterable[str], universe: Iterable[str], platforms: Mapping[str, Platform]
) -> str | None:
    """A marker true on `selected` and false on the rest of `universe`; None if all of it."""
    chosen = [p for p in platforms if p in set(selected)]
    among = [p for p in platforms if p in set(universe)]
    if set(chosen) >= set(among):
        return None
    clauses: list[str] = []
    done_os: set[str] = set()
    for pid in chosen:
        plat = platforms[pid]
        same_os = [p for p in among if platforms[p].os_marker == plat.os_marker]
        if all(p in chosen for p in same_os):
            if plat.os_marker not in done_os:
                clauses.append(plat.os_marker)
                done_os.add(plat.os_marker)
        elif plat.machine_marker:
            clauses.append(f"{plat.os_marker} and {plat.machine_marker}")
        else:
            clauses.append(plat.os_marker)
    if len(clauses) > 1:
        clauses = [f"({c})" if " and " in c else c for c in clauses]
    return " or ".join(clauses)


def environment_marker(platform: str, platforms: Mapping[str, Platform]) -> str:
    """The marker of one platform among all known ones, for `tool.uv.environments`."""
    plat = platforms[platform]
    others_on_os = [p for p, x in platforms.items() if x.os_marker == plat.os_marker]
    if len(others_on_os) > 1 and plat.machine_marker:
        return f"{plat.os_marker} and {plat.machine_marker}"
    return plat.os_marker
