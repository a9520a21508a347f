"""Template folders: paths are templates too, and nothing may escape the target."""

from __future__ import annotations

from pathlib import Path

import pytest

from uvtorch.errors import TemplateEscape
from uvtorch.templates import render_files


def make(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_paths_and_contents_are_rendered(tmp_path: Path) -> None:
    root = make(tmp_path, {"src/{{ package }}/train.py": "# {{ project }}\n", "plain.txt": "{x}"})
    out = render_files(root, {"package": "demo", "project": "Demo", "x": 1})
    assert out == {"plain.txt": "{x}", "src/demo/train.py": "# Demo\n"}


@pytest.mark.parametrize("path", ["{{ up }}/evil.py", "{{ absolute }}", "a/{{ up }}/{{ up }}/b"])
def test_a_path_that_leaves_the_target_is_refused(tmp_path: Path, path: str) -> None:
    root = make(tmp_path, {path: "x"})
    with pytest.raises(TemplateEscape) as raised:
        render_files(root, {"up": "..", "absolute": "/etc/passwd"})
    assert "outside the project folder" in str(raised.value)


def test_undefined_variable_is_an_error_not_an_empty_string(tmp_path: Path) -> None:
    from jinja2 import UndefinedError

    root = make(tmp_path, {"README.md": "{{ misspelt }}"})
    with pytest.raises(UndefinedError):
        render_files(root, {})


def test_templates_cannot_reach_python_internals(tmp_path: Path) -> None:
    from jinja2.exceptions import SecurityError

    root = make(tmp_path, {"x.txt": "{{ ''.__class__.__mro__[1].__subclasses__() }}"})
    with pytest.raises(SecurityError):
        render_files(root, {})


def test_rendering_works_without_a_writable_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    root = make(tmp_path / "t", {"a.txt": "{{ v }}"})
    assert render_files(root, {"v": "ok"}) == {"a.txt": "ok"}
