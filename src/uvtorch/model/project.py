"""A validated, read-only view of pyproject.toml (and uv.lock): the input of the routing model.

Every value is checked for its type once, here. A wrong type is never an AttributeError later:
it becomes a `Problem` (which table, what is wrong, what would work) and the value is left out,
so the rest of the file can still be checked. Only a file that cannot be read at all, or is not
TOML, is an error (`UnreadableProject`, exit 2).

The keys and their shapes follow uv's own schema (crates/uv-workspace/src/pyproject.rs:
`ToolUv`, `Source`, `Index`; crates/uv-settings/src/settings.rs for the resolver options;
crates/uv-pypi-types/src/conflicts.rs for `conflicts`).
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from uvtorch.errors import UnreadableProject
from uvtorch.names import PackageName, package_name





@dataclass(frozen=True)
class Problem:
    """A value of the wrong type or shape: where, what, and what would work."""

    table: str  # e.g. `tool.uv.sources.torch[1]`
    message: str
    hint: str


@dataclass(frozen=True)
class Req:
    """One PEP 508 requirement, from the table named by `origin` (`base`, `extra:x`, `group:g`)."""

    text: str
    name: PackageName
    specifier: SpecifierSet
    marker: Marker | None
    extras: frozenset[str]
    url: str | None
    origin: str


@dataclass(frozen=True)
class Source:
    """One `[tool.uv.sources]` entry (uv: crates/uv-workspace/src/pyproject.rs `Source`)."""

    package: PackageName
    index: str | None = None
    url: str | None = None
    path: str | None = None
    git: str | None = None
    workspace: bool = False
    extra: str | None = None
    group: str | None = None
    marker: Marker | None = None
    table: str = ""

    @property
    def kind(self) -> str:
        if self.index is not None:
            return "index"
        if self.url is not None:
            return "url"
        if self.path is not None:
            return "path"
        if self.git is not None:
            return "git"
        return "workspace"


@dataclass(frozen=True)
class Index:
    """One `[[tool.uv.index]]` (uv: crates/uv-distribution-types/src/index.rs)."""

    name: str | None
    url: str
    explicit: bool = False
    default: bool = False
    format: str = "simple"
    table: str = ""


@dataclass(frozen=True)
class ConflictItem:
    """One member of a conflict set: an extra or a group (optionally of another package)."""

    extra: str | None
    group: str | None
    package: str | None

    @property
    def install(self) -> str:
        if self.extra is None and self.group is None:
            return "base"  # `{ package = "x" }`: the package itself (uv's package conflicts)
        return f"extra:{self.extra}" if self.extra is not None else f"group:{self.group}"


@dataclass(frozen=True)
class LockDependency:
    name: PackageName
    marker: str | None
    extras: tuple[str, ...]
    version: str | None
    source: Mapping[str, str]


@dataclass(frozen=True)
class LockPackage:
    """One `[[package]]` of uv.lock, with only what the routing model reads."""

    name: PackageName
    version: str
    source: Mapping[str, str]
    resolution_markers: tuple[str, ...]
    dependencies: tuple[LockDependency, ...]
    optional: Mapping[str, tuple[LockDependency, ...]]
    groups: Mapping[str, tuple[LockDependency, ...]]
    wheels: tuple[str, ...]  # wheel URLs or filenames


@dataclass(frozen=True)
class Lock:
    resolution_markers: tuple[str, ...]
    packages: tuple[LockPackage, ...]


@dataclass(frozen=True)
class ProjectModel:
    """The parts of pyproject.toml that decide where torch comes from."""

    root: Path
    name: str | None
    requires_python: SpecifierSet | None
    dependencies: tuple[Req, ...]
    optional: Mapping[str, tuple[Req, ...]]  # pep685-normalised extra -> requirements
    groups: Mapping[str, tuple[Req, ...]]  # normalised group -> requirements (includes resolved)
    build_requires: tuple[Req, ...]
    sources: Mapping[PackageName, tuple[Source, ...]]
    indexes: tuple[Index, ...]
    conflicts: tuple[tuple[ConflictItem, ...], ...]
    environments: tuple[Marker, ...] | None
    required_environments: tuple[Marker, ...]
    default_groups: tuple[str, ...] | str  # names, or "all"
    index_strategy: str | None
    prerelease: str | None
    no_build_isolation_package: tuple[PackageName, ...]
    no_build_isolation: bool
    extra_build_dependencies: Mapping[PackageName, tuple[Any, ...]]
    extra_build_variables: Mapping[PackageName, Mapping[str, str]]
    dependency_metadata: tuple[Mapping[str, Any], ...]
    exclude_dependencies: tuple[Any, ...]
    override_dependencies: tuple[Req, ...]
    find_links: tuple[str, ...]
    uvtorch: Mapping[str, Any]
    problems: tuple[Problem, ...]
    lock: Lock | None = None
    lock_problems: tuple[Problem, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def index(self, name: str | None) -> Index | None:
        return next((i for i in self.indexes if i.name is not None and i.name == name), None)

    def requirements(self) -> Iterable[Req]:
        yield from self.dependencies
        for reqs in self.optional.values():
            yield from reqs
        for reqs in self.groups.values():
            yield from reqs

    def sources_of(self, name: str) -> tuple[Source, ...]:
        return self.sources.get(package_name(name), ())


def normalize(name: str) -> str:
    """PEP 685 / PEP 735 name normalisation of extras and groups (same as package names)."""
    return str(package_name(name))


# --- reading the files ------------------------------------------------------------------------


_HEADER = "\n[[package]]\n"
_NAME = re.compile(r'name\s*=\s*"([^"]+)"')
# uv writes `wheels = [` ... `]` and `sdist = { ... }` on lines of their own
# (crates/uv-resolver/src/lock/mod.rs, `Lock::to_toml`); a lock written otherwise keeps them.
_ARTIFACTS = re.compile(r'^(?:wheels = \[\n(?:[^\n]*\n)*?\]|sdist = \{[^\n]*\})\n', re.M)


def _strip_artifacts(text: str, keep: frozenset[str]) -> str:
    """uv.lock without the wheel and sdist lists of packages not in `keep` (a 9 MB lock's
    parse drops from 2.9 s to 0.3 s; the routing model reads wheels only for torch's family)."""
    head, *blocks = ("\n" + text.replace("\r\n", "\n")).split(_HEADER)
    out = [head]
    for block in blocks:
        match = _NAME.match(block)
        if match is None or package_name(match.group(1)) not in keep:
            block = _ARTIFACTS.sub("", block)
        out.append(block)
    return _HEADER.join(out)


def read_toml(path: Path, what: str, keep_wheels: frozenset[str] | None = None) -> dict[str, Any]:
    """Parse one file with tomllib; refuse non-regular files without opening them (a FIFO
    would block the read forever)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise UnreadableProject(
            f"Cannot read {path}: {exc.strerror or exc}.",
            "Run uvtorch check in a project folder, or give its path: uvtorch check DIR.",
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableProject(
            f"{path} is not a regular file (a FIFO, device or folder), so it is not read.",
            f"Point uvtorch check at a folder whose {what} is a plain file.",
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise UnreadableProject(f"Cannot read {path}: {exc.strerror or exc}.", "") from None
    except UnicodeDecodeError as exc:
        raise UnreadableProject(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}).",
            "TOML files must be UTF-8; save it as UTF-8.",
        ) from None
    if keep_wheels is not None:
        text = _strip_artifacts(text, keep_wheels)
    try:
        return _parse(text)
    except Exception as exc:  # noqa: BLE001 - tomllib's and tomlkit's parse errors
        hint = "Fix the file first." if what == "pyproject.toml" else "Run uv lock again."
        raise UnreadableProject(f"{path} is not valid TOML: {exc}.", hint) from None


def _parse(text: str) -> dict[str, Any]:
    """tomllib (read-only, fast); Python 3.10 has none and falls back to tomlkit, as the
    catalog does (uvtorch.catalog.read_data)."""
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)
    import tomlkit  # pragma: no cover - Python 3.10

    return tomlkit.parse(text).unwrap()  # pragma: no cover


class _Reader:
    """Typed getters that record a Problem instead of raising."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def bad(self, table: str, message: str, hint: str) -> None:
        self.problems.append(Problem(table, message, hint))

    def table(self, data: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
        value = data.get(key, {})
        if isinstance(value, dict):
            return value
        self.bad(_join(where, key), f"is {_kind(value)} {_show(value)}, not a table",
                 f"write it as a [{_join(where, key)}] table")
        return {}

    def string(self, data: Mapping[str, Any], key: str, where: str) -> str | None:
        value = data.get(key)
        if value is None or isinstance(value, str):
            return value
        self.bad(_join(where, key), f"is {_kind(value)} {_show(value)}, not a string",
                 f'write it as a quoted string: {key} = "..."')
        return None

    def boolean(self, data: Mapping[str, Any], key: str, where: str) -> bool:
        value = data.get(key, False)
        if isinstance(value, bool):
            return value
        self.bad(_join(where, key), f"is {_kind(value)} {_show(value)}, not true or false",
                 f"write {key} = true or {key} = false")
        return False

    def strings(self, data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list):
            self.bad(_join(where, key), f"is {_kind(value)} {_show(value)}, not a list of strings",
                     f'write it as a list: {key} = ["..."]')
            return ()
        out = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                out.append(item)
            else:
                self.bad(f"{_join(where, key)}[{i}]", f"is {_kind(item)} {_show(item)}, not a string",
                         "every entry must be a quoted string")
        return tuple(out)

    def requirements(self, texts: Iterable[str], where: str, origin: str) -> tuple[Req, ...]:
        out = []
        for i, text in enumerate(texts):
            try:
                req = _lenient_requirement(text)
            except InvalidRequirement as exc:
                self.bad(f"{where}[{i}]", f"{text!r} is not a valid requirement ({exc})",
                         'write a PEP 508 requirement such as "torch>=2.8"')
                continue
            out.append(Req(text, package_name(req.name), req.specifier, req.marker,
                           frozenset(normalize(e) for e in req.extras), req.url, origin))
        return tuple(out)

    def marker(self, value: Any, where: str) -> Marker | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.bad(where, f"is {_kind(value)} {_show(value)}, not a marker string",
                     "write marker = \"sys_platform == 'linux'\"")
            return None
        try:
            return Marker(value)
        except InvalidMarker as exc:
            self.bad(where, f"{value!r} is not a valid PEP 508 marker ({exc})",
                     "write marker = \"sys_platform == 'linux'\"")
            return None


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


_URL_THEN_MARKER = re.compile(r"@\s*\S+?(?=;\s)")


def _lenient_requirement(text: str) -> Requirement:
    """Parse a PEP 508 requirement the way uv does: a direct URL may be followed by `;` and
    a marker without the whitespace PEP 508 asks for (`pkg @ git+https://h/r@v; sys_platform ==
    'linux'`). uv 0.13.9 reads that as the URL `...@v` plus the marker (tried: `uv lock` on a
    copy fetched the revision `v`); `packaging` refuses it."""
    try:
        return Requirement(text)
    except InvalidRequirement:
        match = _URL_THEN_MARKER.search(text)
        if match is None:
            raise
        return Requirement(text[:match.end()] + " " + text[match.end():])


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), f"a {type(value).__name__}")


