"""`uvtorch detect`: what accelerator this machine has, and which torch build to install.

Everything here is pure. `uvtorch.probe.probe(reader)` gathers the raw text (files, command
output, environment) into `Facts`; then

    detection = detect(facts)                       # parse: driver, GPUs, ROCm, XPU, torch
    choice = choose(detection, catalog, "2.14")     # decide: accelerator id and why
    format_report(detection, choice)                # short human report
    to_json(detection, choice)                      # machine-readable, schema below

No function in this module reads a file, runs a command or prints; the CUDA facts come from
the package data file `data/cuda.toml` (`load_cuda()`, read once, like `catalog.load()`).

How the choice is made (uv's `--torch-backend=auto` probes, in its order, plus a check that
the wheels carry code for the GPU; `choose_for_machine` then takes the newest release that
has such a build, `choose` decides for one release):

- Order (crates/uv-torch/src/accelerator.rs, Accelerator::detect): UV_CUDA_DRIVER_VERSION,
  UV_AMD_GPU_ARCHITECTURE, the NVIDIA driver, the AMD GPU targets, an Intel display device.
- NVIDIA: the driver version from `UV_CUDA_DRIVER_VERSION`, `/sys/module/nvidia/version`,
  `/proc/driver/nvidia/version` or `nvidia-smi` is mapped to the newest CUDA major it runs
  (minor-version compatibility: 11.x >= 450.80.02, 12.x >= 525.60.13, 13.x >= 580 on Linux;
  452.39 / 528.33 / 580 on Windows). Among the release's CUDA builds on this platform, the
  newest whose CUDA the driver runs and whose wheels carry code for every GPU wins
  (astral-sh/uv#14742: a GTX 1080 must not get cu128). Code for SM C runs on a GPU of SM D
  by torch's own table (`data/cuda.toml` device_requirement, from torch/cuda/__init__.py
  DEVICE_REQUIREMENT): same major and D >= C, except integrated GPUs (Jetson), which get no
  index build. "+PTX" is not counted. Builds whose list is not in `cuda.toml` are used only
  when no checked build fits, and the reasons say so.
- AMD (`UV_AMD_GPU_ARCHITECTURE`, `rocm_agent_enumerator`, `rocminfo`, the KFD topology):
  the newest ROCm build whose wheels have kernels for every GPU target (`data/rocm.toml`).
  The host's ROCm version is reported but does not decide: the wheels bring their own.
- Intel: a display-class PCI device of vendor 0x8086 under `/sys/bus/pci/devices` (what uv
  reads, astral-sh/uv#14386), or on Windows a display adapter whose PnP id has VEN_8086 ->
  `xpu`. Integrated Intel graphics match too.
- macOS arm64 and everything else: `cpu` (PyPI's macOS arm64 wheel includes MPS).
- `uv_auto` says what uv itself would pick for the same release (its probe, its tables).

JSON schema (`to_json`, schema_version 1; keys are always present, unknowns are null):

    {
      "schema_version": 1,
      "platform": "linux-x86_64" | null,      # catalog platform id of this machine
      "system": "Linux", "machine": "x86_64",  # as Python's platform module reports them
      "nvidia": {
        "driver": "580.159.04" | null, "driver_source": "/sys/module/nvidia/version" | null,
        "cuda_major": 13 | null,               # newest CUDA major the driver can run
        "gpus": [{"name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0" | null}]
      },
      "amd": {"rocm_version": "6.4.1" | null, "rocm_source": str | null,
              "gfx": ["gfx942"], "gfx_source": str | null},  # source: a tool, env or KFD
      "intel": {"gpu": true | false, "source": str | null},
      "torch": null | {"version": "2.11.0+cu130", "cuda": "13.0" | null, "hip": str | null,
                       "cuda_available": bool, "variant": "cu130" | null, "python": str | null},
      "notes": [str],                          # oddities met while reading, in reading order
      "read": [str],                           # every source consulted, in order
      "choice": null | {
        "torch": "2.14",                       # the torch minor release decided for
        "accelerator": "cu132",                # variant id: cuXYZ, rocmX.Y, xpu or cpu
        "checked": bool,                       # false: the fit (GPU compute capability,
                                               # ROCm version) could not be verified
        "reasons": [str],                      # human-readable, in order
        "candidates": [{"variant": "cu126", "runtime": "ok" | "too-old" | "unknown",
                        "arch": "ok" | "missing" | "unknown" | "n/a", "missing": ["6.1"]}],
        "alternative": null | {"torch": "2.14", "accelerator": "cu126"},
        "newer_cpu_only": ["2.15"],            # newer releases with no build for this GPU
        "uv": {"torch_backend": "cu126" | null, # UV_TORCH_BACKEND for this choice, if uv has it
               "auto": "cu132",                # what uv's --torch-backend=auto would pick
               "version": "0.13.9"},           # the uv those facts are from
        "variant_providers": {} | {"nvidia": {"NV_VARIANT_PROVIDER_FORCE_...": str}}
      }
    }
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from types import MappingProxyType
from typing import Any, NamedTuple

from packaging.version import InvalidVersion, Version

from uvtorch.catalog import Catalog, Release, read_data, variant_sort_key

SCHEMA_VERSION = 1


# The sources, named once: `probe` reads them, `detect` looks their text up by these keys.
ENV_CUDA_DRIVER = "UV_CUDA_DRIVER_VERSION"
ENV_AMD_ARCH = "UV_AMD_GPU_ARCHITECTURE"
ENV_ROCM_PATH = "ROCM_PATH"
SYS_MODULE_NVIDIA = "/sys/module/nvidia/version"
PROC_DRIVER_NVIDIA = "/proc/driver/nvidia/version"
NVIDIA_SMI_QUERY = (
    "nvidia-smi",
    "--query-gpu=name,driver_version,compute_cap",
    "--format=csv,noheader",
)
# nvidia-smi versions that reject the compute_cap field still answer this one.
NVIDIA_SMI_BASIC = ("nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader")
ROCM_DEFAULT_ROOT = "/opt/rocm"
ROCM_TOOLS = ("rocm_agent_enumerator", "rocminfo")
# The amdgpu kernel driver's view of the GPUs, there even without any ROCm installed: each
# node's `properties` has `gfx_target_version` (0 for CPU nodes). LLVM's offload-arch reads
# the same topology (clang/tools/offload-arch/AMDGPUArchByKFD.cpp).
KFD_NODES = "/sys/class/kfd/kfd/topology/nodes"
PCI_DEVICES = "/sys/bus/pci/devices"
# Windows: the present display adapters' PnP device ids (PCI\VEN_8086&DEV_...). uv asks the
# Configuration Manager for the display class (crates/uv-torch/src/accelerator.rs,
# detect_intel_gpu_from_windows_devices); Win32_VideoController is that class through WMI.
WINDOWS_VIDEO = (
    "powershell",
    "-NoProfile",
    "-NonInteractive",
    "-Command",
    "Get-CimInstance Win32_VideoController | ForEach-Object { $_.PNPDeviceID }",
)

_PCI_BASE_CLASS_MASK = 0xFF0000
_PCI_BASE_CLASS_DISPLAY = 0x030000
_PCI_VENDORS = {0x10DE: "NVIDIA", 0x1002: "AMD", 0x8086: "Intel"}
_PLATFORM_OS = {"linux": "linux", "windows": "windows", "darwin": "macos"}
_DRIVER_OS = {"linux": "linux", "windows": "windows"}  # where NVIDIA publishes driver floors


def command_key(argv: Iterable[str]) -> str:
    """How a command's output is filed in `Facts.commands`."""
    return " ".join(argv)


