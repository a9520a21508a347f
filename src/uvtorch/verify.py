"""`uvtorch verify`: can the synced torch use this machine's GPU?

uv installs a build the driver runs, but a wheel without machine code for the GPU still
imports and `torch.cuda.is_available()` is still True; the first kernel then fails with "no
kernel image is available" (astral-sh/uv#14742: GTX 1080, sm_61, and torch +cu128, whose
`get_arch_list()` starts at sm_75). This runs the environment's interpreter once with
`VERIFY_SCRIPT`, which prints what torch reports as JSON, and `judge` compares that with the
machine: pure, so that every verdict is tested without a GPU.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from uvtorch.detect import Arch, Detection, serves
from uvtorch.errors import UvtorchError

# Runs in the synced interpreter: one JSON line, whatever torch does. `import torch.cuda`
# and `torch.version` are plain submodules of every torch release.
VERIFY_SCRIPT = """\
import json, sys
if sys.path and sys.path[0] == "":
    del sys.path[0]  # a torch/ folder in the current directory must not answer
out = {"python": sys.executable}
try:
    import torch
    import torch.cuda
    import torch.version
except Exception as exc:
    out["error"] = "%s: %s" % (type(exc).__name__, exc)
    print(json.dumps(out))
    raise SystemExit(0)
out["version"] = str(torch.__version__)
out["cuda"] = getattr(torch.version, "cuda", None)
out["hip"] = getattr(torch.version, "hip", None)
try:
    xpu = getattr(torch, "xpu", None)
    out["xpu_available"] = bool(xpu is not None and xpu.is_available())
except Exception:
    out["xpu_available"] = False
try:
    out["cuda_available"] = bool(torch.cuda.is_available())
except Exception as exc:
    out["cuda_available"] = False
    out["cuda_error"] = "%s: %s" % (type(exc).__name__, exc)
try:
    out["arch_list"] = [str(a) for a in torch.cuda.get_arch_list()]
except Exception:
    out["arch_list"] = []
devices = []
if out["cuda_available"]:
    for i in range(torch.cuda.device_count()):
        d = {"name": str(torch.cuda.get_device_name(i)),
             "capability": list(torch.cuda.get_device_capability(i))}
        try:
            d["gcn_arch"] = str(torch.cuda.get_device_properties(i).gcnArchName)
        except Exception:
            pass
        devices.append(d)
out["devices"] = devices
print(json.dumps(out))
"""


class Verdict(NamedTuple):
    """What was found, and whether the torch build can use this machine's GPU."""

    ok: bool
    lines: tuple[str, ...]  # the report, one fact per line
    fix: str | None  # what to run when not ok


def interpreter(env_dir: Path) -> Path:
    """The Python of a virtual environment (POSIX or Windows layout)."""
    posix = env_dir / "bin" / "python"
    return posix if posix.exists() or not (env_dir / "Scripts").exists() else (
        env_dir / "Scripts" / "python.exe"
    )