def _show(value: Any) -> str:
    text = repr(value)
    return f"({text[:40]}...)" if len(text) > 43 else f"({text})"


def read_project(root: Path, keep_wheels: frozenset[str] | None = None) -> ProjectModel:
    """Read `root`/pyproject.toml and, when present, `root`/uv.lock (keeping the wheel lists
    only of the packages named in `keep_wheels`, when given: they are most of a lock's bytes)."""
    path = root / "pyproject.toml"
    data = read_toml(path, "pyproject.toml")
    model = project_from_data(root, data)
    lock_path = root / "uv.lock"
    if lock_path.exists() or lock_path.is_symlink():
        lock_data = read_toml(lock_path, "uv.lock", keep_wheels)
        reader = _Reader()
        lock = _lock(lock_data, reader)
        model = _replace(model, lock=lock, lock_problems=tuple(reader.problems))
    return model


def _replace(model: ProjectModel, **changes: Any) -> ProjectModel:
    from dataclasses import replace

    return replace(model, **changes)


def project_from_data(root: Path, data: Mapping[str, Any]) -> ProjectModel:
    """Validate parsed pyproject.toml data (tests call this directly)."""
    r = _Reader()
    if not data:
        r.bad("(file)", "is empty: no [project] table",
              'start with [project] name = "..." version = "0.1.0" dependencies = [...]')
    project = r.table(data, "project", "")
    name = r.string(project, "name", "project")
    if name is not None and (name != name.strip() or not name.strip()):
        r.bad("project.name", f"{name!r} has leading/trailing whitespace or is empty",
              "write the bare name, e.g. name = \"my-project\"")
    if "project" in data and isinstance(data["project"], dict) and name is None \
            and "name" not in project:
        r.bad("project.name", "is missing", 'add name = "..." to [project]')
    rp_text = r.string(project, "requires-python", "project")
    requires_python = None
    if rp_text is not None:
        try:
            requires_python = SpecifierSet(rp_text)
        except InvalidSpecifier:
            r.bad("project.requires-python", f"{rp_text!r} is not a version specifier",
                  'write requires-python = ">=3.10"')
    deps = r.requirements(r.strings(project, "dependencies", "project"),
                          "project.dependencies", "base")
    optional: dict[str, tuple[Req, ...]] = {}
    for extra, reqs in r.table(project, "optional-dependencies", "project").items():
        where = f"project.optional-dependencies.{extra}"
        texts = r.strings({extra: reqs}, extra, "project.optional-dependencies")
        optional[normalize(extra)] = r.requirements(texts, where, f"extra:{normalize(extra)}")
    groups = _groups(r.table(data, "dependency-groups", ""), r)
    build = r.table(data, "build-system", "")
    build_requires = r.requirements(r.strings(build, "requires", "build-system"),
                                    "build-system.requires", "build")
    tool = r.table(data, "tool", "")
    uv = r.table(tool, "uv", "tool")
    uvtorch = r.table(tool, "uvtorch", "tool")
    model = ProjectModel(
        root=root,
        name=name,
        requires_python=requires_python,
        dependencies=deps,
        optional=MappingProxyType(optional),
        groups=MappingProxyType(groups),
        build_requires=build_requires,
        sources=MappingProxyType(_sources(uv, r)),
        indexes=_indexes(uv, r),
        conflicts=_conflicts(uv, r),
        environments=_environments(uv, "environments", r),
        required_environments=_environments(uv, "required-environments", r) or (),
        default_groups=_default_groups(uv, r),
        index_strategy=_choice(uv, "index-strategy", r,
                               ("first-index", "unsafe-first-match", "unsafe-best-match")),
        prerelease=_choice(uv, "prerelease", r,
                           ("disallow", "allow", "if-necessary", "explicit",
                            "if-necessary-or-explicit")),
        no_build_isolation_package=tuple(
            package_name(n) for n in r.strings(uv, "no-build-isolation-package", "tool.uv")),
        no_build_isolation=r.boolean(uv, "no-build-isolation", "tool.uv"),
        extra_build_dependencies=MappingProxyType({
            package_name(k): tuple(v) if isinstance(v, list) else ()
            for k, v in _typed_entries(uv, "extra-build-dependencies", list, "a list", r).items()
        }),
        extra_build_variables=MappingProxyType({
            package_name(k): MappingProxyType(v)
            for k, v in _typed_entries(uv, "extra-build-variables", dict, "a table", r).items()
        }),
        dependency_metadata=tuple(_list_of_tables(uv, "dependency-metadata", r)),
        exclude_dependencies=_list(uv, "exclude-dependencies", r),
        override_dependencies=r.requirements(
            r.strings(uv, "override-dependencies", "tool.uv"),
            "tool.uv.override-dependencies", "override"),
        find_links=r.strings(uv, "find-links", "tool.uv"),
        uvtorch=MappingProxyType(uvtorch),
        problems=(),
        raw=MappingProxyType(dict(data)),
    )
    _check_references(model, r)
    return _replace(model, problems=tuple(r.problems))


