"""`uvtorch detect`: parsers, the decision and the report, over fixture machines.

Each folder in tests/fixtures/detect/ is one machine (see its README.md for the file names):
`probe()` reads it through `FixtureReader`, `detect()` parses it, `choose()` decides for the
torch releases listed in its expected.toml. No test needs a GPU or the network.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from tomlread import loads
from uvtorch.catalog import load
from uvtorch.detect import (
    ENV_AMD_ARCH,
    ENV_CUDA_DRIVER,
    WINDOWS_VIDEO,
    choose_for_machine,
    parse_kfd_properties,
    parse_windows_video,
    NVIDIA_SMI_BASIC,
    NVIDIA_SMI_QUERY,
    PCI_DEVICES,
    SYS_MODULE_NVIDIA,
    Arch,
    Detection,
    Facts,
    Gpu,
    choose,
    command_key,
    cuda_data_from,
    cuda_major_for,
    cuda_of,
    detect,
    format_report,
    load_cuda,
    parse_arch,
    parse_nvidia_smi,
    parse_proc_driver_nvidia_version,
    parse_rocm_agents,
    parse_rocm_version,
    parse_rocminfo,
    parse_torch_info,
    platform_id,
    serves,
    to_json,
    torch_variant,
)
from uvtorch.probe import SystemReader, probe

FIXTURES = Path(__file__).parent / "fixtures" / "detect"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.toml").is_file())
NULL = "<null>"  # expected.toml's spelling of JSON null


def slug(path: str) -> str:
    """'/sys/module/nvidia/version' -> 'sys-module-nvidia-version.txt'."""
    return path.strip("/").replace("/", "-") + ".txt"


_FAKE_SMI: dict[Path, Path] = {}  # fixture folder -> its fake nvidia-smi


class FixtureReader:
    """A `Reader` that serves one fixture folder and records what was asked, in order.

    Files and environment variables are served as recorded. `nvidia-smi` is not looked up by
    the command line uvtorch happens to run: the recorded answers (the CSV files, see the
    folder README) are read as the machine's GPU table, and the one strict fake of
    tests/fakemachine.py answers whatever query is run, rejecting a field the real tool does
    not know. A machine whose full query failed (only the basic CSV recorded) has a driver
    that does not know `compute_cap`.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.calls: list[str] = []
        env_file = folder / "env.toml"
        self.environ = loads(env_file.read_text()) if env_file.is_file() else {}
        self.pci: dict[str, tuple[str, str]] = {}
        pci_file = folder / "sys-bus-pci-devices.txt"
        if pci_file.is_file():
            for line in pci_file.read_text().splitlines():
                if line.strip() and not line.startswith("#"):
                    device, klass, vendor = line.split()
                    self.pci[device] = (klass, vendor)

    def _file(self, name: str) -> str | None:
        path = self.folder / name
        return path.read_text() if path.is_file() else None

    def env(self, name: str) -> str | None:
        self.calls.append(f"env {name}")
        value = self.environ.get(name)
        return str(value) if value is not None else None

    def read_text(self, path: str) -> str | None:
        self.calls.append(f"file {path}")
        if path.startswith(PCI_DEVICES + "/"):
            device, attribute = path[len(PCI_DEVICES) + 1 :].split("/")
            if device in self.pci:
                return self.pci[device][0 if attribute == "class" else 1] + "\n"
            return None
        return self._file(slug(path))

    def list_dir(self, path: str) -> tuple[str, ...] | None:
        self.calls.append(f"dir {path}")
        return tuple(sorted(self.pci)) if path == PCI_DEVICES and self.pci else None

    def _nvidia_smi(self) -> Path | None:
        """The fake nvidia-smi of this machine (written once), or None if it has none."""
        full, basic = self._file("nvidia-smi-query-noheader.csv"), self._file("nvidia-smi-query-basic.csv")
        recorded = full if full is not None else basic
        if recorded is None:
            return None
        if self.folder not in _FAKE_SMI:  # one per folder and test session
            import tempfile

            from fakemachine import write_nvidia_smi

            rows = [[c.strip() for c in line.split(",")] for line in recorded.splitlines() if line.strip()]
            gpus = [{"name": r[0], **({"compute_cap": r[2]} if full is not None else {})} for r in rows]
            smi = Path(tempfile.mkdtemp(prefix="uvtorch-fake-smi-")) / "nvidia-smi"
            write_nvidia_smi(smi, rows[0][1], gpus, [] if full is not None else ["compute_cap"])
            _FAKE_SMI[self.folder] = smi
        return _FAKE_SMI[self.folder]

    def run(self, argv: Sequence[str]) -> str | None:
        import subprocess

        self.calls.append(f"run {command_key(argv)}")
        if argv[0] == "nvidia-smi":
            smi = self._nvidia_smi()
            if smi is None:
                return None
            done = subprocess.run([str(smi), *argv[1:]], capture_output=True, text=True, timeout=60)
            return done.stdout if done.returncode == 0 else None
        return self._file(slug(argv[0]))

    def platform(self) -> tuple[str, str]:
        system, machine = (self._file("platform.txt") or "Linux x86_64").split()
        return (system, machine)

    def torch_info(self) -> str | None:
        self.calls.append("torch")
        return self._file("torch-info.json")


