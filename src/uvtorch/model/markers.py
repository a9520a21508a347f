"""PEP 508 markers evaluated for one platform with *several* extras and groups active.

packaging's `Marker.evaluate` takes one `extra` string, but `uv sync --extra cu128` with the
default group `dev` activates both, and uv.lock writes conflict markers such as
`extra == 'extra-4-demo-cu128'` and `extra == 'group-4-demo-dev'` (crates/uv-resolver/src/
universal_marker.rs, `encode_package_extra`/`encode_package_group`). So the `extra` variable is
compared against a set here; every other atom is delegated to packaging.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from packaging.markers import InvalidMarker, Marker, UndefinedComparison


def holds(marker: Marker | str | None, env: Mapping[str, str], active: frozenset[str]) -> bool:
    """Whether `marker` is true on `env` with the extras/groups `active` (None: always)."""
    if marker is None:
        return True
    if isinstance(marker, str):
        try:
            marker = _parse(marker)
        except InvalidMarker:
            return True  # uv refuses the file first; the model does not guess
    return _eval(getattr(marker, "_markers"), env_key(env), active)


def env_key(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(env.items()))


@lru_cache(maxsize=262144)
def holds_key(marker: str | None, env: tuple[tuple[str, str], ...],
              active: frozenset[str]) -> bool:
    """`holds` for a marker string and a precomputed `env_key` (the lock walk's hot path)."""
    if marker is None:
        return True
    try:
        parsed = _parse(marker)
    except InvalidMarker:
        return True
    return _eval(getattr(parsed, "_markers"), env, active)


@lru_cache(maxsize=65536)
def _parse(text: str) -> Marker:
    return Marker(text)


def _eval(items: list[Any], env: tuple[tuple[str, str], ...], active: frozenset[str]) -> bool:
    # packaging keeps `a and b or c` as a flat list: groups of `and` separated by `or`.
    groups: list[list[bool]] = [[]]
    for item in items:
        if item == "or":
            groups.append([])
        elif item == "and":
            continue
        elif isinstance(item, list):
            groups[-1].append(_eval(item, env, active))
        else:
            groups[-1].append(_atom(item, env, active))
    return any(all(g) for g in groups)


def _atom(item: tuple[Any, Any, Any], env: tuple[tuple[str, str], ...],
          active: frozenset[str]) -> bool:
    lhs, op, rhs = item
    names = [type(x).__name__ for x in (lhs, rhs)]
    if "Variable" in names:
        var = lhs if names[0] == "Variable" else rhs
        val = rhs if names[0] == "Variable" else lhs
        if var.value in ("extra", "extras", "dependency_groups"):
            if op.value == "==" or op.value == "in":
                return _norm(val.value) in active
            if op.value == "!=" or op.value == "not in":
                return _norm(val.value) not in active
            return False
    return _atom_text(f"{lhs.serialize()} {op.serialize()} {rhs.serialize()}", env)


@lru_cache(maxsize=65536)
def _atom_text(text: str, env: tuple[tuple[str, str], ...]) -> bool:
    try:
        return bool(Marker(text).evaluate(dict(env)))
    except (InvalidMarker, UndefinedComparison, ValueError, TypeError):
        return True


def _norm(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()
