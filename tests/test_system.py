"""`-a system`: use the torch a container image already has, never download another.

The end-to-end test builds an "image venv" holding a fake NGC torch
(2.5.0a0+872d972e41.nv24.08) and torchvision, makes the project from that interpreter, follows
the generated README's commands for an image venv, and checks that uv never touches the
image's packages.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomlkit

from fakeindex import FakeIndex, build_wheel, find_uv_bin, installed_packages, run_uv
from uvtorch.answers import Answers
from uvtorch.catalog import load
from uvtorch.cli import main
from uvtorch.errors import NoBuild, UsageError
from uvtorch.imagetorch import _PROBE, probe
from uvtorch.plan import make_plan

NGC = "2.5.0a0+872d972e41.nv24.8"  # PEP 440 normal form of NGC's 2.5.0a0+872d972e41.nv24.08


def system_plan(**kwargs: object):  # noqa: ANN201 - test helper
    kwargs.setdefault("name", "img")
    kwargs.setdefault("accelerators", ("system",))
    return make_plan(Answers(**kwargs), load())  # type: ignore[arg-type]


def test_system_plan_excludes_the_image_packages_and_keeps_dependents_in_base() -> None:
    plan = system_plan(system=(f"torch=={NGC}", "torchvision==0.20.0a0"),
                       packages=("torchvision", "ultralytics>=8"))
    assert plan.excluded == ("torch", "torchvision")
    assert plan.dependencies == ("ultralytics>=8",)
    assert plan.extras == ()
    assert plan.requires_python == ">=3.10,<3.13"  # torch 2.5's range, from 3.10
    assert str(plan.required_uv) == "0.9.8"  # exclude-dependencies


@pytest.mark.parametrize(
    ("answers", "error", "says"),
    [
        ({"system": (f"torch=={NGC}",), "system_layout": "docker"}, UsageError,
         "Unknown system layout 'docker'"),
        ({"system": ()}, UsageError, "--system-torch"),
        ({"system": (f"torch=={NGC}",), "packages": ("torchaudio",)}, NoBuild,
         "environment has no torchaudio"),
        ({"system": (f"torch=={NGC}",), "packages": ("ultralytics",)}, NoBuild,
         "no torchvision"),
    ],
)
def test_system_refusals(answers: dict[str, object], error: type[Exception], says: str) -> None:
    with pytest.raises(error, match=re.escape(says)):
        system_plan(**answers)


def test_system_torch_flag_renders_without_probing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "laptop"
    assert main(["init", str(target), "--yes", "-a", "system", "--system-torch",
                 "2.5.0a0+872d972e41.nv24.08", "--package", "torchvision", "--package", "ultralytics"]) == 0
    capsys.readouterr()
    data = tomlkit.parse((target / "pyproject.toml").read_text()).unwrap()
    assert data["tool"]["uv"]["exclude-dependencies"] == ["torch", "torchvision"]
    # Recorded as given: NGC writes its version this way, and check compares it later.
    assert data["tool"]["uvtorch"]["system"] == {
        "torch": "2.5.0a0+872d972e41.nv24.08", "torchvision": "*"}
    assert data["project"]["dependencies"] == ["ultralytics"]
    assert "optional-dependencies" not in data["project"]


def _image_wheels(root: Path) -> list[Path]:
    return [
        build_wheel(root, "torch", "2.5.0a0+872d972e41.nv24.08"),
        build_wheel(root, "torchvision", "0.20.0a0+afc54f7", requires_dist=("torch",)),
    ]


def _make_image_venv(root: Path) -> Path:
    """A venv standing in for a GPU image's, with NGC-style torch and torchvision."""
    uv = find_uv_bin()
    subprocess.run([uv, "venv", str(root / "venv"), "--python", sys.executable],
                   check=True, capture_output=True)
    subprocess.run([uv, "pip", "install", "--no-deps", "--python", str(root / "venv/bin/python"),
                    *map(str, _image_wheels(root / "w"))], check=True, capture_output=True)
    return root / "venv" / "bin" / "python"


