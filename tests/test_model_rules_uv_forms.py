"""Forms and setups uv accepts that `check` once misjudged: each test names the uv behaviour
(uv 0.13.9 run on a copy, or uv's docs) that makes the file correct or the finding's place."""

from __future__ import annotations

from pathlib import Path

from uvtorch.catalog import load
from uvtorch.checks import run
from uvtorch.checks.context import load_context

HEAD = """
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.10"
"""


def findings(tmp_path: Path, text: str) -> list[tuple[str, str, dict[str, str]]]:
    (tmp_path / "pyproject.toml").write_text(text)
    return [(f.name, f.severity, {k: v for k, v in vars(f.place).items() if v is not None})
            for f in run(load_context(tmp_path, load()))]


def test_a_package_conflict_item_is_valid(tmp_path: Path) -> None:
    # uv 0.13.9 locks `{ package = "demo" }` in a conflict set (warning: experimental).
    found = findings(tmp_path, HEAD + """
dependencies = []
[project.optional-dependencies]
vllm = []
[tool.uv]
conflicts = [[{ package = "demo" }, { extra = "vllm" }]]
""")
    assert [f for f in found if f[0] == "invalid-project-table"] == []


def test_a_url_followed_by_a_marker_without_a_space_is_valid(tmp_path: Path) -> None:
    # uv 0.13.9 reads `pkg @ git+URL@rev; marker` as the URL `...@rev` plus the marker.
    found = findings(tmp_path, HEAD + """
dependencies = []
[project.optional-dependencies]
m = ["mbridge @ git+https://example.invalid/mbridge.git@310e8fb; sys_platform == 'linux'"]
""")
    assert [f for f in found if f[0] == "invalid-project-table"] == []


def test_a_really_broken_requirement_is_still_reported(tmp_path: Path) -> None:
    found = findings(tmp_path, HEAD + """
dependencies = ["torch >= >= 2"]
""")
    assert [f[0] for f in found if f[0] == "invalid-project-table"] == ["invalid-project-table"]


def _kernels(found: list[tuple[str, str, dict[str, str]]]) -> list[dict[str, str]]:
    return [place for name, _, place in found if name == "kernel-without-build-torch"]


def test_a_kernel_in_no_build_package_is_never_built(tmp_path: Path) -> None:
    # uv docs reference/settings.md#no-build-package: only wheels are installed for it.
    found = findings(tmp_path, HEAD + """
dependencies = []
[project.optional-dependencies]
cu126 = ["torch==2.6.0", "flash-attn==2.6.3"]
[tool.uv]
no-build-package = ["flash-attn"]
""")
    assert _kernels(found) == []


def test_a_kernel_pinned_to_a_local_wheel_build_on_an_index_is_not_built(tmp_path: Path) -> None:
    found = findings(tmp_path, HEAD + """
dependencies = []
[project.optional-dependencies]
gpu = ["torch==2.11.0", "flash-attn==2.8.3+cu.13.0.torch.2.11; sys_platform == 'linux'"]
[tool.uv.sources]
flash-attn = { index = "wheels" }
[[tool.uv.index]]
name = "wheels"
url = "https://example.invalid/simple"
explicit = true
""")
    assert _kernels(found) == []


def test_a_kernel_with_pypi_wheels_is_not_built(tmp_path: Path) -> None:
    # PyPI's JSON API: xformers ships manylinux x86_64 and win_amd64 wheels.
    found = findings(tmp_path, HEAD + """
dependencies = []
[project.optional-dependencies]
gpu = ["torch==2.10.0", "xformers>=0.0.33"]
""")
    assert _kernels(found) == []


def test_a_kernel_built_from_an_sdist_is_reported_where_it_is_declared(tmp_path: Path) -> None:
    found = findings(tmp_path, HEAD + """
dependencies = ["torch==2.8.0"]
[project.optional-dependencies]
accel = ["flash-attn==2.8.3"]
""")
    assert _kernels(found) == [{"install": "extra:accel", "package": "flash-attn",
                                "table": "tool.uv.extra-build-dependencies"}]


CU128 = """
[[tool.uv.index]]
name = "pytorch-cu128"
url = "https://download.pytorch.org/whl/cu128"
explicit = true
"""


