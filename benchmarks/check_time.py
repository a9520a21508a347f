"""`uvtorch check` on a monorepo-sized uv.lock, timed against `uv export --frozen`.

Target (issue 11, "Fast on big locks"): on a 9 MB lock of ~2,700 packages, `uvtorch check`
takes at most 10x the time of `uv export --frozen` (which reads the same lock) and stays
under 150 MB of memory. The lock is built from a real one: tests/corpus/dia-cu126/uv.lock
(nari-labs/dia, 134 packages, torch 2.6.0+cu126) with every package but the project itself
copied N times under new names (`numpy` -> `numpy-c7`), each copy's dependencies renamed
alike, and the copies made dependencies of the project, so both tools walk all of them.

Each run is one pair, uvtorch then uv, back to back; the figure is the median of the pairs'
ratios, so a slow moment of the machine hits both sides. Peak memory is uvtorch's own
(`ru_maxrss` of a process that runs only `uvtorch check`). Run:
`python3 benchmarks/check_time.py [--runs N] [--copies N]`.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tests" / "corpus" / "dia-cu126"
sys.path.insert(0, str(ROOT / "tests"))

from fakeindex import find_uv_bin  # noqa: E402

_BLOCK = "\n[[package]]\n"


def build(folder: Path, copies: int) -> tuple[int, int]:
    """Write the big project into `folder`; return (packages, lock bytes)."""
    text = (SOURCE / "uv.lock").read_text(encoding="utf-8")
    head, *blocks = text.split(_BLOCK)
    project = re.search(r'^name = "([^"]+)"', (SOURCE / "pyproject.toml").read_text(), re.M)
    assert project is not None
    root_name = project.group(1)
    names = {re.match(r'name = "([^"]+)"', b).group(1) for b in blocks}  # type: ignore[union-attr]
    names.discard(root_name)
    pattern = re.compile(r'name = "(' + "|".join(re.escape(n) for n in sorted(names)) + r')"')
    root = next(b for b in blocks if b.startswith(f'name = "{root_name}"'))
    others = [b for b in blocks if b is not root]
    out = [head]
    for block in others:
        out.append(block)
    for k in range(1, copies + 1):
        for block in others:
            out.append(pattern.sub(lambda m, k=k: f'name = "{m.group(1)}-c{k}"', block))
    # The project depends on every copy (its own dependency entries, renamed), in the lock and
    # in pyproject.toml alike.
    own = re.search(r"\ndependencies = \[\n(.*?)\n\]", root, re.S)
    assert own is not None
    lines = own.group(1).splitlines()
    deps = "".join(
        pattern.sub(lambda m, k=k: f'name = "{m.group(1)}-c{k}"', line) + "\n"
        for k in range(1, copies + 1) for line in lines
    )
    root = root.replace("\ndependencies = [\n", "\ndependencies = [\n" + deps, 1)
    wanted = [n for line in lines for n in re.findall(r'name = "([^"]+)"', line)]
    added = [f"{n}-c{k}" for k in range(1, copies + 1) for n in dict.fromkeys(wanted)]
    out.append(root)
    lock = _BLOCK.join(out)
    (folder / "uv.lock").write_text(lock, encoding="utf-8")
    pyproject = (SOURCE / "pyproject.toml").read_text(encoding="utf-8")
    pyproject = pyproject.replace("dependencies = [\n", "dependencies = [\n" + "".join(
        f'    "{n}",\n' for n in added), 1)
    (folder / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return len(others) * (copies + 1) + 1, len(lock.encode())


def _seconds(command: list[str], cwd: Path, env: dict[str, str], ok: set[int]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return elapsed


def peak_rss_mb(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Peak resident memory of `command` alone, in a fresh parent so no other child counts."""
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    done = subprocess.run([sys.executable, "-c", probe, *command], cwd=cwd, env=env,
                          capture_output=True, text=True, check=True)
    kib = int(done.stdout.strip())
    return kib / 1024 if sys.platform != "darwin" else kib / 1024 / 1024  # macOS: bytes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed pairs (default 7)")
    parser.add_argument("--copies", type=int, default=20,
                        help="copies of the source lock's packages (default 20: ~2,700, ~9 MB)")
    args = parser.parse_args()
    uv = find_uv_bin()
    env = dict(os.environ, UV_OFFLINE="1", UV_NO_PROGRESS="1",
               PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "monorepo"
        folder.mkdir()
        packages, size = build(folder, args.copies)
        env["UV_CACHE_DIR"] = str(Path(tmp) / "cache")
        check = [sys.executable, "-m", "uvtorch", "check", str(folder)]
        export = [uv, "export", "--frozen", "--no-hashes", "--all-extras", "--directory",
                  str(folder), "-o", os.devnull]
        # One warm-up of each: imports and uv's cache directory, not the figure.
        _seconds(check, folder, env, {0, 1})
        _seconds(export, folder, env, {0})
        ratios, ours, theirs = [], [], []
        for _ in range(args.runs):
            a = _seconds(check, folder, env, {0, 1})
            b = _seconds(export, folder, env, {0})
            ours.append(a)
            theirs.append(b)
            ratios.append(a / b)
        rss = peak_rss_mb(check, folder, env)
        shutil.rmtree(Path(tmp) / "cache", ignore_errors=True)
    print(f"lock: {packages} packages, {size / 1e6:.1f} MB (from {SOURCE.relative_to(ROOT)})")
    print(f"uvtorch check:       median {statistics.median(ours):.3f} s")
    print(f"uv export --frozen:  median {statistics.median(theirs):.3f} s")
    ratio = statistics.median(ratios)
    print(f"ratio (median of {args.runs} pairs): {ratio:.1f}x   (target <= 10x)")
    print(f"uvtorch check peak RSS: {rss:.0f} MB   (target < 150 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
