"""The routing table: for each way of installing a project and each target platform, where torch
and its companions come from and which build that gives.

uv's rules, as the model follows them (paths are in github.com/astral-sh/uv):
- Sources apply only to the project's own direct requirements (and build-system.requires);
  a package that arrives through a dependent is resolved from the indexes, never from
  `tool.uv.sources` (crates/uv-distribution/src/metadata/lowering.rs,
  `LoweredRequirement::from_requirement`; docs/concepts/projects/dependencies.md "Dependency
  sources": "sources are only respected by uv for the project's direct dependencies").
- A source with `extra = "x"` applies only to a requirement declared in that extra, one with
  `group = "g"` only to one declared in that group (lowering.rs filters sources by the
  requirement's top-level extra / its group). A source's `marker` is combined with the
  requirement's; where no source's marker holds, the plain requirement remains and resolves from
  the indexes (lowering.rs adds the "remaining" marker branch).
- When any active requirement of a package is pinned to an index, that index serves the package
  in the fork (crates/uv-resolver/src/fork_indexes.rs); two different pins in one fork are an
  error ("Requirements contain conflicting indexes for package").
- Otherwise indexes are searched in declared order, non-explicit ones only, then the default
  (PyPI, or the index with `default = true`); with the default `index-strategy = "first-index"`
  the first index that has the package at all is the only one used
  (docs/concepts/indexes.md "Searching across multiple indexes"). `explicit = true` indexes
  serve only packages sourced to them (docs/concepts/indexes.md "Pinning a package to an index").
- `uv sync` installs the default groups (`dev` unless `default-groups` says otherwise,
  docs/concepts/projects/dependencies.md "Default groups"); requesting an extra that conflicts
  with a default group is an error unless `--no-default-groups` is given
  (docs/concepts/projects/config.md "Conflicting dependencies").

Which builds a PyTorch index has for a platform comes from the catalog
(src/uvtorch/data/catalog.toml); nothing about releases is written here.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from uvtorch.catalog import Catalog, Release, read_data
from uvtorch.model.markers import holds
from uvtorch.model.project import Index, LockDependency, LockPackage, ProjectModel, Req, Source
from uvtorch.names import PackageName, package_name

TORCH = package_name("torch")
PYPI = "pypi"
PYPI_URL = "https://pypi.org/simple"

# Kinds of a build.
INDEX, DEFAULT, URL, PATH, GIT, NONE, ERROR = (
    "index", "pypi", "url", "path", "git", "none", "error")


@dataclass(frozen=True)
class PlatformEnv:
    id: str
    env: Mapping[str, str]
    wheel_tags: tuple[str, ...]
    optional: bool
    last_torch: Version | None


@cache
def platform_envs() -> Mapping[str, PlatformEnv]:
    """The PEP 508 environment of each platform (src/uvtorch/data/routing.toml)."""
    raw = read_data("routing.toml")["platforms"]
    out = {}
    for pid, p in raw.items():
        env = {k: str(p[k]) for k in ("sys_platform", "platform_system", "platform_machine",
                                      "os_name")}
        env.update(implementation_name="cpython", platform_python_implementation="CPython",
                   platform_release="", platform_version="")
        out[pid] = PlatformEnv(pid, MappingProxyType(env), tuple(p["wheel_tags"]),
                               bool(p.get("optional", False)),
                               Version(p["last_torch"]) if "last_torch" in p else None)
    return MappingProxyType(out)


@cache
def family_extra() -> tuple[PackageName, ...]:
    return tuple(package_name(n) for n in read_data("routing.toml")["family"]["extra"])


@cache
def platform_only() -> Mapping[PackageName, frozenset[str]]:
    """Packages with wheels for some platforms only and no sdist (routing.toml)."""
    raw = read_data("routing.toml").get("platform_only", {})
    return MappingProxyType({package_name(n): frozenset(v["platforms"]) for n, v in raw.items()})


def family(catalog: Catalog) -> tuple[PackageName, ...]:
    """torch and every package whose build must match it."""
    names = [TORCH, *catalog.companions, *(c.name for c in catalog.index_companions),
             *family_extra()]
    for channel in catalog.channels.values():
        names += [package_name(n) for n in channel.triton.values()]
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Install:
    """One way of installing: `base` (plain `uv sync`), `extra:<x>` or `group:<g>`."""

    id: str
    extras: frozenset[str]
    groups: frozenset[str]
    error: str | None = None  # uv refuses this install as written
    # Extras turned on only through a self-reference (`gpu = ["demo[cu128]"]`): their
    # requirements are installed, but uv routes them as if unscoped - on the fake index
    # `uv sync --extra gpu` gets PyPI's torch while `--extra cu128` gets the cu128 build
    # (tests/test_model_uv.py, project `alias`).
    aliased: frozenset[str] = frozenset()

    @property
    def command(self) -> str:
        if self.id.startswith("extra:"):
            return f"uv sync --extra {self.id[6:]}"
        if self.id.startswith("group:"):
            return f"uv sync --group {self.id[6:]}"
        return "uv sync"


@dataclass(frozen=True)
class Build:
    """Where one package comes from in one install on one platform."""

    package: PackageName
    kind: str  # index | pypi | url | path | git | none | error
    label: str  # what a person reads in the table
    index: str | None = None  # [[tool.uv.index]] name (or "pypi")
    variant: str | None = None  # cu128, cpu, rocm6.4 ... for PyTorch indexes
    version: str | None = None
    via: PackageName | None = None  # the dependent that pulls it in (None: a direct requirement)
    source: str | None = None  # the tool.uv.sources table that applied
    reason: str | None = None  # for none/error: why
    requirement_origins: tuple[str, ...] = ()

    @property
    def route(self) -> tuple[str, str | None]:
        """What must agree between torch and a companion: the index (or kind) and variant."""
        return (self.index or self.kind, self.variant)


@dataclass(frozen=True)
class Cell:
    install: str
    platform: str
    builds: Mapping[PackageName, Build]

    @property
    def torch(self) -> Build | None:
        return self.builds.get(TORCH)

    def mismatched(self) -> tuple[Build, ...]:
        """Companions whose route differs from torch's."""
        torch = self.torch
        if torch is None or torch.kind in (NONE, ERROR):
            return ()
        return tuple(
            b for name, b in self.builds.items()
            if name in MATCHED and b.kind not in (NONE, ERROR) and b.route != torch.route
        )


