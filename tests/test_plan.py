"""Plan decisions, as tables of answers and what the plan must say."""

from __future__ import annotations

import pytest
from packaging.version import Version

from uvtorch.answers import Answers
from uvtorch.catalog import load
from uvtorch.errors import BadSpec, NoBuild, UnknownAccelerator, UsageError
from uvtorch.plan import Plan, make_plan


def plan(**kwargs: object) -> Plan:
    kwargs.setdefault("name", "demo")
    return make_plan(Answers(**kwargs), load())  # type: ignore[arg-type]


def extra(p: Plan, name: str):  # noqa: ANN201 - test helper
    return next(e for e in p.extras if e.name == name)


@pytest.mark.parametrize(
    ("accelerators", "torch"),
    [
        ((), "torch>=2.15,<2.16"),  # cpu only: the newest release
        (("cu128",), "torch>=2.11,<2.12"),  # cu128 was last built for 2.11
        (("cpu", "cu126", "cu128", "rocm6.4", "xpu"), "torch>=2.9,<2.10"),
        (("cu118",), "torch>=2.7,<2.8"),
        (("rocm7.14",), "torch>=2.14,<2.15"),
    ],
)
def test_default_torch_is_newest_release_with_every_accelerator(
    accelerators: tuple[str, ...], torch: str
) -> None:
    assert plan(accelerators=accelerators).torch == torch


@pytest.mark.parametrize(
    ("answers", "python"),
    [
        ({}, ">=3.11,<3.16"),  # torch 2.15 dropped 3.10
        ({"torch": ">=2.9,<2.10"}, ">=3.10,<3.15"),
        ({"torch": ">=2.4,<2.5"}, ">=3.10,<3.13"),  # 2.4 supports 3.8, new projects start at 3.10
        ({"torch": ">=2.9,<2.10", "python": ">=3.12"}, ">=3.12"),
    ],
)
def test_python_range(answers: dict[str, str], python: str) -> None:
    assert plan(**answers).requires_python == python


def test_no_accelerator_means_cpu() -> None:
    assert [e.accelerator for e in plan().extras] == ["cpu"]


def test_accelerators_are_deduplicated_and_ordered() -> None:
    p = plan(accelerators=("XPU", "cu128", "cpu", "cu126", "cu128"), torch=">=2.9,<2.10")
    assert [e.name for e in p.extras] == ["cpu", "cu126", "cu128", "xpu"]


def test_extra_and_index_names_follow_pep_685() -> None:
    e = extra(plan(accelerators=("rocm6.4",)), "rocm6-4")
    assert (e.index_name, e.url) == ("pytorch-rocm6-4", "https://download.pytorch.org/whl/rocm6.4")


@pytest.mark.parametrize(
    ("accelerator", "torch", "marker", "fallback"),
    [
        ("cpu", ">=2.9,<2.10", None, ()),
        ("cu128", ">=2.9,<2.10", "sys_platform == 'linux' or sys_platform == 'win32'", ("macos-arm64",)),
        (
            "cu128",
            ">=2.8,<2.9",  # 2.8 built cu128 for x86_64 only on Linux
            "(sys_platform == 'linux' and platform_machine == 'x86_64') or sys_platform == 'win32'",
            ("linux-aarch64", "macos-arm64"),
        ),
        (
            "rocm6.4",
            ">=2.9,<2.10",
            "sys_platform == 'linux' and platform_machine == 'x86_64'",
            ("linux-aarch64", "windows-x86_64", "macos-arm64"),
        ),
    ],
)
def test_source_markers_cover_exactly_the_platforms_with_wheels(
    accelerator: str, torch: str, marker: str | None, fallback: tuple[str, ...]
) -> None:
    e = plan(accelerators=(accelerator,), torch=torch).extras[0]
    assert (e.marker, e.fallback) == (marker, fallback)


def test_marker_is_only_as_precise_as_the_targets_need() -> None:
    e = plan(accelerators=("rocm6.4",), torch=">=2.9,<2.10", platforms=("linux-x86_64",)).extras[0]
    assert (e.marker, e.fallback) == (None, ())


def test_platforms_become_environments() -> None:
    p = plan(platforms=("macos-arm64", "linux-x86_64"))
    assert p.environments == (
        "sys_platform == 'linux' and platform_machine == 'x86_64'",
        "sys_platform == 'darwin'",
    )
    assert {f.id for f in p.uv_features} >= {"environments", "required-environments"}
    assert p.required_uv == Version("0.6.1")


