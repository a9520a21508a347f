"""Template folders: paths are templates too, and nothing may escape the target."""

from __future__ import annotations

from pathlib import Path

import pytest

from uvtorch.errors import TemplateEscape
from uvtorch.templates import BadTemplate, render_files


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
    root = make(tmp_path, {"README.md": "{{ misspelt }}"})
    with pytest.raises(BadTemplate, match="'misspelt' is undefined"):
        render_files(root, {})


def test_templates_cannot_reach_python_internals(tmp_path: Path) -> None:
    root = make(tmp_path, {"x.txt": "{{ ''.__class__.__mro__[1].__subclasses__() }}"})
    with pytest.raises(BadTemplate, match="an operation the sandbox forbids"):
        render_files(root, {})


def test_rendering_works_without_a_writable_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    root = make(tmp_path / "t", {"a.txt": "{{ v }}"})
    assert render_files(root, {"v": "ok"}) == {"a.txt": "ok"}


# --- template folders through the CLI -------------------------------------------------


from syrupy.assertion import SnapshotAssertion  # noqa: E402

from uvtorch.answers import Answers  # noqa: E402
from uvtorch.catalog import load  # noqa: E402
from uvtorch.cli import main  # noqa: E402
from uvtorch.init import build_project  # noqa: E402
from uvtorch.questions import QUESTION_IDS  # noqa: E402
from uvtorch.templates import builtin_names  # noqa: E402


@pytest.mark.parametrize("name", ["minimal", "training", "notebook"])
def test_builtin_template_files(name: str, snapshot: SnapshotAssertion) -> None:
    answers = Answers(name="demo", accelerators=("cpu", "cu128"), packages=("torchvision",),
                      torch=">=2.9,<2.10", template=name)
    assert build_project(answers, load(), QUESTION_IDS).files == snapshot


def test_builtin_templates_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--list-templates"]) == 0
    out = capsys.readouterr().out
    assert builtin_names() == ["minimal", "notebook", "training"]
    for name in builtin_names():
        assert name in out


def _template(root: Path, toml: str, files: dict[str, str]) -> Path:
    make(root, {"uvtorch-template.toml": toml, **{f"files/{k}": v for k, v in files.items()}})
    return root


def test_a_template_folder_presets_answers_and_adds_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = _template(
        tmp_path / "team",
        'description = "Our stack"\nask = ["name"]\n'
        '[answers]\naccelerators = ["cpu", "cu126"]\npackages = ["torchvision"]\n'
        '[dependency-groups]\ndev = ["pytest>=8"]\n',
        {"src/{{ package }}/model.py": "# model for {{ project }}\n"},
    )
    target = tmp_path / "proj"
    assert main(["init", str(target), "--yes", "--template", str(template)]) == 0
    capsys.readouterr()
    assert (target / "src/proj/model.py").read_text() == "# model for proj\n"
    pyproject = (target / "pyproject.toml").read_text()
    assert "cu126 = [" in pyproject and "torchvision" in pyproject
    assert '[dependency-groups]\ndev = [\n    "pytest>=8",\n]' in pyproject
    assert f'template = "{template.resolve()}"' in (target / ".uvtorch.toml").read_text()
    # Flags still override the template's presets.
    assert main(["init", str(tmp_path / "p2"), "--yes", "--template", str(template),
                 "-a", "cpu"]) == 0
    assert "cu126" not in (tmp_path / "p2" / "pyproject.toml").read_text()


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ("colour = 'red'\n", "unknown key(s) colour"),
        ("ask = ['favourite']\n", "unknown question(s) favourite"),
        ("[answers]\naccelerators = 'cpu'\n", "list of strings"),
        ("[dependency-groups]\ndev = ['pytest>>1']\n", "not a valid requirement"),
        ("not toml [", "Cannot read"),
    ],
)
def test_bad_template_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], toml: str, says: str
) -> None:
    template = _template(tmp_path / "t", toml, {"x.txt": "x"})
    assert main(["init", str(tmp_path / "p"), "--yes", "--template", str(template)]) == 1
    assert says in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_unknown_template_name_lists_the_builtin_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "p"), "--yes", "--template", "fancy"]) == 1
    err = capsys.readouterr().err
    assert "Unknown template 'fancy'" in err and "minimal, notebook, training" in err


def test_a_folder_without_template_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["init", str(tmp_path / "p"), "--yes", "--template", str(tmp_path / "empty")]) == 1
    assert "has no uvtorch-template.toml" in capsys.readouterr().err


def test_escaping_template_paths_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = _template(tmp_path / "t", "", {"{{ '..' }}/outside.txt": "x"})
    assert main(["init", str(tmp_path / "p"), "--yes", "--template", str(template)]) == 1
    assert "outside the project folder" in capsys.readouterr().err
    assert not (tmp_path / "p").exists() and not (tmp_path / "outside.txt").exists()


def test_symlinks_in_a_template_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = _template(tmp_path / "t", "", {"ok.txt": "x"})
    (template / "files" / "link").symlink_to(tmp_path)
    assert main(["init", str(tmp_path / "p"), "--yes", "--template", str(template)]) == 1
    assert "symbolic link" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_a_symlink_in_the_target_cannot_redirect_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = tmp_path / "p"
    target.mkdir()
    (target / "src").symlink_to(elsewhere)
    assert main(["init", str(target), "--yes"]) == 1
    assert "outside" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == [] and list(target.iterdir()) == [target / "src"]


