"""Render a template folder's `files/` tree with jinja2, safely.

File paths are templates too (`src/{{ package }}/__init__.py`). Rendering happens in jinja2's
sandbox with StrictUndefined, so a template can neither run code nor silently drop a
misspelled variable, and a rendered path that would leave the target folder is refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from uvtorch.errors import TemplateEscape


def builtin_templates() -> Path:
    """The folder of built-in templates: packaged in the wheel, or the repository's own."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    # A source checkout or an editable install: the templates sit at the repository's top.
    return Path(__file__).resolve().parents[2] / "templates"


def _walk(folder: Path, prefix: PurePosixPath) -> Iterator[tuple[PurePosixPath, str]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _walk(entry, prefix / entry.name)
        else:
            yield prefix / entry.name, entry.read_text(encoding="utf-8")


def _bytecode_cache() -> Any:
    """jinja2's compiled-template cache in the user's cache folder, if one can be made.

    Compiling a template costs a few milliseconds on every start; the cache is keyed by the
    template's checksum, so an edited template is simply compiled again.
    """
    from jinja2 import FileSystemBytecodeCache

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "uvtorch", "jinja2")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    return FileSystemBytecodeCache(folder)


def _safe_path(rendered: str, source: PurePosixPath) -> PurePosixPath:
    path = PurePosixPath(rendered)
    if not rendered or path.is_absolute() or ".." in path.parts or "\\" in rendered:
        raise TemplateEscape(
            f"Template file '{source}' would be written to '{rendered}', outside the "
            "project folder.",
            "Template paths must be relative and must not contain '..'.",
        )
    return path


def render_files(files_root: Path, context: Mapping[str, Any]) -> dict[str, str]:
    """Every file under `files_root`, rendered: {relative posix path: text}."""
    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(files_root)),
        bytecode_cache=_bytecode_cache(),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    out: dict[str, str] = {}
    for source, text in _walk(files_root, PurePosixPath()):
        # Text without any jinja2 delimiter renders to itself: skip compiling it.
        rendered_path = env.from_string(str(source)).render(context) if "{" in str(source) else str(source)
        path = _safe_path(rendered_path, source)
        out[str(path)] = env.get_template(str(source)).render(context) if "{" in text else text
    return out
