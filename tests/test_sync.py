"""`uvtorch sync`, `run`, `which`, `verify`: the project's extra for this machine, and proof.

The choice is tested on parsed machines (pure), the commands end to end: a project locked on
the fake index, a fake `nvidia-smi` on PATH that knows only real query fields, the real uv,
and an assertion about the torch that got installed. The fake torch (tests/fakeindex.py)
reports the devices and arch list a real one would, from environment variables.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakeindex import (
    FAKE_GPUS_ENV,
    FakeIndex,
    find_uv_bin,
    installed_packages,
    run_uv,
)
from fakemachine import write_nvidia_smi
from uvtorch.choose_extra import (
    ENV_EXTRA,
    NoAcceleratorExtras,
    NoFittingExtra,
    ProjectExtra,
    choose_extra,
    locked_torch,
    project_extras,
)
from uvtorch.cli import main
from uvtorch.detect import (
    ENV_AMD_ARCH,
    ENV_CUDA_DRIVER,
    NVIDIA_SMI_QUERY,
    Detection,
    Facts,
    command_key,
    detect,
)
from uvtorch.errors import UsageError
from uvtorch.sync import split_args, uv_cli
from uvtorch.verify import judge, parse_arch_entry

H100 = ("NVIDIA H100 80GB HBM3", "9.0")
GTX1080 = ("NVIDIA GeForce GTX 1080", "6.1")
ARCH_CU130 = "sm_75 sm_80 sm_86 sm_90 sm_100 sm_120 compute_120".split()
ARCH_CU126 = "sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90".split()


def machine(
    driver: str | None = None,
    gpus: tuple[tuple[str, str], ...] = (),
    *,
    system: str = "Linux",
    arch: str = "x86_64",
    gfx: str | None = None,
    intel: bool = False,
) -> Detection:
    """A machine as `detect` parses it: nvidia-smi rows, the driver, an AMD target, Intel PCI."""
    commands = {}
    if gpus:
        commands[command_key(NVIDIA_SMI_QUERY)] = "".join(f"{n}, {driver}, {c}\n" for n, c in gpus)
    env = {ENV_CUDA_DRIVER: driver} if driver and not gpus else {}
    if gfx:
        env[ENV_AMD_ARCH] = gfx
    pci = (("0000:00:02.0", "0x030000", "0x8086"),) if intel else ()
    return detect(Facts(system, arch, env, {}, commands, pci, None, ()))


def extras(*pairs: str, torch: str = "2.9.1") -> tuple[ProjectExtra, ...]:
    """`extras("cpu", "cu126")`: extras named after their builds, torch 2.9."""
    return tuple(ProjectExtra(p.replace(".", "-"), p, "test", f"{torch}+{p}") for p in pairs)


# --------------------------------------------------------------------------------------------
# Reading a project
# --------------------------------------------------------------------------------------------


def test_an_extras_build_comes_from_its_torch_source_else_its_name() -> None:
    pyproject = {
        "project": {"dependencies": [], "optional-dependencies": {
            "cpu": ["torch>=2.9,<2.10"],
            "gpu": ["torch>=2.9,<2.10", "torchvision"],
            "rocm6.4": ["torch>=2.9,<2.10"],
            "dev": ["pytest"],
        }},
        "tool": {"uv": {
            "sources": {"torch": [{"index": "cpu-index", "extra": "cpu"},
                                  {"index": "nv", "extra": "gpu"}]},
            "index": [{"name": "cpu-index", "url": "https://mirror.example/whl/cpu/"},
                      {"name": "nv", "url": "https://mirror.example/whl/cu130"}],
        }},
    }
    found = project_extras(pyproject, None, None, ["2.8", "2.9", "2.10"])
    assert [(e.name, e.variant, e.torch) for e in found] == [
        ("cpu", "cpu", None), ("gpu", "cu130", "2.9"), ("rocm6-4", "rocm6.4", None),
    ]
    assert found[1].via == "https://mirror.example/whl/cu130"


def test_the_lock_says_which_torch_each_build_installs() -> None:
    lock = textwrap.dedent("""\
        [[package]]
        name = "torch"
        version = "2.9.1+cu126"
        source = { registry = "http://x/whl/cu126" }

        [[package]]
        name = "torchvision"
        version = "0.24.1+cu130"

        [[package]]
        name = "torch"
        version = "2.8.0+cu130"
        """)
    assert locked_torch(lock) == {"cu126": "2.9.1+cu126", "cu130": "2.8.0+cu130"}
    pyproject = {"project": {"optional-dependencies": {"cu130": ["torch>=2.8"]}}}
    (only,) = project_extras(pyproject, None, lock, ["2.8", "2.14"])
    assert only.torch == "2.8.0+cu130" and only.minor == "2.8"


def test_the_system_extra_is_the_one_recorded_as_the_environments_torch() -> None:
    pyproject = {
        "project": {"optional-dependencies": {"cpu": ["torch"], "system": []}},
        "tool": {"uvtorch": {"system": {"torch": "2.5.0a0+872d972e41.nv24.08"}}},
    }
    assert [e.variant for e in project_extras(pyproject)] == ["cpu", "system"]
    del pyproject["tool"]
    assert [e.variant for e in project_extras(pyproject)] == ["cpu"]


# --------------------------------------------------------------------------------------------
# The choice
# --------------------------------------------------------------------------------------------

CASES = [
    # (driver, GPUs, extra, what the reasons must mention)
    ("580.95.05", (H100,), "cu130", "serves every GPU"),
    ("580.95.05", (GTX1080,), "cu126", "cu130 lacks code for compute capability 6.1"),
    ("550.54.14", (H100,), "cu126", "cu130 needs a driver for CUDA 13.x"),
    ("580.95.05", (H100, GTX1080), "cu126", "6.1"),
    ("470.82.01", (GTX1080,), "cpu", "-> cpu"),
    (None, (), "cpu", "no NVIDIA driver"),
]


@pytest.mark.parametrize(("driver", "gpus", "expected", "why"), CASES)
def test_the_newest_cuda_extra_the_driver_and_every_gpu_run(
    driver: str | None, gpus: tuple[tuple[str, str], ...], expected: str, why: str
) -> None:
    choice = choose_extra(extras("cpu", "cu126", "cu130"), machine(driver, gpus))
    assert choice.extra == expected
    assert choice.origin == "detected"
    assert why in choice.line()


def test_the_flag_wins_over_the_environment_which_wins_over_detection() -> None:
    h100 = machine("580.95.05", (H100,))
    project = extras("cpu", "cu126", "cu130")
    assert choose_extra(project, h100, explicit="cpu", from_env="cu126").extra == "cpu"
    by_env = choose_extra(project, h100, from_env="cu126")
    assert by_env.extra == "cu126" and by_env.line() == f"extra cu126 (from {ENV_EXTRA}=cu126)"
    assert choose_extra(project, None, explicit="cu130").line() == "extra cu130 (from --extra)"


def test_an_extra_the_project_lacks_is_refused_with_its_extras() -> None:
    with pytest.raises(UsageError, match=r"'cu128'.*Its extras are: cpu, cu126, rocm6-4 \(rocm6.4\)"):
        choose_extra(extras("cpu", "cu126", "rocm6.4"), None, from_env="cu128")
    # A build's id names its extra too.
    assert choose_extra(extras("cpu", "rocm6.4"), None, explicit="rocm6.4").extra == "rocm6-4"


def test_no_fitting_extra_and_no_cpu_extra_is_an_error_never_a_plain_sync() -> None:
    with pytest.raises(NoFittingExtra) as raised:
        choose_extra(extras("cu130"), machine("550.54.14", (H100,)))
    text = str(raised.value)
    assert "Its extras: cu130" in text and "driver 550.54.14 runs CUDA 12.x" in text
    assert "NVIDIA H100 80GB HBM3 (compute capability 9.0)" in text
    assert "--extra ID" in text
    with pytest.raises(NoAcceleratorExtras):
        choose_extra((), machine())


def test_amd_intel_and_apple_machines() -> None:
    rocm = choose_extra(extras("cpu", "rocm6.3", "rocm6.4"), machine(gfx="gfx942"))
    assert rocm.extra == "rocm6-4" and "gfx942" in rocm.line()
    assert choose_extra(extras("cpu", "xpu"), machine(intel=True)).extra == "xpu"
    assert choose_extra(extras("cpu", "cu126"), machine(intel=True)).extra == "cpu"
    mac = choose_extra(extras("cpu", "cu126"), machine(system="Darwin", arch="arm64"))
    assert mac.extra == "cpu" and "MPS" in mac.line()


def test_the_system_extra_inside_an_image_with_torch() -> None:
    project = (*extras("cpu", "cu126"), ProjectExtra("system", "system", "test", None))
    h100 = machine("580.95.05", (H100,))
    assert choose_extra(project, h100, in_image=True).extra == "system"
    outside = choose_extra(project, h100, in_image=False)
    assert outside.extra == "cu126" and "not the system extra" in outside.line()


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


def test_run_arguments_before_the_command_are_uvs_and_the_command_is_untouched() -> None:
    split = split_args("run", ["-q", "--frozen", "--with", "numpy", "-p3.12", "python", "-c",
                               "import sys; print(sys.argv)", "--extra", "x", "--all-extras"])
    assert split.uv_args == ("-q", "--frozen", "--with", "numpy", "-p3.12")
    assert split.command == ("python", "-c", "import sys; print(sys.argv)", "--extra", "x",
                             "--all-extras")
    assert not split.extras and not split.all_extras
    dashed = split_args("run", ["--extra=cu126", "--", "pytest", "-q"])
    assert dashed.uv_args == ("--extra=cu126",) and dashed.command == ("--", "pytest", "-q")
    assert dashed.extras == ((0, "cu126"),)


def test_sync_arguments_pass_through_and_verify_is_uvtorchs() -> None:
    split = split_args("sync", ["--frozen", "--verify", "--extra", "dev", "--project", "app"])
    assert split.uv_args == ("--frozen", "--extra", "dev", "--project", "app")
    assert split.verify and split.extras == ((1, "dev"),) and split.project == "app"
    with pytest.raises(UsageError, match="--python needs a value"):
        split_args("sync", ["--python"])


def test_the_value_options_are_those_of_the_uv_the_tests_run() -> None:
    """If this fails, uv changed its command line: update src/uvtorch/data/uv_cli.toml."""
    for command in ("run", "sync"):
        text = subprocess.run([find_uv_bin(), command, "--help"], capture_output=True,
                              text=True, check=True).stdout
        found = set()
        for line in text.splitlines():
            match = re.match(r"\s+(?:(-\w), )?(--[\w-]+) <", line)
            if match:
                found.update(o for o in match.groups() if o)
        assert found == set(uv_cli()["value_options"][command]), command


# --------------------------------------------------------------------------------------------
# The verdict
# --------------------------------------------------------------------------------------------


def _report(version: str, archs: list[str], gpus: tuple[tuple[str, str], ...]) -> dict[str, object]:
    cuda = "13.0" if "cu130" in version else ("12.6" if "cu126" in version else None)
    return {
        "python": "/p/.venv/bin/python", "version": version, "cuda": cuda, "hip": None,
        "xpu_available": False, "cuda_available": bool(gpus and cuda), "arch_list": archs,
        "devices": [{"name": n, "capability": [int(x) for x in c.split(".")]} for n, c in gpus]
        if cuda else [],
    }


def test_arch_list_entries_as_torch_spells_them() -> None:
    assert parse_arch_entry("sm_61") == (6, 1, False)
    assert parse_arch_entry("sm_120") == (12, 0, False)
    assert parse_arch_entry("compute_120") == (12, 0, True)
    assert parse_arch_entry("sm_90a") == (9, 0, False)
    assert parse_arch_entry("gfx942") is None


def test_a_pascal_gpu_with_a_cuda_13_torch_fails_with_the_fix() -> None:
    verdict = judge(_report("2.9.1+cu130", ARCH_CU130, (GTX1080,)), machine("580.95.05", (GTX1080,)),
                    "`uvtorch sync --extra cu126`")
    assert not verdict.ok and verdict.fix == "`uvtorch sync --extra cu126`"
    assert any("compute capability 6.1, sm_61) is not in torch 2.9.1+cu130's arch list" in line
               for line in verdict.lines)


def test_a_build_that_covers_the_gpu_passes() -> None:
    assert judge(_report("2.9.1+cu126", ARCH_CU126, (GTX1080,)), machine("580.95.05", (GTX1080,)),
                 None).ok
    assert judge(_report("2.9.1+cu130", ARCH_CU130, (H100,)), machine("580.95.05", (H100,)), None).ok


def test_without_a_gpu_the_cpu_build_is_reported_and_passes() -> None:
    verdict = judge(_report("2.9.1+cpu", [], ()), machine(), None)
    assert verdict.ok and verdict.lines[0].startswith("torch 2.9.1+cpu (no CUDA or ROCm)")


def test_a_cpu_build_on_a_gpu_machine_fails() -> None:
    verdict = judge(_report("2.9.1+cpu", [], ()), machine("580.95.05", (H100,)), None)
    assert not verdict.ok and "build without GPU support" in verdict.lines[-1]
    assert verdict.fix and "uvtorch sync" in verdict.fix


# --------------------------------------------------------------------------------------------
# End to end: the real uv, the fake index, fake machines
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gpu_project(tmp_path_factory: pytest.TempPathFactory, fake_index: FakeIndex,
                uv_env_module: dict[str, str]) -> Path:
    """The issue's project: cpu, cu126 and cu130 extras with torchvision, locked."""
    project = tmp_path_factory.mktemp("sync") / "demo"
    assert main(["init", str(project), "--yes", "--index-url", fake_index.pytorch_base,
                 "--torch", ">=2.9,<2.10", "-a", "cpu", "-a", "cu126", "-a", "cu130",
                 "--package", "torchvision"]) == 0
    run_uv(["lock"], cwd=project, env=uv_env_module)
    return project


