"""`uvtorch detect` and `init -a auto` through the CLI, on recorded machines (no GPU needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_detect import FixtureReader
from uvtorch.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "detect"


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201 - returns a setter
    """Make the CLI read a recorded machine instead of this one."""

    def use(name: str) -> None:
        monkeypatch.setattr("uvtorch.probe.SystemReader",
                            lambda **_: FixtureReader(FIXTURES / name))

    return use


def test_detect_report_on_the_real_h100_outputs(machine, capsys: pytest.CaptureFixture[str]) -> None:
    machine("h100")
    assert main(["detect", "--torch", "2.14"]) == 0
    out = capsys.readouterr().out
    assert "NVIDIA H100 80GB HBM3" in out and "580.159.04" in out and "9.0" in out
    assert "-a cu132" in out


def test_detect_json_is_stable_and_machine_readable(machine, capsys: pytest.CaptureFixture[str]) -> None:
    machine("h100")
    assert main(["detect", "--json", "--torch", "2.14"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == 1
    assert data["nvidia"]["gpus"] == [{"name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0"}]
    assert data["choice"]["accelerator"] == "cu132"


def test_a_pascal_card_is_not_given_builds_without_its_code(
    machine, capsys: pytest.CaptureFixture[str]
) -> None:
    machine("pascal-580")
    assert main(["detect", "--json", "--torch", "2.14"]) == 0
    assert json.loads(capsys.readouterr().out)["choice"]["accelerator"] == "cu126"


def test_unknown_torch_release_is_a_usage_error(machine, capsys: pytest.CaptureFixture[str]) -> None:
    machine("h100")
    assert main(["detect", "--torch", "9.9"]) == 2
    assert "9.9" in capsys.readouterr().err


def test_init_auto_uses_the_detected_build_and_says_why(
    machine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    machine("pascal-580")
    target = tmp_path / "auto"
    assert main(["init", str(target), "--yes", "-a", "cpu", "-a", "auto",
                 "--torch", ">=2.14,<2.15"]) == 0
    out = capsys.readouterr().out
    assert "-a auto: cu126" in out and "6.1" in out
    pyproject = (target / "pyproject.toml").read_text()
    assert "cu126 = [" in pyproject and "cu132" not in pyproject
    assert 'accelerators = ["cpu", "cu126"]' in (target / ".uvtorch.toml").read_text()


def test_init_auto_without_torch_gives_a_cuda_12_driver_a_gpu_build(
    machine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """issue 13: 2.15 has only cu132 (driver >= 580); a 535 driver must get 2.14 + cu126."""
    machine("env-driver")
    target = tmp_path / "auto"
    assert main(["init", str(target), "--yes", "-a", "cpu", "-a", "auto"]) == 0
    captured = capsys.readouterr()
    assert "-a auto: cu126 (torch 2.14)" in captured.out
    assert "torch 2.15 have only CPU builds" in captured.out or "torch 2.15 has only CPU builds" in captured.out
    pyproject = (target / "pyproject.toml").read_text()
    assert "cu126 = [" in pyproject and '"torch>=2.14,<2.15"' in pyproject
    assert "warning" not in captured.err


def test_init_auto_with_a_torch_that_has_no_build_for_the_gpu_warns(
    machine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    machine("env-driver")
    target = tmp_path / "auto"
    assert main(["init", str(target), "--yes", "-a", "cpu", "-a", "auto",
                 "--torch", ">=2.15"]) == 0
    captured = capsys.readouterr()
    assert "-a auto: cpu (torch 2.15)" in captured.out
    assert "warning: -a auto: no torch release matching --torch '>=2.15'" in captured.err
    assert "torch 2.14 has cu126" in captured.err


def test_detect_without_torch_chooses_across_releases(
    machine, capsys: pytest.CaptureFixture[str]
) -> None:
    machine("pascal-580")
    assert main(["detect", "--json"]) == 0
    choice = json.loads(capsys.readouterr().out)["choice"]
    assert (choice["torch"], choice["accelerator"]) == ("2.14", "cu126")
    assert choice["newer_cpu_only"] == ["2.15"]
    assert choice["uv"] == {"torch_backend": "cu126", "auto": "cu132", "version": "0.13.9"}
