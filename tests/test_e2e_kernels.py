"""Kernels built against the runtime torch in ONE `uv sync`, with the real uv.

A fake grouped_gemm lives in a local git repository (the recipe builds it from git): its
in-tree build backend imports torch and records which torch and which build variables it was
built with. The tests point the generated git source at that repository and check what the
installed kernel says.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import tomlkit

from fakeindex import FakeIndex, installed_packages, run_uv
from uvtorch.cli import main

pytestmark = pytest.mark.e2e

BACKEND = '''"""A PEP 517 backend that builds a kernel against the torch it finds, like setup.py would."""
import base64, hashlib, os, zipfile

NAME, VERSION = "@NAME@", "@VERSION@"


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    import torch  # the build fails here if uv did not provide torch

    record = {
        "torch": torch.__version__,
        "arch": os.environ.get("TORCH_CUDA_ARCH_LIST"),
        "flash_archs": os.environ.get("FLASH_ATTN_CUDA_ARCHS"),
        "cutlass": os.environ.get("GROUPED_GEMM_CUTLASS"),
        "jobs": os.environ.get("MAX_JOBS"),
    }
    files = {
        f"{NAME}/__init__.py": "",
        f"{NAME}/_built_with.py": f"BUILT_WITH = {record!r}\\n",
        f"{NAME}-{VERSION}.dist-info/METADATA":
            f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n",
        f"{NAME}-{VERSION}.dist-info/WHEEL":
            "Wheel-Version: 1.0\\nGenerator: fake\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    lines = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        lines.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    lines.append(f"{NAME}-{VERSION}.dist-info/RECORD,,")
    files[f"{NAME}-{VERSION}.dist-info/RECORD"] = "\\n".join(lines) + "\\n"
    wheel = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel
'''

PYPROJECT = '''[build-system]
# As grouped_gemm's own git snapshot: its build needs torch (any 2.4 to 2.x).
requires = ["setuptools<70", "torch>=2.4.0,<3.0"]
build-backend = "kernel_backend"
backend-path = ["."]
'''


@pytest.fixture(scope="module")
def kernel_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(file URL, commit) of a git repository holding the fake grouped_gemm."""
    repo = tmp_path_factory.mktemp("grouped_gemm")
    (repo / "kernel_backend.py").write_text(
        BACKEND.replace("@NAME@", "grouped_gemm").replace("@VERSION@", "0.1.6"))
    (repo / "pyproject.toml").write_text(PYPROJECT)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "fake kernel"], check=True)
    rev = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True,
                         text=True).stdout.strip()
    return repo.as_uri(), rev


def _project(tmp_path: Path, index: FakeIndex, repo: tuple[str, str], *args: str) -> Path:
    project = tmp_path / "moe"
    assert main(["init", str(project), "--yes", "--index-url", index.pytorch_base,
                 "-k", "grouped_gemm", *args]) == 0
    path = project / "pyproject.toml"
    doc = tomlkit.parse(path.read_text())
    source = doc["tool"]["uv"]["sources"]["grouped-gemm"]  # type: ignore[index]
    assert source["git"] == "https://github.com/tgale96/grouped_gemm"  # type: ignore[index]
    source["git"], source["rev"] = repo  # type: ignore[index]
    path.write_text(tomlkit.dumps(doc))
    return project


def _built_with(project: Path, module: str = "grouped_gemm") -> dict[str, str]:
    python = project / ".venv" / "bin" / "python"
    out = subprocess.run([str(python), "-c",
                          f"from {module}._built_with import BUILT_WITH; print(BUILT_WITH)"],
                         check=True, capture_output=True, text=True).stdout
    return eval(out)  # noqa: S307 - our own fake's repr of a dict of strings


def test_one_sync_builds_the_kernel_against_the_extras_torch(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    kernel_repo: tuple[str, str], capsys: pytest.CaptureFixture[str],
) -> None:
    """The issue's scenario: torch 2.8, cpu and cu128, grouped_gemm for an H100 (9.0)."""
    project = _project(tmp_path, fake_index, kernel_repo, "-a", "cpu", "-a", "cu128",
                       "--torch", ">=2.8,<2.9", "--cuda-arch", "9.0")
    capsys.readouterr()
    run_uv(["lock"], cwd=project, env=uv_env)
    run_uv(["sync", "--extra", "cu128"], cwd=project, env=uv_env)
    assert _built_with(project) == {"torch": "2.8.0+cu128", "arch": "9.0", "cutlass": "1",
                                    "jobs": "2", "flash_archs": None}
    run_uv(["sync", "--extra", "cpu"], cwd=project, env=uv_env)
    installed = installed_packages(project, uv_env)
    assert installed["torch"] == "2.8.0+cpu" and "grouped-gemm" not in installed


def test_a_system_extra_beside_a_gpu_build_gets_no_kernel_and_no_torch(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    kernel_repo: tuple[str, str], capsys: pytest.CaptureFixture[str],
) -> None:
    """-a cu128 -a system -k grouped_gemm: built for cu128; the image has its own."""
    project = _project(tmp_path, fake_index, kernel_repo, "-a", "cu128", "-a", "system",
                       "--system-torch", "2.5.0a0+872d972e41.nv24.08", "--torch", ">=2.9,<2.10",
                       "--package", "ultralytics", "--package", "torchvision")
    capsys.readouterr()
    data = tomlkit.parse((project / "pyproject.toml").read_text()).unwrap()
    assert "grouped_gemm==0.1.6" in " ".join(data["project"]["optional-dependencies"]["cu128"])
    assert data["project"]["optional-dependencies"]["system"] == ["ultralytics"]
    run_uv(["lock"], cwd=project, env=uv_env)
    run_uv(["sync", "--extra", "cu128"], cwd=project, env=uv_env)
    assert _built_with(project)["torch"] == "2.9.1+cu128"
    run_uv(["sync", "--extra", "system"], cwd=project, env=uv_env)
    installed = installed_packages(project, uv_env)
    assert "ultralytics" in installed
    assert not {"torch", "torchvision", "grouped-gemm"} & set(installed)