@pytest.fixture
def play(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uv_env: dict[str, str], gpu_project: Path):  # noqa: ANN201
    """Make this process (and the uv it runs) see a fake machine, inside the project."""

    def use(driver: str | None, gpus: tuple[tuple[str, str], ...] = (), *,
            driver_env: bool = True, compute_cap: bool = True) -> dict[str, str]:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir(exist_ok=True)
        write_nvidia_smi(bin_dir / "nvidia-smi", driver,
                         [{"name": name, "compute_cap": cap} for name, cap in gpus],
                         [] if compute_cap else ["compute_cap"])
        for key in list(os.environ):
            if key.startswith("UV_") or key in (ENV_EXTRA, FAKE_GPUS_ENV):
                monkeypatch.delenv(key)
        for key, value in uv_env.items():
            monkeypatch.setenv(key, value)
        uv_dir = str(Path(find_uv_bin()).parent)
        monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), uv_dir, uv_env["PATH"]]))
        if driver and driver_env:  # wins over a real /sys/module/nvidia/version
            monkeypatch.setenv(ENV_CUDA_DRIVER, driver)
        monkeypatch.setenv(FAKE_GPUS_ENV, ";".join(f"{n}={c}" for n, c in gpus))
        monkeypatch.chdir(gpu_project)
        return dict(os.environ)

    return use


