"""How uvtorch talks to a terminal: quiet, colour and progress, as uv decides them.

One place answers "may I colour this?", "may I draw progress?" and "is this run quiet?", so
the flags `-q/--quiet`, `--color auto|always|never` and `--no-progress` (and the variables
NO_COLOR, FORCE_COLOR, UV_NO_PROGRESS) mean the same in every command, as they do in uv.
"""

from __future__ import annotations

import os
from typing import TextIO

_state = {"quiet": False, "color": "auto", "progress": True}

_RED, _YELLOW, _BOLD, _RESET = "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[0m"


def configure(*, quiet: bool = False, color: str = "auto", progress: bool = True) -> None:
    """Set what this run's flags asked for (called once by the CLI)."""
    _state.update(quiet=quiet, color=color, progress=progress)


def quiet() -> bool:
    return bool(_state["quiet"])


def use_color(stream: TextIO) -> bool:
    """`--color always|never` wins; auto colours a terminal unless NO_COLOR is set (no-color.org)."""
    if _state["color"] == "always":
        return True
    if _state["color"] == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def show_progress(stream: TextIO) -> bool:
    """Progress only on a terminal, never with --no-progress, -q or UV_NO_PROGRESS."""
    if not _state["progress"] or _state["quiet"] or os.environ.get("UV_NO_PROGRESS"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def label(text: str, stream: TextIO) -> str:
    """`error`/`warning` as uv shows them: red or yellow and bold where colour is on."""
    if not use_color(stream):
        return text
    colour = _RED if text in ("error", "internal error") else _YELLOW
    return f"{_BOLD}{colour}{text}{_RESET}"
