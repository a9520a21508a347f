"""The project `uvtorch check` audits: pyproject.toml (and uv.lock) read into a `Project`
with the views the rules need (sources per package, extras, groups, indexes), plus the
helpers several rules and `fix.py` share.

The rules themselves live in `uvtorch.checks` (one registered function each); nothing here
writes: repairs live in `fix.py`.
"""

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement

from uvtorch.catalog import Catalog
from uvtorch.checks.lockfile import Lock, loads, packages_named
from uvtorch.errors import UnreadableProject
from uvtorch.names import PackageName
from uvtorch.names import package_name as canonicalize_name
from uvtorch.system import SYSTEM

TORCH = "torch"
# A macOS arm64 machine, to ask whether a project resolves for macOS at all.
_MACOS = {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64",
          "os_name": "posix", "implementation_name": "cpython",
          "platform_python_implementation": "CPython", "python_version": "3.12",
          "python_full_version": "3.12.0", "platform_release": "", "platform_version": "",
          "implementation_version": "3.12.0", "extra": ""}


class Source(NamedTuple):
    """One `[tool.uv.sources]` entry of a package."""

    index_ref: str | None  # the [[tool.uv.index]] name
    extra: str | None
    group: str | None
    marker: str | None
    other: bool  # a git/url/path source


class Project(NamedTuple):
    """A parsed project, with the views the checks need."""

    path: Path
    data: Mapping[str, Any]
    lock: Mapping[str, Any] | None
    catalog: Catalog
    # What the project's interpreter can import (name -> version), read by the CLI when the
    # project expects a system torch; None when not read.
    environment: Mapping[str, str] | None = None
    interpreter: str | None = None  # the interpreter `environment` was read from

    @property
    def uv(self) -> Mapping[str, Any]:
        return self.data.get("tool", {}).get("uv", {})  # type: ignore[no-any-return]

    @property
    def indexes(self) -> dict[str, Mapping[str, Any]]:
        return {i.get("name", ""): i for i in self.uv.get("index", []) if isinstance(i, dict)}

    def variant_of_index(self, name: str | None) -> str | None:
        """The PyTorch build an index serves (`cu128`), or None if it is no PyTorch index."""
        url = self.indexes.get(name or "", {}).get("url", "")
        return pytorch_variant(url, self.catalog)

    def sources(self, package: str) -> list[Source]:
        raw = self.uv.get("sources", {})
        entries: Any = next(
            (v for k, v in raw.items() if canonicalize_name(k) == package), []
        )
        if isinstance(entries, dict):
            entries = [entries]
        return [
            Source(
                index_ref=e.get("index"), extra=e.get("extra"), group=e.get("group"),
                marker=e.get("marker"), other=not e.get("index"),
            )
            for e in entries
            if isinstance(e, dict)
        ]

    @property
    def base(self) -> list[Requirement]:
        return _requirements(self.data.get("project", {}).get("dependencies", []))

    @property
    def extras(self) -> dict[str, list[Requirement]]:
        raw = self.data.get("project", {}).get("optional-dependencies", {})
        return {name: _requirements(reqs) for name, reqs in raw.items()}

    @property
    def groups(self) -> dict[str, list[Requirement]]:
        raw = self.data.get("dependency-groups", {})
        return {
            name: _requirements(r for r in reqs if isinstance(r, str)) for name, reqs in raw.items()
        }

    @property
    def default_groups(self) -> list[str]:
        value = self.uv.get("default-groups", ["dev"])
        return list(value) if isinstance(value, list) else []

    def torch_sourced(self) -> bool:
        """Whether the project points torch at a PyTorch index at all."""
        return any(self.variant_of_index(s.index_ref) for s in self.sources(TORCH))


def _requirements(texts: Iterable[str]) -> list[Requirement]:
    out = []
    for text in texts:
        parsed = _requirement(text) if isinstance(text, str) else None
        if parsed is not None:
            out.append(parsed)
    return out


@functools.lru_cache(maxsize=4096)
def _requirement(text: str) -> Requirement | None:
    """One requirement, parsed once: the rules read the same lists many times."""
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None  # a broken line is uv's to report; the checks skip it


DEFAULT_BUILD = "default"  # the root of a channel (.../whl/nightly): Linux gets CUDA builds


def pytorch_variant(url: str, catalog: Catalog) -> str | None:
    """`https://download.pytorch.org/whl/nightly/cu128` -> `cu128`; None for other indexes."""
    path = url.rstrip("/").lower()
    last = path.rsplit("/", 1)[-1]
    if catalog.family_of(last) and ("/whl" in path or "pytorch" in path):
        return last
    if "download.pytorch.org" in path and last in ("whl", "nightly", "test"):
        return DEFAULT_BUILD
    return None


def _names(requirements: Iterable[Requirement]) -> set[PackageName]:
    return {canonicalize_name(r.name) for r in requirements}


_LINUX = dict(_MACOS, sys_platform="linux", platform_system="Linux", platform_machine="x86_64")


