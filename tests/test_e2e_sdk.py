"""torch 2.14 on rocm7.14 (ROCm from the index's SDK packages) and on xpu, locked and synced
by the real uv against the fake index, which also serves PyPI's unrelated placeholders."""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakeindex import (
    UNIVERSE,
    FakeIndex,
    build_universe,
    hermetic_uv_env,
    installed_packages,
    run_uv,
    torch_2_14_rocm714_and_xpu,
)
from uvtorch.cli import main

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform != "linux" or platform.machine() != "x86_64",
                       reason="syncs the linux-x86_64 builds"),
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeIndex]:
    root = build_universe(tmp_path_factory.mktemp("universe-2.14"),
                          UNIVERSE + tuple(torch_2_14_rocm714_and_xpu()))
    with FakeIndex(root) as served:
        yield served


@pytest.fixture
def env(index: FakeIndex, tmp_path: Path) -> dict[str, str]:
    return hermetic_uv_env(index, cache_dir=tmp_path / "cache", home_dir=tmp_path / "home",
                           python=sys.executable)


def _init(target: Path, index: FakeIndex, accelerator: str, *platforms: str) -> None:
    flags = [arg for p in platforms for arg in ("--platform", p)]
    assert main(["init", str(target), "--yes", "--index-url", index.pytorch_base,
                 "-a", accelerator, "--torch", ">=2.14,<2.15", *flags]) == 0


def test_rocm714_takes_the_rocm_sdk_from_its_index_not_pypis_placeholders(
    tmp_path: Path, index: FakeIndex, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "rocm714"
    _init(project, index, "rocm7.14", "linux-x86_64")
    capsys.readouterr()
    run_uv(["lock"], cwd=project, env=env)
    run_uv(["sync", "--extra", "rocm7-14"], cwd=project, env=env)
    installed = installed_packages(project, env)
    assert installed["torch"] == "2.14.1+rocm7.14"
    assert installed["triton-rocm"] == "3.8.0"
    for name in ("rocm", "rocm-sdk-core", "rocm-sdk-libraries", "rocm-sdk-device-gfx942"):
        assert installed[name] == "7.14.1", name  # never PyPI's 99.0.0 placeholder


def test_xpu_2_14_syncs_with_its_triton_from_the_xpu_index(
    tmp_path: Path, index: FakeIndex, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "xpu"
    _init(project, index, "xpu", "linux-x86_64", "windows-x86_64")
    capsys.readouterr()
    run_uv(["lock"], cwd=project, env=env)
    run_uv(["sync", "--extra", "xpu"], cwd=project, env=env)
    installed = installed_packages(project, env)
    assert installed["torch"] == "2.14.1+xpu"
    assert installed["triton-xpu"] == "3.8.0"
    lock = (project / "uv.lock").read_text()
    assert 'version = "2.14.1+xpu"' in lock and "win_amd64" in lock  # Windows locked too
