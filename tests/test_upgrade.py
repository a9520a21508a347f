"""`uvtorch upgrade`: only what uvtorch manages changes, hand edits are kept and reported."""

from __future__ import annotations

import json

from pathlib import Path

import pytest

from fakeindex import FakeIndex, installed_packages, run_uv

from uvtorch.cli import main

HAND_2_8 = """\
# Our project, formatted by hand.
[project]
name = "hand"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["numpy"]   # no torch here!

[project.optional-dependencies]
cpu = [
  "torch>=2.8,<2.9",  # CPU build
  "torchvision>=0.23.0,<0.24",
]
cu128 = [
  "torch>=2.8,<2.9",
  "torchvision>=0.23.0,<0.24",
  "pandas",  # only on the GPU box
]
dev = ["pytest"]

[dependency-groups]
lint = ["ruff>=0.6"]

[tool.uv]
conflicts = [
  [
    { extra = "cpu" },
    { extra = "cu128" },
  ],
]

[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "cpu" },
  # the GPU build only where the cu128 index has wheels
  { index = "pytorch-cu128", extra = "cu128", marker = "(sys_platform == 'linux' and platform_machine == 'x86_64') or sys_platform == 'win32'" },
]
torchvision = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu128", extra = "cu128", marker = "(sys_platform == 'linux' and platform_machine == 'x86_64') or sys_platform == 'win32'" },
]

[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu128"
url = "https://download.pytorch.org/whl/cu128"
explicit = true

[tool.ruff]
line-length = 100
"""

# torch 2.9's cu128 index has linux-aarch64 wheels too: the markers widen.
HAND_2_9 = """\
# Our project, formatted by hand.
[project]
name = "hand"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["numpy"]   # no torch here!

[project.optional-dependencies]
cpu = [
  "torch>=2.9,<2.10",  # CPU build
  "torchvision>=0.24.0,<0.25",
]
cu128 = [
  "torch>=2.9,<2.10",
  "torchvision>=0.24.0,<0.25",
  "pandas",  # only on the GPU box
]
dev = ["pytest"]

[dependency-groups]
lint = ["ruff>=0.6"]

[tool.uv]
conflicts = [
  [
    { extra = "cpu" },
    { extra = "cu128" },
  ],
]

[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "cpu" },
  # the GPU build only where the cu128 index has wheels
  { index = "pytorch-cu128", extra = "cu128", marker = "sys_platform == 'linux' or sys_platform == 'win32'" },
]
torchvision = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu128", extra = "cu128", marker = "sys_platform == 'linux' or sys_platform == 'win32'" },
]

[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu128"
url = "https://download.pytorch.org/whl/cu128"
explicit = true

[tool.ruff]
line-length = 100
"""

HAND_2_11 = """\
# Our project, formatted by hand.
[project]
name = "hand"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["numpy"]   # no torch here!

[project.optional-dependencies]
cpu = [
  "torch>=2.11,<2.12",  # CPU build
  "torchvision>=0.26.0,<0.27",
]
cu128 = [
  "torch>=2.11,<2.12",
  "torchvision>=0.26.0,<0.27",
  "pandas",  # only on the GPU box
]
all = [
  "hand[cu128]",
]
dev = ["pytest"]

[dependency-groups]
lint = ["ruff>=0.6"]
gpu = ["hand[cu128,dev]"]

[tool.uv]
conflicts = [
  [
    { extra = "cpu" },
    { extra = "cu128" },
  ],
]

[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu128", extra = "cu128", marker = "sys_platform != 'darwin'" },
]
torchvision = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu128", extra = "cu128", marker = "sys_platform != 'darwin'" },
]

[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu128"
url = "https://download.pytorch.org/whl/cu128"
explicit = true

[tool.ruff]
line-length = 100
"""

# The hand-written marker stays: cu128 on 2.11 and cu130 on 2.14 have the same platforms.
HAND_2_14_CU130 = """\
# Our project, formatted by hand.
[project]
name = "hand"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["numpy"]   # no torch here!

[project.optional-dependencies]
cpu = [
  "torch>=2.14,<2.15",  # CPU build
  "torchvision>=0.29.0,<0.30",
]
cu130 = [
  "torch>=2.14,<2.15",
  "torchvision>=0.29.0,<0.30",
  "pandas",  # only on the GPU box
]
all = [
  "hand[cu130]",
]
dev = ["pytest"]

[dependency-groups]
lint = ["ruff>=0.6"]
gpu = ["hand[cu130,dev]"]

[tool.uv]
conflicts = [
  [
    { extra = "cpu" },
    { extra = "cu130" },
  ],
]

[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu130", extra = "cu130", marker = "sys_platform != 'darwin'" },
]
torchvision = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu130", extra = "cu130", marker = "sys_platform != 'darwin'" },
]

[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu130"
url = "https://download.pytorch.org/whl/cu130"
explicit = true

[tool.ruff]
line-length = 100
"""


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(text)
    return folder


