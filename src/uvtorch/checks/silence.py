"""Silencing findings from inside pyproject.toml, two ways:

- `[tool.uvtorch.check] ignore = ["UT005", "index-not-explicit"]`: the project never wants
  those rules (codes, names or code prefixes, as `--ignore` takes);
- a trailing `# uvtorch: ignore[UT005]` (or `ignore[UT005, UT006]`, or bare
  `# uvtorch: ignore` for every rule) on the line a finding points at (the line `check`
  prints), like ruff's `# noqa`.

A selector that names no rule is a usage error, so a typo never silences silently.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from uvtorch.checks.locate import line_in_lock, line_in_pyproject
from uvtorch.checks.output import Located
from uvtorch.checks.registry import Finding, UnknownRule, resolve
from uvtorch.errors import UsageError

_COMMENT = re.compile(r"#\s*uvtorch:\s*ignore(?:\[([^\]]*)\])?", re.IGNORECASE)


def configured_ignores(pyproject: Mapping[str, Any]) -> set[str]:
    """The codes `[tool.uvtorch.check] ignore` silences."""
    table: Any = pyproject
    for key in ("tool", "uvtorch", "check"):
        table = table.get(key, {}) if isinstance(table, Mapping) else {}
    raw = table.get("ignore", []) if isinstance(table, Mapping) else []
    if not isinstance(raw, list):
        raw = [raw]
    try:
        return resolve(str(x) for x in raw)
    except UnknownRule as exc:
        raise UsageError(
            f"[tool.uvtorch.check] ignore names no rule: {exc}.",
            "Use a code (UT005) or name (platform-gets-other-build); uvtorch check "
            "--list-rules lists them.",
        ) from None


def inline_ignores(line: str) -> set[str] | None:
    """The codes a `# uvtorch: ignore[...]` comment on `line` silences (None: no comment;
    every code for a bare `ignore`)."""
    match = _COMMENT.search(line)
    if match is None:
        return None
    if match.group(1) is None:
        return resolve(["ALL"])
    try:
        return resolve(x for x in match.group(1).split(","))
    except UnknownRule as exc:
        raise UsageError(
            f"`# uvtorch: ignore[...]` names no rule: {exc}.",
            "Use codes such as # uvtorch: ignore[UT005]; uvtorch check --list-rules lists them.",
        ) from None


def silenced_inline(finding: Finding, line_text: str) -> bool:
    codes = inline_ignores(line_text)
    return codes is not None and finding.code in codes


def unsilenced(folder: Path, findings: Iterable[Finding]) -> tuple[list[Located], int]:
    """Each finding with the file and line it points at, minus those a trailing comment on
    that line silences; and how many were silenced."""
    text = (folder / "pyproject.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    lock_text: str | None = None
    kept: list[Located] = []
    silenced = 0
    for f in findings:
        if f.place.table == "uv.lock":
            if lock_text is None:
                lock_text = (folder / "uv.lock").read_text(encoding="utf-8")
            kept.append(Located(f, shown(folder / "uv.lock"), line_in_lock(lock_text, f.place.package)))
            continue
        line = line_in_pyproject(text, f)
        if 0 < line <= len(lines) and silenced_inline(f, lines[line - 1]):
            silenced += 1
            continue
        kept.append(Located(f, shown(folder / "pyproject.toml"), line))
    return kept, silenced


def shown(path: Path) -> str:
    """A path as annotations want it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:  # another drive on Windows
        return str(path)
