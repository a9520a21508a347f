"""The routing rules on small projects: each finding (name, severity, place) a behaviour of uv
decides; the uv guide's own patterns stay clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from uvtorch.catalog import load
from uvtorch.checks import run
from uvtorch.checks.context import load_context
from uvtorch.cli import main

HEAD = """
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.10"
"""

INDEXES = """
[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu128"
url = "https://download.pytorch.org/whl/cu128"
explicit = true
"""

GUIDE = HEAD + """
dependencies = []
[project.optional-dependencies]
cpu = ["torch>=2.9,<2.10", "torchvision>=0.24,<0.25"]
cu128 = ["torch>=2.9,<2.10", "torchvision>=0.24,<0.25"]
[tool.uv]
conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]
[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu128", extra = "cu128", marker = "sys_platform == 'linux' or sys_platform == 'win32'" },
]
torchvision = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu128", extra = "cu128", marker = "sys_platform == 'linux' or sys_platform == 'win32'" },
]
""" + INDEXES


def findings(tmp_path: Path, text: str) -> list[tuple[str, str, dict[str, str]]]:
    (tmp_path / "pyproject.toml").write_text(text)
    return [(f.name, f.severity, {k: v for k, v in vars(f.place).items() if v is not None})
            for f in run(load_context(tmp_path, load()))]


def names(tmp_path: Path, text: str, at_least: str = "info") -> set[str]:
    order = ["info", "warning", "error"]
    return {n for n, s, _ in findings(tmp_path, text) if order.index(s) >= order.index(at_least)}


def test_the_guide_with_platform_markers_is_clean(tmp_path: Path) -> None:
    assert findings(tmp_path, GUIDE) == []


def test_the_guide_without_a_macos_marker_is_only_an_info(tmp_path: Path) -> None:
    text = GUIDE.replace(', marker = "sys_platform == \'linux\' or sys_platform == \'win32\'"', "")
    found = findings(tmp_path, text)
    assert found and {(n, s) for n, s, _ in found} == {("platform-gets-other-build", "info")}
    assert main(["check", str(tmp_path)]) == 0


def test_macos_in_environments_makes_the_ungated_index_a_warning(tmp_path: Path) -> None:
    text = GUIDE.replace(', marker = "sys_platform == \'linux\' or sys_platform == \'win32\'"', "")
    text = text.replace("[tool.uv]\n", "[tool.uv]\nenvironments = [\"sys_platform == 'darwin'\", "
                        "\"sys_platform == 'linux'\"]\n")
    found = findings(tmp_path, text)
    assert ("platform-gets-other-build", "warning",
            {"install": "extra:cu128", "package": "torch", "platform": "macos-arm64",
             "table": "tool.uv.sources"}) in found


def test_hand_written_accelerator_extras_without_sources_are_found(tmp_path: Path) -> None:
    text = HEAD + """
dependencies = []
[project.optional-dependencies]
cpu = ["torch>=2.8"]
cu128 = ["torch>=2.8"]
"""
    found = findings(tmp_path, text)
    got = {(n, s, p.get("install")) for n, s, p in found}
    assert ("accelerator-extra-without-source", "error", "extra:cpu") in got
    assert any(n == "accelerator-extra-without-source" and i == "extra:cu128" for n, _, i in got)
    assert main(["check", str(tmp_path)]) == 1


def test_extras_pinned_to_two_indexes_need_conflicts(tmp_path: Path) -> None:
    text = GUIDE.replace('conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]', "")
    found = findings(tmp_path, text)
    assert ("extras-without-conflicts", "error",
            {"install": "extra:cu128", "package": "torch", "table": "tool.uv.conflicts"}) in found


def test_one_pinned_extra_outside_conflicts_reaches_the_other(tmp_path: Path) -> None:
    """cpu unpinned, cu128 pinned and in no conflict set: uv gives cpu the cu128 build."""
    text = HEAD + """
dependencies = []
[project.optional-dependencies]
cpu = ["torch>=2.9"]
cu128 = ["torch>=2.9"]
[tool.uv.sources]
torch = [{ index = "pytorch-cu128", extra = "cu128" }]
""" + INDEXES
    assert "extras-without-conflicts" in names(tmp_path, text, "error")


def test_windows_amd64_marker_mistake_is_a_warning(tmp_path: Path) -> None:
    text = HEAD + """