def _init(folder: Path, *flags: str) -> Path:
    assert main(["init", str(folder), "--yes", *flags]) == 0
    return folder


def _text(folder: Path, name: str = "pyproject.toml") -> str:
    return (folder / name).read_text()


def test_a_hand_formatted_project_moves_from_2_8_to_2_9_on_its_torch_lines_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _write(tmp_path / "hand", HAND_2_8)
    assert main(["upgrade", str(project), "--torch", ">=2.9,<2.10", "--no-lock"]) == 0
    assert _text(project) == HAND_2_9
    out = capsys.readouterr().out
    assert '\n-  "torch>=2.8,<2.9",  # CPU build\n' in out
    assert '\n+  "torch>=2.9,<2.10",  # CPU build\n' in out
    assert "kept your edit" not in out  # the user's comment above the source is no edit of ours
    assert not (project / ".uvtorch.toml").exists()  # a hand-written project stays one
    assert main(["check", str(project)]) == 0


def test_2_14_has_no_cu128_so_upgrade_refuses_then_replace_renames_it_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _write(tmp_path / "hand", HAND_2_11)
    assert main(["upgrade", str(project), "--torch", ">=2.14,<2.15", "--no-lock"]) == 1
    err = capsys.readouterr().err
    assert "torch 2.14 has no cu128 build" in err
    assert "torch 2.11 is the newest release that keeps it (--torch '>=2.11,<2.12')" in err
    assert "--replace cu128=cu130 or --drop cu128" in err
    assert _text(project) == HAND_2_11

    def errors() -> set[tuple[str, str | None]]:
        capsys.readouterr()
        main(["check", str(project), "--output-format", "json"])
        found = json.loads(capsys.readouterr().out)["findings"]
        return {(f["name"], f["place"].get("install")) for f in found if f["severity"] == "error"}

    # The fixture's `all = ["hand[cu128]"]` alias is itself a mistake uv proves (an alias
    # extra gets PyPI's torch: tests/test_model_uv.py, project `alias`). The upgrade renames
    # it and adds no error of its own.
    assert errors() == {("extra-alias-not-routed", "extra:all")}
    assert main(["upgrade", str(project), "--torch", ">=2.14,<2.15", "--replace", "cu128=cu130",
                 "--no-lock"]) == 1
    assert _text(project) == HAND_2_14_CU130
    assert errors() == {("extra-alias-not-routed", "extra:all")}


def test_the_default_is_the_newest_release_with_every_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _write(tmp_path / "hand", HAND_2_8)
    assert main(["upgrade", str(project), "--no-lock"]) == 0
    out = capsys.readouterr().out
    # 2.12 dropped cu128 (catalog.toml): 2.11 is the newest that keeps it.
    assert '"torch>=2.11,<2.12",  # CPU build' in _text(project)
    assert ("torch 2.15 is newer but has no cu128 build: uvtorch upgrade --torch '>=2.15,<2.16' "
            "--replace cu128=cu132 moves to it.") in out
    assert main(["upgrade", str(project), "--no-lock"]) == 0
    assert "Nothing to change" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "before", "after", "changes"),
    [
        (["-a", "cpu", "-a", "cu128", "--package", "torchvision"], "2.8", "2.9", []),
        # flash-attn's pin gets linux-aarch64 once 2.9's cu128 index has it.
        (["-a", "cpu", "-a", "cu128", "-k", "flash-attn"], "2.8", "2.9", []),
        # 2.10 renamed the ROCm and XPU tritons (pytorch/pytorch#169888) and has no rocm6.4.
        (["-a", "cpu", "-a", "rocm6.4", "-a", "xpu", "--package", "torchvision"], "2.9", "2.10",
         ["--replace", "rocm6.4=rocm7.0"]),
        (["-a", "cpu", "-a", "system", "--system-torch", "2.5.0a0+872d972e41.nv24.08",
          "--package", "torchvision", "--package", "ultralytics"], "2.8", "2.9", []),
    ],
    ids=["companions", "kernel", "rocm-xpu-tritons", "system-extra"],
)
def test_an_upgraded_uvtorch_project_is_the_project_init_makes(
    tmp_path: Path, flags: list[str], before: str, after: str, changes: list[str]
) -> None:
    def spec(minor: str) -> str:
        major, number = minor.split(".")
        return f">={minor},<{major}.{int(number) + 1}"

    old = _init(tmp_path / "old" / "p", *flags, "--torch", spec(before))
    renamed = [changes[1].split("=")[1] if f == changes[1].split("=")[0] else f
               for f in flags] if changes else flags
    fresh = _init(tmp_path / "fresh" / "p", *renamed, "--torch", spec(after))
    assert main(["upgrade", str(old), "--torch", spec(after), *changes, "--no-lock"]) == 0
    assert _text(old) == _text(fresh)
    assert _text(old, ".uvtorch.toml") == _text(fresh, ".uvtorch.toml")


