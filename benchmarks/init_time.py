"""Median wall time of `uvtorch init --yes --dry-run` beside `uv init` and cookiecutter.

Targets (SPEC, issue 3): uvtorch <= 0.25 s, and at most half of cookiecutter's time for an
equivalent template. The cookiecutter template is made from uvtorch's own output for the same
answers, so both produce the same files. Run: `python3 benchmarks/init_time.py [--runs N]`
(cookiecutter comes from `pip install '.[bench]'`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ACCELERATORS = ["cpu", "cu126", "cu128", "rocm6.4", "xpu"]
PACKAGES = ["torchvision", "torchaudio", "ultralytics"]
TARGET_SECONDS = 0.25


def _script(name: str) -> list[str] | None:
    """The real entry point of an installed console script (not a shell shim)."""
    path = Path(sysconfig.get_path("scripts")) / name
    if path.exists():
        return [str(path)]
    found = shutil.which(name)
    return [found] if found else None


def _uvtorch_args(target: Path) -> list[str]:
    args = ["init", str(target), "--yes", "--dry-run", "-n", "bench"]
    for accelerator in ACCELERATORS:
        args += ["-a", accelerator]
    for package in PACKAGES:
        args += ["--package", package]
    return args


def _environment() -> dict[str, str]:
    """The caller's environment, but allowed to cache bytecode.

    A pip install compiles every module to bytecode; an editable checkout run with
    PYTHONDONTWRITEBYTECODE=1 would recompile uvtorch's sources on every start and measure
    the compiler instead of the tool. The warm-up runs write the cache.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _median(command: list[str], runs: int, fresh_dir: Path | None = None) -> float:
    times = []
    env = _environment()
    for i in range(runs + 2):  # two warm-up runs fill the OS file cache
        if fresh_dir is not None:
            shutil.rmtree(fresh_dir, ignore_errors=True)
            fresh_dir.mkdir(parents=True)
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=fresh_dir, env=env)
        if i >= 2:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def _cookiecutter_template(root: Path) -> Path:
    """A cookiecutter template that renders the same files uvtorch writes."""
    from uvtorch.answers import Answers
    from uvtorch.catalog import load
    from uvtorch.init import build_project
    from uvtorch.questions import QUESTION_IDS

    project = build_project(
        Answers(name="bench", accelerators=tuple(ACCELERATORS), packages=tuple(PACKAGES)),
        load(),
        QUESTION_IDS,
    )
    template = root / "template"
    slug = template / "{{cookiecutter.project_name}}"
    for rel, text in project.files.items():
        path = slug / rel.replace("src/bench", "src/{{cookiecutter.package}}")
        path.parent.mkdir(parents=True, exist_ok=True)
        # Wrap in raw so cookiecutter's jinja leaves TOML/markdown braces alone; the project
        # name is the one substituted variable, as in a typical template.
        text = text.replace("bench", "\x00")
        text = "{% raw %}" + text.replace("\x00", "{% endraw %}{{cookiecutter.project_name}}{% raw %}") + "{% endraw %}"
        path.write_text(text)
    (template / "cookiecutter.json").write_text(
        json.dumps({"project_name": "bench", "package": "bench"})
    )
    return template


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    uvtorch = _script("uvtorch") or [sys.executable, "-m", "uvtorch"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # The interpreter alone, for reading the others: every Python tool pays it.
        results = {"python -c pass (start-up)": _median([sys.executable, "-c", "pass"], runs)}
        results["uvtorch init --yes --dry-run"] = _median(uvtorch + _uvtorch_args(root / "out"), runs)
        try:
            from uv import find_uv_bin

            results["uv init"] = _median(
                [find_uv_bin(), "init", "--name", "bench", "--no-workspace", "--vcs", "none",
                 "--no-pin-python", "."],
                runs,
                fresh_dir=root / "uv-init",
            )
        except ImportError:
            print("uv is not installed: skipped `uv init`", file=sys.stderr)
        cookiecutter = _script("cookiecutter")
        if cookiecutter:
            template = _cookiecutter_template(root)
            results["cookiecutter --no-input"] = _median(
                cookiecutter + ["--no-input", "-f", "-o", str(root / "cc-out"), str(template)],
                runs,
            )
        else:
            print("cookiecutter is not installed (pip install '.[bench]'): skipped",
                  file=sys.stderr)
    print(f"median wall time over {runs} runs ({len(ACCELERATORS)} accelerators, "
          f"{len(PACKAGES)} packages):")
    for name, seconds in results.items():
        print(f"  {name:<30} {seconds * 1000:8.1f} ms")
    ours = results["uvtorch init --yes --dry-run"]
    verdict = "met" if ours <= TARGET_SECONDS else "MISSED"
    print(f"target <= {TARGET_SECONDS * 1000:.0f} ms: {verdict}")
    if "cookiecutter --no-input" in results:
        theirs = results["cookiecutter --no-input"]
        ratio = ours / theirs
        print(f"uvtorch / cookiecutter = {ratio:.3f} (target <= 0.50: "
              f"{'met' if ratio <= 0.5 else 'MISSED'})")
        startup = results["python -c pass (start-up)"]
        print(f"net of interpreter start-up: {(ours - startup) / (theirs - startup):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
