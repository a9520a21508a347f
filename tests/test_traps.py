"""Traps just off the happy path (issue 14): what a uv user types means what uv means."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tomlread import loads
from uvtorch.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def pyproject(folder: Path) -> dict[str, Any]:
    return loads((folder / "pyproject.toml").read_text(encoding="utf-8"))


def test_dash_p_is_python_as_in_uv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "init", str(tmp_path / "demo"), "--yes", "-p", "3.12")
    assert code == 0, err
    data = pyproject(tmp_path / "demo")
    assert data["project"]["requires-python"] == ">=3.12"
    assert all("3.12" not in req for reqs in data["project"]["optional-dependencies"].values()
               for req in reqs)


def test_python_bare_version_means_at_least(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "init", str(tmp_path / "demo"), "--yes", "--python", "3.11")
    assert code == 0
    assert pyproject(tmp_path / "demo")["project"]["requires-python"] == ">=3.11"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--package", "3.12"], ["'3.12'", "--python 3.12"]),
        (["-p", "torchvision"], ["'torchvision'", "--package torchvision"]),
    ],
)
def test_a_version_as_package_or_a_package_as_python_is_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: list[str]
) -> None:
    code, _, err = run(capsys, "init", str(tmp_path / "demo"), "--yes", *argv)
    assert code == 2
    assert err.count("\n") == 1
    for fragment in says:
        assert fragment in err
    assert not (tmp_path / "demo").exists()


def test_add_dash_p_points_at_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init", str(tmp_path / "demo"), "--yes")[0] == 0
    before = (tmp_path / "demo" / "pyproject.toml").read_bytes()
    code, _, err = run(capsys, "add", str(tmp_path / "demo"), "-p", "torchvision")
    assert code == 2
    assert "--package torchvision" in err
    assert (tmp_path / "demo" / "pyproject.toml").read_bytes() == before


def test_add_help_does_not_claim_a_cpu_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["add", "--help"])
    out = capsys.readouterr().out
    assert "(default: cpu)" not in " ".join(out.split())


def test_a_kernel_given_as_a_package_gets_the_kernel_recipe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--yes", "-a", "cpu", "-a", "cu128", "--torch", ">=2.9,<2.10"]
    code, out, _ = run(capsys, "init", str(tmp_path / "as-package"), *args, "--package", "flash-attn")
    assert code == 0
    assert "flash-attn is a kernel" in out and "-k" in out
    code, _, _ = run(capsys, "init", str(tmp_path / "as-kernel"), *args, "-k", "flash-attn")
    assert code == 0
    as_package = pyproject(tmp_path / "as-package")
    as_kernel = pyproject(tmp_path / "as-kernel")
    as_package["project"]["name"] = as_kernel["project"]["name"]
    assert as_package == as_kernel
    cpu = as_package["project"]["optional-dependencies"]["cpu"]
    assert not any(r.startswith("flash-attn") for r in cpu)
    assert "flash-attn" in as_package["tool"]["uv"]["extra-build-dependencies"]


def test_a_kernel_given_both_ways_is_added_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "init", str(tmp_path / "p"), "--yes", "-a", "cu128",
                       "--package", "flash-attn", "-k", "flash-attn")
    assert code == 0, err
    cu128 = pyproject(tmp_path / "p")["project"]["optional-dependencies"]["cu128"]
    assert sum(r.startswith("flash-attn") for r in cu128) == 1


def test_init_on_a_hand_written_project_points_at_add(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = '[project]\nname = "mine"\ndependencies = ["numpy", "pandas"]\n\n[tool.ruff]\nline-length = 99\n'
    (tmp_path / "pyproject.toml").write_text(mine)
    code, _, err = run(capsys, "init", str(tmp_path), "--yes")
    assert code == 1
    assert "uvtorch add" in err
    assert "mine" in err and "2 dependencies" in err and "[tool]" in err
    assert (tmp_path / "pyproject.toml").read_text() == mine


def test_answers_replay_with_another_torch_derives_the_companions_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "first"
    assert run(capsys, "init", str(first), "--yes", "-a", "cpu", "-a", "cu128",
               "--package", "torchvision", "--package", "ultralytics")[0] == 0
    code, _, err = run(capsys, "init", str(tmp_path / "second"), "--yes", "--answers",
                       str(first / ".uvtorch.toml"), "--torch", ">=2.9,<2.10", "-n", "second")
    assert code == 0, err
    cu128 = pyproject(tmp_path / "second")["project"]["optional-dependencies"]["cu128"]
    assert "torchvision>=0.24.0,<0.25" in cu128
    # and the plain replay still gives the same bytes
    code, _, _ = run(capsys, "init", str(tmp_path / "third"), "--yes", "--answers",
                     str(first / ".uvtorch.toml"), "-n", "first")
    assert code == 0
    assert (tmp_path / "third" / "pyproject.toml").read_bytes() == (first / "pyproject.toml").read_bytes()


def test_add_exits_0_once_it_has_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from test_add import HAND

    explicit_cpu = 'url = "https://download.pytorch.org/whl/cpu"\nexplicit = true'
    assert explicit_cpu in HAND
    (tmp_path / "pyproject.toml").write_text(HAND.replace(explicit_cpu, explicit_cpu.split("\n")[0]))
    code, out, _ = run(capsys, "add", str(tmp_path), "--package", "torchvision")
    assert code == 0
    assert "added: torchvision" in out
    assert "still to fix" in out and "uvtorch check" in out
    assert "torchvision" in (tmp_path / "pyproject.toml").read_text()


@pytest.mark.parametrize(
    ("argv", "says"),
    [(["-a", "cu999"], ["'cu999'", "cu132"]), (["--platform", "beos"], ["'beos'", "linux-x86_64"])],
)
def test_matrix_unknown_values_are_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: list[str]
) -> None:
    code, out, err = run(capsys, "matrix", *argv)
    assert code == 2 and out == ""
    for fragment in says:
        assert fragment in err


@pytest.mark.parametrize("name", ["torch", "Torch", "torchvision"])
def test_a_project_named_like_its_own_dependency_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    code, _, err = run(capsys, "init", str(tmp_path / "p"), "--yes", "-n", name,
                       "--package", "torchvision")
    assert code == 2
    assert "depend on itself" in err and "--name" in err
    assert not (tmp_path / "p").exists()


def test_driver_floors_read_as_nvidia_writes_them() -> None:
    from packaging.version import Version

    from uvtorch.questions import nvidia_driver_text

    assert nvidia_driver_text(Version("450.80.02")) == "450.80.02"
    assert nvidia_driver_text(Version("452.39")) == "452.39"
    assert nvidia_driver_text(Version("580.159.04")) == "580.159.04"


def test_a_kernel_that_cannot_build_for_the_named_gpus_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "init", str(tmp_path / "p"), "--yes", "-a", "cu128",
                       "--cuda-arch", "5.0", "-k", "flash-attn")
    assert code == 1
    assert "5.0" in err and "8.0, 9.0" in err and "--cuda-arch" in err
    assert not (tmp_path / "p").exists()
    # one usable GPU among those named: built for it, the other noted
    code, out, _ = run(capsys, "init", str(tmp_path / "q"), "--yes", "-a", "cu128",
                       "--cuda-arch", "5.0", "--cuda-arch", "9.0", "-k", "flash-attn")
    assert code == 0
    assert "no kernels for compute capability 5.0" in out
    assert 'FLASH_ATTN_CUDA_ARCHS = "90"' in (tmp_path / "q" / "pyproject.toml").read_text()


@pytest.mark.e2e
def test_platforms_are_kept_for_a_system_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], uv_env: dict[str, str]
) -> None:
    from fakeindex import run_uv

    target = tmp_path / "img"
    code, _, err = run(capsys, "init", str(target), "--yes", "-a", "system", "--system-torch",
                       "2.5.0a0+872d972e41.nv24.08", "--platform", "linux-x86_64")
    assert code == 0, err
    assert 'platforms = ["linux-x86_64"]' in (target / ".uvtorch.toml").read_text()
    uv = pyproject(target)["tool"]["uv"]
    assert uv["environments"] == ["sys_platform == 'linux' and platform_machine == 'x86_64'"]
    run_uv(["lock"], cwd=target, env=uv_env)
    # uv records the environments it resolved for in the lock
    assert "platform_machine == 'x86_64' and sys_platform == 'linux'" in (target / "uv.lock").read_text()


def test_add_auto_adds_the_build_this_machine_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`add -a auto` means what `init -a auto` means: detection's build for the project's torch."""
    from fakemachine import FakeMachine

    project = tmp_path / "p"
    assert run(capsys, "init", str(project), "--yes", "-a", "cpu", "--torch", ">=2.14,<2.15")[0] == 0
    machine = FakeMachine(Path(__file__).parent / "fixtures" / "machines" / "pascal-580",
                          tmp_path / "machine")
    monkeypatch.setattr("uvtorch.probe.SystemReader", lambda **_: machine.reader())
    code, out, _ = run(capsys, "add", str(project), "-a", "auto")
    assert code == 0
    assert "-a auto: cu126 (torch 2.14)" in out  # sm_61: cu128 and newer lack its code
    extras = pyproject(project)["project"]["optional-dependencies"]
    assert set(extras) == {"cpu", "cu126"}
    assert loads((project / ".uvtorch.toml").read_text())["answers"]["accelerators"] == ["cpu", "cu126"]


def test_add_system_layout_reaches_the_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "p"
    assert run(capsys, "init", str(project), "--yes", "-a", "cpu")[0] == 0
    code, _, err = run(capsys, "add", str(project), "-a", "system", "--system-torch", "2.5.0",
                       "--system-layout", "image-venv")
    assert code == 0, err
    answers = loads((project / ".uvtorch.toml").read_text())["answers"]
    assert answers["system_layout"] == "image-venv"