@pytest.mark.parametrize("after", ["", "\n[tool.ruff]\nline-length = 100\n"],
                         ids=["at-the-end", "before-another-table"])
def test_the_2_6_cu126_override_goes_past_2_6_and_comes_back(tmp_path: Path, after: str) -> None:
    def made(name: str, torch: str) -> Path:
        project = _init(tmp_path / name / "p", "-a", "cu126", "--torch", torch)
        (project / "pyproject.toml").write_text(_text(project) + after)
        return project

    old = made("old", ">=2.6,<2.7")
    assert 'version = "2.6.0+cu126"' in _text(old)
    fresh = made("fresh", ">=2.7,<2.8")
    assert main(["upgrade", str(old), "--torch", ">=2.7,<2.8", "--no-lock"]) == 0
    assert "dependency-metadata" not in _text(old)
    assert _text(old) == _text(fresh)
    again = made("again", ">=2.6,<2.7")
    assert main(["upgrade", str(old), "--torch", ">=2.6,<2.7", "--no-lock"]) == 0
    assert _text(old) == _text(again)


def test_a_hand_edit_is_kept_and_reported_and_force_overwrites_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ["-a", "cpu", "-a", "cu128", "--package", "torchvision"]
    project = _init(tmp_path / "p", *flags, "--torch", ">=2.8,<2.9")
    fresh = _init(tmp_path / "fresh" / "p", *flags, "--torch", ">=2.9,<2.10")
    made, answers = _text(project), _text(project, ".uvtorch.toml")
    edited = made.replace('cu128 = [\n    "torch>=2.8,<2.9",', 'cu128 = [\n    "torch==2.8.0",')
    assert edited != made
    (project / "pyproject.toml").write_text(edited)
    capsys.readouterr()
    assert main(["upgrade", str(project), "--torch", ">=2.9,<2.10", "--no-lock"]) == 0
    out = capsys.readouterr().out
    assert ('kept your edit: project.optional-dependencies.cu128 torch: "torch==2.8.0" '
            '(uvtorch would write "torch>=2.9,<2.10")') in out.splitlines()
    assert out.count("kept your edit") == 1
    text = _text(project)
    assert 'cu128 = [\n    "torch==2.8.0",\n    "torchvision>=0.24.0,<0.25",' in text
    assert text.replace('"torch==2.8.0"', '"torch>=2.9,<2.10"') == _text(fresh)
    assert not list(project.glob("*.rej"))
    (project / "pyproject.toml").write_text(edited)
    (project / ".uvtorch.toml").write_text(answers)  # back to 2.8, the edit in place
    assert main(["upgrade", str(project), "--torch", ">=2.9,<2.10", "--force", "--no-lock"]) == 0
    assert "overwrote your edit: project.optional-dependencies.cu128 torch" in capsys.readouterr().out
    assert _text(project) == _text(fresh)


