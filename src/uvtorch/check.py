"""`uvtorch check`: audit an existing project's pyproject.toml (and uv.lock) for the ways
PyTorch + uv configurations break.

Each check is a plain function over a parsed `Project`, registered in CHECKS; a new failure
mode is one function and one entry. A finding says what is wrong, where, why it breaks and how
to fix it. Nothing here writes: repairs live in `fix.py`.
"""

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from uvtorch.catalog import Catalog
from uvtorch.errors import BadPyproject
from uvtorch.names import PackageName
from uvtorch.names import package_name as canonicalize_name
from uvtorch.system import SYSTEM

ERROR, WARNING = "error", "warning"
TORCH = "torch"
# A macOS arm64 machine, to ask whether a project resolves for macOS at all.
_MACOS = {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64",
          "os_name": "posix", "implementation_name": "cpython",
          "platform_python_implementation": "CPython", "python_version": "3.12",
          "python_full_version": "3.12.0", "platform_release": "", "platform_version": "",
          "implementation_version": "3.12.0", "extra": ""}


class Finding(NamedTuple):
    """One problem: its id, how bad, where, why it breaks, and the fix."""

    id: str
    severity: str
    where: str
    why: str
    fix: str


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
        try:
            out.append(Requirement(text))
        except InvalidRequirement:
            continue  # a broken line is uv's to report; the checks skip it
    return out


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


def extras_without_conflicts(p: Project) -> Iterator[Finding]:
    by_extra: dict[str, set[str]] = {}
    for source in p.sources(TORCH):
        if source.extra and p.variant_of_index(source.index_ref):
            by_extra.setdefault(source.extra, set()).add(source.index_ref or "")
    if len(by_extra) < 2:
        return
    sets = [
        {c.get("extra") for c in conflict if isinstance(c, dict)}
        for conflict in p.uv.get("conflicts", [])
    ]
    extras = sorted(by_extra)
    missing = [
        (a, b) for i, a in enumerate(extras) for b in extras[i + 1:]
        if by_extra[a] != by_extra[b] and not any(a in s and b in s for s in sets)
    ]
    if missing:
        pairs = ", ".join(f"{a}/{b}" for a, b in missing)
        tables = ", ".join('{ extra = "%s" }' % e for e in extras)
        yield Finding(
            "extras-without-conflicts", ERROR, "[tool.uv] conflicts",
            f"the extras {', '.join(extras)} take torch from different indexes, but {pairs} "
            "are not declared as conflicting, so uv cannot lock them (or locks one torch for both)",
            f"add conflicts = [[{tables}]]",
        )


def torch_without_extra_source(p: Project) -> Iterator[Finding]:
    if not any(s.extra for s in p.sources(TORCH)):
        return
    family = [TORCH] + [n for n, c in p.catalog.companions.items() if c.on_index]
    for extra, requirements in p.extras.items():
        listed = _names(requirements)
        torch_extra = any(s.extra == extra for s in p.sources(TORCH))
        for name in family:
            if name not in listed:
                continue
            sources = p.sources(name)
            defaults = set(p.default_groups)
            covered = any(
                s.extra == extra or (not s.extra and not s.group) or s.group in defaults
                for s in sources
            )
            if not covered and (torch_extra or name == TORCH):
                yield Finding(
                    "torch-without-extra-source", ERROR,
                    f"[project.optional-dependencies] {extra} / [tool.uv.sources] {name}",
                    f"the {extra} extra lists {name} but no source says which index it comes "
                    "from for that extra, so uv takes PyPI's build (another accelerator)",
                    f"add {{ index = \"...\", extra = \"{extra}\" }} to [tool.uv.sources] {name}",
                )


def index_not_explicit(p: Project) -> Iterator[Finding]:
    for name, index in p.indexes.items():
        if pytorch_variant(index.get("url", ""), p.catalog) and not index.get("explicit"):
            yield Finding(
                "index-not-explicit", ERROR, f"[[tool.uv.index]] {name}",
                "a PyTorch index that is not explicit is searched for every package, so "
                "unrelated packages (and other accelerators' torch) can resolve from it",
                f"add explicit = true to the index {name}",
            )


