"""Rules that read uv.lock (what uv actually resolved) or the interpreter the project runs in.

They read locked packages by name through `uvtorch.checks.lockfile.packages_named`, so a large
lock is parsed only where a rule looks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from packaging.markers import InvalidMarker, Marker

from uvtorch.check import (
    _LINUX,
    _PLATFORM_ENVS,
    TORCH,
    pytorch_variant,
    system_extra_carriers,
)
from uvtorch.checks.lockfile import packages_named
from uvtorch.checks.registry import CheckContext, Finding, Fix, Place, Severity, rule
from uvtorch.checks.rules import extra_install


def _registry(package: Mapping[str, Any]) -> str:
    return str(package.get("source", {}).get("registry", ""))


def cuda_torch_without_nvidia(lock: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Locked CUDA torch entries that list no nvidia-* / CUDA library dependency."""
    out = []
    for package in packages_named(lock, TORCH):
        version = str(package.get("version", ""))
        if not re.search(r"\+cu\d+$", version):
            continue
        deps = [str(d.get("name", "")).lower() for d in package.get("dependencies", [])]
        if not any(d.startswith(("nvidia-", "cuda-toolkit", "cuda-bindings")) for d in deps):
            out.append(package)
    return out


@rule("UT018", "lock-cuda-without-nvidia", "error",
      "the lock records a CUDA torch without its nvidia-* libraries")