def case(name: str) -> tuple[Detection, dict[str, Any]]:
    folder = FIXTURES / name
    detection = detect(probe(FixtureReader(folder)))
    return detection, loads((folder / "expected.toml").read_text())


def assert_subset(expected: Any, actual: Any, where: str = "") -> None:
    """Every key in `expected` is in `actual` with that value; lists compare whole."""
    if expected == NULL:
        assert actual is None, f"{where}: expected null, got {actual!r}"
    elif isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected a table, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing from {sorted(actual)}"
            assert_subset(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (
            f"{where}: expected {expected!r}, got {actual!r}"
        )
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_subset(e, a, f"{where}[{i}]")
    else:
        assert actual == expected, f"{where}: expected {expected!r}, got {actual!r}"


CHOICES = [
    pytest.param(name, minor, id=f"{name}-torch{minor}")
    for name in CASES
    for minor in loads((FIXTURES / name / "expected.toml").read_text()).get("choice", {})
]


# --------------------------------------------------------------------------------------------
# Fixture machines
# --------------------------------------------------------------------------------------------


def test_every_fixture_folder_has_expectations() -> None:
    folders = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
    assert folders == CASES
    assert len(CHOICES) >= len(CASES)


@pytest.mark.parametrize("name", CASES)
def test_detection(name: str) -> None:
    detection, expected = case(name)
    assert_subset(expected["detection"], to_json(detection), name)


@pytest.mark.parametrize(("name", "minor"), CHOICES)
def test_choice(name: str, minor: str) -> None:
    detection, expected = case(name)
    want = dict(expected["choice"][minor])
    says = want.pop("says", [])
    got = to_json(detection, choose(detection, load(), minor))["choice"]
    assert_subset(want, got, f"{name} torch {minor}")
    for text in says:
        assert any(text in reason for reason in got["reasons"]), (
            f"no reason says {text!r}:\n" + "\n".join(got["reasons"])
        )


@pytest.mark.parametrize("name", CASES)
def test_json_is_complete_and_serialisable(name: str) -> None:
    detection, _ = case(name)
    data = to_json(detection, choose(detection, load()))
    assert data["schema_version"] == 1
    assert set(data) == {
        "schema_version", "platform", "system", "machine", "nvidia", "amd", "intel",
        "torch", "notes", "read", "choice",
    }  # fmt: skip
    assert set(data["choice"]) == {
        "torch", "accelerator", "checked", "reasons", "candidates", "alternative",
        "newer_cpu_only", "uv", "variant_providers",
    }  # fmt: skip
    assert json.loads(json.dumps(data)) == data


@pytest.mark.parametrize("name", CASES)
def test_report_names_the_accelerator(name: str) -> None:
    detection, _ = case(name)
    choice = choose(detection, load())
    report = format_report(detection, choice)
    assert f"-a {choice.accelerator} with torch {choice.torch}" in report
    assert all(f"  - {reason}" in report for reason in choice.reasons)


def test_h100_report() -> None:
    detection, _ = case("h100")
    report = format_report(detection, choose(detection, load(), "2.14"))
    assert report.splitlines()[:4] == [
        "platform: linux-x86_64",
        "NVIDIA:   driver 580.159.04 (/sys/module/nvidia/version), runs CUDA 13.x builds",
        "GPU 0:    NVIDIA H100 80GB HBM3, compute capability 9.0",
        "torch:    none importable",
    ]
    assert "use:      -a cu132 with torch 2.14" in report


# --------------------------------------------------------------------------------------------
# probe(): what is read, and in which order
# --------------------------------------------------------------------------------------------


def test_probe_reads_in_uvs_order() -> None:
    reader = FixtureReader(FIXTURES / "h100")
    facts = probe(reader)
    order = [  # crates/uv-torch/src/accelerator.rs, Accelerator::detect
        "env UV_CUDA_DRIVER_VERSION",
        "env UV_AMD_GPU_ARCHITECTURE",
        "file /sys/module/nvidia/version",
        "file /proc/driver/nvidia/version",
        f"run {command_key(NVIDIA_SMI_QUERY)}",
        "run rocm_agent_enumerator",
        "run rocminfo",
        "file /opt/rocm/.info/version",
        f"dir {PCI_DEVICES}",
        "torch",
    ]
    positions = [reader.calls.index(step) for step in order]
    assert positions == sorted(positions)
    assert facts.read[0] == "platform"
    # the full query answered, so the fallback query is never run
    assert f"run {command_key(NVIDIA_SMI_BASIC)}" not in reader.calls


def test_recorded_machines_answer_any_real_query_and_reject_a_misspelt_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The recorded nvidia-smi answers are a GPU table, not keyed by uvtorch's command line."""
    reader = FixtureReader(FIXTURES / "h100")
    assert reader.run(["nvidia-smi", "--query-gpu=compute_cap,gpu_name", "--format=csv"]) == (
        "compute_cap, gpu_name\n9.0, NVIDIA H100 80GB HBM3\n")
    misspelt = ("nvidia-smi", "--query-gpu=name,driver_version,compute_capability",
                "--format=csv,noheader")
    assert reader.run(list(misspelt)) is None
    monkeypatch.setattr("uvtorch.probe.NVIDIA_SMI_QUERY", misspelt)
    facts = probe(FixtureReader(FIXTURES / "h100"))
    assert command_key(misspelt) not in facts.commands  # the misspelt query failed, as for real
    assert to_json(detect(facts))["nvidia"]["gpus"][0]["compute_capability"] is None


def test_probe_falls_back_to_the_basic_nvidia_smi_query() -> None:
    reader = FixtureReader(FIXTURES / "old-driver-470")
    probe(reader)
    assert reader.calls.index(f"run {command_key(NVIDIA_SMI_QUERY)}") < reader.calls.index(
        f"run {command_key(NVIDIA_SMI_BASIC)}"
    )


def test_probe_looks_for_rocm_tools_outside_path_and_stops_at_the_first() -> None:
    reader = FixtureReader(FIXTURES / "rocm-gfx942")
    probe(reader)
    runs = [c for c in reader.calls if c.startswith("run ") and "nvidia" not in c]
    assert runs == [
        "run rocm_agent_enumerator",
        "run rocminfo",
        "run /opt/rocm/bin/rocm_agent_enumerator",
        "run /opt/rocm/bin/rocminfo",
    ]
    reader = FixtureReader(FIXTURES / "rocm-gfx90a")
    probe(reader)
    assert [c for c in reader.calls if c.startswith("run ") and "nvidia" not in c] == [
        "run rocm_agent_enumerator"
    ]


def _facts(**kwargs: Any) -> Facts:
    base: dict[str, Any] = {
        "system": "Linux", "machine": "x86_64", "env": {}, "files": {}, "commands": {},
        "pci": (), "torch": None, "read": (),
    }  # fmt: skip
    base.update(kwargs)
    return Facts(**base)


def _smi(*rows: str) -> dict[str, str]:
    return {command_key(NVIDIA_SMI_QUERY): "\n".join(rows) + "\n"}


# --------------------------------------------------------------------------------------------
# detect(): precedence and notes
# --------------------------------------------------------------------------------------------


def test_env_driver_overrides_the_installed_one_and_says_so() -> None:
    d = detect(
        _facts(
            env={ENV_CUDA_DRIVER: "535.104.05"},
            files={SYS_MODULE_NVIDIA: "580.95.05\n"},
            commands=_smi("NVIDIA GeForce RTX 3090, 580.95.05, 8.6"),
        )
    )
    assert (d.driver, d.driver_source, d.cuda_major) == ("535.104.05", ENV_CUDA_DRIVER, 12)
    assert d.gpus == (Gpu("NVIDIA GeForce RTX 3090", (8, 6)),)
    assert any("overrides the installed driver (580.95.05)" in n for n in d.notes)
    assert choose(d, load(), "2.14").accelerator == "cu126"


def test_bad_env_driver_is_ignored_with_a_note() -> None:
    d = detect(_facts(env={ENV_CUDA_DRIVER: "latest"}, files={SYS_MODULE_NVIDIA: "580.95.05"}))
    assert (d.driver, d.driver_source) == ("580.95.05", SYS_MODULE_NVIDIA)
    assert any("'latest' is not a driver version" in n for n in d.notes)


def test_nvidia_device_without_driver_is_noted() -> None:
    d = detect(_facts(pci=(("0000:01:00.0", "0x030000", "0x10de"),)))
    assert d.driver is None
    assert any("no NVIDIA driver was found" in n for n in d.notes)
    assert choose(d, load()).accelerator == "cpu"


@pytest.mark.parametrize(
    ("version", "origin", "points_at_system"),
    [
        ("2.11.0+cu130", "the cu130 build from the PyTorch index", False),
        ("2.15.0", "PyPI's build or another without a local version tag", True),
        ("2.5.0a0+872d972e41.nv24.08", "an NVIDIA container build (nv24.08)", True),
        ("2.3.0+git1234", "a build from outside the PyTorch index", True),
    ],
)
def test_an_importable_torch_is_reported(version: str, origin: str, points_at_system: bool) -> None:
    info = json.dumps({"python": "/py", "version": version, "cuda": None, "cuda_available": False})
    d = detect(_facts(torch=info))
    assert d.torch is not None and d.torch.version == version
    reason = choose(d, load()).reasons[-1]
    assert reason.startswith(f"a torch is already importable by /py: {version} (no CUDA, no GPU")
    assert origin in reason
    # A build from the PyTorch index is one an extra reinstalls; the others only -a system keeps.
    assert ("uvtorch init -a system" in reason) == points_at_system


def test_torch_query_printing_null_means_no_torch() -> None:
    assert detect(_facts(torch="null\n")).torch is None
    d = detect(_facts(torch="Traceback (most recent call last): ..."))
    assert d.torch is None and any("unexpected" in n for n in d.notes)


# --------------------------------------------------------------------------------------------
# choose(): edge cases
# --------------------------------------------------------------------------------------------


def test_pascal_never_gets_a_build_without_its_code() -> None:
    """astral-sh/uv#14742: a GTX 1080 (6.1) on a new driver must not get cu128/cu13x."""
    d = detect(
        _facts(files={SYS_MODULE_NVIDIA: "580.95.05"}, commands=_smi("GTX 1080, 580.95.05, 6.1"))
    )
    for release in load().releases:
        choice = choose(d, load(), release.minor)
        cuda = cuda_of(choice.accelerator)
        assert choice.accelerator == "cpu" or (cuda is not None and cuda < (12, 8)), release.minor


def test_gpus_no_single_build_serves_get_cpu_and_are_told_why() -> None:
    d = detect(
        _facts(
            files={SYS_MODULE_NVIDIA: "580.95.05"},
            commands=_smi("RTX 5090, 580.95.05, 12.0", "GTX 1080, 580.95.05, 6.1"),
        )
    )
    choice = choose(d, load(), "2.14")
    assert choice.accelerator == "cpu"
    assert any("cu126 lacks compute capability 12.0" in r for r in choice.reasons)
    assert any("cu132 lacks compute capability 6.1" in r for r in choice.reasons)


def test_unknown_platform_gets_cpu() -> None:
    d = detect(_facts(system="Windows", machine="ARM64", commands=_smi("X, 581.57, 8.6")))
    choice = choose(d, load())
    assert (d.platform, choice.accelerator) == ("windows-arm64", "cpu")
    assert "not a platform uvtorch targets" in choice.reasons[0]


def test_unknown_torch_release_is_refused() -> None:
    with pytest.raises(ValueError, match="torch 1.13 is not in the catalog"):
        choose(detect(_facts()), load(), "1.13")


def test_default_torch_release_is_the_newest() -> None:
    assert choose(detect(_facts()), load()).torch == str(load().releases[-1].minor)


def test_torch_release_may_be_a_patch_version() -> None:
    assert choose(detect(_facts()), load(), Version("2.9.1")).torch == "2.9"


# --------------------------------------------------------------------------------------------
# Parsers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ((FIXTURES / "h100" / "proc-driver-nvidia-version.txt").read_text(), "580.159.04"),
        (
            "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.144.03  Release Build"
            "  (dvs-builder@U16-I3-D08-1-2)  Mon Dec 30 17:26:13 UTC 2024\n",
            "550.144.03",
        ),
        ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  375.74  Wed Jun 14 2017", "375.74"),
        ("NVRM version: NVIDIA UNIX aarch64 Kernel Module  580.95.05  Tue Sep 23", "580.95.05"),
        ("GCC version:  gcc version 12.3.0\n", None),
        ("", None),
    ],
)
def test_parse_proc_driver_nvidia_version(text: str, version: str | None) -> None:
    assert parse_proc_driver_nvidia_version(text) == version


