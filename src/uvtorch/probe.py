"""Gather the raw facts `uvtorch detect` parses: the only module that touches the machine.

`probe(reader)` asks a `Reader` for environment variables, files, command output and the
platform, in the order `uv --torch-backend=auto` consults them, and returns `Facts` (raw text,
parsed later by `uvtorch.detect.detect`). `SystemReader` is the real reader; tests pass a fake
one that serves fixture files. Nothing here raises on a missing command, file or permission:
an absent source is simply absent from the facts.
"""

from __future__ import annotations

import os
import platform as _platform
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from uvtorch.detect import (
    ENV_AMD_ARCH,
    ENV_CUDA_DRIVER,
    ENV_ROCM_PATH,
    KFD_NODES,
    NVIDIA_SMI_BASIC,
    NVIDIA_SMI_QUERY,
    PCI_DEVICES,
    PROC_DRIVER_NVIDIA,
    ROCM_DEFAULT_ROOT,
    ROCM_TOOLS,
    SYS_MODULE_NVIDIA,
    WINDOWS_VIDEO,
    Facts,
    command_key,
    rocm_version_file,
)

# Printed by the interpreter asked about torch: one JSON line, whatever happens.
TORCH_QUERY = """\
import json, sys
if sys.path and sys.path[0] == "":
    del sys.path[0]  # a torch/ folder in the current directory must not answer
out = {"python": sys.executable}
try:
    import torch
except Exception:
    print(json.dumps(None))
    raise SystemExit(0)
out["version"] = str(torch.__version__)
out["cuda"] = getattr(torch.version, "cuda", None)
out["hip"] = getattr(torch.version, "hip", None)
try:
    out["cuda_available"] = bool(torch.cuda.is_available())
except Exception:
    out["cuda_available"] = False
print(json.dumps(out))
"""


class Reader(Protocol):
    """Where `probe` gets its raw facts from. Every method returns None when it cannot."""

    def env(self, name: str) -> str | None: ...

    def read_text(self, path: str) -> str | None: ...

    def list_dir(self, path: str) -> tuple[str, ...] | None: ...

    def run(self, argv: Sequence[str]) -> str | None:
        """stdout of a command that exited 0; None if missing, failed or too slow."""
        ...

    def platform(self) -> tuple[str, str]:
        """(system, machine) as Python's platform module names them."""
        ...

    def torch_info(self) -> str | None:
        """What `TORCH_QUERY` prints in the interpreter being asked."""
        ...


def probe(reader: Reader) -> Facts:
    """Read every source `uvtorch detect` knows, in order, through `reader`."""
    read: list[str] = []
    env: dict[str, str] = {}
    files: dict[str, str] = {}
    commands: dict[str, str] = {}

    def get_env(name: str) -> str | None:
        read.append(f"env {name}")
        value = reader.env(name)
        if value is not None:
            env[name] = value
        return value

    def get_file(path: str) -> None:
        read.append(f"file {path}")
        text = reader.read_text(path)
        if text is not None:
            files[path] = text

    def get_command(argv: Sequence[str]) -> str | None:
        read.append(f"run {command_key(argv)}")
        out = reader.run(argv)
        if out is not None and out.strip():
            commands[command_key(argv)] = out
            return out
        return None

    read.append("platform")
    system, machine = reader.platform()

    # uv's order (crates/uv-torch/src/accelerator.rs, Accelerator::detect): both overrides
    # first, then the NVIDIA kernel module, nvidia-smi for the GPUs themselves, the AMD tools,
    # the PCI bus, the Windows display adapters.
    get_env(ENV_CUDA_DRIVER)
    get_env(ENV_AMD_ARCH)
    get_file(SYS_MODULE_NVIDIA)
    get_file(PROC_DRIVER_NVIDIA)
    if get_command(NVIDIA_SMI_QUERY) is None:
        get_command(NVIDIA_SMI_BASIC)

    # AMD: the GPU targets, then the ROCm release. The tools live in <root>/bin, which is
    # often not on PATH; the KFD topology answers even with no ROCm installed.
    root = get_env(ENV_ROCM_PATH) or ROCM_DEFAULT_ROOT
    roots = list(dict.fromkeys([root, ROCM_DEFAULT_ROOT]))
    tools = [[tool] for tool in ROCM_TOOLS] + [
        [f"{r.rstrip('/')}/bin/{tool}"] for r in roots for tool in ROCM_TOOLS
    ]
    for argv in tools:
        if get_command(argv) is not None:
            break
    read.append(f"dir {KFD_NODES}")
    kfd: list[tuple[str, str]] = []
    for node in reader.list_dir(KFD_NODES) or ():
        text = reader.read_text(f"{KFD_NODES}/{node}/properties")
        if text is not None:
            kfd.append((node, text))
    for r in roots:
        get_file(rocm_version_file(r))

    # Intel (and any display device): PCI class and vendor, as uv reads them.
    read.append(f"dir {PCI_DEVICES}")
    pci: list[tuple[str, str, str]] = []
    for device in reader.list_dir(PCI_DEVICES) or ():
        klass = reader.read_text(f"{PCI_DEVICES}/{device}/class")
        vendor = reader.read_text(f"{PCI_DEVICES}/{device}/vendor")
        if klass is not None and vendor is not None:
            pci.append((device, klass.strip(), vendor.strip()))

    if system.strip().lower() == "windows":
        get_command(WINDOWS_VIDEO)

    read.append("torch")
    torch = reader.torch_info()

    return Facts(
        system=system,
        machine=machine,
        env=env,
        files=files,
        commands=commands,
        pci=tuple(sorted(pci)),
        torch=torch,
        read=tuple(read),
        kfd=tuple(kfd),
    )


class SystemReader:
    """The real machine: os.environ, the file system, subprocesses with a short timeout."""

    def __init__(
        self,
        python: str | None = None,
        timeout: float = 10.0,
        torch_timeout: float = 60.0,
        query_torch: bool = True,
    ) -> None:
        """`python`: the interpreter asked about torch (default: this one); `query_torch=False`
        skips that question, which can take seconds (importing torch, initialising CUDA)."""
        self.python = python or sys.executable
        self.timeout = timeout
        self.torch_timeout = torch_timeout
        self.query_torch = query_torch

    def env(self, name: str) -> str | None:
        return os.environ.get(name)

    def read_text(self, path: str) -> str | None:
        try:
            return Path(path).read_text(encoding="utf-8", errors="replace")
        except (OSError, ValueError):
            return None

    def list_dir(self, path: str) -> tuple[str, ...] | None:
        try:
            return tuple(sorted(os.listdir(path)))
        except (OSError, ValueError):
            return None

    def run(self, argv: Sequence[str]) -> str | None:
        return self._run(argv, self.timeout)

    def platform(self) -> tuple[str, str]:
        return (_platform.system(), _platform.machine())

    def torch_info(self) -> str | None:
        if not self.query_torch:
            return None
        return self._run([self.python, "-c", TORCH_QUERY], self.torch_timeout)

    @staticmethod
    def _run(argv: Sequence[str], timeout: float) -> str | None:
        try:
            done = subprocess.run(
                list(argv),
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError, ValueError):
            return None
        return done.stdout if done.returncode == 0 else None
