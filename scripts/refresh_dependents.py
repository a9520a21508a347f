#!/usr/bin/env python3
"""Refresh src/uvtorch/data/dependents.toml (the catalog's packages that require torch) from PyPI.

A maintainer script, never run by uvtorch or by CI (CI tests must not need PyPI). The human
choice is the `watch` list in the data file: which popular packages to examine. For each
watched package the script reads its newest release's metadata from PyPI's JSON API
(https://pypi.org/pypi/<name>/json: `info.version`, `info.requires_dist`), follows the BASE
requirements (a requirement whose marker mentions `extra` is left out; platform markers are
kept: a torch requirement on some platforms is still one) down to DEPTH levels, and records:

- whether torch is required anywhere in that tree (those that do not are left out, named in a
  comment);
- `pulls_torch_through`: packages of the tree, torch-family aside, that require torch
  themselves (a `-a system` extra must drop their torch requirements too);
- `needs`: the torch-family companions (catalog.toml's [companions]) required anywhere in it;
- `why`: the real requirement strings that say so.

    .venv/bin/python scripts/refresh_dependents.py          # rewrite the file
    .venv/bin/python scripts/refresh_dependents.py --check  # exit 1 if it would change

All HTTP goes through uvtorch.fetch (https only, one deadline, bounded sizes, parallel).
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "uvtorch" / "data"
OUTPUT = DATA / "dependents.toml"
PYPI_JSON = "https://pypi.org/pypi/{name}/json"
DEPTH = 4  # levels of requirements below a watched package that are read
TORCH = "torch"


@dataclass(frozen=True)
class Meta:
    """One release's metadata as PyPI's JSON API gives it."""

    name: str  # canonical
    version: str
    # None: unknown. PyPI's JSON gives `requires_dist: null` both for a release that requires
    # nothing and for an sdist-only release whose requirements PyPI did not read; only the
    # first, a release with a wheel, is read as "requires nothing" (fetch's job to tell)
    requires_dist: tuple[str, ...] | None


@dataclass
class Dependent:
    """What the walk found for one watched package."""

    name: str
    version: str
    needs: tuple[str, ...]
    pulls_torch_through: tuple[str, ...]
    why: str


@dataclass
class Result:
    """The walk's answer for the whole watch list."""

    dependents: dict[str, Dependent] = field(default_factory=dict)
    not_dependents: dict[str, str] = field(default_factory=dict)  # name -> version read
    unknown: dict[str, str] = field(default_factory=dict)  # watched, requires_dist unknown
    warnings: list[str] = field(default_factory=list)


# Fetch many packages at once: canonical name -> Meta, or None where PyPI has no such project.
FetchMany = Callable[[Sequence[str]], Mapping[str, "Meta | None"]]


class RefreshError(Exception):
    """A failure the maintainer must act on; the message says what and where."""


def base_requirements(meta: Meta) -> list[Requirement]:
    """The requirements a plain install of `meta` brings: those without an `extra` marker."""
    found = []
    for text in meta.requires_dist or ():
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise RefreshError(f"{meta.name} {meta.version}: Requires-Dist {text!r}: {exc}") from exc
        if req.marker is not None and "extra" in str(req.marker):
            continue
        found.append(req)
    return found


def _shown(req: Requirement) -> str:
    """`torch>=2.1` or `torch>=2.1 (when sys_platform == "win32")`: the requirement as written."""
    text = f"{req.name}{'[' + ','.join(sorted(req.extras)) + ']' if req.extras else ''}{req.specifier}"
    if req.url:
        text += f" @ {req.url}"
    return f"{text} (when {req.marker})" if req.marker is not None else text


def _join(items: Sequence[str]) -> str:
    return " and ".join(items)  # not ", ": specifiers have commas of their own