def test_companions_get_matching_versions() -> None:
    p = plan(torch=">=2.12,<2.13", packages=("torchvision", "torchaudio", "torchao"))
    requirements = [pkg.requirement for pkg in p.extras[0].packages]
    assert requirements == [
        "torch>=2.12,<2.13",
        "torchao>=0.18.0,<0.19",
        "torchaudio>=2.11.0,<2.12",  # no torchaudio 2.12 exists
        "torchvision>=0.27.0,<0.28",
    ]
    assert [pkg.from_index for pkg in p.extras[0].packages] == [True, False, True, True]


def test_open_ended_torch_leaves_companions_open() -> None:
    p = plan(torch=">=2.9", packages=("torchvision",))
    assert p.extras[0].packages[1].requirement == "torchvision>=0.24.0"


def test_user_companion_spec_is_kept_when_it_matches() -> None:
    p = plan(torch=">=2.9,<2.10", packages=("torchvision==0.24.1",))
    assert p.extras[0].packages[1].requirement == "torchvision==0.24.1"


def test_dependent_goes_into_every_extra_with_the_companion_it_needs() -> None:
    p = plan(accelerators=("cpu", "cu128"), torch=">=2.9,<2.10", packages=("Ultralytics>=8.3",))
    for e in p.extras:
        assert [pkg.requirement for pkg in e.packages] == [
            "torch>=2.9,<2.10",
            "torchvision>=0.24.0,<0.25",
            "Ultralytics>=8.3",
        ]
    assert any("torchvision" in note and "ultralytics" in note for note in p.notes)


def test_rocm_and_xpu_extras_carry_their_triton_from_their_index() -> None:
    old = plan(accelerators=("rocm6.4", "xpu"), torch=">=2.9,<2.10")
    new = plan(accelerators=("rocm7.2", "xpu"), torch=">=2.11,<2.12")
    names = lambda p, x: [pkg.name for pkg in extra(p, x).packages if pkg.from_index]  # noqa: E731
    assert names(old, "rocm6-4") == ["torch", "pytorch-triton-rocm"]
    assert names(old, "xpu") == ["torch", "pytorch-triton-xpu"]
    assert names(new, "rocm7-2") == ["torch", "triton-rocm"]
    assert names(new, "xpu") == ["torch", "triton-xpu"]


def test_known_bad_metadata_is_overridden_only_when_it_can_be_locked() -> None:
    assert [str(k.version) for k in plan(torch=">=2.6,<2.7", accelerators=("cu126",)).overrides] == [
        "2.6.0+cu126"
    ]
    assert plan(torch=">=2.6,<2.7", accelerators=("cu124",)).overrides == ()
    assert plan(torch=">=2.9,<2.10", accelerators=("cu126",)).overrides == ()


def test_resolved_answers_record_every_default() -> None:
    p = plan(accelerators=("cu128",), packages=("torchvision",))
    assert p.answers.torch == ">=2.11,<2.12"
    assert p.answers.python == ">=3.10,<3.15"
    assert p.answers.index_url == "https://download.pytorch.org/whl"
    # The packages as chosen: their pins are derived from torch again on every replay.
    assert p.answers.packages == ("torchvision",)


def test_index_url_mirror_keeps_the_variant_layout() -> None:
    e = plan(index_url="https://mirror.example.com/whl/").extras[0]
    assert e.url == "https://mirror.example.com/whl/cpu"


@pytest.mark.parametrize(
    ("answers", "error", "says"),
    [
        ({"accelerators": ("cu999",)}, UnknownAccelerator, ["cu999", "cu118", "cu132"]),
        ({"accelerators": ("tpu",)}, UnknownAccelerator, ["tpu", "cpu", "xpu"]),
        ({"accelerators": ("cu118",), "torch": ">=2.9"}, NoBuild, ["cu118", "2.4 to 2.7", "cu126"]),
        ({"accelerators": ("cu118", "cu132")}, NoBuild, ["cu118", "cu132", "2.12 to 2.15"]),
        ({"torch": ">=3.0"}, NoBuild, [">=3.0", "2.4 to 2.15"]),
        ({"torch": "2.9"}, BadSpec, ["'2.9'", ">=2.9,<2.10"]),
        ({"torch": "==2.9.1+cu128"}, BadSpec, ["local version", "-a"]),
        ({"python": "torchvision"}, BadSpec, ["'torchvision'", "--package torchvision"]),
        ({"packages": ("3.12",)}, BadSpec, ["'3.12'", "--python 3.12"]),
        ({"python": ">=3.8", "torch": ">=2.9,<2.10"}, NoBuild, ["3.8", "3.10 to 3.14", ">=3.10"]),
        ({"python": "<3", "torch": ">=2.9,<2.10"}, BadSpec, ["<3"]),
        ({"packages": ("torchvision>>1",)}, BadSpec, ["torchvision>>1", "PEP 508"]),
        ({"packages": ("torch",)}, UsageError, ["--torch"]),
        ({"packages": ("torchao",), "torch": ">=2.4,<2.5"}, NoBuild, ["torchao", "2.4"]),
        ({"packages": ("torchvision==0.20.0",), "torch": ">=2.9,<2.10"}, NoBuild, ["0.24.0", "0.24.1"]),
        ({"packages": ("timm", "TIMM")}, UsageError, ["twice"]),
        ({"platforms": ("linux",)}, UsageError, ["'linux'", "linux-x86_64"]),
        ({"name": "my project"}, BadSpec, ["'my project'", "--name"]),
        ({"index_url": "download.pytorch.org/whl"}, UsageError, ["download.pytorch.org/whl", "https://"]),
        ({"channel": "nightly", "accelerators": ("cu118",)}, NoBuild,
         ["nightly channel has no cu118", "cu130"]),
        ({"nightly_date": "20261120"}, UsageError, ["--channel nightly"]),
        ({"channel": "nightly", "nightly_date": "2026-11-20"}, BadSpec, ["'2026-11-20'", "YYYYMMDD"]),
        (
            {"accelerators": ("rocm6.4",), "platforms": ("macos-arm64",), "torch": ">=2.9,<2.10"},
            NoBuild,
            ["rocm6.4", "macos-arm64", "linux-x86_64"],
        ),
    ],
)
def test_bad_answers_name_the_value_and_what_would_work(
    answers: dict[str, object], error: type[Exception], says: list[str]
) -> None:
    with pytest.raises(error) as raised:
        plan(**answers)
    text = str(raised.value)
    for fragment in says:
        assert fragment in text, (fragment, text)