# --- broken and hostile templates: one paragraph naming the file and line ---------------


def _broken_template(root: Path, files: dict[str, str | bytes], toml: str = 'description = "t"\n') -> Path:
    (root / "files").mkdir(parents=True)
    (root / "uvtorch-template.toml").write_text(toml)
    for rel, data in files.items():
        path = root / "files" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return root


@pytest.mark.parametrize(("files", "file", "says"), [
    ({"a.txt": "line 1\n{{ misspelt }}\n"}, "a.txt, line 2", "'misspelt' is undefined"),
    ({"a.txt": "ok\nok\n{% if %}\n"}, "a.txt, line 3", "a jinja2 syntax error"),
    ({"a.txt": "{% include 'gone.txt' %}"}, "a.txt, line 1", "include or import of 'gone.txt'"),
    ({"a.txt": "\n{{ ''.__class__.__mro__ }}"}, "a.txt, line 2", "the sandbox forbids"),
    ({"logo.png": b"\x89PNG\r\n\x1a\n\x00\xff"}, "logo.png", "is not UTF-8 text"),
    ({"{{ bad }}.txt": "x"}, "{{ bad }}.txt", "control character '\\x00'"),
    ({"{{ nope }}.txt": "x"}, "{{ nope }}.txt, line 1 (its file name)", "'nope' is undefined"),
])
def test_template_errors_are_one_paragraph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str | bytes],
    file: str, says: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from uvtorch import init

    context = init.template_context
    monkeypatch.setattr(init, "template_context", lambda plan: {**context(plan), "bad": "a\x00b"})
    root = _broken_template(tmp_path / "tpl", files)
    target = tmp_path / "app"
    assert main(["init", str(target), "--yes", "--template", str(root)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("uvtorch: error: ") and err.count("\n") == 1, err
    assert file in err and says in err
    assert "Traceback" not in err and not target.exists()


@pytest.mark.parametrize(("toml", "says"), [
    ('answers = "x"\n', "'answers' must be a table, not str 'x'"),
    ("answers = 5\n", "'answers' must be a table, not int 5"),
    ("[answers]\naccelerators = 5\n", "'accelerators' must be a list of strings"),
    ('ask = "name"\n', "'ask' names unknown question(s) name"),
    ("dependency-groups = 3\n", "'dependency-groups' must map group names"),
    ("description = [\n", "Cannot read"),
])
def test_a_broken_template_file_is_one_paragraph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], toml: str, says: str
) -> None:
    root = _broken_template(tmp_path / "tpl", {}, toml)
    assert main(["init", str(tmp_path / "app"), "--yes", "--template", str(root)]) in (1, 2)
    err = capsys.readouterr().err
    assert "uvtorch-template.toml" in err and says in err and err.count("\n") == 1, err


def test_a_symlinked_files_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "id_rsa").write_text("PRIVATE")
    root = tmp_path / "tpl"
    root.mkdir()
    (root / "uvtorch-template.toml").write_text('description = "t"\n')
    (root / "files").symlink_to(secret)
    target = tmp_path / "app"
    assert main(["init", str(target), "--yes", "--template", str(root)]) == 1
    err = capsys.readouterr().err
    assert "files is a symbolic link" in err and not target.exists()


def test_a_symlinked_template_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text('description = "t"\n')
    root = tmp_path / "tpl"
    (root / "files").mkdir(parents=True)
    (root / "uvtorch-template.toml").symlink_to(elsewhere)
    assert main(["init", str(tmp_path / "app"), "--yes", "--template", str(root)]) == 1
    assert "uvtorch-template.toml is a symbolic link" in capsys.readouterr().err


def test_a_fifo_in_a_template_is_refused_not_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import os

    root = _broken_template(tmp_path / "tpl", {})
    os.mkfifo(root / "files" / "pipe")
    assert main(["init", str(tmp_path / "app"), "--yes", "--template", str(root)]) == 1
    assert "is not a regular file" in capsys.readouterr().err


@pytest.mark.parametrize("mode", [0o777, 0o770])
def test_a_bytecode_cache_others_can_write_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    from uvtorch.templates import _bytecode_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "uvtorch" / "jinja2"
    folder.mkdir(parents=True)
    folder.chmod(mode)
    assert _bytecode_cache() is None
    folder.chmod(0o700)
    assert _bytecode_cache() is not None


def test_a_symlinked_bytecode_cache_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from uvtorch.templates import _bytecode_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    planted = tmp_path / "planted"
    planted.mkdir(mode=0o700)
    (tmp_path / "uvtorch").mkdir()
    (tmp_path / "uvtorch" / "jinja2").symlink_to(planted)
    assert _bytecode_cache() is None


def test_a_bytecode_cache_owned_by_someone_else_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from uvtorch.templates import _bytecode_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    (tmp_path / "uvtorch" / "jinja2").mkdir(parents=True, mode=0o700)
    monkeypatch.setattr(os, "getuid", lambda: 12345)
    assert _bytecode_cache() is None