def test_dry_run_prints_the_diff_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _init(tmp_path / "p", "-a", "cpu", "--torch", ">=2.8,<2.9")
    before, answers = _text(project), _text(project, ".uvtorch.toml")
    capsys.readouterr()
    assert main(["upgrade", str(project), "--torch", ">=2.9,<2.10", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert '\n-    "torch>=2.8,<2.9",\n+    "torch>=2.9,<2.10",\n' in out
    assert "Dry run: nothing was written." in out
    assert _text(project) == before and _text(project, ".uvtorch.toml") == answers
    assert not (project / "uv.lock").exists()


def test_drop_removes_the_extra_its_sources_and_its_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ["--package", "torchvision", "--torch", ">=2.9,<2.10"]
    project = _init(tmp_path / "p" / "p", "-a", "cpu", "-a", "cu126", "-a", "cu128", *flags)
    fresh = _init(tmp_path / "fresh" / "p", "-a", "cpu", "-a", "cu128", *flags)
    capsys.readouterr()
    assert main(["upgrade", str(project), "--drop", "cu126", "--no-lock"]) == 0
    assert "upgraded: torch>=2.9,<2.10 (cpu, cu128); wrote" in capsys.readouterr().out
    assert _text(project) == _text(fresh)
    assert _text(project, ".uvtorch.toml") == _text(fresh, ".uvtorch.toml")


def test_replace_alone_keeps_the_torch_release(tmp_path: Path) -> None:
    flags = ["--package", "torchvision", "--torch", ">=2.9,<2.10"]
    project = _init(tmp_path / "p" / "p", "-a", "cpu", "-a", "cu126", *flags)
    fresh = _init(tmp_path / "fresh" / "p", "-a", "cpu", "-a", "cu130", *flags)
    assert main(["upgrade", str(project), "--replace", "cu126=cu130", "--no-lock"]) == 0
    assert _text(project) == _text(fresh)


def test_dropping_an_extra_that_others_refer_to_is_refused_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _write(tmp_path / "hand", HAND_2_11)
    assert main(["upgrade", str(project), "--drop", "cu128", "--no-lock"]) == 1
    err = capsys.readouterr().err
    assert "project.optional-dependencies.all" in err and "dependency-groups.gpu" in err
    assert "--replace cu128=NEW" in err
    assert _text(project) == HAND_2_11


def test_an_extra_tested_in_a_marker_is_not_renamed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = HAND_2_11.replace('lint = ["ruff>=0.6"]', """lint = ["ruff>=0.6", "cupy; extra == 'cu128'"]""")
    project = _write(tmp_path / "hand", text)
    assert main(["upgrade", str(project), "--replace", "cu128=cu130", "--torch", ">=2.14,<2.15",
                 "--no-lock"]) == 1
    assert "does not rewrite markers" in capsys.readouterr().err
    assert _text(project) == text


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--replace", "cu118=cu130"], "has no cu118 build"),
        (["--replace", "cu128"], "is not OLD=NEW"),
        (["--drop", "xpu"], "has no xpu build"),
        (["--replace", "cu128=cpu"], "already has cpu"),
    ],
)
def test_bad_build_changes_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    project = _write(tmp_path / "hand", HAND_2_8)
    assert main(["upgrade", str(project), *flags, "--no-lock"]) == 2
    assert message in capsys.readouterr().err
    assert _text(project) == HAND_2_8


def test_a_replacement_the_release_lacks_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _write(tmp_path / "hand", HAND_2_8)
    assert main(["upgrade", str(project), "--replace", "cu128=cu130", "--no-lock"]) == 1
    assert "torch 2.8 has no cu130 build: cu130 exists for torch 2.9 to 2.14" in capsys.readouterr().err


def test_without_uv_on_path_the_lock_is_left_to_the_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _write(tmp_path / "hand", HAND_2_8)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["upgrade", str(project), "--torch", ">=2.9,<2.10"]) == 0
    assert "uv is not on PATH: run `uv lock`" in capsys.readouterr().out
    assert _text(project) == HAND_2_9


def _uv_for_upgrade(monkeypatch: pytest.MonkeyPatch, uv_env: dict[str, str]) -> None:
    """Let the `uv lock` that upgrade runs see only the fake index (and find the pinned uv)."""
    import os

    from fakeindex import find_uv_bin

    for key in set(os.environ) - set(uv_env):
        monkeypatch.delenv(key)
    for key, value in uv_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PATH", f"{Path(find_uv_bin()).parent}{os.pathsep}{uv_env.get('PATH', '')}")


