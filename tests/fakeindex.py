"""A hermetic, offline stand-in for download.pytorch.org and PyPI.

The end-to-end tests never touch the network. Instead they:

1. build a small *universe* of tiny but valid wheels (:data:`UNIVERSE`, plain
   data records) into a directory with :func:`build_universe`;
2. serve that directory as PEP 503 simple indexes on 127.0.0.1 with
   :class:`FakeIndex` (PyTorch-style indexes at ``/whl/<variant>/``, a fake
   PyPI at ``/simple/``);
3. run the real ``uv`` against it with :func:`hermetic_uv_env` and
   :func:`run_uv`, and inspect the result with :func:`installed_packages`.

Only the standard library and ``packaging`` are imported at module level (the
``uv`` Python package is looked up lazily by :func:`find_uv_bin`).

Layout served by :class:`FakeIndex` for a directory tree ``root``::

    root/simple/*.whl          -> http://127.0.0.1:PORT/simple/<project>/
    root/whl/cu128/*.whl       -> http://127.0.0.1:PORT/whl/cu128/<project>/
    root/whl/nightly/cu128/... -> http://127.0.0.1:PORT/whl/nightly/cu128/<project>/

Every directory that directly contains distributions (``.whl``, ``.tar.gz``,
``.zip``) is an index. Files are scanned on every request, so a test may drop
more files (e.g. a kernel sdist, a nightly index) into the tree at any time.
A file ``<dist>.metadata`` next to a distribution overrides the core metadata
served for it (PEP 658); for wheels the metadata is otherwise read from the
wheel itself.

The build backend of generated projects: the fake PyPI has no ``uv_build``,
and needs none. When ``[build-system] requires = ["uv_build>=0.13,<0.14"]``
admits the running uv's own version (0.13.9), uv builds the project with its
built-in backend ("Performing direct build" in ``uv -v``) and never asks an
index for uv_build -- for ``uv sync``, editable or ``--no-editable``. Only a
range that excludes the running uv (e.g. ``>=0.14``) makes uv fetch uv_build
from the index; then drop the real wheel in with ``build_universe(...,
extra_files={PYPI: [path]})``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from email.parser import HeaderParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

__all__ = [
    "PLATFORMS",
    "PYPI",
    "UNIVERSE",
    "Dist",
    "FakeIndex",
    "UvCommandError",
    "build_universe",
    "build_wheel",
    "find_uv_bin",
    "hermetic_uv_env",
    "installed_packages",
    "pytorch_index",
    "run_uv",
    "wheel_filename",
]

# --------------------------------------------------------------------------- #
# Wheels
# --------------------------------------------------------------------------- #

#: Fixed timestamp for every zip entry (the earliest a zip file can store).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

#: Platform keys used by the universe -> wheel platform tag.
PLATFORMS: dict[str, str] = {
    "linux-x86_64": "manylinux_2_28_x86_64",
    "linux-aarch64": "manylinux_2_28_aarch64",
    "windows": "win_amd64",
    "macos": "macosx_11_0_arm64",
    "any": "any",
}

_RAW_PLATFORM_TAG = re.compile(r"[a-z0-9_]+")


def platform_tag(platform: str) -> str:
    """Map a universe platform key (``linux-x86_64``...) to a wheel platform tag.

    A raw platform tag (lower-case, underscores, e.g. ``linux_aarch64`` for the
    non-manylinux cu126 aarch64 wheel) is passed through; anything else (a typo
    such as ``linux-x86-64``) raises ``ValueError``.
    """
    if platform in PLATFORMS:
        return PLATFORMS[platform]
    if _RAW_PLATFORM_TAG.fullmatch(platform):
        return platform
    raise ValueError(f"unknown platform {platform!r}; use one of {sorted(PLATFORMS)} or a raw tag")


def _escape_name(name: str) -> str:
    """Wheel-filename / dist-info / module form of a project name."""
    return canonicalize_name(name).replace("-", "_")


def wheel_filename(name: str, version: str, platform_tag: str = "any", *, tag: str | None = None) -> str:
    """``torch-2.9.1+cu128-py3-none-manylinux_2_28_x86_64.whl``.

    ``tag`` overrides the whole compatibility tag (``py3-none-linux_aarch64``).
    """
    full_tag = tag if tag is not None else f"py3-none-{platform_tag}"
    return f"{_escape_name(name)}-{Version(version)}-{full_tag}.whl"


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def build_metadata(
    name: str,
    version: str,
    requires_dist: Iterable[str] = (),
    requires_python: str | None = None,
    provides_extra: Iterable[str] = (),
) -> str:
    """Core metadata (``METADATA``, Metadata-Version 2.1) as text."""
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {Version(version)}",
        f"Summary: Fake {name} for the uvtorch test index",
    ]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Provides-Extra: {extra}" for extra in provides_extra]
    lines += [f"Requires-Dist: {req}" for req in requires_dist]
    return "\n".join(lines) + "\n\n"


def build_wheel(
    dest_dir: os.PathLike[str] | str,
    name: str,
    version: str,
    platform_tag: str = "any",
    requires_dist: Iterable[str] = (),
    requires_python: str | None = None,
    *,
    provides_extra: Iterable[str] = (),
    tag: str | None = None,
    module_files: Mapping[str, str] | None = None,
) -> Path:
    """Write a tiny, valid, byte-for-byte deterministic wheel and return its path.

    The wheel is tagged ``py3-none-<platform_tag>`` (or ``tag``, a full
    ``python-abi-platform`` override such as ``py3-none-linux_aarch64``) and
    contains ``<module>/__init__.py`` with ``__version__ = "<version>"`` (the
    module is the normalized project name, ``-``/``.`` -> ``_``) plus a
    dist-info directory with METADATA, WHEEL and RECORD (sha256 hashes). ``module_files``
    adds more files (path in the wheel -> text), or replaces that ``__init__.py``.
    """
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    version = str(Version(version))
    full_tag = tag if tag is not None else f"py3-none-{platform_tag}"
    module = _escape_name(name)
    dist_info = f"{module}-{version}.dist-info"
    purelib = full_tag.endswith("-any")

    files: dict[str, bytes] = {
        f"{module}/__init__.py": f'__version__ = "{version}"\n'.encode(),
        f"{dist_info}/METADATA": build_metadata(
            name, version, requires_dist, requires_python, provides_extra
        ).encode(),
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\n"
            "Generator: uvtorch-fakeindex\n"
            f"Root-Is-Purelib: {'true' if purelib else 'false'}\n"
            f"Tag: {full_tag}\n"
        ).encode(),
    }
    files.update({path: text.encode() for path, text in (module_files or {}).items()})
    record_path = f"{dist_info}/RECORD"
    record = "".join(
        f"{path},{_record_hash(data)},{len(data)}\n" for path, data in sorted(files.items())
    ) + f"{record_path},,\n"
    files[record_path] = record.encode()

    path = dest / wheel_filename(name, version, tag=full_tag)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for arcname in sorted(files):
            info = zipfile.ZipInfo(arcname, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so external_attr means the same everywhere
            info.external_attr = (0o100644 & 0xFFFF) << 16
            zf.writestr(info, files[arcname])
    path.write_bytes(buffer.getvalue())
    return path


def read_wheel_metadata(path: os.PathLike[str] | str) -> bytes:
    """The raw ``*.dist-info/METADATA`` of a wheel."""
    with zipfile.ZipFile(path) as zf:
        candidates = [
            n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
        ]
        if len(candidates) != 1:
            raise ValueError(f"{path}: expected one dist-info/METADATA, found {candidates}")
        return zf.read(candidates[0])


# --------------------------------------------------------------------------- #
# The universe
# --------------------------------------------------------------------------- #

#: Index directory of the fake PyPI (served at ``/simple/``).
PYPI = "simple"


def pytorch_index(variant: str) -> str:
    """Index directory of a PyTorch variant: ``cu128`` -> ``whl/cu128``."""
    return f"whl/{variant}"


@dataclasses.dataclass(frozen=True)
class Dist:
    """One project version on one index, with one wheel per platform.

    ``platforms`` are keys of :data:`PLATFORMS` or raw platform tags
    (``linux_aarch64``). Wheels of the same version with *different* metadata
    (the cu126 aarch64 bug) are simply two records.
    """

    index: str
    name: str
    version: str
    platforms: tuple[str, ...] = ("any",)
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    provides_extra: tuple[str, ...] = ()

    def filenames(self) -> list[str]:
        return [wheel_filename(self.name, self.version, platform_tag(p)) for p in self.platforms]


LINUX_X86 = 'platform_system == "Linux" and platform_machine == "x86_64"'
LINUX = 'platform_system == "Linux"'

ALL = ("linux-x86_64", "linux-aarch64", "windows", "macos")
LINUX_BOTH = ("linux-x86_64", "linux-aarch64")
X86_WIN = ("linux-x86_64", "windows")
NO_MAC = ("linux-x86_64", "linux-aarch64", "windows")

#: torch version -> (torchvision version, torchvision's torch requirement,
#: triton requirement, Requires-Python)
TORCH_RELEASES: dict[str, tuple[str, str, str, str]] = {
    "2.6.0": ("0.21.0", "torch==2.6.0", "triton==3.2.0", ">=3.9.0"),
    "2.8.0": ("0.23.0", "torch==2.8.0", "triton==3.4.0", ">=3.9.0"),
    "2.9.1": ("0.24.1", "torch==2.9.1", "triton==3.5.1", ">=3.10"),
    "2.15.0": ("0.29.2", "torch>=2.14.0", "triton~=3.9.0", ">=3.10"),
}

#: The CUDA libraries each CUDA build of torch pins (~3 per build).
CUDA_PINS: dict[str, tuple[str, ...]] = {
    "cu124": ("nvidia-cudnn-cu12==9.1.0.70", "nvidia-cublas-cu12==12.4.5.8", "nvidia-nccl-cu12==2.21.5"),
    "cu126-2.6": ("nvidia-cudnn-cu12==9.5.1.17", "nvidia-cublas-cu12==12.6.4.1", "nvidia-nccl-cu12==2.21.5"),
    "cu126-2.9": ("nvidia-cudnn-cu12==9.10.2.21", "nvidia-cublas-cu12==12.6.4.1", "nvidia-nccl-cu12==2.27.5"),
    "cu128-2.8": ("nvidia-cudnn-cu12==9.10.2.21", "nvidia-cublas-cu12==12.8.4.1", "nvidia-nccl-cu12==2.27.3"),
    "cu128-2.9": ("nvidia-cudnn-cu12==9.10.2.21", "nvidia-cublas-cu12==12.8.4.1", "nvidia-nccl-cu12==2.27.5"),
    # torch 2.10+ on PyPI is a CUDA 13 build that depends on NVIDIA's cuda-toolkit
    # metapackage; these are Linux-only (aarch64 too) rather than x86_64-only.
    "cu13": (
        "cuda-toolkit[cublas,cudart]==13.2.2",
        "nvidia-cudnn-cu13==9.13.0.50",
        "nvidia-nccl-cu13==2.27.7",
    ),
}


#: torch.cuda.get_arch_list() of each fake build (the real wheels' lists: src/uvtorch/data/cuda.toml).
FAKE_ARCH_LISTS: dict[str, str] = {
    "cu124": "sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90",
    "cu126": "sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90",
    "cu128": "sm_70 sm_75 sm_80 sm_86 sm_90 sm_100 sm_120",
    "cu130": "sm_75 sm_80 sm_86 sm_90 sm_100 sm_120 compute_120",
    "rocm6.4": "gfx900 gfx906 gfx908 gfx90a gfx942 gfx1030 gfx1100 gfx1101 gfx1200 gfx1201",
}

#: Environment variables the fake torch reads, so that a test can play a machine.
FAKE_GPUS_ENV = "UVTORCH_FAKE_GPUS"  # "NVIDIA GeForce GTX 1080=6.1;NVIDIA H100=9.0"
FAKE_ARCH_ENV = "UVTORCH_FAKE_ARCH_LIST"  # overrides the build's list: "sm_75 sm_80"
FAKE_XPU_ENV = "UVTORCH_FAKE_XPU"  # "1": an XPU build sees an Intel GPU

_FAKE_TORCH_VERSION = """\
__version__ = {version!r}
cuda = {cuda!r}
hip = {hip!r}
"""

_FAKE_TORCH_CUDA = """\
\"\"\"The fake torch.cuda: devices from ${gpus}, the build's arch list (or ${arch}).