def companion_mismatch(p: Project) -> Iterator[Finding]:
    companions = [n for n, c in p.catalog.companions.items() if c.on_index]
    torch_by_extra = {s.extra: s.index_ref for s in p.sources(TORCH) if s.extra}
    for name in companions:
        for source in p.sources(name):
            if source.extra in torch_by_extra and source.index_ref != torch_by_extra[source.extra]:
                yield Finding(
                    "companion-mismatch", ERROR, f"[tool.uv.sources] {name}",
                    f"in the {source.extra} extra {name} comes from {source.index_ref} but torch "
                    f"from {torch_by_extra[source.extra]}: builds for different accelerators "
                    "fail at import (operator torchvision::nms does not exist)",
                    f"source {name} from {torch_by_extra[source.extra]} for that extra",
                )
    if not p.torch_sourced():
        return
    direct = _names(p.base) | {n for reqs in p.extras.values() for n in _names(reqs)}
    for dependent, info in p.catalog.dependents.items():
        if dependent in direct:
            for needed in info.needs:
                if needed not in direct:
                    yield Finding(
                        "companion-mismatch", ERROR, f"dependencies: {dependent}",
                        f"{info.why}; {needed} is not a direct dependency, so no source applies "
                        f"to it and uv takes PyPI's {needed}, built for another torch",
                        f"list {needed} next to torch wherever {dependent} is, with the same "
                        "per-extra sources as torch",
                    )
    yield from _lock_companions(p)


def _registry(package: Mapping[str, Any]) -> str:
    return str(package.get("source", {}).get("registry", ""))


def _lock_companions(p: Project) -> Iterator[Finding]:
    if p.lock is None:
        return
    packages = p.lock.get("package", [])
    torch_from_index = any(
        canonicalize_name(x.get("name", "")) == TORCH and pytorch_variant(_registry(x), p.catalog)
        for x in packages
    )
    torch_from_pypi = any(
        canonicalize_name(x.get("name", "")) == TORCH and "pypi.org" in _registry(x)
        for x in packages
    )
    if not torch_from_index or torch_from_pypi:
        return  # with PyPI's torch in the lock too, a PyPI companion may belong to it
    for package in packages:
        name = canonicalize_name(package.get("name", ""))
        if name in p.catalog.companions and p.catalog.companions[name].on_index:
            if "pypi.org" in _registry(package):
                yield Finding(
                    "companion-mismatch", ERROR,
                    f"uv.lock: {name} {package.get('version')}",
                    f"the lock takes {name} from PyPI while torch comes from a PyTorch index; "
                    "PyPI's build is made for PyPI's torch",
                    f"make {name} a direct dependency next to torch with the same per-extra "
                    "sources, then uv lock",
                )


def dependent_pulls_pypi_torch(p: Project) -> Iterator[Finding]:
    if not p.torch_sourced():
        return
    base = _names(p.base)
    pulls = sorted(
        n for n in base
        if n == TORCH or n in p.catalog.dependents
        or (n in p.catalog.companions and p.catalog.companions[n].on_index)
    )
    if not pulls:
        return
    sources = p.sources(TORCH)
    if any(not s.extra and not s.group and not s.other and _holds_on_linux(s.marker)
           for s in sources):
        return  # a source covers the base requirement where PyPI's torch is the CUDA build
    defaults = set(p.default_groups)
    if any(s.group in defaults for s in sources):
        return  # a default group brings torch from its index
    yield Finding(
        "dependent-pulls-pypi-torch", ERROR, "[project] dependencies",
        f"{', '.join(pulls)} in the base dependencies pull torch, but torch's PyTorch-index "
        "sources apply only with an extra, so a plain `uv sync` or `uv run` installs PyPI's "
        "torch (a multi-GB CUDA build on Linux)",
        "move torch and its dependents into every accelerator extra (or a default group with "
        "its own source)",
    )


def missing_platform_marker(p: Project) -> Iterator[Finding]:
    if not _macos_included(p):
        return
    family = [TORCH] + [n for n, c in p.catalog.companions.items() if c.on_index]
    for name in family:
        for source in p.sources(name):
            variant = p.variant_of_index(source.index_ref)
            kind = p.catalog.family_of(variant or "")
            wanted_on_macos = [
                r for r in p.extras.get(source.extra or "", p.base)
                if canonicalize_name(r.name) == name
                and (r.marker is None or r.marker.evaluate(_MACOS))
            ]
            if kind in ("cuda", "rocm") and not source.marker and (wanted_on_macos or not source.extra):
                yield Finding(
                    "missing-platform-marker", ERROR, f"[tool.uv.sources] {name}",
                    f"{source.index_ref} ({variant}) has no macOS wheels, but its source has no "
                    "marker and the project resolves for macOS, so the lock fails or macOS "
                    "gets no torch",
                    "add marker = \"sys_platform == 'linux' or sys_platform == 'win32'\" (or "
                    "limit tool.uv.environments)",
                )
                break


