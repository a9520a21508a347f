"""Moving a project to a PyTorch mirror: `uvtorch add --index-url`, or uv's UV_INDEX override."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import tomlkit

from fakeindex import FakeIndex, find_uv_bin, installed_packages, run_uv
from uvtorch.catalog import load
from uvtorch.cli import main
from uvtorch.mirror import split_index_url, uv_index_override

UNREACHABLE = "https://pytorch-mirror.invalid/whl"


@pytest.mark.parametrize(
    ("url", "split"),
    [
        ("https://download.pytorch.org/whl/cu128", ("https://download.pytorch.org/whl", "cu128")),
        ("https://m.example.com/pt/whl/nightly/cu130/", ("https://m.example.com/pt/whl", "nightly/cu130")),
        ("https://download.pytorch.org/whl/rocm6.4", ("https://download.pytorch.org/whl", "rocm6.4")),
        ("https://pypi.org/simple", None),
    ],
)
def test_index_urls_split_into_base_and_build(url: str, split: tuple[str, str] | None) -> None:
    assert split_index_url(url, load()) == split


def test_add_index_url_changes_only_the_index_urls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "p"), "--yes", "-a", "cpu", "-a", "cu128",
                 "--package", "torchvision"]) == 0
    pyproject = tmp_path / "p" / "pyproject.toml"
    before = pyproject.read_text()
    capsys.readouterr()
    assert main(["add", str(tmp_path / "p"), "--index-url", "https://mirror.example.com/whl"]) == 0
    out = capsys.readouterr().out
    assert "index pytorch-cu128: https://download.pytorch.org/whl/cu128 -> " in out
    after = pyproject.read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert changed == [
        ('url = "https://download.pytorch.org/whl/cpu"', 'url = "https://mirror.example.com/whl/cpu"'),
        ('url = "https://download.pytorch.org/whl/cu128"', 'url = "https://mirror.example.com/whl/cu128"'),
    ]
    assert 'index_url = "https://mirror.example.com/whl"' in (tmp_path / "p" / ".uvtorch.toml").read_text()


@pytest.mark.e2e
def test_uv_index_by_name_moves_an_unedited_project_to_the_mirror(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str]
) -> None:
    project = tmp_path / "demo"
    assert main(["init", str(project), "--yes", "-a", "cpu", "-a", "cu128",
                 "--torch", ">=2.9,<2.10", "--index-url", UNREACHABLE]) == 0
    doc = tomlkit.parse((project / "pyproject.toml").read_text())
    override = uv_index_override(doc, fake_index.pytorch_base, load())
    assert override.startswith("pytorch-cpu=")
    env = dict(uv_env, UV_INDEX=override)
    run_uv(["lock"], cwd=project, env=env)
    assert "pytorch-mirror.invalid" not in (project / "uv.lock").read_text()
    run_uv(["sync", "--extra", "cu128"], cwd=project, env=env)
    assert installed_packages(project, env)["torch"] == "2.9.1+cu128"


@pytest.mark.e2e
def test_add_index_url_then_lock_installs_from_the_mirror(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str]
) -> None:
    project = tmp_path / "demo"
    assert main(["init", str(project), "--yes", "-a", "cpu", "-a", "cu128",
                 "--torch", ">=2.9,<2.10", "--index-url", UNREACHABLE]) == 0
    failed = subprocess.run([find_uv_bin(), "lock"], cwd=project, env=uv_env,
                            capture_output=True, text=True, timeout=300)
    assert failed.returncode != 0  # the control: the unreachable base really is used
    assert main(["add", str(project), "--index-url", fake_index.pytorch_base]) == 0
    run_uv(["lock"], cwd=project, env=uv_env)
    run_uv(["sync", "--extra", "cpu"], cwd=project, env=uv_env)
    assert installed_packages(project, uv_env)["torch"] == "2.9.1+cpu"