def rocm_version_file(root: str) -> str:
    """The file holding the ROCm release installed under `root` (e.g. 6.4.1-52)."""
    return f"{root.rstrip('/')}/.info/version"


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


class Arch(NamedTuple):
    """One TORCH_CUDA_ARCH_LIST entry, e.g. 12.0+PTX."""

    major: int
    minor: int
    ptx: bool


class Rule(NamedTuple):
    """Which devices run code built for one SM (torch's DEVICE_REQUIREMENT entry)."""

    start: tuple[int, int] | None  # that capability up to the end of its major
    exclude: frozenset[tuple[int, int]]
    only: frozenset[tuple[int, int]]  # used when start is None

    def admits(self, device: tuple[int, int]) -> bool:
        if self.start is None:
            return device in self.only
        return (
            device not in self.exclude
            and device[0] == self.start[0]
            and device[1] >= self.start[1]
        )


class CudaData(NamedTuple):
    """`data/cuda.toml`: driver floors and the compute capabilities of PyTorch's wheels."""

    driver_min: Mapping[int, Mapping[str, Version]]  # CUDA major -> linux/windows -> driver
    toolkit_min_arch: Mapping[int, tuple[int, int]]  # CUDA major -> lowest target it has
    archs: Mapping[tuple[str, str, str], tuple[Arch, ...]]  # (variant, minor, platform)
    requirement: Mapping[tuple[int, int], Rule] = MappingProxyType({})  # code SM -> devices
    integrated: frozenset[tuple[int, int]] = frozenset()  # Jetson/Tegra capabilities


def parse_arch(text: str) -> Arch:
    """'8.6' or '12.0+PTX' -> Arch; ValueError otherwise."""
    match = re.fullmatch(r"(\d+)\.(\d+)(\+PTX)?", text.strip())
    if not match:
        raise ValueError(f"not a TORCH_CUDA_ARCH_LIST entry: {text!r}")
    return Arch(int(match.group(1)), int(match.group(2)), match.group(3) is not None)


def _capability(text: str) -> tuple[int, int]:
    arch = parse_arch(text)
    return (arch.major, arch.minor)


def cuda_data_from(raw: Mapping[str, Any]) -> CudaData:
    """Build `CudaData` from parsed TOML; keys ending in `_unverified` are skipped."""
    driver_min = {
        int(major): MappingProxyType(
            {os_: Version(v) for os_, v in floors.items() if not os_.endswith("_unverified")}
        )
        for major, floors in raw["driver_min"].items()
        if not major.endswith("_unverified")
    }
    toolkit_min = {
        int(major): _capability(arch)
        for major, arch in raw.get("toolkit_min_arch", {}).items()
        if not major.endswith("_unverified")
    }
    archs: dict[tuple[str, str, str], tuple[Arch, ...]] = {}
    for build in raw.get("builds", []):
        for key, value in build.items():
            if key in ("variant", "torch") or key.endswith("_unverified"):
                continue
            for minor in build["torch"]:
                where = (build["variant"], minor, key)
                if where in archs:
                    raise ValueError(f"cuda.toml lists {where} twice")
                archs[where] = tuple(parse_arch(a) for a in value)
    requirement = {
        _capability(code): Rule(
            start=_capability(rule["start"]) if "start" in rule else None,
            exclude=frozenset(_capability(c) for c in rule.get("exclude", ())),
            only=frozenset(_capability(c) for c in rule.get("only", ())),
        )
        for code, rule in raw.get("device_requirement", {}).items()
    }
    return CudaData(
        driver_min=MappingProxyType(driver_min),
        toolkit_min_arch=MappingProxyType(toolkit_min),
        archs=MappingProxyType(archs),
        requirement=MappingProxyType(requirement),
        integrated=frozenset(
            _capability(c) for c in raw.get("integrated_gpus", {}).get("capabilities", ())
        ),
    )


@cache
def load_cuda() -> CudaData:
    """Read the packaged `cuda.toml` once per process."""
    return cuda_data_from(read_data("cuda.toml"))


def cuda_of(variant: str) -> tuple[int, int] | None:
    """The CUDA version a variant id names: cu118 -> (11, 8), cu132 -> (13, 2)."""
    match = re.fullmatch(r"cu(\d+)(\d)", variant)
    return (int(match.group(1)), int(match.group(2))) if match else None


def serves(
    archs: Iterable[Arch],
    capability: tuple[int, int],
    rules: Mapping[tuple[int, int], Rule] | None = None,
) -> bool:
    """Whether a wheel built for `archs` has machine code a GPU of `capability` runs.

    torch's rule (`rules`, default: cuda.toml's device_requirement): a cubin for M.k runs on
    M.m when m >= k, except on the integrated GPUs it names. PTX-only entries do not count.
    """
    rules = load_cuda().requirement if rules is None else rules
    fallback = Rule(None, frozenset(), frozenset())
    for a in archs:
        rule = rules.get((a.major, a.minor))
        if rule is None:  # torch's own fallback: same major, equal or higher minor
            rule = fallback._replace(start=(a.major, a.minor))
        if rule.admits(capability):
            return True
    return False


class RocmData(NamedTuple):
    """`data/rocm.toml`: the gfx targets each ROCm build has kernels for."""

    gfx: Mapping[str, frozenset[str]]  # variant -> targets (verified only)
    uv: Mapping[str, frozenset[str]]  # variant -> targets uv's --torch-backend=auto maps


def rocm_data_from(raw: Mapping[str, Any]) -> RocmData:
    """Build `RocmData` from parsed TOML; `gfx_unverified` lists are skipped."""
    targets = raw.get("targets", {})
    return RocmData(
        gfx=MappingProxyType(
            {v: frozenset(t["gfx"]) for v, t in targets.items() if "gfx" in t}
        ),
        uv=MappingProxyType({v: frozenset(t.get("uv", ())) for v, t in targets.items()}),
    )


@cache
def load_rocm() -> RocmData:
    """Read the packaged `rocm.toml` once per process."""
    return rocm_data_from(read_data("rocm.toml"))


def _cc(capability: tuple[int, int]) -> str:
    return f"{capability[0]}.{capability[1]}"


# --------------------------------------------------------------------------------------------
# Raw facts and what they say
# --------------------------------------------------------------------------------------------