def _groups(raw: Mapping[str, Any], r: _Reader) -> dict[str, tuple[Req, ...]]:
    """Dependency groups with `{include-group = "..."}` resolved (PEP 735)."""
    entries: dict[str, list[Any]] = {}
    for group, items in raw.items():
        if not isinstance(items, list):
            r.bad(f"dependency-groups.{group}", f"is {_kind(items)} {_show(items)}, not a list",
                  f'write {group} = ["pkg>=1"]')
            continue
        entries[normalize(group)] = items

    def expand(group: str, seen: tuple[str, ...]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for i, item in enumerate(entries.get(group, [])):
            where = f"dependency-groups.{group}[{i}]"
            if isinstance(item, str):
                out.append((item, where))
            elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
                target = normalize(item["include-group"])
                if target in seen:
                    r.bad(where, f"includes {target!r}, which includes it back (a cycle)",
                          "remove one of the include-group entries")
                elif target not in entries:
                    r.bad(where, f"includes the group {target!r}, which does not exist",
                          "name a group defined in [dependency-groups]")
                else:
                    out += expand(target, (*seen, target))
            else:
                r.bad(where, f"is {_kind(item)} {_show(item)}, not a requirement string or "
                      "{ include-group = \"...\" }", 'write "pkg>=1" or { include-group = "dev" }')
        return out

    groups: dict[str, tuple[Req, ...]] = {}
    for group in entries:
        items = expand(group, (group,))
        reqs: list[Req] = []
        for text, where in items:
            reqs += r.requirements([text], where.rsplit("[", 1)[0], f"group:{group}")
        groups[group] = tuple(reqs)
    return groups


_SOURCE_KEYS = {"index", "url", "path", "git", "workspace", "extra", "group", "marker",
                "editable", "package", "subdirectory", "rev", "tag", "branch", "lfs"}


def _sources(uv: Mapping[str, Any], r: _Reader) -> dict[PackageName, tuple[Source, ...]]:
    out: dict[PackageName, tuple[Source, ...]] = {}
    for package, value in r.table(uv, "sources", "tool.uv").items():
        where = f"tool.uv.sources.{package}"
        items = value if isinstance(value, list) else [value]
        if not isinstance(value, (list, dict)):
            r.bad(where, f"is {_kind(value)} {_show(value)}, not a source table",
                  f'write {package} = {{ index = "pytorch-cu128" }} (or a list of such tables)')
            continue
        sources = []
        for i, item in enumerate(items):
            at = f"{where}[{i}]" if isinstance(value, list) else where
            if not isinstance(item, dict):
                r.bad(at, f"is {_kind(item)} {_show(item)}, not a source table",
                      '{ index = "..." }, { url = "..." }, { path = "..." } or { git = "..." }')
                continue
            unknown = sorted(set(item) - _SOURCE_KEYS)
            if unknown:
                r.bad(at, f"has unknown key(s) {', '.join(unknown)}; uv refuses the file",
                      "use index, url, path, git or workspace, with extra, group or marker")
            kinds = [k for k in ("index", "url", "path", "git", "workspace") if k in item]
            if len(kinds) != 1:
                r.bad(at, f"names {len(kinds)} of index/url/path/git/workspace",
                      "give exactly one of them")
                continue
            if "extra" in item and "group" in item:
                r.bad(at, "has both extra and group; uv refuses that",
                      "scope a source to one extra or one group")
            extra = r.string(item, "extra", at)
            group = r.string(item, "group", at)
            workspace = item.get("workspace") is True
            sources.append(Source(
                package=package_name(package),
                index=r.string(item, "index", at), url=r.string(item, "url", at),
                path=r.string(item, "path", at), git=r.string(item, "git", at),
                workspace=workspace,
                extra=normalize(extra) if extra else None,
                group=normalize(group) if group else None,
                marker=r.marker(item.get("marker"), f"{at}.marker"), table=at,
            ))
        out[package_name(package)] = tuple(
            s for s in sources if s.kind != "workspace" or s.workspace or "workspace" in s.table
        )
    return out


def _indexes(uv: Mapping[str, Any], r: _Reader) -> tuple[Index, ...]:
    raw = uv.get("index", [])
    if not isinstance(raw, list):
        r.bad("tool.uv.index", f"is {_kind(raw)} {_show(raw)}, not a list of tables",
              'write [[tool.uv.index]] name = "..." url = "..."')
        return ()
    out = []
    for i, item in enumerate(raw):
        at = f"tool.uv.index[{i}]"
        if not isinstance(item, dict):
            r.bad(at, f"is {_kind(item)} {_show(item)}, not a table", "write [[tool.uv.index]]")
            continue
        url = r.string(item, "url", at)
        name = r.string(item, "name", at)
        if url is None:
            r.bad(f"{at}.url", f"is missing for index {name or i}; uv refuses an index without url",
                  'add url = "https://download.pytorch.org/whl/cu128"')
            continue
        if url != url.strip() or any(c in url for c in " \n\t"):
            r.bad(f"{at}.url", f"{url!r} contains spaces or newlines", "write the bare URL")
        fmt = r.string(item, "format", at) or "simple"
        if fmt not in ("simple", "flat"):
            r.bad(f"{at}.format", f"{fmt!r} is not a known index format", 'use "simple" or "flat"')
        out.append(Index(name, url.strip(), r.boolean(item, "explicit", at),
                         r.boolean(item, "default", at), fmt, at))
    return tuple(out)


def _conflicts(uv: Mapping[str, Any], r: _Reader) -> tuple[tuple[ConflictItem, ...], ...]:
    raw = uv.get("conflicts", [])
    hint = 'write conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]'
    if not isinstance(raw, list):
        r.bad("tool.uv.conflicts", f"is {_kind(raw)} {_show(raw)}, not a list of lists", hint)
        return ()
    sets = []
    for i, group in enumerate(raw):
        at = f"tool.uv.conflicts[{i}]"
        if not isinstance(group, list):
            r.bad(at, f"is {_kind(group)} {_show(group)}, not a list of {{ extra = ... }} tables",
                  hint)
            continue
        items = []
        for j, item in enumerate(group):
            # uv 0.13.9 also accepts `{ package = "x" }` alone (package conflicts, an
            # experimental feature: it only warns); checked with `uv lock` on a copy.
            if not isinstance(item, dict) or not (
                isinstance(item.get("extra"), str) or isinstance(item.get("group"), str)
                or isinstance(item.get("package"), str)
            ):
                r.bad(f"{at}[{j}]", f"is {_kind(item)} {_show(item)}, not {{ extra = \"...\" }}, "
                      "{ group = \"...\" } or { package = \"...\" }", hint)
                continue
            extra, group_name = item.get("extra"), item.get("group")
            items.append(ConflictItem(
                normalize(extra) if isinstance(extra, str) else None,
                normalize(group_name) if isinstance(group_name, str) else None,
                item.get("package") if isinstance(item.get("package"), str) else None))
        sets.append(tuple(items))
    return tuple(sets)


def _environments(uv: Mapping[str, Any], key: str, r: _Reader) -> tuple[Marker, ...] | None:
    if key not in uv:
        return None
    raw = uv[key]
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list):
        r.bad(f"tool.uv.{key}", f"is {_kind(raw)} {_show(raw)}, not a list of markers",
              f"write {key} = [\"sys_platform == 'linux'\"]")
        return None
    out = []
    for i, text in enumerate(texts):
        marker = r.marker(text, f"tool.uv.{key}[{i}]")
        if marker is not None:
            out.append(marker)
    return tuple(out)