def run_report(python: Path, timeout: float = 180.0) -> dict[str, Any]:
    """Run `VERIFY_SCRIPT` in `python` (the environment the user synced) and parse its JSON."""
    if not python.exists():
        raise UvtorchError(
            f"There is no environment to verify: {python} does not exist.",
            "Sync one first: `uvtorch sync` (or `uvtorch sync --verify`).",
        )
    try:
        done = subprocess.run(
            [str(python), "-c", VERIFY_SCRIPT], capture_output=True, text=True, timeout=timeout,
            check=False, stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise UvtorchError(f"Cannot run {python}: {exc}.", "Sync again: `uvtorch sync`.") from None
    lines = done.stdout.strip().splitlines()
    try:
        data = json.loads(lines[-1]) if lines else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UvtorchError(
            f"{python} did not report on its torch (exit {done.returncode}: {tail}).",
            "Sync again: `uvtorch sync`.",
        )
    return data


def parse_arch_entry(entry: str) -> Arch | None:
    """torch's spelling: 'sm_61' -> 6.1, 'sm_120' -> 12.0, 'compute_120' -> 12.0+PTX."""
    match = re.fullmatch(r"(sm|compute)_(\d+)(\d)[af]?", entry.strip())
    if not match:
        return None
    return Arch(int(match.group(2)), int(match.group(3)), match.group(1) == "compute")


def _gfx_base(name: str) -> str:
    return name.split(":")[0].strip()  # gfx942:sramecc+:xnack- -> gfx942


def judge(report: dict[str, Any], detection: Detection | None, fix_hint: str | None) -> Verdict:
    """Compare what torch reports with the machine; `fix_hint` is the command that would fix
    a build this GPU cannot use (from `uvtorch.choose_extra`), if one is known."""
    if "error" in report:
        return Verdict(False, (f"torch: cannot import in {report.get('python')}: {report['error']}",),
                       "`uvtorch sync` installs the build this machine runs.")
    version = str(report.get("version"))
    cuda, hip = report.get("cuda"), report.get("hip")
    runtime = f"CUDA {cuda}" if cuda else (f"ROCm/HIP {hip}" if hip else "no CUDA or ROCm")
    if report.get("xpu_available"):
        runtime += ", XPU available"
    lines = [f"torch {version} ({runtime}) in {report.get('python')}"]
    archs = [a for a in (parse_arch_entry(e) for e in report.get("arch_list") or []) if a]
    if report.get("arch_list"):
        lines.append(f"built for: {' '.join(report['arch_list'])}")
    devices = report.get("devices") or []
    # A GPU torch itself lists counts too, where probing missed it.
    nvidia = (detection is not None and (detection.driver is not None or bool(detection.gpus))
              or bool(devices and cuda))
    amd = detection is not None and bool(detection.amd_gfx) or bool(devices and hip)
    intel = detection is not None and detection.intel_gpu
    fix = fix_hint or "`uvtorch sync` chooses the build for this machine."
    problems: list[str] = []
    if report.get("cuda_available"):
        lines.append(f"torch.cuda.is_available(): True, {len(devices)} device(s)")
    for i, d in enumerate(devices):
        cap = tuple(int(x) for x in d.get("capability", ())[:2])
        if hip:
            target = _gfx_base(str(d.get("gcn_arch", "")))
            targets = {_gfx_base(a) for a in report.get("arch_list") or []}
            fits = not target or not targets or target in targets
            lines.append(f"GPU {i}: {d.get('name')} ({target or 'gfx target unknown'})"
                         f"{'' if fits else ': not in the build'}")
            if not fits:
                problems.append(f"{d.get('name')} ({target}) is not among the gfx targets of "
                                f"torch {version} ({', '.join(sorted(targets))})")
            continue
        cc = f"{cap[0]}.{cap[1]}" if len(cap) == 2 else "?"
        fits = len(cap) == 2 and serves(archs, (cap[0], cap[1])) if archs else True
        lines.append(f"GPU {i}: {d.get('name')} (compute capability {cc})"
                     f"{': covered' if fits else ': NOT covered'}")
        if not fits:
            problems.append(
                f"{d.get('name')} (compute capability {cc}, sm_{cc.replace('.', '')}) is not in "
                f"torch {version}'s arch list ({' '.join(report.get('arch_list') or [])}): "
                "torch imports and sees the GPU, but every kernel fails with 'no kernel image "
                "is available for execution on the device' (astral-sh/uv#14742)"
            )
    if report.get("cuda_available") and not devices:
        problems.append("torch.cuda.is_available() is True but it lists no device")
    if not report.get("cuda_available") and (nvidia or amd):
        lines.append("torch.cuda.is_available(): False")
        what = "NVIDIA" if nvidia else "AMD"
        if not cuda and not hip:
            problems.append(f"torch {version} is a build without GPU support, but this machine "
                            f"has an {what} GPU")
        else:
            why = report.get("cuda_error") or "torch found no usable device"
            problems.append(f"torch {version} cannot use this machine's {what} GPU ({why})")
    xpu_build = "+xpu" in version
    if intel and not (nvidia or amd):
        if xpu_build and not report.get("xpu_available"):
            problems.append(f"torch {version} cannot use this machine's Intel GPU "
                            "(torch.xpu.is_available() is False)")
        elif not xpu_build:
            lines.append(f"an Intel GPU is present; torch {version} is not an XPU build, so it "
                         "runs on the CPU (integrated Intel graphics often do)")
            return Verdict(True, tuple(lines), None)
    if not (nvidia or amd or intel):
        lines.append("no GPU on this machine: the CPU is what torch uses")
        return Verdict(True, tuple(lines), None)
    if problems:
        return Verdict(False, (*lines, *(f"problem: {p}" for p in problems)), fix)
    return Verdict(True, (*lines, "ok: torch can use this machine's GPU"), None)


__all__: Sequence[str] = ("VERIFY_SCRIPT", "Verdict", "interpreter", "judge", "run_report")
