"""Generated projects, locked and synced by the real uv against the local fake index.

Each scenario asserts on what actually got installed, not on the TOML text: the TOML is
covered by snapshots in test_render.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import tomlkit

from fakeindex import FakeIndex, installed_packages, run_uv
from uvtorch.cli import main

pytestmark = pytest.mark.e2e


def _init(target: Path, index: FakeIndex, *args: str) -> Path:
    code = main(["init", str(target), "--yes", "--index-url", index.pytorch_base, *args])
    assert code == 0
    return target


def _nvidia(installed: dict[str, str]) -> dict[str, str]:
    return {n: v for n, v in installed.items() if n.startswith("nvidia-")}


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory, fake_index: FakeIndex) -> Path:
    """The issue's example: five accelerators, torchvision and a torch dependent."""
    project = tmp_path_factory.mktemp("multi") / "demo"
    accelerators = ["-a", "cpu", "-a", "cu126", "-a", "cu128", "-a", "rocm6.4", "-a", "xpu"]
    return _init(project, fake_index, *accelerators, "--package", "torchvision", "--package", "ultralytics")


@pytest.fixture(scope="module")
def multi_locked(multi: Path, uv_env_module: dict[str, str]) -> Path:
    run_uv(["lock"], cwd=multi, env=uv_env_module)
    return multi


def test_lock_never_names_the_real_pytorch_servers(multi_locked: Path) -> None:
    lock = (multi_locked / "uv.lock").read_text()
    assert "download.pytorch.org" not in lock
    assert "127.0.0.1" in lock


def test_cu128_installs_cuda_torch_matching_torchvision_and_nvidia_libraries(
    multi_locked: Path, uv_env_module: dict[str, str]
) -> None:
    run_uv(["sync", "--extra", "cu128"], cwd=multi_locked, env=uv_env_module)
    installed = installed_packages(multi_locked, uv_env_module)
    assert installed["torch"] == "2.9.1+cu128"
    assert installed["torchvision"] == "0.24.1+cu128"
    assert installed["ultralytics"] == "8.3.0"
    assert installed["triton"] == "3.5.1"
    assert _nvidia(installed) == {
        "nvidia-cublas-cu12": "12.8.4.1",
        "nvidia-cudnn-cu12": "9.10.2.21",
        "nvidia-nccl-cu12": "2.27.5",
    }


def test_cpu_installs_cpu_builds_and_no_nvidia_library(
    multi_locked: Path, uv_env_module: dict[str, str]
) -> None:
    run_uv(["sync", "--extra", "cpu"], cwd=multi_locked, env=uv_env_module)
    installed = installed_packages(multi_locked, uv_env_module)
    assert installed["torch"] == "2.9.1+cpu"
    assert installed["torchvision"] == "0.24.1+cpu"
    assert installed["ultralytics"] == "8.3.0"
    assert _nvidia(installed) == {}
    assert "triton" not in installed


@pytest.mark.parametrize(
    ("extra", "torch", "companion"),
    [
        ("cu126", "2.9.1+cu126", "nvidia-cudnn-cu12"),
        ("rocm6-4", "2.9.1+rocm6.4", "pytorch-triton-rocm"),
        ("xpu", "2.9.1+xpu", "pytorch-triton-xpu"),
    ],
)
def test_every_extra_gets_its_own_build(
    multi_locked: Path, uv_env_module: dict[str, str], extra: str, torch: str, companion: str
) -> None:
    run_uv(["sync", "--extra", extra], cwd=multi_locked, env=uv_env_module)
    installed = installed_packages(multi_locked, uv_env_module)
    assert installed["torch"] == torch
    assert installed["torchvision"] == f"0.24.1+{torch.split('+')[1]}"
    assert companion in installed


def test_plain_sync_installs_no_torch(multi_locked: Path, uv_env_module: dict[str, str]) -> None:
    run_uv(["sync"], cwd=multi_locked, env=uv_env_module)
    installed = installed_packages(multi_locked, uv_env_module)
    assert "torch" not in installed
    assert "torchvision" not in installed
    assert "demo" in installed  # the project itself was built and installed