# Companions built per torch variant, which must come from torch's index. torchao (one wheel for
# every build: catalog.toml `on_index = false`) and the tritons are left out: stable CUDA torch
# from a PyTorch index takes PyPI's triton by design (its Requires-Dist names PyPI's `triton`).
MATCHED = frozenset(package_name(n) for n in ("torchvision", "torchaudio", "torchcodec"))


@dataclass(frozen=True)
class Routing:
    installs: tuple[Install, ...]
    platforms: tuple[str, ...]
    required_platforms: tuple[str, ...]
    cells: Mapping[tuple[str, str], Cell]
    from_lock: bool = False

    def cell(self, install: str, platform: str) -> Cell:
        return self.cells[(install, platform)]

    def install(self, install_id: str) -> Install:
        return next(i for i in self.installs if i.id == install_id)


# --- the project's installs and platforms --------------------------------------------------


def default_groups(project: ProjectModel) -> frozenset[str]:
    if project.default_groups == "all":
        return frozenset(project.groups)
    return frozenset(g for g in project.default_groups if g in project.groups)


def conflicting(project: ProjectModel, a: str, b: str) -> bool:
    """Whether installs `a` and `b` (`extra:x`/`group:g`) are in one conflict set."""
    return any(
        {a, b} <= {item.install for item in items if item.package in (None, project.name)}
        for items in project.conflicts
    )


def alias_closure(project: ProjectModel, extras: Iterable[str]) -> frozenset[str]:
    """Extras that `name[x]` self-references in the given extras turn on too."""
    name = package_name(project.name or "")
    seen = set(extras)
    todo = list(seen)
    while todo:
        extra = todo.pop()
        for req in project.optional.get(extra, ()):
            if req.name == name:
                for target in req.extras - seen:
                    seen.add(target)
                    todo.append(target)
    return frozenset(seen)


def installs(project: ProjectModel) -> tuple[Install, ...]:
    defaults = default_groups(project)
    out = [Install("base", frozenset(), defaults)]
    for extra in project.optional:
        wanted = alias_closure(project, [extra])
        bad = sorted(g for g in defaults if any(
            conflicting(project, f"extra:{e}", f"group:{g}") for e in [extra]))
        error = None
        if bad:
            error = (f"the default group {bad[0]} conflicts with the extra {extra}: "
                     f"`uv sync --extra {extra}` fails unless --no-default-groups is given")
        out.append(Install(f"extra:{extra}", frozenset({extra}), defaults - set(bad), error,
                           wanted - {extra}))
    for group in project.groups:
        others = defaults - {group}
        bad = sorted(g for g in others if conflicting(project, f"group:{group}", f"group:{g}"))
        error = None
        if bad:
            error = (f"the default group {bad[0]} conflicts with the group {group}: "
                     f"`uv sync --group {group}` fails unless --no-default-groups is given")
        out.append(Install(f"group:{group}", frozenset(), (others - set(bad)) | {group}, error))
    return tuple(out)


