"""Templates: a folder with `uvtorch-template.toml` (preset answers, which questions are
still asked, extra dependency groups) and `files/` (jinja2 templates of extra files).

File paths are templates too (`src/{{ package }}/__init__.py`). Rendering happens in jinja2's
sandbox with StrictUndefined, so a template can neither run code nor silently drop a
misspelled variable; a path that would leave the target folder (`..`, absolute, a symlink)
is refused before anything is written. Templates have no hooks: they cannot run commands.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from uvtorch.errors import TemplateEscape, UvtorchError

TEMPLATE_FILE = "uvtorch-template.toml"
BASE_TEMPLATE = "minimal"  # every project gets its files; other templates add to them


class Template(NamedTuple):
    """A loaded template: where it is and what it presets."""

    name: str  # a built-in name, or the folder's absolute path
    root: Path
    description: str
    presets: dict[str, Any]  # an answers layer
    ask: tuple[str, ...] | None  # questions still asked; None: every question
    dependency_groups: dict[str, tuple[str, ...]]


class BadTemplate(UvtorchError):
    """A template folder that cannot be used."""


def builtin_templates() -> Path:
    """The folder of built-in templates: packaged in the wheel, or the repository's own."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    # A source checkout or an editable install: the templates sit at the repository's top.
    return Path(__file__).resolve().parents[2] / "templates"


def builtin_names() -> list[str]:
    """The names of the built-in templates, sorted."""
    return sorted(p.name for p in builtin_templates().iterdir() if (p / TEMPLATE_FILE).is_file())


def load_template(spec: str, questions: tuple[str, ...]) -> Template:
    """A built-in template by name, or a template folder by path.

    `questions` are the ids a template's `ask` list may name.
    """
    from uvtorch.answers import validate_layer

    looks_like_path = os.sep in spec or "/" in spec or spec.startswith(".")
    root = Path(spec).expanduser() if looks_like_path else builtin_templates() / spec
    if not looks_like_path and not (root / TEMPLATE_FILE).is_file() and Path(spec).is_dir():
        root = Path(spec)  # a folder in the current directory, named without a slash
        looks_like_path = True
    if not (root / TEMPLATE_FILE).is_file():
        if looks_like_path:
            raise BadTemplate(
                f"Template folder '{spec}' has no {TEMPLATE_FILE}.",
                "A template is a folder with uvtorch-template.toml and files/ (see "
                "'uvtorch init --list-templates' for built-in ones).",
            )
        raise BadTemplate(
            f"Unknown template '{spec}'.",
            f"Built-in templates: {', '.join(builtin_names())}; or give a folder path.",
        )
    source = str(root / TEMPLATE_FILE)
    try:
        import tomlkit

        raw = tomlkit.parse((root / TEMPLATE_FILE).read_text(encoding="utf-8")).unwrap()
    except Exception as exc:  # a broken template file is the user's to fix, not a crash
        raise BadTemplate(f"Cannot read {source}: {exc}.", "Fix the file's TOML.") from None
    known = {"description", "answers", "ask", "dependency-groups"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise BadTemplate(
            f"{source}: unknown key(s) {', '.join(unknown)}.",
            f"A template file may have: {', '.join(sorted(known))}.",
        )
    ask = raw.get("ask")
    if ask is not None:
        bad = [q for q in ask if q not in questions] if isinstance(ask, list) else [str(ask)]
        if bad:
            raise BadTemplate(
                f"{source}: 'ask' names unknown question(s) {', '.join(map(str, bad))}.",
                f"Questions: {', '.join(questions)}.",
            )
    groups = raw.get("dependency-groups", {})
    if not isinstance(groups, dict) or not all(
        isinstance(v, list) and all(isinstance(r, str) for r in v) for v in groups.values()
    ):
        raise BadTemplate(
            f"{source}: 'dependency-groups' must map group names to lists of requirements.",
            'e.g. dependency-groups = { dev = ["pytest>=8"] }',
        )
    from uvtorch.plan import check_requirement

    for requirements in groups.values():
        for requirement in requirements:
            try:
                check_requirement(requirement)
            except UvtorchError as exc:
                raise BadTemplate(f"{source}: {exc.message}", exc.hint) from None
    return Template(
        name=str(root.resolve()) if looks_like_path else spec,
        root=root,
        description=str(raw.get("description", "")),
        presets=validate_layer(raw.get("answers", {}), source),
        ask=tuple(ask) if ask is not None else None,
        dependency_groups={k: tuple(v) for k, v in sorted(groups.items())},
    )


SUFFIX = ".jinja"  # optional: `train.py.jinja` renders to `train.py`


def _walk(folder: Path, prefix: PurePosixPath) -> Iterator[tuple[PurePosixPath, str]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue  # an installer's byte-compilation, not part of the template
        if entry.is_symlink():
            raise TemplateEscape(
                f"Template file '{prefix / entry.name}' is a symbolic link.",
                "Templates may only contain plain files and folders, so that nothing can be "
                "written outside the project folder.",
            )
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
    if not files_root.is_dir():
        return out
    for source, text in _walk(files_root, PurePosixPath()):
        # Text without any jinja2 delimiter renders to itself: skip compiling it.
        rendered_path = env.from_string(str(source)).render(context) if "{" in str(source) else str(source)
        path = _safe_path(rendered_path.removesuffix(SUFFIX), source)
        out[str(path)] = env.get_template(str(source)).render(context) if "{" in text else text
    return out