def test_nightly_plan_uses_the_channel_indexes_and_its_triton() -> None:
    p = plan(channel="nightly", accelerators=("cu130",), nightly_date="20261120")
    e = p.extras[0]
    assert e.url == "https://download.pytorch.org/whl/nightly/cu130"
    assert e.index_name == "pytorch-nightly-cu130"
    assert e.packages[0].requirement.startswith("torch==2.16.0.dev20261120;")
    assert [pkg.name for pkg in e.packages if pkg.from_index] == ["torch", "triton"]
    assert p.answers.nightly_date == "20261120"


@pytest.mark.parametrize(
    ("date", "version"),
    [("20261129", "2.16.0"), ("20261130", "2.17.0"), ("20270115", "2.17.0")],
)
def test_a_nightly_date_pin_names_the_version_built_that_day(date: str, version: str) -> None:
    """The 2.16 branch cut (2026-11-30) moved nightly to 2.17.0.dev: the pin follows the date."""
    p = plan(channel="nightly", accelerators=("cpu",), nightly_date=date)
    assert p.extras[0].packages[0].requirement.startswith(f"torch=={version}.dev{date}")


def test_nightly_has_xpu_and_aarch64_cuda_builds() -> None:
    p = plan(channel="nightly", accelerators=("xpu", "cu130"))
    assert {e.accelerator for e in p.extras} == {"xpu", "cu130"}
    # No note says an aarch64 machine gets no torch from the cu130 extra (macOS only).
    missing = [n for n in p.notes if "cu130 index has no builds for" in n]
    assert missing == [
        "The nightly cu130 index has no builds for macos-arm64: there the cu130 extra installs no torch."
    ]


def test_torchao_from_pypi_is_a_cuda_13_build_and_other_gpu_extras_are_told() -> None:
    p = plan(accelerators=("cpu", "cu126", "cu130"), packages=("torchao",), torch=">=2.14,<2.15")
    said = [n for n in p.notes if n.startswith("torchao comes from PyPI")]
    assert len(said) == 1 and "in the cpu, cu126 extras" in said[0]
    assert not [n for n in plan(accelerators=("cu130",), packages=("torchao",)).notes
                if n.startswith("torchao comes from PyPI")]


def test_macos_14_is_named_when_macos_is_a_target_of_torch_2_12_or_newer() -> None:
    p = plan(platforms=("macos-arm64",), torch=">=2.11,<2.13")
    assert "torch 2.12 and newer install on macOS 14.0 or newer only" in " ".join(p.notes)
    assert not any("macOS 14" in n for n in plan(platforms=("macos-arm64",), torch="==2.11.0").notes)


def test_a_generated_dependent_brings_the_companion_its_pypi_metadata_names() -> None:
    # speechbrain is in data/dependents.toml because its Requires-Dist names torchaudio
    # (scripts/refresh_dependents.py); the note quotes the requirement read from PyPI.
    p = plan(accelerators=("cpu",), torch=">=2.9,<2.10", packages=("speechbrain",))
    names = [pkg.requirement.split(">")[0].split("=")[0] for pkg in p.extras[0].packages]
    assert names == ["torch", "torchaudio", "speechbrain"]
    assert any("speechbrain" in n and "torchaudio>=" in n for n in p.notes)