def _torch(project: Path) -> str:
    return installed_packages(project, dict(os.environ))["torch"]


@pytest.mark.e2e
@pytest.mark.parametrize(("driver", "gpus", "build"), [
    ("580.95.05", (H100,), "cu130"),
    ("580.95.05", (GTX1080,), "cu126"),
    ("550.54.14", (H100,), "cu126"),
    (None, (), "cpu"),
], ids=["h100-580", "gtx1080-580", "h100-550", "no-gpu"])
def test_sync_installs_the_build_this_machine_runs(
    play, gpu_project: Path, capfd: pytest.CaptureFixture[str], driver: str | None,
    gpus: tuple[tuple[str, str], ...], build: str,
) -> None:
    if driver is None and Path("/sys/module/nvidia/version").exists():
        pytest.skip("a real NVIDIA driver is loaded here")
    play(driver, gpus)
    assert main(["sync", "--frozen"]) == 0
    err = capfd.readouterr().err
    assert f"uvtorch: extra {build} (" in err
    assert _torch(gpu_project) == f"2.9.1+{build}"
    assert installed_packages(gpu_project, dict(os.environ))["torchvision"] == f"0.24.1+{build}"


@pytest.mark.e2e
def test_the_driver_from_nvidia_smi_alone(play, gpu_project: Path, capfd: pytest.CaptureFixture[str]) -> None:
    if Path("/sys/module/nvidia/version").exists():
        pytest.skip("a real NVIDIA driver is loaded here")
    play("550.54.14", (H100,), driver_env=False)
    assert main(["which"]) == 0
    assert capfd.readouterr().out == "cu126\n"


