"""Kernels: packages that need torch when they are built (flash-attn, grouped_gemm, ...).

uv builds them in isolation, so a plain dependency would be compiled against whatever torch
its own build-system names (or fail to import torch at all). A kernel recipe (data/kernels.toml)
says what its build needs; `plan_kernels` turns the recipes into uv settings:
`[tool.uv.extra-build-dependencies]` with `{ requirement = "torch", match-runtime = true }`
(the build gets exactly the torch of the extra being synced, and uv rebuilds per extra) and
`[tool.uv.extra-build-variables]` (target GPU architectures, parallel jobs, the kernel's own
switches). GPU names and what each CUDA compiler can build come from data/gpus.toml.
"""

import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, NamedTuple

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from uvtorch.catalog import read_data
from uvtorch.errors import BadSpec, NoBuild, UsageError
from uvtorch.names import PackageName, package_name



class Source(NamedTuple):
    """Where a kernel comes from, and which torch its own build-system admits."""

    kind: str  # "pypi" or "git"
    git: str | None
    rev: str | None
    build_torch: str | None  # the torch range the kernel's own build requirements allow
    build_requires: tuple[str, ...]
    metadata_version: str | None  # for [[tool.uv.dependency-metadata]] (and the == pin)
    metadata_requires_dist: tuple[str, ...]
    metadata_requires_python: str | None
    why: str


class Prebuilt(NamedTuple):
    """Where built wheels of a kernel can be had instead of compiling it."""

    kind: str  # "pytorch-index", "flat-index", or kinds uvtorch renders nothing for
    variants: tuple[str, ...]  # the accelerator builds that have wheels there
    url_template: str | None  # flat-index: {torch_major}, {torch_minor}, {variant}
    index_name: str | None  # flat-index: prefix of the rendered index names
    url: str | None = None  # flat-index: one page for every torch/variant (natten)
    platforms: tuple[str, ...] = ()  # pypi-wheels: where the package itself has wheels


class Recipe(NamedTuple):
    """How to build one kernel against the runtime torch."""

    name: PackageName
    requirement: str  # what goes in the extra, before any pin
    build_package: PackageName  # the distribution uv actually builds
    families: tuple[str, ...]  # cuda, rocm, cpu
    platforms: tuple[str, ...] | None  # None: every platform
    sources: tuple[Source, ...]  # tried in order: the first whose build_torch fits
    needs_torch: bool
    emit_metadata: bool
    arch_variable: str | None
    arch_values: tuple[str, ...] | None  # the only values the kernel understands
    rocm_arch_variable: str | None
    variables: Mapping[str, str]  # always
    family_variables: Mapping[str, Mapping[str, str]]  # family -> variables
    conditional: tuple[tuple[str, Mapping[str, str]], ...]  # (when, variables)
    jobs_variable: str | None
    per_cuda_major: Mapping[str, str]  # "cu12" -> extra requirement in those extras
    needs_cuda_toolkit: str
    why: str
    known: bool  # False: the generic guess for a kernel the catalog does not know
    prebuilt: tuple[Prebuilt, ...] = ()
    torch_optional: bool = False  # its build runs without torch too (it only warns)


class Toolkit(NamedTuple):
    """A CUDA compiler and the GPU targets (SM numbers) it can build."""

    version: str
    sm: frozenset[str]


class KernelData(NamedTuple):
    """data/kernels.toml and data/gpus.toml."""

    recipes: Mapping[PackageName, Recipe]
    gpus: Mapping[str, tuple[str, str]]  # name or alias -> (vendor, capability or gfx)
    toolkits: Mapping[str, Toolkit]
    defaults: Mapping[str, Any]


def _source(raw: Mapping[str, Any], base: Mapping[str, Any]) -> Source:
    def get(key: str, default: Any = None) -> Any:
        return raw.get(key, base.get(key, default))

    return Source(
        kind=str(get("source", "pypi")),
        git=get("git"),
        rev=get("rev"),
        build_torch=raw.get("build_torch"),
        build_requires=tuple(get("build_requires", ())),
        metadata_version=get("metadata_version"),
        metadata_requires_dist=tuple(get("metadata_requires_dist", ())),
        metadata_requires_python=get("metadata_requires_python"),
        why=str(raw.get("why", "")),
    )


