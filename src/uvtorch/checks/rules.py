"""The pyproject.toml rules ported from the first `check`, each a function registered with
its code (uvtorch.checks.codes) and documented in its docstring.

They read the `Project` views of uvtorch.check; the routing-model rules (uvtorch.model) answer
the same questions from a model of uv's resolution and may replace them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from uvtorch.check import (
    _MACOS,
    DEFAULT_BUILD,
    TORCH,
    Project,
    _holds_on_linux,
    _macos_included,
    _names,
    _requirements,
    exclusions,
    pytorch_variant,
    system_names,
)
from uvtorch.checks.lockfile import packages_named
from uvtorch.checks.registry import CheckContext, Finding, Fix, Place, Severity, rule
from uvtorch.names import extra_name, package_name
from uvtorch.system import SYSTEM


def extra_install(extra: str) -> str:
    """The `place.install` of an extra: `extra:<PEP 685 name>`."""
    return f"extra:{extra_name(extra)}"


@rule("UT001", "extras-without-conflicts", "error",
      "extras take torch from different indexes but are not declared as conflicting")
def extras_without_conflicts(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds extras (or groups) whose torch comes from different indexes while no
    `[tool.uv] conflicts` set contains both.

    ## Why is this bad?
    uv resolves every extra together in one universal lock. Two sources for the same package in
    two extras that may be installed together cannot both hold: `uv lock` fails ("Requirements
    contain conflicting indexes for package `torch`"), or forces one torch for both. Declaring
    the extras as conflicting lets uv fork the resolution per extra (uv docs, "Configuring
    accelerators with optional dependencies" in guides/integration/pytorch.md).

    ## Example
    ```toml
    [project.optional-dependencies]
    cpu = ["torch>=2.9"]
    cu128 = ["torch>=2.9"]

    [tool.uv.sources]
    torch = [
      { index = "pytorch-cpu", extra = "cpu" },
      { index = "pytorch-cu128", extra = "cu128" },
    ]
    ```

    ## Fix
    Add `conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]` to `[tool.uv]`. Safe fix:
    the lock could not give both extras their own torch without it.
    """
    p = ctx.project
    by_extra: dict[str, set[str]] = {}
    for source in p.sources(TORCH):
        if source.extra and p.variant_of_index(source.index_ref):
            by_extra.setdefault(source.extra, set()).add(source.index_ref or "")
    if len(by_extra) < 2:
        return
    sets = [
        {c.get("extra") for c in conflict if isinstance(c, dict)}
        for conflict in p.uv.get("conflicts", [])
        if isinstance(conflict, list)
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
            "extras-without-conflicts", "error",
            Place(install=extra_install(missing[0][1]), package=TORCH, table="tool.uv.conflicts"),
            f"the extras {', '.join(extras)} take torch from different indexes, but {pairs} "
            "are not declared as conflicting",
            "uv resolves all extras in one lock, so it cannot lock them (or locks one torch "
            f"for both). Fix: add conflicts = [[{tables}]] to [tool.uv].",
            Fix(f"add conflicts = [[{tables}]] to [tool.uv]", "safe"),
        )


@rule("UT002", "accelerator-extra-without-source", "error",
      "an accelerator extra lists torch (or a companion) but no source routes it there")
