"""`uvtorch check`: findings on real-world files, on small cases, and on our own output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tomlread import loads
from uvtorch.catalog import load
from uvtorch.checks import run
from uvtorch.checks.context import load_context
from uvtorch.cli import main

CORPUS = Path(__file__).parent / "corpus"
# The corpus's first labels (expected.toml) used the first check's ids; their rules now have
# these names (labels.toml, the corpus's new format, uses the names directly).
OLD_IDS = {
    "extras-without-conflicts": "extras-without-conflicts",
    "torch-without-extra-source": "accelerator-extra-without-source",
    "index-not-explicit": "index-not-explicit",
    "companion-mismatch": "companion-build-mismatch",
    "dependent-pulls-pypi-torch": "base-install-pulls-pypi-torch",
    "missing-platform-marker": "platform-gets-other-build",
    "kernel-without-build-torch": "kernel-without-build-torch",
    "no-build-for-accelerator": "no-build-for-accelerator",
    "nightly-without-triton-source": "nightly-without-triton-source",
    "system-torch-not-excluded": "system-torch-not-excluded",
}


def ids(folder: Path) -> set[str]:
    return {f.name for f in run(load_context(folder, load()))}


OLD_LABELLED = sorted(p.parent.name for p in CORPUS.glob("*/expected.toml"))
# Old labels that uv's behaviour disproves, with the proof; the label files are the corpus's.
DISPROVED = {
    # The default group's torch source has no marker, but the group's torch requirement is
    # Linux x86_64 only, and a group-scoped source applies only to that group's requirements
    # (uv: crates/uv-distribution/src/metadata/lowering.rs): macOS gets PyPI's torch. Proved
    # with the real uv in test_check_framework.py::test_a_group_scoped_source_only_reaches_...
    ("open-instruct", "platform-gets-other-build"),
}


# Old labels the routing model answers otherwise, each with the uv behaviour that decides it.
OLD_LABELS_OVERRULED = {
    # cu12 is in no conflict set, so uv resolves it in every fork and its index pin reaches the
    # base requirement: a plain `uv sync` gets the cu128 build, not PyPI's (uv 0.13.9 on the
    # fake index: tests/test_model_uv.py, project `base-and-extra`).
    ("mjlab", "base-install-pulls-pypi-torch"),
    # `uv lock` fails first on the two index pins (extras-without-conflicts, reported); no
    # platform can be judged until the lock resolves.
    ("nanochat-extras-no-conflicts", "platform-gets-other-build"),
    # The cpu/gpu aliases get PyPI's torch because uv routes requirements reached through a
    # self-reference as unscoped (tests/test_model_uv.py, project `alias`): reported as
    # extra-alias-not-routed, the rule for exactly that.
    ("sleap-nn-alias-extras", "accelerator-extra-without-source"),
}


@pytest.mark.parametrize("entry", OLD_LABELLED)
def test_real_world_projects_get_the_expected_findings(entry: str) -> None:
    """Every old label is still found (at the severity the model now gives it); new findings
    are the corpus benchmark's to score (benchmarks/check_corpus.py)."""
    expected = {OLD_IDS[i] for i in loads((CORPUS / entry / "expected.toml").read_text())["findings"]}
    expected -= {name for e, name in OLD_LABELS_OVERRULED | DISPROVED if e == entry}
    assert expected <= ids(CORPUS / entry)


def test_the_torch_2_6_cu126_lock_in_the_corpus_is_caught() -> None:
    assert "lock-cuda-without-nvidia" in ids(CORPUS / "dia-cu126")


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(text)
    return tmp_path


GUIDE = """
[project]
name = "p"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = []

[project.optional-dependencies]
cpu = ["torch>=2.9,<2.10", "torchvision>=0.24,<0.25"]
cu128 = ["torch>=2.9,<2.10", "torchvision>=0.24,<0.25"]

[tool.uv]
conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]

[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu128", extra = "cu128", marker = "sys_platform != 'darwin'" },
]
torchvision = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu128", extra = "cu128", marker = "sys_platform != 'darwin'" },
]

[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu128"
url = "https://download.pytorch.org/whl/cu128"
explicit = true
"""


