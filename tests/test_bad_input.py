"""Known bad input ends in one `uvtorch: error:` paragraph, never in the last-resort handler.

Each case names the bad value and what would work; `internal_error` in the output would
mean a bug (the handler in cli.main exists for cases nobody has found yet).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import tomlkit

from uvtorch.catalog import load
from uvtorch.cli import main

Setup = Callable[[Path, pytest.MonkeyPatch], list[str]]


def _answers(raw: bytes) -> Setup:
    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
        (tmp / "answers.toml").write_bytes(raw)
        return ["init", str(tmp / "app"), "--yes", "--answers", str(tmp / "answers.toml")]
    return setup


def _argv(*argv: str) -> Setup:
    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
        return [a.replace("TMP", str(tmp)) for a in argv]
    return setup


def _fake_interpreter(reply: str) -> Setup:
    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
        script = tmp / "python"
        script.write_text(f"#!/bin/sh\nprintf '%s' '{reply}'\n")
        script.chmod(0o755)
        return ["init", str(tmp / "app"), "--yes", "-a", "system", "--python-executable", str(script)]
    return setup


def _driver_env(value: str) -> Setup:
    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
        mp.setenv("UV_CUDA_DRIVER_VERSION", value)
        return ["detect"]
    return setup


def _add_with(edit: Callable[[dict[str, object]], None]) -> Setup:
    """A project made by init, its answers file removed (add reads pyproject.toml), edited."""
    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
        project = tmp / "p"
        assert main(["init", str(project), "--yes", "-a", "cpu", "-a", "cu128"]) == 0
        (project / ".uvtorch.toml").unlink()
        doc = tomlkit.parse((project / "pyproject.toml").read_text())
        edit(doc)
        (project / "pyproject.toml").write_text(tomlkit.dumps(doc))
        return ["add", str(project), "-a", "cu126"]
    return setup


def _set(path: str, value: object) -> Callable[[dict[str, object]], None]:
    def edit(doc: dict[str, object]) -> None:
        *parents, last = path.split(".")
        node: object = doc
        for key in parents:
            node = node[key]  # type: ignore[index]
        node[last] = value  # type: ignore[index]
    return edit


def _uvtorch_toml(text: str) -> Setup:
    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
        project = tmp / "p"
        assert main(["init", str(project), "--yes", "-a", "cpu"]) == 0
        (project / ".uvtorch.toml").write_text(text)
        return ["add", str(project), "-a", "cu128"]
    return setup


def _fifo(name: str, command: str) -> Setup:
    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
        os.mkfifo(tmp / name)
        if command == "init":
            return ["init", str(tmp / "app"), "--yes", "--answers", str(tmp / name)]
        return [command, str(tmp), *(["-a", "cpu"] if command == "add" else [])]
    return setup


CASES: dict[str, tuple[Setup, int, str]] = {
    "answers-latin1": (_answers(b'schema_version = 1\n[answers]\nname = "caf\xe9"\n'), 1,
                       "is not UTF-8 text (byte 40: b'\\xe9')"),
    "answers-utf16": (_answers("schema_version = 1\n".encode("utf-16")), 1, "is not UTF-8 text"),
    "answers-schema-true": (_answers(b"schema_version = true\n[answers]\n"), 1,
                            "schema_version = True is not a whole number"),
    "answers-accelerators-int": (_answers(b"schema_version = 1\n[answers]\naccelerators = 5\n"), 1,
                                 "'accelerators' must be a list of strings, not 5"),
    "answers-name-list": (_answers(b"schema_version = 1\n[answers]\nname = [1]\n"), 1,
                          "'name' must be a string, not list [1]"),
    "answers-fifo": (_fifo("answers.toml", "init"), 1, "is not a regular file"),
    "check-fifo": (_fifo("pyproject.toml", "check"), 2, "is not a regular file"),
    "add-fifo": (_fifo("pyproject.toml", "add"), 1, "is not a regular file"),
    "system-torch-wildcard": (_argv("init", "TMP/app", "--yes", "-a", "system",
                                    "--system-torch", "2.5.*"), 2,
                              "--system-torch '2.5.*' is not a version"),
    "probe-not-json": (_fake_interpreter("not json"), 1,
                       "did not answer like a Python interpreter (its reply began 'not json')"),
    "probe-json-list": (_fake_interpreter("[1, 2]"), 1, "did not answer like a Python interpreter"),
    "probe-json-wrong-types": (_fake_interpreter(
        '{"python": 3, "executable": 1, "base_executable": 1, "purelib": 1, "in_venv": 1, '
        '"torch_in_venv": 1, "packages": 5}'), 1, "did not answer like a Python interpreter"),
    "name-trailing-newline": (_argv("init", "TMP/app", "--yes", "--name", "demo\n"), 2,
                              "'demo\\n' is not a valid project name"),
    "name-full-width": (_argv("init", "TMP/app", "--yes", "--name", "demo１"), 2,
                        "'demo１' is not a valid project name"),
    "index-url-space": (_argv("init", "TMP/app", "--yes", "--index-url", "https://a.b/wh l"), 2,
                        "contains spaces or control characters"),
    "index-url-newline": (_argv("init", "TMP/app", "--yes", "--index-url",
                                "https://a.b/whl\n[tool.evil]"), 2,
                          "contains spaces or control characters"),
    "index-url-unparsable": (_argv("init", "TMP/app", "--yes", "--index-url", "https://[x/whl"), 2,
                             "does not parse as a URL"),
    "index-url-bad-port": (_argv("init", "TMP/app", "--yes", "--index-url", "https://a.b:x/whl"), 2,
                           "does not parse as a URL"),
    "matrix-index-url-unparsable": (_argv("matrix", "--refresh", "--index-url", "https://[x/whl"), 2,
                                    "does not parse"),
    "uvtorch-toml-schema-true": (_uvtorch_toml("schema_version = true\n[answers]\n"), 1,
                                 "schema_version = True is not a whole number"),
    "uvtorch-toml-answers-string": (_uvtorch_toml('schema_version = 1\nanswers = "x"\n'), 1,
                                    "no [answers] table"),
    "add-project-string": (_add_with(_set("project", "x")), 1,
                           "project must be a table, not string 'x'"),
    "add-sources-int": (_add_with(_set("tool.uv.sources", 5)), 1,
                        "tool.uv.sources must be a table, not integer 5"),
    "add-torch-source-string": (_add_with(_set("tool.uv.sources.torch", "x")), 1,
                                "tool.uv.sources.torch must be a table or an array of tables"),
    "add-name-int": (_add_with(_set("project.name", 5)), 1, "project.name must be a string"),
    "add-conflicts-ints": (_add_with(_set("tool.uv.conflicts", [1, 2])), 1,
                           "tool.uv.conflicts must be an array of arrays of tables"),
    "add-environments-int": (_add_with(_set("tool.uv.environments", 5)), 1,
                             "tool.uv.environments must be a string or an array of strings"),
    "add-index-int": (_add_with(_set("tool.uv.index", 5)), 1, "tool.uv.index must be an array of tables"),
    "add-extra-string": (_add_with(_set("project.optional-dependencies.cpu", "torch")), 1,
                         "project.optional-dependencies.cpu must be an array of strings"),
    "add-requires-python-int": (_add_with(_set("project.requires-python", 5)), 1,
                                "project.requires-python must be a string"),
    "add-tool-string": (_add_with(_set("tool", "x")), 1, "tool must be a table"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_known_bad_input_is_one_paragraph(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    setup, code, says = CASES[case]
    argv = setup(tmp_path, monkeypatch)
    capsys.readouterr()
    assert main(argv) == code
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err
    assert err.startswith("uvtorch: error: ") and err.count("\n") == 1, err
    assert says in err, err
    assert not (tmp_path / "app").exists()


def test_full_width_driver_digits_are_ignored_with_a_note(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """int('５５０') is 550 but Version('５５０') raises: the value is refused where it is read."""
    monkeypatch.setenv("UV_CUDA_DRIVER_VERSION", "５８０.６５")
    assert main(["detect"]) == 0
    out, err = capsys.readouterr()
    assert "UV_CUDA_DRIVER_VERSION='５８０.６５' is not a driver version" in out
    assert "internal error" not in err


def test_a_corrupted_catalog_cache_is_ignored_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    overlay = tmp_path / "uvtorch" / "catalog-overlay.toml"
    overlay.parent.mkdir()
    for broken in ("releases = [", '[releases."2.99"]\npatches = ["x.y"]\n', "releases = 5\n",
                   "\xff\xfe"):
        overlay.write_text(broken, encoding="latin-1")
        load.cache_clear()
        try:
            assert main(["init", str(tmp_path / "app"), "--yes", "--dry-run"]) == 0
            assert main(["matrix", "--torch", ">=2.9"]) == 0
        finally:
            load.cache_clear()
        err = capsys.readouterr().err
        assert f"uvtorch: warning: ignoring {overlay}: it cannot be read" in err
        assert "Delete it, or run `uvtorch matrix --refresh`" in err


def test_an_unexpected_exception_is_one_line_with_a_way_to_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from uvtorch import cli

    def boom(args: object) -> int:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(cli, "_run_matrix", boom)
    monkeypatch.delenv("UVTORCH_TRACEBACK", raising=False)
    assert main(["matrix"]) == 1
    err = capsys.readouterr().err
    assert err == ("uvtorch: internal error: RuntimeError: kaboom (set UVTORCH_TRACEBACK=1 or "
                   "pass -v to see the traceback; please report it)\n")
    assert main(["matrix", "-v"]) == 1
    assert "Traceback" in capsys.readouterr().err
    monkeypatch.setenv("UVTORCH_TRACEBACK", "1")
    assert main(["matrix"]) == 1
    assert "Traceback" in capsys.readouterr().err
