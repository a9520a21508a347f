"""The `training` template, locked and synced by the real uv, and its own test run.

The generated test trains a real model, so this one index serves a real CPU torch: the
wheel this machine kind keeps on disk (/opt/wheels), with its real dependencies fetched
from PyPI by pip. It never touches the PyTorch download servers.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakeindex import PYPI, FakeIndex, hermetic_uv_env, pytorch_index, run_uv
from uvtorch.cli import main

pytestmark = pytest.mark.e2e

REAL_TORCH = sorted(Path("/opt/wheels").glob("torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"))


@pytest.fixture(scope="module")
def real_torch_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeIndex]:
    if not REAL_TORCH or sys.version_info[:2] != (3, 11) or platform.machine() != "x86_64":
        pytest.skip("needs the real CPU torch 2.13.0 wheel for CPython 3.11 on x86_64 "
                    "(kept in /opt/wheels on this project's machines)")
    root = tmp_path_factory.mktemp("real-universe")
    cpu = root / pytorch_index("cpu")
    cpu.mkdir(parents=True)
    shutil.copy(REAL_TORCH[0], cpu)
    pypi = root / PYPI
    # torch's real dependencies and pytest (the template's dev group), from PyPI.
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
         "--dest", str(pypi), str(REAL_TORCH[0]), "pytest>=8"],
        check=True,
        timeout=600,
    )
    (pypi / REAL_TORCH[0].name).unlink()  # torch itself only on the cpu index
    with FakeIndex(root) as index:
        yield index


def test_training_template_syncs_and_its_test_passes(
    tmp_path: Path, real_torch_index: FakeIndex, uv_session_dirs: tuple[Path, Path]
) -> None:
    cache, home = uv_session_dirs
    env = hermetic_uv_env(real_torch_index, cache_dir=cache, home_dir=home, python=sys.executable)
    project = tmp_path / "trainer"
    assert main([
        "init", str(project), "--yes", "--template", "training", "-a", "cpu",
        "--torch", ">=2.13,<2.14", "--python", ">=3.11,<3.12", "--platform", "linux-x86_64",
        "--index-url", real_torch_index.pytorch_base,
    ]) == 0
    run_uv(["lock"], cwd=project, env=env)
    run_uv(["sync", "--extra", "cpu"], cwd=project, env=env)
    python = project / ".venv" / "bin" / "python"
    tests = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project, capture_output=True, text=True, timeout=600,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "2 passed" in tests.stdout
    train = subprocess.run(
        [str(python), "-m", "trainer.train"], cwd=project, capture_output=True, text=True,
        timeout=600,
    )
    assert train.returncode == 0, train.stderr
    assert "torch 2.13.0+cpu on cpu" in train.stdout