def walk(
    watch: Iterable[str],
    fetch_many: FetchMany,
    companions: Iterable[str],
    family: Iterable[str] = (),
    depth: int = DEPTH,
) -> Result:
    """Read each watched package's tree of base requirements, level by level (each level's
    unread names fetched in one parallel call, each package read once), and judge it.

    `companions`: the torch-family packages a dependent may need (catalog [companions]);
    `family`: other torch-family names (torch's own builds: never walked into, never a
    `pulls_torch_through`)."""
    roots: list[str] = sorted({canonicalize_name(n) for n in watch})
    wanted = {canonicalize_name(c) for c in companions}
    torch_family = {TORCH} | wanted | {canonicalize_name(f) for f in family}
    metas: dict[str, Meta | None] = {}
    result = Result()

    def read(names: Iterable[str]) -> None:
        todo = sorted({n for n in names if n not in metas})
        if todo:
            got = fetch_many(todo)
            for n in todo:
                found = metas[n] = got.get(n)
                if n in roots:
                    continue
                if found is None:
                    result.warnings.append(f"{n} is required in the tree but is not on PyPI; not walked")
                elif found.requires_dist is None:
                    result.warnings.append(
                        f"{n} {found.version}: sdist only, PyPI's JSON has no Requires-Dist; "
                        "its requirements are unknown, not walked"
                    )

    # requirements of every package read, by canonical name
    edges: dict[str, list[Requirement]] = {}
    frontier: list[str] = list(roots)
    read(frontier)
    for name in roots:
        if metas[name] is None:
            raise RefreshError(f"watched package {name} is not on PyPI (https://pypi.org/project/{name}/)")
        elif metas[name].requires_dist is None:  # type: ignore[union-attr]
            result.unknown[name] = metas[name].version  # type: ignore[union-attr]
    for level in range(depth + 1):
        nxt: set[str] = set()
        for name in frontier:
            meta = metas[name]
            if meta is None or meta.requires_dist is None or name in edges:
                continue
            edges[name] = base_requirements(meta)
            if level == depth:
                continue  # its own requirements are read, not walked into
            for req in edges[name]:
                child = canonicalize_name(req.name)
                if child not in torch_family and child not in edges and not req.url:
                    nxt.add(child)
        frontier = sorted(nxt)
        if not frontier:
            break
        read(frontier)

    for root in roots:
        meta = metas[root]
        assert meta is not None
        if root in result.unknown:
            continue
        # the tree below root, by BFS over what was read (each package once)
        seen = [root]
        queue = [(root, 0)]
        while queue:
            cur, level = queue.pop(0)
            if level == depth:
                continue
            for req in edges.get(cur, []):
                child = canonicalize_name(req.name)
                if child in torch_family or child in seen or child not in edges:
                    continue
                seen.append(child)
                queue.append((child, level + 1))
        torch_reqs = {
            n: [r for r in edges[n] if canonicalize_name(r.name) in torch_family] for n in seen
        }
        requires_torch = {
            n for n in seen if any(canonicalize_name(r.name) == TORCH for r in torch_reqs[n])
        }
        if not requires_torch:
            result.not_dependents[root] = meta.version
            continue
        needs = sorted(
            {canonicalize_name(r.name) for n in seen for r in torch_reqs[n]} & wanted
        )
        through = sorted(requires_torch - {root})
        sentences = []
        for n in [root, *sorted(n for n in seen if n != root)]:
            if n in requires_torch or {canonicalize_name(r.name) for r in torch_reqs[n]} & wanted:
                m = metas[n]
                assert m is not None
                told = [r for r in torch_reqs[n] if canonicalize_name(r.name) in ({TORCH} | wanted)]
                told.sort(key=lambda r: (canonicalize_name(r.name) != TORCH, canonicalize_name(r.name),
                                         r.marker is not None, _shown(r)))
                shown = list(dict.fromkeys(_shown(r) for r in told))
                sentences.append(f"{n} {m.version} requires {_join(shown)}")
        result.dependents[root] = Dependent(root, meta.version, tuple(needs), tuple(through), "; ".join(sentences))
    return result


def render(watch: Iterable[str], result: Result, date: str) -> str:
    """The data file's text: the same inputs always give the same bytes."""
    doc = tomlkit.document()
    for line in (
        "Generated by scripts/refresh_dependents.py from PyPI's JSON API",
        f"(https://pypi.org/pypi/<name>/json, newest releases) on {date}.",
        "Do not edit by hand: add names to `watch` and rerun the script (`--check` says",
        "whether the file is current). Each watched package's base requirements (extras",
        f"aside; platform markers kept) are followed {DEPTH} levels down. `needs`: torch-family",
        "companions required anywhere in that tree (they must come from the same PyTorch",
        "index as torch, so uvtorch adds them to every extra); `pulls_torch_through`: packages",
        "of the tree that require torch themselves. Kernels (kernels.toml) are not watched.",
    ):
        doc.add(tomlkit.comment(line))
    if result.not_dependents:
        doc.add(tomlkit.comment(
            "examined, no torch requirement: "
            + ", ".join(f"{n} {v}" for n, v in sorted(result.not_dependents.items()))
        ))
    if result.unknown:
        doc.add(tomlkit.comment(
            "examined, no Requires-Dist in PyPI's JSON (sdist only), not judged: "
            + ", ".join(f"{n} {v}" for n, v in sorted(result.unknown.items()))
        ))
    names = tomlkit.array()
    names.multiline(True)
    for n in sorted({canonicalize_name(w) for w in watch}):
        names.append(n)
    doc.add("watch", names)
    table = tomlkit.table(is_super_table=True)
    for name in sorted(result.dependents):
        d = result.dependents[name]
        entry = tomlkit.table()
        entry.add("version", d.version)
        entry.add("needs", list(d.needs))
        if d.pulls_torch_through:
            entry.add("pulls_torch_through", list(d.pulls_torch_through))
        entry.add("why", d.why)
        table.add(name, entry)
    doc.add(tomlkit.nl())
    doc.add("dependents", table)
    return tomlkit.dumps(doc)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        parsed: dict[str, Any] = tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()
    except OSError as exc:
        raise RefreshError(f"cannot read {path}: {exc}") from exc
    return parsed