@pytest.mark.e2e
def test_an_upgraded_project_locks_and_syncs_the_new_torch(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = _init(tmp_path / "p", "--index-url", fake_index.pytorch_base, "-a", "cpu",
                    "-a", "cu128", "--package", "torchvision", "--torch", ">=2.8,<2.9")
    run_uv(["lock"], cwd=project, env=uv_env)
    run_uv(["sync", "--extra", "cu128"], cwd=project, env=uv_env)
    assert installed_packages(project, uv_env)["torch"] == "2.8.0+cu128"
    _uv_for_upgrade(monkeypatch, uv_env)
    capsys.readouterr()
    assert main(["upgrade", str(project), "--torch", ">=2.9,<2.10"]) == 0
    assert "uv lock: the lock follows the new torch." in capsys.readouterr().out
    assert "2.9.1+cu128" in _text(project, "uv.lock")
    run_uv(["sync", "--locked", "--extra", "cu128"], cwd=project, env=uv_env)
    installed = installed_packages(project, uv_env)
    assert installed["torch"] == "2.9.1+cu128" and installed["torchvision"] == "0.24.1+cu128"
    assert main(["check", str(project)]) == 0


@pytest.mark.e2e
def test_a_failed_lock_is_reported_with_uvs_message(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = _init(tmp_path / "p", "--index-url", fake_index.pytorch_base, "-a", "cpu",
                    "--torch", ">=2.9,<2.10")
    _uv_for_upgrade(monkeypatch, uv_env)
    capsys.readouterr()
    # The fake index serves no torch 2.13: uv cannot lock it.
    assert main(["upgrade", str(project), "--torch", ">=2.13,<2.14"]) == 1
    captured = capsys.readouterr()
    assert "`uv lock` failed:" in captured.err and "torch" in captured.err
    assert "No solution found" in captured.err
    assert "pyproject.toml was written" in captured.err
    assert '"torch>=2.13,<2.14"' in _text(project)


def test_an_index_the_user_named_keeps_its_name_and_gets_the_new_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _write(tmp_path / "hand", HAND_2_11.replace("pytorch-cu128", "gpu-index"))
    # exit 1: the fixture's own `all` alias extra, which check reports (see the test above)
    assert main(["upgrade", str(project), "--torch", ">=2.14,<2.15", "--replace", "cu128=cu130",
                 "--no-lock"]) == 1
    assert "UT008 extra-alias-not-routed: the extra all" in capsys.readouterr().out
    expected = HAND_2_14_CU130.replace("pytorch-cu130", "gpu-index")
    assert _text(project) == expected


def test_a_requires_python_the_new_release_cannot_satisfy_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _write(tmp_path / "hand", HAND_2_8)
    # torch 2.15 has wheels for Python 3.11 to 3.15 only (catalog.toml); the cpu build is there.
    assert main(["upgrade", str(project), "--torch", ">=2.15,<2.16", "--drop", "cu128",
                 "--no-lock"]) == 1
    err = capsys.readouterr().err
    assert "requires-python '>=3.10' admits Python 3.10" in err and "'>=3.11'" in err
    assert _text(project) == HAND_2_8


def test_help_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["upgrade", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "--replace cu128=cu130" in out and "--no-lock" in out


def test_the_generated_readme_follows_a_replace_and_an_edited_one_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After --replace cu128=cu130 the README's commands name cu130, as init's would; a README
    the user edited is left alone, with a note."""
    flags = ("-a", "cpu", "-a", "cu128", "--template", "training")
    old = _init(tmp_path / "old" / "p", *flags, "--torch", ">=2.11,<2.12")
    fresh = _init(tmp_path / "fresh" / "p", "-a", "cpu", "-a", "cu130", "--template", "training",
                  "--torch", ">=2.14,<2.15")
    assert "| `cu128` | cu128 |" in _text(old, "README.md")
    capsys.readouterr()
    assert main(["upgrade", str(old), "--torch", ">=2.14,<2.15", "--replace", "cu128=cu130",
                 "--no-lock"]) == 0
    out = capsys.readouterr().out
    assert "wrote pyproject.toml, .uvtorch.toml, README.md" in out
    assert _text(old, "README.md") == _text(fresh, "README.md")
    assert "cu128" not in _text(old, "README.md")

    edited = _init(tmp_path / "edited" / "p", *flags, "--torch", ">=2.11,<2.12")
    mine = _text(edited, "README.md") + "\nOur cluster: use `uv sync --extra cu128`.\n"
    (edited / "README.md").write_text(mine)
    capsys.readouterr()
    assert main(["upgrade", str(edited), "--torch", ">=2.14,<2.15", "--replace", "cu128=cu130",
                 "--no-lock"]) == 0
    out = capsys.readouterr().out
    assert "note: README.md has edits of yours, so it was left as it is" in out
    assert _text(edited, "README.md") == mine