@pytest.mark.parametrize(
    ("text", "compute_cap", "rows"),
    [
        ("H100 80GB HBM3, 580.159.04, 9.0\n", True, [("H100 80GB HBM3", (9, 0), "580.159.04")]),
        ("Tesla K80, 470.256.02\n", False, [("Tesla K80", None, "470.256.02")]),
        ("RTX, Blackwell, 580.95.05, 12.0", True, [("RTX, Blackwell", (12, 0), "580.95.05")]),
        ("Some GPU, 580.95.05, [N/A]", True, [("Some GPU", None, "580.95.05")]),
        ("A, 1.2, 8.6\n\nB, 1.2, 6.1\n", True, [("A", (8, 6), "1.2"), ("B", (6, 1), "1.2")]),
        ("No devices were found", True, []),
        ("", True, []),
    ],
)
def test_parse_nvidia_smi(
    text: str, compute_cap: bool, rows: list[tuple[str, tuple[int, int] | None, str]]
) -> None:
    parsed = parse_nvidia_smi(text, compute_cap)
    assert [(g.name, g.compute_capability, d) for g, d in parsed] == rows


@pytest.mark.parametrize(
    ("text", "targets"),
    [
        ("gfx000\ngfx90a\ngfx90a\n", ("gfx90a",)),
        ("gfx000\ngfx942\ngfx1100\n", ("gfx942", "gfx1100")),
        ("gfx000\n", ()),
        ("", ()),
    ],
)
def test_parse_rocm_agents(text: str, targets: tuple[str, ...]) -> None:
    assert parse_rocm_agents(text) == targets


