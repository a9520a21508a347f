"""Nothing runs that the user did not name: programs named by files are run only with --trust.

A template's presets, an answers file, a project's .uvtorch.toml and an audited checkout's
.venv are written by someone else; each fake interpreter here leaves a marker file when it
runs, so the tests see whether it ran, not just what uvtorch printed.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from uvtorch.cli import main

NGC = "2.5.0a0+872d972e41.nv24.8"


def fake_python(path: Path, marker: Path) -> Path:
    """An executable that records that it ran and answers the probe like an NGC image."""
    reply = json.dumps({
        "python": "3.12", "executable": "/img/bin/python3", "base_executable": "/img/bin/python3",
        "purelib": "/img/site-packages", "in_venv": False, "torch_in_venv": False,
        "packages": {"torch": NGC},
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\ntouch '{marker}'\necho '{reply}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def template_with(tmp_path: Path, script: Path) -> Path:
    root = tmp_path / "tpl"
    (root / "files").mkdir(parents=True)
    (root / "uvtorch-template.toml").write_text(
        f'description = "evil"\n[answers]\naccelerators = ["system"]\n'
        f'python_executable = "{script}"\n'
    )
    return root


def test_a_templates_preset_interpreter_is_not_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran"
    script = fake_python(tmp_path / "tpl-bin" / "python", marker)
    template = template_with(tmp_path, script)
    target = tmp_path / "app"
    assert main(["init", str(target), "--yes", "--template", str(template)]) == 1
    err = capsys.readouterr().err
    assert not marker.exists() and not target.exists()
    assert f"Refusing to run the interpreter '{script}'" in err
    assert f"the template {template.resolve()}" in err and "--trust" in err
    assert err.count("\n") == 1


def test_trust_runs_the_templates_interpreter(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    template = template_with(tmp_path, fake_python(tmp_path / "tpl-bin" / "python", marker))
    target = tmp_path / "app"
    assert main(["init", str(target), "--yes", "--template", str(template), "--trust"]) == 0
    assert marker.exists()
    assert f'system = {{ torch = "{NGC}" }}' in (target / "pyproject.toml").read_text()


def test_the_command_lines_interpreter_wins_over_the_templates(tmp_path: Path) -> None:
    evil, mine = tmp_path / "evil-ran", tmp_path / "mine-ran"
    template = template_with(tmp_path, fake_python(tmp_path / "tpl-bin" / "python", evil))
    own = fake_python(tmp_path / "my-bin" / "python", mine)
    assert main(["init", str(tmp_path / "app"), "--yes", "--template", str(template),
                 "--python-executable", str(own)]) == 0
    assert mine.exists() and not evil.exists()


def test_an_answers_files_interpreter_is_not_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran"
    script = fake_python(tmp_path / "bin" / "python", marker)
    answers = tmp_path / "answers.toml"
    answers.write_text(f'schema_version = 1\n[answers]\naccelerators = ["system"]\n'
                       f'python_executable = "{script}"\n')
    assert main(["init", str(tmp_path / "app"), "--yes", "--answers", str(answers)]) == 1
    err = capsys.readouterr().err
    assert not marker.exists()
    assert f"the answers file {answers}" in err and "--trust" in err and str(script) in err
    assert main(["init", str(tmp_path / "app"), "--yes", "--answers", str(answers), "--trust"]) == 0
    assert marker.exists()


def test_add_does_not_run_the_interpreter_a_cloned_projects_answers_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "cloned"
    assert main(["init", str(project), "--yes", "-a", "cpu"]) == 0
    marker = tmp_path / "ran"
    script = fake_python(project / "tools" / "python", marker)
    answers = project / ".uvtorch.toml"
    answers.write_text(answers.read_text().replace(
        "[answers]\n", f'[answers]\npython_executable = "{script}"\n'))
    before = (project / "pyproject.toml").read_bytes()
    capsys.readouterr()
    assert main(["add", str(project), "-a", "system"]) == 1
    err = capsys.readouterr().err
    assert not marker.exists()
    assert str(answers) in err and "--trust" in err
    assert (project / "pyproject.toml").read_bytes() == before
    assert main(["add", str(project), "-a", "system", "--trust", "--dry-run"]) == 0
    assert marker.exists()


def _system_project(tmp_path: Path) -> tuple[Path, Path]:
    project = tmp_path / "checkout"
    assert main(["init", str(project), "--yes", "-a", "system", "--system-torch", NGC]) == 0
    marker = tmp_path / "ran"
    fake_python(project / ".venv" / "bin" / "python", marker)
    return project, marker


def test_check_does_not_run_the_audited_projects_venv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, marker = _system_project(tmp_path)
    capsys.readouterr()
    assert main(["check", str(project)]) == 0
    err = capsys.readouterr().err
    assert not marker.exists()
    assert "system-torch comparison was skipped" in err and "--trust" in err
    assert "--python-executable" in err


def test_check_trust_runs_the_venv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project, marker = _system_project(tmp_path)
    main(["check", str(project), "--trust"])
    assert marker.exists()
    assert "skipped" not in capsys.readouterr().err


def test_check_python_executable_from_the_command_line_runs_without_trust(tmp_path: Path) -> None:
    project, marker = _system_project(tmp_path)
    mine = tmp_path / "mine"
    main(["check", str(project), "--python-executable",
          str(fake_python(tmp_path / "bin" / "python", mine))])
    assert mine.exists() and not marker.exists()


LOCKED = """\
[project]
name = "locked"
version = "0.1.0"
requires-python = ">=3.10"