def kernel_without_build_torch(p: Project) -> Iterator[Finding]:
    from uvtorch.kernels import load_kernels

    recipes = {
        n: r for n, r in load_kernels().recipes.items() if r.needs_torch and not r.torch_optional
    }
    listed = _names(p.base) | {n for r in p.extras.values() for n in _names(r)} | {
        n for r in p.groups.values() for n in _names(r)
    }
    matched = {
        canonicalize_name(k) for k, v in p.uv.get("extra-build-dependencies", {}).items()
        if any(isinstance(x, dict) and x.get("match-runtime") for x in v)
    }
    no_isolation = {canonicalize_name(n) for n in p.uv.get("no-build-isolation-package", [])}
    base = _names(p.base)
    for name in sorted(listed):
        recipe = recipes.get(name)
        if recipe is None or recipe.build_package in matched or name in matched:
            continue
        if name in no_isolation and name not in base:
            continue  # a two-stage setup: torch first, the kernel in a later sync
        why = (
            f"{name} is in no-build-isolation-package but also a base dependency, so the first "
            "sync builds it before torch is installed"
            if name in no_isolation
            else f"{name}'s build imports torch, but nothing gives its isolated build the torch "
            "it will run with"
        )
        yield Finding(
            "kernel-without-build-torch", ERROR, f"dependencies: {name}", why,
            f"add [tool.uv.extra-build-dependencies] {recipe.build_package} = "
            "[{ requirement = \"torch\", match-runtime = true }] (uvtorch init -k writes the "
            "whole recipe)",
        )
    own = _requirements(p.data.get("build-system", {}).get("requires", []))
    project = canonicalize_name(p.data.get("project", {}).get("name", ""))
    if TORCH in _names(own) and project not in matched and p.torch_sourced():
        yield Finding(
            "kernel-without-build-torch", ERROR, "[build-system] requires",
            "the project's own build requires torch; in uv's isolated build that is PyPI's "
            "torch, not the one of the extra being synced",
            f"add [tool.uv.extra-build-dependencies] {project} = "
            "[{ requirement = \"torch\", match-runtime = true }]",
        )


def no_build_for_accelerator(p: Project) -> Iterator[Finding]:
    for source in p.sources(TORCH):
        variant = p.variant_of_index(source.index_ref)
        if (not variant or variant == DEFAULT_BUILD or not source.extra
                or "/nightly" in p.indexes[source.index_ref or ""].get("url", "")):
            continue
        known = [r for r in p.catalog.releases if r.patches_with(variant)]
        if not known:
            continue
        for req in p.extras.get(source.extra, []):
            if canonicalize_name(req.name) != TORCH or not str(req.specifier):
                continue
            try:
                spec = SpecifierSet(str(req.specifier))
            except InvalidSpecifier:
                continue
            patches = [pt for r in p.catalog.releases for pt in r.patches if pt in spec]
            if patches and not any(pt in spec for r in known for pt in r.patches_with(variant)):
                yield Finding(
                    "no-build-for-accelerator", ERROR,
                    f"[project.optional-dependencies] {source.extra}",
                    f"torch{req.specifier} has no {variant} build: {variant} exists for torch "
                    f"{known[0].minor} to {known[-1].minor}",
                    "change the torch spec or the index of that extra",
                )


def nightly_without_triton_source(p: Project) -> Iterator[Finding]:
    # Only an explicit index hides triton: a plain one is searched for every package anyway.
    nightly = [
        s for s in p.sources(TORCH)
        if "/nightly" in p.indexes.get(s.index_ref or "", {}).get("url", "")
        and p.indexes.get(s.index_ref or "", {}).get("explicit")
        and (p.variant_of_index(s.index_ref) == DEFAULT_BUILD
             or p.catalog.family_of(p.variant_of_index(s.index_ref) or "") == "cuda")
    ]
    if nightly and not (p.sources("pytorch-triton") or p.sources("triton")):
        yield Finding(
            "nightly-without-triton-source", ERROR, "[tool.uv.sources]",
            "nightly CUDA torch requires a triton build that only the nightly index has "
            "(PyPI's `pytorch-triton` is an empty placeholder, its `triton` releases do not "
            "match), so uv cannot lock it or loops over every nightly",
            "list triton (pytorch-triton before 2025-12) in the extra with a source on the "
            "nightly index",
        )


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