def target_platforms(project: ProjectModel) -> tuple[str, ...]:
    """The catalog's platforms the project resolves for; macOS x86_64 only when
    `tool.uv.environments` admits it explicitly."""
    out = []
    for pid, plat in platform_envs().items():
        env = python_env(project, plat.env)
        if project.environments is None:
            if not plat.optional:
                out.append(pid)
        elif any(holds(m, env, frozenset()) for m in project.environments):
            out.append(pid)
    return tuple(out)


def required_platforms(project: ProjectModel) -> tuple[str, ...]:
    out = []
    for pid, plat in platform_envs().items():
        env = python_env(project, plat.env)
        if any(holds(m, env, frozenset()) for m in project.required_environments):
            out.append(pid)
    return tuple(out)


def lowest_python(project: ProjectModel) -> Version:
    spec = project.requires_python
    if spec is None:
        return Version("3.12")  # unknown (uv uses the interpreter's); one torch supports
    for minor in range(8, 16):
        v = Version(f"3.{minor}")
        if spec is None or spec.contains(Version(f"3.{minor}.99")) or spec.contains(v):
            return v
    return Version("3.12")


def python_env(project: ProjectModel, env: Mapping[str, str]) -> dict[str, str]:
    py = lowest_python(project)
    return dict(env, python_version=str(py), python_full_version=f"{py}.0",
                implementation_version=f"{py}.0")


# --- predicting from pyproject.toml --------------------------------------------------------


def route(project: ProjectModel, catalog: Catalog) -> Routing:
    """The routing table: from uv.lock when it locks this project, else predicted."""
    if project.lock is not None and _lock_root(project) is not None:
        return route_from_lock(project, catalog)
    return predict(project, catalog)


def predict(project: ProjectModel, catalog: Catalog) -> Routing:
    """The routing table predicted from pyproject.toml alone (uv's rules, module docstring)."""
    plats = target_platforms(project)
    all_installs = installs(project)
    cells = {}
    names = family(catalog)
    for inst in all_installs:
        for pid in plats:
            env = python_env(project, platform_envs()[pid].env)
            cells[(inst.id, pid)] = Cell(inst.id, pid, MappingProxyType(
                _predict_cell(project, catalog, inst, pid, env, names)))
    return Routing(all_installs, plats, required_platforms(project), MappingProxyType(cells))


def in_conflict_set(project: ProjectModel, member: str) -> bool:
    return any(member in {i.install for i in items if i.package in (None, project.name)}
               for items in project.conflicts)


def fork_members(project: ProjectModel, inst: Install) -> tuple[str, ...]:
    """The extras and groups resolved together with `inst`: its own, plus every one in no
    conflict set. uv forks the resolution only on declared conflicts (one fork per member,
    and one with none of them: see any uv.lock's resolution-markers), so an extra in no
    conflict set shares its fork, and its index pins, with every install
    (crates/uv-resolver/src/resolver/mod.rs, conflict forking; tests/test_model_uv.py
    `base-and-extra` shows a plain `uv sync` getting the cpu extra's torch)."""
    own = {f"extra:{e}" for e in inst.extras} | {f"group:{g}" for g in inst.groups}
    every = [f"extra:{e}" for e in project.optional] + [f"group:{g}" for g in project.groups]
    return tuple(m for m in every if m in own or not in_conflict_set(project, m))


def _requirements_of(project: ProjectModel, members: Iterable[str]) -> list[Req]:
    reqs: list[Req] = list(project.dependencies)
    for member in members:
        kind, _, name = member.partition(":")
        reqs += (project.optional if kind == "extra" else project.groups).get(name, ())
    return reqs


def _holds_for(req: Req, env: Mapping[str, str], extras: frozenset[str]) -> bool:
    active = extras | ({req.origin[6:]} if req.origin.startswith("extra:") else set())
    return holds(req.marker, env, frozenset(active))


def active_requirements(project: ProjectModel, inst: Install, env: Mapping[str, str]) -> list[Req]:
    """The requirements `inst` installs on `env` (base, its extras, its groups)."""
    members = [f"extra:{e}" for e in sorted(inst.extras)] + [
        f"group:{g}" for g in sorted(inst.groups)]
    reqs = _requirements_of(project, members) + aliased_requirements(project, inst)
    return [r for r in reqs if _holds_for(r, env, inst.extras)]


