"""Tests of the offline test infrastructure itself (tests/fakeindex.py)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.request import urlopen

import pytest
import tomlkit
from packaging.metadata import Metadata

from fakeindex import (
    PYPI,
    UNIVERSE,
    FakeIndex,
    UvCommandError,
    build_universe,
    build_wheel,
    find_uv_bin,
    hermetic_uv_env,
    installed_packages,
    platform_tag,
    pytorch_index,
    read_wheel_metadata,
    run_uv,
    wheel_filename,
)

X86 = "platform_system == 'Linux' and platform_machine == 'x86_64'"

# --------------------------------------------------------------------------- #
# Wheels and the universe (no uv, no server)
# --------------------------------------------------------------------------- #


def test_build_wheel_is_valid_and_deterministic(tmp_path: Path) -> None:
    kwargs = dict(
        name="torch",
        version="2.9.1+cu128",
        platform_tag="manylinux_2_28_x86_64",
        requires_dist=("filelock", f"nvidia-cudnn-cu12==9.10.2.21; {X86}"),
        requires_python=">=3.10",
    )
    first = build_wheel(tmp_path / "a", **kwargs)
    second = build_wheel(tmp_path / "b", **kwargs)
    assert first.name == "torch-2.9.1+cu128-py3-none-manylinux_2_28_x86_64.whl"
    assert first.read_bytes() == second.read_bytes()

    with zipfile.ZipFile(first) as zf:
        names = zf.namelist()
        assert names == sorted(names)
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in zf.infolist())
        assert zf.read("torch/__init__.py") == b'__version__ = "2.9.1+cu128"\n'
        wheel = zf.read("torch-2.9.1+cu128.dist-info/WHEEL").decode()
        assert "Tag: py3-none-manylinux_2_28_x86_64" in wheel
        record = zf.read("torch-2.9.1+cu128.dist-info/RECORD").decode().splitlines()
        hashed = {}
        for line in record:
            path, digest, size = line.rsplit(",", 2)
            if path.endswith("RECORD"):
                assert (digest, size) == ("", "")
                continue
            data = zf.read(path)
            hashed[path] = data
            assert int(size) == len(data)
            expected = hashlib.sha256(data).digest()
            assert digest == "sha256=" + base64.urlsafe_b64encode(expected).rstrip(b"=").decode()
        assert set(hashed) | {"torch-2.9.1+cu128.dist-info/RECORD"} == set(names)

    meta = Metadata.from_email(read_wheel_metadata(first), validate=True)
    assert meta.metadata_version == "2.1"
    assert str(meta.version) == "2.9.1+cu128"
    assert [str(r) for r in meta.requires_dist or []] == [
        "filelock",
        'nvidia-cudnn-cu12==9.10.2.21; platform_system == "Linux" and platform_machine == "x86_64"',
    ]
    assert str(meta.requires_python) == ">=3.10"


def test_wheel_names_and_tags(tmp_path: Path) -> None:
    assert wheel_filename("nvidia-cudnn-cu12", "9.10.2.21", "manylinux_2_28_aarch64") == (
        "nvidia_cudnn_cu12-9.10.2.21-py3-none-manylinux_2_28_aarch64.whl"
    )
    override = build_wheel(tmp_path, "torch", "2.6.0+cu126", tag="py3-none-linux_aarch64")
    assert override.name == "torch-2.6.0+cu126-py3-none-linux_aarch64.whl"
    extras = build_wheel(
        tmp_path, "cuda-toolkit", "13.2.2", requires_dist=('nvidia-cublas; extra == "cublas"',), provides_extra=("cublas",)
    )
    meta = Metadata.from_email(read_wheel_metadata(extras), validate=True)
    assert meta.provides_extra == ["cublas"]
    with zipfile.ZipFile(build_wheel(tmp_path, "Pytorch.Triton-ROCm", "3.5.1")) as zf:
        assert "pytorch_triton_rocm/__init__.py" in zf.namelist()
    assert platform_tag("windows") == "win_amd64"
    assert platform_tag("linux_aarch64") == "linux_aarch64"
    with pytest.raises(ValueError, match="unknown platform"):
        platform_tag("linux-x86-64")


def test_universe_layout(tmp_path: Path) -> None:
    root = build_universe(tmp_path)
    files = {str(p.relative_to(root)) for p in root.rglob("*.whl")}
    for expected in [
        "simple/torch-2.6.0-py3-none-macosx_11_0_arm64.whl",
        "simple/torch-2.15.0-py3-none-manylinux_2_28_aarch64.whl",
        "simple/cuda_toolkit-13.2.2-py3-none-manylinux_2_28_x86_64.whl",
        "simple/pytorch_triton-0.0.1-py3-none-any.whl",
        "whl/cpu/torch-2.9.1-py3-none-macosx_11_0_arm64.whl",
        "whl/cpu/torch-2.9.1+cpu-py3-none-win_amd64.whl",
        "whl/cu126/torch-2.6.0+cu126-py3-none-linux_aarch64.whl",
        "whl/cu126/torchvision-0.21.0-py3-none-manylinux_2_28_aarch64.whl",
        "whl/cu128/torch-2.9.1+cu128-py3-none-manylinux_2_28_aarch64.whl",
        "whl/rocm6.4/pytorch_triton_rocm-3.5.1-py3-none-manylinux_2_28_x86_64.whl",
        "whl/xpu/pytorch_triton_xpu-3.5.0-py3-none-manylinux_2_28_x86_64.whl",
    ]:
        assert expected in files
    assert not any(f.startswith("simple/pytorch_triton_") and "0.0.1" not in f for f in files)
    assert not any("+cpu-py3-none-macosx" in f for f in files)

    def requires(rel: str) -> list[str]:
        meta = Metadata.from_email(read_wheel_metadata(root / rel), validate=True)
        return [str(r) for r in meta.requires_dist or []]

    # The upstream bug: same version, inconsistent metadata across wheels.
    assert requires("whl/cu126/torch-2.6.0+cu126-py3-none-linux_aarch64.whl") == ["filelock"]
    x86 = requires("whl/cu126/torch-2.6.0+cu126-py3-none-manylinux_2_28_x86_64.whl")
    assert any(r.startswith("nvidia-cudnn-cu12==9.5.1.17;") for r in x86)
    # PyPI wheels of every platform carry the (marked) CUDA requirements.
    assert requires("simple/torch-2.9.1-py3-none-macosx_11_0_arm64.whl") == requires(
        "simple/torch-2.9.1-py3-none-win_amd64.whl"
    )
    assert 'cuda-toolkit[cublas,cudart]==13.2.2; platform_system == "Linux"' in requires(
        "simple/torch-2.15.0-py3-none-manylinux_2_28_x86_64.whl"
    )
    assert requires("whl/cpu/torch-2.9.1+cpu-py3-none-manylinux_2_28_x86_64.whl") == ["filelock"]
    # Rebuilding gives byte-identical files.
    again = build_universe(tmp_path / "again")
    for rel in sorted(files)[:10]:
        assert (root / rel).read_bytes() == (again / rel).read_bytes()


def test_universe_rejects_duplicates(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="declared twice"):
        build_universe(tmp_path, UNIVERSE[:1] * 2)


def test_hermetic_env_strips_outside_configuration(tmp_path: Path, fake_index: FakeIndex) -> None:
    env = hermetic_uv_env(
        fake_index,
        cache_dir=tmp_path / "cache",
        home_dir=tmp_path / "home",
        python=sys.executable,
        base_env={
            "PATH": "/usr/bin",
            "UV_NO_CONFIG": "1",
            "UV_INDEX_URL": "https://example.invalid/simple",
            "VIRTUAL_ENV": "/elsewhere",
            "HTTPS_PROXY": "http://proxy.invalid",
            "HOME": "/root",
        },
    )
    assert env["PATH"] == "/usr/bin"
    assert "UV_NO_CONFIG" not in env and "UV_INDEX_URL" not in env
    assert "VIRTUAL_ENV" not in env and "HTTPS_PROXY" not in env
    assert env["UV_DEFAULT_INDEX"] == fake_index.pypi_url
    assert env["HOME"] == str(tmp_path / "home")
    assert env["XDG_CONFIG_HOME"] == str(tmp_path / "home" / ".config")
    assert env["UV_PYTHON_DOWNLOADS"] == "never"


# --------------------------------------------------------------------------- #
# The server
# --------------------------------------------------------------------------- #


def _get(url: str) -> bytes:
    with urlopen(url, timeout=10) as response:
        return response.read()


def _raw(index: FakeIndex, path: str) -> tuple[int, str | None]:
    conn = http.client.HTTPConnection("127.0.0.1", index.port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location")
    finally:
        conn.close()


def test_urls(fake_index: FakeIndex) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/whl", fake_index.pytorch_base)
    assert fake_index.pypi_url == fake_index.url + "/simple"
    assert fake_index.index_url("cu128") == fake_index.pytorch_base + "/cu128"


def test_project_page_lists_files_with_hashes_and_metadata(fake_index: FakeIndex) -> None:
    page = _get(fake_index.index_url("cu126") + "/torch/").decode()
    links = re.findall(r"<a ([^>]*)>([^<]*)</a>", page)
    names = [name for _, name in links]
    assert names == sorted(names)
    assert "torch-2.6.0+cu126-py3-none-linux_aarch64.whl" in names
    assert all(name.startswith("torch-") for name in names)
    for attrs, name in links:
        href = re.search(r'href="([^"#]+)#sha256=([0-9a-f]{64})"', attrs)
        assert href, attrs
        assert "%2B" in href.group(1)
        wheel = _get(fake_index.url + href.group(1))
        assert hashlib.sha256(wheel).hexdigest() == href.group(2)
        meta_hash = re.search(r'data-dist-info-metadata="sha256=([0-9a-f]{64})"', attrs)
        assert meta_hash and f'data-core-metadata="sha256={meta_hash.group(1)}"' in attrs
        metadata = _get(fake_index.url + href.group(1) + ".metadata")
        assert hashlib.sha256(metadata).hexdigest() == meta_hash.group(1)
        assert f"Name: torch\nVersion: {name.split('-')[1]}\n".encode() in metadata
        assert 'data-requires-python="&gt;=' in attrs


def test_root_listing_redirects_and_404s(fake_index: FakeIndex) -> None:
    root = _get(fake_index.pypi_url + "/").decode()
    assert '<a href="/simple/nvidia-cudnn-cu12/">nvidia-cudnn-cu12</a>' in root
    assert "pytorch-triton-rocm" not in root
    assert 'href="/whl/rocm6.4/pytorch-triton-rocm/"' in _get(fake_index.index_url("rocm6.4") + "/").decode()
    assert _raw(fake_index, "/whl/cu128/torch") == (301, "/whl/cu128/torch/")
    assert _raw(fake_index, "/whl/cu128") == (301, "/whl/cu128/")
    assert _raw(fake_index, "/simple/Nvidia_CUDNN.cu12/") == (301, "/simple/nvidia-cudnn-cu12/")
    assert _raw(fake_index, "/simple/pytorch-triton-rocm/")[0] == 404
    assert _raw(fake_index, "/whl/cu999/torch/")[0] == 404
    assert _raw(fake_index, "/whl/")[0] == 404
    assert _raw(fake_index, "/simple/../simple/torch/")[0] == 404


def test_files_added_later_are_served(tmp_path: Path) -> None:
    root = build_universe(tmp_path, [u for u in UNIVERSE if u.index == PYPI and u.name == "filelock"])
    with FakeIndex(root) as index:
        assert _raw(index, "/whl/nightly/cu128/torch/")[0] == 404
        build_wheel(root / pytorch_index("nightly/cu128"), "torch", "2.10.0.dev20251120+cu128", "win_amd64")
        page = _get(index.index_url("nightly/cu128") + "/torch/").decode()
        assert "torch-2.10.0.dev20251120+cu128-py3-none-win_amd64.whl" in page
        # a sidecar .metadata overrides what is served for a file (e.g. an sdist)
        sdist = root / PYPI / "kernels-0.1.0.tar.gz"
        sdist.write_bytes(b"not really a tarball")
        (root / PYPI / "kernels-0.1.0.tar.gz.metadata").write_bytes(
            b"Metadata-Version: 2.1\nName: kernels\nVersion: 0.1.0\nRequires-Python: >=3.10\n\n"
        )
        page = _get(index.pypi_url + "/kernels/").decode()
        assert "kernels-0.1.0.tar.gz#sha256=" in page and "data-core-metadata" in page
        assert _get(index.pypi_url + "/kernels-0.1.0.tar.gz.metadata").startswith(b"Metadata-Version")
        assert index.requested("/kernels/")


# --------------------------------------------------------------------------- #
# End to end, with the real uv
# --------------------------------------------------------------------------- #


@pytest.mark.e2e
def test_uv_pip_installs_fake_wheels(tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str]) -> None:
    run_uv(["venv", str(tmp_path / "venv")], tmp_path, uv_env)
    python = tmp_path / "venv" / "bin" / "python"
    run_uv(
        ["pip", "install", "--python", str(python), "--index", fake_index.index_url("cu128"), "torch==2.9.1"],
        tmp_path,
        uv_env,
    )
    out = subprocess.run(
        [str(python), "-c", "import torch, nvidia_cudnn_cu12 as c; print(torch.__version__, c.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["2.9.1+cu128", "9.10.2.21"]


@pytest.mark.e2e
def test_run_uv_fails_on_ignored_tool_uv_table(tmp_path: Path, uv_env: dict[str, str]) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n\n[tool.uv]\nno-such-setting = 1\n'
    )
    # uv itself only warns and succeeds with the whole [tool.uv] table ignored ...
    proc = subprocess.run([find_uv_bin(), "lock"], cwd=tmp_path, env=uv_env, capture_output=True, text=True)
    assert proc.returncode == 0 and "unknown field `no-such-setting`" in proc.stderr
    # ... so run_uv turns that into a test failure.
    with pytest.raises(UvCommandError, match="Failed to parse"):
        run_uv(["lock"], tmp_path, uv_env)


def _write_project(
    path: Path,
    index: FakeIndex,
    variants: dict[str, str],
    torch: str,
    extra_toml: str = "",
) -> Path:
    """A hand-written project in the style of uv's PyTorch guide.

    ``variants`` maps extra -> source marker ('' for none). Built with uv_build
    (src layout), which uv builds itself without fetching uv_build.
    """
    extras = "\n".join(f'{extra} = ["{torch}", "torchvision"]' for extra in variants)
    conflicts = ", ".join(f'{{ extra = "{extra}" }}' for extra in variants)
    sources = "\n".join(
        f'  {{ index = "pytorch-{extra}", extra = "{extra}"'
        + (f', marker = "{marker}"' if marker else "")
        + " },"
        for extra, marker in variants.items()
    )
    indexes = "\n".join(
        f'[[tool.uv.index]]\nname = "pytorch-{extra}"\nurl = "{index.index_url(extra)}"\nexplicit = true\n'
        for extra in variants
    )
    (path / "src" / "demo").mkdir(parents=True)
    (path / "src" / "demo" / "__init__.py").write_text("")
    (path / "pyproject.toml").write_text(
        f"""\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = []

