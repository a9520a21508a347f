"""A fake machine for `uvtorch detect`: its tools behave like the real ones, not like uvtorch.

A machine is described by what it *has* (tests/fixtures/machines/<name>/machine.toml: GPUs,
driver, files, PCI devices, KFD nodes, ROCm tools), never by the commands uvtorch happens to
run. `FakeMachine(folder, tmp)` writes executable fakes into `tmp/bin` and a file tree under
`tmp/root`; `reader()` is a `uvtorch.probe.SystemReader` whose commands really run (PATH is
the fake bin folder) and whose absolute paths are read below the fake root.

The fake `nvidia-smi` answers `--query-gpu=<fields> --format=csv[,noheader][,nounits]` for the
fields the real one documents and rejects any other field with the real error, so a misspelt
field in uvtorch's query fails the tests instead of passing them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tomlread import loads
from uvtorch.probe import SystemReader

# Fields of `nvidia-smi --query-gpu`, from `nvidia-smi --help-query-gpu` ("List of valid
# properties to query for the switch "--query-gpu""; a copy of its text: search index id
# 5945217980). Aliases the help lists ("name" or "gpu_name") map to one key. Only fields a
# detection tool could want are listed; any other field is rejected, like a misspelt one.
FIELDS = {
    "timestamp": "timestamp",
    "driver_version": "driver_version",
    "count": "count",
    "name": "name", "gpu_name": "name",
    "serial": "serial", "gpu_serial": "serial",
    "uuid": "uuid", "gpu_uuid": "uuid",
    "pci.bus_id": "pci.bus_id", "gpu_bus_id": "pci.bus_id",
    "pci.domain": "pci.domain", "pci.bus": "pci.bus", "pci.device": "pci.device",
    "pci.device_id": "pci.device_id", "pci.sub_device_id": "pci.sub_device_id",
    "index": "index",
    "display_mode": "display_mode", "display_active": "display_active",
    "persistence_mode": "persistence_mode",
    "vbios_version": "vbios_version",
    "memory.total": "memory.total", "memory.reserved": "memory.reserved",
    "memory.used": "memory.used", "memory.free": "memory.free",
    "compute_mode": "compute_mode",
    "compute_cap": "compute_cap",
    "utilization.gpu": "utilization.gpu", "utilization.memory": "utilization.memory",
}  # fmt: skip

# The real tool's words (seen verbatim in many logs, e.g. `Field "cuda_version" is not a valid
# field to query.`); exit code 2 is the man page's "A supplied argument or flag is invalid".
BAD_FIELD = 'Field "{field}" is not a valid field to query.\n'
NO_DEVICES = "No devices were found\n"

_NVIDIA_SMI = '''\
import json, sys
FIELDS = json.loads({fields!r})
MACHINE = json.loads({machine!r})
BAD_FIELD = {bad!r}
if MACHINE["driver"] is None:
    print("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
          "Make sure that the latest NVIDIA driver is installed and running.")
    sys.exit(9)
args = sys.argv[1:]
query = [a.split("=", 1)[1] for a in args if a.startswith("--query-gpu=")]
fmt = [a.split("=", 1)[1] for a in args if a.startswith("--format=")]
if not query or not fmt:
    print("fake nvidia-smi: only --query-gpu=... --format=csv[,noheader][,nounits] is faked")
    sys.exit(2)
options = fmt[0].split(",")
if options[0] != "csv" or any(o not in ("noheader", "nounits") for o in options[1:]):
    print('"' + fmt[0] + '" is not a valid format')
    sys.exit(2)
fields = query[0].split(",")
for field in fields:
    if field.strip() not in FIELDS:
        sys.stdout.write(BAD_FIELD.format(field=field.strip()))
        sys.exit(2)
if field_too_new := [f for f in fields if FIELDS[f.strip()] in MACHINE["unknown_fields"]]:
    sys.stdout.write(BAD_FIELD.format(field=field_too_new[0].strip()))
    sys.exit(2)
gpus = MACHINE["gpus"]
if not gpus:
    sys.stdout.write({no_devices!r})
    sys.exit(6)
if "noheader" not in options:
    print(", ".join(f.strip() for f in fields))
for i, gpu in enumerate(gpus):
    row = dict(gpu, index=str(i), count=str(len(gpus)), driver_version=MACHINE["driver"])
    values = []
    for f in fields:
        value = str(row.get(FIELDS[f.strip()], "[N/A]"))
        if "nounits" in options and value.endswith((" MiB", " %", " W", " MHz")):
            value = value.split(" ")[0]
        values.append(value)
    print(", ".join(values))
'''

_PRINT = """\
import sys
sys.stdout.write({text!r})
"""

# The fake PowerShell answers only the display-adapter query (Win32_VideoController is the
# WMI class of the display adapters uv enumerates; `PNPDeviceID` is its PnP id property).
_POWERSHELL = """\
import sys
command = " ".join(sys.argv[1:])
if "Win32_VideoController" not in command or "PNPDeviceID" not in command:
    sys.stderr.write("fake powershell: only the Win32_VideoController PNPDeviceID query\\n")
    sys.exit(1)