def test_parse_rocminfo_skips_the_cpu_agent_and_isa_names() -> None:
    text = (FIXTURES / "rocm-gfx942" / "opt-rocm-bin-rocminfo.txt").read_text()
    assert parse_rocminfo(text) == ("gfx942",)


@pytest.mark.parametrize(
    ("text", "version"),
    [("6.4.1-52\n", "6.4.1"), ("7.14.0\n", "7.14.0"), ("6.0\n", "6.0"), ("garbage", None)],
)
def test_parse_rocm_version(text: str, version: str | None) -> None:
    assert parse_rocm_version(text) == version


@pytest.mark.parametrize(
    ("system", "machine", "platform"),
    [
        ("Linux", "x86_64", "linux-x86_64"),
        ("Linux", "aarch64", "linux-aarch64"),
        ("Linux", "arm64", "linux-aarch64"),
        ("Windows", "AMD64", "windows-x86_64"),
        ("Windows", "ARM64", "windows-arm64"),
        ("Darwin", "arm64", "macos-arm64"),
        ("Darwin", "x86_64", "macos-x86_64"),
        ("FreeBSD", "amd64", None),
    ],
)
def test_platform_id(system: str, machine: str, platform: str | None) -> None:
    assert platform_id(system, machine) == platform


@pytest.mark.parametrize(
    ("version", "variant"),
    [
        ("2.11.0+cu130", "cu130"),
        ("2.9.1+rocm6.4", "rocm6.4"),
        ("2.6.0+rocm6.2.4", "rocm6.2.4"),
        ("2.8.0+cpu", "cpu"),
        ("2.8.0+xpu", "xpu"),
        ("2.5.0a0+872d972e41.nv24.08", None),
        ("2.15.0", None),
        ("not a version", None),
    ],
)
def test_torch_variant(version: str, variant: str | None) -> None:
    assert torch_variant(version) == variant


