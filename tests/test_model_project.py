"""The validating reader: wrong types anywhere become Problems naming the key, never tracebacks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uvtorch.catalog import load
from uvtorch.model import load_model
from uvtorch.model.project import UnreadableProject, project_from_data, read_project
from uvtorch.model.routing import predict

OK = {"project": {"name": "demo", "version": "0.1.0", "dependencies": ["torch>=2.8"]}}


def with_(path: str, value: object) -> dict[str, object]:
    """OK with `path` (dotted) set to `value`."""
    data: dict[str, object] = {"project": dict(OK["project"])}
    keys = path.split(".")
    node: dict[str, object] = data
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[keys[-1]] = value
    return data


WRONG = [
    ("project", "x", "project"),
    ("project.name", 5, "project.name"),
    ("project.name", "demo\n", "project.name"),
    ("project.dependencies", "torch", "project.dependencies"),
    ("project.dependencies", [5], "project.dependencies[0]"),
    ("project.dependencies", ["torch>=>2"], "project.dependencies[0]"),
    ("project.optional-dependencies", 5, "project.optional-dependencies"),
    ("project.optional-dependencies", {"cpu": "torch"}, "project.optional-dependencies.cpu"),
    ("project.optional-dependencies", {"cpu": [1]}, "project.optional-dependencies.cpu[0]"),
    ("project.requires-python", 3.10, "project.requires-python"),
    ("project.requires-python", "3.10+", "project.requires-python"),
    ("dependency-groups", [], "dependency-groups"),
    ("dependency-groups", {"dev": "pytest"}, "dependency-groups.dev"),
    ("dependency-groups", {"dev": [{"include-group": "nope"}]}, "dependency-groups.dev[0]"),
    ("dependency-groups", {"dev": [{"x": 1}]}, "dependency-groups.dev[0]"),
    ("tool", "x", "tool"),
    ("tool.uv", [], "tool.uv"),
    ("tool.uv.sources", 5, "tool.uv.sources"),
    ("tool.uv.sources", {"torch": 5}, "tool.uv.sources.torch"),
    ("tool.uv.sources", {"torch": [5]}, "tool.uv.sources.torch[0]"),
    ("tool.uv.sources", {"torch": {"index": 5}}, "tool.uv.sources.torch.index"),
    ("tool.uv.sources", {"torch": {"extra": "cpu"}}, "tool.uv.sources.torch"),
    ("tool.uv.sources", {"torch": {"index": "nope"}}, "tool.uv.sources.torch"),
    ("tool.uv.sources", {"torch": {"index": "a", "marker": 5}}, "tool.uv.sources.torch"),
    ("tool.uv.sources", {"torch": {"index": "a", "marker": "linux"}}, "tool.uv.sources.torch"),
    ("tool.uv.index", 5, "tool.uv.index"),
    ("tool.uv.index", [5], "tool.uv.index[0]"),
    ("tool.uv.index", [{"name": "a"}], "tool.uv.index[0].url"),
    ("tool.uv.index", [{"name": "a", "url": "x", "explicit": "yes"}], "tool.uv.index[0].explicit"),
    ("tool.uv.index", [{"name": "a", "url": "https://x/ y"}], "tool.uv.index[0].url"),
    ("tool.uv.conflicts", [1, 2], "tool.uv.conflicts[0]"),
    ("tool.uv.conflicts", 5, "tool.uv.conflicts"),
    ("tool.uv.conflicts", [[{"extra": 5}]], "tool.uv.conflicts[0][0]"),
    ("tool.uv.environments", 5, "tool.uv.environments"),
    ("tool.uv.environments", ["linux"], "tool.uv.environments[0]"),
    ("tool.uv.required-environments", {"a": 1}, "tool.uv.required-environments"),
    ("tool.uv.default-groups", 5, "tool.uv.default-groups"),
    ("tool.uv.index-strategy", "fastest", "tool.uv.index-strategy"),
    ("tool.uv.prerelease", True, "tool.uv.prerelease"),
    ("tool.uv.no-build-isolation-package", "flash-attn", "tool.uv.no-build-isolation-package"),
    ("tool.uv.extra-build-dependencies", {"flash-attn": "torch"},
     "tool.uv.extra-build-dependencies.flash-attn"),
    ("tool.uv.extra-build-variables", {"flash-attn": ["X=1"]},
     "tool.uv.extra-build-variables.flash-attn"),
    ("tool.uv.dependency-metadata", {"name": "x"}, "tool.uv.dependency-metadata"),
    ("tool.uv.override-dependencies", [1], "tool.uv.override-dependencies[0]"),
    ("tool.uv.find-links", "https://x", "tool.uv.find-links"),
    ("build-system.requires", "hatchling", "build-system.requires"),
]


@pytest.mark.parametrize(("path", "value", "table"), WRONG, ids=[f"{p}={v!r}" for p, v, _ in WRONG])
def test_a_wrong_type_is_a_problem_naming_its_key(path: str, value: object, table: str) -> None:
    project = project_from_data(Path("."), with_(path, value))
    tables = [p.table for p in project.problems]
    assert any(t.startswith(table) for t in tables), tables
    problem = next(p for p in project.problems if p.table.startswith(table))
    assert problem.message and problem.hint
    predict(project, load())  # and the routing table is still computed


def test_cpu_equals_a_string_is_not_read_as_five_requirements() -> None:
    project = project_from_data(Path("."), with_("project.optional-dependencies", {"cpu": "torch"}))
    assert project.optional["cpu"] == ()
    assert [p.table for p in project.problems] == ["project.optional-dependencies.cpu"]


def test_the_guide_has_no_problem() -> None:
    from test_model_uv import PROJECTS

    data = tomlkit.parse(PROJECTS["guide"]).unwrap()
    assert project_from_data(Path("."), data).problems == ()


def test_an_empty_file_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    assert [p.table for p in read_project(tmp_path).problems] == ["(file)"]


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pyproject.toml")
    with pytest.raises(UnreadableProject, match="not a regular file"):
        read_project(tmp_path)


@pytest.mark.parametrize("text", ["[project", "\xff\xfe", "a = 1\na = 2\n"])
def test_a_file_that_is_not_toml_is_unreadable(tmp_path: Path, text: str) -> None:
    (tmp_path / "pyproject.toml").write_bytes(text.encode("latin-1"))
    with pytest.raises(UnreadableProject) as err:
        read_project(tmp_path)
    assert err.value.exit_code == 2


@pytest.mark.parametrize("lock", [
    'package = "x"', "package = [1, 2]", '[[package]]\nname = 5',
    '[[package]]\nname = "demo"\ndependencies = "torch"',
    '[[package]]\nname = "demo"\ndependencies = [{ name = 5 }]',
    '[[package]]\nname = "demo"\noptional-dependencies = 5\nwheels = "x"',
])
def test_a_malformed_lock_is_a_problem(tmp_path: Path, lock: str) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n')
    (tmp_path / "uv.lock").write_text(lock + "\n")
    model = load_model(tmp_path, load())
    assert model.project.lock_problems or model.project.lock is not None


def test_a_fifo_lock_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n')
    os.mkfifo(tmp_path / "uv.lock")
    with pytest.raises(UnreadableProject):
        read_project(tmp_path)


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["index", "extra", "group", "marker", "url", "name",
                                       "explicit", "cpu", "torch", "package"]), children,
                      max_size=3),
    max_leaves=8,
).filter(lambda v: v is not None)

_KEYS = sorted({p for p, _, _ in WRONG})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_KEYS), _values)
def test_random_wrong_values_never_raise(path: str, value: object) -> None:
    project = project_from_data(Path("."), with_(path, value))
    predict(project, load())


# --- through the CLI: exit 1 or 2, one message naming the key, never a traceback ---------------


@pytest.mark.parametrize(("path", "value", "table"), WRONG, ids=[f"{p}={v!r}" for p, v, _ in WRONG])
def test_check_reports_a_wrong_type_by_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str, value: object, table: str
) -> None:
    from uvtorch.cli import main

    (tmp_path / "pyproject.toml").write_text(tomlkit.dumps(with_(path, value)))
    code = main(["check", str(tmp_path)])
    out = capsys.readouterr()
    assert code in (1, 2)
    assert "Traceback" not in out.out + out.err
    assert table.split("[")[0] in out.out + out.err


@pytest.mark.parametrize(("setup", "code"), [
    ("fifo", 2), ("empty", 1), ("lock-package-string", 1), ("lock-fifo", 2), ("not-toml", 2),
])
def test_check_on_unreadable_or_empty_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str, code: int
) -> None:
    from uvtorch.cli import main

    pyproject = tmp_path / "pyproject.toml"
    if setup == "fifo":
        os.mkfifo(pyproject)
    else:
        pyproject.write_text({"empty": "", "not-toml": "[project"}.get(
            setup, '[project]\nname = "demo"\nversion = "0"\n'))
    if setup == "lock-package-string":
        (tmp_path / "uv.lock").write_text('version = 1\npackage = "x"\n')
    if setup == "lock-fifo":
        os.mkfifo(tmp_path / "uv.lock")
    assert main(["check", str(tmp_path)]) == code
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.sampled_from(_KEYS), _values)
def test_check_never_shows_a_traceback_on_random_wrong_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str, value: object
) -> None:
    from uvtorch.cli import main

    try:
        text = tomlkit.dumps(with_(path, value))
    except Exception:  # noqa: BLE001 - a value TOML cannot hold (a float key...): not a case
        return
    (tmp_path / "pyproject.toml").write_text(text)
    code = main(["check", str(tmp_path)])
    out = capsys.readouterr()
    assert code in (0, 1, 2) and "Traceback" not in out.out + out.err


@pytest.mark.parametrize(("path", "value"), [
    ("tool.uv.conflicts", 5), ("tool.uv.conflicts", [1, 2]), ("tool.uv.index", 5),
    ("tool.uv.sources", 5), ("project.optional-dependencies", {"cpu": "torch"}),
])
def test_check_fix_on_wrong_types_writes_nothing_and_does_not_raise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str, value: object
) -> None:
    from test_model_uv import PROJECTS

    from uvtorch.cli import main

    data = tomlkit.parse(PROJECTS["guide"].replace("{cpu}", "https://download.pytorch.org/whl/cpu")
                         .replace("{cu128}", "https://download.pytorch.org/whl/cu128")).unwrap()
    node = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    text = tomlkit.dumps(data)
    (tmp_path / "pyproject.toml").write_text(text)
    assert main(["check", str(tmp_path), "--fix"]) in (1, 2)
    assert (tmp_path / "pyproject.toml").read_text() == text
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