def test_a_mismatch_is_reported_once_where_declared_not_per_alias(tmp_path: Path) -> None:
    found = findings(tmp_path, HEAD + """
dependencies = ["torch>=2.9"]
[project.optional-dependencies]
dataset = ["torchvision>=0.24"]
training = ["demo[dataset]"]
all = ["demo[training]"]
[tool.uv.sources]
torch = { index = "pytorch-cu128", marker = "sys_platform == 'linux'" }
""" + CU128)
    places = {(p.get("install"), p.get("package")) for name, _, p in found
              if name == "companion-build-mismatch"}
    assert places == {("extra:dataset", "torchvision")}


def test_pypi_torchcodec_next_to_an_index_torch_is_a_warning(tmp_path: Path) -> None:
    # pytorch/torchcodec README.md: PyPI's wheel is the CPU-decoding build, it still works.
    found = findings(tmp_path, HEAD + """
dependencies = ["torch>=2.9"]
[project.optional-dependencies]
video = ["torchcodec>=0.8"]
[tool.uv.sources]
torch = { index = "pytorch-cu128", marker = "sys_platform == 'linux'" }
""" + CU128)
    severities = {s for name, s, p in found if name == "companion-build-mismatch"}
    assert severities == {"warning"}


def test_build_settings_for_a_wheel_from_a_pytorch_index_are_reported_once(tmp_path: Path) -> None:
    found = findings(tmp_path, HEAD + """
dependencies = ["torch==2.9.0", "flash-attn-3"]
[tool.uv.sources]
flash-attn-3 = { index = "pytorch-cu128" }
torch = { index = "pytorch-cu128" }
[tool.uv.extra-build-dependencies]
flash-attn-3 = [{ requirement = "torch", match-runtime = true }]
[tool.uv.extra-build-variables]
flash-attn-3 = { FLASH_ATTENTION_SKIP_CUDA_BUILD = "TRUE" }
""" + CU128)
    assert [p for name, _, p in found if name == "inert-build-setting"] == [
        {"package": "flash-attn-3", "table": "tool.uv.extra-build-dependencies"}]


def test_a_platform_left_out_by_an_os_marker_is_only_a_note(tmp_path: Path) -> None:
    found = findings(tmp_path, HEAD + """
dependencies = ["torch>=2.9"]
[tool.uv.sources]
torch = { index = "pytorch-cu128", marker = "sys_platform == 'linux'" }
""" + CU128)
    assert {(s, p.get("platform")) for name, s, p in found
            if name == "platform-gets-other-build"} == {("info", "windows-x86_64")}


def test_a_machine_marker_that_misses_windows_stays_a_warning(tmp_path: Path) -> None:
    found = findings(tmp_path, HEAD + """
dependencies = ["torch>=2.9"]
[tool.uv.sources]
torch = { index = "pytorch-cu128", marker = "platform_machine == 'x86_64'" }
""" + CU128)
    assert ("warning", "windows-x86_64") in {(s, p.get("platform")) for name, s, p in found
                                             if name == "platform-gets-other-build"}


def test_an_alias_of_an_extra_routed_to_pypi_gets_the_same_build(tmp_path: Path) -> None:
    found = findings(tmp_path, HEAD + """
dependencies = []
[project.optional-dependencies]
audio = ["torchcodec>=0.8"]
all = ["demo[audio]"]
[tool.uv.sources]
torchcodec = [{ index = "pypi", extra = "audio" }]
[[tool.uv.index]]
name = "pypi"
url = "https://pypi.org/simple"
explicit = true
""")
    assert [f for f in found if f[0] == "extra-alias-not-routed"] == []


# --- corpus disagreements settled by uv's behaviour (issue 11) ---------------------------------


def _severities(found: list[tuple[str, str, dict[str, str]]], rule: str) -> dict[str, str]:
    return {place.get("install", "") + "@" + place.get("platform", ""): severity
            for name, severity, place in found if name == rule}


def test_a_requirement_marker_that_leaves_a_platform_out_is_deliberate(tmp_path: Path) -> None:
    # The areal corpus entry's shape: the extras' torch is gated to Linux x86_64 by the
    # requirement's own marker; uv applies a source only where its requirement's marker holds
    # (lowering.rs), so linux aarch64 gets PyPI's torch knowingly: a note, not a warning.
    found = findings(tmp_path, HEAD + """
dependencies = ["torch>=2.9.1,<2.11"]
[project.optional-dependencies]
cuda = ["torch; sys_platform == 'linux' and platform_machine == 'x86_64'"]
[tool.uv]
environments = ["sys_platform == 'linux'"]
[tool.uv.sources]
torch = [{ index = "pytorch-cu128", extra = "cuda" }]
""" + CU128)
    severities = _severities(found, "platform-gets-other-build")
    assert severities and set(severities.values()) == {"info"}, severities