def test_parse_torch_info() -> None:
    found = parse_torch_info(
        '{"python": "/p", "version": "2.11.0+cu130", "cuda": "13.0", "hip": null,'
        ' "cuda_available": true}'
    )
    assert found is not None
    assert (found.version, found.cuda, found.hip, found.cuda_available, found.python) == (
        "2.11.0+cu130", "13.0", None, True, "/p",
    )  # fmt: skip
    assert parse_torch_info("null") is None
    assert parse_torch_info("{") is None


@pytest.mark.parametrize(
    ("archs", "capability", "served"),
    [
        ("5.0;6.0;7.0;7.5;8.0;8.6;9.0", (6, 1), True),  # GTX 1080 runs the sm_60 cubin
        ("7.5;8.0;8.6;9.0;10.0;12.0+PTX", (6, 1), False),  # uv#14742
        ("7.5;8.0;8.6;9.0;10.0;12.0", (8, 9), True),  # Ada runs sm_86
        ("7.5;8.0;8.6;9.0;10.0;12.0", (10, 3), True),  # B300 runs sm_100
        ("7.5;8.0;8.6;9.0;10.0;12.0+PTX", (12, 1), True),  # GB10 runs sm_120
        ("7.5;8.0;8.6;9.0;10.0;12.0+PTX", (11, 0), False),  # no sm_11x cubin
        ("7.5;8.0;8.6;9.0;10.0;12.0+PTX", (13, 0), False),  # PTX alone does not count
        ("3.7;5.0;6.0", (3, 5), False),  # sm_37 does not run on 3.5
        ("8.0;9.0", (8, 6), True),
        # torch's DEVICE_REQUIREMENT: integrated GPUs do not run their major's dGPU code
        ("8.0;9.0", (8, 7), False),  # Jetson Orin on the cu126 aarch64 wheel
        ("8.7", (8, 7), True),
        ("5.0;6.0;7.0", (7, 2), False),  # Xavier
        ("5.0;6.0;7.0", (6, 2), False),  # TX2
        ("8.0;9.0;10.0;11.0;12.0", (11, 0), True),  # Thor after the 10.1 -> 11.0 rename
        ("10.0", (10, 1), False),
        ("10.0", (10, 3), True),
    ],
)
def test_serves(archs: str, capability: tuple[int, int], served: bool) -> None:
    assert serves([parse_arch(a) for a in archs.split(";")], capability) is served


