"""Read which torch (and torch-family packages) an interpreter can import: the `-a system` case.

Container images (NGC and most GPU images) ship their own torch, in the base interpreter or in
a venv inside the image. `-a system` projects must use that build; this module asks the
interpreter what it has, without importing torch (that can take seconds or touch a GPU).
"""

import json
import shutil
import subprocess
from typing import NamedTuple

from uvtorch.errors import UvtorchError

# Runs inside the target interpreter: versions from installed metadata, and where things live.
_PROBE = """
import json, sys, sysconfig
from importlib import metadata
names = ("torch", "torchvision", "torchaudio", "torchao")
found = {}
for name in names:
    try:
        found[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        pass
print(json.dumps({
    "python": "%d.%d" % sys.version_info[:2],
    "executable": sys.executable,
    "purelib": sysconfig.get_paths()["purelib"],
    "in_venv": sys.prefix != sys.base_prefix,
    "packages": found,
}))
"""


class ImageTorch(NamedTuple):
    """What an interpreter provides."""

    python: str  # "3.12"
    executable: str
    purelib: str  # its site-packages
    in_venv: bool  # torch lives in a venv inside the image, not the base interpreter
    packages: dict[str, str]  # torch-family name -> version


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
    data = json.loads(result.stdout)
    found = ImageTorch(
        python=data["python"],
        executable=data["executable"],
        purelib=data["purelib"],
        in_venv=bool(data["in_venv"]),
        packages=dict(data["packages"]),
    )
    if "torch" not in found.packages:
        raise UvtorchError(
            f"{found.executable} has no torch installed.",
            "Point --python-executable at the interpreter that has the image's torch (e.g. "
            "/opt/venv/bin/python or /usr/bin/python3), or give --system-torch VERSION when "
            "running outside the image.",
        )
    return found