def test_a_requirement_marker_that_misses_windows_amd64_stays_a_warning(tmp_path: Path) -> None:
    found = findings(tmp_path, HEAD + """
dependencies = []
[project.optional-dependencies]
cuda = ["torch>=2.9; platform_machine == 'x86_64'", "torch>=2.9; platform_machine != 'x86_64'"]
[tool.uv]
conflicts = [[{ extra = "cuda" }, { extra = "other" }]]
environments = ["sys_platform == 'linux'", "sys_platform == 'win32'"]
[tool.uv.sources]
torch = [{ index = "pytorch-cu128", extra = "cuda", marker = "sys_platform != 'win32' or platform_machine == 'x86_64'" }]
""".replace('conflicts = [[{ extra = "cuda" }, { extra = "other" }]]\n', "") + CU128)
    assert _severities(found, "platform-gets-other-build").get("extra:cuda@windows-x86_64") \
        == "warning"


def test_a_default_alternative_among_groups_is_a_note(tmp_path: Path) -> None:
    # uv 0.13.9 refuses `uv sync --group cu128` while `pypi` is a default group of the same
    # conflict set ("Groups `cu128` and `pypi` (enabled by default) are incompatible"), and
    # `--no-group pypi --group cu128` works: the docling-serve / open-instruct pattern.
    found = findings(tmp_path, HEAD + """
dependencies = []
[dependency-groups]
pypi = ["torch>=2.9"]
cu128 = ["torch>=2.9"]
[tool.uv]
default-groups = ["pypi"]
conflicts = [[{ group = "pypi" }, { group = "cu128" }]]
[tool.uv.sources]
torch = [{ index = "pytorch-cu128", group = "cu128" }]
""" + CU128)
    assert _severities(found, "default-group-conflicts") == {"group:cu128@": "info"}


def test_a_default_group_conflict_outside_torch_is_a_note(tmp_path: Path) -> None:
    found = findings(tmp_path, HEAD + """
dependencies = []
[project.optional-dependencies]
gym = ["requests"]
[dependency-groups]
dev = ["pytest"]
[tool.uv]
conflicts = [[{ extra = "gym" }, { group = "dev" }]]
""")
    assert _severities(found, "default-group-conflicts") == {"extra:gym@": "info"}


def test_a_default_group_conflicting_with_a_torch_extra_is_an_error(tmp_path: Path) -> None:
    found = findings(tmp_path, HEAD + """
dependencies = []
[project.optional-dependencies]
cu128 = ["torch>=2.9"]
[dependency-groups]
gpu = ["torch>=2.9"]
[tool.uv]
default-groups = ["gpu"]
conflicts = [[{ extra = "cu128" }, { group = "gpu" }]]
[tool.uv.sources]
torch = [{ index = "pytorch-cu128", extra = "cu128" }]
""" + CU128)
    assert _severities(found, "default-group-conflicts") == {"extra:cu128@": "error"}


def test_a_kernel_with_dependency_metadata_is_installed_without_isolation(tmp_path: Path) -> None:
    # uv docs concepts/projects/config.md "Disabling build isolation": dependency-metadata lets
    # uv lock a kernel it then installs with --no-build-isolation-package (command line).
    found = findings(tmp_path, HEAD + """
dependencies = ["torch==2.8.0"]
[project.optional-dependencies]
flash-attn = ["flash-attn==2.8.3"]
[tool.uv]
package = true
[[tool.uv.dependency-metadata]]
name = "flash-attn"
version = "2.8.3"
requires-dist = ["torch", "einops"]
""")
    assert _severities(found, "kernel-without-build-torch") == {"extra:flash-attn@": "info"}


def test_a_kernel_in_a_file_without_uv_settings_is_a_note(tmp_path: Path) -> None:
    text = HEAD + """
dependencies = ["torch==2.8.0"]
[project.optional-dependencies]
accel = ["flash-attn==2.8.3"]
"""
    assert _severities(findings(tmp_path, text), "kernel-without-build-torch") == {
        "extra:accel@": "info"}
    uv = text + "\n[tool.uv]\npackage = true\n"
    assert _severities(findings(tmp_path, uv), "kernel-without-build-torch") == {
        "extra:accel@": "error"}