@pytest.mark.parametrize("text", ["9", "sm_90", "9.0a", "12.0+ptx", ""])
def test_parse_arch_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_arch(text)


@pytest.mark.parametrize(
    ("driver", "platform", "major"),
    [
        ("450.80.01", "linux-x86_64", None),
        ("450.80.02", "linux-x86_64", 11),
        ("470.256.02", "linux-x86_64", 11),
        ("525.60.13", "linux-x86_64", 12),
        ("579.99", "linux-aarch64", 12),
        ("580", "linux-x86_64", 13),
        ("580.159.04", "linux-x86_64", 13),
        ("528.32", "windows-x86_64", 11),
        ("528.33", "windows-x86_64", 12),
        ("581.57", "windows-x86_64", 13),
        ("580.95.05", "macos-arm64", None),
        (None, "linux-x86_64", None),
    ],
)
def test_cuda_major_for(driver: str | None, platform: str, major: int | None) -> None:
    assert cuda_major_for(driver, platform, load_cuda()) == major


# --------------------------------------------------------------------------------------------
# cuda.toml
# --------------------------------------------------------------------------------------------


def test_cuda_data_matches_the_catalog() -> None:
    """Every recorded list is for a build the catalog has, on a platform it has wheels for."""
    catalog = load()
    releases = {str(r.minor): r for r in catalog.releases}
    for variant, minor, platform in load_cuda().archs:
        release = releases[minor]
        assert platform in release.variants.get(variant, ()), (variant, minor, platform)