def aliased_requirements(project: ProjectModel, inst: Install) -> list[Req]:
    """Requirements of the extras `inst` turns on through a self-reference, marked so that no
    extra-scoped source applies to them (origin `alias:<extra>`)."""
    from dataclasses import replace

    return [replace(r, origin=f"alias:{extra}") for extra in sorted(inst.aliased)
            for r in project.optional.get(extra, ()) if r.name != package_name(project.name or "")]


def _predict_cell(project: ProjectModel, catalog: Catalog, inst: Install, pid: str,
                  env: Mapping[str, str], names: tuple[PackageName, ...]) -> dict[PackageName, Build]:
    reqs = active_requirements(project, inst, env)
    fork = [r for r in _requirements_of(project, fork_members(project, inst))
            + aliased_requirements(project, inst) if _holds_for(r, env, inst.extras)]
    direct: dict[PackageName, list[Req]] = {}
    for req in reqs:
        direct.setdefault(req.name, []).append(req)
    pulled: dict[PackageName, PackageName] = {}  # package -> the dependent that pulls it
    for req in reqs:
        dependent = catalog.dependents.get(req.name)
        if dependent is not None:
            for need in (TORCH, *dependent.needs):
                pulled.setdefault(need, req.name)
        elif req.name in catalog.companions and catalog.companions[req.name].on_index:
            pulled.setdefault(TORCH, req.name)
    out: dict[PackageName, Build] = {}
    for name in names:
        if name in direct or name in pulled:
            in_fork = [r for r in fork if r.name == name]
            out[name] = _route_package(project, catalog, name, in_fork, inst, pid, env,
                                       None if name in direct else pulled[name])
    return _with_companion_versions(catalog, out, pid)


def _with_companion_versions(catalog: Catalog, builds: dict[PackageName, Build],
                             pid: str) -> dict[PackageName, Build]:
    """A companion's version is the one made for torch's release (catalog companions)."""
    from dataclasses import replace

    torch = builds.get(TORCH)
    if torch is None or torch.version is None:
        return builds
    try:
        base = Version(Version(torch.version).base_version)
    except InvalidVersion:
        return builds
    release = next((r for r in catalog.releases if base in r.patches), None)
    if release is None:
        return builds
    for name, build in builds.items():
        companion = release.companions.get(name, {}).get(base)
        if name == TORCH or companion is None or build.kind not in (INDEX, DEFAULT):
            continue
        local = None
        if build.kind == INDEX and build.variant and not _plain_version(catalog, build.variant, pid):
            local = build.variant
        version = f"{companion}+{local}" if local else str(companion)
        where = f"{build.variant} index" if build.kind == INDEX else (
            f"PyPI ({release.pypi.get(pid, 'unknown')})")
        builds[name] = replace(build, version=version, label=f"{version} {where}")
    return builds


def _applicable(source: Source, req: Req) -> bool:
    """lowering.rs: an extra-scoped source only for requirements of that extra (same for groups)."""
    if source.extra is not None and req.origin != f"extra:{source.extra}":
        return False
    if source.group is not None and req.origin != f"group:{source.group}":
        return False
    return True


def own_pins(project: ProjectModel, member: str, name: str, pid: str) -> frozenset[str] | None:
    """The indexes/URLs `member`'s own requirements of `name` are pinned to on `pid` (empty:
    the registry), or None when the member does not require `name` there."""
    env = python_env(project, platform_envs()[pid].env)
    kind, _, scope = member.partition(":")
    reqs = (project.optional if kind == "extra" else project.groups).get(scope, ())
    extras = frozenset({scope} if kind == "extra" else set())
    mine = [r for r in reqs if r.name == package_name(name) and _holds_for(r, env, extras)]
    if not mine:
        return None
    pins: set[str] = set()
    for req in mine:
        for source in project.sources_of(name):
            if _applicable(source, req) and holds(source.marker, env, extras):
                pins.add(source.index or source.url or source.path or source.git or "?")
                break
    return frozenset(pins)


def index_build(project: ProjectModel, catalog: Catalog, index_name: str, pid: str,
                spec: SpecifierSet | None = None) -> Build | None:
    """What torch from the named index would be on `pid` (None: no such index)."""
    index = project.index(index_name)
    if index is None:
        return None
    return _from_index(catalog, project, TORCH, index, spec or SpecifierSet(), pid, None,
                       {"package": TORCH})


