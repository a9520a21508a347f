"""Render a template folder's `files/` tree with jinja2, safely.

File paths are templates too (`src/{{ package }}/__init__.py`). Rendering happens in jinja2's
sandbox with StrictUndefined, so a template can neither run code nor silently drop a
misspelled variable, and a rendered path that would leave the target folder is refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path, PurePosixPath
from typing import Any

from uvtorch.errors import TemplateEscape


def builtin_templates() -> Traversable:
    """The folder of built-in templates: packaged in the wheel, or the repository's own."""
    packaged = resources.files("uvtorch").joinpath("templates")
    if packaged.is_dir():
        return packaged
    # A source checkout or an editable install: the templates sit at the repository's top.
    return Path(__file__).resolve().parents[2] / "templates"


def _walk(folder: Traversable, prefix: PurePosixPath) -> Iterator[tuple[PurePosixPath, str]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _walk(entry, prefix / entry.name)
        else:
            yield prefix / entry.name, entry.read_text(encoding="utf-8")


def _safe_path(rendered: str, source: PurePosixPath) -> PurePosixPath:
    path = PurePosixPath(rendered)
    if not rendered or path.is_absolute() or ".." in path.parts or "\\" in rendered:
        raise TemplateEscape(
            f"Template file '{source}' would be written to '{rendered}', outside the "
            "project folder.",
            "Template paths must be relative and must not contain '..'.",
        )
    return path


def render_files(files_root: Traversable, context: Mapping[str, Any]) -> dict[str, str]:
    """Every file under `files_root`, rendered: {relative posix path: text}."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False
    )
    out: dict[str, str] = {}
    for source, text in _walk(files_root, PurePosixPath()):
        path = _safe_path(env.from_string(str(source)).render(context), source)
        out[str(path)] = env.from_string(text).render(context)
    return out