dependencies = ["torch>=2.9,<2.10"]
[tool.uv.sources]
torch = { index = "pytorch-cu128", marker = "platform_machine == 'x86_64'" }
""" + INDEXES
    found = findings(tmp_path, text)
    assert ("platform-gets-other-build", "warning",
            {"install": "base", "package": "torch", "platform": "windows-x86_64",
             "table": "tool.uv.sources"}) in found


@pytest.mark.parametrize(("variant", "platforms"), [
    ("rocm6.4", {"linux-aarch64", "windows-x86_64"}),
    ("xpu", {"linux-aarch64"}),
])
def test_rocm_and_xpu_outside_their_platforms(tmp_path: Path, variant: str,
                                              platforms: set[str]) -> None:
    text = HEAD + f"""
dependencies = []
[tool.uv]
environments = ["sys_platform == 'linux'", "sys_platform == 'win32'", "sys_platform == 'darwin' and platform_machine == 'arm64'"]
[project.optional-dependencies]
gpu = ["torch>=2.9,<2.10"]
[tool.uv.sources]
torch = [{{ index = "pt", extra = "gpu", marker = "sys_platform != 'darwin'" }}]
[[tool.uv.index]]
name = "pt"
url = "https://download.pytorch.org/whl/{variant}"
explicit = true
"""
    found = {p["platform"] for n, s, p in findings(tmp_path, text)
             if n == "platform-gets-other-build" and s == "warning"}
    assert found == platforms


def test_a_cpu_local_pin_excludes_macos(tmp_path: Path) -> None:
    text = HEAD + """
dependencies = []
[project.optional-dependencies]
cpu = ["torch==2.9.1+cpu"]
[tool.uv.sources]
torch = [{ index = "pytorch-cpu", extra = "cpu" }]
""" + INDEXES
    found = [(s, p.get("platform")) for n, s, p in findings(tmp_path, text)
             if n == "platform-gets-other-build"]
    assert found == [("info", "macos-arm64")]


def test_a_wheel_url_for_one_platform_with_environments_admitting_others(tmp_path: Path) -> None:
    text = HEAD + """
dependencies = ["torch"]
[tool.uv]
environments = ["sys_platform == 'linux'", "sys_platform == 'win32'"]
[tool.uv.sources]
torch = { url = "https://download.pytorch.org/whl/cu128/torch-2.9.1%2Bcu128-cp312-cp312-manylinux_2_28_x86_64.whl" }
"""
    found = {p.get("platform") for n, s, p in findings(tmp_path, text)
             if n == "platform-gets-other-build"}
    assert found == {"linux-aarch64", "windows-x86_64"}


def test_a_required_platform_without_a_wheel_is_an_error(tmp_path: Path) -> None:
    text = GUIDE.replace(', marker = "sys_platform == \'linux\' or sys_platform == \'win32\'"', "")
    text = text.replace("[tool.uv]\n", "[tool.uv]\nrequired-environments = "
                        "[\"sys_platform == 'darwin' and platform_machine == 'arm64'\"]\n")
    assert ("platform-gets-other-build", "error") in {(n, s) for n, s, _ in findings(tmp_path, text)}


def test_base_dependent_pulls_pypi_torch_and_is_named(tmp_path: Path) -> None:
    text = GUIDE.replace("dependencies = []", 'dependencies = ["ultralytics>=8"]')
    found = [p for n, s, p in findings(tmp_path, text) if n == "base-install-pulls-pypi-torch"]
    assert found and found[0]["package"] == "ultralytics" and found[0]["install"] == "base"


def test_companion_without_source_in_an_extra(tmp_path: Path) -> None:
    text = GUIDE.replace('torchvision = [\n  { index = "pytorch-cpu", extra = "cpu" },',
                         'torchvision = [')
    found = {(n, p.get("install"), p.get("package")) for n, s, p in findings(tmp_path, text)}
    assert ("companion-build-mismatch", "extra:cpu", "torchvision") in found


def test_companion_through_a_dependent(tmp_path: Path) -> None:
    text = GUIDE.replace('cu128 = ["torch>=2.9,<2.10", "torchvision>=0.24,<0.25"]',
                         'cu128 = ["torch>=2.9,<2.10", "ultralytics>=8"]')
    found = {(n, p.get("install"), p.get("package")) for n, s, p in findings(tmp_path, text)}
    assert ("companion-build-mismatch", "extra:cu128", "torchvision") in found


def test_inert_sources(tmp_path: Path) -> None:
    text = GUIDE.replace('[tool.uv.sources]', '[tool.uv.sources]\ntorchaudio = [{ index = '
                         '"pytorch-cpu", extra = "cpu" }]\nnumpy = { index = "pytorch-cpu", '
                         'extra = "gpu" }')
    found = {(n, p.get("package")) for n, s, p in findings(tmp_path, text) if n == "inert-source"}
    assert found == {("inert-source", "torchaudio"), ("inert-source", "numpy")}


def test_group_scoped_source_does_not_reach_the_base_requirement(tmp_path: Path) -> None:
    text = HEAD + """