def _scoped_extras(req: Req) -> set[str]:
    return {req.origin} if req.origin.startswith("extra:") else set()


def _route_package(project: ProjectModel, catalog: Catalog, name: PackageName, reqs: list[Req],
                   inst: Install, pid: str, env: Mapping[str, str],
                   via: PackageName | None) -> Build:
    chosen: list[tuple[Req, Source]] = []
    for req in reqs:
        if req.url:
            chosen.append((req, Source(name, url=req.url, table=f"requirement {req.text}")))
            continue
        active = inst.extras | ({req.origin[6:]} if req.origin.startswith("extra:") else set())
        active |= {m[6:] for m in _scoped_extras(req)}
        # Every applicable source whose marker holds: uv lowers the requirement once per source
        # (lowering.rs), so an unscoped `{ index = "cpu", marker = "platform_system ==
        # 'Darwin'" }` and a `{ index = "cu128", extra = "cuda" }` both pin cuda's torch on
        # macOS - uv 0.13.9: "Requirements contain conflicting indexes for package `torch` in
        # split `sys_platform == 'darwin'`" (tests/test_model_uv.py). uv refuses overlapping
        # markers within one scope when it reads the file, so only such mixes reach here.
        for source in project.sources_of(name):
            if _applicable(source, req) and holds(source.marker, env, frozenset(active)):
                chosen.append((req, source))
    spec = SpecifierSet()
    for req in reqs:
        spec &= req.specifier
    origins = tuple(dict.fromkeys(r.origin for r in reqs))
    common: dict[str, Any] = dict(package=name, via=via, requirement_origins=origins)
    pins = {(s.kind, s.index or s.url or s.path or s.git) for _, s in chosen}
    if len(pins) > 1:
        listed = ", ".join(sorted(str(p[1]) for p in pins))
        return Build(kind=ERROR, label=f"conflict: {listed}", reason=(
            f"{name} is pinned to {listed} at once; uv refuses to resolve "
            "(conflicting indexes or URLs for one package)"), **common)
    if chosen:
        _, source = chosen[0]
        if source.kind == "index":
            index = project.index(source.index)
            if index is None:
                return Build(kind=ERROR, label=f"unknown index {source.index}",
                             reason=f"the index {source.index} is not declared",
                             source=source.table, **common)
            return _from_index(catalog, project, name, index, spec, pid, source.table, common)
        if source.kind == "url":
            return _from_url(name, source.url or "", pid, source.table, common)
        if source.kind == "path":
            return Build(kind=PATH, label=f"local file {source.path}", source=source.table,
                         **common)
        return Build(kind=GIT, label=f"git {source.git}", source=source.table, **common)
    return _from_registry(project, catalog, name, spec, pid, common)


def _from_registry(project: ProjectModel, catalog: Catalog, name: PackageName,
                   spec: SpecifierSet, pid: str, common: dict[str, Any]) -> Build:
    """No source: the non-explicit indexes in order, then the default one."""
    searched = [i for i in project.indexes if not i.explicit and not i.default]
    default = next((i for i in project.indexes if i.default), None)
    best_match = project.index_strategy == "unsafe-best-match"
    for index in searched:
        if _index_serves(catalog, index, name):
            build = _from_index(catalog, project, name, index, spec, pid, None, common)
            if best_match:
                return Build(**{**build.__dict__, "label": build.label + " (best match)"})
            return build
    if default is not None:
        if not _index_serves(catalog, default, name):
            return Build(kind=INDEX, index=default.name, label=f"index {default.name}",
                         reason="a default index that is not PyTorch's: build unknown", **common)
        return _from_index(catalog, project, name, default, spec, pid, None, common)
    return _from_pypi(catalog, project, name, spec, pid, common)


def _index_serves(catalog: Catalog, index: Index, name: PackageName) -> bool:
    """A PyTorch index hosts every torch-family package name (with or without a wheel for the
    platform); what another index hosts is unknown, and the model assumes it has no torch."""
    return pytorch_variant(index.url, catalog) is not None


def pytorch_variant(url: str, catalog: Catalog) -> str | None:
    """`https://download.pytorch.org/whl/nightly/cu128` -> `cu128`; None for other indexes."""
    path = url.rstrip("/").lower()
    last = path.rsplit("/", 1)[-1]
    if catalog.family_of(last) and ("/whl" in path or "pytorch" in path):
        return last
    if "download.pytorch.org" in path and last in ("whl", "nightly", "test"):
        return "default"
    return None


