"""Generated hostile and careless inputs through the CLI, in process.

Answers files, template presets, template file trees and a project's .uvtorch.toml, each
with at least one value uvtorch must refuse. Whatever hypothesis generates, the run must end
in a one-paragraph error (exit 1 or 2), never a traceback or the last-resort "internal
error", and the target folder must be exactly as it was (hashed before and after).
Bounded: a few dozen examples per test, no deadline, no example database.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uvtorch.answers import FIELDS
from uvtorch.cli import main

SETTINGS = settings(
    max_examples=25, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_scalars = st.one_of(
    st.integers(-10, 10**6), st.booleans(), st.floats(allow_nan=False, allow_infinity=False),
    _text, st.sampled_from(["system", "cu128", "..", "/etc/passwd", "{{ x }}", "\x00", "2.5.*",
                            "file:///etc", "https://[x", "torch", ">=2.9"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_text, inner, max_size=3)),
    max_leaves=6,
)


def _wrong_for(kind: str) -> st.SearchStrategy[Any]:
    """A value of the wrong type for an answer of `kind` ("text" or "list")."""
    not_text = st.one_of(st.integers(), st.booleans(), st.lists(_scalars, max_size=3),
                         st.dictionaries(_text, _scalars, max_size=2))
    not_list = st.one_of(st.integers(), st.booleans(), _text,
                         st.lists(st.one_of(st.integers(), st.booleans()), min_size=1, max_size=3))
    return not_text if kind == "text" else not_list


@st.composite
def bad_answers(draw: st.DrawFn) -> dict[str, Any]:
    """An [answers] table with random values and at least one wrong-typed known answer."""
    table: dict[str, Any] = draw(st.dictionaries(st.sampled_from(sorted(FIELDS)), _values, max_size=4))
    key = draw(st.sampled_from(sorted(FIELDS)))
    table[key] = draw(_wrong_for(FIELDS[key]))
    return table


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            data = path.read_bytes() if path.is_file() else b""
            out[str(path.relative_to(root))] = (hashlib.sha256(data).digest(), path.lstat().st_mode)
    return out


def _run(argv: list[str], target: Path) -> None:
    target.mkdir(exist_ok=True)
    (target / "keep.txt").write_text("the user's file\n")
    before = _tree(target)
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(argv)
    text = err.getvalue()
    assert "internal error" not in text and "Traceback" not in text, text
    assert code in (1, 2), (code, text, out.getvalue())
    assert text.startswith("uvtorch: error: "), text
    assert _tree(target) == before


def _toml(doc: dict[str, Any]) -> str:
    return tomlkit.dumps(doc)


@SETTINGS
@given(answers=bad_answers(), schema=st.one_of(st.just(1), _scalars))
def test_fuzzed_answers_files(answers: dict[str, Any], schema: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "answers.toml"
        path.write_text(_toml({"schema_version": schema, "answers": answers}), encoding="utf-8")
        _run(["init", str(Path(tmp) / "app"), "--yes", "--answers", str(path)], Path(tmp) / "app")


@SETTINGS
@given(
    answers=st.one_of(bad_answers(), _scalars),
    extra=st.dictionaries(st.sampled_from(["description", "ask", "dependency-groups", "hooks",
                                           "_tasks"]), _values, max_size=2),
)
def test_fuzzed_template_presets(answers: Any, extra: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "tpl"
        (root / "files").mkdir(parents=True)
        (root / "uvtorch-template.toml").write_text(_toml({**extra, "answers": answers}),
                                                    encoding="utf-8")
        _run(["init", str(Path(tmp) / "app"), "--yes", "--template", str(root)], Path(tmp) / "app")


_name_parts = st.sampled_from(["a", "b.txt", "{{ package }}", "{{ nope }}", "{{ '..' }}",
                               "{{ '/etc' }}", "{{ '\\x00' }}", "{%", "x.jinja", "-", "__init__.py"])
_contents = st.lists(
    st.one_of(_text, st.sampled_from([
        "{{ project }}", "{{ missing }}", "{% if %}", "{% include 'gone' %}", "{{ ''.__class__ }}",
        "{% for x in extras %}{{ x.name }}{% endfor %}", "{#", "}}", "{{ 1/0 }}",
        "{{ range(10**9)|list }}", "\x00"])),
    max_size=4,
).map("".join)


@SETTINGS
@given(
    files=st.dictionaries(st.lists(_name_parts, min_size=1, max_size=3).map("/".join),
                          st.one_of(_contents, st.binary(max_size=8)), max_size=4),
)
def test_fuzzed_template_trees(files: dict[str, str | bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "tpl"
        (root / "files").mkdir(parents=True)
        (root / "uvtorch-template.toml").write_text('description = "fuzz"\n')
        # One file is always wrong, so every example must be refused.
        (root / "files" / "zz-undefined.txt").write_text("{{ certainly_undefined }}\n")
        for rel, data in files.items():
            path = root / "files" / rel
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(data, bytes):
                    path.write_bytes(data)
                else:
                    path.write_text(data, encoding="utf-8")
            except (OSError, ValueError):  # a name this file system refuses: not uvtorch's case
                continue
        _run(["init", str(Path(tmp) / "app"), "--yes", "--template", str(root)], Path(tmp) / "app")


_PROJECT: dict[str, Path] = {}


def _made_project(base: Path) -> Path:
    """One project made by init, copied per example (init once: it costs ~0.1 s)."""
    import shutil

    if "p" not in _PROJECT:
        import atexit

        home = tempfile.mkdtemp()
        atexit.register(shutil.rmtree, home, True)
        made = Path(home) / "p"
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["init", str(made), "--yes", "-a", "cpu"]) == 0
        _PROJECT["p"] = made
    target = base / "p"
    shutil.copytree(_PROJECT["p"], target)
    return target


@SETTINGS
@given(answers=st.one_of(bad_answers(), _scalars), schema=st.one_of(st.just(1), _scalars))
def test_fuzzed_uvtorch_toml_for_add(answers: Any, schema: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = _made_project(Path(tmp))
        (project / ".uvtorch.toml").write_text(
            _toml({"schema_version": schema, "answers": answers}), encoding="utf-8")
        _run(["add", str(project), "-a", "cu128"], project)


_tables = st.sampled_from([
    "project", "project.name", "project.optional-dependencies", "project.optional-dependencies.cpu",
    "project.requires-python", "project.dependencies", "tool", "tool.uv", "tool.uv.sources",
    "tool.uv.sources.torch", "tool.uv.index", "tool.uv.conflicts", "tool.uv.environments",
])


@SETTINGS
@given(key=_tables, value=st.one_of(st.integers(), st.booleans(), st.just("x"),
                                    st.lists(st.integers(), min_size=1, max_size=2)))
def test_fuzzed_pyproject_types_for_add(key: str, value: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = _made_project(Path(tmp))
        (project / ".uvtorch.toml").unlink()
        doc = tomlkit.parse((project / "pyproject.toml").read_text())
        *parents, last = key.split(".")
        node: Any = doc
        for part in parents:
            node = node[part]
        if isinstance(value, str) and key in ("project.name", "project.requires-python"):
            value = 5  # a string is right there
        node[last] = value
        (project / "pyproject.toml").write_text(tomlkit.dumps(doc))
        _run(["add", str(project), "-a", "cu128"], project)
