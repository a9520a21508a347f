"""The answers file: written by every init, replayed by --answers, overridden by flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from uvtorch.cli import main


def init(tmp_path: Path, capsys: pytest.CaptureFixture[str], folder: str, *args: str) -> int:
    code = main(["init", str(tmp_path / folder), "--yes", *args])
    capsys.readouterr()
    return code


def test_replay_reproduces_pyproject_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    init(tmp_path, capsys, "first", "-a", "cpu", "-a", "cu126", "-a", "rocm6.4",
         "--package", "ultralytics", "--platform", "linux-x86_64", "--template", "training")
    init(tmp_path, capsys, "second", "--answers", str(tmp_path / "first" / ".uvtorch.toml"))
    for name in ("pyproject.toml", ".uvtorch.toml", "src/first/train.py"):
        assert (tmp_path / "second" / name).read_bytes() == (tmp_path / "first" / name).read_bytes()


def test_a_new_name_is_the_only_difference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    init(tmp_path, capsys, "first", "-a", "cu128", "--package", "torchvision")
    init(tmp_path, capsys, "second", "--answers", str(tmp_path / "first" / ".uvtorch.toml"),
         "-n", "renamed")
    first = (tmp_path / "first" / "pyproject.toml").read_text()
    second = (tmp_path / "second" / "pyproject.toml").read_text()
    assert second == first.replace('name = "first"', 'name = "renamed"')


def test_flags_override_single_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(tmp_path, capsys, "first", "-a", "cpu", "-a", "cu128", "--package", "torchvision")
    init(tmp_path, capsys, "second", "--answers", str(tmp_path / "first" / ".uvtorch.toml"),
         "-a", "cpu", "-a", "cu126")
    text = (tmp_path / "second" / "pyproject.toml").read_text()
    assert "cu126 = [" in text and "cu128" not in text
    assert "torchvision" in text  # the packages answer still comes from the file


def test_the_resolved_torch_is_replayed_not_recomputed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    init(tmp_path, capsys, "first", "-a", "cu126")
    answers = (tmp_path / "first" / ".uvtorch.toml").read_text()
    assert 'torch = ">=2.14,<2.15"' in answers
    assert 'python = ">=3.10,<3.15"' in answers


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("not toml [", "not valid TOML"),
        ("[answers]\nname = 'x'\n", "not a uvtorch answers file"),
        ("schema_version = 99\n[answers]\nname = 'x'\n", "newer uvtorch"),
        ("schema_version = 1\n[answers]\ncolour = 'blue'\n", "unknown answer 'colour'"),
        ("schema_version = 1\n[answers]\naccelerators = 'cpu'\n", "list of strings"),
    ],
)
def test_bad_answers_files_are_refused_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, says: str
) -> None:
    bad = tmp_path / "answers.toml"
    bad.write_text(content)
    code = main(["init", str(tmp_path / "p"), "--yes", "--answers", str(bad)])
    err = capsys.readouterr().err
    assert code == 1
    assert says in err and str(bad) in err
    assert not (tmp_path / "p").exists()


def test_missing_answers_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["init", str(tmp_path / "p"), "--yes", "--answers", str(tmp_path / "nope.toml")])
    assert code == 1
    assert "Cannot read the answers file" in capsys.readouterr().err
