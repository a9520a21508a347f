"""Kernel recipes: which extras get a kernel, what its build is told, and bad input."""

from __future__ import annotations

import re

import pytest

from uvtorch.answers import Answers
from uvtorch.catalog import load
from uvtorch.errors import BadSpec, NoBuild, UsageError
from uvtorch.kernels import load_kernels
from uvtorch.plan import Plan, make_plan


def plan(**kwargs: object) -> Plan:
    kwargs.setdefault("name", "k")
    return make_plan(Answers(**kwargs), load())  # type: ignore[arg-type]


def build(p: Plan, name: str):  # noqa: ANN201 - test helper
    return next(b for b in p.kernels if b.name == name)


def extra_names(p: Plan, kernel: str) -> list[str]:
    return [e.name for e in p.extras if any(pkg.name == kernel for pkg in e.packages)]


def test_cuda_only_kernel_goes_only_into_cuda_extras() -> None:
    p = plan(accelerators=("cpu", "cu128", "rocm6.4"), torch=">=2.9,<2.10", kernels=("apex",))
    assert extra_names(p, "apex") == ["cu128"]
    assert dict(build(p, "apex").variables)["APEX_CUDA_EXT"] == "1"


def test_gpu_names_become_compute_capabilities_and_gfx_targets() -> None:
    p = plan(accelerators=("cu128", "rocm6.4"), torch=">=2.9,<2.10", kernels=("deepspeed",),
             gpus=("h100", "a100", "mi300x"))
    variables = dict(build(p, "deepspeed").variables)
    assert variables["TORCH_CUDA_ARCH_LIST"] == "9.0;8.0"
    assert variables["PYTORCH_ROCM_ARCH"] == "gfx942"
    assert variables["MAX_JOBS"] == load_kernels().defaults["max_jobs"]


def test_default_targets_never_exceed_what_the_compilers_build() -> None:
    old = dict(build(plan(accelerators=("cu118",), torch=">=2.7,<2.8", kernels=("xformers",)),
                     "xformers").variables)
    new = dict(build(plan(accelerators=("cu130",), torch=">=2.12,<2.13", kernels=("xformers",)),
                     "xformers").variables)
    assert old["TORCH_CUDA_ARCH_LIST"] == "7.5;8.0;8.6;8.9;9.0"  # CUDA 11.8: no Blackwell
    assert new["TORCH_CUDA_ARCH_LIST"] == "7.5;8.0;8.6;8.9;9.0;10.0;12.0"


def test_flash_attn_gets_its_own_arch_variable_format() -> None:
    p = plan(accelerators=("cu128",), torch=">=2.9,<2.10", kernels=("flash-attn",),
             cuda_archs=("8.6", "9.0", "7.5"))
    assert dict(build(p, "flash-attn").variables)["FLASH_ATTN_CUDA_ARCHS"] == "80;90"
    assert any("7.5" in note for note in p.notes)  # Turing has no flash-attn kernels


def test_cutlass_switch_only_when_every_target_is_ampere_or_newer() -> None:
    on = plan(accelerators=("cu128",), torch=">=2.8,<2.9", kernels=("grouped_gemm",),
              cuda_archs=("8.0", "9.0"))
    off = plan(accelerators=("cu128",), torch=">=2.8,<2.9", kernels=("grouped_gemm",),
               gpus=("t4", "h100"))
    assert dict(build(on, "grouped-gemm").variables)["GROUPED_GEMM_CUTLASS"] == "1"
    assert "GROUPED_GEMM_CUTLASS" not in dict(build(off, "grouped-gemm").variables)


def test_grouped_gemm_source_follows_its_build_time_torch_pin() -> None:
    pypi = plan(accelerators=("cu128",), torch=">=2.7,<2.8", kernels=("grouped_gemm",))
    git = plan(accelerators=("cu128",), torch=">=2.8,<2.9", kernels=("grouped_gemm",))
    assert build(pypi, "grouped-gemm").git is None
    assert build(git, "grouped-gemm").git == (
        "https://github.com/tgale96/grouped_gemm", "ebeae0bb3ded459886309b2a30410deb16937af4")


def test_family_variables_that_differ_per_extra_are_left_unset_with_a_note() -> None:
    p = plan(accelerators=("cpu", "cu128"), torch=">=2.9,<2.10", kernels=("deepspeed",))
    assert "DS_ACCELERATOR" not in dict(build(p, "deepspeed").variables)
    assert any("DS_ACCELERATOR" in note for note in p.notes)
    only_cuda = plan(accelerators=("cu128",), torch=">=2.9,<2.10", kernels=("deepspeed",))
    assert dict(build(only_cuda, "deepspeed").variables)["DS_ACCELERATOR"] == "cuda"


def test_bitsandbytes_needs_no_build_settings() -> None:
    p = plan(accelerators=("cu128",), torch=">=2.9,<2.10", kernels=("bitsandbytes",))
    b = build(p, "bitsandbytes")
    assert not b.match_torch and b.build_requires == () and dict(b.variables) == {}


def test_unknown_kernel_gets_the_generic_recipe_and_a_note() -> None:
    p = plan(accelerators=("cpu", "cu128"), torch=">=2.9,<2.10", kernels=("my-fused-ops",))
    b = build(p, "my-fused-ops")
    assert b.match_torch and b.build_requires == ("setuptools", "wheel", "ninja")
    assert extra_names(p, "my-fused-ops") == ["cu128"]
    assert any("guess" in note and "my-fused-ops" in note for note in p.notes)


def test_transformer_engine_gets_the_core_library_of_its_cuda_major() -> None:
    cu12 = plan(accelerators=("cu126",), torch=">=2.12,<2.13", kernels=("transformer-engine",))
    cu13 = plan(accelerators=("cu130",), torch=">=2.12,<2.13", kernels=("transformer-engine",))
    assert any(p.requirement.startswith("transformer-engine-cu12==")
               for p in cu12.extras[0].packages)
    assert any(p.requirement.startswith("transformer-engine-cu13==")
               for p in cu13.extras[0].packages)
    assert build(cu12, "transformer-engine").package == "transformer-engine-torch"


@pytest.mark.parametrize(
    ("answers", "error", "says"),
    [
        ({"accelerators": ("cpu",), "kernels": ("flash-attn",)}, NoBuild,
         "-k flash-attn builds for cuda, rocm accelerators; you chose cpu"),
        ({"accelerators": ("cu126",), "torch": ">=2.9,<2.10", "kernels": ("xformers",),
          "cuda_archs": ("10.0",)}, NoBuild, "CUDA 12.6 (cu126) cannot build compute capability 10.0"),
        ({"accelerators": ("cu130",), "torch": ">=2.12,<2.13", "kernels": ("xformers",),
          "gpus": ("v100",)}, NoBuild, "cannot build compute capability 7.0"),
        ({"accelerators": ("cu128",), "kernels": ("xformers",), "gpus": ("h1000",)}, UsageError,
         "Unknown GPU 'h1000'"),
        ({"accelerators": ("cu128",), "kernels": ("xformers",), "cuda_archs": ("sm90",)}, BadSpec,
         "'sm90' is not a compute capability"),
        ({"accelerators": ("cu128",), "cuda_archs": ("9.0",)}, UsageError, "no -k kernel"),
        ({"accelerators": ("cu128",), "kernels": ("xformers", "xformers")}, UsageError, "twice"),
    ],
)
def test_bad_kernel_input(answers: dict[str, object], error: type[Exception], says: str) -> None:
    with pytest.raises(error, match=re.escape(says)):
        plan(**answers)