[project.optional-dependencies]
{extras}

[build-system]
requires = ["uv_build>=0.13,<0.14"]
build-backend = "uv_build"

[tool.uv]
conflicts = [[{conflicts}]]

[tool.uv.sources]
torch = [
{sources}
]
torchvision = [
{sources}
]

{indexes}
{extra_toml}"""
    )
    return path


def _locked(project: Path, name: str) -> dict[str, dict]:
    """version -> [[package]] entry of ``name`` in the project's uv.lock."""
    lock = tomlkit.parse((project / "uv.lock").read_text()).unwrap()
    return {p["version"]: p for p in lock["package"] if p["name"] == name}


LINUX_OR_WIN = "sys_platform == 'linux' or sys_platform == 'win32'"


@pytest.mark.e2e
def test_guide_style_project_cpu_and_cu128(tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str]) -> None:
    project = _write_project(tmp_path, fake_index, {"cpu": "", "cu128": LINUX_OR_WIN}, "torch>=2.9,<2.10")
    run_uv(["lock"], project, uv_env)
    torch = _locked(project, "torch")
    assert torch["2.9.1+cu128"]["source"] == {"registry": fake_index.index_url("cu128")}
    assert torch["2.9.1+cpu"]["source"] == {"registry": fake_index.index_url("cpu")}

    run_uv(["sync", "--extra", "cu128"], project, uv_env)
    installed = installed_packages(project, uv_env)
    assert installed["torch"] == "2.9.1+cu128"
    assert installed["torchvision"] == "0.24.1+cu128"
    assert installed["nvidia-cudnn-cu12"] == "9.10.2.21"
    assert installed["triton"] == "3.5.1"
    assert installed["demo"] == "0.1.0"

    run_uv(["sync", "--extra", "cpu"], project, uv_env)
    installed = installed_packages(project, uv_env)
    assert installed["torch"] == "2.9.1+cpu"
    assert installed["torchvision"] == "0.24.1+cpu"
    assert not [name for name in installed if name.startswith(("nvidia-", "triton"))]
    # the project itself was built by uv's built-in uv_build, not from the index
    assert not fake_index.requested("/uv-build/")