def test_macos_x86_64_without_any_torch_wheel_is_not_a_routing_finding(tmp_path: Path) -> None:
    # PyTorch built no macOS x86_64 wheel after 2.2.2 (routing.toml last_torch): with
    # `sys_platform == 'darwin'` admitted, every install fails there, PyPI's included.
    found = findings(tmp_path, HEAD + """
dependencies = []
[project.optional-dependencies]
cpu = ["torch==2.9.1+cpu"]
[tool.uv]
environments = ["sys_platform == 'darwin'", "sys_platform == 'linux'"]
[tool.uv.sources]
torch = [{ index = "pytorch-cpu", extra = "cpu" }]
[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true
""")
    severities = _severities(found, "platform-gets-other-build")
    assert "extra:cpu@macos-x86_64" not in severities
    assert severities.get("extra:cpu@macos-arm64") == "warning"  # +cpu has no macOS wheel


def test_best_match_with_pypi_itself_declared_is_not_risky(tmp_path: Path) -> None:
    text = HEAD + """
dependencies = ["requests"]
[tool.uv]
index-strategy = "unsafe-best-match"
[[tool.uv.index]]
name = "pypi"
url = "https://pypi.org/simple"
"""
    assert not [f for f in findings(tmp_path, text) if f[0] == "risky-resolution-setting"]
    other = text.replace("https://pypi.org/simple", "https://mirror.example.invalid/simple")
    assert [f[2] for f in findings(tmp_path, other) if f[0] == "risky-resolution-setting"] == [
        {"table": "tool.uv.index-strategy"}]


def test_a_pin_whose_marker_never_meets_the_source_is_not_judged_by_it(tmp_path: Path) -> None:
    # invokeai: the rocm extra's `torch==2.7.1; linux aarch64` goes to PyPI, because the rocm
    # source's marker leaves aarch64 out (lowering.rs combines the two markers).
    found = findings(tmp_path, HEAD + """
dependencies = []
[project.optional-dependencies]
rocm = [
  "torch==2.10.0+rocm7.1; sys_platform == 'linux' and platform_machine != 'aarch64'",
  "torch==2.7.1; sys_platform == 'linux' and platform_machine == 'aarch64'",
]
[tool.uv]
environments = ["sys_platform == 'linux'"]
[tool.uv.sources]
torch = [{ index = "rocm", extra = "rocm", marker = "platform_machine != 'aarch64'" }]
[[tool.uv.index]]
name = "rocm"
url = "https://download.pytorch.org/whl/rocm7.1"
explicit = true
""")
    assert [f for f in found if f[0] == "no-build-for-accelerator"] == []


def test_a_group_looked_up_on_another_accelerators_index_has_no_source(tmp_path: Path) -> None:
    # invokeai-groups-non-explicit: no sources, non-explicit PyTorch indexes; under
    # first-index uv looks torch up on the first index that has it (cpu) and finds no
    # +cu128 there (docs/concepts/indexes.md). The version exists - on the cu128 index.
    found = findings(tmp_path, HEAD + """
dependencies = []
[dependency-groups]
cpu = ["torch==2.9.1+cpu"]
cuda = ["torch==2.9.1+cu128"]
[tool.uv]
conflicts = [[{ group = "cpu" }, { group = "cuda" }]]
[[tool.uv.index]]
name = "torch-cpu"
url = "https://download.pytorch.org/whl/cpu"
[[tool.uv.index]]
name = "torch-cuda"
url = "https://download.pytorch.org/whl/cu128"
""")
    assert ("accelerator-extra-without-source", "error", "group:cuda") in {
        (n, s, p.get("install")) for n, s, p in found}
    assert [f for f in found if f[0] == "nonexistent-version"] == []


def test_a_workspace_roots_source_applies_to_its_members(tmp_path: Path) -> None:
    # docs/concepts/projects/workspaces.md: "Any tool.uv.sources definitions in the workspace
    # root apply to all members" - a member may be the one that requires it.
    text = HEAD + """
dependencies = []
[tool.uv.sources]
nemo-run = { git = "https://example.invalid/Run", rev = "414f007" }
"""
    assert [f[0] for f in findings(tmp_path, text)] == ["inert-source"]
    assert findings(tmp_path, text + '[tool.uv.workspace]\nmembers = ["packages/*"]\n') == []


