"""Which of a project's extras this machine should install: `uvtorch sync`, `run`, `which`.

A multi-accelerator project has one lock and one extra per torch build; uv never picks one
(extras are not defaults, `--torch-backend` is `uv pip`-only). This module does, from two
inputs and nothing else:

    extras = project_extras(pyproject, answers, lock_text, known_minors)  # what the project has
    choice = choose_extra(extras, detection, explicit=..., from_env=..., in_image=...)

Both functions are pure: reading the files is `uvtorch.sync`'s job, probing the machine is
`uvtorch.probe`'s, and the CUDA rules (driver floors, the wheels' compute capabilities) are
`uvtorch.detect`'s, called here, not repeated.

The order of precedence: `--extra ID`, then `UVTORCH_EXTRA`, then detection. Detection takes,
in this order: the `system` extra inside a container image whose Python imports torch; for an
NVIDIA driver the newest CUDA extra the driver runs whose wheels carry code for every GPU; for
AMD the newest ROCm extra; for an Intel GPU the xpu extra; else, or when none of those fits,
the cpu extra with the reason. No cpu extra then is an error, never a plain `uv sync`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from uvtorch.detect import Candidate, Detection, assess_cuda_build, cuda_of
from uvtorch.errors import UsageError, UvtorchError
from uvtorch.names import extra_name
from uvtorch.system import SYSTEM

ENV_EXTRA = "UVTORCH_EXTRA"

# The last path segment of a PyTorch index URL names its build (…/whl/cu126, …/nightly/xpu).
_VARIANT = re.compile(r"cpu|xpu|cu\d{3,}|rocm\d+(?:\.\d+)*")
# An extra named after a build, PEP 685-normalized (`rocm6.4` is written `rocm6-4`).
_VARIANT_NAME = re.compile(r"cpu|xpu|cu\d{3,}|rocm\d+(?:-\d+)*")
# uv.lock writes each package as `[[package]]`, `name = ...`, `version = ...`, in that order.
_LOCKED_TORCH = re.compile(r'^\[\[package\]\]\nname = "torch"\nversion = "([^"]+)"', re.MULTILINE)


class NoFittingExtra(UvtorchError):
    """No accelerator extra of the project runs on this machine, and there is no cpu extra."""


class NoAcceleratorExtras(UvtorchError):
    """The project has no extra that routes torch to a build: nothing to choose."""


class ProjectExtra(NamedTuple):
    """An extra of the project that installs one torch build (or the environment's torch)."""

    name: str  # as the project spells it (PEP 685-normalized)
    variant: str  # cpu, cu126, rocm6.4, xpu, or `system` (the environment's torch)
    via: str  # how the build was read: the index URL, or "named after it"
    torch: str | None  # the torch it installs: the locked version, else the requirement

    @property
    def minor(self) -> str | None:
        """The torch minor release ('2.9'), when the version is known."""
        match = re.match(r"(\d+)\.(\d+)", self.torch or "")
        return f"{match.group(1)}.{match.group(2)}" if match else None


class ExtraChoice(NamedTuple):
    """The extra to install, how it was chosen, and why."""

    extra: str
    variant: str
    origin: str  # "--extra", ENV_EXTRA, or "detected"
    reasons: tuple[str, ...]
    assessed: tuple[tuple[str, Candidate], ...]  # (extra, fit) for each CUDA extra weighed

    def line(self) -> str:
        """The one line `uvtorch sync` prints: which extra, and why."""
        if self.origin != "detected":
            return f"extra {self.extra} (from {self.origin})"
        return f"extra {self.extra} ({'; '.join(self.reasons)})"


def normalize(name: str) -> str:
    """PEP 685 extra name: `ROCm6.4` -> `rocm6-4` (`uvtorch.names.extra_name`)."""
    return str(extra_name(name))


def family(variant: str) -> str:
    """cpu, cuda, rocm, xpu or system."""
    if variant.startswith("cu") and variant != "cpu":
        return "cuda"
    return "rocm" if variant.startswith("rocm") else variant


def _build_order(extra: ProjectExtra) -> tuple[tuple[int, ...], bool]:
    """cu126 < cu130; rocm6.4 < rocm7.2 (numbers compared as numbers); of two extras with the
    same build, the one named after it (`cu128` over `gpu`) sorts last, where picks are made."""
    numbers = tuple(int(n) for n in re.findall(r"\d+", extra.variant))
    return (numbers, normalize(extra.variant) == extra.name)


def _of_build(extras: Iterable[ProjectExtra], variant: str) -> ProjectExtra | None:
    """The extra that installs `variant`, the one named after it first (`cpu` over `tpu`)."""
    found = sorted((e for e in extras if e.variant == variant), key=_build_order)
    return found[-1] if found else None


# --------------------------------------------------------------------------------------------
# What the project has
# --------------------------------------------------------------------------------------------


def _sources_for(entries: Any) -> list[Mapping[str, Any]]:
    items = entries if isinstance(entries, list) else [entries]
    return [e for e in items if isinstance(e, Mapping)]


def _torch_requirement(requirements: Iterable[Any]) -> str | None:
    for text in requirements:
        if isinstance(text, str) and re.match(r"\s*torch\s*(?:[\[<>=!~;(]|$)", text, re.I):
            return text.split(";")[0].strip()[len("torch"):].strip() or None
    return None


def _minor_of_spec(spec: str | None, known_minors: Iterable[str]) -> str | None:
    """The newest known torch minor release a requirement admits (what uv would resolve)."""
    if spec is None:
        return None
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import Version

    try:
        admitted = SpecifierSet(spec.strip("()"))
    except InvalidSpecifier:
        return None
    found = [
        m for m in known_minors
        if any(admitted.contains(Version(f"{m}.{p}"), prereleases=True) for p in range(10))
    ]
    return max(found, key=lambda m: tuple(int(x) for x in m.split(".")), default=None)


def locked_torch(lock_text: str) -> dict[str, str]:
    """Build (local version tag) -> torch version, from uv.lock's torch packages."""
    found: dict[str, str] = {}
    for version in _LOCKED_TORCH.findall(lock_text):
        _, _, local = version.partition("+")
        if _VARIANT.fullmatch(local):
            found[local] = version
    return found


def project_extras(
    pyproject: Mapping[str, Any],
    answers: Mapping[str, Any] | None = None,
    lock_text: str | None = None,
    known_minors: Iterable[str] = (),
) -> tuple[ProjectExtra, ...]:
    """The extras that install a torch build, and which build each one installs.

    An extra's build is read from the index its torch source names (the URL's last segment,
    e.g. `…/whl/cu126`), else from its name when it is named after a build (`cu126`,
    `rocm6-4`), else from `.uvtorch.toml`'s accelerators; `system` is the extra of a project
    that records the environment's torch (`[tool.uvtorch] system`). The torch version comes
    from uv.lock when it has that build, else (CUDA extras only: the wheels' compute
    capabilities depend on it) the newest of `known_minors` the torch requirement admits.
    """
    project = pyproject.get("project", {})
    optional = project.get("optional-dependencies", {}) or {}
    uv = pyproject.get("tool", {}).get("uv", {}) or {}
    indexes = {
        i.get("name"): str(i.get("url", ""))
        for i in uv.get("index", []) or []
        if isinstance(i, Mapping)
    }
    by_extra: dict[str, str] = {}
    for source in _sources_for((uv.get("sources", {}) or {}).get("torch", [])):
        extra, index = source.get("extra"), source.get("index")
        if isinstance(extra, str) and index in indexes:
            by_extra.setdefault(normalize(extra), indexes[index])
    accelerators = {
        normalize(a): a
        for a in ((answers or {}).get("answers", {}) or {}).get("accelerators", []) or []
        if isinstance(a, str)
    }
    records_system = bool((pyproject.get("tool", {}).get("uvtorch", {}) or {}).get("system"))
    locked = locked_torch(lock_text or "")
    base_spec = _torch_requirement(project.get("dependencies", []) or [])
    found: list[ProjectExtra] = []
    for raw_name, requirements in optional.items():
        name = normalize(raw_name)
        url = by_extra.get(name)
        segment = url.rstrip("/").rsplit("/", 1)[-1] if url else ""
        if _VARIANT.fullmatch(segment):
            variant, via = segment, url or ""
        elif name == SYSTEM and (records_system or accelerators.get(name) == SYSTEM):
            variant, via = SYSTEM, "[tool.uvtorch] system: the environment's torch"
        elif _VARIANT_NAME.fullmatch(name):
            variant = re.sub(r"^(rocm\d+)-", r"\1.", name).replace("-", ".")
            via = "named after the build"
        elif name in accelerators and _VARIANT.fullmatch(accelerators[name]):
            variant, via = accelerators[name], ".uvtorch.toml accelerators"
        else:
            continue  # an extra for something else (dev tools, docs)
        spec = _torch_requirement(requirements or []) or base_spec
        torch = locked.get(variant)
        if torch is None and family(variant) == "cuda":  # only CUDA's fit depends on it
            torch = _minor_of_spec(spec, known_minors)
        found.append(ProjectExtra(name, variant, via, torch))
    return tuple(found)


# --------------------------------------------------------------------------------------------
# The choice
# --------------------------------------------------------------------------------------------


def describe_extras(extras: Iterable[ProjectExtra]) -> str:
    """`cpu (cpu), cu126 (cu126), gpu (cu130)`: what each extra installs."""
    return ", ".join(
        e.name if e.name == e.variant else f"{e.name} ({e.variant})" for e in extras
    ) or "none"


def find_extra(extras: tuple[ProjectExtra, ...], wanted: str, origin: str) -> ProjectExtra:
    """The extra `wanted` names (its name, or the build it installs: `rocm6.4`)."""
    key = normalize(wanted)
    for e in extras:
        if e.name == key:
            return e
    matches = [e for e in extras if e.variant == wanted]
    if len(matches) == 1:
        return matches[0]
    raise UsageError(
        f"{origin} names '{wanted}', which is not an accelerator extra of this project.",
        f"Its extras are: {describe_extras(extras)}.",
    )


def machine_summary(detection: Detection) -> str:
    """What this machine can run, in one sentence."""
    parts: list[str] = []
    if detection.driver:
        runs = f"runs CUDA {detection.cuda_major}.x builds" if detection.cuda_major else (
            "runs no CUDA build on record"
        )
        parts.append(f"NVIDIA driver {detection.driver} {runs}")
        parts += [f"{g.name} ({_cc(g)})" for g in detection.gpus]
    if detection.amd_gfx or detection.rocm_version:
        parts.append(f"AMD GPU {', '.join(detection.amd_gfx) or '(target unknown)'}")
    if detection.intel_gpu:
        parts.append("an Intel GPU")
    return "; ".join(parts) or "no GPU found (CPU builds only)"


def _cc(gpu: Any) -> str:
    cap = gpu.compute_capability
    return f"compute capability {cap[0]}.{cap[1]}" if cap else "compute capability unknown"


def _pick_cuda(
    extras: tuple[ProjectExtra, ...], detection: Detection, reasons: list[str]
) -> tuple[ProjectExtra | None, tuple[tuple[str, Candidate], ...]]:
    cuda_extras = sorted(
        (e for e in extras if family(e.variant) == "cuda"), key=_build_order
    )
    runs = (
        f"runs CUDA {detection.cuda_major}.x" if detection.cuda_major else "runs no CUDA build"
    )
    reasons.append(f"driver {detection.driver} {runs}")
    gpus = [f"{g.name} ({_cc(g)})" for g in detection.gpus]
    if gpus:
        reasons.append(", ".join(dict.fromkeys(gpus)))
    if not cuda_extras:
        reasons.append("the project has no CUDA extra")
        return None, ()
    assessed = tuple((e.name, assess_cuda_build(detection, e.variant, e.minor)) for e in cuda_extras)
    for (name, fit) in assessed:
        if fit.runtime == "too-old":
            cv = cuda_of(fit.variant)
            reasons.append(f"{name} needs a driver for CUDA {cv[0] if cv else '?'}.x")
        elif fit.arch == "missing":
            reasons.append(f"{name} lacks code for compute capability {', '.join(fit.missing)}")
    fits = [e for e, (_, fit) in zip(cuda_extras, assessed) if fit.runtime == "ok" and fit.arch == "ok"]
    unverified = [
        e for e, (_, fit) in zip(cuda_extras, assessed)
        if fit.runtime != "too-old" and fit.arch == "unknown"
    ]
    if fits:
        pick = fits[-1]
        reasons.append(f"{pick.name} is the newest CUDA extra that serves every GPU")
        return pick, assessed
    if unverified:
        pick = unverified[-1]
        known = any(g.compute_capability for g in detection.gpus)
        why = (f"which GPUs the {pick.variant} wheels of torch {pick.minor or '(version unknown)'}"
               " carry code for is not on record" if known else
               "no GPU reported its compute capability (nvidia-smi listed none)")
        reasons.append(
            f"{pick.name} is the newest CUDA extra this driver runs; {why}, so its fit is not"
            " checked (`uvtorch verify` checks it after the sync)"
        )
        return pick, assessed
    return None, assessed


def choose_extra(
    extras: tuple[ProjectExtra, ...],
    detection: Detection | None,
    *,
    explicit: str | None = None,
    from_env: str | None = None,
    in_image: bool = False,
) -> ExtraChoice:
    """The extra this machine should install (see the module docstring for the order).

    `detection` may be None only when `explicit` or `from_env` gives the choice.
    """
    if not extras:
        raise NoAcceleratorExtras(
            "This project has no extra that installs a torch build (none routes torch to a "
            "PyTorch index or is named after a build such as cpu or cu126).",
            "Use `uv sync` directly, or give the project accelerator extras with "
            "`uvtorch add -a cpu -a cu126`.",
        )
    if explicit:
        e = find_extra(extras, explicit, "--extra")
        return ExtraChoice(e.name, e.variant, "--extra", (), ())
    if from_env:
        e = find_extra(extras, from_env, ENV_EXTRA)
        return ExtraChoice(e.name, e.variant, f"{ENV_EXTRA}={from_env}", (), ())
    if detection is None:
        raise ValueError("choose_extra needs the machine's detection to choose")
    reasons: list[str] = []
    system = _of_build(extras, SYSTEM)
    if system is not None and in_image:
        reasons.append("inside a container image whose python3 imports torch: its torch")
        return ExtraChoice(system.name, SYSTEM, "detected", tuple(reasons), ())
    if system is not None:
        reasons.append("not inside a container image whose python3 imports torch, so not the"
                       " system extra")
    pick: ProjectExtra | None = None
    assessed: tuple[tuple[str, Candidate], ...] = ()
    if detection.driver is not None:
        pick, assessed = _pick_cuda(extras, detection, reasons)
    elif detection.amd_gfx or detection.rocm_version:
        rocm = sorted((e for e in extras if family(e.variant) == "rocm"),
                      key=_build_order)
        reasons.append(f"AMD GPU {', '.join(detection.amd_gfx) or '(target unknown)'}")
        if rocm:
            pick = _pick_rocm(rocm, detection.amd_gfx, reasons)
        else:
            reasons.append("the project has no ROCm extra")
    elif detection.intel_gpu:
        reasons.append("Intel GPU on the PCI bus")
        pick = _of_build(extras, "xpu")
        if pick is None:
            reasons.append("the project has no xpu extra")
    elif detection.platform == "macos-arm64":
        reasons.append("macOS arm64: the cpu build includes MPS, the Apple GPU backend")
    else:
        reasons.append("no NVIDIA driver, AMD ROCm or Intel GPU found")
    if pick is not None:
        return ExtraChoice(pick.name, pick.variant, "detected", tuple(reasons), assessed)
    cpu = _of_build(extras, "cpu")
    if cpu is not None:
        reasons.append(f"-> {cpu.name}")
        return ExtraChoice(cpu.name, "cpu", "detected", tuple(reasons), assessed)
    raise NoFittingExtra(
        f"No extra of this project fits this machine, and it has no cpu extra. Its extras: "
        f"{describe_extras(extras)}. This machine: {machine_summary(detection)}"
        f" ({'; '.join(reasons)}).",
        f"Pick one anyway with `--extra ID` (or {ENV_EXTRA}=ID), or add a build this machine "
        "runs with `uvtorch add -a ID` (`uvtorch detect` names it). uvtorch never falls back "
        "to a plain `uv sync`, which would install PyPI's torch or none.",
    )


def _pick_rocm(
    rocm: list[ProjectExtra], gfx: tuple[str, ...], reasons: list[str]
) -> ProjectExtra | None:
    """The newest ROCm extra whose wheels have kernels for every GPU target (`data/rocm.toml`,
    as `uvtorch detect` decides); one whose targets are not on record is taken only when no
    checked one fits, and said so."""
    from uvtorch.detect import load_rocm

    known = load_rocm().gfx
    unchecked: ProjectExtra | None = None
    for extra in reversed(rocm):  # newest first
        targets = known.get(extra.variant)
        if not gfx or targets is None:
            unchecked = unchecked or extra
            continue
        missing = [t for t in gfx if t not in targets]
        if not missing:
            reasons.append(f"{extra.name} has kernels for {', '.join(gfx)}")
            return extra
        reasons.append(f"{extra.name} has no kernels for {', '.join(missing)}")
    if unchecked is not None:
        reasons.append(
            f"{unchecked.name}: which GPU targets its wheels have kernels for is not on record;"
            " not checked"
        )
    return unchecked