CU126_TORCH_260_REQUIRES = [
    "filelock",
    f"nvidia-cudnn-cu12==9.5.1.17; {X86}",
    f"nvidia-cublas-cu12==12.6.4.1; {X86}",
    f"nvidia-nccl-cu12==2.21.5; {X86}",
    f"triton==3.2.0; {X86}",
]


@pytest.mark.e2e
@pytest.mark.parametrize("override", [False, True], ids=["upstream-metadata", "dependency-metadata"])
def test_torch_260_cu126_inconsistent_metadata(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str], override: bool
) -> None:
    """pytorch/pytorch#146679, astral-sh/uv#11945.

    uv reads the metadata of one wheel per version (the first listed: the
    ``linux_aarch64`` one, which lacks every nvidia requirement) and locks
    torch 2.6.0+cu126 without its CUDA libraries. A
    ``[[tool.uv.dependency-metadata]]`` entry for the exact local version
    restores them.
    """
    extra_toml = ""
    if override:
        extra_toml = (
            '[[tool.uv.dependency-metadata]]\nname = "torch"\nversion = "2.6.0+cu126"\n'
            'requires-python = ">=3.9.0"\n'
            f"requires-dist = {tomlkit.item(CU126_TORCH_260_REQUIRES).as_string()}\n"
        )
    project = _write_project(tmp_path, fake_index, {"cpu": "", "cu126": LINUX_OR_WIN}, "torch>=2.6,<2.7", extra_toml)
    run_uv(["lock"], project, uv_env)
    locked_deps = {d["name"] for d in _locked(project, "torch")["2.6.0+cu126"].get("dependencies", [])}
    run_uv(["sync", "--extra", "cu126"], project, uv_env)
    installed = installed_packages(project, uv_env)
    assert installed["torch"] == "2.6.0+cu126"
    if override:
        assert {"nvidia-cudnn-cu12", "nvidia-cublas-cu12", "nvidia-nccl-cu12", "triton"} <= locked_deps
        assert installed["nvidia-cudnn-cu12"] == "9.5.1.17"
        assert installed["triton"] == "3.2.0"
    else:
        assert locked_deps == {"filelock"}
        assert not [name for name in installed if name.startswith(("nvidia-", "triton"))]