def test_the_uv_guide_pattern_is_clean(tmp_path: Path) -> None:
    assert ids(write(tmp_path, GUIDE)) == set()


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        (('conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]', ""), "extras-without-conflicts"),
        (('  { index = "pytorch-cu128", extra = "cu128", marker = "sys_platform != \'darwin\'" },\n]\n'
          "torchvision", "]\ntorchvision"), "accelerator-extra-without-source"),
        (("explicit = true\n\n[[tool.uv.index]]", "\n[[tool.uv.index]]"), "index-not-explicit"),
        (("dependencies = []", 'dependencies = ["ultralytics"]'), "base-install-pulls-pypi-torch"),
        (('{ index = "pytorch-cu128", extra = "cu128", marker = "sys_platform != \'darwin\'" },\n]\n'
          "torchvision", '{ index = "pytorch-cu128", extra = "cu128" },\n]\ntorchvision'),
         "platform-gets-other-build"),
        (('cu128 = ["torch>=2.9,<2.10", "torchvision>=0.24,<0.25"]',
          'cu128 = ["torch>=2.9,<2.10", "torchvision>=0.24,<0.25", "flash-attn"]'),
         "kernel-without-build-torch"),
        (('cu128 = ["torch>=2.9,<2.10"', 'cu128 = ["torch>=2.4,<2.5"'), "no-build-for-accelerator"),
        (("whl/cu128", "whl/nightly/cu128"), "nightly-without-triton-source"),
        (('{ index = "pytorch-cpu", extra = "cpu" },\n  { index = "pytorch-cu128", extra = "cu128", '
          'marker = "sys_platform != \'darwin\'" },\n]\n\n[[',
          '{ index = "pytorch-cpu", extra = "cpu" },\n  { index = "pytorch-cpu", extra = "cu128" },\n]\n\n[['),
         "companion-build-mismatch"),
        (("[tool.uv]\n", '[tool.uvtorch]\nsystem = { torch = "2.5.0a0" }\n\n[tool.uv]\n'),
         "system-torch-not-excluded"),
    ],
)
def test_each_failure_mode_is_found(tmp_path: Path, change: tuple[str, str], finding: str) -> None:
    old, new = change
    assert old in GUIDE, old
    assert finding in ids(write(tmp_path, GUIDE.replace(old, new, 1)))


@pytest.mark.parametrize(
    "args",
    [
        ["-a", "cpu", "-a", "cu126", "-a", "cu128", "-a", "rocm6.4", "-a", "xpu", "--package", "torchvision",
         "--package", "ultralytics"],
        ["-a", "cu126", "--torch", ">=2.6,<2.7"],
        ["--channel", "nightly", "-a", "cpu", "-a", "cu130", "--package", "torchvision"],
        ["-a", "cpu", "-a", "cu128", "--torch", ">=2.9,<2.10", "-k", "grouped_gemm", "-k", "flash-attn",
         "-k", "torch-scatter", "--package", "timm"],
    ],
)
def test_what_init_writes_passes_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert main(["init", str(tmp_path / "p"), "--yes", *args]) == 0
    capsys.readouterr()
    # What uvtorch writes has no warnings either.
    assert main(["check", str(tmp_path / "p"), "--strict"]) == 0, capsys.readouterr().out


def test_json_output_and_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, GUIDE.replace("explicit = true\n\n[[tool.uv.index]]", "\n[[tool.uv.index]]"))
    assert main(["check", str(tmp_path), "--json"]) == 0  # a warning: the project works
    report = json.loads(capsys.readouterr().out)
    assert report["summary"] == {"error": 0, "warning": 1, "info": 0}
    finding = report["findings"][0]
    assert (finding["code"], finding["name"]) == ("UT006", "index-not-explicit")
    assert set(finding) == {"code", "name", "severity", "place", "message", "why", "fix"}
    assert finding["fix"] == {"title": "add explicit = true to the index pytorch-cpu",
                              "applicability": "safe"}
    assert main(["check", str(tmp_path), "--json", "--strict"]) == 1