def _default_groups(uv: Mapping[str, Any], r: _Reader) -> tuple[str, ...] | str:
    raw = uv.get("default-groups", ["dev"])
    if raw == "all":
        return "all"
    if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
        return tuple(normalize(x) for x in raw)
    r.bad("tool.uv.default-groups", f"is {_kind(raw)} {_show(raw)}, not a list of group names",
          'write default-groups = ["dev"] or default-groups = "all"')
    return ("dev",)


def _choice(uv: Mapping[str, Any], key: str, r: _Reader, allowed: tuple[str, ...]) -> str | None:
    value = r.string(uv, key, "tool.uv")
    if value is not None and value not in allowed:
        r.bad(f"tool.uv.{key}", f"{value!r} is not one of uv's values", f"use {', '.join(allowed)}")
        return None
    return value


def _typed_entries(uv: Mapping[str, Any], key: str, kind: type, what: str,
                   r: _Reader) -> dict[str, Any]:
    out = {}
    for package, value in r.table(uv, key, "tool.uv").items():
        if isinstance(value, kind):
            out[package] = value
        else:
            r.bad(f"tool.uv.{key}.{package}", f"is {_kind(value)} {_show(value)}, not {what}",
                  f"write {package} = {'[...]' if kind is list else '{ ... }'}")
    return out


