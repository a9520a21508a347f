"""Wall time of `uvtorch which` beside its peers, measured in the same run.

Target (issue 15): `uvtorch which` well under 0.3 s on a GPU machine, so that scripts and
Dockerfiles can call `uv sync --extra "$(uvtorch which)"` freely. Peers: `uv --version` (a
native binary start, the floor of any uv call) and `python -c pass` (the interpreter start
uvtorch cannot avoid). The project is made by `uvtorch init` (no network) and, unless
`--real-nvidia-smi` is given, the machine is an H100 with driver 580 played by a fake
`nvidia-smi` on PATH; a real one costs what NVML takes (tens of ms, more without persistence
mode). Run: `python3 benchmarks/which_time.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 0.3

FAKE_SMI = """#!/bin/sh
echo "NVIDIA H100 80GB HBM3, 580.95.05, 9.0"
"""


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--real-nvidia-smi", action="store_true",
                        help="use this machine's nvidia-smi instead of the fake H100")
    args = parser.parse_args()
    try:  # the binary itself: a version manager's shim on PATH would time the shim
        import uv as uv_package

        uv: str | None = uv_package.find_uv_bin()
    except ImportError:
        uv = shutil.which("uv")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project = root / "demo"
        subprocess.run([sys.executable, "-m", "uvtorch", "init", str(project), "--yes",
                        "-a", "cpu", "-a", "cu126", "-a", "cu130", "--package", "torchvision"],
                       check=True, stdout=subprocess.DEVNULL)
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure the tool, not the compiler
        env.pop("UVTORCH_EXTRA", None)
        if not args.real_nvidia_smi:
            (root / "bin").mkdir()
            smi = root / "bin" / "nvidia-smi"
            smi.write_text(FAKE_SMI)
            smi.chmod(0o755)
            env["PATH"] = os.pathsep.join([str(root / "bin"), env.get("PATH", "")])
        commands = {
            "uvtorch which": [sys.executable, "-m", "uvtorch", "which"],
            "python -c pass": [sys.executable, "-c", "pass"],
        }
        if uv:
            commands["uv --version"] = [uv, "--version"]
        chosen = subprocess.run(commands["uvtorch which"], cwd=project, env=env, check=True,
                                capture_output=True, text=True).stdout.strip()
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(2):  # warm-up: bytecode caches, page cache
            for name, command in commands.items():
                _timed(command, project, env)
        for _ in range(args.runs):  # interleaved, so that load on the machine hits all alike
            for name, command in commands.items():
                times[name].append(_timed(command, project, env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    which = medians["uvtorch which"]
    print(f"uvtorch which -> {chosen} ({args.runs} runs each, medians)")
    for name, value in medians.items():
        ratio = "" if name == "uvtorch which" else f"   uvtorch which / this = {which / value:.1f}x"
        print(f"  {name:<15} {value * 1000:7.1f} ms{ratio}")
    over = which - medians["python -c pass"]
    print(f"  uvtorch's own share (which - python start): {over * 1000:.1f} ms")
    print(f"target: uvtorch which < {TARGET_SECONDS} s: {'met' if which < TARGET_SECONDS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