@pytest.mark.e2e
def test_an_nvidia_smi_without_compute_cap_still_gives_the_gpus(
    play, capfd: pytest.CaptureFixture[str]
) -> None:
    """nvidia-smi before ~510 rejects the compute_cap field (huggingface/candle#733)."""
    play("535.183.01", (GTX1080,), compute_cap=False)
    smi = subprocess.run(["nvidia-smi", "--query-gpu=name,compute_cap", "--format=csv,noheader"],
                         capture_output=True, text=True)
    assert smi.returncode == 2 and 'Field "compute_cap" is not a valid field' in smi.stdout
    assert main(["which", "--json"]) == 0
    data = json.loads(capfd.readouterr().out)
    assert data["extra"] == "cu126"  # newest the driver runs; the GPU's fit is not known
    assert data["machine"]["nvidia"]["gpus"] == [
        {"name": "NVIDIA GeForce GTX 1080", "compute_capability": None}]


@pytest.mark.e2e
def test_the_flag_and_the_environment_variable_win(
    play, gpu_project: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    play("580.95.05", (H100,))
    monkeypatch.setenv(ENV_EXTRA, "cu126")
    assert main(["sync", "--frozen"]) == 0
    assert "extra cu126 (from UVTORCH_EXTRA=cu126)" in capfd.readouterr().err
    assert _torch(gpu_project) == "2.9.1+cu126"
    assert main(["sync", "--extra", "cpu", "--frozen"]) == 0
    assert "extra cpu (from --extra)" in capfd.readouterr().err
    assert _torch(gpu_project) == "2.9.1+cpu"


@pytest.mark.e2e
def test_run_prints_the_chosen_build(play, capfd: pytest.CaptureFixture[str]) -> None:
    play("580.95.05", (GTX1080,))
    code = main(["run", "-q", "--frozen", "python", "-c",
                 "import sys, torch; print(torch.__version__, sys.argv[1:])", "--extra", "-q"])
    out, err = capfd.readouterr()
    assert code == 0, err
    assert out.strip().splitlines()[-1] == "2.9.1+cu126 ['--extra', '-q']"
    assert "uvtorch: extra cu126 (" in err


@pytest.mark.e2e
def test_run_passes_the_commands_exit_code_back(play) -> None:
    play(None)
    assert main(["run", "--frozen", "--", "python", "-c", "raise SystemExit(7)"]) == 7


@pytest.mark.e2e
def test_verify_fails_with_the_fix_for_a_cuda_13_torch_on_a_pascal_gpu(
    play, capfd: pytest.CaptureFixture[str]
) -> None:
    play("580.95.05", (GTX1080,))
    assert main(["sync", "--extra", "cu130", "--frozen", "--verify"]) == 1
    err = capfd.readouterr().err
    assert "verify: torch 2.9.1+cu130 (CUDA 13.0)" in err
    assert "NVIDIA GeForce GTX 1080 (compute capability 6.1): NOT covered" in err
    assert "Fix: `uvtorch sync --extra cu126`" in err
    assert main(["verify"]) == 1  # the environment as it is, without a sync
    capfd.readouterr()
    assert main(["sync", "--frozen", "--verify"]) == 0
    err = capfd.readouterr().err
    assert "torch 2.9.1+cu126 (CUDA 12.6)" in err and "ok: torch can use this machine's GPU" in err


@pytest.mark.e2e
def test_verify_on_an_h100_and_without_a_gpu(play, capfd: pytest.CaptureFixture[str]) -> None:
    play("580.95.05", (H100,))
    assert main(["sync", "--frozen", "--verify"]) == 0
    assert "GPU 0: NVIDIA H100 80GB HBM3 (compute capability 9.0): covered" in capfd.readouterr().err
    if Path("/sys/module/nvidia/version").exists():
        return
    play(None)
    assert main(["sync", "--frozen", "--verify"]) == 0
    assert "no GPU on this machine" in capfd.readouterr().err


@pytest.mark.e2e
def test_conflicting_extras_in_uvs_arguments_are_refused(play, capfd: pytest.CaptureFixture[str]) -> None:
    play("580.95.05", (H100,))
    assert main(["sync", "--all-extras"]) == 2
    assert "--all-extras would install every accelerator extra" in capfd.readouterr().err
    assert main(["sync", "--extra", "cu126", "--extra", "cu130"]) == 2
    assert "they conflict" in capfd.readouterr().err


@pytest.mark.e2e
def test_without_uv_on_path_it_says_how_to_get_it(
    play, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    play(None)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["sync"]) == 1
    err = capfd.readouterr().err
    assert "uv is not on PATH" in err and "astral.sh/uv/install.sh" in err


@pytest.mark.e2e
def test_uv_run_without_the_extra_keeps_torch_only_a_plain_sync_removes_it(
    play, gpu_project: Path
) -> None:
    """What the generated README says about the plain uv commands (uv 0.13)."""
    env = play(None)
    run_uv(["sync", "--frozen", "--extra", "cpu"], cwd=gpu_project, env=env)
    shown = run_uv(["run", "--frozen", "python", "-c", "import torch; print(torch.__version__)"],
                   cwd=gpu_project, env=env)
    assert shown.stdout.strip() == "2.9.1+cpu"
    run_uv(["sync", "--frozen"], cwd=gpu_project, env=env)
    assert "torch" not in installed_packages(gpu_project, env)


# --------------------------------------------------------------------------------------------
# Inside a container image: the system extra
# --------------------------------------------------------------------------------------------


def _python3_on_path(folder: Path, monkeypatch: pytest.MonkeyPatch, has_torch: bool) -> None:
    """A python3 that answers the find_spec question as an image's would."""
    folder.mkdir(exist_ok=True)
    python3 = folder / "python3"
    python3.write_text(f"#!/bin/sh\necho {has_torch}\n")
    python3.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))