Like the real one, is_available() is True for a GPU build on a machine with a GPU even when
the build has no code for it.
\"\"\"
import os

from torch import version as _version

_BUILD_ARCHS = {archs!r}


def _gpus():
    text = os.environ.get({gpus!r}, "")
    found = []
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, _, cap = item.rpartition("=")
        found.append((name, tuple(int(x) for x in cap.split("."))))
    return found


def is_available():
    return (_version.cuda is not None or _version.hip is not None) and bool(_gpus())


def device_count():
    return len(_gpus()) if is_available() else 0


def get_device_name(i=0):
    return _gpus()[i][0]


def get_device_capability(i=0):
    return _gpus()[i][1]


def get_arch_list():
    if _version.cuda is None and _version.hip is None:
        return []
    return os.environ.get({arch!r}, _BUILD_ARCHS).split()
"""

_FAKE_TORCH_XPU = """\
import os


def is_available():
    return {xpu!r} and os.environ.get({env!r}) == "1"
"""


def fake_torch_files(version: str) -> dict[str, str]:
    """The modules of the fake torch: ``torch.__version__`` as before, plus ``torch.version``,
    ``torch.cuda`` and ``torch.xpu`` that play the machine the environment variables describe."""
    local = Version(version).local or ""
    cuda = f"{local[2:-1]}.{local[-1]}" if re.fullmatch(r"cu\d+", local) else None
    hip = local[len("rocm"):] if local.startswith("rocm") else None
    return {
        "torch/__init__.py": f'__version__ = "{Version(version)}"\nfrom torch import cuda, version, xpu\n',
        "torch/version.py": _FAKE_TORCH_VERSION.format(version=str(Version(version)), cuda=cuda, hip=hip),
        "torch/cuda.py": _FAKE_TORCH_CUDA.replace("${gpus}", FAKE_GPUS_ENV).replace("${arch}", FAKE_ARCH_ENV).format(
            archs=FAKE_ARCH_LISTS.get(local, ""), gpus=FAKE_GPUS_ENV, arch=FAKE_ARCH_ENV
        ),
        "torch/xpu.py": _FAKE_TORCH_XPU.format(xpu=local == "xpu", env=FAKE_XPU_ENV),
    }


def _marked(reqs: Iterable[str], marker: str) -> tuple[str, ...]:
    return tuple(f"{req}; {marker}" for req in reqs)


def torch_gpu_requires(pins: str, triton: str, marker: str = LINUX_X86) -> tuple[str, ...]:
    """Requires-Dist of a GPU torch: filelock + CUDA pins + triton, under ``marker``."""
    return ("filelock",) + _marked(CUDA_PINS[pins] + (triton,), marker)


def _pypi() -> list[Dist]:
    dists: list[Dist] = []
    pypi_cuda = {"2.6.0": "cu124", "2.8.0": "cu128-2.8", "2.9.1": "cu128-2.9", "2.15.0": "cu13"}
    for torch_version, (tv_version, tv_torch, triton, py) in TORCH_RELEASES.items():
        marker = LINUX if Version(torch_version) >= Version("2.10") else LINUX_X86
        dists.append(
            Dist(PYPI, "torch", torch_version, ALL, torch_gpu_requires(pypi_cuda[torch_version], triton, marker), py)
        )
        dists.append(Dist(PYPI, "torchvision", tv_version, ALL, (tv_torch,), py))
    nvidia = {
        "nvidia-cudnn-cu12": ("9.1.0.70", "9.5.1.17", "9.10.2.21"),
        "nvidia-cublas-cu12": ("12.4.5.8", "12.6.4.1", "12.8.4.1"),
        "nvidia-nccl-cu12": ("2.21.5", "2.27.3", "2.27.5"),
        "nvidia-cudnn-cu13": ("9.13.0.50",),
        "nvidia-nccl-cu13": ("2.27.7",),
        "nvidia-cublas": ("13.1.0.3",),
        "nvidia-cuda-runtime": ("13.0.96",),
        "triton": ("3.2.0", "3.4.0", "3.5.1", "3.9.0"),
    }
    for name, versions in nvidia.items():
        dists += [Dist(PYPI, name, v, LINUX_BOTH) for v in versions]
    dists.append(
        Dist(
            PYPI,
            "cuda-toolkit",
            "13.2.2",
            LINUX_BOTH,
            ('nvidia-cublas==13.1.0.3; extra == "cublas"', 'nvidia-cuda-runtime==13.0.96; extra == "cudart"'),
            provides_extra=("cublas", "cudart"),
        )
    )
    dists += [
        Dist(PYPI, "filelock", "3.20.0", ("any",), requires_python=">=3.10"),
        # Like the real one, it also pulls torch through ultralytics-thop.
        Dist(PYPI, "ultralytics", "8.3.0", ("any",),
             ("torch>=1.8.0", "torchvision>=0.9.0", "ultralytics-thop>=2.0.0"), ">=3.8"),
        Dist(PYPI, "ultralytics-thop", "2.0.0", ("any",), ("torch",), ">=3.8"),
        # A dependent the catalog does not know, pulling torch through a package it does not
        # know either: what `uvtorch check` must find in a system extra's lock.
        Dist(PYPI, "detector", "1.0.0", ("any",), ("tensorkit",), ">=3.8"),
        Dist(PYPI, "tensorkit", "1.0.0", ("any",), ("torch>=2",), ">=3.8"),
        Dist(PYPI, "intel-cmplr-lib-rt", "2025.2.1", X86_WIN),
        # Build requirements of kernel recipes (the fake kernels' backends need none of them).
        Dist(PYPI, "setuptools", "69.5.1", ("any",)),
        Dist(PYPI, "packaging", "24.2", ("any",)),
        Dist(PYPI, "wheel", "0.45.1", ("any",)),
        Dist(PYPI, "ninja", "1.13.0", ("any",)),
        Dist(PYPI, "psutil", "7.0.0", ("any",)),
        Dist(PYPI, "einops", "0.8.1", ("any",)),
        # PyPI really only has an empty placeholder under this name.
        Dist(PYPI, "pytorch-triton", "0.0.1", ("any",)),
    ]
    return dists


def _cpu() -> list[Dist]:
    index = pytorch_index("cpu")
    dists: list[Dist] = []
    for torch_version, (tv_version, tv_torch, _triton, py) in TORCH_RELEASES.items():
        dists += [
            Dist(index, "torch", f"{torch_version}+cpu", NO_MAC, ("filelock",), py),
            # The cpu index ships macOS wheels under the plain version.
            Dist(index, "torch", torch_version, ("macos",), ("filelock",), py),
            Dist(index, "torchvision", f"{tv_version}+cpu", NO_MAC, (tv_torch,), py),
            Dist(index, "torchvision", tv_version, ("macos",), (tv_torch,), py),
        ]
    return dists


def _cuda_and_friends() -> list[Dist]:
    cu124, cu126, cu128, cu130 = (pytorch_index(v) for v in ("cu124", "cu126", "cu128", "cu130"))
    rocm, xpu = pytorch_index("rocm6.4"), pytorch_index("xpu")
    return [
        # -- cu124 ---------------------------------------------------------
        Dist(cu124, "torch", "2.6.0+cu124", X86_WIN, torch_gpu_requires("cu124", "triton==3.2.0"), ">=3.9.0"),
        Dist(cu124, "torchvision", "0.21.0+cu124", X86_WIN, ("torch==2.6.0",), ">=3.9"),
        # -- cu126 ---------------------------------------------------------
        Dist(cu126, "torch", "2.6.0+cu126", X86_WIN, torch_gpu_requires("cu126-2.6", "triton==3.2.0"), ">=3.9.0"),
        # pytorch/pytorch#146679 (uv#11945): the aarch64 wheel of the same
        # version is tagged linux_aarch64 and its METADATA has no nvidia/triton
        # requirements at all -- inconsistent metadata across wheels.
        Dist(cu126, "torch", "2.6.0+cu126", ("linux_aarch64",), ("filelock",), ">=3.9.0"),
        Dist(cu126, "torch", "2.9.1+cu126", NO_MAC, torch_gpu_requires("cu126-2.9", "triton==3.5.1"), ">=3.10"),
        Dist(cu126, "torchvision", "0.21.0+cu126", X86_WIN, ("torch==2.6.0",), ">=3.9"),
        Dist(cu126, "torchvision", "0.21.0", ("linux-aarch64",), ("torch==2.6.0",), ">=3.9"),
        Dist(cu126, "torchvision", "0.24.1+cu126", NO_MAC, ("torch==2.9.1",), ">=3.10"),
        # -- cu128 ---------------------------------------------------------
        Dist(cu128, "torch", "2.8.0+cu128", X86_WIN, torch_gpu_requires("cu128-2.8", "triton==3.4.0"), ">=3.9.0"),
        Dist(cu128, "torch", "2.9.1+cu128", NO_MAC, torch_gpu_requires("cu128-2.9", "triton==3.5.1"), ">=3.10"),
        Dist(cu128, "torchvision", "0.23.0+cu128", X86_WIN, ("torch==2.8.0",), ">=3.9"),
        Dist(cu128, "torchvision", "0.24.1+cu128", NO_MAC, ("torch==2.9.1",), ">=3.10"),
        # -- cu130 (torch 2.9 has it; its wheels require CUDA 13 libraries) ---
        Dist(cu130, "torch", "2.9.1+cu130", NO_MAC, torch_gpu_requires("cu13", "triton==3.5.1", LINUX), ">=3.10"),
        Dist(cu130, "torchvision", "0.24.1+cu130", NO_MAC, ("torch==2.9.1",), ">=3.10"),
        # -- rocm6.4 (index dir "rocm6.4"; uvtorch's extra is "rocm6-4") -----
        Dist(rocm, "torch", "2.9.1+rocm6.4", ("linux-x86_64",), ("filelock", f"pytorch-triton-rocm==3.5.1; {LINUX_X86}"), ">=3.10"),
        Dist(rocm, "pytorch-triton-rocm", "3.5.1", ("linux-x86_64",)),  # only on this index
        Dist(rocm, "torchvision", "0.24.1+rocm6.4", ("linux-x86_64",), ("torch==2.9.1",), ">=3.10"),
        # -- xpu -----------------------------------------------------------
        Dist(
            xpu,
            "torch",
            "2.9.1+xpu",
            X86_WIN,
            ("filelock", "intel-cmplr-lib-rt==2025.2.1", f"pytorch-triton-xpu==3.5.0; {LINUX}"),
            ">=3.10",
        ),
        Dist(xpu, "pytorch-triton-xpu", "3.5.0", X86_WIN),  # only on this index
        Dist(xpu, "torchvision", "0.24.1+xpu", X86_WIN, ("torch==2.9.1",), ">=3.10"),
    ]


#: Versions for unpinned requirements of the real metadata uvtorch renders as overrides.
_UNPINNED_VERSIONS = {
    "filelock": "3.20.0",
    "typing-extensions": "4.12.2",
    "networkx": "3.4.2",
    "jinja2": "3.1.6",
    "fsspec": "2025.3.0",
    "setuptools": "80.9.0",
}


def _override_dependencies(present: Iterable[Dist]) -> list[Dist]:
    """PyPI stubs for everything uvtorch's metadata overrides require (the real lists).

    An override replaces a wheel's Requires-Dist with the real, full list, so the fake PyPI
    must host each of those packages for `uv lock` to succeed.
    """
    from packaging.requirements import Requirement

    from uvtorch.catalog import load

    have = {(canonicalize_name(d.name), d.version) for d in present if d.index == PYPI}
    dists: list[Dist] = []
    for entry in load().known_bad:
        for text in entry.requires_dist:
            req = Requirement(text)
            if req.marker is not None and "extra" in str(req.marker):
                continue
            pins = [s.version for s in req.specifier if s.operator == "=="]
            name = canonicalize_name(req.name)
            version = pins[0] if pins else _UNPINNED_VERSIONS[name]
            if (name, version) in have:
                continue
            have.add((name, version))
            platforms = LINUX_BOTH if name.startswith(("nvidia-", "triton")) else ("any",)
            dists.append(Dist(PYPI, name, version, platforms))
    return dists


def _nightly() -> list[Dist]:
    """Two nightlies of torch 2.16 on the nightly cpu and cu130 indexes.

    The CUDA build requires a +git triton that only the nightly index hosts (PyPI's triton
    releases cannot satisfy it).
    """
    cpu, cu130 = pytorch_index("nightly/cpu"), pytorch_index("nightly/cu130")
    triton = "3.8.0+git1a2b3c4d"
    dists = [Dist(cu130, "triton", triton, ("linux-x86_64",))]
    for date in ("20261119", "20261120"):
        torch = f"2.16.0.dev{date}"
        vision = f"0.31.0.dev{date}"
        gpu = ("filelock", f"triton=={triton}; {LINUX}", f"nvidia-cudnn-cu13==9.13.0.50; {LINUX}",
               f"cuda-toolkit[cublas,cudart]==13.2.2; {LINUX}")
        dists += [
            Dist(cpu, "torch", f"{torch}+cpu", NO_MAC, ("filelock",), ">=3.11"),
            Dist(cpu, "torch", torch, ("macos",), ("filelock",), ">=3.11"),
            Dist(cpu, "torchvision", f"{vision}+cpu", NO_MAC, (f"torch=={torch}",), ">=3.11"),
            Dist(cpu, "torchvision", vision, ("macos",), (f"torch=={torch}",), ">=3.11"),
            Dist(cu130, "torch", f"{torch}+cu130", X86_WIN, gpu, ">=3.11"),
            Dist(cu130, "torchvision", f"{vision}+cu130", X86_WIN, (f"torch=={torch}",), ">=3.11"),
        ]
    return dists


def torch_2_14_rocm714_and_xpu() -> list[Dist]:
    """torch 2.14.1 on the rocm7.14 and xpu indexes, as the real ones serve it.

    Not part of :data:`UNIVERSE` (tests add it: ``UNIVERSE + tuple(...)``). The rocm7.14 torch
    requires ``rocm[device-all,libraries]==7.14.*``; the rocm7.14 index serves ``rocm`` (an
    sdist there, a wheel here), rocm-sdk-core, rocm-sdk-libraries and per-GPU
    rocm-sdk-device-gfx* packages (gfx942 here), and PyPI holds unrelated placeholders of those
    names: higher-versioned here, so a missing source would pick them (a third party's reading
    of both indexes, search id 71198057833). The xpu torch requires triton-xpu from its index.
    """
    rocm, xpu = pytorch_index("rocm7.14"), pytorch_index("xpu")
    sdk = "7.14.1"
    dists = [
        Dist(rocm, "torch", "2.14.1+rocm7.14", ("linux-x86_64",),
             ("filelock", "rocm[device-all,libraries]==7.14.*", f"triton-rocm~=3.8.0; {LINUX}"),
             ">=3.10"),
        Dist(rocm, "triton-rocm", "3.8.0", ("linux-x86_64",)),
        Dist(rocm, "rocm", sdk, ("any",),
             (f"rocm-sdk-core=={sdk}", f'rocm-sdk-libraries=={sdk}; extra == "libraries"',
              f'rocm-sdk-device-gfx942=={sdk}; extra == "device-all"'),
             provides_extra=("device-all", "libraries")),
        Dist(rocm, "rocm-sdk-core", sdk, ("linux-x86_64",)),
        Dist(rocm, "rocm-sdk-libraries", sdk, ("linux-x86_64",)),
        Dist(rocm, "rocm-sdk-device-gfx942", sdk, ("linux-x86_64",)),
        Dist(xpu, "torch", "2.14.1+xpu", X86_WIN,
             ("filelock", "intel-cmplr-lib-rt==2025.2.1", f"triton-xpu~=3.8.0; {LINUX}"),
             ">=3.10"),
        Dist(xpu, "triton-xpu", "3.8.0", X86_WIN),  # only on this index
    ]
    for name in ("rocm", "rocm-sdk-core", "rocm-sdk-libraries", "rocm-sdk-device-gfx942"):
        dists.append(Dist(PYPI, name, "99.0.0", ("any",)))  # PyPI's unrelated placeholders
    return dists


_BASE = _pypi() + _cpu() + _cuda_and_friends() + _nightly()

#: Everything the fake servers host. Extend with ``UNIVERSE + (Dist(...),)``.
UNIVERSE: tuple[Dist, ...] = tuple(_BASE + _override_dependencies(_BASE))


def build_universe(
    root: os.PathLike[str] | str,
    dists: Iterable[Dist] = UNIVERSE,
    *,
    extra_files: Mapping[str, Iterable[os.PathLike[str] | str]] | None = None,
) -> Path:
    """Build every wheel of ``dists`` into ``root/<index>/`` and return ``root``.

    ``extra_files`` maps an index directory to existing files (e.g. a real
    wheel or an sdist) that are copied in as they are.
    """
    root = Path(root)
    seen: dict[Path, Dist] = {}
    for dist in dists:
        for platform in dist.platforms:
            tag = platform_tag(platform)
            target = root / dist.index / wheel_filename(dist.name, dist.version, tag)
            if target in seen:
                raise ValueError(f"{target.name} declared twice in {dist.index}: {seen[target]} and {dist}")
            seen[target] = dist
            build_wheel(
                root / dist.index,
                dist.name,
                dist.version,
                tag,
                dist.requires_dist,
                dist.requires_python,
                provides_extra=dist.provides_extra,
                module_files=fake_torch_files(dist.version) if dist.name == "torch" else None,
            )
    for index, paths in (extra_files or {}).items():
        (root / index).mkdir(parents=True, exist_ok=True)
        for src in paths:
            shutil.copy2(src, root / index / Path(src).name)
    return root


# --------------------------------------------------------------------------- #
# The server
# --------------------------------------------------------------------------- #

_DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")


def _project_of(filename: str) -> str | None:
    """Canonical project name of a distribution filename, or None if it is not one."""
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[0])
        if filename.endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(filename)[0])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


class _FileInfo:
    __slots__ = ("sha256", "metadata", "metadata_sha256", "requires_python")

    def __init__(self, path: Path) -> None:
        data = path.read_bytes()
        self.sha256 = hashlib.sha256(data).hexdigest()
        sidecar = path.with_name(path.name + ".metadata")
        metadata: bytes | None
        if sidecar.is_file():
            metadata = sidecar.read_bytes()
        elif path.name.endswith(".whl"):
            metadata = read_wheel_metadata(path)
        else:
            metadata = None
        self.metadata = metadata
        self.metadata_sha256 = hashlib.sha256(metadata).hexdigest() if metadata is not None else None
        self.requires_python = None
        if metadata is not None:
            self.requires_python = HeaderParser().parsestr(metadata.decode("utf-8")).get("Requires-Python")


class FakeIndex:
    """Serve a directory tree as PEP 503 simple indexes on 127.0.0.1.

    Use as a context manager (or call :meth:`start` / :meth:`stop`)::

        with FakeIndex(build_universe(tmp)) as index:
            index.pypi_url           # http://127.0.0.1:PORT/simple
            index.pytorch_base       # http://127.0.0.1:PORT/whl
            index.index_url("cu128")  # http://127.0.0.1:PORT/whl/cu128

    Pages carry ``#sha256=`` fragments, ``data-requires-python`` and the
    PEP 658/714 ``data-dist-info-metadata``/``data-core-metadata`` attributes;
    ``<file-url>.metadata`` serves the core metadata. Paths of all requests
    are recorded in :attr:`requests` (see :meth:`requested`).
    """

    def __init__(self, root: os.PathLike[str] | str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root).resolve()
        self._host = host
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int, int], _FileInfo] = {}
        self.requests: list[str] = []
        #: Serve project pages as PEP 691 JSON to a client whose Accept asks for it (off by
        #: default: uv asks for JSON too, and the e2e tests read what uv reads from HTML).
        self.json_pages = False
        self.json_served: list[str] = []  # the paths answered with JSON

    # -- lifecycle --------------------------------------------------------
    def start(self) -> FakeIndex:
        if self._server is not None:
            return self
        index = self

        class Handler(_IndexHandler):
            fake_index = index

        server = _QuietServer((self._host, self._port), Handler)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-index", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeIndex:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- URLs ------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeIndex is not running")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def pytorch_base(self) -> str:
        """What uvtorch puts in front of ``/<variant>``: ``http://127.0.0.1:PORT/whl``."""
        return f"{self.url}/whl"

    @property
    def pypi_url(self) -> str:
        """The fake PyPI, for ``UV_DEFAULT_INDEX``: ``http://127.0.0.1:PORT/simple``."""
        return f"{self.url}/simple"

    def index_url(self, variant: str) -> str:
        """``cu128`` -> ``http://127.0.0.1:PORT/whl/cu128``."""
        return f"{self.pytorch_base}/{variant}"

    # -- request log ----------------------------------------------------------
    def _record(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)

    def requested(self, fragment: str) -> list[str]:
        """Recorded request paths containing ``fragment``."""
        with self._lock:
            return [p for p in self.requests if fragment in p]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- content ----------------------------------------------------------------
    def info(self, path: Path) -> _FileInfo:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            cached = _FileInfo(path)
            with self._lock:
                self._cache[key] = cached
        return cached

    def is_index_dir(self, path: Path) -> bool:
        return path.is_dir() and any(
            child.name.endswith(_DIST_SUFFIXES) and child.is_file() for child in path.iterdir()
        )

    def projects(self, index_dir: Path) -> dict[str, list[Path]]:
        """Canonical project name -> its distribution files, for one index directory."""
        projects: dict[str, list[Path]] = {}
        for child in sorted(index_dir.iterdir()):
            if not child.is_file():
                continue
            project = _project_of(child.name)
            if project is not None:
                projects.setdefault(project, []).append(child)
        return projects


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # uv drops connections it no longer needs; that is not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def _html_page(title: str, body: Sequence[str]) -> bytes:
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        '<meta name="pypi:repository-version" content="1.0">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n" + "".join(line + "<br/>\n" for line in body) + "</body>\n</html>\n"
    ).encode()