@pytest.fixture(scope="module")
def image_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An image venv that tests only read."""
    return _make_image_venv(tmp_path_factory.mktemp("image"))


def test_probe_reads_the_interpreters_torch(image_python: Path) -> None:
    found = probe(str(image_python))
    assert found.packages == {"torch": NGC, "torchvision": "0.20.0a0+afc54f7"}
    assert found.in_venv and found.torch_in_venv
    assert found.layout == "image-venv" and found.interpreter == str(image_python)
    # The interpreter the venv was made from (on 3.10 sys._base_executable is the venv's own).
    base = Path(found.base_executable)
    assert base.is_file() and image_python.parent.parent not in base.parents
    assert found.python == f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_probe_without_torch_says_what_to_do(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["init", str(tmp_path / "p"), "--yes", "-a", "system",
                 "--python-executable", sys.executable])
    err = capsys.readouterr().err
    assert code == 1
    assert "has no torch installed" in err and "--system-torch" in err


def _readme_block(readme: str, heading: str) -> str:
    """The bash commands the generated README gives under `heading`."""
    section = readme[readme.index(heading):]
    return section[section.index("```bash\n") + 8:section.index("```", section.index("```bash") + 7)]


LAYERED = "### torch in a virtual environment inside the image: a layered venv"
SYNC_INTO = "### torch in a virtual environment inside the image: sync into it"
BASE = "### torch in the image's base interpreter"


def _first_way(readme: str) -> str:
    """The heading of the way the README recommends (it comes first)."""
    return next(line for line in readme.splitlines() if line.startswith("### "))


def _make_system_project(project: Path, python: Path, uv_env: dict[str, str]) -> str:
    """init -a system from `python`, lock it, and return the README."""
    assert main(["init", str(project), "--yes", "-a", "system", "--python-executable",
                 str(python), "--package", "torchvision", "--package", "ultralytics"]) == 0
    run_uv(["lock"], cwd=project, env=uv_env)
    lock = (project / "uv.lock").read_text()
    assert 'name = "torch"' not in lock and 'name = "torchvision"' not in lock
    assert 'name = "ultralytics"' in lock  # which requires torch and torchvision
    return (project / "README.md").read_text()


def _readme_env(uv_env: dict[str, str]) -> dict[str, str]:
    env = dict(uv_env, PATH=f"{Path(find_uv_bin()).parent}:{uv_env.get('PATH', '')}")
    env.pop("UV_PYTHON", None)  # the README's `uv venv --python` chooses the interpreter
    return env


def _follow(commands: str, project: Path, env: dict[str, str]) -> str:
    """Run the README's commands as a user would paste them; return their output."""
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _versions(python: Path | str, env: dict[str, str] | None = None) -> list[str]:
    shown = subprocess.run([str(python), "-c", "import torch, torchvision; "
                            "print(torch.__version__, torchvision.__version__)"],
                           capture_output=True, text=True, check=True, env=env)
    return shown.stdout.split()