[project.optional-dependencies]
cu126 = ["torch>=2.6,<2.7"]

[tool.uv]
conflicts = [[{ extra = "cu126" }]]

[tool.uv.sources]
torch = [{ index = "pytorch-cu126", extra = "cu126" }]

[[tool.uv.index]]
name = "pytorch-cu126"
url = "https://download.pytorch.org/whl/cu126"
explicit = true
"""


def _lock(url: str) -> str:
    return f"""\
version = 1
requires-python = ">=3.10"

[[package]]
name = "torch"
version = "2.6.0+cu126"
source = {{ registry = "https://download.pytorch.org/whl/cu126" }}
wheels = [{{ url = "{url}" }}]
"""


def test_check_fix_does_not_fetch_a_url_from_the_lock_without_trust(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(LOCKED)
    url = "https://evil.example/torch-2.6.0%2Bcu126-cp312-cp312-manylinux_2_28_x86_64.whl"
    (tmp_path / "uv.lock").write_text(_lock(url))
    main(["check", str(tmp_path), "--fix"])
    out = capsys.readouterr().out
    assert f"not fixed: reading its METADATA means fetching {url}.metadata, a URL from uv.lock" in out
    assert "pass --trust" in out
    assert (tmp_path / "pyproject.toml").read_text() == LOCKED


def test_check_fix_trust_still_refuses_file_urls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(LOCKED)
    (tmp_path / "uv.lock").write_text(_lock("file:///etc/torch-manylinux_x86_64.whl"))
    assert main(["check", str(tmp_path), "--fix", "--trust"]) == 2
    err = capsys.readouterr().err
    assert "file:// is never fetched" in err and err.count("\n") == 1
    assert (tmp_path / "pyproject.toml").read_text() == LOCKED


def test_check_does_not_run_a_python3_on_path_inside_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An activated .venv (or a ./bin on PATH) puts the project's own python3 first."""
    import os

    project = tmp_path / "checkout"
    assert main(["init", str(project), "--yes", "-a", "system", "--system-torch", NGC]) == 0
    marker = tmp_path / "ran"
    script = fake_python(project / "bin" / "python3", marker)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    capsys.readouterr()
    main(["check", str(project)])
    assert not marker.exists()
    assert f"{script} is a program inside the audited project" in capsys.readouterr().err


def test_check_skips_a_venv_python_that_links_outside_the_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real venv's python is a symlink to the base interpreter, yet runs the venv's .pth files."""
    import sys

    project = tmp_path / "checkout"
    assert main(["init", str(project), "--yes", "-a", "system", "--system-torch", NGC]) == 0
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / ".venv" / "bin" / "python").symlink_to(sys.executable)
    capsys.readouterr()
    main(["check", str(project)])
    assert "system-torch comparison was skipped" in capsys.readouterr().err
