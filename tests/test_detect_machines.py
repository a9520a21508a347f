"""`uvtorch detect` and `-a auto` on fake machines whose tools behave like the real ones.

Each folder in tests/fixtures/machines/ describes a machine by what it has (machine.toml, see
tests/fakemachine.py) and what uvtorch must choose (expected.toml): `[auto]` for no --torch
(`choose_for_machine` over every release), `[pinned]` for a --torch spec. The commands run for
real (a fake nvidia-smi, ROCm tools and PowerShell on PATH), so the probe's own command lines
are under test too. `uv` in expected.toml is what uv would be told (`torch_backend`) and what
`uv --torch-backend=auto` picks for the same torch release (`auto`, read from uv's source;
README.md "uvtorch vs uv --torch-backend=auto" lists them).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fakemachine import FakeMachine
from test_detect import assert_subset
from tomlread import loads
from uvtorch.catalog import load
from uvtorch.cli import main
from uvtorch.detect import NVIDIA_SMI_QUERY, choose_for_machine, detect, to_json
from uvtorch.plan import check_torch
from uvtorch.probe import probe

MACHINES = Path(__file__).parent / "fixtures" / "machines"
NAMES = sorted(p.name for p in MACHINES.iterdir() if (p / "machine.toml").is_file())


def _expected(name: str) -> dict[str, Any]:
    return loads((MACHINES / name / "expected.toml").read_text())


def _minors(spec: str) -> list[str]:
    catalog = load()
    _, patches = check_torch(spec, (), catalog)
    return [str(r.minor) for r in catalog.releases if any(p in patches for p in r.patches)]


def _check(want: dict[str, Any], got: dict[str, Any], where: str) -> None:
    want = dict(want)
    says = want.pop("says", [])
    want.pop("spec", None)
    assert_subset(want, got, where)
    for text in says:
        assert any(text in reason for reason in got["reasons"]), (
            f"{where}: no reason says {text!r}:\n" + "\n".join(got["reasons"])
        )


def test_every_machine_has_expectations() -> None:
    assert len(NAMES) >= 13
    for name in NAMES:
        expected = _expected(name)
        assert {"auto", "pinned"} <= set(expected), name


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case", ["auto", "pinned"])
def test_machine(name: str, case: str, tmp_path: Path) -> None:
    machine = FakeMachine(MACHINES / name, tmp_path)
    detection = detect(probe(machine.reader()))
    want = _expected(name)[case]
    minors = _minors(want["spec"]) if case == "pinned" else None
    got = to_json(detection, choose_for_machine(detection, load(), minors))["choice"]
    _check(want, got, f"{name} {case}")


def test_the_cli_runs_the_real_commands_of_a_fake_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    machine = FakeMachine(MACHINES / "pascal-580", tmp_path)
    monkeypatch.setattr("uvtorch.probe.SystemReader", lambda **_: machine.reader())
    assert main(["detect", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["nvidia"]["gpus"] == [
        {"name": "NVIDIA GeForce GTX 1080", "compute_capability": "6.1"}
    ]
    assert (data["choice"]["torch"], data["choice"]["accelerator"]) == ("2.14", "cu126")


def test_init_auto_on_a_gfx942_host_with_rocm_6_4_gets_a_current_rocm_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    machine = FakeMachine(MACHINES / "gfx942-rocm64", tmp_path / "m")
    monkeypatch.setattr("uvtorch.probe.SystemReader", lambda **_: machine.reader())
    target = tmp_path / "p"
    assert main(["init", str(target), "--yes", "-a", "cpu", "-a", "auto"]) == 0
    assert "-a auto: rocm7.2 (torch 2.14)" in capsys.readouterr().out
    pyproject = (target / "pyproject.toml").read_text()
    assert "https://download.pytorch.org/whl/rocm7.2" in pyproject
    assert '"torch>=2.14,<2.15"' in pyproject


def test_fake_nvidia_smi_rejects_fields_the_real_one_does_not_know(tmp_path: Path) -> None:
    machine = FakeMachine(MACHINES / "pascal-580", tmp_path)
    smi = str(machine.bin / "nvidia-smi")
    bad = subprocess.run([smi, "--query-gpu=name,compute_capability", "--format=csv,noheader"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert bad.stdout == 'Field "compute_capability" is not a valid field to query.\n'
    good = subprocess.run([smi, *NVIDIA_SMI_QUERY[1:]], capture_output=True, text=True,
                          check=True)
    assert good.stdout == "NVIDIA GeForce GTX 1080, 580.95.05, 6.1\n"
    header = subprocess.run([smi, "--query-gpu=gpu_name,memory.total", "--format=csv,nounits"],
                            capture_output=True, text=True, check=True)
    assert header.stdout == "gpu_name, memory.total\nNVIDIA GeForce GTX 1080, 8192\n"