def channel_of(url: str, catalog: Catalog) -> str | None:
    parts = url.rstrip("/").lower().split("/")
    return next((c for c in catalog.channels if len(parts) > 1 and parts[-2] == catalog.channels[c].path), None)


def matching_releases(catalog: Catalog, spec: SpecifierSet, project: ProjectModel,
                      ) -> tuple[list[Release], list[Release]]:
    """(releases with a patch the spec admits, those of them for the project's lowest Python)."""
    admits = [r for r in catalog.releases
              if any(spec.contains(v, prereleases=True) for p in r.patches
                     for v in (p, *(Version(f"{p}+{local}") for local in r.variants)))]
    if project.requires_python is None:
        # uv then takes the running interpreter's version as the bound (it warns "No
        # `requires-python` value found"): unknown here, so no release is ruled out.
        return admits, admits
    py = lowest_python(project)
    fits = [r for r in admits if r.python_min <= py]
    return admits, fits


def _newest_patch(release: Release, variant: str, spec: SpecifierSet,
                  local: str | None) -> Version | None:
    for patch in reversed(release.patches_with(variant) if variant != PYPI else release.patches):
        full = Version(f"{patch}+{local}") if local else patch
        if spec.contains(full, prereleases=True):
            return patch
    return None


def _companion_version(release: Release, name: PackageName, torch: Version) -> Version | None:
    return release.companions.get(name, {}).get(torch)


def pypi_build(catalog: Catalog, version: str | None, pid: str) -> str | None:
    """Which build PyPI's torch `version` is on `pid` (`cu128`, `cpu`, `cpu+mps`)."""
    try:
        base = Version(Version(version or "").base_version)
    except InvalidVersion:
        return None
    release = next((r for r in catalog.releases if base in r.patches), None)
    return None if release is None else release.pypi.get(pid)


def _from_pypi(catalog: Catalog, project: ProjectModel, name: PackageName, spec: SpecifierSet,
               pid: str, common: dict[str, Any]) -> Build:
    if name != TORCH and name not in catalog.companions:
        return Build(kind=DEFAULT, index=PYPI, label="PyPI", **common)
    plat = platform_envs()[pid]
    if name == TORCH and plat.last_torch is not None:
        newest = plat.last_torch
        if spec.contains(newest, prereleases=True):
            return Build(kind=DEFAULT, index=PYPI, version=str(newest),
                         label=f"{newest} PyPI", **common)
        return Build(kind=NONE, index=PYPI, label="no wheel: lock or sync fails", reason=(
            f"PyPI's torch has no {pid} wheels after {newest}"), **common)
    admits, fits = matching_releases(catalog, spec, project)
    if name == TORCH and not fits:
        return _no_release(admits, spec, project, common, PYPI)
    for release in reversed(fits or catalog.releases):
        build = release.pypi.get(pid, "unknown")
        if name == TORCH:
            patch = _newest_patch(release, PYPI, spec, None)
            if patch is not None:
                return Build(kind=DEFAULT, index=PYPI, version=str(patch), variant=None,
                             label=f"{patch} PyPI ({build})", **common)
        else:
            return Build(kind=DEFAULT, index=PYPI, label=f"PyPI ({build})", **common)
    return Build(kind=DEFAULT, index=PYPI, label="PyPI", **common)


def _no_release(admits: list[Release], spec: SpecifierSet, project: ProjectModel,
                common: dict[str, Any], index: str) -> Build:
    common = dict(common, index=index)
    if admits:
        return Build(kind=NONE, label="no wheel: lock fails", reason=(
            f"torch{spec} needs Python >= {admits[-1].python_min}, but requires-python "
            f"admits {lowest_python(project)}"), **common)
    return Build(kind=NONE, label="no such version: lock fails",
                 reason=f"no torch release matches {spec or '(any)'}", **common)


