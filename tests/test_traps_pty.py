"""Wizard traps (issue 14), typed on a real pseudo-terminal."""

from __future__ import annotations

from pathlib import Path

from test_wizard_pty import BACKSPACE, ENTER, Terminal


def test_declining_the_summary_is_not_an_error(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    term = Terminal("init", str(target))
    for prompt in ("Project name", "PyTorch release", "Python versions", "Accelerators",
                   "torch-family", "Other packages", "Platforms"):
        term.answer(prompt, ENTER)
    term.answer("Write these files", "n")
    code, output = term.finish()
    assert code == 1
    assert "cancelled: nothing was written" in output
    assert "error" not in output.split("Write these files", 1)[1]
    assert not target.exists()


def test_torch_as_an_other_package_is_refused_at_the_prompt(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    term = Terminal("init", str(target))
    for prompt in ("Project name", "PyTorch release", "Python versions", "Accelerators",
                   "torch-family"):
        term.answer(prompt, ENTER)
    term.answer("Other packages", *"torch==2.8", ENTER)
    screen = term.expect("always part of each accelerator extra")
    assert "--torch" in term.expect("--torch") or "--torch" in screen
    term.keys(*([BACKSPACE] * len("torch==2.8")), *"timm", ENTER)
    term.answer("Platforms", ENTER)
    term.answer("Write these files", ENTER)
    code, output = term.finish()
    assert code == 0, output
    text = (target / "pyproject.toml").read_text()
    assert '"timm"' in text and "torch==2.8" not in text