def system_torch_not_excluded(p: Project) -> Iterator[Finding]:
    names = system_names(p)
    if not names:
        return
    excluded, scoped = exclusions(p.uv)
    if SYSTEM in p.extras:  # next to index extras: scoped to the system extra's packages
        for req in p.extras[SYSTEM]:
            missing = [n for n in names if n not in excluded
                       and n not in scoped.get(canonicalize_name(req.name), set())]
            if missing:
                yield Finding(
                    "system-torch-not-excluded", ERROR, "[tool.uv] exclude-dependencies",
                    f"{req.name} in the system extra keeps its requirements on "
                    f"{', '.join(missing)}, so uv may install them from an index instead of "
                    "using the environment's",
                    f'add {{ package = {{ name = "{req.name}" }}, dependencies = '
                    f'{_toml_list(missing)} }}',
                )
        return
    for name in names:
        if name not in excluded:
            yield Finding(
                "system-torch-not-excluded", ERROR, "[tool.uv] exclude-dependencies",
                f"{name} should come from the environment ([tool.uvtorch] system) but uv may "
                "resolve and install another one",
                f"add \"{name}\" to [tool.uv] exclude-dependencies",
            )


def _toml_list(names: Iterable[str]) -> str:
    return "[" + ", ".join(f'"{n}"' for n in names) + "]"


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
    by_name: dict[PackageName, list[Mapping[str, Any]]] = {}
    for package in p.lock.get("package", []):
        by_name.setdefault(canonicalize_name(str(package.get("name", ""))), []).append(package)
    roots = by_name.get(project, [])
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
        for package in by_name.get(name, []):
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


def lock_system_extra_pulls_torch(p: Project) -> Iterator[Finding]:
    for carrier in system_extra_carriers(p):
        chain = " -> ".join((*carrier.path, carrier.pulls[0]))
        yield Finding(
            "lock-system-extra-pulls-torch", ERROR, f"uv.lock: {carrier.package}",
            f"the system extra pulls {', '.join(carrier.pulls)} from an index ({chain}), so "
            "`uv sync --extra system` installs a second torch over the environment's",
            f'add {{ package = {{ name = "{carrier.package}" }}, dependencies = '
            f'{_toml_list(carrier.pulls)} }} to [tool.uv] exclude-dependencies (uvtorch check '
            "--fix does), then uv lock",
        )


def system_torch_mismatch(p: Project) -> Iterator[Finding]:
    system = p.data.get("tool", {}).get("uvtorch", {}).get("system") or {}
    if not system or p.environment is None:
        return
    from packaging.version import InvalidVersion, Version

    own_venv = p.interpreter is not None and Path(p.interpreter).parent.parent == p.path / ".venv"
    for name, expected in sorted(system.items()):
        found = p.environment.get(name)
        if found is None:
            if own_venv:
                yield Finding(
                    "system-torch-mismatch", ERROR, f"[tool.uvtorch] system.{name}",
                    f"the project expects {name} {expected} from its environment, but the "
                    "project's .venv does not see it",
                    "remove .venv and make it with the commands in README.md (a "
                    "--system-site-packages venv, or one layered on the image's venv)",
                )
                continue
            yield Finding(
                "system-torch-mismatch", ERROR, f"[tool.uvtorch] system.{name}",
                f"the project expects {name} {expected} from its environment, but the "
                "interpreter has none",
                "run the project in the image it was made for (or --python-executable), or "
                "make it again with uvtorch init -a system there",
            )
            continue
        try:
            same = expected == "*" or Version(found) == Version(expected)
        except InvalidVersion:
            same = found == expected
        if not same:
            yield Finding(
                "system-torch-mismatch", ERROR, f"[tool.uvtorch] system.{name}",
                f"the project expects {name} {expected} but the interpreter has {found}: the "
                "image changed, or this is another machine",
                f"update [tool.uvtorch] system.{name} to \"{found}\" after checking the "
                "project works with it",
            )


_WHEEL_PLATFORMS = {
    "linux-x86_64": ("x86_64",),
    "linux-aarch64": ("aarch64",),
    "windows-x86_64": ("win_amd64",),
    "macos-arm64": ("macosx",),
}