dependencies = ["torch>=2.9,<2.10"]
[dependency-groups]
gpu = ["numpy"]
[tool.uv.sources]
torch = [{ index = "pytorch-cu128", group = "gpu" }]
""" + INDEXES
    assert ("inert-source", "torch") in {(n, p.get("package")) for n, _, p in
                                         findings(tmp_path, text)}


ALIAS = HEAD + """
dependencies = []
[project.optional-dependencies]
torch-cpu = ["torch>=2.9"]
torch-cu128 = ["torch>=2.9"]
cpu = ["demo[torch-cpu]"]
gpu = ["demo[torch-cu128]"]
[tool.uv]
conflicts = [[{ extra = "cpu" }, { extra = "gpu" }, { extra = "torch-cpu" }, { extra = "torch-cu128" }]]
[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "torch-cpu" },
  { index = "pytorch-cu128", extra = "torch-cu128" },
]
""" + INDEXES


def test_alias_extras_are_not_routed(tmp_path: Path) -> None:
    # tests/test_model_uv.py's `alias` project: on uv 0.13.9 `--extra gpu` gets PyPI's torch.
    found = {(n, s, p.get("install")) for n, s, p in findings(tmp_path, ALIAS)}
    assert ("extra-alias-not-routed", "error", "extra:gpu") in found


def test_an_alias_of_an_extra_in_no_conflict_set_is_routed(tmp_path: Path) -> None:
    # With no conflicts uv resolves every extra in one fork and the extra-scoped pin applies
    # to torch in all of it: uv 0.13.9 on the fake index locks this file and `uv export
    # --frozen --extra gpu` lists torch==2.9.1+cu128 (the areal corpus entry's shape).
    text = HEAD + """
dependencies = []
[project.optional-dependencies]
torch-cu128 = ["torch>=2.9"]
gpu = ["demo[torch-cu128]"]
[tool.uv.sources]
torch = [{ index = "pytorch-cu128", extra = "torch-cu128" }]
""" + INDEXES
    assert "extra-alias-not-routed" not in names(tmp_path, text)


def test_an_alias_that_lists_torch_with_its_own_source_is_routed(tmp_path: Path) -> None:
    # `cuda = ["demo[sglang]", "torch"]` with a source for cuda's own torch: cuda's torch is
    # routed by that source (lowering.rs applies extra = "cuda" to cuda's requirement).
    text = ALIAS.replace('gpu = ["demo[torch-cu128]"]', 'gpu = ["demo[torch-cu128]", "torch>=2.9"]')
    text = text.replace('{ index = "pytorch-cu128", extra = "torch-cu128" },',
                        '{ index = "pytorch-cu128", extra = "torch-cu128" },\n'
                        '  { index = "pytorch-cu128", extra = "gpu" },')
    found = {p.get("install") for n, _, p in findings(tmp_path, text) if n == "extra-alias-not-routed"}
    assert found == {"extra:cpu"}  # cpu still only aliases torch-cpu


def test_an_extra_marker_in_a_source(tmp_path: Path) -> None:
    text = GUIDE.replace('{ index = "pytorch-cpu", extra = "cpu" }',
                         '{ index = "pytorch-cpu", marker = "extra == \'cpu\'" }', 1)
    assert "extra-alias-not-routed" in names(tmp_path, text)


def test_inert_build_settings(tmp_path: Path) -> None:
    text = GUIDE.replace("[tool.uv]\n", "[tool.uv]\nno-build-isolation-package = "
                         "[\"flash-attn\"]\n[tool.uv.extra-build-dependencies]\nflash-attn = "
                         "[\"torch\"]\n[tool.uv.x]\n").replace("[tool.uv.x]\nconflicts",
                                                               "[tool.uv.y]\nconflicts")
    text = GUIDE.replace('dependencies = []', 'dependencies = ["flash-attn"]') + """
[tool.uv.extra-build-dependencies]
flash-attn = ["torch"]
""".replace("[tool.uv.extra", "[tool.uv.extra")
    text = text.replace("[tool.uv]\n", "[tool.uv]\nno-build-isolation-package = [\"flash-attn\"]\n")
    assert ("inert-build-setting", "warning") in {(n, s) for n, s, _ in findings(tmp_path, text)}


def test_unused_index_and_risky_settings(tmp_path: Path) -> None:
    text = GUIDE.replace("[tool.uv]\n", '[tool.uv]\nprerelease = "allow"\n'
                         'index-strategy = "unsafe-best-match"\n') + """