@pytest.mark.parametrize(("env", "has_torch", "inside"), [
    ({"container": "podman"}, True, True),
    ({"container": "podman"}, False, False),
    ({}, True, None),  # no marker: inside only where /.dockerenv or /run/.containerenv exist
])
def test_an_image_is_a_container_whose_python3_imports_torch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], has_torch: bool,
    inside: bool | None,
) -> None:
    from uvtorch.sync import CONTAINER_FILES, in_image_with_torch

    _python3_on_path(tmp_path / "bin", monkeypatch, has_torch)
    expected = inside if inside is not None else any(Path(p).exists() for p in CONTAINER_FILES)
    assert in_image_with_torch(env) is expected


@pytest.fixture
def image_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cpu + system project, inside a fake image whose python3 has torch."""
    project = tmp_path / "app"
    assert main(["init", str(project), "--yes", "-a", "cpu", "-a", "system",
                 "--system-torch", "2.5.0a0+872d972e41.nv24.08"]) == 0
    _python3_on_path(tmp_path / "bin", monkeypatch, True)
    uv_dir = str(Path(find_uv_bin()).parent)
    monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path / "bin"), uv_dir]))
    monkeypatch.setenv("container", "docker")
    monkeypatch.delenv(ENV_EXTRA, raising=False)
    monkeypatch.delenv("UV_PROJECT_ENVIRONMENT", raising=False)
    monkeypatch.chdir(project)
    return project


def test_in_the_image_which_names_the_system_extra(
    image_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["which"]) == 0
    assert capsys.readouterr().out == "system\n"


def test_the_system_extra_needs_the_venv_that_sees_the_image(
    image_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync"]) == 1
    err = capsys.readouterr().err
    assert "does not exist yet" in err and "uv venv --system-site-packages" in err


def test_syncing_into_the_images_venv_keeps_its_torch(
    image_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from uvtorch.sync import plan

    monkeypatch.setenv("UV_PROJECT_ENVIRONMENT", "/opt/venv")
    todo = plan("sync", split_args("sync", ["--frozen"]))
    assert todo.argv[1:] == ("sync", "--extra", "system", "--inexact", "--frozen")
    assert "--inexact" in todo.notes[0]


def test_which_json_gives_the_reasoning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "demo"
    assert main(["init", str(project), "--yes", "-a", "cpu", "-a", "cu126",
                 "--torch", ">=2.9,<2.10"]) == 0
    capsys.readouterr()
    monkeypatch.setenv(ENV_EXTRA, "cu126")
    assert main(["which", "--json", "--project", str(project)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["extra"] == "cu126" and data["origin"] == "UVTORCH_EXTRA=cu126"
    assert [e["build"] for e in data["extras"]] == ["cpu", "cu126"]
    assert data["machine"] is None  # pinned: the machine was not probed


def test_the_fix_names_the_extra_that_fits_else_the_build_to_add() -> None:
    from uvtorch.cli_sync import _fix_hint
    from uvtorch.sync import Project

    pascal = machine("580.95.05", (GTX1080,))
    both = Project(Path("."), extras("cpu", "cu126", "cu130"), {})
    assert _fix_hint(both, pascal, "cu130") is not None
    assert "`uvtorch sync --extra cu126`" in str(_fix_hint(both, pascal, "cu130"))
    only_13 = Project(Path("."), extras("cpu", "cu130"), {})
    assert "`uvtorch add -a cu126`" in str(_fix_hint(only_13, pascal, "cu130"))


@given(st.text(alphabet="aAbZ09-_.", max_size=12))
def test_the_fast_name_normalization_is_packagings(name: str) -> None:
    """names.canonicalize_name replaced packaging's for start-up time; it must not differ."""
    from packaging.utils import canonicalize_name as packaging_canonicalize

    from uvtorch.names import canonicalize_name

    assert canonicalize_name(name) == packaging_canonicalize(name)