def test_an_unconflicted_extras_pin_is_reported_once_where_declared(tmp_path: Path) -> None:
    # mjlab: the cu12 pin reaches the base and every group (uv 0.13.9 locks one torch,
    # +cu128, for the plain `uv export --frozen` too); macOS has no wheel in any of them, and
    # the mistake - the marker-less source - is declared at cu12 alone.
    found = findings(tmp_path, HEAD + """
dependencies = ["torch"]
[project.optional-dependencies]
cu12 = ["torch>=2.7.0"]
[dependency-groups]
dev = ["pytest"]
[tool.uv.sources]
warp-lang = { index = "pytorch-cu128", marker = "sys_platform != 'darwin'" }
torch = [{ index = "pytorch-cu128", extra = "cu12" }]
""" + CU128)
    assert _severities(found, "platform-gets-other-build") == {"extra:cu12@macos-arm64": "warning"}
    assert "base-install-pulls-pypi-torch" not in {n for n, _, _ in found}


def test_a_marker_that_names_a_platform_says_it_matters(tmp_path: Path) -> None:
    text = HEAD + """
dependencies = []
[project.optional-dependencies]
cu128 = ["torch>=2.9"]
cpu = ["torch>=2.9"]
[tool.uv]
conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]
[tool.uv.sources]
torch = [{ index = "pytorch-cu128", extra = "cu128" }]
""" + CU128
    assert _severities(findings(tmp_path, text), "platform-gets-other-build") == {
        "extra:cu128@macos-arm64": "info"}  # the uv guide's own pattern
    named = text.replace('cpu = ["torch>=2.9"]', 'cpu = ["torch>=2.9", "mlx; sys_platform == \'darwin\'"]')
    assert _severities(findings(tmp_path, named), "platform-gets-other-build") == {
        "extra:cu128@macos-arm64": "warning"}


def test_windows_amd64_left_to_a_dependents_pypi_torch(tmp_path: Path) -> None:
    # kokoro-fastapi: the gpu extra's torch is gated `platform_machine == 'x86_64'`, which
    # Windows ('AMD64') misses; kokoro (a base dependency; its 0.9.4 METADATA requires torch)
    # then brings PyPI's CPU torch there, as it does in the base install.
    found = findings(tmp_path, HEAD + """
dependencies = ["kokoro==0.9.4"]
[project.optional-dependencies]
gpu = ["torch==2.8.0+cu126; platform_machine == 'x86_64'"]
cpu = ["torch==2.8.0"]
[tool.uv]
conflicts = [[{ extra = "cpu" }, { extra = "gpu" }]]
[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu126", extra = "gpu", marker = "platform_machine == 'x86_64'" },
]
[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true
[[tool.uv.index]]
name = "pytorch-cu126"
url = "https://download.pytorch.org/whl/cu126"
explicit = true
""")
    assert _severities(found, "platform-gets-other-build").get("extra:gpu@windows-x86_64") \
        == "warning"
    assert ("base-install-pulls-pypi-torch", "error", {"install": "base", "package": "kokoro",
            "platform": "linux-x86_64", "table": "project.dependencies"}) in found


def test_a_group_with_a_default_alternative_is_still_routed(tmp_path: Path) -> None:
    # docling-serve: `uv sync --no-group pypi --group rocm` installs the rocm group's table
    # cells, so its missing linux aarch64 wheel is still worth saying.
    found = findings(tmp_path, HEAD + """
dependencies = []
[dependency-groups]
pypi = ["torch>=2.9,<2.10"]
rocm = ["torch>=2.9,<2.10"]
[tool.uv]
default-groups = ["pypi"]
conflicts = [[{ group = "pypi" }, { group = "rocm" }]]
environments = ["sys_platform == 'linux'"]
[tool.uv.sources]
torch = [{ index = "pytorch-rocm", group = "rocm", marker = "sys_platform == 'linux'" }]
[[tool.uv.index]]
name = "pytorch-rocm"
url = "https://download.pytorch.org/whl/rocm6.3"
explicit = true
""")
    assert _severities(found, "platform-gets-other-build") == {"group:rocm@linux-aarch64": "warning"}