def test_unreadable_pyproject_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\n")
    assert main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is not valid TOML" in err and "Traceback" not in err


HAND_WRITTEN = """\
# Our project. Do not reformat: reviewers diff this file by hand.
[project]
name = "hand"   # the name
version = "0.1.0"
dependencies = []

[project.optional-dependencies]
cpu   = ["torch==2.9.1"]     # aligned on purpose
cu128 = ["torch==2.9.1"]

[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu128", extra = "cu128", marker = "sys_platform == 'linux'" },
]

[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu128"   # CUDA 12.8
url = "https://download.pytorch.org/whl/cu128"
"""


def test_fix_changes_only_the_lines_it_must(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, HAND_WRITTEN)
    assert main(["check", str(tmp_path), "--fix"]) == 0
    out = capsys.readouterr().out
    fixed = (tmp_path / "pyproject.toml").read_text()
    assert fixed == HAND_WRITTEN.replace(
        "\n[tool.uv.sources]",
        '\n[tool.uv]\nconflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]\n\n[tool.uv.sources]',
    ) + "explicit = true\n"
    assert "+explicit = true" in out and "fixed: made the index pytorch-cu128 explicit" in out
    assert main(["check", str(tmp_path)]) == 0


LOCK_WITHOUT_MAC = """
version = 1
[[package]]
name = "torch"
version = "2.9.1+cu128"
source = { registry = "https://download.pytorch.org/whl/cu128" }
wheels = [{ url = "https://download.pytorch.org/whl/cu128/torch-2.9.1%2Bcu128-cp312-cp312-manylinux_2_28_x86_64.whl" }]
dependencies = [{ name = "nvidia-cudnn-cu12" }]
"""


def test_a_locked_extra_without_a_wheel_for_a_target_platform_is_found(tmp_path: Path) -> None:
    text = GUIDE.replace("[tool.uv]\n", "[tool.uv]\nenvironments = [\"sys_platform == 'linux' and "
                         "platform_machine == 'x86_64'\", \"sys_platform == 'win32'\"]\n")
    write(tmp_path, text)
    (tmp_path / "uv.lock").write_text(LOCK_WITHOUT_MAC)
    findings = run(load_context(tmp_path, load()))
    missing = [f for f in findings if f.name == "lock-missing-platform-wheel"]
    assert len(missing) == 1 and missing[0].place.platform == "windows-x86_64"
    assert missing[0].place.install == "extra:cu128" and "windows-x86_64" in missing[0].message


def test_the_cu126_lock_finding_names_the_install_that_syncs_it() -> None:
    # A lock-level finding is about what `uv sync` installs: dia-cu126's torch 2.6.0+cu126 is
    # a base dependency, so the plain `uv sync` is the install (the lock's own edges say so).
    findings = [f for f in run(load_context(CORPUS / "dia-cu126", load()))
                if f.name == "lock-cuda-without-nvidia"]
    assert [(f.place.install, f.place.platform) for f in findings] == [("base", "linux-x86_64")]


def test_a_locked_extra_without_a_wheel_is_found_without_environments() -> None:
    # startrails locks for every platform (no tool.uv.environments: uv's universal
    # resolution); its cu118/cu124 torch has only linux_x86_64/win_amd64 wheels. Its `mps`
    # extra says macOS matters (warning); nothing names linux aarch64 (a note). The cpu index
    # locks a plain 2.7.1 for macOS next to 2.7.1+cpu, so the cpu extra is not missing one.
    found = {(f.place.install, f.place.platform, f.severity)
             for f in run(load_context(CORPUS / "startrails", load()))
             if f.name == "lock-missing-platform-wheel"}
    assert found == {(f"extra:{e}", pid, sev) for e in ("cu118", "cu124")
                     for pid, sev in (("macos-arm64", "warning"), ("linux-aarch64", "info"))}