def _variable(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return None if value in (None, "none") else str(value)


def _recipe(name: str, raw: Mapping[str, Any]) -> Recipe:
    sources = [_source(raw, {})]
    if "fallback" in raw:
        sources.append(_source(raw["fallback"], raw))
    return Recipe(
        name=package_name(name),
        requirement=str(raw.get("requirement", name)),
        build_package=package_name(raw.get("build_package", name)),
        families=tuple(raw.get("accelerators", ("cuda",))),
        platforms=tuple(raw["platforms"]) if "platforms" in raw else None,
        sources=tuple(sources),
        needs_torch=bool(raw.get("needs_torch_at_build", True)),
        emit_metadata=bool(raw.get("emit_dependency_metadata", False)),
        arch_variable=_variable(raw, "arch_variable"),
        arch_values=tuple(raw["arch_values"]) if "arch_values" in raw else None,
        rocm_arch_variable=_variable(raw, "rocm_arch_variable"),
        variables=dict(raw.get("build_variables", {})),
        family_variables={
            family: dict(raw[f"build_variables_{family}"])
            for family in ("cuda", "rocm", "cpu")
            if f"build_variables_{family}" in raw
        },
        conditional=tuple(
            (str(c["when"]), dict(c["set"])) for c in raw.get("conditional_build_variables", ())
        ),
        jobs_variable=_variable(raw, "jobs_variable") if raw.get("needs_torch_at_build", True) else None,
        per_cuda_major=dict(raw.get("per_extra_requirements", {})),
        needs_cuda_toolkit=str(raw.get("needs_cuda_toolkit", "none")),
        why=str(raw.get("why", "")),
        known=True,
        torch_optional=bool(raw.get("torch_at_build_optional", False)),
        prebuilt=tuple(
            Prebuilt(
                kind=str(p["kind"]),
                variants=tuple(p.get("variants", ())),
                url_template=p.get("url_template"),
                index_name=p.get("index_name"),
                url=p.get("url"),
                platforms=tuple(p.get("platforms", ())),
            )
            for p in raw.get("prebuilt", ())
        ),
    )


@cache
def load_kernels() -> KernelData:
    """Read the packaged kernel recipes and GPU table once per process."""
    kernels = read_data("kernels.toml")
    gpus = read_data("gpus.toml")
    table: dict[str, tuple[str, str]] = {}
    for name, gpu in gpus["gpus"].items():
        value = gpu.get("compute_capability") or gpu.get("gfx")
        if value is None:  # only an unverified value: not offered
            continue
        for alias in (name, *gpu.get("aliases", ())):
            table[alias.lower()] = (gpu["vendor"], str(value))
    return KernelData(
        recipes={package_name(n): _recipe(n, r) for n, r in kernels["kernels"].items()},
        gpus=table,
        toolkits={
            v: Toolkit(v, frozenset(t["sm"])) for v, t in gpus["cuda_toolkits"].items()
        },
        defaults=dict(kernels["defaults"]),
    )


def generic_recipe(name: str, data: KernelData) -> Recipe:
    """The guess for a kernel the catalog does not know: torch at build time, common tools."""
    return Recipe(
        name=package_name(name),
        requirement=name,
        build_package=package_name(name),
        families=("cuda", "rocm"),
        platforms=None,
        sources=(
            Source("pypi", None, None, None, tuple(data.defaults["generic_build_requires"]),
                   None, (), None, ""),
        ),
        needs_torch=True,
        emit_metadata=False,
        arch_variable="TORCH_CUDA_ARCH_LIST",
        arch_values=None,
        rocm_arch_variable="PYTORCH_ROCM_ARCH",
        variables={},
        family_variables={},
        conditional=(),
        jobs_variable="MAX_JOBS",
        per_cuda_major={},
        needs_cuda_toolkit="nvcc-same-major",
        why=f"{name} is not in uvtorch's catalog: built against the runtime torch with "
        "setuptools, wheel and ninja (a guess)",
        known=False,
    )


def toolkit_of(variant: str) -> str | None:
    """The CUDA toolkit version a variant was built with: cu128 -> '12.8'."""
    match = re.fullmatch(r"cu(\d+)(\d)", variant)
    return f"{int(match.group(1))}.{match.group(2)}" if match else None


_ARCH = re.compile(r"^(\d+)\.(\d+)$")


def _sm(capability: str) -> str:
    major, minor = _ARCH.match(capability).groups()  # type: ignore[union-attr]
    return f"{major}{minor}"


def resolve_targets(
    cuda_archs: Iterable[str], gpus: Iterable[str], data: KernelData
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(CUDA compute capabilities, ROCm gfx targets) from --cuda-arch and --gpu values."""
    cuda: list[str] = []
    rocm: list[str] = []
    for arch in cuda_archs:
        for part in re.split(r"[;,\s]+", arch.strip()):
            if not part:
                continue
            if part.startswith("gfx"):
                rocm.append(part)
            elif _ARCH.match(part):
                cuda.append(part)
            else:
                raise BadSpec(
                    f"--cuda-arch '{part}' is not a compute capability.",
                    "Write it as major.minor, e.g. --cuda-arch 9.0 (H100) or 8.0 (A100), or a "
                    "ROCm target such as gfx942.",
                )
    for name in gpus:
        found = data.gpus.get(name.strip().lower())
        if found is None:
            raise UsageError(
                f"Unknown GPU '{name}'.",
                f"Known names: {', '.join(sorted(data.gpus))}; or give --cuda-arch X.Y.",
            )
        (cuda if found[0] == "nvidia" else rocm).append(found[1])
    return tuple(dict.fromkeys(cuda)), tuple(dict.fromkeys(rocm))


def check_buildable(targets: Iterable[str], variants: Iterable[str], data: KernelData) -> None:
    """Refuse a target that a chosen CUDA version's compiler cannot build."""
    for variant in variants:
        version = toolkit_of(variant)
        toolkit = data.toolkits.get(version or "")
        if toolkit is None:
            continue
        for target in targets:
            if _sm(target) not in toolkit.sm:
                lowest = min(toolkit.sm, key=int)
                highest = max(toolkit.sm, key=int)
                raise NoBuild(
                    f"CUDA {version} ({variant}) cannot build compute capability {target}: its "
                    f"compiler builds sm_{lowest} to sm_{highest} "
                    f"({', '.join(sorted(toolkit.sm, key=int))}).",
                    f"Drop {target}, or choose CUDA builds that support it (e.g. cu128 or newer "
                    "for Blackwell 10.0/12.0; cu126 or older for Pascal 6.x).",
                )


def default_targets(variants: Iterable[str], data: KernelData) -> tuple[str, ...]:
    """The default CUDA targets, keeping only those every chosen compiler can build."""
    toolkits = [data.toolkits.get(toolkit_of(v) or "") for v in variants]
    return tuple(
        t for t in data.defaults["cuda_targets"]
        if all(k is None or _sm(t) in k.sm for k in toolkits)
    )


def pick_source(recipe: Recipe, torch_patches: Iterable[Version]) -> Source:
    """The first source whose own build requirements admit every torch the lock may pick."""
    patches = list(torch_patches)
    for source in recipe.sources:
        if source.build_torch is None or all(p in SpecifierSet(source.build_torch) for p in patches):
            return source
    spans = "; ".join(f"{s.kind}: torch{s.build_torch}" for s in recipe.sources)
    raise NoBuild(
        f"{recipe.name}'s own build requirements admit no torch you chose ({spans}).",
        "Choose a torch release inside one of those ranges.",
    )


def arch_value(recipe: Recipe, targets: tuple[str, ...]) -> tuple[str | None, list[str]]:
    """The value of the kernel's arch variable for `targets`, and notes on what was dropped."""
    notes: list[str] = []
    if recipe.arch_variable is None or not targets:
        return None, notes
    if recipe.arch_values is None:
        return ";".join(targets), notes
    # Kernels with a fixed list (flash-attn: 80;90;100;120) take the family's number.
    chosen: list[str] = []
    for target in targets:
        major = int(target.split(".")[0])
        value = "80" if major == 8 else f"{major}0"
        if value in recipe.arch_values:
            chosen.append(value)
        else:
            notes.append(f"{recipe.name} has no kernels for compute capability {target}")
    return (";".join(dict.fromkeys(chosen)) or None), notes


_WHEN = re.compile(r"every target compute capability >= (\d+\.\d+)")


def conditional_variables(
    recipe: Recipe, targets: tuple[str, ...]
) -> tuple[dict[str, str], list[str]]:
    """Variables whose condition (a minimum compute capability) every target meets."""
    out: dict[str, str] = {}
    notes: list[str] = []
    for when, variables in recipe.conditional:
        match = _WHEN.fullmatch(when)
        if match is None:
            notes.append(f"{recipe.name}: condition '{when}' not understood; left unset")
            continue
        floor = Version(match.group(1))
        if targets and all(Version(t) >= floor for t in targets):
            out.update(variables)
        else:
            notes.append(
                f"{recipe.name}: {', '.join(variables)} left unset ({when} does not hold)"
            )
    return out, notes