class Facts(NamedTuple):
    """Raw text gathered from a machine by `uvtorch.probe.probe`; absent sources are missing."""

    system: str  # platform.system(): Linux, Windows, Darwin
    machine: str  # platform.machine(): x86_64, AMD64, aarch64, arm64
    env: Mapping[str, str]  # the environment variables read, when set
    files: Mapping[str, str]  # path -> text of the files that could be read
    commands: Mapping[str, str]  # command_key(argv) -> stdout of the commands that succeeded
    pci: tuple[tuple[str, str, str], ...]  # (device, class, vendor) under /sys/bus/pci/devices
    torch: str | None  # what the torch query printed (JSON), None if nothing
    read: tuple[str, ...]  # every source consulted, in order
    kfd: tuple[tuple[str, str], ...] = ()  # (node, text of its properties) under KFD_NODES


class Gpu(NamedTuple):
    """An NVIDIA GPU as nvidia-smi lists it."""

    name: str
    compute_capability: tuple[int, int] | None


class TorchFound(NamedTuple):
    """A torch that the interpreter can already import (e.g. a container's)."""

    version: str
    cuda: str | None
    hip: str | None
    cuda_available: bool
    python: str | None


class Detection(NamedTuple):
    """What this machine has, parsed from `Facts`."""

    platform: str | None  # e.g. linux-x86_64; may be one the catalog does not target
    system: str
    machine: str
    driver: str | None  # NVIDIA driver version
    driver_source: str | None
    cuda_major: int | None  # newest CUDA major the driver runs
    gpus: tuple[Gpu, ...]
    rocm_version: str | None
    rocm_source: str | None
    amd_gfx: tuple[str, ...]
    amd_gfx_source: str | None
    intel_gpu: bool
    intel_source: str | None
    torch: TorchFound | None
    notes: tuple[str, ...]
    read: tuple[str, ...]


def platform_id(system: str, machine: str) -> str | None:
    """Catalog-style platform id: ('Linux', 'x86_64') -> 'linux-x86_64'; None if unknown OS."""
    os_ = _PLATFORM_OS.get(system.strip().lower())
    if os_ is None:
        return None
    arch = machine.strip().lower()
    arch = {"amd64": "x86_64", "x64": "x86_64"}.get(arch, arch)
    if arch in ("arm64", "aarch64"):
        arch = "arm64" if os_ in ("macos", "windows") else "aarch64"
    return f"{os_}-{arch}"


def parse_driver_version(text: str) -> str | None:
    """A bare NVIDIA driver version ('580.159.04', '581.57'), or None."""
    value = text.strip()
    # [0-9], not \d: int() and Version() disagree about full-width digits ('５５０').
    return value if re.fullmatch(r"[0-9]+(\.[0-9]+){0,3}", value) else None


def parse_sys_module_nvidia_version(text: str) -> str | None:
    """`/sys/module/nvidia/version` holds just the version."""
    return parse_driver_version(text.splitlines()[0]) if text.strip() else None


def parse_proc_driver_nvidia_version(text: str) -> str | None:
    """The version in `/proc/driver/nvidia/version`'s NVRM line.

    'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build ...'
    'NVRM version: NVIDIA UNIX x86_64 Kernel Module  375.74  Wed Jun 14 ...'
    """
    for line in text.splitlines():
        if line.startswith("NVRM version:"):
            match = re.search(r"Kernel Module(?:\s+for\s+\S+)?\s+(\d+(?:\.\d+){1,3})\b", line)
            return match.group(1) if match else None
    return None


def parse_nvidia_smi(text: str, compute_cap: bool = True) -> tuple[tuple[Gpu, str | None], ...]:
    """Rows of `nvidia-smi --query-gpu=name,driver_version[,compute_cap] --format=csv,noheader`.

    Returns (GPU, driver version) per line. Names may contain commas; the other fields never
    do, so they are split off the right. `compute_cap=False` for the query without that field.
    """
    rows: list[tuple[Gpu, str | None]] = []
    for line in text.splitlines():
        fields = [f.strip() for f in line.rsplit(",", 2 if compute_cap else 1)]
        if len(fields) != (3 if compute_cap else 2) or not fields[0]:
            continue
        capability = _capability_or_none(fields[2]) if compute_cap else None  # or [N/A]
        rows.append((Gpu(fields[0], capability), parse_driver_version(fields[1])))
    return tuple(rows)