class _IndexHandler(BaseHTTPRequestHandler):
    fake_index: FakeIndex
    server_version = "uvtorch-fakeindex/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass

    def do_HEAD(self) -> None:
        self._handle(send_body=False)

    def do_GET(self) -> None:
        self._handle(send_body=True)

    # -- helpers ------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str, *, send_body: bool, cache: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _send_file(self, body: bytes, send_body: bool) -> None:
        # Files never change under a name; pages may (tests add files), so they are not cached.
        self._send(200, body, "application/octet-stream", send_body=send_body, cache="max-age=31536000")

    def _send_page(self, body: bytes, send_body: bool) -> None:
        self._send(200, body, "text/html; charset=utf-8", send_body=send_body, cache="no-cache")

    def _redirect(self, location: str, send_body: bool) -> None:
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _not_found(self, send_body: bool) -> None:
        self._send(404, b"Not Found\n", "text/plain", send_body=send_body, cache="no-cache")

    def _handle(self, send_body: bool) -> None:
        index = self.fake_index
        raw_path = urlsplit(self.path).path
        index._record(raw_path)
        path = unquote(raw_path)
        parts = [p for p in path.split("/") if p]
        if any(p in (".", "..") or "\\" in p for p in parts):
            return self._not_found(send_body)
        trailing = path.endswith("/")
        target = index.root.joinpath(*parts)

        if parts and index.is_index_dir(target):
            if not trailing:
                return self._redirect(path + "/", send_body)
            return self._root_listing(parts, target, send_body)
        if len(parts) < 2:
            return self._not_found(send_body)
        index_dir, last = target.parent, parts[-1]
        if not index.is_index_dir(index_dir):
            return self._not_found(send_body)
        if last.endswith(".metadata") and (index_dir / last[: -len(".metadata")]).is_file():
            info = index.info(index_dir / last[: -len(".metadata")])
            if info.metadata is None:
                return self._not_found(send_body)
            return self._send_file(info.metadata, send_body)
        if last.endswith(_DIST_SUFFIXES) and target.is_file():
            return self._send_file(target.read_bytes(), send_body)
        canonical = canonicalize_name(last)
        if canonical != last or not trailing:
            return self._redirect("/" + "/".join([*parts[:-1], canonical]) + "/", send_body)
        return self._project_page(parts[:-1], index_dir, canonical, send_body)

    def _root_listing(self, parts: list[str], index_dir: Path, send_body: bool) -> None:
        prefix = "/" + "/".join(parts)
        links = [
            f'<a href="{prefix}/{quote(name)}/">{html.escape(name)}</a>'
            for name in sorted(self.fake_index.projects(index_dir))
        ]
        self._send_page(_html_page("Simple index", links), send_body)

    def _project_page(self, parts: list[str], index_dir: Path, project: str, send_body: bool) -> None:
        files = self.fake_index.projects(index_dir).get(project)
        if not files:
            return self._not_found(send_body)
        prefix = "/" + "/".join(parts)
        if self.fake_index.json_pages and _JSON in self.headers.get("Accept", ""):
            return self._json_page(prefix, project, files, send_body)
        links = []
        for file in files:
            info = self.fake_index.info(file)
            attrs = f'href="{prefix}/{quote(file.name)}#sha256={info.sha256}"'
            if info.requires_python:
                attrs += f' data-requires-python="{html.escape(info.requires_python, quote=True)}"'
            if info.metadata_sha256:
                attrs += (
                    f' data-dist-info-metadata="sha256={info.metadata_sha256}"'
                    f' data-core-metadata="sha256={info.metadata_sha256}"'
                )
            links.append(f"<a {attrs}>{html.escape(file.name)}</a>")
        self._send_page(_html_page(f"Links for {project}", links), send_body)


    def _json_page(self, prefix: str, project: str, files: list[Path], send_body: bool) -> None:
        """The PEP 691 form of a project page."""
        entries = []
        for file in files:
            info = self.fake_index.info(file)
            entry: dict[str, object] = {
                "filename": file.name, "url": f"{prefix}/{quote(file.name)}",
                "hashes": {"sha256": info.sha256},
            }
            if info.requires_python:
                entry["requires-python"] = info.requires_python
            entries.append(entry)
        body = json.dumps({"meta": {"api-version": "1.0"}, "name": project, "files": entries}).encode()
        with self.fake_index._lock:
            self.fake_index.json_served.append(urlsplit(self.path).path)
        self._send(200, body, _JSON, send_body=send_body, cache="no-cache")