@pytest.mark.e2e
def test_image_venv_flow_never_replaces_the_image_torch(
    tmp_path: Path, image_python: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = tmp_path / "ngc-app"
    readme = _make_system_project(project, image_python, uv_env)
    capsys.readouterr()
    assert _first_way(readme) == LAYERED  # the layout init found
    commands = _readme_block(readme, LAYERED)
    assert str(image_python) in commands
    env = _readme_env(uv_env)
    assert NGC in _follow(commands, project, env)  # `uv run` imported the image's torch

    # Plain uv sync / uv run again: the image keeps its packages, the project gets its own.
    for command in (["sync"], ["run", "python", "-c", "import torch, ultralytics"]):
        run_uv(command, cwd=project, env=env)
    assert _versions(image_python) == [NGC, "0.20.0a0+afc54f7"]
    own = installed_packages(project, env)
    assert "ultralytics" in own and "torch" not in own


@pytest.mark.e2e
def test_syncing_into_the_image_venv_needs_inexact(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    image = _make_image_venv(tmp_path / "image")  # this way writes into the image's venv
    project = tmp_path / "into-image"
    readme = _make_system_project(project, image, uv_env)
    capsys.readouterr()
    commands = _readme_block(readme, SYNC_INTO)
    env = _readme_env(uv_env)
    # What the README warns about: an exact sync would remove the image's torch.
    dry = run_uv(["sync", "--dry-run"], cwd=project,
                 env=dict(env, UV_PROJECT_ENVIRONMENT=str(image.parent.parent)))
    assert "Would uninstall" in dry.stderr + dry.stdout and "- torch==" in dry.stderr + dry.stdout
    assert NGC in _follow(commands, project, env)
    assert _versions(image) == [NGC, "0.20.0a0+afc54f7"]
    # The project and its dependencies now live in the image's venv, beside its torch.
    assert subprocess.run([str(image), "-c", "import ultralytics, into_image"]).returncode == 0


def _base_interpreter() -> Path:
    """The interpreter this one's venv (if any) was made from, as the probe reports it."""
    shown = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                           check=True)
    return Path(json.loads(shown.stdout)["base_executable"])


@pytest.mark.e2e
def test_base_interpreter_flow_uses_the_base_torch(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """torch in the base interpreter (NGC's layout), with the user site standing in for it.

    A test must not write into the real interpreter's site-packages. The user site directory
    behaves the same way for this purpose: the base interpreter imports from it, a plain venv
    does not, and a `--system-site-packages` venv does.
    """
    base = _base_interpreter()
    user_env = dict(uv_env, PYTHONUSERBASE=str(tmp_path / "userbase"))
    user_env.pop("PYTHONNOUSERSITE", None)
    site_dir = subprocess.run(
        [str(base), "-c", "import site; print(site.ENABLE_USER_SITE, site.getusersitepackages())"],
        capture_output=True, text=True, check=True, env=user_env).stdout.split()
    if site_dir[0] != "True":
        pytest.skip("this interpreter has no user site directory to stand in for its base")
    subprocess.run([find_uv_bin(), "pip", "install", "--no-deps", "--target", site_dir[1],
                    *map(str, _image_wheels(tmp_path / "w"))], check=True, capture_output=True)
    monkeypatch.setenv("PYTHONUSERBASE", user_env["PYTHONUSERBASE"])
    monkeypatch.delenv("PYTHONNOUSERSITE", raising=False)

    project = tmp_path / "base-app"
    readme = _make_system_project(project, base, user_env)
    capsys.readouterr()
    assert _first_way(readme).startswith(BASE)
    commands = _readme_block(readme, BASE)
    assert f"--python {base}" in commands
    env = _readme_env(user_env)
    shown = _follow(commands, project, env)
    assert NGC in shown
    for command in (["sync"], ["run", "python", "-c", "import torch, ultralytics"]):
        run_uv(command, cwd=project, env=env)
    assert _versions(project / ".venv" / "bin" / "python", env) == [NGC, "0.20.0a0+afc54f7"]
    own = installed_packages(project, env)
    assert "ultralytics" in own and "torch" not in own
    # The base interpreter still has its torch where it was.
    assert _versions(base, user_env) == [NGC, "0.20.0a0+afc54f7"]


def test_check_compares_the_pins_with_the_interpreter(
    tmp_path: Path, image_python: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "pinned"
    assert main(["init", str(project), "--yes", "-a", "system", "--python-executable",
                 str(image_python), "--package", "torchvision"]) == 0
    assert main(["check", str(project), "--python-executable", str(image_python)]) == 0
    capsys.readouterr()
    assert main(["check", str(project), "--python-executable", sys.executable]) == 1
    out = capsys.readouterr().out
    assert "system-torch-mismatch" in out and "the interpreter has none" in out


def test_check_finds_a_changed_image(
    tmp_path: Path, image_python: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "old-image"
    assert main(["init", str(project), "--yes", "-a", "system", "--system-torch",
                 "2.4.0a0+f70bd71a48.nv24.06"]) == 0
    capsys.readouterr()
    assert main(["check", str(project), "--python-executable", str(image_python)]) == 1
    assert f"expects torch 2.4.0a0+f70bd71a48.nv24.06 but the interpreter has {NGC}" in (
        capsys.readouterr().out)


@pytest.mark.parametrize(
    ("layout", "first"),
    [("base-interpreter", BASE), ("image-venv", LAYERED), (None, BASE)],
)
def test_readme_puts_the_layout_found_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], layout: str | None, first: str
) -> None:
    target = tmp_path / "p"
    argv = ["init", str(target), "--yes", "-a", "system", "--system-torch", NGC,
            "--python-executable", "/opt/img/bin/python"]
    assert main(argv + (["--system-layout", layout] if layout else [])) == 0
    next_step = capsys.readouterr().out.splitlines()[-1]
    readme = (target / "README.md").read_text()
    assert _first_way(readme).startswith(first)
    assert ("uv venv --system-site-packages --python /opt/img/bin/python" in next_step) == (
        layout == "base-interpreter")
    assert "README.md" in next_step
    base_cmds, venv_cmds = _readme_block(readme, BASE), _readme_block(readme, LAYERED)
    into_cmds = _readme_block(readme, SYNC_INTO)
    # The given interpreter fills the layout it was found in; the other gets the usual path.
    assert ("/opt/img/bin/python" in base_cmds) == (layout != "image-venv")
    assert ("/opt/img/bin/python" in venv_cmds) == (layout != "base-interpreter")
    assert ("UV_PROJECT_ENVIRONMENT=/opt/img\n" in into_cmds) == (layout != "base-interpreter")
    answers = tomlkit.parse((target / ".uvtorch.toml").read_text()).unwrap()["answers"]
    assert answers.get("system_layout") == layout


@pytest.mark.parametrize("flag", [["--system-torch", NGC], ["--system-layout", "image-venv"]])
def test_system_flags_without_system_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: list[str]
) -> None:
    assert main(["init", str(tmp_path / "p"), "--yes", "-a", "cu128", *flag]) == 2
    assert f"{flag[0]} applies only to -a system" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_system_torch_flag_wins_over_a_replayed_answers_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    assert main(["init", str(old), "--yes", "-a", "system", "--system-torch",
                 "2.4.0a0+f70bd71a48.nv24.06", "--package", "torchvision"]) == 0
    assert main(["init", str(new), "--yes", "--answers", str(old / ".uvtorch.toml"),
                 "--system-torch", NGC]) == 0
    capsys.readouterr()
    data = tomlkit.parse((new / "pyproject.toml").read_text()).unwrap()
    assert data["tool"]["uvtorch"]["system"] == {"torch": NGC, "torchvision": "*"}


def test_an_unknown_layout_in_an_answers_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old"
    assert main(["init", str(old), "--yes", "-a", "system", "--system-torch", NGC]) == 0
    answers = old / ".uvtorch.toml"
    answers.write_text(answers.read_text().replace('accelerators = ["system"]',
                                                   'accelerators = ["system"]\nsystem_layout = "docker"'))
    assert main(["init", str(tmp_path / "new"), "--yes", "--answers", str(answers)]) == 2
    err = capsys.readouterr().err
    assert "Unknown system layout 'docker'" in err and "base-interpreter, image-venv" in err


def test_check_says_when_the_projects_venv_cannot_see_the_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "plain-venv"
    assert main(["init", str(project), "--yes", "-a", "system", "--system-torch", NGC]) == 0
    # What a plain `uv sync` makes: a venv that does not see the image's packages.
    subprocess.run([find_uv_bin(), "venv", str(project / ".venv"), "--python", sys.executable],
                   check=True, capture_output=True)
    capsys.readouterr()
    assert main(["check", str(project), "--trust"]) == 1  # --trust: run the project's .venv
    out = capsys.readouterr().out
    assert "the project's .venv does not see it" in out and "README.md" in out


def test_kernels_with_system_are_refused_not_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["init", str(tmp_path / "p"), "--yes", "-a", "system", "--system-torch", NGC,
                 "-k", "flash-attn"])
    err = capsys.readouterr().err
    assert code == 2 and "-k flash-attn cannot be used with -a system alone" in err
    assert "never in the lock" in err and not (tmp_path / "p").exists()


