"""uvtorch as users install it: a wheel, byte-compiled by the installer, templates inside."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fakeindex import find_uv_bin

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.e2e
def test_an_installed_wheel_ships_and_renders_every_template(tmp_path: Path) -> None:
    # uv (a test dependency) rather than pip, which a uv-made venv does not have; the build
    # backend (hatchling, also a test dependency) runs in this interpreter, without an index.
    uv = [find_uv_bin(), "--quiet", "--no-config"]
    subprocess.run([*uv, "build", "--wheel", "--no-build-isolation", "--python", sys.executable,
                    "--out-dir", str(tmp_path / "dist"), str(ROOT)], check=True, timeout=300)
    wheel = next((tmp_path / "dist").glob("uvtorch-*.whl"))
    # --target installs into a folder of our own; --compile-bytecode as pip and most
    # installers do, which is what once made init render .pyc files.
    subprocess.run([*uv, "pip", "install", "--no-deps", "--offline", "--compile-bytecode",
                    "--python", sys.executable, "--target", str(tmp_path / "site"), str(wheel)],
                   check=True, timeout=300)
    assert (tmp_path / "site" / "uvtorch" / "templates" / "training" / "uvtorch-template.toml").is_file()
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "site"))
    for template in ("minimal", "training", "notebook"):
        target = tmp_path / template
        result = subprocess.run(
            [sys.executable, "-m", "uvtorch", "init", str(target), "--yes", "--template",
             template, "-a", "cpu"],
            env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
        assert not [f for f in files if f.endswith((".jinja", ".pyc"))], files
        assert f"src/{template}/__init__.py" in files