def _from_index(catalog: Catalog, project: ProjectModel, name: PackageName, index: Index,
                spec: SpecifierSet, pid: str, source: str | None,
                common: dict[str, Any]) -> Build:
    variant = pytorch_variant(index.url, catalog)
    base = dict(common, index=index.name, variant=variant, source=source)
    if variant is None and "pypi.org" in index.url:
        return _from_pypi(catalog, project, name, spec, pid, dict(common, source=source))
    if variant is None:
        return Build(kind=INDEX, label=f"index {index.name}", reason="not a PyTorch index: "
                     "build unknown", **base)
    channel = channel_of(index.url, catalog)
    if channel is not None or variant == "default":
        label = f"{channel or 'whl'} {variant}"
        ch = catalog.channels.get(channel or "")
        if ch is not None and variant in ch.variants and pid not in ch.variants[variant]:
            return Build(kind=NONE, label="no wheel: sync fails", reason=(
                f"the {channel} {variant} index has no {pid} wheels"), **base)
        return Build(kind=INDEX, label=f"{label} index", **base)
    local = None if _plain_version(catalog, variant, pid) else variant
    if name != TORCH:
        if name not in catalog.companions or not catalog.companions[name].on_index:
            return Build(kind=INDEX, label=f"{variant} index", **base)
    admits, fits = matching_releases(catalog, spec if name == TORCH else SpecifierSet(), project)
    if name == TORCH and not fits:
        # with a local version in the spec, nothing matches: a version no index has
        return _no_release(admits, spec, project, base, str(index.name))
    with_variant = [r for r in fits if variant in r.variants]
    if not with_variant:
        return Build(kind=NONE, label="no build: lock fails", reason=(
            f"no torch{spec} release has a {variant} build"), **base)
    for release in reversed(with_variant):
        if pid not in release.variants[variant]:
            continue
        if name == TORCH:
            patch = _newest_patch(release, variant, spec, local)
            if patch is None:
                continue
            version = f"{patch}+{local}" if local else str(patch)
            return Build(kind=INDEX, version=version, label=f"{version} {variant} index", **base)
        return Build(kind=INDEX, label=f"{variant} index", **base)
    if name == TORCH and not any(
        _newest_patch(r, variant, spec, local) for r in with_variant
    ):
        return Build(kind=NONE, label="no such version: lock fails", reason=(
            f"{variant} builds are versioned {'+' + local if local else 'without a local part'} "
            f"here, and torch{spec} matches none of them"), **base)
    return Build(kind=NONE, label="no wheel: sync fails", reason=(
        f"the {variant} index has no {pid} wheel of torch{spec}"), **base)


def _plain_version(catalog: Catalog, variant: str, pid: str) -> bool:
    """The cpu index's macOS wheels carry no local version (torch-2.9.1-...macosx...)."""
    return catalog.family_of(variant) == "cpu" and pid.startswith("macos")


def _wheel_fits(filename: str, pid: str) -> bool:
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return True  # not a wheel (an sdist): builds anywhere
    patterns = platform_envs()[pid].wheel_tags
    return any(t.platform == "any" or any(fnmatch.fnmatch(t.platform, p) for p in patterns)
               for t in tags)


def _from_url(name: PackageName, url: str, pid: str, source: str,
              common: dict[str, Any]) -> Build:
    filename = unquote(url.rstrip("/").rsplit("/", 1)[-1].split("#")[0])
    version = None
    try:
        version = str(parse_wheel_filename(filename)[1])
    except InvalidWheelFilename:
        pass
    if not _wheel_fits(filename, pid):
        return Build(kind=NONE, label="no wheel: the URL is another platform's", source=source,
                     reason=f"{filename} does not install on {pid}", version=version, **common)
    return Build(kind=URL, label=f"direct URL {filename}", source=source, version=version,
                 **common)


# --- reading uv.lock -----------------------------------------------------------------------


def _lock_root(project: ProjectModel) -> LockPackage | None:
    if project.lock is None or not project.name:
        return None
    name = package_name(project.name)
    return next((p for p in project.lock.packages if p.name == name
                 and ("editable" in p.source or "virtual" in p.source
                      or "directory" in p.source)), None) or next(
        (p for p in project.lock.packages if p.name == name), None)


def conflict_names(project: ProjectModel, inst: Install) -> frozenset[str]:
    """The `extra` values uv.lock's conflict markers use for this install."""
    name = str(package_name(project.name or ""))
    out = set(inst.extras) | set(inst.groups)
    out |= {f"extra-{len(name)}-{name}-{e}" for e in inst.extras}
    out |= {f"group-{len(name)}-{name}-{g}" for g in inst.groups}
    return frozenset(out)


