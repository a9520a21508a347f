"""`-a system`: use the torch a container image already has, never download another.

The end-to-end test builds an "image venv" holding a fake NGC torch
(2.5.0a0+872d972e41.nv24.08) and torchvision, makes the project from that interpreter, follows
the generated README's commands for an image venv, and checks that uv never touches the
image's packages.
"""

from __future__ import annotations

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
from uvtorch.imagetorch import probe
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
        ({"accelerators": ("system", "cu128"), "system": (f"torch=={NGC}",)}, UsageError,
         "cannot be combined"),
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
                 "2.5.0a0+872d972e41.nv24.08", "-p", "torchvision", "-p", "ultralytics"]) == 0
    capsys.readouterr()
    data = tomlkit.parse((target / "pyproject.toml").read_text()).unwrap()
    assert data["tool"]["uv"]["exclude-dependencies"] == ["torch", "torchvision"]
    # Recorded as given: NGC writes its version this way, and check compares it later.
    assert data["tool"]["uvtorch"]["system"] == {
        "torch": "2.5.0a0+872d972e41.nv24.08", "torchvision": "*"}
    assert data["project"]["dependencies"] == ["ultralytics"]
    assert "optional-dependencies" not in data["project"]


@pytest.fixture(scope="module")
def image_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv standing in for a GPU image's, with NGC-style torch and torchvision."""
    root = tmp_path_factory.mktemp("image")
    uv = find_uv_bin()
    subprocess.run([uv, "venv", str(root / "venv"), "--python", sys.executable],
                   check=True, capture_output=True)
    wheels = [
        build_wheel(root / "w", "torch", "2.5.0a0+872d972e41.nv24.08"),
        build_wheel(root / "w", "torchvision", "0.20.0a0+afc54f7", requires_dist=("torch",)),
    ]
    subprocess.run([uv, "pip", "install", "--no-deps", "--python", str(root / "venv/bin/python"),
                    *map(str, wheels)], check=True, capture_output=True)
    return root / "venv" / "bin" / "python"


def test_probe_reads_the_interpreters_torch(image_python: Path) -> None:
    found = probe(str(image_python))
    assert found.packages == {"torch": NGC, "torchvision": "0.20.0a0+afc54f7"}
    assert found.in_venv
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


@pytest.mark.e2e
def test_image_venv_flow_never_replaces_the_image_torch(
    tmp_path: Path, image_python: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = tmp_path / "ngc-app"
    assert main(["init", str(project), "--yes", "-a", "system", "--python-executable",
                 str(image_python), "-p", "torchvision", "-p", "ultralytics"]) == 0
    capsys.readouterr()
    run_uv(["lock"], cwd=project, env=uv_env)
    lock = (project / "uv.lock").read_text()
    assert 'name = "torch"' not in lock and 'name = "torchvision"' not in lock
    assert 'name = "ultralytics"' in lock  # which requires torch and torchvision

    # Follow the README's commands for torch in a venv inside the image.
    readme = (project / "README.md").read_text()
    commands = _readme_block(readme, "**torch in a virtual environment inside the image**")
    assert str(image_python) in commands
    env = dict(uv_env, PATH=f"{Path(find_uv_bin()).parent}:{uv_env.get('PATH', '')}")
    env.pop("UV_PYTHON", None)  # the README's `uv venv --python` chooses the interpreter
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert NGC in done.stdout  # `uv run python -c "import torch; ..."` saw the image's torch

    # Plain uv sync / uv run again: the image keeps its packages, the project gets its own.
    for command in (["sync"], ["run", "python", "-c", "import torch, ultralytics"]):
        run_uv(command, cwd=project, env=env)
    image = subprocess.run([str(image_python), "-c", "import torch, torchvision; "
                            "print(torch.__version__, torchvision.__version__)"],
                           capture_output=True, text=True, check=True)
    assert image.stdout.split() == [NGC, "0.20.0a0+afc54f7"]
    own = installed_packages(project, env)
    assert "ultralytics" in own and "torch" not in own


def test_check_compares_the_pins_with_the_interpreter(
    tmp_path: Path, image_python: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "pinned"
    assert main(["init", str(project), "--yes", "-a", "system", "--python-executable",
                 str(image_python), "-p", "torchvision"]) == 0
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