_JSON = "application/vnd.pypi.simple.v1+json"


# --------------------------------------------------------------------------- #
# Running uv hermetically
# --------------------------------------------------------------------------- #

#: Output that means uv could not read (part of) a pyproject.toml or uv.toml.
#: uv only *warns* when it cannot parse ``[tool.uv]`` during settings discovery
#: and then silently ignores the whole table, so a test must treat it as fatal.
UV_FORBIDDEN_OUTPUT: tuple[str, ...] = ("Failed to parse", "unknown field", "TOML parse error")

#: Inherited variables that would change what uv does (index, config, target env, proxy).
_STRIPPED_PREFIXES = ("UV_", "PIP_")
_STRIPPED_VARS = (
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV",
    "PYTHONPATH",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


class UvCommandError(AssertionError):
    """uv failed, or printed something that means it ignored configuration."""


def find_uv_bin() -> str:
    """The uv binary of the pip-installed ``uv`` package (pinned by the project)."""
    try:
        import uv  # noqa: PLC0415 - optional, keeps this module stdlib + packaging

        return uv.find_uv_bin()
    except ImportError:
        found = shutil.which("uv")
        if found is None:
            raise RuntimeError("uv is not installed; pip install the project's test extra") from None
        return found


def hermetic_uv_env(
    index: FakeIndex,
    *,
    cache_dir: os.PathLike[str] | str,
    home_dir: os.PathLike[str] | str,
    python: str,
    base_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment that makes uv use only the fake index and no user configuration.

    ``UV_NO_CONFIG`` is deliberately *not* set: it would make uv ignore the
    project's ``[tool.uv]`` too. Isolating HOME/XDG_CONFIG_HOME is enough to
    keep a user-level ``uv.toml`` out.
    """
    base = dict(os.environ if base_env is None else base_env)
    env = {
        k: v
        for k, v in base.items()
        if not k.startswith(_STRIPPED_PREFIXES) and k not in _STRIPPED_VARS
    }
    home = Path(home_dir)
    (home / ".config").mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "UV_DEFAULT_INDEX": index.pypi_url,
            "UV_CACHE_DIR": str(cache_dir),
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_PYTHON": python,
            "UV_NO_PROGRESS": "1",
            "UV_LINK_MODE": "copy",
            "UV_HTTP_TIMEOUT": "30",
            "HOME": str(home),
            "USERPROFILE": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "NO_COLOR": "1",
        }
    )
    return env


def run_uv(
    args: Sequence[str],
    cwd: os.PathLike[str] | str,
    env: Mapping[str, str],
    *,
    check: bool = True,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``uv <args>`` in ``cwd``; output captured (stdout, stderr as text).

    Raises :class:`UvCommandError` (an AssertionError, so the test fails) if
    uv's output contains any of :data:`UV_FORBIDDEN_OUTPUT` (always) or if it
    exits non-zero (when ``check``).
    """
    cmd = [find_uv_bin(), *args]
    proc = subprocess.run(
        cmd, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )
    output = proc.stdout + proc.stderr
    bad = [pattern for pattern in UV_FORBIDDEN_OUTPUT if pattern in output]
    if bad or (check and proc.returncode != 0):
        reason = f"uv printed {bad}" if bad else f"uv exited {proc.returncode}"
        raise UvCommandError(
            f"{reason}: uv {' '.join(args)} (in {cwd})\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )
    return proc


def installed_packages(project_dir: os.PathLike[str] | str, env: Mapping[str, str]) -> dict[str, str]:
    """Canonical name -> version of what is installed in ``<project_dir>/.venv``."""
    venv = Path(project_dir) / ".venv"
    proc = run_uv(["pip", "list", "--format", "json", "--python", str(venv)], project_dir, env)
    return {canonicalize_name(row["name"]): row["version"] for row in json.loads(proc.stdout)}