def read_watch(path: Path, kernels: Iterable[str], family: Iterable[str]) -> list[str]:
    """The watch list from the data file; kernels and torch-family names refused."""
    watch = _read_toml(path).get("watch")
    if not isinstance(watch, list) or not all(isinstance(w, str) for w in watch):
        raise RefreshError(f"{path}: `watch` must be a list of package names")
    kernel_names = {canonicalize_name(k) for k in kernels}
    family_names = {canonicalize_name(f) for f in family}
    for w in watch:
        if canonicalize_name(w) in kernel_names:
            raise RefreshError(f"{path}: {w} is a kernel (src/uvtorch/data/kernels.toml's business); remove it from `watch`")
        if canonicalize_name(w) in family_names:
            raise RefreshError(f"{path}: {w} is torch-family (catalog.toml), not a dependent; remove it from `watch`")
    return watch


def catalog_names() -> tuple[list[str], list[str], list[str]]:
    """(companions, other torch-family names, kernels) from the packaged data files."""
    catalog = _read_toml(DATA / "catalog.toml")
    wheels = _read_toml(DATA / "wheels.toml")
    kernels = _read_toml(DATA / "kernels.toml")
    companions = sorted(catalog.get("companions", {}))
    family = sorted({c["name"] for c in wheels.get("index_companions", [])})
    for channel in catalog.get("channels", {}).values():
        family += list(channel.get("triton", {}).values())
    return companions, family, sorted(kernels.get("kernels", {}))


def pypi_fetch_many(deadline_s: float = 300.0) -> FetchMany:
    """Fetch PyPI JSON metadata through uvtorch.fetch, in parallel, under one deadline."""
    sys.path.insert(0, str(ROOT / "src"))
    from uvtorch.fetch import Fetcher, FetchError  # type: ignore[import-untyped,unused-ignore]

    fetcher = Fetcher(deadline_s=deadline_s, workers=16)

    def fetch_many(names: Sequence[str]) -> dict[str, Meta | None]:
        urls = [PYPI_JSON.format(name=n) for n in names]
        bodies = fetcher.get_each(urls, "PyPI JSON API URL", accept="application/json")
        out: dict[str, Meta | None] = {}
        for name, url, body in zip(names, urls, bodies, strict=True):
            if isinstance(body, FetchError):
                raise RefreshError(f"{url}: {body}")
            if body is None:
                out[name] = None
                continue
            try:
                info = json.loads(body)["info"]
                listed = info.get("requires_dist")
                wheel = any(f.get("packagetype") == "bdist_wheel" for f in json.loads(body).get("urls", []))
                out[name] = Meta(
                    name, str(info["version"]), None if listed is None and not wheel else tuple(listed or ())
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise RefreshError(f"{url}: not PyPI's JSON API answer ({exc})") from exc
        return out

    return fetch_many


def _date_of(text: str) -> str | None:
    match = re.search(r"^# \(https://pypi\.org/.* on (\d{4}-\d{2}-\d{2})\.$", text, re.MULTILINE)
    return match.group(1) if match else None


def main(argv: Sequence[str] | None = None, fetch_many: FetchMany | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file would change; write nothing")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        companions, family, kernels = catalog_names()
        watch = read_watch(args.output, kernels, [TORCH, *companions, *family])
        result = walk(watch, fetch_many or pypi_fetch_many(), companions, family)
    except RefreshError as exc:
        print(f"refresh_dependents: {exc}", file=sys.stderr)
        return 2
    for warning in result.warnings:
        print(f"refresh_dependents: warning: {warning}", file=sys.stderr)
    old = args.output.read_text(encoding="utf-8")
    if args.check:
        # the date is when it was last written, not part of what is compared
        new = render(watch, result, _date_of(old) or "")
        if new != old:
            print(f"{args.output} is out of date: rerun scripts/refresh_dependents.py", file=sys.stderr)
            return 1
        print(f"{args.output} is current")
        return 0
    new = render(watch, result, _date_of(old) or "")
    if new == old:
        print(f"{args.output} is current; not rewritten")
        return 0
    new = render(watch, result, datetime.datetime.now(datetime.timezone.utc).date().isoformat())
    args.output.write_text(new, encoding="utf-8")
    print(
        f"wrote {args.output}: {len(result.dependents)} dependents "
        f"({', '.join(sorted(result.dependents))}); no torch requirement: "
        f"{', '.join(sorted(result.not_dependents)) or 'none'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