sys.stdout.write({text!r})
"""


def _script(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(0o755)


def write_nvidia_smi(
    path: Path, driver: str | None, gpus: list[dict[str, Any]], unknown_fields: Sequence[str] = ()
) -> None:
    """A fake `nvidia-smi` at `path` that answers like the real one: only the real query
    fields, its error text for any other (or for `unknown_fields`, which an older driver
    lacks), and its failure when no driver is loaded (`driver` None)."""
    import json

    machine = {"driver": driver, "gpus": gpus, "unknown_fields": list(unknown_fields)}
    _script(path, _NVIDIA_SMI.format(fields=json.dumps(FIELDS), machine=json.dumps(machine),
                                     bad=BAD_FIELD, no_devices=NO_DEVICES))


class FakeMachine:
    """One machine.toml, laid out under `tmp` as a bin folder and a file tree."""

    def __init__(self, folder: Path, tmp: Path) -> None:
        self.folder = folder
        self.spec: dict[str, Any] = loads((folder / "machine.toml").read_text())
        self.bin = tmp / "bin"
        self.root = tmp / "root"
        self.bin.mkdir(parents=True)
        self.root.mkdir(parents=True)
        nvidia = self.spec.get("nvidia")
        if nvidia is not None and nvidia.get("smi", True):
            write_nvidia_smi(self.bin / "nvidia-smi", nvidia["driver"], nvidia.get("gpus", []),
                             nvidia.get("unknown_fields", []))
        for path, text in self.spec.get("files", {}).items():
            target = self.root / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        for node, gfx_target_version in enumerate(self.spec.get("kfd_nodes", [])):
            props = self.root / "sys/class/kfd/kfd/topology/nodes" / str(node) / "properties"
            props.parent.mkdir(parents=True, exist_ok=True)
            props.write_text(
                f"cpu_cores_count {0 if gfx_target_version else 16}\n"
                f"gfx_target_version {gfx_target_version}\n",
                encoding="utf-8",
            )
        for device, (klass, vendor) in self.spec.get("pci", {}).items():
            where = self.root / "sys/bus/pci/devices" / device
            where.mkdir(parents=True, exist_ok=True)
            (where / "class").write_text(f"{klass}\n", encoding="utf-8")
            (where / "vendor").write_text(f"{vendor}\n", encoding="utf-8")
        for tool in self.spec.get("tools", []):
            # A ROCm tool: on PATH (bin) or at an absolute path under the fake root.
            where = tool["path"]
            target = self.bin / where if "/" not in where else self.root / where.lstrip("/")
            _script(target, _PRINT.format(text=tool["prints"]))
        if "windows_video" in self.spec:
            _script(self.bin / "powershell", _POWERSHELL.format(text=self.spec["windows_video"]))

    def reader(self) -> SystemReader:
        return _Reader(self)

    def environ(self) -> dict[str, str]:
        """The environment the machine's commands run with: only the fake bin on PATH."""
        return {"PATH": str(self.bin), **{k: str(v) for k, v in self.spec.get("env", {}).items()}}


class _Reader(SystemReader):
    def __init__(self, machine: FakeMachine) -> None:
        super().__init__(timeout=20, query_torch=False)
        self.machine = machine

    def env(self, name: str) -> str | None:
        return self.machine.environ().get(name) if name != "PATH" else None

    def read_text(self, path: str) -> str | None:
        return super().read_text(str(self.machine.root / path.lstrip("/")))

    def list_dir(self, path: str) -> tuple[str, ...] | None:
        return super().list_dir(str(self.machine.root / path.lstrip("/")))

    def run(self, argv: Sequence[str]) -> str | None:
        command = argv[0]
        if "/" in command:  # an absolute tool path: below the fake root
            command = str(self.machine.root / command.lstrip("/"))
        saved = os.environ.get("PATH")
        os.environ["PATH"] = str(self.machine.bin)  # the lookup of a bare name uses it
        try:
            return super().run([command, *argv[1:]])
        finally:
            if saved is None:
                del os.environ["PATH"]
            else:
                os.environ["PATH"] = saved

    def platform(self) -> tuple[str, str]:
        system, machine = self.machine.spec.get("platform", "Linux x86_64").split()
        return (system, machine)
