"""Median `uv lock` time of a uvtorch project beside the uv guide's hand-written configuration.

Target (SPEC, Performance): a generated project locks at least as fast as the configuration
uv's PyTorch guide writes by hand for the same choices, on the same fake index. Both projects
get the same torch and torchvision ranges, the same requires-python and the same indexes
(served by tests/fakeindex.py on 127.0.0.1); the hand-written one has exactly the guide's
settings (extras, one conflict set, per-extra sources, explicit indexes) and nothing else.
Each run deletes uv.lock and locks again with a warm cache, so the figure is uv's resolution
time, not downloads. Run: `python3 benchmarks/lock_time.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomlkit
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakeindex import FakeIndex, build_universe, find_uv_bin, hermetic_uv_env  # noqa: E402

from uvtorch.cli import main as uvtorch_main  # noqa: E402

# (accelerators, packages, platforms). For every platform, uvtorch's projects carry markers
# that give a platform without a build on an extra's index (macOS for CUDA, aarch64 and Windows
# for ROCm, ...) PyPI's torch, and `required-environments` when --platform is given. The guide's
# configuration has neither: it locks, then fails to install there ("will fail to install on
# macOS when the cu130 extra is enabled"). Each marker is an extra resolver fork, so the
# like-for-like comparison is on platforms where every extra has its build (no marker needed).
SCENARIOS = {
    "like for like: cpu+cu128, torchvision, Linux and Windows": (
        ["cpu", "cu128"], ["torchvision"], ["linux-x86_64", "linux-aarch64", "windows-x86_64"]),
    "like for like: cpu+cu126+cu128+rocm6.4+xpu, torchvision+ultralytics, Linux x86_64": (
        ["cpu", "cu126", "cu128", "rocm6.4", "xpu"], ["torchvision", "ultralytics"],
        ["linux-x86_64"]),
    "with fallbacks: cpu+cu128, torchvision, every platform": (
        ["cpu", "cu128"], ["torchvision"], []),
    "with fallbacks: cpu+cu126+cu128+rocm6.4+xpu, torchvision+ultralytics, every platform": (
        ["cpu", "cu126", "cu128", "rocm6.4", "xpu"], ["torchvision", "ultralytics"], []),
}


def _uvtorch_project(folder: Path, index: FakeIndex, accelerators: list[str],
                     packages: list[str], platforms: list[str]) -> Path:
    # torch 2.9: the release the fake index serves for every one of these builds.
    args = ["init", str(folder), "--yes", "-n", "bench", "--index-url", index.pytorch_base,
            "--torch", ">=2.9,<2.10"]
    args += [f for a in accelerators for f in ("-a", a)]
    args += [f for p in packages for f in ("--package", p)]
    args += [f for p in platforms for f in ("--platform", p)]
    with open(os.devnull, "w") as quiet:
        stdout, sys.stdout = sys.stdout, quiet
        try:
            assert uvtorch_main(args) == 0
        finally:
            sys.stdout = stdout
    return folder


def _guide_project(folder: Path, made: Path) -> Path:
    """The uv guide's pattern for the same extras, ranges and indexes as `made`."""
    generated = tomlkit.parse((made / "pyproject.toml").read_text()).unwrap()
    extras = generated["project"]["optional-dependencies"]
    indexes = generated["tool"]["uv"]["index"]
    doc = tomlkit.document()
    project = tomlkit.table()
    project.add("name", "bench")
    project.add("version", "0.1.0")
    project.add("requires-python", generated["project"]["requires-python"])
    project.add("dependencies", tomlkit.array())
    optional = tomlkit.table()
    for name, requirements in extras.items():
        optional.add(name, requirements)
    project.add("optional-dependencies", optional)
    doc.add("project", project)
    uv = tomlkit.table()
    uv.add("conflicts", [[{"extra": name} for name in extras]])
    sources = tomlkit.table()
    served = {"torch", "torchvision", "pytorch-triton-rocm", "triton-rocm",
              "pytorch-triton-xpu", "triton-xpu"}
    for package in sorted(served):
        entries = [
            {"index": f"pytorch-{name}", "extra": name}
            for name, requirements in extras.items()
            if any(Requirement(r).name == package for r in requirements)
        ]
        if entries:
            sources.add(package, entries)
    uv.add("sources", sources)
    uv.add("index", [{"name": i["name"], "url": i["url"], "explicit": True} for i in indexes])
    tool = tomlkit.table(is_super_table=True)
    tool.add("uv", uv)
    doc.add("tool", tool)
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(tomlkit.dumps(doc))
    return folder


def _lock_seconds(project: Path, env: dict[str, str]) -> float:
    (project / "uv.lock").unlink(missing_ok=True)
    start = time.perf_counter()
    done = subprocess.run([find_uv_bin(), "lock"], cwd=project, env=env, capture_output=True,
                          text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"uv lock failed in {project}:\n{done.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed locks per project")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            FakeIndex(build_universe(Path(tmp) / "universe")) as index:
        env = hermetic_uv_env(index, cache_dir=Path(tmp) / "cache", home_dir=Path(tmp) / "home",
                              python=sys.executable)
        version = subprocess.run([find_uv_bin(), "--version"], capture_output=True,
                                 text=True).stdout.strip()
        print(f"{version}, {args.runs} runs each, warm cache, fake index on 127.0.0.1")
        for number, (title, (accelerators, packages, platforms)) in enumerate(SCENARIOS.items()):
            made = _uvtorch_project(Path(tmp) / f"uvtorch-{number}", index, accelerators,
                                    packages, platforms)
            guide = _guide_project(Path(tmp) / f"guide-{number}", made)
            for project in (made, guide):  # warm the cache, and prove both lock
                _lock_seconds(project, env)
            times: dict[str, list[float]] = {"uvtorch": [], "guide": []}
            for _ in range(args.runs):  # interleaved, so drift hits both alike
                times["uvtorch"].append(_lock_seconds(made, env))
                times["guide"].append(_lock_seconds(guide, env))
            ours, theirs = (statistics.median(times[k]) for k in ("uvtorch", "guide"))
            # Each pair ran back to back: the median of their ratios shrugs off load spikes
            # that hit one run of a pair, which the ratio of the medians does not.
            ratio = statistics.median(a / b for a, b in zip(times["uvtorch"], times["guide"]))
            if title.startswith("like for like"):
                met = "met" if ratio <= 1.05 else "NOT met"
                verdict = f"target <= 1.00, 5% noise allowed: {met}"
            else:
                verdict = f"the fallback forks cost {ratio - 1:+.0%}; no target"
            print(f"{title}:\n  uvtorch project {ours * 1000:7.1f} ms   uv guide "
                  f"{theirs * 1000:7.1f} ms   paired ratio {ratio:.2f}  ({verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
