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
    for part in (TEMPLATE_FILE, "files"):
        if (root / part).is_symlink():
            raise TemplateEscape(
                f"Template '{spec}': {part} is a symbolic link (to {os.readlink(root / part)}).",
                "A template's uvtorch-template.toml and files/ must be a plain file and folder, "
                "so that a template cannot copy another folder of this machine into a project.",
            )
    known = {"description", "answers", "ask", "dependency-groups"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise BadTemplate(
            f"{source}: unknown key(s) {', '.join(unknown)}.",
            f"A template file may have: {', '.join(sorted(known))}.",
        )
    answers = raw.get("answers", {})
    if not isinstance(answers, dict):
        raise BadTemplate(
            f"{source}: 'answers' must be a table, not {type(answers).__name__} {answers!r}.",
            'e.g. [answers] with accelerators = ["cpu", "cu128"] on the next line.',
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
        presets=validate_layer(answers, source),
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
        elif not entry.is_file():  # a FIFO or device would block or never end
            raise BadTemplate(
                f"Template file '{entry}' is not a regular file.",
                "Templates may only contain plain files and folders.",
            )
        else:
            try:
                text = entry.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise BadTemplate(
                    f"Template file '{entry}' is not UTF-8 text (byte {exc.start}: "
                    f"{exc.object[exc.start:exc.start + 1]!r}).",
                    "Templates hold text files only; keep binary files (images, data) out of "
                    "files/ and add them to the project yourself.",
                ) from None
            yield prefix / entry.name, text


def _bytecode_cache() -> Any:
    """jinja2's compiled-template cache in the user's cache folder, if it is safe to use.

    Compiling a template costs a few milliseconds on every start; the cache is keyed by the
    template's checksum, so an edited template is simply compiled again. jinja2 loads the
    cached code as Python, so the folder is used only if it is a real folder (no symlink)
    owned by this user and writable by nobody else; otherwise templates are compiled afresh.
    """
    import stat

    from jinja2 import FileSystemBytecodeCache

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "uvtorch", "jinja2")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    getuid = getattr(os, "getuid", None)
    if (
        not stat.S_ISDIR(info.st_mode)
        or (getuid is not None and info.st_uid != getuid())
        or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    ):
        return None
    return FileSystemBytecodeCache(folder)


def _safe_path(rendered: str, source: PurePosixPath) -> PurePosixPath:
    path = PurePosixPath(rendered)
    bad = next((c for c in rendered if ord(c) < 32 or ord(c) == 127), None)
    if bad is not None:
        raise BadTemplate(
            f"Template file '{source}' renders to the name {rendered!r}, which holds the "
            f"control character {bad!r}.",
            "File names may not contain NUL, newlines or other control characters; check the "
            "variables used in the file's path.",
        )
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
    if files_root.is_symlink():
        raise TemplateEscape(
            f"Template folder '{files_root}' is a symbolic link.",
            "A template's files/ must be a plain folder, so that a template cannot copy "
            "another folder of this machine into a project.",
        )
    if not files_root.is_dir():
        return out
    for source, text in _walk(files_root, PurePosixPath()):
        try:
            # Text without any jinja2 delimiter renders to itself: skip compiling it.
            rendered_path = (
                env.from_string(str(source)).render(context) if "{" in str(source) else str(source)
            )
        except Exception as exc:  # jinja2's errors, in the file's *name*
            raise _template_error(exc, files_root / source, "name", context) from None
        path = _safe_path(rendered_path.removesuffix(SUFFIX), source)
        try:
            out[str(path)] = env.get_template(str(source)).render(context) if "{" in text else text
        except Exception as exc:  # jinja2's errors: the template's author has to fix them
            raise _template_error(exc, files_root / source, "text", context) from None
    return out


def _template_error(
    exc: Exception, path: Path, part: str, context: Mapping[str, Any]
) -> UvtorchError:
    """One paragraph for a jinja2 failure: the file, the line, what went wrong, what works."""
    from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError
    from jinja2.exceptions import SecurityError

    if isinstance(exc, UvtorchError):
        return exc
    line = getattr(exc, "lineno", None) if isinstance(exc, TemplateSyntaxError) else None
    if line is None:  # runtime errors: jinja2 rewrites the traceback to template lines
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename in (str(path), "<template>"):
                line = tb.tb_lineno
            tb = tb.tb_next
    where = f"{path}{f', line {line}' if line else ''}" + (" (its file name)" if part == "name" else "")
    if isinstance(exc, TemplateSyntaxError):
        what, hint = f"a jinja2 syntax error: {exc.message}", "Fix the template's syntax."
    elif isinstance(exc, UndefinedError):
        what, hint = f"an undefined variable: {exc.message}", (
            f"Templates can use: {', '.join(sorted(context))}; check the spelling.")
    elif isinstance(exc, TemplateNotFound):
        what, hint = f"an include or import of '{exc.name}', which is not in the template", (
            "Include only files inside the template's files/ folder, by their path there.")
    elif isinstance(exc, SecurityError):
        what, hint = f"an operation the sandbox forbids ({exc})", (
            "Templates may use variables, filters and tests, not Python internals.")
    else:
        what, hint = f"{type(exc).__name__}: {exc}", "Fix the template."
    return BadTemplate(f"Template {where} cannot be rendered: {what}.", hint)