@pytest.mark.e2e
def test_as_a_program_from_another_folder_with_project(play, gpu_project: Path, tmp_path: Path) -> None:
    """A real process: the line on stderr, the command's output alone on stdout."""
    env = play("550.54.14", (H100,))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "uvtorch", "run", "--project", str(gpu_project), "--frozen", "-q",
         "python", "-c", "import torch; print(torch.__version__)"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2.9.1+cu126\n"
    assert done.stderr.startswith("uvtorch: extra cu126 (driver 550.54.14 runs CUDA 12.x;")


def test_of_two_extras_with_one_build_the_one_named_after_it() -> None:
    """marin-core (tests/corpus): `tpu` and `cpu` both get the cpu index; `gpu` is cu128."""
    project = (ProjectExtra("gpu", "cu128", "t", "2.11.0"), ProjectExtra("tpu", "cpu", "t", None),
               ProjectExtra("cpu", "cpu", "t", None), ProjectExtra("cu128", "cu128", "t", "2.11.0"))
    assert choose_extra(project, machine()).extra == "cpu"
    assert choose_extra(project, machine("580.95.05", (H100,))).extra == "cu128"


def test_a_workspace_members_environment_is_the_workspaces(tmp_path: Path) -> None:
    from uvtorch.sync import Project, environment_dir

    (tmp_path / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["app"]\n')
    member = tmp_path / "app"
    member.mkdir()
    split = split_args("sync", [])
    assert environment_dir(Project(member, (), {}), split, {}) == tmp_path / ".venv"
    assert environment_dir(Project(member, (), {}), split, {"UV_PROJECT_ENVIRONMENT": "env"}) == (
        tmp_path / "env")
    assert environment_dir(Project(member, (), {}), split, {"UV_PROJECT_ENVIRONMENT": "/opt/v"}) == (
        Path("/opt/v"))
    assert environment_dir(Project(tmp_path, (), {}), split, {}) == tmp_path / ".venv"


@pytest.mark.e2e
def test_the_readmes_script_form_with_which(play, gpu_project: Path) -> None:
    """`uv sync --extra "$(uvtorch which)"`, as the generated README suggests for scripts."""
    env = play("580.95.05", (GTX1080,))
    which = f"{sys.executable} -m uvtorch which"
    subprocess.run(["sh", "-c", f'uv sync --frozen --extra "$({which})"'], cwd=gpu_project,
                   env=env, check=True, capture_output=True, timeout=300)
    assert _torch(gpu_project) == "2.9.1+cu126"


def test_rocm_extras_are_chosen_by_gfx_target() -> None:
    # rocm6.4's wheels have no gfx950 kernels (data/rocm.toml): an MI355 gets rocm7.0
    mi355 = choose_extra(extras("cpu", "rocm6.4", "rocm7.0"), machine(gfx="gfx950"))
    assert mi355.extra == "rocm7-0" and "rocm6-4 has no kernels for gfx950" not in mi355.line()
    only_old = choose_extra(extras("cpu", "rocm6.4"), machine(gfx="gfx950"))
    assert only_old.extra == "cpu"
    assert "rocm6-4 has no kernels for gfx950" in only_old.line()
