"""Rules answered by the routing model (uvtorch.model): each is a question to the table of
installs x platforms, not a textual pattern. They replace the ported rules of the same code
(uvtorch.checks.rules) where the model covers them, so no name reports twice.

Every rule reads `ctx.model` (a `uvtorch.model.Model`); without one (a context built by hand)
they find nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from uvtorch.checks.registry import CheckContext, Finding, Fix, Place, Severity, rule
from uvtorch.names import package_name
from uvtorch.model import Model
from uvtorch.model.routing import (
    alias_closure,
    DEFAULT,
    ERROR,
    INDEX,
    NONE,
    PYPI,
    URL,
    TORCH,
    Cell,
    Install,
    Routing,
    conflicting,
    default_groups,
    in_conflict_set,
    index_build,
    installs as installs_of,
    own_pins,
    pypi_build,
)


def _model(ctx: CheckContext) -> Model | None:
    return ctx.model if isinstance(ctx.model, Model) else None


def _fixable(model: Model) -> bool:
    """No fix is offered while a value has the wrong type: an edit could not know the table."""
    return not model.project.problems and not model.project.lock_problems


def _members(model: Model) -> list[str]:
    p = model.project
    return [f"extra:{e}" for e in p.optional] + [f"group:{g}" for g in p.groups]


def accelerator_of(name: str, model: Model) -> str | None:
    """The accelerator an extra or group is named for: `cu128`, `rocm6.4`, `cpu`, `xpu`, or a
    family (`cuda`, `rocm`) for `gpu`/`cuda`-style names; None for other names."""
    catalog = model.catalog
    tokens = re.split(r"[-_.]", name.lower())
    joined = name.lower().replace("-", ".").replace("_", ".")
    for candidate in [name.lower(), *tokens, joined, *(
            re.sub(r"^(rocm)(\d+)\.?(\d*)$", r"\1\2.\3", t).rstrip(".") for t in tokens)]:
        family = catalog.family_of(candidate)
        if family is not None:
            return candidate
    for token in tokens:
        if token in ("cuda", "gpu", "nvidia") or re.fullmatch(r"cuda\d+", token):
            return "cuda"
        if token in ("rocm", "amd"):
            return "rocm"
    return None


def _family(accelerator: str, model: Model) -> str | None:
    return accelerator if accelerator in ("cuda", "rocm") else model.catalog.family_of(accelerator)


def _refused(inst: Install) -> bool:
    """Whether uv refuses the install for a default-group conflict that default-group-conflicts
    reports as an error (an extra): its routing is then moot. A group's conflict with a default
    alternative is selected with `--no-group <default>`, which installs what the table says."""
    return inst.error is not None and not inst.id.startswith("group:")


def _torch_installs(routing: Routing) -> Iterator[tuple[str, str, Cell]]:
    for inst in routing.installs:
        for pid in routing.platforms:
            cell = routing.cell(inst.id, pid)
            if cell.torch is not None:
                yield inst.id, pid, cell


@rule("UT023", "invalid-project-table", "error",
      "a pyproject.toml or uv.lock value of the wrong type or shape")
def invalid_project_table(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Reports every value in pyproject.toml (or uv.lock) whose type or shape uv would refuse or
    misread: `project = "x"`, `name = 5`, `sources = 5`, `conflicts = [1, 2]`,
    `cpu = "torch"` (read as nothing), an index without `url`, a source naming an index that is
    not declared, `package = "x"` in a lock.

    ## Why is this bad?
    uv refuses the file (`uv lock` fails with a TOML schema error) or, for `[tool.uv]`, only
    warns and ignores the whole table - then every source and index is silently dropped. No
    other check can be trusted on a table it cannot read.

    ## Example
    ```toml
    [project.optional-dependencies]
    cpu = "torch"          # a string, not a list
    ```

    ## Fix
    Write the value in the shape the message names (`cpu = ["torch"]`).
    """
    model = _model(ctx)
    if model is None:
        return
    for problem in model.project.problems:
        yield Finding("invalid-project-table", "error", Place(table=problem.table),
                      f"{problem.table} {problem.message}",
                      f"uv refuses or ignores this value. Fix: {problem.hint}.")
    for problem in model.project.lock_problems:
        yield Finding("invalid-project-table", "error", Place(table="uv.lock"),
                      f"{problem.table} {problem.message}",
                      f"the lock does not have uv's shape. Fix: {problem.hint}.")


@rule("UT001", "extras-without-conflicts", "error",
      "extras or groups route torch differently but are not in one conflict set", replace=True)
