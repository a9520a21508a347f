"""Codes and documentation of the rules answered by the routing model (uvtorch.model).

Each is registered here as a placeholder that finds nothing, so its code, name and docs are
fixed now (`--rule`, `--select`, SARIF rule lists see them); the model's rule registers the
same code with `@rule(...)` and replaces it, whichever module is imported first.
(UT022 lock-other-host, once a placeholder here, is checked in lock_rules.py.)
"""

from __future__ import annotations

from collections.abc import Iterator

from uvtorch.checks.registry import CheckContext, Finding, rule


@rule("UT007", "inert-source", "warning",
      "a source that applies to nothing", placeholder=True)
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
    return iter(())


@rule("UT008", "extra-alias-not-routed", "error",
      "an alias extra or an `extra ==` marker that uv does not route", placeholder=True)
def extra_alias_not_routed(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds extras that only name other extras of the project (`gpu = ["pkg[cu130]"]`) and
    sources that use `marker = "extra == 'x'"` instead of `extra = "x"`.

    ## Why is this bad?
    A source scoped with `extra = "cu130"` applies to requirements declared in `cu130`; the
    alias `gpu` declares `pkg[cu130]`, not torch, so `uv sync --extra gpu` gets no routed
    torch. `extra` markers in sources are not how uv scopes a source to an extra
    (docs/concepts/projects/dependencies.md, "Sources"): conflicts and forks are keyed by the
    `extra` field.

    ## Example
    ```toml
    [project.optional-dependencies]
    cu130 = ["torch>=2.9"]
    gpu = ["myproject[cu130]"]
    ```

    ## Fix
    List torch (and its companions) in the alias extra with its own sources, or tell users to
    request the real extra; write `extra = "x"` in sources.
    """
    return iter(())


@rule("UT009", "inert-build-setting", "warning",
      "a build setting that does nothing", placeholder=True)
def inert_build_setting(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds `extra-build-dependencies` / `extra-build-variables` for a package listed in
    `no-build-isolation-package`, or for a package that arrives only as prebuilt wheels.

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
    return iter(())


@rule("UT010", "unused-index", "info",
      "a declared explicit index nothing is sourced to", placeholder=True)
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
    return iter(())


@rule("UT011", "risky-resolution-setting", "warning",
      "a project-wide resolver setting that can pick the wrong build", placeholder=True)
def risky_resolution_setting(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds `prerelease = "allow"`, a non-explicit third-party index combined with
    `index-strategy = "unsafe-best-match"`, and a find-links HTML page declared as a Simple
    index (no `format = "flat"`).

    ## Why is this bad?
    `prerelease = "allow"` lets any package resolve to a pre-release, torch included;
    `unsafe-best-match` takes the best version across all indexes, so a mirror or PyTorch
    index can win over PyPI for unrelated packages (uv docs, reference/settings.md,
    `index-strategy`); a find-links page read as a Simple index finds nothing.

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
    return iter(())


@rule("UT012", "nonexistent-version", "error",
      "a version no index has", placeholder=True)
def nonexistent_version(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds pins that no index can satisfy: a local version that does not exist (`+rocm`
    instead of `+rocm6.2`), a `requires-python` below what the chosen torch supports, a
    nightly torch with the wrong triton name for its date (`pytorch-triton` vs `triton`).

    ## Why is this bad?
    `uv lock` fails with "No solution found", or resolves only for part of the Python range.

    ## Example
    ```toml
    [project.optional-dependencies]
    rocm = ["torch==2.5.1+rocm"]
    ```

    ## Fix
    Pin a version the index has (`uvtorch matrix` lists builds per release), or raise
    `requires-python`.
    """
    return iter(())


@rule("UT013", "default-group-conflicts", "error",
      "a default group conflicts with an extra or group users are told to request",
      placeholder=True)
def default_group_conflicts(ctx: CheckContext) -> Iterator[Finding]:
    """## What it does
    Finds a group in `default-groups` (by default `dev`) that is in one conflict set with an
    extra or group that users request.

    ## Why is this bad?
    uv installs default groups with every `uv sync`; requesting a conflicting extra then fails
    ("Extra `cu128` and group `dev` are incompatible with the declared conflicts"), so the
    documented command never works without `--no-default-groups`.

    ## Example
    ```toml
    [tool.uv]
    conflicts = [[{ group = "dev" }, { extra = "cu128" }]]
    ```

    ## Fix
    Remove the group from `default-groups`, or from the conflict set.
    """
    return iter(())