def accelerator_extra_without_source(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds an extra that lists torch or a companion on a PyTorch index while other extras route
    torch by `extra = ...` sources, but no source applies to this extra's requirement.

    ## Why is this bad?
    A source scoped to an extra applies only to requirements declared in that extra
    (crates/uv-distribution/src/metadata/lowering.rs). Without one, `uv sync --extra X`
    installs PyPI's torch: on Linux a CUDA build, on Windows and macOS a CPU build, whatever
    the extra's name promises.

    ## Example
    ```toml
    [project.optional-dependencies]
    cpu = ["torch>=2.9"]
    cu128 = ["torch>=2.9"]

    [tool.uv.sources]
    torch = [{ index = "pytorch-cpu", extra = "cpu" }]
    ```

    ## Fix
    Add `{ index = "pytorch-cu128", extra = "cu128" }` to `[tool.uv.sources] torch` (and the
    same for each companion the extra lists).
    """
    p = ctx.project
    if not any(s.extra for s in p.sources(TORCH)):
        return
    family = [TORCH] + [n for n, c in p.catalog.companions.items() if c.on_index]
    defaults = set(p.default_groups)
    for extra, requirements in p.extras.items():
        listed = _names(requirements)
        torch_extra = any(s.extra == extra for s in p.sources(TORCH))
        for name in family:
            if name not in listed:
                continue
            covered = any(
                s.extra == extra or (not s.extra and not s.group) or s.group in defaults
                for s in p.sources(name)
            )
            if not covered and (torch_extra or name == TORCH):
                yield Finding(
                    "accelerator-extra-without-source", "error",
                    Place(install=extra_install(extra), package=name, table="tool.uv.sources"),
                    f"the {extra} extra lists {name} but no source says which index it comes "
                    "from for that extra",
                    "sources scoped to other extras do not apply here, so uv takes PyPI's "
                    f"build (another accelerator). Fix: add {{ index = \"...\", extra = "
                    f"\"{extra}\" }} to [tool.uv.sources] {name}.",
                )


@rule("UT003", "companion-build-mismatch", "error",
      "torch and a companion come from different builds or indexes in one install")
def companion_build_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds installs where torch and a companion (torchvision, torchaudio, torchao, torchcodec,
    triton and its ROCm/XPU forms) come from different indexes: a companion sourced to another
    index than torch for the same extra, a package that needs a companion while that
    companion is not a direct dependency (so no source applies to it), or a lock that takes a
    companion from PyPI while torch comes from a PyTorch index.

    ## Why is this bad?
    Companions are compiled against one torch build. A torchvision built for PyPI's torch
    fails at import next to a `+cpu` or `+rocm` torch ("operator torchvision::nms does not
    exist"). Sources apply only to direct requirements, so a transitive companion always comes
    from PyPI (crates/uv-distribution/src/metadata/lowering.rs).

    ## Example
    ```toml
    [tool.uv.sources]
    torch = [{ index = "pytorch-cu128", extra = "cu128" }]
    torchvision = [{ index = "pytorch-cpu", extra = "cu128" }]
    ```

    ## Fix
    Source every companion from torch's index in every extra, and list companions that other
    packages need as direct dependencies next to torch.
    """
    p = ctx.project
    companions = [n for n, c in p.catalog.companions.items() if c.on_index]
    torch_by_extra = {s.extra: s.index_ref for s in p.sources(TORCH) if s.extra}
    for name in companions:
        for source in p.sources(name):
            if source.extra in torch_by_extra and source.index_ref != torch_by_extra[source.extra]:
                yield Finding(
                    "companion-build-mismatch", "error",
                    Place(install=extra_install(source.extra or ""), package=name,
                          table="tool.uv.sources"),
                    f"in the {source.extra} extra {name} comes from {source.index_ref} but torch "
                    f"from {torch_by_extra[source.extra]}",
                    "builds for different accelerators fail at import (operator "
                    f"torchvision::nms does not exist). Fix: source {name} from "
                    f"{torch_by_extra[source.extra]} for that extra.",
                )
    if not p.torch_sourced():
        return
    direct = _names(p.base) | {n for reqs in p.extras.values() for n in _names(reqs)}
    for dependent, info in p.catalog.dependents.items():
        if dependent in direct:
            for needed in info.needs:
                if needed not in direct:
                    yield Finding(
                        "companion-build-mismatch", "error",
                        Place(package=needed, table="project.dependencies"),
                        f"{dependent} needs {needed}, which is not a direct dependency",
                        f"{info.why}; no source applies to a transitive {needed}, so uv takes "
                        f"PyPI's, built for another torch. Fix: list {needed} next to torch "
                        f"wherever {dependent} is, with the same per-extra sources as torch.",
                    )
    yield from _lock_companions(ctx)


def _registry(package: Mapping[str, Any]) -> str:
    return str(package.get("source", {}).get("registry", ""))


def _lock_companions(ctx: CheckContext) -> Iterator[Finding]:
    p = ctx.project
    if ctx.lock is None:
        return
    torches = packages_named(ctx.lock, TORCH)
    torch_from_index = any(pytorch_variant(_registry(x), p.catalog) for x in torches)
    torch_from_pypi = any("pypi.org" in _registry(x) for x in torches)
    if not torch_from_index or torch_from_pypi:
        return  # with PyPI's torch in the lock too, a PyPI companion may belong to it
    for name, companion in sorted(p.catalog.companions.items()):
        if not companion.on_index:
            continue
        for package in packages_named(ctx.lock, name):
            if "pypi.org" in _registry(package):
                yield Finding(
                    "companion-build-mismatch", "error",
                    Place(package=name, table="uv.lock"),
                    f"the lock takes {name} {package.get('version')} from PyPI while torch comes "
                    "from a PyTorch index",
                    f"PyPI's build is made for PyPI's torch. Fix: make {name} a direct "
                    "dependency next to torch with the same per-extra sources, then uv lock.",
                )


@rule("UT004", "base-install-pulls-pypi-torch", "error",
      "a plain `uv sync` installs PyPI's torch although the project routes torch per extra")
def base_install_pulls_pypi_torch(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds torch, a companion, or a package that depends on torch in `[project] dependencies`
    while torch's PyTorch-index sources apply only with an extra (or a non-default group).

    ## Why is this bad?
    `uv sync` and `uv run` without `--extra` install the base dependencies only; no
    extra-scoped source applies to them, so they get PyPI's torch: a multi-GB CUDA build on
    Linux, installed before (and besides) the build the project meant.

    ## Example
    ```toml
    [project]
    dependencies = ["ultralytics"]   # requires torch

    [tool.uv.sources]
    torch = [{ index = "pytorch-cpu", extra = "cpu" }]
    ```

    ## Fix
    Move torch and its dependents into every accelerator extra, or give the base requirement
    its own source (or a default group with one).
    """
    p = ctx.project
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
        "base-install-pulls-pypi-torch", "error",
        Place(install="base", package=pulls[0], table="project.dependencies"),
        f"{', '.join(pulls)} in the base dependencies pull torch, but torch's PyTorch-index "
        "sources apply only with an extra",
        "a plain `uv sync` or `uv run` installs PyPI's torch (a multi-GB CUDA build on "
        "Linux). Fix: move torch and its dependents into every accelerator extra (or a "
        "default group with its own source).",
    )


def _mentions_macos(p: Project) -> bool:
    """Whether anything in the file says macOS matters: a marker naming darwin/Darwin."""
    markers: list[str] = []
    uv = p.uv
    for key in ("environments", "required-environments"):
        value = uv.get(key) or []
        markers += [value] if isinstance(value, str) else [str(v) for v in value]
    for entries in uv.get("sources", {}).values():
        for entry in entries if isinstance(entries, list) else [entries]:
            if isinstance(entry, dict) and entry.get("marker"):
                markers.append(str(entry["marker"]))
    for reqs in [p.base, *p.extras.values(), *p.groups.values()]:
        markers += [str(r.marker) for r in reqs if r.marker is not None]
    return any("darwin" in m.lower() for m in markers)


def _required_on_macos(p: Project) -> bool:
    required = p.uv.get("required-environments") or []
    for env in [required] if isinstance(required, str) else required:
        try:
            if Marker(str(env)).evaluate(_MACOS):
                return True
        except InvalidMarker:
            continue
    return False


@rule("UT005", "platform-gets-other-build", "warning",
      "on a target platform an accelerator extra silently gets another build or no wheel")
def platform_gets_other_build(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds sources that send torch (or a companion) to a CUDA or ROCm index without a platform
    marker while the project resolves for macOS, where those indexes have no wheels.

    Severity depends on the case: `info` when it is only the uv guide's own "CUDA index not
    gated for macOS" and nothing in the file says macOS matters; `warning` when the file does
    show macOS matters (a marker or `environments` naming darwin) or the plain install is the
    one affected; `error` when `required-environments` requires macOS, so `uv lock` fails.

    ## Why is this bad?
    uv locks for every platform `environments` admits. `uv sync --extra cu128` on a Mac then
    fails with "no wheel for the current platform"; the uv guide notes this for its own
    example (guides/integration/pytorch.md, "Configuring accelerators with optional
    dependencies"). With `required-environments`, uv refuses to lock.

    ## Example
    ```toml
    [tool.uv.sources]
    torch = [{ index = "pytorch-cu128", extra = "cu128" }]
    ```

    ## Fix
    Add `marker = "sys_platform == 'linux' or sys_platform == 'win32'"` to the source (macOS
    then gets PyPI's CPU/MPS build), or limit `tool.uv.environments` to the platforms the
    extra targets.
    """
    p = ctx.project
    if not _macos_included(p):
        return
    required = _required_on_macos(p)
    mentioned = _mentions_macos(p)
    family = [TORCH] + [n for n, c in p.catalog.companions.items() if c.on_index]
    defaults = set(p.default_groups)
    for name in family:
        for source in p.sources(name):
            variant = p.variant_of_index(source.index_ref)
            kind = p.catalog.family_of(variant or "")
            if kind not in ("cuda", "rocm") or source.marker:
                continue
            # The requirements the source applies to: its extra's, its group's, or the base.
            if source.extra:
                requirements, install = p.extras.get(source.extra, []), extra_install(source.extra)
            elif source.group:
                requirements, install = p.groups.get(source.group, []), f"group:{source.group}"
            else:
                requirements, install = p.base, "base"
            wanted_on_macos = [
                r for r in requirements
                if package_name(r.name) == name
                and (r.marker is None or r.marker.evaluate(_MACOS))
            ]
            if not wanted_on_macos:
                continue
            # A plain `uv sync` is affected by base sources and default groups' sources.
            plain = install == "base" or (source.group is not None and source.group in defaults)
            severity: Severity = (
                "error" if required else "warning" if mentioned or plain else "info"
            )
            yield Finding(
                "platform-gets-other-build", severity,
                Place(install=install, package=name, platform="macos-arm64",
                      table="tool.uv.sources"),
                f"{source.index_ref} ({variant}) has no macOS wheels, but its source for {name} "
                "has no marker and the project resolves for macOS",
                ("tool.uv.required-environments requires macOS, so uv lock fails"
                 if required else "installing it on macOS fails: no wheel for the platform")
                + ". Fix: add marker = \"sys_platform == 'linux' or sys_platform == 'win32'\" "
                "(or limit tool.uv.environments).",
            )
            break


def unsafe_to_make_explicit(p: Project, index: str) -> list[str]:
    """Torch-family direct requirements that no index source routes: with `index` not
    explicit they may come from it today, and from PyPI once it is explicit (so making it
    explicit changes their build; empty when the fix is safe)."""
    family = {TORCH} | {n for n, c in p.catalog.companions.items() if c.on_index}
    listed = _names(p.base) | {n for reqs in p.extras.values() for n in _names(reqs)} | {
        n for reqs in p.groups.values() for n in _names(reqs)
    }
    out: list[str] = []
    for name in sorted(listed & family):
        if not any(s.index_ref for s in p.sources(name)):
            out.append(name)
    return out


@rule("UT006", "index-not-explicit", "warning",
      "a PyTorch index without `explicit = true` serves every package")
def index_not_explicit(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds `[[tool.uv.index]]` entries for a PyTorch index without `explicit = true`.

    ## Why is this bad?
    A non-explicit index is searched before PyPI for every package (uv docs,
    concepts/indexes.md: "Pinning a package to an index"), so unrelated packages (jinja2,
    numpy, and other accelerators' torch) can resolve from download.pytorch.org, whose copies
    lag behind PyPI. The uv guide recommends `explicit = true`.

    ## Example
    ```toml
    [[tool.uv.index]]
    name = "pytorch-cu128"
    url = "https://download.pytorch.org/whl/cu128"
    ```

    ## Fix
    Add `explicit = true`. The fix is safe when every torch-family requirement has a source;
    it is unsafe when the index is the only home of a package that has none (a `torch` in
    another extra, `pytorch-triton`...): once explicit, that package comes from PyPI instead,
    another build.
    """
    p = ctx.project
    for name, index in p.indexes.items():
        if pytorch_variant(str(index.get("url", "")), p.catalog) and not index.get("explicit"):
            unsourced = unsafe_to_make_explicit(p, name)
            fix = (
                Fix(f"add explicit = true to the index {name}", "unsafe",
                    f"{', '.join(unsourced)} {'has' if len(unsourced) == 1 else 'have'} no "
                    f"source and may come from {name} today; once it is explicit uv takes "
                    "them from PyPI, another build")
                if unsourced else Fix(f"add explicit = true to the index {name}", "safe")
            )
            yield Finding(
                "index-not-explicit", "warning", Place(table="tool.uv.index"),
                f"the PyTorch index {name} is not explicit",
                "a PyTorch index that is not explicit is searched for every package, so "
                "unrelated packages (and other accelerators' torch) can resolve from it. "
                f"Fix: add explicit = true to the index {name}.",
                fix,
            )


def _declared_in(p: Project, name: str) -> str:
    """The install whose own requirements declare `name`: the base when it is there (every
    install includes the base), else the first extra or group. One mistake, one place."""
    if name in _names(p.base):
        return "base"
    for extra, reqs in p.extras.items():
        if name in _names(reqs):
            return f"extra:{extra_name(extra)}"
    for group, reqs in p.groups.items():
        if name in _names(reqs):
            return f"group:{extra_name(group)}"
    return "base"


def arrives_prebuilt(ctx: CheckContext, recipe: Any, name: str | None = None) -> bool:
    """Whether uv never builds the kernel's build package, so no build needs torch:
    - it is in `no-build-package` (or `no-build = true`): uv installs only wheels (uv docs,
      reference/settings.md#no-build-package);
    - every requirement of it is a `.whl` URL, or is sourced to an index that serves the
      kernel's wheels: a PyTorch index whose variant has them (the recipe's `pytorch-index`
      prebuilt), the recipe's own flat wheel page, or any index with a local-version pin
      (`==2.8.3+cu.13.0.torch.2.11`, `==0.21.7+torch2130cu132`: a build of one torch/CUDA
      pair, published as wheels; sdists carry no local version);
    - it comes from PyPI where PyPI ships its wheels for Linux x86_64 (the recipe's
      `pypi-wheels` prebuilt with `platforms`, read from PyPI's JSON API).
    """
    from uvtorch.model.project import ProjectModel
    from uvtorch.model.routing import _applicable

    p = ctx.project
    build = package_name(recipe.build_package if recipe is not None else name or "")
    no_build = {package_name(n) for n in p.uv.get("no-build-package", [])}
    if p.uv.get("no-build") is True or build in no_build or (
            recipe is not None and recipe.name in no_build):
        return True
    model = getattr(ctx.model, "project", None)
    if not isinstance(model, ProjectModel):
        return False
    reqs = [r for r in model.requirements() if r.name == build]
    if not reqs:
        return False
    indexes = {i.name: i for i in model.indexes}
    prebuilt = recipe.prebuilt if recipe is not None else ()
    pytorch_variants = {v for pre in prebuilt if pre.kind == "pytorch-index"
                        for v in pre.variants}
    flat_pages = tuple((pre.url or pre.url_template or "").split("{")[0].rstrip("/")
                       for pre in prebuilt if pre.kind == "flat-index")
    pypi_wheels = any(pre.kind == "pypi-wheels" and "linux-x86_64" in pre.platforms
                      for pre in prebuilt)

    def wheels(req: Any) -> bool:
        if req.url is not None:
            return bool(req.url.endswith(".whl"))
        local = any("+" in spec.version for spec in req.specifier if spec.operator == "==")
        sources = [s for s in model.sources_of(build) if _applicable(s, req)]
        for source in sources:
            if (source.url or "").endswith(".whl"):
                return True
            index = indexes.get(source.index or "")
            if index is None:
                continue
            variant = pytorch_variant(index.url, p.catalog)
            on_flat_page = any(page and index.url.startswith(page) for page in flat_pages)
            # A package the recipe does not know: any PyTorch index (wheels only there).
            if local or on_flat_page or (variant is not None and (
                    recipe is None or variant in pytorch_variants)):
                return True
        return not sources and pypi_wheels

    return all(wheels(r) for r in reqs)


@rule("UT014", "kernel-without-build-torch", "error",
      "a package that builds against torch gets no torch in its build")
def kernel_without_build_torch(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds packages whose build imports torch (flash-attn, grouped_gemm, torch-scatter...; the
    kernel recipes in uvtorch's data) with neither `extra-build-dependencies` matching the
    runtime torch nor a working two-stage `no-build-isolation-package` setup, and a project
    whose own `build-system.requires` lists torch.

    ## Why is this bad?
    uv builds each sdist in an isolated environment holding only its declared build
    requirements: the build finds no torch ("No module named 'torch'"), or PyPI's torch, not
    the one of the extra being synced, and the compiled kernel fails at import.

    `info` instead of `error` when the file shows a non-isolated install made outside it: a
    `[[tool.uv.dependency-metadata]]` entry for the kernel (the uv docs' recipe for locking a
    kernel that is then installed with `--no-build-isolation-package`), or no `[tool.uv]` and
    no uv.lock at all (nothing says the project is synced with uv's isolated builds).

    ## Example
    ```toml
    [project.optional-dependencies]
    cu128 = ["torch>=2.9", "flash-attn"]
    ```

    ## Fix
    Add `[tool.uv.extra-build-dependencies] flash-attn = [{ requirement = "torch",
    match-runtime = true }]` (`uvtorch init -k` writes the whole recipe).
    """
    from uvtorch.kernels import load_kernels

    p = ctx.project
    recipes = {
        n: r for n, r in load_kernels().recipes.items() if r.needs_torch and not r.torch_optional
    }
    listed = _names(p.base) | {n for r in p.extras.values() for n in _names(r)} | {
        n for r in p.groups.values() for n in _names(r)
    }
    matched = {
        package_name(k) for k, v in p.uv.get("extra-build-dependencies", {}).items()
        if any(isinstance(x, dict) and x.get("match-runtime") for x in v)
    }
    no_isolation = {package_name(n) for n in p.uv.get("no-build-isolation-package", [])}
    entries = p.uv.get("dependency-metadata", [])
    metadata = {package_name(str(m.get("name", ""))) for m in
                (entries if isinstance(entries, list) else []) if isinstance(m, dict)}
    tool = p.data.get("tool", {})
    uv_project = (isinstance(tool, dict) and "uv" in tool) or ctx.lock is not None
    base = _names(p.base)
    for name in sorted(listed):
        recipe = recipes.get(name)
        if recipe is None or recipe.build_package in matched or name in matched:
            continue
        if arrives_prebuilt(ctx, recipe):
            continue  # nothing is built, so no build needs torch
        if name in no_isolation and name not in base:
            continue  # a two-stage setup: torch first, the kernel in a later sync
        why = (
            f"{name} is in no-build-isolation-package but also a base dependency, so the first "
            "sync builds it before torch is installed"
            if name in no_isolation
            else f"{name}'s build imports torch, but nothing gives its isolated build the torch "
            "it will run with"
        )
        severity: Severity = "error"
        if name not in no_isolation:
            if name in metadata:
                # [[tool.uv.dependency-metadata]] lets uv lock without building the kernel:
                # the uv docs' recipe for a kernel installed without build isolation, the flag
                # given on the command line (docs/concepts/projects/config.md, "Disabling
                # build isolation"). Whether that step is written down is outside the file.
                severity = "info"
                why += (f"; its [[tool.uv.dependency-metadata]] says it is installed in a later "
                        "step with --no-build-isolation-package, which must then be documented")
            elif not uv_project:
                # No [tool.uv] and no uv.lock: nothing says it is installed with `uv sync`;
                # flash-attn's own instructions are `pip install flash-attn
                # --no-build-isolation` (Dao-AILab/flash-attention README).
                severity = "info"
                why += ("; the file has no [tool.uv] settings and no uv.lock, so it may well be "
                        "installed pip-style with --no-build-isolation")
        yield Finding(
            "kernel-without-build-torch", severity,
            Place(install=_declared_in(p, name), package=name,
                  table="tool.uv.extra-build-dependencies"),
            f"{name} builds against torch but its build gets none", why
            + f". Fix: add [tool.uv.extra-build-dependencies] {recipe.build_package} = "
            "[{ requirement = \"torch\", match-runtime = true }] (uvtorch init -k writes the "
            "whole recipe).",
        )
    own = _requirements(p.data.get("build-system", {}).get("requires", []))
    project = package_name(str(p.data.get("project", {}).get("name", "")))
    if TORCH in _names(own) and project not in matched and p.torch_sourced():
        yield Finding(
            "kernel-without-build-torch", "error",
            Place(package=project, table="build-system.requires"),
            "the project's own build requires torch",
            "in uv's isolated build that is PyPI's torch, not the one of the extra being "
            f"synced. Fix: add [tool.uv.extra-build-dependencies] {project} = "
            "[{ requirement = \"torch\", match-runtime = true }].",
        )


@rule("UT015", "no-build-for-accelerator", "error",
      "the torch spec admits no release that has this accelerator's build")
def no_build_for_accelerator(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds an extra whose torch specifier admits only releases for which PyTorch publishes no
    build of the extra's index (e.g. `torch>=2.4,<2.5` from the cu128 index).

    ## Why is this bad?
    The index has no matching torch, so `uv lock` fails with "No solution found", or, with a
    non-explicit index, falls through to another build.

    ## Example
    ```toml
    [project.optional-dependencies]
    cu128 = ["torch>=2.4,<2.5"]   # cu128 builds start at torch 2.7
    ```

    ## Fix
    Widen the torch spec to releases with that build (`uvtorch matrix` lists them), or use
    the index of a build those releases have.
    """
    p = ctx.project
    for source in p.sources(TORCH):
        variant = p.variant_of_index(source.index_ref)
        if (not variant or variant == DEFAULT_BUILD or not source.extra
                or "/nightly" in str(p.indexes[source.index_ref or ""].get("url", ""))):
            continue
        known = [r for r in p.catalog.releases if r.patches_with(variant)]
        if not known:
            continue
        for req in p.extras.get(source.extra, []):
            if package_name(req.name) != TORCH or not str(req.specifier):
                continue
            if not _source_reaches(ctx, source.extra, source.marker, req):
                continue  # the requirement's marker and the source's never hold together
            try:
                spec = SpecifierSet(str(req.specifier))
            except InvalidSpecifier:
                continue
            patches = [pt for r in p.catalog.releases for pt in r.patches if pt in spec]
            if patches and not any(pt in spec for r in known for pt in r.patches_with(variant)):
                yield Finding(
                    "no-build-for-accelerator", "error",
                    Place(install=extra_install(source.extra), package=TORCH,
                          table="project.optional-dependencies"),
                    f"torch{req.specifier} has no {variant} build",
                    f"{variant} exists for torch {known[0].minor} to {known[-1].minor}, so uv "
                    "finds no torch on that index. Fix: change the torch spec or the index of "
                    "that extra.",
                )


def _source_reaches(ctx: CheckContext, extra: str, source_marker: str | None,
                    req: Any) -> bool:
    """Whether an extra-scoped source applies to `req` on some target platform: uv combines
    the source's marker with the requirement's (crates/uv-distribution/src/metadata/
    lowering.rs), so `torch==2.7.1; platform_machine == 'aarch64'` next to a source gated
    `platform_machine != 'aarch64'` never reaches that index."""
    from uvtorch.model import Model
    from uvtorch.model.markers import holds
    from uvtorch.model.routing import platform_envs, python_env

    model = ctx.model
    if not isinstance(model, Model):
        return True
    active = frozenset({extra})
    for pid in model.predicted.platforms:
        env = python_env(model.project, platform_envs()[pid].env)
        if holds(req.marker, env, active) and holds(source_marker, env, active):
            return True
    return False


@rule("UT016", "nightly-without-triton-source", "error",
      "nightly torch from an explicit index whose triton is not sourced there")
def nightly_without_triton_source(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds nightly CUDA torch taken from an explicit nightly index while neither
    `pytorch-triton` nor `triton` is sourced to it.

    ## Why is this bad?
    Nightly CUDA torch requires a triton build that only the nightly index has; an explicit
    index serves only what is sourced to it, and PyPI's `pytorch-triton` is an empty
    placeholder while its `triton` releases do not match. uv cannot lock it, or walks every
    nightly looking for one that resolves.

    ## Example
    ```toml
    [tool.uv.sources]
    torch = [{ index = "pytorch-nightly-cu128", extra = "cu128" }]
    ```

    ## Fix
    List triton (`pytorch-triton` for nightlies before 2025-12) in the extra with a source on
    the nightly index.
    """
    p = ctx.project
    # Only an explicit index hides triton: a plain one is searched for every package anyway.
    nightly = [
        s for s in p.sources(TORCH)
        if "/nightly" in str(p.indexes.get(s.index_ref or "", {}).get("url", ""))
        and p.indexes.get(s.index_ref or "", {}).get("explicit")
        and (p.variant_of_index(s.index_ref) == DEFAULT_BUILD
             or p.catalog.family_of(p.variant_of_index(s.index_ref) or "") == "cuda")
    ]
    if nightly and not (p.sources("pytorch-triton") or p.sources("triton")):
        install = extra_install(nightly[0].extra) if nightly[0].extra else "base"
        yield Finding(
            "nightly-without-triton-source", "error",
            Place(install=install, package="pytorch-triton", table="tool.uv.sources"),
            "nightly CUDA torch comes from an explicit index, but triton has no source there",
            "nightly CUDA torch requires a triton build that only the nightly index has "
            "(PyPI's `pytorch-triton` is an empty placeholder, its `triton` releases do not "
            "match), so uv cannot lock it or loops over every nightly. Fix: list triton "
            "(pytorch-triton before 2025-12) in the extra with a source on the nightly index.",
        )


def _toml_list(names: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{n}"' for n in names) + "]"


@rule("UT017", "system-torch-not-excluded", "error",
      "a system-torch extra would still install torch from an index")
def system_torch_not_excluded(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    For a project that uses its environment's torch (`[tool.uvtorch] system`, e.g. in an
    NGC container), finds those packages missing from `[tool.uv] exclude-dependencies`
    (globally, or scoped to the system extra's packages).

    ## Why is this bad?
    uv resolves and installs every requirement it is not told to drop; the container's torch
    is then shadowed by one from an index, built for another CUDA.

    ## Example
    ```toml
    [tool.uvtorch]
    system = { torch = "2.5.0a0" }
    ```

    ## Fix
    Add the packages to `[tool.uv] exclude-dependencies` (safe fix; `check --fix` does).
    """
    p = ctx.project
    names = system_names(p)
    if not names:
        return
    excluded, scoped = exclusions(p.uv)
    if SYSTEM in p.extras:  # next to index extras: scoped to the system extra's packages
        for req in p.extras[SYSTEM]:
            missing = [n for n in names if n not in excluded
                       and n not in scoped.get(package_name(req.name), set())]
            if missing:
                entry = (f'{{ package = {{ name = "{req.name}" }}, dependencies = '
                         f'{_toml_list(missing)} }}')
                yield Finding(
                    "system-torch-not-excluded", "error",
                    Place(install=extra_install(SYSTEM), package=package_name(req.name),
                          table="tool.uv.exclude-dependencies"),
                    f"{req.name} in the system extra keeps its requirements on "
                    f"{', '.join(missing)}",
                    "uv may install them from an index instead of using the environment's. "
                    f"Fix: add {entry} to [tool.uv] exclude-dependencies.",
                    Fix(f"add {entry} to [tool.uv] exclude-dependencies", "safe"),
                )
        return
    for name in names:
        if name not in excluded:
            yield Finding(
                "system-torch-not-excluded", "error",
                Place(package=name, table="tool.uv.exclude-dependencies"),
                f"{name} should come from the environment ([tool.uvtorch] system) but is not "
                "excluded",
                "uv may resolve and install another one. Fix: add "
                f"\"{name}\" to [tool.uv] exclude-dependencies.",
                Fix(f"add \"{name}\" to [tool.uv] exclude-dependencies", "safe"),
            )