@pytest.mark.e2e
def test_a_system_extra_next_to_index_extras(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """-a cpu -a system: cpu gets the index's torch, system the image's, from one lock."""
    image = _make_image_venv(tmp_path / "image")
    project = tmp_path / "mixed"
    assert main(["init", str(project), "--yes", "-a", "cpu", "-a", "system",
                 "--python-executable", str(image), "--index-url", fake_index.pytorch_base,
                 "--torch", ">=2.9,<2.10", "--package", "torchvision", "--package", "ultralytics"]) == 0
    capsys.readouterr()
    run_uv(["lock"], cwd=project, env=uv_env)
    assert main(["check", str(project), "--python-executable", str(image)]) == 0
    capsys.readouterr()

    run_uv(["sync", "--extra", "cpu"], cwd=project, env=uv_env)
    cpu = installed_packages(project, uv_env)
    assert cpu["torch"].endswith("+cpu") and cpu["torchvision"].endswith("+cpu")
    assert {"ultralytics", "ultralytics-thop"} <= set(cpu)  # both still get the cpu torch

    # The same project in the image: the README's layered venv, with the system extra.
    run_uv(["venv", "--clear", "--python", str(image)], cwd=project, env=uv_env)
    env = _readme_env(uv_env)
    readme = (project / "README.md").read_text()
    commands = _readme_block(readme, LAYERED).replace('uv venv --python "$IMAGE_PYTHON"',
                                                      'uv venv --clear --python "$IMAGE_PYTHON"')
    assert "uv sync --extra system" in commands
    assert NGC in _follow(commands, project, env)
    own = installed_packages(project, env)
    assert {"ultralytics", "ultralytics-thop"} <= set(own)
    assert "torch" not in own and "torchvision" not in own
    assert _versions(image) == [NGC, "0.20.0a0+afc54f7"]


@pytest.mark.e2e
def test_check_finds_and_fixes_an_unknown_dependency_pulling_torch_into_the_system_extra(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`detector` needs torch through `tensorkit`, which no catalog knows: the lock shows it."""
    project = tmp_path / "unknown"
    assert main(["init", str(project), "--yes", "-a", "cpu", "-a", "system", "--system-torch",
                 NGC, "--index-url", fake_index.pytorch_base, "--torch", ">=2.9,<2.10",
                 "--package", "detector"]) == 0
    run_uv(["lock"], cwd=project, env=uv_env)
    capsys.readouterr()
    assert main(["check", str(project)]) == 1
    out = capsys.readouterr().out
    assert "lock-system-extra-pulls-torch" in out
    assert "detector -> tensorkit -> torch" in out

    assert main(["check", str(project), "--fix"]) == 0  # the next uv lock applies the fix
    assert "fixed: made tensorkit drop its requirements on torch" in capsys.readouterr().out
    uv = tomlkit.parse((project / "pyproject.toml").read_text()).unwrap()["tool"]["uv"]
    assert {"package": {"name": "tensorkit"}, "dependencies": ["torch"]} in uv["exclude-dependencies"]
    run_uv(["lock"], cwd=project, env=uv_env)
    assert main(["check", str(project)]) == 0
    capsys.readouterr()
    run_uv(["sync", "--extra", "system"], cwd=project, env=uv_env)
    assert "torch" not in installed_packages(project, uv_env)
    run_uv(["sync", "--extra", "cpu"], cwd=project, env=uv_env)
    assert installed_packages(project, uv_env)["torch"].endswith("+cpu")


def test_check_fixes_a_system_extra_package_without_its_exclusion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "mixed"
    assert main(["init", str(project), "--yes", "-a", "cpu", "-a", "system", "--system-torch",
                 NGC, "--package", "torchvision", "--package", "ultralytics"]) == 0
    path = project / "pyproject.toml"
    text = path.read_text()
    entry = '    { package = { name = "ultralytics" }, dependencies = ["torch", "torchvision"] },\n'
    assert entry in text
    path.write_text(text.replace(entry, ""))
    capsys.readouterr()
    assert main(["check", str(project)]) == 1
    out = capsys.readouterr().out
    assert "system-torch-not-excluded" in out and "ultralytics in the system extra" in out
    assert main(["check", str(project), "--fix"]) == 0
    assert "fixed: made ultralytics drop its requirements on torch, torchvision" in (
        capsys.readouterr().out)
    assert main(["check", str(project)]) == 0


def test_the_images_python_must_be_in_requires_python(
    tmp_path: Path, image_python: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["init", str(tmp_path / "p"), "--yes", "-a", "cpu", "-a", "system",
                 "--python-executable", str(image_python), "--python", ">=3.99"])
    err = capsys.readouterr().err
    assert code == 2 and "is outside requires-python >=3.99" in err
    assert f"--python '>={sys.version_info[0]}.{sys.version_info[1]}'" in err
    assert not (tmp_path / "p").exists()


def test_a_mixed_project_replays_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, again = tmp_path / "first", tmp_path / "again"
    assert main(["init", str(first), "--yes", "-a", "cpu", "-a", "cu128", "-a", "system",
                 "--system-torch", NGC, "--system-layout", "image-venv",
                 "--python-executable", "/opt/venv/bin/python",
                 "--package", "torchvision", "--package", "ultralytics"]) == 0
    assert main(["init", str(again), "--yes", "--answers", str(first / ".uvtorch.toml"),
                 "-n", "first"]) == 0
    capsys.readouterr()
    for path in sorted(p for p in first.rglob("*") if p.is_file()):
        assert (again / path.relative_to(first)).read_bytes() == path.read_bytes(), path


@pytest.mark.e2e
def test_an_empty_system_extra_locks_and_syncs_nothing_but_the_project(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """-a cpu -a system with no other package: `system = []`, no exclusions needed."""
    project = tmp_path / "bare"
    assert main(["init", str(project), "--yes", "-a", "cpu", "-a", "system", "--system-torch",
                 NGC, "--index-url", fake_index.pytorch_base, "--torch", ">=2.9,<2.10"]) == 0
    capsys.readouterr()
    data = tomlkit.parse((project / "pyproject.toml").read_text()).unwrap()
    assert data["project"]["optional-dependencies"]["system"] == []
    assert "exclude-dependencies" not in data["tool"]["uv"]
    run_uv(["lock"], cwd=project, env=uv_env)
    run_uv(["sync", "--extra", "system"], cwd=project, env=uv_env)
    assert set(installed_packages(project, uv_env)) == {"bare"}
    assert main(["check", str(project)]) == 0