def _list(uv: Mapping[str, Any], key: str, r: _Reader) -> tuple[Any, ...]:
    value = uv.get(key, [])
    if isinstance(value, list):
        return tuple(value)
    r.bad(f"tool.uv.{key}", f"is {_kind(value)} {_show(value)}, not a list",
          f"write {key} = [...]")
    return ()


def _list_of_tables(uv: Mapping[str, Any], key: str, r: _Reader) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    for i, item in enumerate(_list(uv, key, r)):
        if isinstance(item, dict):
            out.append(MappingProxyType(item))
        else:
            r.bad(f"tool.uv.{key}[{i}]", f"is {_kind(item)} {_show(item)}, not a table",
                  f"write [[tool.uv.{key}]]")
    return out


def _check_references(model: ProjectModel, r: _Reader) -> None:
    """Sources naming an index that is not declared: uv refuses to lock."""
    names = {i.name for i in model.indexes if i.name}
    for sources in model.sources.values():
        for s in sources:
            if s.index is not None and s.index not in names:
                r.bad(s.table, f"names the index {s.index!r}, which no [[tool.uv.index]] declares",
                      "declare it with [[tool.uv.index]] name = ... url = ..., or fix the name")


# --- uv.lock ------------------------------------------------------------------------------------


def _lock(data: Mapping[str, Any], r: _Reader) -> Lock | None:
    raw = data.get("package", [])
    if not isinstance(raw, list):
        r.bad("uv.lock: package", f"is {_kind(raw)} {_show(raw)}, not a list of [[package]] tables",
              "run uv lock again to rewrite the lock")
        return None
    packages = []
    for i, item in enumerate(raw):
        at = f"uv.lock: package[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            r.bad(at, "is not a [[package]] table with a name", "run uv lock again")
            continue
        source = item.get("source", {})
        packages.append(LockPackage(
            name=package_name(item["name"]),
            version=str(item.get("version", "")),
            source=MappingProxyType({k: str(v) for k, v in source.items()}
                                    if isinstance(source, dict) else {}),
            resolution_markers=tuple(m for m in _as_list(item.get("resolution-markers"))
                                     if isinstance(m, str)),
            dependencies=_edges(item.get("dependencies"), f"{at}.dependencies", r),
            optional=MappingProxyType({
                normalize(k): _edges(v, f"{at}.optional-dependencies.{k}", r)
                for k, v in _as_dict(item.get("optional-dependencies")).items()}),
            groups=MappingProxyType({
                normalize(k): _edges(v, f"{at}.dev-dependencies.{k}", r)
                for k, v in _as_dict(item.get("dev-dependencies")).items()}),
            wheels=tuple(
                str(w.get("url") or w.get("filename") or w.get("path") or "")
                for w in _as_list(item.get("wheels")) if isinstance(w, dict)),
        ))
    markers = tuple(m for m in _as_list(data.get("resolution-markers")) if isinstance(m, str))
    return Lock(markers, tuple(packages))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _edges(raw: Any, where: str, r: _Reader) -> tuple[LockDependency, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        r.bad(where, f"is {_kind(raw)} {_show(raw)}, not a list", "run uv lock again")
        return ()
    out = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            r.bad(where, "holds an entry that is not { name = ... }", "run uv lock again")
            continue
        marker = item.get("marker")
        source = item.get("source")
        out.append(LockDependency(
            package_name(item["name"]),
            marker if isinstance(marker, str) else None,
            tuple(normalize(e) for e in _as_list(item.get("extra")) if isinstance(e, str)),
            str(item["version"]) if isinstance(item.get("version"), str) else None,
            MappingProxyType({k: str(v) for k, v in source.items()}
                             if isinstance(source, dict) else {}),
        ))
    return tuple(out)