def _capability_or_none(text: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"(\d+)\.(\d+)", text.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def parse_rocm_agents(text: str) -> tuple[str, ...]:
    """GPU targets from `rocm_agent_enumerator` or UV_AMD_GPU_ARCHITECTURE (gfx000 is a CPU).

    One per line (the tool) or comma-separated; a target feature suffix (gfx90a:xnack-) is
    dropped: the wheels are chosen by the target alone.
    """
    found = [t.strip().split(":")[0].lower() for t in re.split(r"[\n,]", text)]
    return _unique(t for t in found if re.fullmatch(r"gfx[0-9a-f]+", t) and t != "gfx000")


def parse_rocminfo(text: str) -> tuple[str, ...]:
    """GPU targets from `rocminfo`: agents whose `Name:` is a gfx target."""
    names = re.findall(r"^\s*Name:\s+(gfx[0-9a-f]+)\s*$", text, flags=re.MULTILINE)
    return _unique(n for n in names if n != "gfx000")


def parse_kfd_properties(text: str) -> str | None:
    """The gfx target of one KFD topology node, from its `gfx_target_version` (None: a CPU).

    The kernel writes major*10000 + minor*100 + stepping (linux drivers/gpu/drm/amd/amdkfd
    kfd_topology.c); the target name spells minor and stepping in hex: 90010 -> gfx90a,
    90402 -> gfx942, 110000 -> gfx1100.
    """
    match = re.search(r"^gfx_target_version\s+(\d+)\s*$", text, flags=re.MULTILINE)
    if not match or int(match.group(1)) == 0:
        return None
    value = int(match.group(1))
    major, minor, stepping = value // 10000, value // 100 % 100, value % 100
    return f"gfx{major}{minor:x}{stepping:x}"


def parse_windows_video(text: str) -> tuple[str, ...]:
    """Vendors of Windows display adapters from their PnP ids (PCI\\VEN_8086&DEV_56A0&...).

    Like uv's `contains_intel_vendor_id`: a `VEN_xxxx` segment between '\\' or '&'.
    """
    vendors = []
    for line in text.splitlines():
        for segment in re.split(r"[\\&]", line.strip()):
            match = re.fullmatch(r"VEN_([0-9A-Fa-f]{4})", segment)
            if match:
                vend = int(match.group(1), 16)
                vendors.append(_PCI_VENDORS.get(vend, f"0x{vend:04x}"))
    return _unique(vendors)


def parse_rocm_version(text: str) -> str | None:
    """`/opt/rocm/.info/version` ('6.4.1-52') -> '6.4.1'."""
    match = re.match(r"\s*(\d+(?:\.\d+){1,3})", text)
    return match.group(1) if match else None


def parse_pci(devices: Iterable[tuple[str, str, str]]) -> tuple[str, ...]:
    """Vendors of the display-class PCI devices ('NVIDIA', 'AMD', 'Intel', or '0x1234')."""
    vendors = []
    for _, pci_class, vendor in devices:
        try:
            klass, vend = int(pci_class.strip(), 16), int(vendor.strip(), 16)
        except ValueError:
            continue
        if klass & _PCI_BASE_CLASS_MASK == _PCI_BASE_CLASS_DISPLAY:
            vendors.append(_PCI_VENDORS.get(vend, f"0x{vend:04x}"))
    return _unique(vendors)


def parse_torch_info(text: str) -> TorchFound | None:
    """The JSON printed by the torch query (see `uvtorch.probe.TORCH_QUERY`)."""
    try:
        data = json.loads(text.strip().splitlines()[-1]) if text.strip() else None
    except (ValueError, IndexError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("version"), str):
        return None

    def text_or_none(key: str) -> str | None:
        value = data.get(key)
        return value if isinstance(value, str) and value else None

    return TorchFound(
        version=data["version"],
        cuda=text_or_none("cuda"),
        hip=text_or_none("hip"),
        cuda_available=data.get("cuda_available") is True,
        python=text_or_none("python"),
    )


def torch_variant(version: str) -> str | None:
    """The PyTorch index a torch version came from, by its local tag ('2.11.0+cu130' -> cu130)."""
    try:
        local = Version(version).local
    except InvalidVersion:
        return None
    if local and re.fullmatch(r"cpu|xpu|cu\d+|rocm\d+(\.\d+)*", local):
        return local
    return None


def _is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def cuda_major_for(
    driver: str | None, platform: str | None, cuda: CudaData
) -> int | None:
    """The newest CUDA major a driver runs (minor-version compatibility), or None."""
    if driver is None or platform is None:
        return None
    os_ = _DRIVER_OS.get(platform.split("-")[0])
    if os_ is None:
        return None
    found = [
        major
        for major, floors in cuda.driver_min.items()
        if os_ in floors and Version(driver) >= floors[os_]
    ]
    return max(found, default=None)


def detect(facts: Facts, cuda: CudaData | None = None) -> Detection:
    """Parse raw facts into a `Detection`, taking each value from the first source that has it."""
    cuda = cuda if cuda is not None else load_cuda()
    notes: list[str] = []
    platform = platform_id(facts.system, facts.machine)

    # NVIDIA driver: the environment, then sysfs, procfs, nvidia-smi (uv's order).
    smi_text = facts.commands.get(command_key(NVIDIA_SMI_QUERY))
    smi_basic = facts.commands.get(command_key(NVIDIA_SMI_BASIC))
    if smi_text is not None:
        smi_rows = parse_nvidia_smi(smi_text)
    else:
        smi_rows = parse_nvidia_smi(smi_basic or "", compute_cap=False)
    driver_sources: list[tuple[str, str | None]] = []
    if ENV_CUDA_DRIVER in facts.env:
        value = parse_driver_version(facts.env[ENV_CUDA_DRIVER])
        if value is None:
            notes.append(
                f"{ENV_CUDA_DRIVER}={facts.env[ENV_CUDA_DRIVER]!r} is not a driver version"
                " (e.g. 580.95.05); ignored"
            )
        driver_sources.append((ENV_CUDA_DRIVER, value))
    if SYS_MODULE_NVIDIA in facts.files:
        driver_sources.append(
            (SYS_MODULE_NVIDIA, parse_sys_module_nvidia_version(facts.files[SYS_MODULE_NVIDIA]))
        )
    if PROC_DRIVER_NVIDIA in facts.files:
        driver_sources.append(
            (PROC_DRIVER_NVIDIA, parse_proc_driver_nvidia_version(facts.files[PROC_DRIVER_NVIDIA]))
        )
    if smi_rows:
        driver_sources.append(("nvidia-smi", smi_rows[0][1]))
    found = [(src, v) for src, v in driver_sources if v is not None]
    driver_source, driver = found[0] if found else (None, None)
    installed = {v for src, v in found if src != ENV_CUDA_DRIVER}
    if driver_source == ENV_CUDA_DRIVER and installed - {driver}:
        notes.append(
            f"{ENV_CUDA_DRIVER} ({driver}) overrides the installed driver"
            f" ({', '.join(sorted(str(v) for v in installed))})"
        )
    gpus = tuple(gpu for gpu, _ in smi_rows)
    if driver is not None and not gpus:
        notes.append(
            "nvidia-smi gave no GPU list, so the GPUs' compute capability cannot be checked"
        )
    elif gpus and smi_text is None:
        notes.append("nvidia-smi did not report compute_cap; compute capability not checked")

    # AMD: the GPU targets, then the ROCm release installed.
    gfx: tuple[str, ...] = ()
    gfx_source: str | None = None
    if ENV_AMD_ARCH in facts.env:
        gfx, gfx_source = parse_rocm_agents(facts.env[ENV_AMD_ARCH]), ENV_AMD_ARCH
    if not gfx:
        for key, text in facts.commands.items():
            tool = key.split()[0].rsplit("/", 1)[-1]
            if tool == "rocm_agent_enumerator":
                gfx, gfx_source = parse_rocm_agents(text), key
            elif tool == "rocminfo":
                gfx, gfx_source = parse_rocminfo(text), key
            if gfx:
                break
    if not gfx and facts.kfd:
        gfx = _unique(t for _, text in facts.kfd if (t := parse_kfd_properties(text)))
        gfx_source = KFD_NODES if gfx else None
    rocm_version: str | None = None
    rocm_source: str | None = None
    for path, text in facts.files.items():
        if path.endswith("/.info/version"):
            rocm_version, rocm_source = parse_rocm_version(text), path
            if rocm_version:
                break

    # PCI: Intel GPUs, and display devices no driver was found for.
    vendors = parse_pci(facts.pci)
    intel_source = PCI_DEVICES if "Intel" in vendors else None
    windows = facts.commands.get(command_key(WINDOWS_VIDEO))
    if windows is not None:
        win_vendors = parse_windows_video(windows)
        if "Intel" in win_vendors and intel_source is None:
            intel_source = "Win32_VideoController"
        vendors = _unique((*vendors, *win_vendors))
    intel = intel_source is not None
    if "NVIDIA" in vendors and driver is None:
        notes.append("an NVIDIA display device is on the PCI bus, but no NVIDIA driver was found")
    if "AMD" in vendors and not gfx:
        notes.append(
            "an AMD display device is on the PCI bus, but no ROCm tool reported a GPU target"
        )

    torch_text = (facts.torch or "").strip()
    torch = parse_torch_info(torch_text) if torch_text not in ("", "null") else None
    if torch_text not in ("", "null") and torch is None:
        notes.append("the torch query printed something unexpected; ignored")

    return Detection(
        platform=platform,
        system=facts.system,
        machine=facts.machine,
        driver=driver,
        driver_source=driver_source,
        cuda_major=cuda_major_for(driver, platform, cuda),
        gpus=gpus,
        rocm_version=rocm_version,
        rocm_source=rocm_source,
        amd_gfx=gfx,
        amd_gfx_source=gfx_source,
        intel_gpu=intel,
        intel_source=intel_source,
        torch=torch,
        notes=tuple(notes),
        read=facts.read,
    )


# --------------------------------------------------------------------------------------------
# The choice
# --------------------------------------------------------------------------------------------


class Candidate(NamedTuple):
    """One accelerator build weighed for this machine."""

    variant: str
    runtime: str  # ok | too-old | unknown: the driver (CUDA) or ROCm install vs. the build
    arch: str  # ok | missing | unknown | n/a: the GPUs' compute capability vs. the wheels
    missing: tuple[str, ...]  # compute capabilities the wheels lack


class Choice(NamedTuple):
    """The accelerator to use with one torch release, and why."""

    accelerator: str  # variant id: cu132, rocm6.4, xpu or cpu
    torch: str  # the torch minor release decided for, e.g. "2.14"
    reasons: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    checked: bool  # False when the build's fit (compute capability, ROCm) is not verified
    alternative: tuple[str, str] | None  # (torch minor, accelerator) that would serve the GPU
    uv_backend: str | None = None  # the UV_TORCH_BACKEND value for `accelerator`, if uv has it
    uv_auto: str | None = None  # what `uv --torch-backend=auto` would pick for this release
    newer_cpu_only: tuple[str, ...] = ()  # newer releases with only CPU builds for this GPU


class _Pick(NamedTuple):
    variant: str | None
    reasons: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    checked: bool


def _release(catalog: Catalog, torch_release: str | Version | None) -> Release:
    if torch_release is None:
        return catalog.releases[-1]
    wanted = Version(str(torch_release))
    for release in catalog.releases:
        if (release.minor.major, release.minor.minor) == (wanted.major, wanted.minor):
            return release
    known = ", ".join(str(r.minor) for r in catalog.releases)
    raise ValueError(f"torch {torch_release} is not in the catalog (it has {known})")


def _family_variants(
    catalog: Catalog, release: Release, platform: str, family: str
) -> list[str]:
    found = [
        v
        for v, platforms in release.variants.items()
        if catalog.family_of(v) == family and platform in platforms and release.patches_with(v)
    ]
    return sorted(found, key=variant_sort_key)


def _range(archs: tuple[Arch, ...]) -> str:
    ordered = sorted((a.major, a.minor) for a in archs)
    return f"{_cc(ordered[0])} to {_cc(ordered[-1])}"


def _assess_cuda(
    variant: str,
    minor: str,
    platform: str,
    driver: str,
    caps: list[tuple[int, int]],
    partial: bool,
    cuda: CudaData,
) -> Candidate:
    """Can this driver run `variant`, and do its wheels carry code for every GPU?"""
    cv = cuda_of(variant)
    floor = cuda.driver_min.get(cv[0], {}).get(_driver_os(platform)) if cv else None
    runtime = "unknown" if floor is None else ("ok" if Version(driver) >= floor else "too-old")
    archs = cuda.archs.get((variant, minor, platform))
    if not caps:
        return Candidate(variant, runtime, "unknown", ())
    if archs is not None:
        missing = tuple(_cc(c) for c in caps if not serves(archs, c, cuda.requirement))
        arch = "missing" if missing else ("unknown" if partial else "ok")
        return Candidate(variant, runtime, arch, missing)
    # No list on record: only the toolkit's own floor can rule the build out, and an
    # integrated GPU: no PyTorch index wheel has been built for one (they are SBSA builds).
    lowest = cuda.toolkit_min_arch.get(cv[0]) if cv else None
    missing = tuple(
        _cc(c) for c in caps if (lowest is not None and c < lowest) or c in cuda.integrated
    )
    return Candidate(variant, runtime, "missing" if missing else "unknown", missing)


def _driver_os(platform: str) -> str:
    return _DRIVER_OS.get(platform.split("-")[0], "")


def _gpu_reason(gpus: tuple[Gpu, ...]) -> str | None:
    groups: dict[Gpu, int] = {}
    for gpu in gpus:
        groups[gpu] = groups.get(gpu, 0) + 1
    text = ", ".join(
        f"{f'{n} x ' if n > 1 else ''}{g.name}"
        f" ({_cc(g.compute_capability) if g.compute_capability else '?'})"
        for g, n in groups.items()
    )
    if len(groups) > 1:
        return f"GPUs: {text}; one build must serve all of them"
    return f"GPU: {text}" if groups else None


def _arch_reasons(
    runnable: list[Candidate],
    minor: str,
    platform: str,
    caps: list[tuple[int, int]],
    partial: bool,
    cuda: CudaData,
) -> list[str]:
    if not caps:
        return ["no GPU compute capability known: not checked"]
    reasons = []
    ok = [c.variant for c in runnable if c.arch == "ok"]
    if ok:
        verb = "supports" if len(ok) == 1 else "all support"
        reasons.append(f"{', '.join(ok)} {verb} compute capability {', '.join(map(_cc, caps))}")
    for c in runnable:
        if c.arch != "missing":
            continue
        archs = cuda.archs.get((c.variant, minor, platform))
        cv = cuda_of(c.variant)
        lowest = cuda.toolkit_min_arch.get(cv[0]) if cv else None
        if archs:
            built = f"wheels built for {_range(archs)}"
        elif all(_capability(m) in cuda.integrated for m in c.missing):
            built = "no PyTorch wheel is built for an integrated GPU"
        else:  # ruled out by the toolkit floor (see _assess_cuda)
            built = f"CUDA {cv[0] if cv else '?'}.x cannot build for below {_cc(lowest or (0, 0))}"
        reasons.append(f"{c.variant} lacks compute capability {', '.join(c.missing)} ({built})")
    unknown = [c.variant for c in runnable if c.arch == "unknown"]
    if partial:
        reasons.append("some GPUs did not report a compute capability: not fully checked")
    elif unknown:
        whose = "their" if len(unknown) > 1 else "its"
        reasons.append(
            f"{', '.join(unknown)}: the compute capabilities of {whose} {platform} wheels"
            f" for torch {minor} are not on record; not checked"
        )
    return reasons


def _pick_cuda(
    detection: Detection, catalog: Catalog, release: Release, cuda: CudaData
) -> _Pick:
    platform = detection.platform or ""
    minor = str(release.minor)
    driver = detection.driver or ""
    reasons: list[str] = []
    if detection.cuda_major is not None:
        reasons.append(
            f"driver {driver} ({detection.driver_source}) supports CUDA"
            f" {detection.cuda_major}.x and older"
        )
    else:
        os_ = _driver_os(platform)
        floors = [f[os_] for f in cuda.driver_min.values() if os_ in f]
        reasons.append(
            f"driver {driver} ({detection.driver_source}) is older than {min(floors)}, the"
            " oldest that runs any CUDA build"
            if floors
            else f"no CUDA driver floors are on record for {platform}"
        )
    variants = _family_variants(catalog, release, platform, "cuda")
    if not variants:
        reasons.append(f"torch {minor} has no CUDA build for {platform}")
        return _Pick(None, tuple(reasons), (), False)
    reasons.append(f"torch {minor} has {', '.join(variants)} for {platform}")
    for v in variants:
        if release.variant_patches.get(v):
            only = ", ".join(str(p) for p in release.variant_patches[v])
            reasons.append(f"{v} exists only for torch {only}")

    caps = sorted({g.compute_capability for g in detection.gpus if g.compute_capability})
    partial = any(g.compute_capability is None for g in detection.gpus)
    candidates = [
        _assess_cuda(v, minor, platform, driver, caps, partial, cuda) for v in variants
    ]
    too_new = [
        f"{c.variant} (needs >= {cuda.driver_min[cv[0]][_driver_os(platform)]})"
        for c in candidates
        if c.runtime == "too-old" and (cv := cuda_of(c.variant))
    ]
    if too_new:
        reasons.append(f"too new for this driver: {', '.join(too_new)}")
    gpu_reason = _gpu_reason(detection.gpus)
    if gpu_reason:
        reasons.append(gpu_reason)
    jetson = sorted(c for c in caps if c in cuda.integrated)
    if jetson:
        reasons.append(
            f"compute capability {', '.join(map(_cc, jetson))} is an integrated GPU (Jetson/"
            "Tegra): torch's own check (torch/cuda/__init__.py DEVICE_REQUIREMENT) does not"
            " let it run the discrete GPUs' code of its major, and PyTorch's aarch64 wheels are"
            " SBSA builds; use NVIDIA's Jetson (JetPack) wheels, or the torch of an NVIDIA L4T"
            " container with `uvtorch init -a system`"
        )
    runnable = [c for c in candidates if c.runtime == "ok"]
    reasons.extend(_arch_reasons(runnable, minor, platform, caps, partial, cuda))

    verified = [c for c in runnable if c.arch == "ok"]
    unverified = [c for c in runnable if c.arch == "unknown"]
    if not verified and not unverified:
        reasons.append(f"no CUDA build of torch {minor} fits this machine")
        return _Pick(None, tuple(reasons), tuple(candidates), False)
    pick = (verified or unverified)[-1]
    if not verified and caps and not partial:
        reasons.append(
            f"{pick.variant} is the newest build this driver runs; whether its wheels"
            f" carry code for compute capability {', '.join(map(_cc, caps))} is not on record"
        )
    reasons.append(f"-> {pick.variant}")
    return _Pick(pick.variant, tuple(reasons), tuple(candidates), bool(verified))


def _pick_rocm(
    detection: Detection, catalog: Catalog, release: Release, rocm: RocmData
) -> _Pick:
    """The newest ROCm build with kernels for every GPU target (uv's table plus PyTorch's)."""
    platform = detection.platform or ""
    minor = str(release.minor)
    gfx = detection.amd_gfx
    named = ", ".join(gfx) or "no GPU target reported"
    reasons = [f"AMD GPU: {named} ({detection.amd_gfx_source or 'not reported'})"]
    if detection.rocm_version:
        reasons.append(
            f"ROCm {detection.rocm_version} is installed ({detection.rocm_source}); it does not"
            " decide the build: PyTorch's ROCm wheels bring their own ROCm user space (the"
            " amdgpu kernel driver must be recent enough for it)"
        )
    variants = _family_variants(catalog, release, platform, "rocm")
    if not variants:
        reasons.append(f"torch {minor} has no ROCm build for {platform}")
        return _Pick(None, tuple(reasons), (), False)
    reasons.append(f"torch {minor} has {', '.join(variants)} for {platform}")
    candidates = []
    for v in variants:
        known = rocm.gfx.get(v)
        if not gfx or known is None:
            candidates.append(Candidate(v, "unknown", "unknown", ()))
            continue
        missing = tuple(t for t in gfx if t not in known)
        candidates.append(Candidate(v, "unknown", "missing" if missing else "ok", missing))
    ok = [c.variant for c in candidates if c.arch == "ok"]
    if ok:
        verb = "has" if len(ok) == 1 else "all have"
        reasons.append(f"{', '.join(ok)} {verb} kernels for {named}")
    for c in candidates:
        if c.arch == "missing":
            reasons.append(f"{c.variant} has no kernels for {', '.join(c.missing)}")
    unknown = [c.variant for c in candidates if c.arch == "unknown"]
    if unknown and gfx:
        reasons.append(
            f"{', '.join(unknown)}: which GPU targets its wheels have kernels for is not on"
            " record; not checked"
        )
    elif not gfx:
        reasons.append("no GPU target known: the ROCm build's fit is not checked")
    fitting = [c for c in candidates if c.arch == "ok"] or [
        c for c in candidates if c.arch == "unknown"
    ]
    if not fitting:
        reasons.append(f"no ROCm build of torch {minor} has kernels for {named}")
        return _Pick(None, tuple(reasons), tuple(candidates), False)
    pick = fitting[-1]
    reasons.append(f"-> {pick.variant}")
    return _Pick(pick.variant, tuple(reasons), tuple(candidates), pick.arch == "ok")


def _pick_xpu(detection: Detection, catalog: Catalog, release: Release) -> _Pick:
    platform = detection.platform or ""
    minor = str(release.minor)
    reasons = [
        f"Intel display device on the PCI bus ({detection.intel_source}); integrated Intel"
        " graphics count too, and not all of them run XPU builds well"
    ]
    variants = _family_variants(catalog, release, platform, "xpu")
    if not variants:
        reasons.append(f"torch {minor} has no XPU build for {platform}")
        return _Pick(None, tuple(reasons), (), False)
    reasons.append(f"-> {variants[-1]}")
    return _Pick(variants[-1], tuple(reasons), (Candidate(variants[-1], "ok", "n/a", ()),), True)


def _family(detection: Detection) -> str | None:
    """The accelerator family this machine calls for, in uv's order of probes.

    uv (crates/uv-torch/src/accelerator.rs, Accelerator::detect): UV_CUDA_DRIVER_VERSION, then
    UV_AMD_GPU_ARCHITECTURE, then the NVIDIA driver, the AMD tools, an Intel display device.
    So an explicit AMD target wins over a stale NVIDIA kernel module.
    """
    if detection.driver is not None and detection.driver_source == ENV_CUDA_DRIVER:
        return "cuda"
    if detection.amd_gfx and detection.amd_gfx_source == ENV_AMD_ARCH:
        return "rocm"
    if detection.driver is not None:
        return "cuda"
    if detection.amd_gfx or detection.rocm_version:
        return "rocm"
    if detection.intel_gpu:
        return "xpu"
    return None


def _pick(
    detection: Detection, catalog: Catalog, release: Release, cuda: CudaData
) -> _Pick | None:
    """The build of the family this machine calls for; None when it has no accelerator."""
    family = _family(detection)
    if family == "cuda":
        return _pick_cuda(detection, catalog, release, cuda)
    if family == "rocm":
        return _pick_rocm(detection, catalog, release, load_rocm())
    if family == "xpu":
        return _pick_xpu(detection, catalog, release)
    return None


def _torch_reason(found: TorchFound) -> str:
    runtime = f"CUDA {found.cuda}" if found.cuda else ""
    runtime = runtime or (f"ROCm/HIP {found.hip}" if found.hip else "no CUDA")
    usable = "GPU usable" if found.cuda_available else "no GPU usable"
    where = f" by {found.python}" if found.python else ""
    variant = torch_variant(found.version)
    container = re.search(r"\bnv(\d\d\.\d\d)\b", found.version)
    if variant:
        origin = f"the {variant} build from the PyTorch index"
    elif container:
        origin = f"an NVIDIA container build ({container.group(0)}), not from the PyTorch index"
    elif _is_version(found.version) and Version(found.version).local is None:
        origin = "PyPI's build or another without a local version tag"
    else:
        origin = "a build from outside the PyTorch index"
    use_it = "" if variant else (
        "; `uvtorch init -a system` makes a project that uses this torch instead"
    )
    return (
        f"a torch is already importable{where}: {found.version} ({runtime}, {usable}),"
        f" {origin}; installing another torch into that environment would replace it{use_it}"
    )


def choose(
    detection: Detection,
    catalog: Catalog,
    torch_release: str | Version | None = None,
    cuda: CudaData | None = None,
) -> Choice:
    """The accelerator id to use with `torch_release` (default: the newest in the catalog).

    Raises ValueError if the catalog has no such torch release.
    """
    cuda = cuda if cuda is not None else load_cuda()
    release = _release(catalog, torch_release)
    minor = str(release.minor)
    platform = detection.platform
    reasons: list[str] = []
    alternative: tuple[str, str] | None = None
    if platform not in catalog.platforms:
        targets = ", ".join(catalog.platforms)
        reasons.append(
            f"this machine ({detection.system} {detection.machine}) is not a platform uvtorch"
            f" targets ({targets}); -> cpu"
        )
        pick = _Pick("cpu", (), (), True)
    else:
        found = _pick(detection, catalog, release, cuda)
        if found is None:
            if platform == "macos-arm64":
                reasons.append(
                    "macOS arm64: there is no separate GPU build; the cpu build (PyPI's macOS"
                    " wheel) includes MPS, the Apple GPU backend -> cpu"
                )
            else:
                reasons.append("no NVIDIA driver, AMD ROCm or Intel GPU found -> cpu")
            pick = _Pick("cpu", (), (), True)
        else:
            pick = found
            reasons.extend(found.reasons)
            if found.variant is None:
                alternative = _alternative(detection, catalog, release, cuda)
                if alternative:
                    reasons.append(
                        f"torch {alternative[0]} has {alternative[1]}, which fits this machine"
                    )
                reasons.append("-> cpu")
        family = _family(detection)
        if detection.intel_gpu and family in ("cuda", "rocm"):
            first = "NVIDIA" if family == "cuda" else "AMD"
            reasons.append(f"an Intel display device is present too; the {first} GPU comes first")
        if family == "rocm" and detection.driver is not None:
            reasons.append(
                f"{ENV_AMD_ARCH} is set, so the AMD GPU comes before the NVIDIA driver found"
                f" ({detection.driver}, {detection.driver_source}), as in uv"
                " (crates/uv-torch/src/accelerator.rs, Accelerator::detect)"
            )
    if detection.torch is not None:
        reasons.append(_torch_reason(detection.torch))
    accelerator = pick.variant or "cpu"
    uv = load_uv_torch()
    return Choice(
        accelerator=accelerator,
        torch=minor,
        reasons=tuple(reasons),
        candidates=pick.candidates,
        checked=pick.checked or pick.variant is None,
        alternative=alternative,
        uv_backend=accelerator if accelerator in uv.backends else None,
        uv_auto=uv_auto(detection, catalog, release, cuda, load_rocm(), uv),
    )


def choose_for_machine(
    detection: Detection,
    catalog: Catalog,
    minors: Iterable[str] | None = None,
    cuda: CudaData | None = None,
) -> Choice:
    """The newest release (of `minors`, default: all) with a build this machine's GPU runs.

    A machine without an accelerator gets the newest release's cpu. When no release of
    `minors` has a fitting build, the newest one's cpu choice, whose `alternative` names the
    nearest release that has one. Raises ValueError if `minors` names no catalog release.
    """
    wanted = None if minors is None else {str(Version(m)) for m in minors}
    releases = [
        r for r in catalog.releases if wanted is None or str(r.minor) in wanted
    ]
    if not releases:
        raise ValueError(f"torch {', '.join(sorted(wanted or ()))} is not in the catalog")
    newest = choose(detection, catalog, releases[-1].minor, cuda)
    if _family(detection) is None or newest.accelerator != "cpu":
        return newest
    for release in reversed(releases[:-1]):
        found = choose(detection, catalog, release.minor, cuda)
        if found.accelerator != "cpu":
            newer = tuple(str(r.minor) for r in releases if r.minor > release.minor)
            have = "has" if len(newer) == 1 else "have"
            why = (
                f"torch {release.minor} is the newest release with a build for this machine's"
                f" GPU; torch {', '.join(newer)} {have} only CPU builds for it"
            )
            return found._replace(reasons=(why, *found.reasons), newer_cpu_only=newer)
    return newest


class UvTorch(NamedTuple):
    """`data/uv-torch.toml`: uv's --torch-backend values and its AMD target order."""

    version: str
    backends: frozenset[str]
    amd_order: tuple[str, ...]


@cache
def load_uv_torch() -> UvTorch:
    """Read the packaged `uv-torch.toml` once per process."""
    raw = read_data("uv-torch.toml")
    return UvTorch(raw["uv_version"], frozenset(raw["backends"]), tuple(raw["amd_order"]))


def uv_auto(
    detection: Detection,
    catalog: Catalog,
    release: Release,
    cuda: CudaData,
    rocm: RocmData,
    uv: UvTorch,
) -> str:
    """What `uv pip install --torch-backend=auto 'torch==<release>.*'` would install here.

    Read from uv's source (crates/uv-torch): uv orders the indexes its probe allows (CUDA:
    every backend whose driver floor is met, newest first; AMD: the backends listing the
    smallest known gfx target of `rocm_agent_enumerator` on PATH or UV_AMD_GPU_ARCHITECTURE;
    Intel: xpu on Linux and Windows), then cpu, and takes torch from the first index that has
    the release. It never looks at compute capability.
    """
    platform = detection.platform or ""
    os_ = _driver_os(platform)
    env_amd = bool(detection.amd_gfx) and detection.amd_gfx_source == ENV_AMD_ARCH
    env_cuda = detection.driver_source == ENV_CUDA_DRIVER
    sees_amd = bool(detection.amd_gfx) and detection.amd_gfx_source in (
        ENV_AMD_ARCH, "rocm_agent_enumerator",
    )
    if detection.driver is not None and (env_cuda or not env_amd):
        for v in reversed(_family_variants(catalog, release, platform, "cuda")):
            cv = cuda_of(v)
            floor = cuda.driver_min.get(cv[0], {}).get(os_) if cv else None
            if floor is not None and Version(detection.driver) >= floor:
                return v
        return "cpu"
    if sees_amd:
        known = [g for g in detection.amd_gfx if g in uv.amd_order]
        if not known or not platform.startswith("linux"):
            return "cpu"
        target = min(known, key=uv.amd_order.index)
        for v in reversed(_family_variants(catalog, release, platform, "rocm")):
            if target in rocm.uv.get(v, ()):
                return v
        return "cpu"
    if detection.intel_gpu and platform.split("-")[0] in ("linux", "windows"):
        return "xpu" if _family_variants(catalog, release, platform, "xpu") else "cpu"
    return "cpu"


def _alternative(
    detection: Detection, catalog: Catalog, release: Release, cuda: CudaData
) -> tuple[str, str] | None:
    """The newest other torch release with a build that fits, checked builds first."""
    unchecked: tuple[str, str] | None = None
    for other in reversed(catalog.releases):
        if other.minor == release.minor:
            continue
        found = _pick(detection, catalog, other, cuda)
        if found is not None and found.variant is not None:
            if found.checked:
                return (str(other.minor), found.variant)
            unchecked = unchecked or (str(other.minor), found.variant)
    return unchecked


def assess_cuda_build(
    detection: Detection, variant: str, torch_minor: str | None, cuda: CudaData | None = None
) -> Candidate:
    """Can this machine's driver run `variant` of torch `torch_minor`, and do its wheels carry
    code for every GPU? For callers that choose among a project's own builds (`uvtorch sync`);
    the same rules as `choose`. `torch_minor=None`: the wheels' architectures are not known."""
    cuda = cuda if cuda is not None else load_cuda()
    caps = sorted({g.compute_capability for g in detection.gpus if g.compute_capability})
    partial = any(g.compute_capability is None for g in detection.gpus)
    return _assess_cuda(
        variant, torch_minor or "", detection.platform or "", detection.driver or "0", caps,
        partial, cuda,
    )


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def to_json(detection: Detection, choice: Choice | None = None) -> dict[str, Any]:
    """The stable, documented JSON form (see the module docstring for the schema)."""
    torch = detection.torch
    return {
        "schema_version": SCHEMA_VERSION,
        "platform": detection.platform,
        "system": detection.system,
        "machine": detection.machine,
        "nvidia": {
            "driver": detection.driver,
            "driver_source": detection.driver_source,
            "cuda_major": detection.cuda_major,
            "gpus": [
                {
                    "name": g.name,
                    "compute_capability": _cc(g.compute_capability)
                    if g.compute_capability
                    else None,
                }
                for g in detection.gpus
            ],
        },
        "amd": {
            "rocm_version": detection.rocm_version,
            "rocm_source": detection.rocm_source,
            "gfx": list(detection.amd_gfx),
            "gfx_source": detection.amd_gfx_source,
        },
        "intel": {"gpu": detection.intel_gpu, "source": detection.intel_source},
        "torch": None
        if torch is None
        else {
            "version": torch.version,
            "cuda": torch.cuda,
            "hip": torch.hip,
            "cuda_available": torch.cuda_available,
            "variant": torch_variant(torch.version),
            "python": torch.python,
        },
        "notes": list(detection.notes),
        "read": list(detection.read),
        "choice": None
        if choice is None
        else {
            "torch": choice.torch,
            "accelerator": choice.accelerator,
            "checked": choice.checked,
            "reasons": list(choice.reasons),
            "candidates": [
                {
                    "variant": c.variant,
                    "runtime": c.runtime,
                    "arch": c.arch,
                    "missing": list(c.missing),
                }
                for c in choice.candidates
            ],
            "alternative": None
            if choice.alternative is None
            else {"torch": choice.alternative[0], "accelerator": choice.alternative[1]},
            "newer_cpu_only": list(choice.newer_cpu_only),
            "uv": {
                "torch_backend": choice.uv_backend,
                "auto": choice.uv_auto,
                "version": load_uv_torch().version,
            },
            "variant_providers": _variant_providers(detection),
        },
    }


def _variant_providers(detection: Detection) -> dict[str, dict[str, str]]:
    """What a wheel-variant installer's NVIDIA provider would read here (PEP 817/825 preview).

    uv 0.13.9's preview `wheel-variants` feature has an nvidia provider with the properties
    `cuda_version_lower_bound`/`_upper_bound` and `sm_arch`, which it lets users force with
    NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION and NV_VARIANT_PROVIDER_FORCE_SM_ARCH (names
    read from the uv 0.13.9 binary, shared research detection-and-catalog.md §5). The values'
    exact spelling is not documented: these are the driver and capabilities as read, to compare.
    """
    if detection.driver is None:
        return {}
    nvidia = {"NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION": detection.driver}
    caps = sorted({g.compute_capability for g in detection.gpus if g.compute_capability})
    if caps:
        nvidia["NV_VARIANT_PROVIDER_FORCE_SM_ARCH"] = ",".join(f"{a}{b}" for a, b in caps)
    return {"nvidia": nvidia}


def format_report(detection: Detection, choice: Choice | None = None) -> str:
    """A short human-readable report, one fact per line."""
    rows: list[tuple[str, str]] = [
        ("platform", detection.platform or f"{detection.system} {detection.machine}")
    ]
    if detection.driver:
        cuda = f", runs CUDA {detection.cuda_major}.x builds" if detection.cuda_major else ""
        rows.append(("NVIDIA", f"driver {detection.driver} ({detection.driver_source}){cuda}"))
    else:
        rows.append(("NVIDIA", "no driver found"))
    for i, gpu in enumerate(detection.gpus):
        cc = _cc(gpu.compute_capability) if gpu.compute_capability else "unknown"
        rows.append((f"GPU {i}", f"{gpu.name}, compute capability {cc}"))
    if detection.amd_gfx or detection.rocm_version:
        rocm = f"ROCm {detection.rocm_version or 'version unknown'}"
        rows.append(("AMD", f"{', '.join(detection.amd_gfx) or 'no GPU target'}; {rocm}"))
    if detection.intel_gpu:
        rows.append(("Intel", f"display device found ({detection.intel_source})"))
    if detection.torch:
        t = detection.torch
        runtime = f"CUDA {t.cuda}" if t.cuda else (f"HIP {t.hip}" if t.hip else "CPU only")
        usable = "GPU usable" if t.cuda_available else "no GPU usable"
        rows.append(("torch", f"{t.version} importable ({runtime}, {usable})"))
    else:
        rows.append(("torch", "none importable"))
    for note in detection.notes:
        rows.append(("note", note))
    if choice is not None:
        checked = "" if choice.checked else " (not fully verified, see below)"
        rows.append(("use", f"-a {choice.accelerator} with torch {choice.torch}{checked}"))
    if choice is not None:
        uv = load_uv_torch()
        if choice.uv_backend:
            told = f"UV_TORCH_BACKEND={choice.uv_backend} (or --torch-backend {choice.uv_backend})"
        else:
            told = f"uv {uv.version} has no {choice.accelerator} backend; use its index URL"
        rows.append(("uv", f"{told}; uv's own --torch-backend=auto would pick {choice.uv_auto}"))
    width = max(len(label) for label, _ in rows) + 1
    lines = [f"{label + ':':<{width}} {text}" for label, text in rows]
    if choice is not None:
        lines.extend(f"  - {reason}" for reason in choice.reasons)
    return "\n".join(lines)