def _without_overrides(project: Path) -> None:
    path = project / "pyproject.toml"
    doc = tomlkit.parse(path.read_text())
    del doc["tool"]["uv"]["dependency-metadata"]  # type: ignore[union-attr]
    path.write_text(tomlkit.dumps(doc))


@pytest.mark.parametrize("keep_override", [True, False], ids=["rendered", "override-removed"])
def test_torch_2_6_cu126_keeps_nvidia_libraries(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str], keep_override: bool
) -> None:
    """The aarch64 wheels of 2.6.0+cu126 lack the nvidia requirements (uv#11945).

    The rendered dependency-metadata override keeps them in the lock; the control case
    shows that without it the lock really loses them on the fake index too.
    """
    project = _init(tmp_path / "old", fake_index, "--torch", ">=2.6,<2.7", "-a", "cu126")
    if not keep_override:
        _without_overrides(project)
    run_uv(["lock"], cwd=project, env=uv_env)
    run_uv(["sync", "--extra", "cu126"], cwd=project, env=uv_env)
    installed = installed_packages(project, uv_env)
    assert installed["torch"] == "2.6.0+cu126"
    if keep_override:
        assert installed["nvidia-cudnn-cu12"] == "9.5.1.17"
        assert installed["nvidia-nccl-cu12"] == "2.21.5"
        assert installed["triton"] == "3.2.0"
    else:
        assert _nvidia(installed) == {}


def test_platform_limits_the_lock(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str]
) -> None:
    project = _init(
        tmp_path / "linux", fake_index, "-a", "cpu", "-a", "cu128", "--torch", ">=2.8,<2.9",
        "--package", "torchvision", "--platform", "linux-x86_64",
    )
    run_uv(["lock"], cwd=project, env=uv_env)
    lock = tomlkit.parse((project / "uv.lock").read_text())
    wheels = [w["url"] for p in lock["package"] if p["name"] == "torch" for w in p["wheels"]]
    assert wheels and all("x86_64" in url for url in wheels)
    run_uv(["sync", "--extra", "cu128"], cwd=project, env=uv_env)
    installed = installed_packages(project, uv_env)
    assert installed["torch"] == "2.8.0+cu128"
    assert installed["torchvision"] == "0.23.0+cu128"


def test_check_fix_repairs_a_lock_that_lost_the_nvidia_libraries(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A hand-made 2.6.0+cu126 project (no override): check finds the broken lock, --fix reads
    the real x86_64 wheel's METADATA from the index, and the next lock and sync are whole."""
    project = _init(tmp_path / "broken", fake_index, "--torch", ">=2.6,<2.7", "-a", "cu126")
    _without_overrides(project)
    run_uv(["lock"], cwd=project, env=uv_env)
    capsys.readouterr()
    assert main(["check", str(project)]) == 1
    assert "lock-cuda-without-nvidia" in capsys.readouterr().out
    fake_index.clear_requests()
    main(["check", str(project), "--fix"])  # the wheel URL comes from uv.lock: not fetched
    assert "pass --trust to fetch it" in capsys.readouterr().out
    assert fake_index.requested("torch-2.6.0") == []
    assert main(["check", str(project), "--fix", "--trust"]) == 0
    out = capsys.readouterr().out
    assert "added a dependency-metadata override for torch 2.6.0+cu126" in out
    assert '+version = "2.6.0+cu126"' in out
    run_uv(["lock"], cwd=project, env=uv_env)
    run_uv(["sync", "--extra", "cu126"], cwd=project, env=uv_env)
    installed = installed_packages(project, uv_env)
    assert installed["torch"] == "2.6.0+cu126"
    assert installed["nvidia-cudnn-cu12"] == "9.5.1.17" and installed["triton"] == "3.2.0"
    assert main(["check", str(project)]) == 0