def lock_missing_platform_wheel(p: Project) -> Iterator[Finding]:
    """An extra's torch, as locked, has no wheel for a platform the project resolves for."""
    environments = p.uv.get("environments")
    if p.lock is None or not environments:
        return
    from uvtorch.platforms import environment_marker

    platforms = [
        pid for pid in p.catalog.platforms
        if environment_marker(pid, p.catalog.platforms) in environments
    ]
    for source in p.sources(TORCH):
        url = p.indexes.get(source.index_ref or "", {}).get("url", "").rstrip("/")
        if not source.extra or not pytorch_variant(url, p.catalog):
            continue
        locked = [
            x for x in p.lock.get("package", [])
            if canonicalize_name(x.get("name", "")) == TORCH and _registry(x).rstrip("/") == url
        ]
        for package in locked:
            wheels = " ".join(str(w.get("url", "")) for w in package.get("wheels", []))
            for pid in platforms:
                env = dict(_LINUX, **_PLATFORM_ENVS[pid])
                if source.marker and not Marker(source.marker).evaluate(env):
                    continue
                if not any(tag in wheels for tag in _WHEEL_PLATFORMS[pid]):
                    yield Finding(
                        "lock-missing-platform-wheel", ERROR,
                        f"uv.lock: torch {package.get('version')} ({source.extra})",
                        f"the {source.extra} extra resolves for {pid} (tool.uv.environments), "
                        f"but the locked torch {package.get('version')} from {url} has no "
                        f"wheel for it, so `uv sync --extra {source.extra}` fails there",
                        f"add a marker to that source excluding {pid}, or drop it from "
                        "tool.uv.environments",
                    )


_PLATFORM_ENVS = {
    "linux-x86_64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"},
    "linux-aarch64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64"},
    "windows-x86_64": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"},
}


def lock_cuda_without_nvidia(p: Project) -> Iterator[Finding]:
    if p.lock is None:
        return
    for package in p.lock.get("package", []):
        if canonicalize_name(package.get("name", "")) != TORCH:
            continue
        version = str(package.get("version", ""))
        if not re.search(r"\+cu\d+$", version):
            continue
        deps = [canonicalize_name(d.get("name", "")) for d in package.get("dependencies", [])]
        if not any(d.startswith(("nvidia-", "cuda-toolkit", "cuda-bindings")) for d in deps):
            yield Finding(
                "lock-cuda-without-nvidia", ERROR, f"uv.lock: torch {version}",
                f"the lock records torch {version} without any nvidia-* (CUDA library) "
                "dependency: some of its wheels declare none (astral-sh/uv#11945), and uv "
                "recorded those, so `uv sync` on Linux x86_64 installs torch without CUDA "
                "libraries",
                "uvtorch check --fix writes a [[tool.uv.dependency-metadata]] override from the "
                "x86_64 wheel's real METADATA; then uv lock",
            )


Check = Callable[[Project], Iterable[Finding]]
CHECKS: tuple[Check, ...] = (
    extras_without_conflicts,
    torch_without_extra_source,
    index_not_explicit,
    companion_mismatch,
    dependent_pulls_pypi_torch,
    missing_platform_marker,
    kernel_without_build_torch,
    no_build_for_accelerator,
    nightly_without_triton_source,
    system_torch_not_excluded,
    system_torch_mismatch,
    lock_system_extra_pulls_torch,
    lock_cuda_without_nvidia,
    lock_missing_platform_wheel,
)


def read_project(
    folder: Path, catalog: Catalog, environment: Mapping[str, str] | None = None
) -> Project:
    """Parse `folder`/pyproject.toml (and uv.lock when present)."""
    import tomlkit

    path = folder / "pyproject.toml"
    try:
        data = tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()
    except OSError as exc:
        raise BadPyproject(
            f"Cannot read {path}: {exc.strerror or exc}.",
            "Run uvtorch check in a project folder, or give its path: uvtorch check DIR.",
        ) from None
    except Exception as exc:  # tomlkit's parse errors: the file is the user's to fix
        raise BadPyproject(f"{path} is not valid TOML: {exc}.", "Fix the file first.") from None
    lock = None
    if (folder / "uv.lock").is_file():
        try:
            lock = tomlkit.parse((folder / "uv.lock").read_text(encoding="utf-8")).unwrap()
        except Exception as exc:  # noqa: BLE001 - a broken lock is reported, not fatal
            raise BadPyproject(
                f"{folder / 'uv.lock'} is not valid TOML: {exc}.", "Run uv lock again."
            ) from None
    return Project(path=folder, data=data, lock=lock, catalog=catalog, environment=environment)


def run_checks(project: Project) -> list[Finding]:
    """Every finding, in check order, without duplicates."""
    seen: set[Finding] = set()
    out: list[Finding] = []
    for check in CHECKS:
        for finding in check(project):
            if finding not in seen:
                seen.add(finding)
                out.append(finding)
    return out