def route_from_lock(project: ProjectModel, catalog: Catalog) -> Routing:
    """The table as uv locked it: follow the root's edges for each install and platform."""
    assert project.lock is not None
    root = _lock_root(project)
    assert root is not None
    by_name: dict[PackageName, list[LockPackage]] = {}
    for package in project.lock.packages:
        by_name.setdefault(package.name, []).append(package)
    plats = target_platforms(project)
    names = set(family(catalog))
    cells = {}
    all_installs = installs(project)
    for inst in all_installs:
        active = conflict_names(project, inst)
        for pid in plats:
            env = python_env(project, platform_envs()[pid].env)
            edges: list[tuple[LockDependency, PackageName | None]] = [
                (e, None) for e in root.dependencies]
            for extra in sorted(inst.extras):
                edges += [(e, None) for e in root.optional.get(extra, ())]
            for group in sorted(inst.groups):
                edges += [(e, None) for e in root.groups.get(group, ())]
            found = _walk(edges, by_name, env, active, root.name)
            builds = {}
            for name in family(catalog):
                if name in found and name in names:
                    package, via = found[name]
                    builds[name] = _locked_build(catalog, package, via, pid)
            cells[(inst.id, pid)] = Cell(inst.id, pid, MappingProxyType(builds))
    return Routing(all_installs, plats, required_platforms(project), MappingProxyType(cells),
                   from_lock=True)


def _walk(edges: list[tuple[LockDependency, PackageName | None]],
          by_name: Mapping[PackageName, list[LockPackage]], env: Mapping[str, str],
          active: frozenset[str], root: PackageName,
          ) -> dict[PackageName, tuple[LockPackage, PackageName | None]]:
    from collections import deque

    from uvtorch.model.markers import env_key, holds_key

    found: dict[PackageName, tuple[LockPackage, PackageName | None]] = {}
    queue = deque(edges)
    seen: set[tuple[int, tuple[str, ...]]] = set()
    key_env = env_key(env)
    while queue:
        edge, via = queue.popleft()
        if not holds_key(edge.marker, key_env, active):
            continue
        candidates = by_name.get(edge.name, [])
        package = _pick(candidates, edge, env)
        if package is None:
            continue
        key = (id(package), edge.extras)
        if key in seen:
            continue
        seen.add(key)
        found.setdefault(package.name, (package, via))
        if package.name == root:
            for extra in edge.extras:  # a self-reference (`demo[cu128]`) turns on that extra
                queue += [(child, via) for child in package.optional.get(extra, ())]
            continue
        child_via = via or package.name
        for child in package.dependencies:
            queue.append((child, child_via))
        for extra in edge.extras:
            for child in package.optional.get(extra, ()):
                queue.append((child, child_via))
    return found


def _pick(candidates: list[LockPackage], edge: LockDependency,
          env: Mapping[str, str]) -> LockPackage | None:
    if edge.version is not None or edge.source:
        for p in candidates:
            if (edge.version is None or p.version == edge.version) and all(
                p.source.get(k) == v for k, v in edge.source.items()
            ):
                return p
    if len(candidates) == 1:
        return candidates[0]
    for p in candidates:
        if not p.resolution_markers or any(
            holds(m, env, frozenset()) for m in p.resolution_markers):
            return p
    return candidates[0] if candidates else None


def _locked_build(catalog: Catalog, package: LockPackage, via: PackageName | None,
                  pid: str) -> Build:
    common: dict[str, Any] = dict(package=package.name, via=via, version=package.version)
    wheels = [unquote(w.rsplit("/", 1)[-1]) for w in package.wheels]
    fits = not wheels or any(_wheel_fits(w, pid) for w in wheels)
    registry = package.source.get("registry")
    if registry is not None:
        variant = pytorch_variant(registry, catalog)
        if not fits:
            return Build(kind=NONE, label="no wheel: sync fails", variant=variant,
                         index=registry, reason=f"the locked {package.name} {package.version} "
                         f"has no {pid} wheel", **common)
        if variant is not None:
            return Build(kind=INDEX, index=registry, variant=variant,
                         label=f"{package.version} {variant} index", **common)
        kind = DEFAULT if "pypi.org" in registry or _is_default(registry) else INDEX
        return Build(kind=kind, index=PYPI if kind == DEFAULT else registry,
                     label=f"{package.version} {'PyPI' if kind == DEFAULT else registry}",
                     **common)
    if "url" in package.source:
        if not fits:
            return Build(kind=NONE, label="no wheel: the URL is another platform's",
                         reason=f"{package.source['url']} does not install on {pid}", **common)
        return Build(kind=URL, label=f"direct URL {package.version}", **common)
    if "path" in package.source:
        return Build(kind=PATH, label=f"local file {package.source['path']}", **common)
    if "git" in package.source:
        return Build(kind=GIT, label=f"git {package.source['git']}", **common)
    return Build(kind=INDEX, label=f"{package.version}", **common)


def _is_default(registry: str) -> bool:
    """A registry that is not PyTorch's and not declared is the default index (PyPI, or the
    UV_DEFAULT_INDEX the lock was made with, as in the tests' fake PyPI at /simple)."""
    return bool(re.search(r"/simple/?$", registry))