def _holds_on_linux(marker: str | None) -> bool:
    if not marker:
        return True
    try:
        return Marker(marker).evaluate(_LINUX)
    except InvalidMarker:
        return False


def _macos_included(project: Project) -> bool:
    environments = project.uv.get("environments")
    if not environments:
        return True
    for env in environments if isinstance(environments, list) else [environments]:
        try:
            if Marker(env).evaluate(_MACOS):
                return True
        except InvalidMarker:
            return True
    return False


# --- the checks -------------------------------------------------------------------------------


def exclusions(
    uv: Mapping[str, Any],
) -> tuple[set[PackageName], dict[PackageName, set[PackageName]]]:
    """`[tool.uv] exclude-dependencies`: the global names, and the names each package loses."""
    everywhere: set[PackageName] = set()
    scoped: dict[PackageName, set[PackageName]] = {}
    for entry in uv.get("exclude-dependencies", []):
        if isinstance(entry, str):
            everywhere.add(canonicalize_name(entry))
            continue
        package = entry.get("package") if isinstance(entry, dict) else None
        name = package.get("name") if isinstance(package, dict) else None
        if isinstance(name, str):
            scoped.setdefault(canonicalize_name(name), set()).update(
                canonicalize_name(d) for d in entry.get("dependencies", []) if isinstance(d, str)
            )
    return everywhere, scoped


def system_names(p: Project) -> list[PackageName]:
    system = p.data.get("tool", {}).get("uvtorch", {}).get("system") or {}
    return sorted(canonicalize_name(n) for n in system)


def _edge_holds(marker: str | None, conflict_extra: str) -> bool:
    """Whether a lock edge can be followed with the system extra on some platform."""
    if not marker:
        return True
    try:
        parsed = Marker(marker)
        return any(
            parsed.evaluate(dict(_MACOS, **env, extra=conflict_extra))
            for env in _PLATFORM_ENVS.values()
        )
    except (InvalidMarker, ValueError, TypeError):
        return True


class Carrier(NamedTuple):
    """A locked package through which the system extra would get an index's torch."""

    package: PackageName  # requires one of the environment's packages
    pulls: tuple[PackageName, ...]
    path: tuple[PackageName, ...]  # from the system extra down to `package`


def system_extra_carriers(p: Project) -> list[Carrier]:
    """Packages of the locked system extra that still require the environment's packages."""
    names = set(system_names(p))
    if not names or p.lock is None or SYSTEM not in p.extras:
        return []
    project = canonicalize_name(str(p.data.get("project", {}).get("name", "")))
    roots = packages_named(p.lock, project)
    if not roots:
        return []
    conflict_extra = f"extra-{len(project)}-{project}-{SYSTEM}"
    start = roots[0].get("optional-dependencies", {}).get(SYSTEM, [])
    paths: dict[PackageName, tuple[PackageName, ...]] = {}
    queue: list[Mapping[str, Any]] = []
    for edge in start:
        name = canonicalize_name(str(edge.get("name", "")))
        if name not in paths and _edge_holds(edge.get("marker"), conflict_extra):
            paths[name] = (name,)
            queue.append(edge)
    carriers: dict[PackageName, set[PackageName]] = {}
    while queue:
        edge = queue.pop(0)
        name = canonicalize_name(str(edge.get("name", "")))
        for package in packages_named(p.lock, name):
            edges = list(package.get("dependencies", []))
            for extra in edge.get("extra", []):
                edges += package.get("optional-dependencies", {}).get(extra, [])
            for child in edges:
                child_name = canonicalize_name(str(child.get("name", "")))
                if not _edge_holds(child.get("marker"), conflict_extra):
                    continue
                if child_name in names:
                    carriers.setdefault(name, set()).add(child_name)
                    continue
                if child_name not in paths:
                    paths[child_name] = (*paths[name], child_name)
                    queue.append(child)
    return [Carrier(n, tuple(sorted(pulls)), paths[n]) for n, pulls in sorted(carriers.items())]



_PLATFORM_ENVS = {
    "linux-x86_64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"},
    "linux-aarch64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64"},
    "windows-x86_64": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"},
}



def read_project(
    folder: Path, catalog: Catalog, environment: Mapping[str, str] | None = None
) -> Project:
    """Parse `folder`/pyproject.toml (and uv.lock when present, entry by entry on demand)."""
    path = folder / "pyproject.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UnreadableProject(
            f"Cannot read {path}: {exc.strerror or exc}.",
            "Run uvtorch check in a project folder, or give its path: uvtorch check DIR.",
        ) from None
    try:
        data = loads(text)
    except Exception as exc:  # tomllib's/tomlkit's parse errors: the file is the user's to fix
        raise UnreadableProject(f"{path} is not valid TOML: {exc}.", "Fix the file first.") from None
    lock = None
    lock_path = folder / "uv.lock"
    if lock_path.is_file():
        lock = Lock(lock_path.read_text(encoding="utf-8"), str(lock_path))
    return Project(path=folder, data=data, lock=lock, catalog=catalog, environment=environment)