# Linux x86_64 builds whose arch list could not be confirmed (cuda.toml has them as
# `linux-x86_64_unverified`); anything else of 2.7-2.14 missing from cuda.toml is a regression.
LINUX_GAPS = {
    ("cu118", "2.7"),
    *(("cu129", m) for m in ("2.9", "2.10")),
}


def test_cuda_data_covers_the_common_builds() -> None:
    data = load_cuda()
    missing = set()
    for release in load().releases:
        if not Version("2.7") <= release.minor <= Version("2.14"):
            continue
        for variant, platforms in release.variants.items():
            if cuda_of(variant) is not None and "linux-x86_64" in platforms:
                if (variant, str(release.minor), "linux-x86_64") not in data.archs:
                    missing.add((variant, str(release.minor)))
    assert missing == LINUX_GAPS


def test_unverified_keys_are_never_loaded() -> None:
    raw = {
        "driver_min": {"12": {"linux": "525.60.13", "windows_unverified": "1"}},
        "toolkit_min_arch": {"13": "7.5", "12_unverified": "5.0"},
        "builds": [
            {
                "variant": "cu126",
                "torch": ["2.9"],
                "linux-x86_64": ["8.0"],
                "windows-x86_64_unverified": ["6.1"],
            }
        ],
    }
    data = cuda_data_from(raw)
    assert dict(data.driver_min[12]) == {"linux": Version("525.60.13")}
    assert dict(data.toolkit_min_arch) == {13: (7, 5)}
    assert dict(data.archs) == {("cu126", "2.9", "linux-x86_64"): (Arch(8, 0, False),)}


def test_a_build_listed_twice_is_an_error() -> None:
    build = {"variant": "cu126", "torch": ["2.9"], "linux-x86_64": ["8.0"]}
    with pytest.raises(ValueError, match="twice"):
        cuda_data_from({"driver_min": {}, "builds": [build, build]})


# --------------------------------------------------------------------------------------------
# SystemReader: never raises
# --------------------------------------------------------------------------------------------


def test_system_reader_survives_missing_and_failing_things(tmp_path: Path) -> None:
    reader = SystemReader(timeout=2)
    assert reader.run(["uvtorch-no-such-command-xyz"]) is None
    assert reader.run([sys.executable, "-c", "raise SystemExit(3)"]) is None
    assert reader.run([sys.executable, "-c", "print('hi')"]) == "hi\n"
    assert reader.read_text(str(tmp_path / "missing")) is None
    assert reader.read_text(str(tmp_path)) is None  # a directory
    assert reader.list_dir(str(tmp_path / "missing")) is None
    (tmp_path / "a").write_text("x")
    assert reader.list_dir(str(tmp_path)) == ("a",)
    system, machine = reader.platform()
    assert system and machine


def test_system_reader_times_out() -> None:
    reader = SystemReader(timeout=0.5)
    assert reader.run([sys.executable, "-c", "import time; time.sleep(10)"]) is None


def test_system_reader_torch_query_parses(tmp_path: Path) -> None:
    assert SystemReader(python=str(tmp_path / "no-python")).torch_info() is None
    out = SystemReader().torch_info()
    assert out is not None  # prints JSON whether or not torch is installed
    found = parse_torch_info(out)
    assert found is None or found.version