def test_switching_cuda_extra_rebuilds_against_that_torch(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    kernel_repo: tuple[str, str], capsys: pytest.CaptureFixture[str],
) -> None:
    project = _project(tmp_path, fake_index, kernel_repo, "-a", "cu126", "-a", "cu128",
                       "--torch", ">=2.9,<2.10")
    capsys.readouterr()
    run_uv(["lock"], cwd=project, env=uv_env)
    run_uv(["sync", "--extra", "cu128"], cwd=project, env=uv_env)
    first = _built_with(project)
    run_uv(["sync", "--extra", "cu126"], cwd=project, env=uv_env)
    second = _built_with(project)
    assert first["torch"] == "2.9.1+cu128" and second["torch"] == "2.9.1+cu126"
    # The default targets: what both CUDA 12.6 and 12.8 can build (no Blackwell for 12.6),
    # and no CUTLASS switch because Turing (7.5) is among them.
    assert second["arch"] == "7.5;8.0;8.6;8.9;9.0" and second["cutlass"] is None


def test_the_suggested_rebuild_commands_rebuild_the_kernel(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    kernel_repo: tuple[str, str], capsys: pytest.CaptureFixture[str],
) -> None:
    """The generated comment: edit the targets, then `uv sync --extra ID --reinstall-package
    NAME` (README: `uv sync --extra cu128 --reinstall-package grouped-gemm`) or `uvtorch sync
    --reinstall-package NAME` rebuilds, and torch stays."""
    project = _project(tmp_path, fake_index, kernel_repo, "-a", "cpu", "-a", "cu128",
                       "--torch", ">=2.9,<2.10", "--cuda-arch", "9.0")
    capsys.readouterr()
    readme = (project / "README.md").read_text()
    assert "`uv sync --extra cu128 --reinstall-package grouped-gemm`" in readme
    run_uv(["lock"], cwd=project, env=uv_env)
    run_uv(["sync", "--extra", "cu128"], cwd=project, env=uv_env)
    assert _built_with(project)["arch"] == "9.0"
    path = project / "pyproject.toml"

    def target(arch: str) -> None:
        doc = tomlkit.parse(path.read_text())
        doc["tool"]["uv"]["extra-build-variables"]["grouped-gemm"]["TORCH_CUDA_ARCH_LIST"] = arch  # type: ignore[index]
        path.write_text(tomlkit.dumps(doc))

    target("8.0")
    run_uv(["sync", "--extra", "cu128", "--reinstall-package", "grouped-gemm"], cwd=project, env=uv_env)
    assert _built_with(project) == {"torch": "2.9.1+cu128", "arch": "8.0", "cutlass": "1",
                                    "jobs": "2", "flash_archs": None}
    target("8.6")
    # uvtorch sync chooses the extra (pinned here: this machine has no GPU) and passes the rest on
    done = subprocess.run(
        [sys.executable, "-m", "uvtorch", "sync", "--reinstall-package", "grouped-gemm"],
        cwd=project, env={**uv_env, "UVTORCH_EXTRA": "cu128"}, capture_output=True, text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert _built_with(project)["arch"] == "8.6"
    assert installed_packages(project, uv_env)["torch"] == "2.9.1+cu128"


@pytest.fixture(scope="module")
def flash_attn_index(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - a FakeIndex
    """The fake universe plus a flash-attn sdist on the fake PyPI (the recipe's PyPI source)."""
    import io
    import tarfile

    from fakeindex import PYPI, FakeIndex, build_universe

    root = build_universe(tmp_path_factory.mktemp("flash-universe"))
    sdist = root / PYPI / "flash_attn-2.8.3.post2.tar.gz"
    files = {
        "pyproject.toml": PYPROJECT.replace("setuptools<70", "setuptools"),
        "kernel_backend.py": BACKEND.replace("@NAME@", "flash_attn").replace("@VERSION@", "2.8.3.post2"),
        "PKG-INFO": "Metadata-Version: 2.1\nName: flash-attn\nVersion: 2.8.3.post2\n"
                    "Requires-Dist: torch\nRequires-Dist: einops\n",
    }
    with tarfile.open(sdist, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"flash_attn-2.8.3.post2/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with FakeIndex(root) as index:
        yield index


def test_a_pypi_kernel_sdist_builds_with_its_own_arch_variable(
    tmp_path: Path, flash_attn_index: FakeIndex, uv_session_dirs: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from fakeindex import hermetic_uv_env

    cache, home = uv_session_dirs
    env = hermetic_uv_env(flash_attn_index, cache_dir=cache, home_dir=home, python=sys.executable)
    project = tmp_path / "attn"
    assert main(["init", str(project), "--yes", "--index-url", flash_attn_index.pytorch_base,
                 "-a", "cpu", "-a", "cu128", "--torch", ">=2.9,<2.10", "-k", "flash-attn",
                 "--gpu", "h100"]) == 0
    capsys.readouterr()
    run_uv(["lock"], cwd=project, env=env)
    run_uv(["sync", "--extra", "cu128"], cwd=project, env=env)
    built = _built_with(project, "flash_attn")
    assert built["torch"] == "2.9.1+cu128" and built["flash_archs"] == "90"
    assert installed_packages(project, env)["flash-attn"] == "2.8.3.post2"
