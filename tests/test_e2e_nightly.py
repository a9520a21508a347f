"""Nightly channel, locked and synced by the real uv against fake nightly indexes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fakeindex import FakeIndex, installed_packages, run_uv
from uvtorch.cli import main

pytestmark = [
    pytest.mark.e2e,
    # The nightly torch (2.16) has wheels for Python 3.11 and newer only, so its project cannot
    # be synced with the interpreter running the tests (uv_env's UV_PYTHON) on 3.10.
    pytest.mark.skipif(sys.version_info < (3, 11), reason="nightly torch needs Python 3.11+"),
]


def _init(tmp_path: Path, index: FakeIndex, *args: str) -> Path:
    project = tmp_path / "nightly"
    assert main(["init", str(project), "--yes", "--index-url", index.pytorch_base,
                 "--channel", "nightly", "-a", "cpu", "-a", "cu130", "--package", "torchvision",
                 *args]) == 0
    return project


def test_nightly_sync_installs_the_dev_build_with_its_triton_and_nvidia_libraries(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = _init(tmp_path, fake_index)
    capsys.readouterr()
    run_uv(["lock"], cwd=project, env=uv_env)
    run_uv(["sync", "--extra", "cu130"], cwd=project, env=uv_env)
    installed = installed_packages(project, uv_env)
    assert installed["torch"] == "2.16.0.dev20261120+cu130"
    assert installed["torchvision"] == "0.31.0.dev20261120+cu130"
    assert installed["triton"] == "3.8.0+git1a2b3c4d"  # only the nightly index has it
    assert installed["nvidia-cudnn-cu13"] == "9.13.0.50"
    run_uv(["sync", "--extra", "cpu"], cwd=project, env=uv_env)
    installed = installed_packages(project, uv_env)
    assert installed["torch"] == "2.16.0.dev20261120+cpu" and "triton" not in installed


def test_nightly_date_pins_one_nightly(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = _init(tmp_path, fake_index, "--nightly-date", "20261119")
    capsys.readouterr()
    assert '"torch==2.16.0.dev20261119"' in (project / "pyproject.toml").read_text()
    run_uv(["lock"], cwd=project, env=uv_env)
    run_uv(["sync", "--extra", "cu130"], cwd=project, env=uv_env)
    installed = installed_packages(project, uv_env)
    assert installed["torch"] == "2.16.0.dev20261119+cu130"
    assert installed["torchvision"] == "0.31.0.dev20261119+cu130"
