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


def test_the_wizard_fits_an_80x24_terminal(tmp_path: Path) -> None:
    from test_wizard_pty import DOWN, SPACE

    target = tmp_path / "small"
    term = Terminal("init", str(target), size=(24, 80))
    term.answer("Project name", ENTER)
    releases = term.expect(r"2\.4  \(Python [^)]*\)")
    assert "2.13  (Python 3.10-3.14; cpu, cu126..cu132 (4), rocm7.1, rocm7.2, xpu)" in releases
    term.keys(ENTER)
    term.answer("Python versions", ENTER)
    screen = term.expect(r"lists them\)")
    assert "cu132  (NVIDIA, driver >= 580 Linux, 580 Windows)" in screen
    assert "18 other builds (not in torch 2.15; `uvtorch matrix` lists them)" in screen
    assert "rocm6.0" not in screen  # the builds 2.15 lacks are one line, not twenty
    term.keys(DOWN, SPACE, ENTER)  # cpu is pre-selected; add cu132
    term.expect("torch-family")
    term.keys(ENTER)
    for prompt in ("Other packages", "Kernels", "Platforms", "Write these files"):
        term.answer(prompt, ENTER)
    code, output = term.finish()
    assert code == 0, output
    assert "cu132 = [" in (target / "pyproject.toml").read_text()


def test_every_wizard_title_fits_80_columns() -> None:
    from uvtorch.catalog import load
    from uvtorch.questions import _driver_note, builds_summary

    catalog = load()
    for release in catalog.releases:
        title = (f"{release.minor}  (Python {release.python_min}-{release.python_max}; "
                 f"{builds_summary(release.variants, catalog)})")
        assert len(title) + 5 <= 80, title
    for variant in catalog.all_variants():
        title = f"{variant}  ({_driver_note(variant, catalog)})"
        assert len(title) + 5 <= 80, title