def extras_without_conflicts(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds pairs of extras (or groups) whose own torch requirements are routed differently - to
    different indexes, or one to an index and one to PyPI - while no `[tool.uv] conflicts` set
    holds both.

    ## Why is this bad?
    uv forks a resolution only on declared conflicts; extras outside every conflict set are
    resolved together with every install, so their index pins apply to all of them. Two pins
    for torch make `uv lock` fail ("Requirements contain conflicting indexes for package
    `torch`"); one pin silently gives the other extra (and a plain `uv sync`) that build
    (uv docs, guides/integration/pytorch.md, "Configuring accelerators with optional
    dependencies"; tests/test_model_uv.py shows both on the real uv).

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
    Add `conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]` to `[tool.uv]`.
    """
    model = _model(ctx)
    if model is None:
        return
    project, routing = model.project, model.predicted
    members = _members(model)
    pairs: list[tuple[str, str, str]] = []
    for i, a in enumerate(members):
        for b in members[i + 1:]:
            if conflicting(project, a, b):
                continue
            for pid in routing.platforms:
                pa, pb = own_pins(project, a, TORCH, pid), own_pins(project, b, TORCH, pid)
                if pa is None or pb is None or pa == pb:
                    continue
                # An unpinned extra follows whichever fork it is in; it breaks only when the
                # pinned one is in no conflict set, so its pin reaches every install.
                pinned = [m for m, pins in ((a, pa), (b, pb)) if pins]
                if len(pinned) == 2 or not in_conflict_set(project, pinned[0]):
                    pairs.append((a, b, pid))
                    break
    if not pairs:
        return
    involved = sorted({m for a, b, _ in pairs for m in (a, b)}, key=members.index)
    tables = ", ".join('{ %s = "%s" }' % tuple(m.split(":", 1)) for m in involved)
    listed = ", ".join(f"{a}/{b}" for a, b, _ in pairs)
    fix = None
    torch_extras = sorted({s.extra for s in project.sources_of(TORCH) if s.extra})
    if all(m.startswith("extra:") and m[6:] in torch_extras for m in involved) and _fixable(model):
        fix = Fix(f"add conflicts = [[{tables}]] to [tool.uv]", "safe")
    yield Finding(
        "extras-without-conflicts", "error",
        Place(install=pairs[0][1], package=TORCH, table="tool.uv.conflicts"),
        f"{listed} route torch differently (e.g. on {pairs[0][2]}) but are not declared as "
        "conflicting",
        "uv resolves extras outside a conflict set together, so `uv lock` fails on two index "
        "pins for torch or gives every install the one pinned build. "
        f"Fix: add conflicts = [[{tables}]] to [tool.uv].",
        fix,
    )


@rule("UT002", "accelerator-extra-without-source", "error",
      "an accelerator extra gets PyPI's torch: no source routes torch there", replace=True)
def accelerator_extra_without_source(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds an extra or group named for an accelerator (`cpu`, `cu128`, `rocm6-4`, `xpu`,
    `cuda`...) that lists torch, where no source routes that torch to a PyTorch index, so
    `uv sync --extra cu128` installs PyPI's torch - or, with non-explicit PyTorch indexes,
    looks it up on another accelerator's index (first-index). An extra named only for an
    accelerator that lists no torch at all (`rocm = ["amdsmi"]`) is a `warning`: it keeps the
    base's PyPI torch.

    ## Why is this bad?
    Without a source, torch resolves from PyPI (or the first non-explicit index): on Linux
    that is PyPI's one CUDA build, on Windows and macOS a CPU build, whatever the extra's name
    says. A source scoped to an extra applies only to requirements declared in that extra
    (crates/uv-distribution/src/metadata/lowering.rs).

    ## Example
    ```toml
    [project.optional-dependencies]
    cpu = ["torch>=2.8"]
    cu128 = ["torch>=2.8"]
    ```

    ## Fix
    Declare a PyTorch index per accelerator and route torch to it per extra, as in uv's
    PyTorch guide: `torch = [{ index = "pytorch-cpu", extra = "cpu" }, ...]`, with
    `conflicts` between the extras.
    """
    model = _model(ctx)
    if model is None:
        return
    routing = model.predicted
    for member in _members(model):
        name = member.split(":", 1)[1]
        accelerator = accelerator_of(name, model)
        if accelerator is None or _refused(routing.install(member)):
            continue
        if own_pins(model.project, member, TORCH, "linux-x86_64") is None and not any(
            own_pins(model.project, member, TORCH, pid) is not None for pid in routing.platforms
        ):
            yield from _accelerator_extra_without_torch(model, member, name, accelerator)
            continue  # the extra does not list torch itself
        family = _family(accelerator, model)
        # PyPI's build, or - with no source for the member's own torch - whatever the first
        # non-explicit index that has torch gives (first-index: uv looks no further,
        # docs/concepts/indexes.md "Searching across multiple indexes"), when that index is
        # another accelerator's: `cuda = ["torch==2.7.1+cu128"]` looked up on a cpu index.
        pypi = [pid for pid in routing.platforms
                if (b := routing.cell(member, pid).torch) is not None and (
                    b.kind == DEFAULT or b.kind in (INDEX, NONE) and b.source is None
                    and b.variant not in (None, "default") and family is not None
                    and model.catalog.family_of(b.variant) != family
                    and own_pins(model.project, member, TORCH, pid) == frozenset())]
        if not pypi or len(pypi) < len(routing.platforms) and "linux-x86_64" not in pypi:
            continue  # routed where it matters; other platforms are platform-gets-other-build
        severity: Severity = "error"
        torch = routing.cell(member, pypi[0]).torch
        build = torch.label if torch is not None else "PyPI's build"
        if torch is not None and torch.kind != DEFAULT:
            build = f"from the {torch.index} index ({torch.label})"
        builds = {routing.cell(member, pid).torch.label  # type: ignore[union-attr]
                  for pid in pypi}
        if family == "cuda" and accelerator in ("cuda",) and set(pypi) <= {
                "linux-x86_64", "linux-aarch64"}:
            severity = "info"  # a generic `cuda`/`gpu` extra on PyPI's Linux CUDA build
        elif all(f"({accelerator})" in b for b in builds):
            severity = "warning"  # PyPI's wheel happens to be this build wherever it is used
        yield Finding(
            "accelerator-extra-without-source", severity,
            Place(install=member, package=TORCH, platform=pypi[0], table="tool.uv.sources"),
            f"the {name} {member.split(':')[0]} is for {accelerator} but gets torch {build} on "
            f"{', '.join(pypi)}: no source routes its torch to a PyTorch index",
            "without a source torch resolves from PyPI, whose build depends on the platform "
            "(CUDA on Linux, CPU on Windows and macOS), not on the extra. Fix: add "
            f'{{ index = "pytorch-{name}", {member.split(":")[0]} = "{name}" }} to '
            "[tool.uv.sources] torch, with a [[tool.uv.index]] for it.",
        )


def _accelerator_extra_without_torch(model: Model, member: str, name: str,
                                     accelerator: str) -> Iterator[Finding]:
    """An extra named only for an accelerator (`rocm = ["amdsmi"]`) that lists no torch: its
    install keeps whatever torch the base brings - on Linux x86_64 PyPI's CUDA build - so
    `uv sync --extra rocm` is not a ROCm torch. A warning: the extra installs, with another
    build than its name says. Compound names (`onnx-cuda`) are about another package."""
    routing = model.predicted
    if member.startswith("extra:") and alias_closure(model.project, [name]) != {name}:
        return  # it turns on other extras: extra-alias-not-routed's question
    tokens = [t for t in re.split(r"[-_.]", name.lower()) if t]
    if not tokens or any(accelerator_of(t, model) is None and not t.isdigit() for t in tokens):
        return
    pid = "linux-x86_64"
    if pid not in routing.platforms:
        return
    torch = routing.cell(member, pid).torch
    if torch is None or torch.kind != DEFAULT:
        return
    build = pypi_build(model.catalog, torch.version, pid) or ""
    family = _family(accelerator, model)
    if family is None or model.catalog.family_of(build) == family or build == "":
        return
    kind = member.split(":")[0]
    yield Finding(
        "accelerator-extra-without-source", "warning",
        Place(install=member, package=TORCH, platform=pid, table="tool.uv.sources"),
        f"the {name} {kind} is for {accelerator} but lists no torch, so `uv sync --{kind} "
        f"{name}` keeps the base's torch {torch.label} on {pid}",
        "an extra only adds its own requirements; torch comes from where the base routes it "
        f"(here PyPI, a {build} build). Fix: list torch in {name} with a source to the "
        f"{accelerator} index, as the uv PyTorch guide's extras do.",
    )


_COMPANION_WHY = (
    "torch and its companions must come from the same build: a torchvision made for another "
    "torch fails at import (operator torchvision::nms does not exist) or pulls a second torch."
)


@rule("UT003", "companion-build-mismatch", "error",
      "torch and a companion come from different builds or indexes in one install",
      replace=True)
def companion_build_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds installs in which torch and a companion (torchvision, torchaudio, torchcodec,
    triton...) come from different indexes or builds on some platform - including a companion
    listed with no source while torch has one, or one that arrives through a dependent
    (`ultralytics` pulls torchvision) where no source can apply.

    ## Why is this bad?
    Sources apply only to direct requirements (crates/uv-distribution/src/metadata/
    lowering.rs); a companion resolved from PyPI is built for PyPI's torch. The install fails
    at import or replaces torch.

    ## Example
    ```toml
    [project.optional-dependencies]
    cu128 = ["torch>=2.9", "torchvision>=0.24"]

    [tool.uv.sources]
    torch = [{ index = "pytorch-cu128", extra = "cu128" }]
    ```

    ## Fix
    List the companion next to torch in every extra and give it the same sources as torch.
    """
    model = _model(ctx)
    if model is None:
        return
    seen: set[tuple[str, str]] = set()
    tables = [model.predicted] + ([model.routing] if model.routing.from_lock else [])
    for routing in tables:
        for install, pid, cell in _torch_installs(routing):
            for build in cell.mismatched():
                key = (install, build.package)
                if key in seen or install != "base" and (
                    ("base", build.package) in seen and _same_as_base(routing, install, pid)):
                    continue
                if _inherited(model, routing, install, pid, build.package, build.label):
                    continue
                seen.add(key)
                torch = cell.torch
                assert torch is not None
                via = f" (through {build.via})" if build.via else ""
                yield Finding(
                    "companion-build-mismatch", _mismatch_severity(build.package),
                    Place(install=install, package=build.package, platform=pid,
                          table="uv.lock" if routing.from_lock else "tool.uv.sources"),
                    f"in {install} on {pid}, torch is {torch.label} but {build.package}{via} "
                    f"is {build.label}",
                    f"{_COMPANION_WHY} Fix: list {build.package} in {install} next to torch "
                    "with the same sources as torch.",
                )


# PyPI's torchcodec is the CPU-decoding build and works next to any torch of its series
# (pytorch/torchcodec README.md, "Installing TorchCodec": `pip install torchcodec` for CPU,
# the PyTorch index for CUDA decoding): another build, not a broken install.
_WORKS_WITH_ANY_BUILD = frozenset({package_name("torchcodec")})


def _mismatch_severity(package: str) -> Severity:
    return "warning" if package in _WORKS_WITH_ANY_BUILD else "error"


def _inherited(model: Model, routing: Routing, install: str, pid: str, package: str,
               label: str) -> bool:
    """Whether `install` (an alias extra, `all = ["proj[dataset]"]`) only repeats the mismatch
    of an extra it turns on: the mistake is declared there and reported there, once."""
    if not install.startswith("extra:"):
        return False
    own = install.removeprefix("extra:")
    for other in sorted(alias_closure(model.project, [own]) - {own}):
        try:
            cell = routing.cell(f"extra:{other}", pid)
        except KeyError:
            continue
        if any(b.package == package and b.label == label for b in cell.mismatched()):
            return True
    return False


@rule("UT004", "base-install-pulls-pypi-torch", "error",
      "a plain `uv sync` installs PyPI's torch although extras route torch to an index",
      replace=True)
def base_install_pulls_pypi_torch(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds a plain `uv sync` / `uv run` that installs PyPI's torch - torch itself or a package
    that requires it (named) sits in the base dependencies - while the project's extras or
    groups route torch to a PyTorch index.

    ## Why is this bad?
    The extras' sources do not apply to the base requirement (an extra-scoped source applies
    only to requirements of that extra; lowering.rs), so the base install gets PyPI's torch: a
    multi-GB CUDA build on Linux, replaced again by `uv sync --extra ...`.

    ## Example
    ```toml
    [project]
    dependencies = ["ultralytics"]        # requires torch
    [project.optional-dependencies]
    cpu = ["torch"]
    ```

    ## Fix
    Move torch and its dependents into every accelerator extra (or into a default group with
    its own source).
    """
    model = _model(ctx)
    if model is None:
        return
    routing = model.predicted
    defaults = sorted(default_groups(model.project))
    # Judged where PyPI's torch hurts most (its multi-GB CUDA build on linux-x86_64): a base
    # install routed there but not elsewhere is platform gating, platform-gets-other-build's.
    judged = ["linux-x86_64"] if "linux-x86_64" in routing.platforms else list(routing.platforms)
    base_sourced = any(own_base_pins(model, pid) or any(
        own_pins(model.project, f"group:{g}", TORCH, pid) for g in defaults)
        for pid in judged)
    for pid in routing.platforms:
        base = routing.cell("base", pid).torch
        if base is None or base.kind not in (DEFAULT, ERROR):
            continue
        if base.via is None and base_sourced:
            continue  # the base requirement has its own source; a gap is UT005's question
        if base.kind == ERROR and base.via is None and "base" not in base.requirement_origins:
            continue  # torch is not a base requirement; the clash is the extras' (UT001)
        routed = [m for m in _members(model) if own_pins(model.project, m, TORCH, pid)]
        if not routed:
            continue
        what = f"{base.via} (in the base dependencies) requires torch" if base.via else \
            "torch is a base dependency"
        got = f"torch {base.label}" if base.kind == DEFAULT else "PyPI's torch (once the " \
            "extras are declared conflicting)"
        yield Finding(
            "base-install-pulls-pypi-torch", "error",
            Place(install="base", package=base.via or TORCH, platform=pid,
                  table="project.dependencies"),
            f"{what}, so a plain `uv sync` installs {got} on {pid}, while "
            f"{', '.join(routed)} route torch to a PyTorch index",
            "the extras' sources do not apply to base requirements. Fix: move torch and its "
            "dependents into every accelerator extra, or give the base requirement a source.",
        )
        return


def own_base_pins(model: Model, pid: str) -> frozenset[str]:
    """Sources that apply to the base requirement of torch on `pid`."""
    from uvtorch.model.markers import holds
    from uvtorch.model.routing import platform_envs, python_env

    p = model.project
    env = python_env(p, platform_envs()[pid].env)
    pins = set()
    for req in p.dependencies:
        if req.name != TORCH or not holds(req.marker, env, frozenset()):
            continue
        for s in p.sources_of(TORCH):
            if s.extra is None and s.group is None and holds(s.marker, env, frozenset()):
                pins.add(s.index or s.url or s.path or s.git or "?")
    return frozenset(pins)


def _left_out_on_purpose(project: object, install: str) -> bool:
    """Whether the platform falls outside the torch sources on purpose: a source sends it to
    PyPI by name, or every marker selects whole operating systems (`sys_platform == 'linux'`)
    and so leaves the others out knowingly. A `platform_machine` marker may miss Windows'
    'AMD64' by accident: that stays a warning (the corpus README's labelling rules)."""
    from uvtorch.model.project import ProjectModel

    assert isinstance(project, ProjectModel)
    pypi_indexes = {i.name for i in project.indexes if "pypi.org" in i.url}
    sources = [s for s in project.sources_of(TORCH)
               if (s.extra is None or install == f"extra:{s.extra}")
               and (s.group is None or install == f"group:{s.group}")]
    if any(s.index in pypi_indexes for s in sources):
        return True  # a source of its own sends some platforms to PyPI
    markers = [str(s.marker) for s in sources if s.marker is not None]
    return bool(markers) and not any("platform_machine" in m for m in markers)


def _own_clash(project: object, install: str, pid: str) -> bool:
    """Whether one requirement of `install`'s own extra or group is pinned on `pid` by its own
    scoped source and by an unscoped one at once (not the clash of two extras sharing a
    fork, which is extras-without-conflicts')."""
    from uvtorch.model.markers import holds
    from uvtorch.model.project import ProjectModel
    from uvtorch.model.routing import _applicable, _holds_for, platform_envs, python_env

    assert isinstance(project, ProjectModel)
    kind, _, name = install.partition(":")
    if kind not in ("extra", "group"):
        return False
    env = python_env(project, platform_envs()[pid].env)
    active = frozenset({name} if kind == "extra" else set())
    for req in (project.optional if kind == "extra" else project.groups).get(name, ()):
        if req.name != TORCH or not _holds_for(req, env, active):
            continue
        hits = [s for s in project.sources_of(TORCH) if s.index is not None
                and _applicable(s, req) and holds(s.marker, env, active)]
        unscoped = {s.index for s in hits if s.extra is None and s.group is None}
        scoped = {s.index for s in hits if s.extra is not None or s.group is not None}
        if unscoped and scoped and unscoped != scoped:
            return True
    return False


def _platform_only_packages(model: Model) -> Iterator[Finding]:
    """A requirement of a package that has wheels only for some platforms (routing.toml
    `platform_only`: triton-windows) with no marker keeping it there, in an extra or group
    whose other requirements do install on a target platform: `uv sync` fails there ("no
    wheel for the current platform"). An error on linux-x86_64, where the checker judges an
    install first; a warning elsewhere. A member holding nothing but such packages is
    platform-specific on purpose and is left alone."""
    from uvtorch.model.routing import _holds_for, platform_envs, platform_only, python_env

    only = platform_only()
    p = model.project
    for member in _members(model):
        kind, _, name = member.partition(":")
        reqs = (p.optional if kind == "extra" else p.groups).get(name, ())
        if not reqs or all(r.name in only for r in reqs):
            continue
        extras = frozenset({name} if kind == "extra" else set())
        for req in reqs:
            if req.name not in only:
                continue
            for pid in model.predicted.platforms:
                if pid in only[req.name]:
                    continue
                env = python_env(p, platform_envs()[pid].env)
                if not _holds_for(req, env, extras):
                    continue
                yield Finding(
                    "platform-gets-other-build",
                    "error" if pid == "linux-x86_64" else "warning",
                    Place(install=member, package=req.name, platform=pid,
                          table="project.optional-dependencies" if kind == "extra"
                          else "dependency-groups"),
                    f"`uv sync --{kind} {name}` fails on {pid}: {req.name} has wheels only for "
                    f"{', '.join(sorted(only[req.name]))} and no sdist",
                    f"uv locks it without a wheel for {pid} (wheels are required only for "
                    "required-environments), so the install stops there. Fix: add a marker, "
                    f"e.g. \"{req.name}; sys_platform == 'win32'\".",
                )
                break  # one platform says it


def _scoped_elsewhere(project: object, build: object, install: str) -> bool:
    """Whether `install`'s torch comes from a source scoped to another extra or group: the
    install only shares that member's fork (an unconflicted member's pins reach every fork,
    fork_members; uv 0.13.9 locks a plain `uv sync` to the extra's build), and the mistake is
    declared - and reported, once - at the member."""
    from uvtorch.model.project import ProjectModel
    from uvtorch.model.routing import Build

    assert isinstance(project, ProjectModel)
    if not isinstance(build, Build) or build.source is None:
        return False
    return any(s.table == build.source and (s.extra or s.group) and install not in (
        f"extra:{s.extra}", f"group:{s.group}") for s in project.sources_of(TORCH))


# What names a platform in a marker: its sys_platform / platform_system / platform_machine
# values (routing.toml). Linux x86_64 is every file's first platform and names nothing.
_PLATFORM_WORDS = {
    "linux-aarch64": ("aarch64",),
    "windows-x86_64": ("win32", "windows", "amd64"),
    "macos-arm64": ("darwin",),
    "macos-x86_64": ("darwin",),
}


_MEMBER_WORDS = {
    "macos-arm64": ("mps", "macos", "mac", "darwin", "apple"),
    "macos-x86_64": ("macos", "mac", "darwin"),
}


def _platform_named(project: object, pid: str) -> bool:
    """Whether some requirement or source marker of the file names `pid`'s platform
    (`sys_platform != 'darwin'` for another package): the file then says the platform
    matters, as `environments` would (the corpus README's labelling rules)."""
    from uvtorch.model.project import ProjectModel

    assert isinstance(project, ProjectModel)
    words = _PLATFORM_WORDS.get(pid, ())
    if not words:
        return False
    markers = [str(r.marker) for r in project.requirements() if r.marker is not None]
    markers += [str(s.marker) for ss in project.sources.values() for s in ss
                if s.marker is not None]
    if any(f"'{w}'" in m.lower() or f'"{w}"' in m.lower() for m in markers for w in words):
        return True
    # An extra or group named for the platform's own accelerator (`mps`, `macos`).
    names = _MEMBER_WORDS.get(pid, ())
    return any(token in names for member in [*project.optional, *project.groups]
               for token in re.split(r"[-_.]", member.lower()))


def _gated_off_by_requirement(project: object, install: str, pid: str) -> bool:
    """Whether the routed torch requirements of `install`'s fork leave `pid` out by their own
    markers (`torch; sys_platform == 'linux' and platform_machine == 'x86_64'` in a `cuda`
    extra): a source applies only where its requirement's marker holds (lowering.rs combines
    the two), and a requirement marker that names the platform leaves it out knowingly. Not for
    Windows when the marker only misses it through `platform_machine == 'x86_64'` (Windows
    reports 'AMD64'): that is the usual slip, so it stays a warning."""
    from uvtorch.model.markers import holds
    from uvtorch.model.project import ProjectModel
    from uvtorch.model.routing import (
        _applicable, _holds_for, _requirements_of, fork_members, platform_envs, python_env)

    assert isinstance(project, ProjectModel)
    inst = next(i for i in installs_of(project) if i.id == install)
    env = python_env(project, platform_envs()[pid].env)
    amd64_as_x86 = dict(env, platform_machine="x86_64") if pid.startswith("windows") else None
    gated = False
    for req in _requirements_of(project, fork_members(project, inst)):
        if req.name != TORCH or req.marker is None or _holds_for(req, env, inst.extras):
            continue
        active = inst.extras | ({req.origin[6:]} if req.origin.startswith("extra:") else set())
        if not any(_applicable(s, req) and s.index is not None
                   and holds(s.marker, env, frozenset(active)) for s in project.sources_of(TORCH)):
            continue
        if amd64_as_x86 is not None and _holds_for(req, amd64_as_x86, inst.extras):
            return False  # only 'AMD64' vs 'x86_64' keeps Windows out
        gated = True
    return gated


def _beyond_torch_support(model: Model, install: str, pid: str) -> bool:
    """Whether `pid` is a platform PyTorch stopped building for (routing.toml `last_torch`:
    macOS x86_64 after 2.2.2, pytorch/pytorch#114602) and the torch requirements `install`
    has there admit later releases. uv picks the newest admitted torch and does not look at
    wheel tags unless `required-environments` says so (docs/concepts/projects/config.md,
    "Required environments"), so no index has a wheel there, PyPI included: PyTorch's end
    of the platform, not a routing mistake of the file. An `environments` marker such as
    `sys_platform == 'darwin'` admits the platform without saying it matters."""
    from packaging.specifiers import SpecifierSet

    from uvtorch.model.routing import active_requirements, platform_envs, python_env

    project = model.project
    last = platform_envs()[pid].last_torch
    if last is None or pid in model.predicted.required_platforms:
        return False
    inst = next(i for i in installs_of(project) if i.id == install)
    env = python_env(project, platform_envs()[pid].env)
    reqs = [r for r in active_requirements(project, inst, env) if r.name == TORCH]
    newer = [v for r in model.catalog.releases for v in r.patches if v > last]

    def admits_newer(spec: SpecifierSet) -> bool:
        # a local pin (`==2.7.1+cpu`) is judged by its release
        plain = SpecifierSet(",".join(f"{s.operator}{s.version.split('+')[0]}" for s in spec))
        return any(plain.contains(v, prereleases=True) for v in newer)

    return bool(reqs) and all(admits_newer(r.specifier) for r in reqs)


def _amd64_note(project: object, pid: str) -> str:
    from uvtorch.model.project import ProjectModel

    assert isinstance(project, ProjectModel)
    machine = any("platform_machine" in str(s.marker) for s in project.sources_of(TORCH))
    return " (Windows reports platform_machine 'AMD64', not 'x86_64')" if (
        machine and pid.startswith("windows")) else ""


def _same_as_base(routing: Routing, install: str, pid: str) -> bool:
    base, cell = routing.cell("base", pid), routing.cell(install, pid)
    return base.torch is not None and cell.torch is not None and \
        base.torch.label == cell.torch.label and base.torch.reason == cell.torch.reason


def _index_of(routing: Routing, install: str) -> tuple[str, str] | None:
    """Where torch comes from in `install` on some platform: a PyTorch index (its name and
    variant), or a direct URL (`url`, the URL); None when nowhere routed."""
    for pid in routing.platforms:
        t = routing.cell(install, pid).torch
        if t is not None and t.kind == INDEX and t.variant and t.index:
            return t.index, t.variant
    for pid in routing.platforms:
        t = routing.cell(install, pid).torch
        if t is not None and t.kind == URL:
            return "url", t.label
        if t is not None and t.kind == NONE and t.source is not None:
            return "url", t.label
    return None


@rule("UT005", "platform-gets-other-build", "warning",
      "on a target platform an accelerator install gets PyPI's build or no wheel", replace=True)
def platform_gets_other_build(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds, for each install that takes torch from a PyTorch index, the target platforms where
    it silently gets PyPI's build (a source marker that misses the platform: Windows reports
    `platform_machine == 'AMD64'`, not `x86_64`) or no wheel at all (a CUDA index on macOS,
    ROCm outside Linux x86_64, XPU outside Linux and Windows, a wheel URL for one platform,
    a `+cpu`/`+cu128` pin that excludes macOS).

    ## Why is this bad?
    uv locks for every platform `tool.uv.environments` admits (all, by default); an install
    without a wheel fails there at `uv sync`, one with PyPI's build runs on another
    accelerator without saying so. The uv guide's own examples leave macOS without a CUDA
    wheel: that alone is `info`; it is a `warning` when the file says the platform matters
    (`environments`, a marker naming it elsewhere, an `mps` extra) or the platform gets another
    build, and an `error` for a `required-environments` platform. A platform the torch
    requirement's own marker leaves out is `info`; macOS x86_64, which no torch after 2.2.2
    has, is not reported. Also an `error`: two sources meeting on some platforms only (an
    unscoped marker-gated source and an extra's own: `uv lock` fails there), and a package with
    wheels for one platform only (`triton-windows`) without a marker, next to requirements
    that install elsewhere.

    ## Example
    ```toml
    [tool.uv.sources]
    torch = [{ index = "pytorch-cu128", marker = "platform_machine == 'x86_64'" }]
    ```

    ## Fix
    Gate the source for the platforms the index has wheels for (`sys_platform == 'linux' or
    sys_platform == 'win32'`), or limit `tool.uv.environments`.
    """
    model = _model(ctx)
    if model is None:
        return
    routing = model.predicted
    project = model.project
    yield from _platform_only_packages(model)
    for inst in routing.installs:
        if _refused(inst):
            continue
        cells = {pid: routing.cell(inst.id, pid).torch for pid in routing.platforms}
        clashes = [pid for pid, b in cells.items() if b is not None and b.kind == ERROR
                   and "pinned to" in (b.reason or "") and _own_clash(project, inst.id, pid)]
        if clashes and len(clashes) < len(routing.platforms):
            # The member's own torch pinned twice on some platforms: an unscoped,
            # marker-gated source overlapping the member's own (uv 0.13.9: "conflicting
            # indexes for package `torch` in split `sys_platform == 'darwin'`",
            # tests/test_model_uv.py), whether or not the extras also clash elsewhere.
            build = cells[clashes[0]]
            assert build is not None
            yield Finding(
                "platform-gets-other-build", "error",
                Place(install=inst.id, package=TORCH, platform=clashes[0],
                      table="tool.uv.sources"),
                f"{inst.command}: on {', '.join(clashes)} {build.reason}",
                "uv lowers a requirement once per source whose marker holds, so two sources "
                "meet there and `uv lock` fails. Fix: give the unscoped source a marker that "
                "leaves this extra out, or scope it to the extras it is for.",
            )
        home = _index_of(routing, inst.id)
        if home is None:
            continue
        index_name, variant = home
        nones = [pid for pid, b in cells.items() if b is not None and b.kind == NONE]
        for pid, build in cells.items():
            if build is None or build.kind in (INDEX, ERROR, URL):
                continue
            if _scoped_elsewhere(project, build, inst.id):
                continue  # an unconflicted member's pin, reported where it is declared
            if inst.id != "base" and _same_as_base(routing, inst.id, pid) and \
                    _index_of(routing, "base") is not None and \
                    not _scoped_elsewhere(project, routing.cell("base", pid).torch, "base"):
                continue  # the base install's finding says it
            if build.kind == DEFAULT:
                if index_name == "url":
                    continue
                would = index_build(project, model.catalog, index_name, pid)
                if would is None or would.kind != INDEX:
                    continue  # the index has no wheel there: PyPI's build is the intended fallback
                pypi = pypi_build(model.catalog, build.version, pid) or ""
                if model.catalog.family_of(pypi) == model.catalog.family_of(variant):
                    continue  # PyPI's build there is of the same kind (CUDA on Linux aarch64)
                yield Finding(
                    "platform-gets-other-build",
                    "info" if _left_out_on_purpose(project, inst.id)
                    or _gated_off_by_requirement(project, inst.id, pid) else "warning",
                    Place(install=inst.id, package=TORCH, platform=pid, table="tool.uv.sources"),
                    f"{inst.command} gets torch {build.label} on {pid}, not the {variant} build "
                    f"it gets elsewhere: no source marker holds there",
                    f"the {index_name} index has {pid} wheels, but no source's marker holds on "
                    f"{pid}{_amd64_note(project, pid)}, so it gets PyPI's {pypi} build. Fix: "
                    "write the marker with sys_platform, or include the platform.",
                )
            elif build.kind == NONE:
                if len(nones) == len(routing.platforms):
                    continue  # nothing installs anywhere: nonexistent-version's question
                if _beyond_torch_support(model, inst.id, pid):
                    continue  # no torch the install admits was ever built for pid, anywhere
                # info unless the file says the platform matters: tool.uv.environments names
                # it (warning) or required-environments does (error). The uv guide's own
                # examples leave macOS (and Linux aarch64) without their index's wheel.
                severity: Severity = "info" if project.environments is None and not \
                    _platform_named(project, pid) else "warning"
                if pid in routing.required_platforms:
                    severity = "error"
                elif build.index == PYPI:
                    continue  # PyPI's own end of a platform (macOS x86_64 after 2.2), not routing
                yield Finding(
                    "platform-gets-other-build", severity,
                    Place(install=inst.id, package=TORCH, platform=pid, table="tool.uv.sources"),
                    f"{inst.command} has no torch wheel on {pid}: {build.reason or build.label}",
                    f"uv locks for {pid}, but the routed build has no wheel there, so "
                    f"`{inst.command}` fails on it. Fix: add a marker to the source so {pid} "
                    "uses another index (or PyPI), or leave the platform out of "
                    "tool.uv.environments.",
                )


@rule("UT007", "inert-source", "warning", "a source that applies to nothing", replace=True)
def inert_source(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds `[tool.uv.sources]` entries for a package that is not a direct requirement of the
    extra, group or base install they are scoped to, or scoped to an extra or group that does
    not exist.

    ## Why is this bad?
    uv applies sources only to the project's direct requirements, and an extra- or
    group-scoped source only to requirements declared there
    (crates/uv-distribution/src/metadata/lowering.rs). The source does nothing: the package
    still comes from PyPI, usually built for another torch.

    ## Example
    ```toml
    [project.optional-dependencies]
    cu128 = ["torch>=2.9"]          # torchvision arrives through another package

    [tool.uv.sources]
    torchvision = [{ index = "pytorch-cu128", extra = "cu128" }]
    ```

    ## Fix
    List the package in that extra (or group) next to torch, or remove the source.
    """
    model = _model(ctx)
    if model is None:
        return
    p = model.project
    tool = p.raw.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    workspace = uv.get("workspace") if isinstance(uv, dict) else None
    members = workspace.get("members") if isinstance(workspace, dict) else None
    for name, sources in p.sources.items():
        for s in sources:
            if s.kind == "workspace":
                continue
            if s.extra is not None:
                if s.extra not in p.optional:
                    problem = f"is scoped to the extra {s.extra}, which does not exist"
                elif not any(r.name == name for r in p.optional[s.extra]):
                    problem = f"is scoped to the extra {s.extra}, which does not list {name}"
                else:
                    continue
                install = f"extra:{s.extra}"
            elif s.group is not None:
                if s.group not in p.groups:
                    problem = f"is scoped to the group {s.group}, which does not exist"
                elif not any(r.name == name for r in p.groups[s.group]):
                    problem = f"is scoped to the group {s.group}, which does not list {name}"
                else:
                    continue
                install = f"group:{s.group}"
            else:
                if any(r.name == name for r in (*p.requirements(), *p.build_requires)):
                    continue
                if members:
                    # "Any tool.uv.sources definitions in the workspace root apply to all
                    # members" (docs/concepts/projects/workspaces.md): a member may list it.
                    continue
                problem = f"is for {name}, which is no direct requirement of the project"
                install = None
            yield Finding(
                "inert-source", "warning",
                Place(install=install, package=name, table=s.table),
                f"the source {s.table} {problem}, so it applies to nothing",
                "uv applies sources only to the project's direct requirements, scoped ones "
                f"only to requirements of that extra or group. Fix: list {name} there, or "
                "remove the source.",
            )


@rule("UT008", "extra-alias-not-routed", "error",
      "an alias extra or an `extra ==` marker that uv does not route", replace=True)
def extra_alias_not_routed(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds extras that turn on other extras of the project (`gpu = ["pkg[cu130]"]`) whose
    torch-family packages are routed by `extra = ...` sources, and sources that use
    `marker = "extra == 'x'"` instead of `extra = "x"`.

    ## Why is this bad?
    uv applies an extra-scoped source when that extra is requested; through the alias the
    requirement arrives unrouted, and `uv sync --extra gpu` installs PyPI's torch (checked
    with uv 0.13.9 on the fake index, tests/test_model_uv.py). A marker on `extra` does not scope a source the way `extra = "x"` does: the source is not
    tied to the extra's conflict fork (docs/concepts/projects/dependencies.md, "Sources";
    docs/concepts/projects/config.md, "Conflicting dependencies").

    ## Example
    ```toml
    [project.optional-dependencies]
    cu130 = ["torch>=2.9"]
    gpu = ["myproject[cu130]"]
    ```

    ## Fix
    Tell users to request the real extra (or list torch in the alias with its own sources);
    write `extra = "x"` in sources.
    """
    model = _model(ctx)
    if model is None:
        return
    p = model.project
    from uvtorch.model.routing import alias_closure

    # A source to PyPI itself routes nowhere else: unrouted, the alias gets the same build.
    pypi_indexes = {i.name for i in p.indexes if "pypi.org" in i.url}
    for extra in p.optional:
        enabled = alias_closure(p, [extra]) - {extra}
        routed = sorted({(e, s.package) for e in enabled for name in p.sources
                         for s in p.sources[name] if s.extra == e
                         and s.index not in pypi_indexes
                         and any(r.name == s.package for r in p.optional.get(e, ()))})
        # Only where the alias really gets another build than the extra it names: an alias
        # that lists the package itself with its own source, or whose target is in no
        # conflict set (its pins then reach every fork, fork_members), is routed the same -
        # on uv 0.13.9 an unconflicted `cuda = ["demo[sglang]", "torch"]` with sources for
        # both extras locks torch +cu128 for both (tests/test_check.py).
        routed = [(e, name) for e, name in routed
                  if _differs(model.predicted, f"extra:{extra}", f"extra:{e}", name)]
        if not routed:
            continue
        target, package = routed[0]
        yield Finding(
            "extra-alias-not-routed", "error",
            Place(install=f"extra:{extra}", package=package,
                  table="project.optional-dependencies"),
            f"the extra {extra} only turns on {target} through a self-reference, so "
            f"`uv sync --extra {extra}` does not get {target}'s routed {package}: uv resolves it "
            "from PyPI",
            f"sources scoped with extra = \"{target}\" apply when {target} itself is requested; "
            "through an alias uv installs the requirement unrouted (seen with uv 0.13.9 on "
            f"tests/test_model_uv.py's `alias` project). Fix: list {package} in {extra} with "
            f"its own sources, or tell users to request --extra {target}.",
        )
    for name, sources in p.sources.items():
        for s in sources:
            if s.marker is not None and s.extra is None and "extra" in str(s.marker):
                yield Finding(
                    "extra-alias-not-routed", "warning",
                    Place(package=name, table=s.table),
                    f"the source {s.table} selects an extra with marker = \"{s.marker}\"",
                    "a marker on `extra` does not scope a source to the extra's conflict fork "
                    'as `extra = "..."` does. Fix: write extra = "..." in the source.',
                )


@rule("UT009", "inert-build-setting", "warning", "a build setting that does nothing",
      replace=True)
def inert_build_setting(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds `extra-build-dependencies` / `extra-build-variables` for a package listed in
    `no-build-isolation-package` (or with `no-build-isolation = true`), or for a package that
    arrives only as a prebuilt wheel (a `.whl` URL source).

    ## Why is this bad?
    `extra-build-dependencies` add to the isolated build environment; with build isolation
    off there is none, and a wheel is never built (uv docs, concepts/projects/config.md,
    "Augmenting build dependencies"). The setting suggests a guarantee that does not hold.

    ## Example
    ```toml
    [tool.uv]
    no-build-isolation-package = ["flash-attn"]

    [tool.uv.extra-build-dependencies]
    flash-attn = [{ requirement = "torch", match-runtime = true }]
    ```

    ## Fix
    Keep one of the two mechanisms: remove the package from `no-build-isolation-package`, or
    drop the extra build dependencies.
    """
    model = _model(ctx)
    if model is None:
        return
    from uvtorch.checks.rules import arrives_prebuilt

    p = model.project
    reported: set[str] = set()
    for key, settings in (("extra-build-dependencies", p.extra_build_dependencies),
                          ("extra-build-variables", p.extra_build_variables)):
        for name in settings:
            if name in reported:
                continue  # one package, one mistake: both of its settings do nothing
            if p.no_build_isolation or name in p.no_build_isolation_package:
                why = "build isolation is off for it (no-build-isolation-package)"
            elif _only_wheels(p, name):
                why = "every requirement of it is sourced to a prebuilt wheel (a .whl URL)"
            elif arrives_prebuilt(ctx, None, name):
                why = ("it arrives only as prebuilt wheels (no-build-package, or sourced to an "
                       "index that serves its wheels)")
            else:
                continue
            reported.add(name)
            both = name in p.extra_build_dependencies and name in p.extra_build_variables
            settings_text = ("tool.uv.extra-build-dependencies and extra-build-variables"
                             if both else f"tool.uv.{key}")
            yield Finding(
                "inert-build-setting", "warning",
                Place(package=name, table=f"tool.uv.{key}"),
                f"{settings_text} for {name} do nothing: {why}",
                "extra build dependencies and variables apply only to isolated builds. Fix: "
                "keep one mechanism.",
            )


@rule("UT010", "unused-index", "info", "a declared explicit index nothing is sourced to",
      replace=True)
def unused_index(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds an explicit `[[tool.uv.index]]` that no source names.

    ## Why is this bad?
    An explicit index serves only packages sourced to it (uv docs, concepts/indexes.md), so
    this one is never read: often a sign that a source was meant to use it and has a typo.

    ## Example
    ```toml
    [[tool.uv.index]]
    name = "pytorch-cu126"
    url = "https://download.pytorch.org/whl/cu126"
    explicit = true
    ```

    ## Fix
    Source the packages meant to come from it, or remove the index.
    """
    model = _model(ctx)
    if model is None:
        return
    p = model.project
    used = {s.index for sources in p.sources.values() for s in sources if s.index}
    for index in p.indexes:
        if index.explicit and index.name not in used:
            yield Finding(
                "unused-index", "info", Place(table=index.table),
                f"the explicit index {index.name} is named by no source, so uv never reads it",
                "explicit indexes serve only packages sourced to them. Fix: source the "
                "packages meant for it, or remove it.",
            )


def _only_wheels(p: object, name: str) -> bool:
    """Whether every requirement of `name` gets a `.whl` URL source (nothing is ever built)."""
    from uvtorch.model.project import ProjectModel
    from uvtorch.model.routing import _applicable

    assert isinstance(p, ProjectModel)
    reqs = [r for r in p.requirements() if r.name == name]
    return bool(reqs) and all(
        r.url is not None and r.url.endswith(".whl") or any(
            _applicable(s, r) and (s.url or "").endswith(".whl") for s in p.sources_of(name))
        for r in reqs)


def _differs(routing: Routing, install: str, other: str, package: str) -> bool:
    """Whether `package` is built differently in `install` than in `other` on some platform."""
    name = package_name(package)
    for pid in routing.platforms:
        a = routing.cell(install, pid).builds.get(name)
        b = routing.cell(other, pid).builds.get(name)
        if b is not None and (a is None or (a.route, a.version) != (b.route, b.version)):
            return True
    return False


def _looks_like_find_links(url: str) -> bool:
    path = url.lower().split("?")[0].rstrip("/")
    return path.endswith((".html", ".htm")) or "find-links" in path or "torch_stable" in path


@rule("UT011", "risky-resolution-setting", "warning",
      "a project-wide resolver setting that can pick the wrong build", replace=True)
def risky_resolution_setting(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds `prerelease = "allow"`, a non-explicit third-party index combined with
    `index-strategy = "unsafe-best-match"`, and a find-links HTML page declared as a Simple
    index (no `format = "flat"`).

    ## Why is this bad?
    `prerelease = "allow"` lets any package resolve to a pre-release, torch included;
    `unsafe-best-match` takes the best version across all indexes, so a mirror or PyTorch
    index can win over PyPI for unrelated packages (uv docs, reference/settings.md,
    `index-strategy`); a find-links page read as a Simple index finds nothing
    (docs/concepts/indexes.md, "Flat indexes").

    ## Example
    ```toml
    [tool.uv]
    index-strategy = "unsafe-best-match"

    [[tool.uv.index]]
    url = "https://download.pytorch.org/whl/cu128"
    ```

    ## Fix
    Drop the setting, make the index explicit, or declare the page with `format = "flat"`.
    """
    model = _model(ctx)
    if model is None:
        return
    p = model.project
    if p.prerelease == "allow":
        yield Finding(
            "risky-resolution-setting", "warning", Place(table="tool.uv.prerelease"),
            'prerelease = "allow" lets every package, torch included, resolve to a pre-release',
            'uv then prefers pre-releases wherever they are newest. Fix: use "if-necessary" '
            "or pin the one package that needs a pre-release.",
        )
    if p.index_strategy == "unsafe-best-match":
        # PyPI declared as an index is not third-party: best match between PyPI and PyPI (the
        # default) picks what first-index would.
        plain = [i for i in p.indexes if not i.explicit and not i.default
                 and "pypi.org" not in i.url.lower()]
        if plain:
            yield Finding(
                "risky-resolution-setting", "warning", Place(table="tool.uv.index-strategy"),
                f'index-strategy = "unsafe-best-match" with the non-explicit index '
                f"{plain[0].name or plain[0].url}: every package takes the best version across "
                "all indexes",
                "a third-party or PyTorch index can then serve unrelated packages. Fix: make "
                "the index explicit and source the packages meant for it.",
            )
    for index in p.indexes:
        if index.format != "flat" and _looks_like_find_links(index.url):
            yield Finding(
                "risky-resolution-setting", "warning", Place(table=index.table),
                f"{index.url} is a find-links page but is declared as a Simple index",
                'uv reads a Simple index as <url>/<package>/, which such a page does not have. '
                'Fix: add format = "flat" to the index.',
            )


@rule("UT012", "nonexistent-version", "error", "a version no index has", replace=True)
def nonexistent_version(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds torch requirements that no index can satisfy on any platform: a local version that
    does not exist (`+rocm` instead of `+rocm6.4`), a `requires-python` below what every
    admitted torch release supports, or a nightly's triton sourced under the name its torch no
    longer requires (`pytorch-triton` where nightly CUDA torch now requires `triton`).

    ## Why is this bad?
    `uv lock` fails ("No solution found"), or for requires-python picks nothing that installs
    on the lowest Python the project admits.

    ## Example
    ```toml
    [project]
    requires-python = ">=3.9"
    dependencies = ["torch>=2.9"]     # torch 2.9 needs Python 3.10
    ```

    ## Fix
    Fix the pin (`+rocm6.4`), or raise `requires-python` to what the torch release supports.
    """
    model = _model(ctx)
    if model is None:
        return
    routing = model.predicted
    for inst in routing.installs:
        builds = [routing.cell(inst.id, pid).torch for pid in routing.platforms]
        torch = [b for b in builds if b is not None]
        if torch and all(b.kind == NONE and b.label.startswith("no such version")
                         or (b.reason or "").startswith("torch") and "requires-python" in
                         (b.reason or "") for b in torch):
            if _on_another_index(model, inst.id, [b for b in torch if b.source is None]):
                continue  # it exists, on an index nothing routes it to: a routing mistake
            yield Finding(
                "nonexistent-version", "error",
                Place(install=inst.id, package=TORCH,
                      table="project.requires-python" if "requires-python" in
                      (torch[0].reason or "") else None),
                f"{inst.command}: {torch[0].reason or torch[0].label}",
                "no index has such a torch, so uv lock fails. Fix: pin a version that exists, "
                "or raise requires-python.",
            )
    yield from _wrong_triton_name(model)


def _on_another_index(model: Model, install: str, unrouted: list[object]) -> bool:
    """Whether the local version `install` pins (`torch==2.7.1+cu128`) is the variant of a
    declared index that no source routes it to: the version exists, uv only looks for it on
    the wrong index (accelerator-extra-without-source reports that)."""
    from uvtorch.model.routing import active_requirements, platform_envs, python_env
    from uvtorch.model.routing import pytorch_variant as variant_of

    if not unrouted:
        return False
    p = model.project
    inst = next(i for i in installs_of(p) if i.id == install)
    variants = {variant_of(i.url, model.catalog) for i in p.indexes} - {None}
    for pid in model.predicted.platforms:
        env = python_env(p, platform_envs()[pid].env)
        for req in active_requirements(p, inst, env):
            if req.name == TORCH and any(
                    "+" in s.version and s.version.split("+", 1)[1] in variants
                    for s in req.specifier):
                return True
    return False


def _admits_current(p: object, channel_torch: str, source: object) -> bool:
    """Whether the torch requirements next to `source` (same extra/group, or all) admit the
    channel's current torch (catalog `channels.<name>.torch`, e.g. `>=2.16.0.dev0`)."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    from uvtorch.model.project import ProjectModel, Source

    assert isinstance(p, ProjectModel) and isinstance(source, Source)
    lows = [Version(s.version) for s in SpecifierSet(channel_torch) if s.operator in (">=", "==")]
    if not lows:
        return True
    scope = f"extra:{source.extra}" if source.extra else (
        f"group:{source.group}" if source.group else None)
    reqs = [r for r in p.requirements() if r.name == TORCH and (scope is None or r.origin == scope)]

    def admits(spec: SpecifierSet) -> bool:
        pins = [Version(x.version.split("+")[0].rstrip(".*")) for x in spec
                if x.operator in ("==", "===")]
        if pins:  # a pinned nightly (local part and all): is it today's channel or older?
            return all(v >= lows[0] for v in pins)
        return spec.contains(lows[0], prereleases=True)

    return not reqs or any(admits(r.specifier) for r in reqs)


def _wrong_triton_name(model: Model) -> Iterator[Finding]:
    """A triton sourced to a channel index under the name the channel's torch no longer (or
    not yet) requires: the catalog's `channels.<name>.triton` says which name it is now."""
    p, catalog = model.project, model.catalog
    from uvtorch.model.routing import channel_of
    from uvtorch.model.routing import pytorch_variant as variant_of

    tritons = {package_name(n) for c in catalog.channels.values() for n in c.triton.values()}
    tritons |= {package_name("pytorch-" + n) for n in tritons if not n.startswith("pytorch-")}
    for name, sources in p.sources.items():
        if name not in tritons:
            continue
        for s in sources:
            index = p.index(s.index)
            if index is None:
                continue
            channel = channel_of(index.url, catalog)
            variant = variant_of(index.url, catalog)
            if channel is None or variant is None:
                continue
            family = "cuda" if variant == "default" else catalog.family_of(variant)
            wanted = catalog.channels[channel].triton.get(family or "")
            if not _admits_current(p, catalog.channels[channel].torch, s):
                continue  # torch pinned to an older nightly, which required the old name
            if wanted is None or package_name(wanted) == name:
                continue
            if package_name(wanted).replace("pytorch-", "") != name.replace("pytorch-", ""):
                continue  # another family's triton: not this index's question
            yield Finding(
                "nonexistent-version", "error",
                Place(install=f"extra:{s.extra}" if s.extra else None, package=name,
                      table=s.table),
                f"{name} is sourced to the {channel} index {index.name}, whose torch now "
                f"requires {wanted}",
                f"{channel} torch requires {wanted} from the {channel} index (catalog.toml, "
                f"channels.{channel}.triton; pytorch/pytorch#169888 renamed it in 2025-12), so "
                f"the {name} source is unused and uv looks for {wanted} elsewhere. Fix: source "
                f"{wanted} instead (keep {name} only for a torch pinned to an older nightly).",
            )


@rule("UT013", "default-group-conflicts", "error",
      "a default group conflicts with an extra or group users are told to request",
      replace=True)
def default_group_conflicts(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds extras and groups that conflict with a default group (`dev` unless
    `default-groups` says otherwise).

    ## Why is this bad?
    `uv sync --extra x` installs the default groups too; when one conflicts with `x`, uv
    refuses ("Group `dev` and extra `x` are incompatible with the declared conflicts") unless
    every user adds `--no-default-groups` (docs/concepts/projects/config.md, "Conflicting
    dependencies"; uv 0.13.9 does not drop the default group, for `--extra` or `--group`).

    Severity: `error` for an extra (the command every user writes for an extra fails) when
    either side lists torch, a torch-family package or a dependent of torch. `info` when the
    requested member is a group: a set of alternative groups with one in `default-groups` is
    the only way uv offers to give a plain `uv sync` a default accelerator
    (astral-sh/uv#10360), and selecting another one always takes `--no-group <default>` -
    uv refuses loudly, before installing anything, naming the group. `info` too when neither
    side has anything of torch's: outside what this checker judges.

    ## Example
    ```toml
    [dependency-groups]
    dev = ["torch>=2.9"]
    [tool.uv]
    conflicts = [[{ group = "dev" }, { extra = "cu128" }]]
    ```

    ## Fix
    Take the group out of `default-groups`, or out of the conflict set.
    """
    model = _model(ctx)
    if model is None:
        return
    p = model.project
    defaults = default_groups(p)
    for inst in model.predicted.installs:
        if not inst.error:
            continue
        severity: Severity = "error"
        if inst.id.startswith("group:"):
            severity = "info"  # one of a set of alternative groups is the default
        else:
            bad = [f"group:{g}" for g in sorted(defaults) if conflicting(p, inst.id, f"group:{g}")]
            if not any(_touches_torch(model, m) for m in [inst.id, *bad]):
                severity = "info"  # nothing of torch's on either side: outside this checker
        yield Finding(
            "default-group-conflicts", severity,
            Place(install=inst.id, table="tool.uv.default-groups"),
            inst.error,
            "uv installs the default groups with every extra and group, and refuses when one "
            "conflicts with the requested one. Fix: remove the group from default-groups (or "
            "from the conflict set)" + (", or select with --no-group <default>: the only way "
            "to give a set of alternative groups a default" if severity == "info"
            and inst.id.startswith("group:") else "") + ".",
        )


def _touches_torch(model: Model, member: str) -> bool:
    """Whether the extra or group `member` lists torch, a torch-family package or a package
    that requires torch (the catalog's dependents)."""
    from uvtorch.model.routing import family

    kind, _, name = member.partition(":")
    p = model.project
    reqs = (p.optional if kind == "extra" else p.groups).get(name, ())
    names = set(family(model.catalog)) | set(model.catalog.dependents)
    return any(r.name in names for r in reqs)
