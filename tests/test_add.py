"""`uvtorch add`: only the intended lines change, and what cannot be done is refused."""

from __future__ import annotations

import tomlkit
from pathlib import Path

import pytest

from fakeindex import FakeIndex, installed_packages, run_uv
from uvtorch.cli import main

HAND = """\
# Our project, formatted by hand.
[project]
name = "hand"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["numpy"]   # no torch here!

[project.optional-dependencies]
cpu = [
  "torch>=2.9,<2.10",  # CPU build
]
cu128 = [
  "torch>=2.9,<2.10",
]

[tool.uv]
conflicts = [
  [
    { extra = "cpu" },
    { extra = "cu128" },
  ],
]

[tool.uv.sources]
torch = [
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

[tool.ruff]
line-length = 100
"""

AFTER_ADDING_CU126 = """\
# Our project, formatted by hand.
[project]
name = "hand"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["numpy"]   # no torch here!

[project.optional-dependencies]
cpu = [
  "torch>=2.9,<2.10",  # CPU build
]
cu128 = [
  "torch>=2.9,<2.10",
]
cu126 = [
    "torch>=2.9,<2.10",
]

[tool.uv]
conflicts = [
  [
    { extra = "cpu" },
    { extra = "cu128" },
    { extra = "cu126" },
  ],
]

[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu128", extra = "cu128", marker = "sys_platform != 'darwin'" },
  { index = "pytorch-cu126", extra = "cu126", marker = "sys_platform == 'linux' or sys_platform == 'win32'" },
]

[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu128"
url = "https://download.pytorch.org/whl/cu128"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu126"
url = "https://download.pytorch.org/whl/cu126"
explicit = true

[tool.ruff]
line-length = 100
"""


def hand(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(HAND)
    return tmp_path


def test_only_the_intended_lines_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["add", str(hand(tmp_path)), "-a", "cu126"]) == 0
    assert (tmp_path / "pyproject.toml").read_text() == AFTER_ADDING_CU126
    assert "+    { extra = \"cu126\" }," in capsys.readouterr().out
    assert not (tmp_path / ".uvtorch.toml").exists()  # a hand-written project stays one


def test_packages_go_into_every_extra_with_their_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["add", str(hand(tmp_path)), "--package", "ultralytics"]) == 0
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.count('"torchvision>=0.24.0,<0.25",') == 2  # ultralytics needs torchvision
    assert text.count('  "ultralytics",') == 2
    assert 'torchvision = [\n    { index = "pytorch-cpu", extra = "cpu" },' in text
    assert "# CPU build" in text and "[tool.ruff]" in text
    assert main(["check", str(tmp_path)]) == 0


def test_a_release_without_the_build_is_refused_with_the_flag_that_helps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["add", str(hand(tmp_path)), "-a", "cu118"]) == 1
    err = capsys.readouterr().err
    assert "cu118" in err and "--torch" in err
    assert (tmp_path / "pyproject.toml").read_text() == HAND
    assert main(["add", str(tmp_path), "-a", "cu118", "--torch", ">=2.7,<2.8"]) == 0
    text = (tmp_path / "pyproject.toml").read_text()
    assert '"torch>=2.9,<2.10"' not in text and text.count('"torch>=2.7,<2.8"') == 3
    assert main(["check", str(tmp_path)]) == 0


def test_extras_not_named_after_their_build_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(HAND.replace("cu128 = [", "gpu = [").replace(
        'extra = "cu128"', 'extra = "gpu"'))
    before = (tmp_path / "pyproject.toml").read_text()
    assert main(["add", str(tmp_path), "-a", "cu126"]) == 1
    assert "named after its build" in capsys.readouterr().err
    assert (tmp_path / "pyproject.toml").read_text() == before


def test_a_uvtorch_project_keeps_its_answers_file_current(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "p"), "--yes", "-a", "cpu", "-a", "cu128"]) == 0
    assert main(["add", str(tmp_path / "p"), "-a", "rocm7.1", "-k", "flash-attn", "--gpu", "mi300x"]) == 0
    answers = (tmp_path / "p" / ".uvtorch.toml").read_text()
    assert 'accelerators = ["cpu", "cu128", "rocm7.1"]' in answers
    assert 'kernels = ["flash-attn"]' in answers
    assert main(["check", str(tmp_path / "p")]) == 0
    capsys.readouterr()
    assert main(["add", str(tmp_path / "p"), "-a", "cu128"]) == 0
    assert "Nothing to change" in capsys.readouterr().out


