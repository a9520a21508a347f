"""The rule registry: every check is a `Rule` with a stable code and name, registered by the
`@rule` decorator, run by `run()` over one `CheckContext`.

Like ruff's registry, the codes live in one table (`uvtorch.checks.codes.CODES`); a rule whose
code and name disagree with that table is refused at import time, so a code never changes
meaning. A rule's documentation is its function's docstring, with the sections named in
`DOC_SECTIONS`; `uvtorch check --rule CODE` prints it.

A placeholder (`placeholder=True`) holds a code and its documentation for a rule whose check is
written elsewhere; registering the same code again replaces it. Registering a code twice
otherwise is a programming error.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from uvtorch.checks.codes import CODES

if TYPE_CHECKING:
    from uvtorch.check import Project

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
DOC_SECTIONS = ("What it does", "Why is this bad?", "Example", "Fix")


@dataclass(frozen=True)
class Place:
    """Where a finding is: an install (`base`, `extra:<name>`, `group:<name>`), a package, a
    target platform (`linux-x86_64`...) and the pyproject.toml table (`tool.uv.sources`), or
    `uv.lock`. Every key is optional."""

    install: str | None = None
    package: str | None = None
    platform: str | None = None
    table: str | None = None


@dataclass(frozen=True)
class Fix:
    """A repair `check --fix` can make. `unsafe` fixes may change which build a user gets;
    `why_unsafe` says how, and they run only with `--unsafe-fixes`."""

    title: str
    applicability: Literal["safe", "unsafe"]
    why_unsafe: str | None = None


@dataclass(frozen=True)
class Finding:
    """One problem: the rule's name, how bad it is here, where, what and why."""

    name: str
    severity: Severity
    place: Place
    message: str
    why: str
    fix: Fix | None = None

    @property
    def code(self) -> str:
        return code_of(self.name)


@dataclass
class CheckContext:
    """What a rule reads: the project folder, the parsed pyproject.toml and uv.lock, the
    `Project` views over them, and the routing model (filled by `uvtorch.model` when built)."""

    root: Path
    pyproject: Mapping[str, Any]
    lock: Mapping[str, Any] | None
    project: Project
    model: Any = None


Check = Callable[[CheckContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A registered check: its code, name, default severity, one-line summary and docs."""

    code: str
    name: str
    severity: Severity
    summary: str
    doc: str
    check: Check


_RULES: dict[str, Rule] = {}
_PLACEHOLDERS: set[str] = set()
# Modules whose import registers rules, in order; a later module may replace a placeholder of
# an earlier one. The routing-model rules append their module here.
RULE_MODULES: list[str] = [
    "uvtorch.checks.rules",
    "uvtorch.checks.lock_rules",
    "uvtorch.checks.rules_routing",
]
# Rules that read only the validated model; the others read the raw tables and are skipped
# while the model reports wrong-typed values (invalid-project-table says what to fix first).
MODEL_MODULES = frozenset({"uvtorch.checks.rules_routing"})
_loaded = False


def rule(
    code: str, name: str, severity: Severity, summary: str, *, placeholder: bool = False,
    replace: bool = False,
) -> Callable[[Check], Check]:
    """Register the decorated function as the check of rule `code`/`name`; `replace` lets a
    routing-model rule take the place of the ported rule of the same code."""
    if CODES.get(code) != name:
        raise ValueError(f"rule {code} {name!r} is not in uvtorch.checks.codes.CODES")
    if severity not in SEVERITIES:
        raise ValueError(f"rule {code}: unknown severity {severity!r}")

    def register(check: Check) -> Check:
        doc = inspect.cleandoc(check.__doc__ or "")
        missing = [s for s in DOC_SECTIONS if f"## {s}" not in doc]
        if missing:
            raise ValueError(f"rule {code} {name}: its docstring lacks {', '.join(missing)}")
        if code in _RULES and code not in _PLACEHOLDERS and not replace:
            if placeholder:
                return check  # the real rule is already there
            raise ValueError(f"rule {code} {name} is registered twice")
        _RULES[code] = Rule(code, name, severity, summary, doc, check)
        if placeholder:
            _PLACEHOLDERS.add(code)
        else:
            _PLACEHOLDERS.discard(code)
        return check

    return register


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in RULE_MODULES:
            importlib.import_module(module)


def all_rules() -> list[Rule]:
    """Every registered rule, by code."""
    _load()
    return [_RULES[c] for c in sorted(_RULES)]


def placeholders() -> set[str]:
    """Codes registered with a check that finds nothing yet."""
    _load()
    return set(_PLACEHOLDERS)


def code_of(name: str) -> str:
    """`extras-without-conflicts` -> `UT001`."""
    for code, known in CODES.items():
        if known == name:
            return code
    raise KeyError(name)


class UnknownRule(ValueError):
    """A selector that names no rule."""


def resolve(selectors: Iterable[str]) -> set[str]:
    """Codes chosen by selectors: a code (`UT005`), a name, a code prefix (`UT0`) or `ALL`."""
    chosen: set[str] = set()
    for raw in selectors:
        selector = raw.strip()
        if not selector:
            continue
        upper = selector.upper()
        if upper == "ALL":
            chosen |= set(CODES)
        elif upper in CODES:
            chosen.add(upper)
        elif selector.lower() in CODES.values():
            chosen.add(code_of(selector.lower()))
        elif upper.startswith("UT") and any(c.startswith(upper) for c in CODES):
            chosen |= {c for c in CODES if c.startswith(upper)}
        else:
            raise UnknownRule(selector)
    return chosen


def find_rule(selector: str) -> Rule:
    """The rule a code or name names."""
    codes = resolve([selector])
    _load()
    if len(codes) != 1:
        raise UnknownRule(selector)
    return _RULES[codes.pop()]


def run(
    ctx: CheckContext,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] = (),
) -> list[Finding]:
    """The findings of the selected rules (default: all), minus the ignored ones, in code
    order and without duplicates."""
    chosen = resolve(select) if select is not None else set(CODES)
    chosen -= resolve(ignore)
    seen: set[Finding] = set()
    out: list[Finding] = []
    model_project = getattr(ctx.model, "project", None)
    malformed = bool(getattr(model_project, "problems", ())) or bool(
        getattr(model_project, "lock_problems", ()))
    for rule_ in all_rules():
        if rule_.code not in chosen:
            continue
        if malformed and rule_.check.__module__ not in MODEL_MODULES:
            continue
        for finding in rule_.check(ctx):
            if finding not in seen:
                seen.add(finding)
                out.append(finding)
    # A rule may report under another rule's name; that name's selection decides.
    return [f for f in out if f.code in chosen]
