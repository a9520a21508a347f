"""Read which torch (and torch-family packages) an interpreter can import: the `-a system` case.

Container images (NGC and most GPU images) ship their own torch, in the base interpreter or in
a venv inside the image. `-a system` projects must use that build; this module asks the
interpreter what it has, without importing torch (that can take seconds or touch a GPU).
"""

import json
import re
import shutil
import subprocess
from typing import NamedTuple

from uvtorch.errors import UvtorchError

# Runs inside the target interpreter: versions from installed metadata, and where things live.
_PROBE = """
import json, os, sys, sysconfig
from importlib import metadata
names = ("torch", "torchvision", "torchaudio", "torchao")
found = {}
torch_dir = None
for name in names:
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        continue
    found[name] = dist.version
    if name == "torch":
        torch_dir = os.path.realpath(str(dist.locate_file("")))
prefix = os.path.realpath(sys.prefix)
base = sys.executable
if sys.prefix != sys.base_prefix:  # a venv: the interpreter it was made from
    # sys._base_executable names the venv's own python before Python 3.11.
    stems = ("python%d.%d" % sys.version_info[:2], "python3", "python", "python.exe")
    candidates = [os.path.join(sys.base_prefix, d, n) for d in ("bin", "") for n in stems]
    base = next((c for c in candidates if os.path.isfile(c)),
                getattr(sys, "_base_executable", base))
print(json.dumps({
    "python": "%d.%d" % sys.version_info[:2],
    "executable": sys.executable,
    "base_executable": base,
    "purelib": sysconfig.get_paths()["purelib"],
    "in_venv": sys.prefix != sys.base_prefix,
    "torch_in_venv": sys.prefix != sys.base_prefix and torch_dir is not None
        and (torch_dir + os.sep).startswith(prefix + os.sep),
    "packages": found,
}))
"""


class ImageTorch(NamedTuple):
    """What an interpreter provides."""

    python: str  # "3.12"
    executable: str
    base_executable: str  # the interpreter a venv was made from (itself outside a venv)
    purelib: str  # its site-packages
    in_venv: bool  # the interpreter is a venv's
    torch_in_venv: bool  # torch is installed in that venv, not in the base interpreter
    packages: dict[str, str]  # torch-family name -> version

    @property
    def layout(self) -> str:
        """Where the image keeps torch: "image-venv" or "base-interpreter" (uvtorch.system.SYSTEM_LAYOUTS)."""
        return "image-venv" if self.torch_in_venv else "base-interpreter"

    @property
    def interpreter(self) -> str:
        """The interpreter a project environment should be made from, for this layout."""
        return self.executable if self.torch_in_venv else self.base_executable


def probe(python: str | None) -> ImageTorch:
    """Ask `python` (default: python3 on PATH) what torch it has."""
    executable = python or shutil.which("python3") or "python3"
    try:
        result = subprocess.run(
            [executable, "-c", _PROBE], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UvtorchError(
            f"Cannot run {executable} to find its torch ({exc}).",
            "Give the image's interpreter with --python-executable PATH, or its torch version "
            "with --system-torch VERSION.",
        ) from None
    if result.returncode != 0:
        raise UvtorchError(
            f"{executable} failed while listing its packages: "
            f"{result.stderr.strip().splitlines()[-1:] or ['no output']}.",
            "Give another interpreter with --python-executable, or --system-torch VERSION.",
        )
    try:
        data = json.loads(result.stdout)
        found = ImageTorch(
            python=str(data["python"]),
            executable=str(data["executable"]),
            base_executable=str(data["base_executable"]),
            purelib=str(data["purelib"]),
            in_venv=bool(data["in_venv"]),
            torch_in_venv=bool(data["torch_in_venv"]),
            packages={str(k): str(v) for k, v in dict(data["packages"]).items()},
        )
        if not re.fullmatch(r"3\.[0-9]+", found.python):
            raise ValueError(found.python)
    except (ValueError, KeyError, TypeError, AttributeError):  # JSONDecodeError is a ValueError
        reply = result.stdout.strip()[:80]
        raise UvtorchError(
            f"{executable} did not answer like a Python interpreter (its reply began "
            f"{reply!r}).",
            "Give the image's Python with --python-executable PATH, or its torch version with "
            "--system-torch VERSION.",
        ) from None
    if "torch" not in found.packages:
        raise UvtorchError(
            f"{found.executable} has no torch installed.",
            "Point --python-executable at the interpreter that has the image's torch (e.g. "
            "/opt/venv/bin/python or /usr/bin/python3), or give --system-torch VERSION when "
            "running outside the image.",
        )
    return found