def test_torch_query_ignores_a_torch_folder_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("__version__ = '0.0.0+fake'\n")
    monkeypatch.chdir(tmp_path)
    out = SystemReader().torch_info()
    assert out is not None and "0.0.0+fake" not in out
    assert SystemReader(query_torch=False).torch_info() is None


def test_probe_on_this_machine_does_not_raise() -> None:
    facts = probe(SystemReader(timeout=5, query_torch=False))
    detection = detect(facts)
    assert to_json(detection, choose(detection, load()))["schema_version"] == 1


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("cpu_cores_count 16\ngfx_target_version 0\n", None),
        ("simd_count 440\ngfx_target_version 90010\nvendor_id 4098\n", "gfx90a"),
        ("gfx_target_version 90402\n", "gfx942"),
        ("gfx_target_version 110000\n", "gfx1100"),
        ("gfx_target_version 100300\n", "gfx1030"),
        ("gfx_target_version 120001\n", "gfx1201"),
        ("no such line\n", None),
    ],
)
def test_parse_kfd_properties(text: str, target: str | None) -> None:
    assert parse_kfd_properties(text) == target


def test_parse_windows_video_reads_vendor_segments_as_uv_does() -> None:
    text = (
        "PCI\\VEN_8086&DEV_56A0&SUBSYS_10201849&REV_08\\6&1A2B3C4D&0&00080008\r\n"
        "PCI\\VEN_10DE&DEV_2684&SUBSYS_16F110DE&REV_A1\\4&2F3E&0&0008\r\n"
        "ROOT\\BASICDISPLAY\\0000\r\n"
    )
    assert parse_windows_video(text) == ("Intel", "NVIDIA")
    assert parse_windows_video("PCI\\XVEN_8086&DEV_1\n") == ()


def test_an_explicit_amd_target_beats_a_stale_nvidia_module() -> None:
    """uv: UV_AMD_GPU_ARCHITECTURE comes before /sys/module/nvidia/version."""
    d = detect(_facts(env={ENV_AMD_ARCH: "gfx942"}, files={SYS_MODULE_NVIDIA: "535.104.05"}))
    choice = choose(d, load(), "2.14")
    assert choice.accelerator == "rocm7.2"
    assert any(f"{ENV_AMD_ARCH} is set" in r for r in choice.reasons)
    # ... but an explicit driver version beats it, as in uv
    d = detect(_facts(env={ENV_AMD_ARCH: "gfx942", ENV_CUDA_DRIVER: "580.95.05"}))
    assert choose(d, load(), "2.14").accelerator.startswith("cu")


def test_intel_on_windows_comes_from_the_display_adapters() -> None:
    d = detect(
        _facts(system="Windows", machine="AMD64",
               commands={command_key(WINDOWS_VIDEO): "PCI\\VEN_8086&DEV_E20B&SUBSYS_1\r\n"})
    )
    assert (d.intel_gpu, d.intel_source) == (True, "Win32_VideoController")
    assert choose(d, load(), "2.14").accelerator == "xpu"


def test_choose_for_machine_takes_the_newest_release_with_a_gpu_build() -> None:
    d = detect(_facts(env={ENV_CUDA_DRIVER: "550.54.14"}))
    choice = choose_for_machine(d, load())
    assert (choice.torch, choice.accelerator, choice.newer_cpu_only) == ("2.14", "cu126", ("2.15",))
    assert choice.reasons[0].startswith("torch 2.14 is the newest release with a build")
    # within a spec
    assert choose_for_machine(d, load(), ["2.12", "2.13"]).torch == "2.13"
    # none fits: the newest of the spec, cpu, and the nearest release that would fit
    old = choose_for_machine(d, load(), ["2.15"])
    assert (old.accelerator, old.alternative) == ("cpu", ("2.14", "cu126"))
    # no GPU at all: the newest release's cpu, nothing skipped
    none = choose_for_machine(detect(_facts()), load())
    assert (none.torch, none.accelerator, none.newer_cpu_only) == ("2.15", "cpu", ())
