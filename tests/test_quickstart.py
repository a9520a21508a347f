"""The README's Quick start, run as written in a clean venv (issue 14: it must work on a fresh
machine, where a stock Debian/Ubuntu Python refuses a bare `pip install .` under PEP 668)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def quick_start_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    found = re.search(r"```bash\n(.+?)\n```", section, re.S)
    assert found, "the Quick start has no bash block"
    return found.group(1).strip()


def test_the_first_command_uses_a_venv_not_the_system_python() -> None:
    command = quick_start_command()
    assert command.startswith("python3 -m venv "), command
    assert "uvtorch init" in command and " uv " in f"{command} "


@pytest.mark.e2e
def test_the_quick_start_runs_in_a_clean_venv(tmp_path: Path) -> None:
    checkout = tmp_path / "uvtorch"
    checkout.mkdir()
    for name in ("pyproject.toml", "README.md", "CHANGELOG.md"):
        shutil.copy2(ROOT / name, checkout / name)
    for name in ("src", "templates"):
        shutil.copytree(ROOT / name, checkout / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    python_dir = str(Path(shutil.which("python3") or "python3").parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env.update(HOME=str(tmp_path / "home"), PIP_DISABLE_PIP_VERSION_CHECK="1",
               PATH=os.pathsep.join([python_dir, "/usr/bin", "/bin"]))
    result = subprocess.run(["bash", "-euc", quick_start_command()], cwd=checkout, env=env,
                            capture_output=True, text=True, timeout=540)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    pyproject = (checkout / "demo" / "pyproject.toml").read_text(encoding="utf-8")
    assert "cu128 = [" in pyproject and "torchvision" in pyproject
    uv = subprocess.run([str(checkout / ".venv" / "bin" / "uv"), "--version"],
                        capture_output=True, text=True, timeout=60)
    assert uv.returncode == 0 and uv.stdout.startswith("uv ")
