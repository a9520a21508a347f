"""The real wizard on a pseudo-terminal, typed into the way a person would (pexpect)."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pexpect
import pytest

DOWN = "\x1b[B"
ENTER = "\r"
SPACE = " "
CTRL_C = "\x03"
BACKSPACE = "\x7f"


class Terminal:
    """A uvtorch process on a pty, with a little pause between keys as a person types."""

    def __init__(
        self, *args: str, size: tuple[int, int] = (50, 160), env: dict[str, str] | None = None
    ) -> None:
        # No cursor-position requests: a real terminal answers them, pexpect does not, and
        # prompt_toolkit would wait for each answer.
        rows, columns = size
        env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(columns), LINES=str(rows),
                   PROMPT_TOOLKIT_NO_CPR="1", **(env or {}))
        self.child = pexpect.spawn(
            sys.executable, ["-m", "uvtorch", *args], env=env, encoding="utf-8",
            timeout=30, dimensions=size,
        )

    def expect(self, pattern: str) -> str:
        self.child.expect(pattern)
        time.sleep(0.2)  # let the prompt finish drawing before typing
        return _plain(self.child.before + self.child.after)

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.child.send(key)
            time.sleep(0.1)

    def answer(self, prompt: str, *keys: str) -> str:
        screen = self.expect(prompt)
        self.keys(*keys)
        return screen

    def finish(self) -> tuple[int, str]:
        self.child.expect(pexpect.EOF)
        output = _plain(self.child.before)
        self.child.close()
        assert self.child.exitstatus is not None
        return self.child.exitstatus, output


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][AB012]", "", text)


def test_enter_on_every_question_makes_a_working_project(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    term = Terminal("init", str(target))
    for prompt in ("Project name", "PyTorch release", "Python versions", "Accelerators",
                   "torch-family", "Other packages", "Platforms"):
        term.answer(prompt, ENTER)
    summary = term.answer("Write these files", ENTER)
    assert "uvtorch will write demo" in summary
    code, output = term.finish()
    assert code == 0, output
    pyproject = (target / "pyproject.toml").read_text()
    assert "cpu = [" in pyproject and '"torch>=2.15,<2.16"' in pyproject
    assert (target / ".uvtorch.toml").exists()


def test_the_wizard_preselects_the_gpu_build_auto_would_choose(tmp_path: Path) -> None:
    """issue 13: a CUDA 12 driver gets cpu + cu126 pre-selected, and torch 2.14 (2.15 has only
    cu132, which needs driver 580), not a CPU-only project. uv's own override variable stands
    for the machine (the first thing detection reads, as uv's does)."""
    target = tmp_path / "gpu"
    term = Terminal("init", str(target), env={"UV_CUDA_DRIVER_VERSION": "550.54.14"})
    term.answer("Project name", ENTER)
    for prompt in ("PyTorch release", "Python versions", "Accelerators", "torch-family",
                   "Other packages", "Kernels", "Platforms", "Write these files"):
        term.answer(prompt, ENTER)
    code, output = term.finish()
    assert code == 0, output
    pyproject = (target / "pyproject.toml").read_text()
    assert "cu126 = [" in pyproject and '"torch>=2.14,<2.15"' in pyproject


def test_arrows_space_and_a_bad_answer_then_a_good_one(tmp_path: Path) -> None:
    target = tmp_path / "picked"
    term = Terminal("init", str(target))
    term.answer("Project name", ENTER)
    term.answer("PyTorch release", DOWN, ENTER)  # 2.14
    # The default offered for 2.14 is on the line; erase it and type a bad value.
    term.answer(r"Python versions \(requires-python\) \S*>=3\.10,<3\.15", *([BACKSPACE] * 12),
                "3.11)", ENTER)
    # Refused at the prompt with the flag's own words; had it been accepted, the keys below
    # would land in the next question and the project would not get ">=3.11".
    term.expect("not a valid version specifier")
    term.keys(*([BACKSPACE] * 5), ">=3.11", ENTER)
    # cpu is pre-selected; move to cu126 (the next enabled entry) and tick it.
    term.answer("Accelerators", DOWN, SPACE, ENTER)
    term.answer("torch-family", SPACE, ENTER)  # torchao is first in the list
    term.answer("Other packages", "ultralytics", ENTER)
    # cu126 is a GPU build, so kernels are offered; take the first one (apex).
    term.answer("Kernels to build against torch", SPACE, ENTER)
    term.answer("Platforms", ENTER)
    term.answer("Write these files", ENTER)
    code, output = term.finish()
    assert code == 0, output
    pyproject = (target / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.11"' in pyproject
    assert "cu126 = [" in pyproject and '"torch>=2.14,<2.15"' in pyproject
    assert '"torchao>=0.18.0,<0.19"' in pyproject and '"ultralytics"' in pyproject
    assert "[tool.uv.extra-build-dependencies]\n" in pyproject and "apex" in pyproject


def test_flags_answer_questions_so_they_are_not_asked(tmp_path: Path) -> None:
    target = tmp_path / "flagged"
    term = Terminal("init", str(target), "-n", "flagged", "--torch", ">=2.9,<2.10", "-a", "cu128")
    first = term.answer("Python versions", ENTER)
    assert "Project name" not in first and "PyTorch release" not in first
    screen = ""
    for prompt in ("torch-family", "Other packages", "Kernels", "Platforms"):
        screen += term.answer(prompt, ENTER)
    assert "Accelerators" not in screen
    term.answer("Write these files", ENTER)
    assert term.finish()[0] == 0
    assert "cu128 = [" in (target / "pyproject.toml").read_text()


@pytest.mark.parametrize("question", ["Project name", "Accelerators", "Write these files"])
def test_ctrl_c_anywhere_writes_nothing_and_exits_130(tmp_path: Path, question: str) -> None:
    target = tmp_path / "stop"
    term = Terminal("init", str(target))
    for prompt in ("Project name", "PyTorch release", "Python versions", "Accelerators",
                   "torch-family", "Other packages", "Platforms", "Write these files"):
        if prompt == question:
            term.answer(prompt, CTRL_C)
            break
        term.answer(prompt, ENTER)
    code, output = term.finish()
    assert code == 130
    assert "interrupted; nothing was written" in output
    assert "Traceback" not in output
    assert not target.exists()


def test_declining_the_summary_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "no"
    term = Terminal("init", str(target))
    for prompt in ("Project name", "PyTorch release", "Python versions", "Accelerators",
                   "torch-family", "Other packages", "Platforms"):
        term.answer(prompt, ENTER)
    term.answer("Write these files", "n", ENTER)
    code, output = term.finish()
    assert code == 1
    assert "nothing was written" in output
    assert not target.exists()


def test_system_asks_only_what_the_environment_does_not_answer(tmp_path: Path) -> None:
    """-a system on a terminal: no torch release, Python, kernel or platform questions."""
    target = tmp_path / "ngc"
    term = Terminal("init", str(target), "-a", "system", "--system-torch",
                    "2.5.0a0+872d972e41.nv24.08")
    screen = term.answer("Project name", ENTER)
    screen += term.answer("torch-family", DOWN, DOWN, SPACE, ENTER)  # torchvision
    screen += term.answer("Other packages", "ultralytics", ENTER)
    summary = term.answer("Write these files", ENTER)
    for never in ("PyTorch release", "Python versions", "Kernels", "Platforms"):
        assert never not in screen + summary
    assert "torchvision  (the environment's)" in screen
    code, output = term.finish()
    assert code == 0, output
    pyproject = (target / "pyproject.toml").read_text()
    assert 'exclude-dependencies = [\n    "torch",\n    "torchvision",\n]' in pyproject
    assert '"ultralytics",' in pyproject
