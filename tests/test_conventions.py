"""uv's conventions in every command: -q, --color/NO_COLOR, --no-progress, examples in --help."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from uvtorch import console
from uvtorch.cli import main

COMMANDS = ["init", "add", "check", "detect", "matrix", "upgrade", "which", "verify"]


@pytest.fixture(autouse=True)
def _reset_console() -> None:
    console.configure()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_has_examples_and_the_common_flags(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    for flag in ("-q, --quiet", "--color WHEN", "--no-progress", "-v, --verbose"):
        assert flag in out, (command, flag)


def test_quiet_init_writes_and_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "q"), "--yes", "-q"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    assert (tmp_path / "q" / "pyproject.toml").is_file()


def test_quiet_keeps_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "q"), "--yes", "-q", "-a", "cu999"]) == 2
    assert "uvtorch: error: Unknown accelerator 'cu999'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "env", "coloured"),
    [
        (["--color", "always"], {}, True),
        (["--color", "never"], {"FORCE_COLOR": "1"}, False),
        ([], {}, False),  # captured stderr is not a terminal
        ([], {"FORCE_COLOR": "1"}, True),
        (["--color", "auto"], {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        (["--color", "always"], {"NO_COLOR": "1"}, True),  # the flag wins, as in uv
    ],
)
def test_error_label_colour(
    flags: list[str], env: dict[str, str], coloured: bool,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["matrix", "-a", "cu999", *flags]) == 2
    err = capsys.readouterr().err
    assert ("\x1b[31m" in err) is coloured
    assert "Unknown accelerator" in err


def test_no_progress_and_quiet_turn_progress_off(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("UV_NO_PROGRESS", raising=False)
    console.configure()
    assert console.show_progress(Tty())  # type: ignore[arg-type]
    console.configure(progress=False)
    assert not console.show_progress(Tty())  # type: ignore[arg-type]
    console.configure(quiet=True)
    assert not console.show_progress(Tty())  # type: ignore[arg-type]
    console.configure()
    monkeypatch.setenv("UV_NO_PROGRESS", "1")
    assert not console.show_progress(Tty())  # type: ignore[arg-type]
    assert not console.show_progress(sys.stderr)


@pytest.mark.parametrize(
    "argv",
    [
        ["matrix", "-a", "cu999", "--json"],
        ["detect", "--json", "--torch", "x"],
        ["check", "/nonexistent-project", "--output-format", "json"],
        ["check", "/nonexistent-project", "--output-format=json"],
    ],
)
def test_json_commands_report_errors_as_json_too(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    error = json.loads(out)["error"]
    assert error["exit_code"] == 2 and error["message"] and error["message"] in err