def lock_cuda_without_nvidia(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds a `+cuXXX` torch in uv.lock with no nvidia-* (CUDA library) dependency.

    ## Why is this bad?
    Some torch wheels declare no nvidia-* requirements (torch 2.6.0+cu126 on the PyTorch
    index: astral-sh/uv#11945), and uv records the metadata of one wheel for all. `uv sync` on
    Linux x86_64 then installs torch without its CUDA libraries: `import torch` fails with
    "libcudnn.so.9: cannot open shared object file".

    ## Example
    ```toml
    [[package]]
    name = "torch"
    version = "2.6.0+cu126"
    dependencies = [{ name = "filelock" }]   # no nvidia-* packages
    ```

    ## Fix
    `uvtorch check --fix` writes a `[[tool.uv.dependency-metadata]]` override from the x86_64
    wheel's real METADATA (safe fix: it restores what the wheel declares); then `uv lock`.
    """
    if ctx.lock is None:
        return
    for package in cuda_torch_without_nvidia(ctx.lock):
        version = str(package.get("version", ""))
        yield Finding(
            "lock-cuda-without-nvidia", "error",
            Place(install=_install_locking(ctx, version), package=TORCH,
                  platform="linux-x86_64", table="uv.lock"),
            f"the lock records torch {version} without any nvidia-* (CUDA library) dependency",
            "some of its wheels declare none (astral-sh/uv#11945) and uv recorded those, so "
            "`uv sync` on Linux x86_64 installs torch without CUDA libraries. Fix: uvtorch "
            "check --fix writes a [[tool.uv.dependency-metadata]] override from the x86_64 "
            "wheel's real METADATA; then uv lock.",
            Fix(f"add a [[tool.uv.dependency-metadata]] override for torch {version} read from "
                "its x86_64 wheel on the index", "safe"),
        )


def _install_locking(ctx: CheckContext, version: str) -> str | None:
    """The install that syncs the locked torch `version` on Linux x86_64 (`base` first): a
    lock-level finding is about what a `uv sync [--extra X]` installs, so its place names that
    command like every other finding's; None when the lock's table does not reach it."""
    from uvtorch.model import Model

    model = ctx.model
    if not isinstance(model, Model) or not model.routing.from_lock:
        return None
    routing = model.routing
    if "linux-x86_64" not in routing.platforms:
        return None
    for inst in routing.installs:
        torch = routing.cell(inst.id, "linux-x86_64").torch
        if torch is not None and torch.version == version:
            return inst.id
    return None


_WHEEL_PLATFORMS = {
    "linux-x86_64": ("x86_64",),
    "linux-aarch64": ("aarch64",),
    "windows-x86_64": ("win_amd64",),
    "macos-arm64": ("macosx",),
}


@rule("UT019", "lock-missing-platform-wheel", "warning",
      "a locked extra's torch has no wheel for a target platform")
def lock_missing_platform_wheel(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    With `tool.uv.environments` set, finds an extra whose locked torch (from its PyTorch
    index) has no wheel for one of the admitted platforms that its source's marker covers.

    ## Why is this bad?
    uv locks without complaint (wheels are only required for `required-environments`), but
    `uv sync --extra X` on that platform fails: "Distribution `torch` can't be installed
    because it doesn't have a source distribution or wheel for the current platform".

    ## Example
    ```toml
    [tool.uv]
    environments = ["sys_platform == 'linux'", "sys_platform == 'win32'"]
    # uv.lock: torch 2.9.1+cu128 with only manylinux wheels
    ```

    ## Fix
    Add a marker to that source excluding the platform, or drop the platform from
    `tool.uv.environments`.
    """
    p = ctx.project
    environments = p.uv.get("environments")
    if ctx.lock is None:
        return
    from uvtorch.checks.rules_routing import _platform_named
    from uvtorch.model import Model
    from uvtorch.platforms import environment_marker

    model = ctx.model if isinstance(ctx.model, Model) else None
    if environments:
        platforms = [
            pid for pid in p.catalog.platforms
            if environment_marker(pid, p.catalog.platforms) in environments
        ]
    elif model is not None:
        # No environments: uv locks for every platform (docs/concepts/resolution.md,
        # "Universal resolution"), and the lock's resolution markers cover them all.
        platforms = [pid for pid in model.predicted.platforms if pid in _WHEEL_PLATFORMS]
    else:
        return
    locked_torch = packages_named(ctx.lock, TORCH)
    for source in p.sources(TORCH):
        url = str(p.indexes.get(source.index_ref or "", {}).get("url", "")).rstrip("/")
        if not source.extra or not pytorch_variant(url, p.catalog):
            continue
        from_index = [x for x in locked_torch if _registry(x).rstrip("/") == url]
        # One index may lock several torch versions, one per fork (the cpu index's
        # `2.7.1+cpu` for Linux and Windows, its plain `2.7.1` for macOS): a platform is
        # missing only when none of them has its wheel.
        every = " ".join(str(w.get("url", "")) for x in from_index for w in x.get("wheels", []))
        for package in from_index[:1]:
            wheels = every
            for pid in platforms:
                env = dict(_LINUX, **_PLATFORM_ENVS[pid])
                try:
                    if source.marker and not Marker(source.marker).evaluate(env):
                        continue
                except InvalidMarker:
                    continue
                if not any(tag in wheels for tag in _WHEEL_PLATFORMS[pid]):
                    # As platform-gets-other-build: the uv guide's own pattern (no
                    # environments, nothing in the file naming the platform) is a note.
                    severity: Severity = "warning" if environments or model is not None and \
                        _platform_named(model.project, pid) else "info"
                    yield Finding(
                        "lock-missing-platform-wheel", severity,
                        Place(install=extra_install(source.extra), package=TORCH,
                              platform=pid, table="uv.lock"),
                        f"the locked torch "
                        f"{', '.join(str(x.get('version')) for x in from_index)} of the {source.extra} "
                        f"extra has no wheel for {pid}",
                        f"the extra resolves for {pid} (tool.uv.environments, or every platform "
                        f"without it), but {url} has "
                        f"no such wheel, so `uv sync --extra {source.extra}` fails there. Fix: "
                        f"add a marker to that source excluding {pid}, or drop it from "
                        "tool.uv.environments.",
                    )


@rule("UT020", "lock-system-extra-pulls-torch", "error",
      "the system extra still pulls torch through a dependency chain")
def lock_system_extra_pulls_torch(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Walks uv.lock from the system extra (the one using the environment's torch) and finds
    packages through which it would still install torch (or another environment package)
    from an index.

    ## Why is this bad?
    `exclude-dependencies` drops only what it names. A dependency that requires torch makes
    `uv sync --extra system` install a second torch over the container's, built for another
    CUDA.

    ## Example
    ```toml
    [project.optional-dependencies]
    system = ["timm"]   # timm requires torch; the lock gives it one from an index
    ```

    ## Fix
    Add `{ package = { name = "timm" }, dependencies = ["torch"] }` to `[tool.uv]
    exclude-dependencies` (safe fix; `check --fix` does), then `uv lock`.
    """
    for carrier in system_extra_carriers(ctx.project):
        chain = " -> ".join((*carrier.path, carrier.pulls[0]))
        entry = (f'{{ package = {{ name = "{carrier.package}" }}, dependencies = '
                 "[" + ", ".join(f'"{n}"' for n in carrier.pulls) + "] }")
        yield Finding(
            "lock-system-extra-pulls-torch", "error",
            Place(install="extra:system", package=carrier.package, table="uv.lock"),
            f"the system extra pulls {', '.join(carrier.pulls)} from an index ({chain})",
            "`uv sync --extra system` installs a second torch over the environment's. Fix: "
            f"add {entry} to [tool.uv] exclude-dependencies, then uv lock.",
            Fix(f"add {entry} to [tool.uv] exclude-dependencies", "safe"),
        )


@rule("UT021", "system-torch-mismatch", "error",
      "the recorded system torch differs from the interpreter's")
def system_torch_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    For a project using its environment's torch, compares `[tool.uvtorch] system` (the
    versions recorded when the project was made) with what the project's interpreter imports.

    ## Why is this bad?
    The image changed, or this is another machine: code and pinned packages were chosen for
    the recorded torch, and compiled extensions fail to load against another one.

    ## Example
    ```toml
    [tool.uvtorch]
    system = { torch = "2.5.0a0" }   # the interpreter has 2.7.0a0
    ```

    ## Fix
    Update `[tool.uvtorch] system` after checking the project works with the new torch, or run
    the project in the image it was made for.
    """
    p = ctx.project
    system = p.data.get("tool", {}).get("uvtorch", {}).get("system") or {}
    if not system or p.environment is None:
        return
    from packaging.version import InvalidVersion, Version

    own_venv = p.interpreter is not None and Path(p.interpreter).parent.parent == p.path / ".venv"
    for name, expected in sorted(system.items()):
        place = Place(package=name, table="tool.uvtorch.system")
        found = p.environment.get(name)
        if found is None:
            if own_venv:
                yield Finding(
                    "system-torch-mismatch", "error", place,
                    f"the project expects {name} {expected} from its environment, but the "
                    "project's .venv does not see it",
                    "the venv was made without the environment's packages. Fix: remove .venv "
                    "and make it with the commands in README.md (a --system-site-packages "
                    "venv, or one layered on the image's venv).",
                )
                continue
            yield Finding(
                "system-torch-mismatch", "error", place,
                f"the project expects {name} {expected} from its environment, but the "
                "interpreter has none",
                "nothing provides it here. Fix: run the project in the image it was made for "
                "(or --python-executable), or make it again with uvtorch init -a system there.",
            )
            continue
        try:
            same = expected == "*" or Version(found) == Version(expected)
        except InvalidVersion:
            same = found == expected
        if not same:
            yield Finding(
                "system-torch-mismatch", "error", place,
                f"the project expects {name} {expected} but the interpreter has {found}",
                "the image changed, or this is another machine. Fix: update [tool.uvtorch] "
                f"system.{name} to \"{found}\" after checking the project works with it.",
            )


# PyPI's hosts: uv's default index (`PYPI_URL` = https://pypi.org/simple in astral-sh/uv
# crates/uv-distribution-types/src/index_url.rs) and where its files live.
_PYPI_HOSTS = {"pypi.org", "files.pythonhosted.org"}


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "").lower()


@rule("UT022", "lock-other-host", "info",
      "the lock's torch URLs point at another host than the project's indexes")
def lock_other_host(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds torch-family entries in uv.lock taken from an index on a host that none of the
    project's `[[tool.uv.index]]` entries (nor PyPI) is on.

    ## Why is this bad?
    The index moved (a mirror, a proxy) after the lock was written, or the lock was made with
    another `UV_INDEX`/uv.toml: `uv sync --frozen` downloads from the old host, which CI may
    not reach, and the next `uv lock` rewrites every such entry.

    ## Example
    ```toml
    # pyproject.toml: url = "https://mirror.example/whl/cu128"
    # uv.lock:        source = { registry = "https://download.pytorch.org/whl/cu128" }
    ```

    ## Fix
    Run `uv lock` so the lock names the project's indexes (or give the index in
    pyproject.toml that the lock was made with).
    """
    p = ctx.project
    if ctx.lock is None:
        return
    hosts = {_host(str(i.get("url", ""))) for i in p.indexes.values()} | _PYPI_HOSTS
    family = [TORCH] + sorted(n for n, c in p.catalog.companions.items() if c.on_index)
    for name in family:
        for package in packages_named(ctx.lock, name):
            registry = _registry(package)
            host = _host(registry)
            if registry and host and host not in hosts:
                yield Finding(
                    "lock-other-host", "info", Place(package=name, table="uv.lock"),
                    f"the lock takes {name} {package.get('version')} from {host}, where none "
                    "of the project's indexes is",
                    f"the lock was made with another index ({registry}); `uv sync --frozen` "
                    "downloads from there. Fix: run uv lock.",
                )
                break
