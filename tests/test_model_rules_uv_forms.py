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