def test_odd_types_in_the_new_settings_do_not_crash(tmp_path: Path) -> None:
    for text in ('[tool]\nuv = 5\n', '[tool.uv]\ndependency-metadata = 5\nworkspace = 5\n',
                 '[tool.uv.workspace]\nmembers = 5\n'):
        found = findings(tmp_path, HEAD + 'dependencies = ["torch==2.8.0"]\n'
                         '[project.optional-dependencies]\na = ["flash-attn==2.8.3"]\n' + text)
        assert all(isinstance(n, str) for n, _, _ in found)


def test_an_mps_extra_says_macos_matters(tmp_path: Path) -> None:
    found = findings(tmp_path, HEAD + """
dependencies = []
[project.optional-dependencies]
cu128 = ["torch>=2.9"]
mps = ["torch>=2.9"]
[tool.uv]
conflicts = [[{ extra = "mps" }, { extra = "cu128" }]]
[tool.uv.sources]
torch = [{ index = "pytorch-cu128", extra = "cu128" }]
""" + CU128)
    assert _severities(found, "platform-gets-other-build") == {"extra:cu128@macos-arm64": "warning"}


def test_an_accelerator_extra_without_torch_keeps_the_bases_build(tmp_path: Path) -> None:
    # fastvideo: `rocm = ["amdsmi"]` adds no torch, so `uv sync --extra rocm` keeps the base's
    # PyPI torch (a CUDA build on Linux x86_64). Compound names are about other packages.
    found = findings(tmp_path, HEAD + """
dependencies = ["torch==2.9.1"]
[project.optional-dependencies]
rocm = ["amdsmi"]
onnx-cuda = ["onnxruntime-gpu"]
cuda = ["nvidia-ml-py"]
""")
    assert [(s, p.get("install")) for n, s, p in found
            if n == "accelerator-extra-without-source"] == [("warning", "extra:rocm")]


def test_a_windows_only_package_without_a_marker_fails_on_linux(tmp_path: Path) -> None:
    # index-tts: triton-windows==3.1.0.post17 has only a win_amd64 wheel and no sdist
    # (`pip download` on 2026-12-01), next to Linux packages in the same extra.
    found = findings(tmp_path, HEAD + """
dependencies = ["torch==2.8.0"]
[project.optional-dependencies]
accel = ["nvidia-cuda-runtime-cu12", "triton-windows==3.1.0.post17"]
compile = ["triton-windows==3.1.0.post17"]
""")
    assert [(s, p.get("install"), p.get("platform")) for n, s, p in found
            if n == "platform-gets-other-build" and p.get("package") == "triton-windows"] == [
        ("error", "extra:accel", "linux-x86_64")]
    marked = findings(tmp_path, HEAD + """
dependencies = ["torch==2.8.0"]
[project.optional-dependencies]
accel = ["nvidia-cuda-runtime-cu12", "triton-windows==3.1.0.post17; sys_platform == 'win32'"]
""")
    assert not [f for f in marked if f[2].get("package") == "triton-windows"]


def test_an_unscoped_source_meeting_an_extras_on_one_platform(tmp_path: Path) -> None:
    # tests/test_model_uv.py: uv 0.13.9 refuses this lock in the darwin split.
    found = findings(tmp_path, HEAD + """
dependencies = ["torch>=2.9,<2.10"]
[project.optional-dependencies]
cpu = ["torch>=2.9,<2.10"]
cuda = ["torch>=2.9,<2.10"]
[tool.uv]
conflicts = [[{ extra = "cpu" }, { extra = "cuda" }]]
[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", marker = "platform_system == 'Darwin'" },
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu128", extra = "cuda" },
]
[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true
""" + CU128)
    assert ("platform-gets-other-build", "error", "extra:cuda", "macos-arm64") in {
        (n, s, p.get("install"), p.get("platform")) for n, s, p in found}
    # Without the conflicts the extras also clash everywhere (extras-without-conflicts); the
    # macOS clash is its own and is still named (nanochat-extras-no-conflicts).
    text = HEAD + """
dependencies = ["torch>=2.9,<2.10"]
[project.optional-dependencies]
cpu = ["torch>=2.9,<2.10"]
cuda = ["torch>=2.9,<2.10"]
[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", marker = "platform_system == 'Darwin'" },
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu128", extra = "cuda" },
]
[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true
""" + CU128
    clashes = {(p.get("install"), p.get("platform")) for n, s, p in findings(tmp_path, text)
               if n == "platform-gets-other-build" and s == "error"}
    assert clashes == {("extra:cuda", "macos-arm64")}