[[tool.uv.index]]
name = "unused"
url = "https://download.pytorch.org/whl/cu126"
explicit = true

[[tool.uv.index]]
name = "pyg"
url = "https://data.pyg.org/whl/torch-2.9.0+cu128.html"
"""
    found = [(n, s, p.get("table")) for n, s, p in findings(tmp_path, text)]
    assert ("unused-index", "info", "tool.uv.index[2]") in found
    risky = {t for n, s, t in found if n == "risky-resolution-setting"}
    assert risky == {"tool.uv.prerelease", "tool.uv.index-strategy", "tool.uv.index[3]"}


@pytest.mark.parametrize(("pin", "rp"), [("torch==2.9.1+rocm", ">=3.10"), ("torch>=2.9", ">=3.9")])
def test_nonexistent_versions(tmp_path: Path, pin: str, rp: str) -> None:
    text = HEAD.replace(">=3.10", rp) + f"""
dependencies = []
[project.optional-dependencies]
rocm = ["{pin}"]
[tool.uv.sources]
torch = [{{ index = "rocm", extra = "rocm", marker = "sys_platform == 'linux'" }}]
[[tool.uv.index]]
name = "rocm"
url = "https://download.pytorch.org/whl/rocm6.4"
explicit = true
[tool.uv]
environments = ["sys_platform == 'linux' and platform_machine == 'x86_64'"]
"""
    assert ("nonexistent-version", "error") in {(n, s) for n, s, _ in findings(tmp_path, text)}


def test_a_default_group_that_conflicts_with_an_extra(tmp_path: Path) -> None:
    text = GUIDE.replace('conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]',
                         'conflicts = [[{ extra = "cpu" }, { extra = "cu128" }, { group = "dev" }]]')
    text = text.replace("[tool.uv]\n", "[dependency-groups]\ndev = [\"pytest\"]\n\n[tool.uv]\n")
    found = {(n, p.get("install")) for n, s, p in findings(tmp_path, text) if s == "error"}
    assert ("default-group-conflicts", "extra:cpu") in found


def test_explain_prints_the_table_then_the_findings(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(GUIDE)
    assert main(["check", str(tmp_path), "--explain"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[1].split() == ["install", "linux-x86_64", "linux-aarch64", "windows-x86_64",
                                "macos-arm64"]
    row = next(line for line in lines if line.startswith("extra:cu128"))
    assert "2.9.1+cu128 cu128 index" in row and "PyPI (cpu+mps)" in row
    assert "0 finding(s)" in out or "finding" in out


def test_json_carries_the_routing_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(GUIDE)
    main(["check", str(tmp_path), "--output-format", "json"])
    report = json.loads(capsys.readouterr().out)
    cpu = next(i for i in report["routing"]["installs"] if i["install"] == "extra:cpu")
    assert cpu["cells"]["macos-arm64"]["torch"]["version"] == "2.9.1"
    assert cpu["cells"]["linux-x86_64"]["torchvision"]["version"] == "0.24.1+cpu"


@pytest.mark.parametrize(("torch", "triton", "found"), [
    ("torch>=2.16.0.dev0", "pytorch-triton", True),
    ("torch>=2.16.0.dev0", "triton", False),
    ("torch==2.16.0.dev20261120+cu130", "pytorch-triton", True),
    # a nightly from before the rename (pytorch/pytorch#169888, 2025-12) needs the old name
    ("torch==2.7.0.dev20250212+cu130", "pytorch-triton", False),
])
def test_a_nightly_triton_under_its_old_name(tmp_path: Path, torch: str, triton: str,
                                             found: bool) -> None:
    text = HEAD.replace(">=3.10", ">=3.11") + f"""
dependencies = []
[project.optional-dependencies]
cu130 = ["{torch}", "{triton}"]
[tool.uv.sources]
torch = [{{ index = "nightly", extra = "cu130", marker = "sys_platform == 'linux'" }}]
{triton} = [{{ index = "nightly", extra = "cu130", marker = "sys_platform == 'linux'" }}]
[[tool.uv.index]]
name = "nightly"
url = "https://download.pytorch.org/whl/nightly/cu130"
explicit = true
"""
    got = [(s, p.get("package")) for n, s, p in findings(tmp_path, text)
           if n == "nonexistent-version"]
    assert (("error", triton) in got) == found