def test_nothing_to_add_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["add", str(hand(tmp_path))]) == 2


@pytest.mark.e2e
def test_an_added_accelerator_locks_and_syncs(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = tmp_path / "grow"
    assert main(["init", str(project), "--yes", "--index-url", fake_index.pytorch_base,
                 "-a", "cpu", "-a", "cu128", "--torch", ">=2.9,<2.10"]) == 0
    assert main(["add", str(project), "-a", "cu126", "--package", "torchvision"]) == 0
    capsys.readouterr()
    run_uv(["lock"], cwd=project, env=uv_env)
    run_uv(["sync", "--extra", "cu126"], cwd=project, env=uv_env)
    installed = installed_packages(project, uv_env)
    assert installed["torch"] == "2.9.1+cu126" and installed["torchvision"] == "0.24.1+cu126"


NGC = "2.5.0a0+872d972e41.nv24.08"


def _system_project(tmp_path: Path, *accelerators: str) -> Path:
    project = tmp_path / "img"
    flags = [f for a in accelerators for f in ("-a", a)]
    assert main(["init", str(project), "--yes", *flags, "--system-torch", NGC,
                 "--package", "torchvision", "--package", "ultralytics"]) == 0
    return project


def test_a_package_added_to_a_system_project_goes_into_its_dependencies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _system_project(tmp_path, "system")
    before = (project / "pyproject.toml").read_text()
    assert main(["add", str(project), "--package", "accelerate"]) == 0
    after = (project / "pyproject.toml").read_text()
    # Exactly one line more: the global exclusion already keeps accelerate's torch out.
    assert after.replace('    "accelerate",\n', "", 1) == before
    assert after.index('"accelerate"') < after.index("[build-system]")
    assert "added: accelerate" in capsys.readouterr().out


def test_a_package_added_next_to_a_system_extra_gets_its_exclusion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _system_project(tmp_path, "cpu", "system")
    assert main(["add", str(project), "--package", "open-clip-torch"]) == 0
    capsys.readouterr()
    data = tomlkit.parse((project / "pyproject.toml").read_text()).unwrap()
    assert "open-clip-torch" in data["project"]["optional-dependencies"]["system"]
    assert "open-clip-torch" in data["project"]["optional-dependencies"]["cpu"]
    scoped = {e["package"]["name"]: e["dependencies"]
              for e in data["tool"]["uv"]["exclude-dependencies"]}
    # open-clip-torch pulls torch through timm too (PyPI metadata, see data/dependents.toml).
    assert scoped["open-clip-torch"] == scoped["timm"] == ["torch", "torchvision"]
    assert main(["check", str(project)]) == 0


def test_the_system_extra_can_be_added_to_an_index_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "laptop"
    assert main(["init", str(project), "--yes", "-a", "cpu", "--package", "torchvision",
                 "--package", "ultralytics"]) == 0
    assert main(["add", str(project), "-a", "system", "--system-torch", NGC]) == 0
    capsys.readouterr()
    data = tomlkit.parse((project / "pyproject.toml").read_text()).unwrap()
    assert data["project"]["optional-dependencies"]["system"] == ["ultralytics"]
    assert data["tool"]["uvtorch"]["system"] == {"torch": NGC, "torchvision": "*"}
    assert {c["extra"] for c in data["tool"]["uv"]["conflicts"][0]} == {"cpu", "system"}
    assert [i["name"] for i in data["tool"]["uv"]["index"]] == ["pytorch-cpu"]
    answers = tomlkit.parse((project / ".uvtorch.toml").read_text()).unwrap()["answers"]
    assert answers["accelerators"] == ["cpu", "system"]
    assert answers["system"][0] == f"torch=={NGC}"


def test_index_accelerators_cannot_be_added_to_a_system_only_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _system_project(tmp_path, "system")
    before = (project / "pyproject.toml").read_text()
    assert main(["add", str(project), "-a", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "uses only the environment's torch" in err and "--answers" in err
    assert (project / "pyproject.toml").read_text() == before
