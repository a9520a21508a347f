"""The CLI as a user meets it: exit codes, messages, and what lands on disk."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from uvtorch import __version__
from uvtorch.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def snapshot_tree(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"uvtorch {__version__}"


def test_init_help_teaches_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["init", "--help"])
    out = capsys.readouterr().out
    for flag in ("--accelerator", "--package", "--torch", "--python", "--platform", "--index-url",
                 "--dry-run", "--force", "--yes", "--name"):
        assert flag in out
    assert "uvtorch init demo --yes -a cpu -a cu128 --package torchvision" in out
    assert "a plain `uv sync` installs no torch" in out


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys)
    assert code == 2
    assert "init" in out


def test_init_writes_the_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "demo"
    code, out, err = run(capsys, "init", str(target), "--yes", "-a", "cpu", "-a", "cu128",
                         "--package", "torchvision")
    assert (code, err) == (0, "")
    assert sorted(snapshot_tree(target)) == [
        ".gitignore", ".uvtorch.toml", "README.md", "pyproject.toml", "src/demo/__init__.py",
    ]
    assert f"Next: cd {target} && uvtorch sync  (" in out and "uv sync --extra cpu)" in out
    mode = stat.S_IMODE((target / "pyproject.toml").stat().st_mode)
    assert mode == 0o666 & ~_umask()
    readme = (target / "README.md").read_text()
    assert "uv sync --extra cu128" in readme or "uv sync --extra cpu" in readme
    assert "installs no torch" in readme
    assert not list(target.rglob("*.tmp"))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_same_answers_same_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--yes", "-n", "same", "-a", "cu126", "-a", "rocm6.4", "--package", "ultralytics"]
    run(capsys, "init", str(tmp_path / "a"), *args)
    run(capsys, "init", str(tmp_path / "b"), *args)
    assert snapshot_tree(tmp_path / "a") == snapshot_tree(tmp_path / "b")


def test_name_defaults_to_the_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init", str(tmp_path / "Vision-Lab"), "--yes")
    assert (tmp_path / "Vision-Lab" / "src" / "vision_lab" / "__init__.py").exists()
    assert 'name = "Vision-Lab"' in (tmp_path / "Vision-Lab" / "pyproject.toml").read_text()


def test_dry_run_prints_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "dry"
    code, out, _ = run(capsys, "init", str(target), "--yes", "--dry-run", "-a", "cu128")
    assert code == 0
    assert not target.exists()
    assert "--- pyproject.toml ---" in out
    assert '{ index = "pytorch-cu128", extra = "cu128"' in out
    assert "nothing was written" in out


def test_existing_pyproject_is_kept_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("# mine\n")
    before = snapshot_tree(tmp_path)
    code, _, err = run(capsys, "init", str(tmp_path), "--yes")
    assert code == 1
    assert "pyproject.toml" in err and "--force" in err
    assert snapshot_tree(tmp_path) == before
    code, _, _ = run(capsys, "init", str(tmp_path), "--yes", "--force")
    assert code == 0
    assert "[tool.uv]" in (tmp_path / "pyproject.toml").read_text()


def test_other_files_in_the_folder_are_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    assert run(capsys, "init", str(tmp_path), "--yes", "-n", "demo")[0] == 0
    assert (tmp_path / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["-a", "cu999"], 2, ["'cu999'", "cu126"]),
        (["-a", "cu118", "--torch", ">=2.9"], 1, ["cu118", "2.4 to 2.7", "Builds of torch 2.9 to 2.15: cpu, cu126"]),
        (["--torch", "latest"], 2, ["'latest'", "specifier"]),
        (["--python", "three"], 2, ["'three'", "specifier"]),
        (["--package", "torch vision"], 2, ["'torch vision'", "requirement"]),
        (["--platform", "linux"], 2, ["'linux'", "linux-x86_64"]),
        (["--index-url", "ftp://mirror/whl"], 2, ["ftp://mirror/whl", "https://download.pytorch.org/whl"]),
        (["--bogus"], 2, ["--bogus", "--help"]),
        (["--name=-bad-"], 2, ["'-bad-'"]),
    ],
)
def test_bad_input_is_one_paragraph_exit_code_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, says: list[str]
) -> None:
    target = tmp_path / "proj"
    got, out, err = run(capsys, "init", str(target), "--yes", *argv)
    assert got == code
    assert err.startswith("uvtorch: error: ")
    assert err.count("\n") == 1  # one paragraph, one line
    assert "Traceback" not in err
    for fragment in says:
        assert fragment in err, (fragment, err)
    assert not target.exists()


def test_no_terminal_and_no_yes_fails_at_once_naming_yes(tmp_path: Path) -> None:
    """Run as a real process with no terminal: it must not wait for input."""
    result = subprocess.run(
        [sys.executable, "-m", "uvtorch", "init", str(tmp_path / "p")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "p").exists()


def test_interrupt_exits_130_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("uvtorch.init.make_plan", interrupted)
    code, _, err = run(capsys, "init", str(tmp_path / "p"), "--yes")
    assert code == 130
    assert err.count("\n") == 1 and "nothing was written" in err
