"""The routing model against the real uv on the fake index.

For each small project, the model's prediction (from pyproject.toml alone) must equal:
- on linux-x86_64, what `uv lock` + `uv sync --extra/--group X` really installs;
- on every other platform, what uv itself resolved: the forks and markers of the real uv.lock,
  read back by the model's lock reader (`route_from_lock`), and `uv export --frozen` evaluated
  per platform with packaging.

The fake index (tests/fakeindex.py) serves torch for linux x86_64/aarch64, Windows and macOS
(`ALL`, `NO_MAC`, `X86_WIN`), so `uv lock` resolves for all of them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from fakeindex import FakeIndex, UvCommandError, installed_packages, run_uv
from uvtorch.catalog import load
from uvtorch.model import load_model
from uvtorch.model.markers import holds
from uvtorch.model.project import read_project
from uvtorch.model.routing import DEFAULT, NONE, Build, platform_envs, predict, python_env, route

HEAD = """
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.10"
"""

INDEXES = """
[[tool.uv.index]]
name = "pytorch-cpu"
url = "{cpu}"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu128"
url = "{cu128}"
explicit = true
"""

PROJECTS = {
    # The uv guide's own pattern (docs/guides/integration/pytorch.md).
    "guide": HEAD + """
dependencies = []
[project.optional-dependencies]
cpu = ["torch>=2.9,<2.10", "torchvision>=0.24,<0.25"]
cu128 = ["torch>=2.9,<2.10", "torchvision>=0.24,<0.25"]
[tool.uv]
conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]
[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu128", extra = "cu128", marker = "sys_platform != 'darwin'" },
]
torchvision = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu128", extra = "cu128", marker = "sys_platform != 'darwin'" },
]
""" + INDEXES,
    # Group-scoped sources apply to the requirements of that group only.
    "group-source": HEAD + """
dependencies = []
[dependency-groups]
cpu = ["torch>=2.9,<2.10"]
cu128 = ["torch>=2.9,<2.10"]
[tool.uv]
conflicts = [[{ group = "cpu" }, { group = "cu128" }]]
[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", group = "cpu" },
  { index = "pytorch-cu128", group = "cu128", marker = "sys_platform != 'darwin'" },
]
""" + INDEXES,
    # A non-explicit index is searched first for every package: base torch comes from it,
    # and macOS gets no wheel (first-index: PyPI is never asked).
    "non-explicit": HEAD + """
dependencies = ["torch>=2.9,<2.10"]
[[tool.uv.index]]
name = "pytorch-cu128"
url = "{cu128}"
""",
    # A marker-gated source: Linux gets cu128, Windows and macOS PyPI's build.
    "marker-gated": HEAD + """
dependencies = ["torch>=2.9,<2.10"]
[tool.uv.sources]
torch = { index = "pytorch-cu128", marker = "sys_platform == 'linux'" }
""" + INDEXES,
    # Windows reports platform_machine 'AMD64': an 'x86_64' gate leaves Windows on PyPI.
    "amd64": HEAD + """
dependencies = ["torch>=2.9,<2.10"]
[tool.uv.sources]
torch = { index = "pytorch-cu128", marker = "platform_machine == 'x86_64'" }
""" + INDEXES,
    # A dependent in the base: torch and torchvision arrive through ultralytics, so no source
    # applies to them in the base install; the extra's direct torch is pinned, its
    # torchvision (through ultralytics) is not.
    "dependent-in-base": HEAD + """
dependencies = ["ultralytics>=8"]
[project.optional-dependencies]
cu128 = ["torch>=2.9,<2.10"]
[tool.uv.sources]
torch = { index = "pytorch-cu128", extra = "cu128", marker = "sys_platform != 'darwin'" }
""" + INDEXES,
    # The extra-scoped source does not apply to the base requirement of torch.
    "base-and-extra": HEAD + """
dependencies = ["torch>=2.9,<2.10"]
[project.optional-dependencies]
cpu = ["torch>=2.9,<2.10"]
[tool.uv.sources]
torch = { index = "pytorch-cpu", extra = "cpu" }
""" + INDEXES,
    # Alias extras: `--extra gpu` turns on torch-cu128 through a self-reference, but uv routes
    # its torch as unscoped: PyPI's build (a package, so uv can read its own extras).
    "alias": HEAD + """
dependencies = []
[project.optional-dependencies]
torch-cpu = ["torch>=2.9,<2.10"]
torch-cu128 = ["torch>=2.9,<2.10"]
cpu = ["demo[torch-cpu]"]
gpu = ["demo[torch-cu128]"]
[build-system]
requires = ["uv_build>=0.13,<0.14"]
build-backend = "uv_build"
[tool.uv]
conflicts = [[{ extra = "cpu" }, { extra = "gpu" }, { extra = "torch-cpu" }, { extra = "torch-cu128" }]]
[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "torch-cpu" },
  { index = "pytorch-cu128", extra = "torch-cu128", marker = "sys_platform != 'darwin'" },
]
""" + INDEXES,
}

INSTALLS = {
    "alias": ["base", "extra:cpu", "extra:gpu", "extra:torch-cpu", "extra:torch-cu128"],
    "guide": ["base", "extra:cpu", "extra:cu128"],
    "group-source": ["base", "group:cpu", "group:cu128"],
    "non-explicit": ["base"],
    "marker-gated": ["base"],
    "amd64": ["base"],
    "dependent-in-base": ["base", "extra:cu128"],
    "base-and-extra": ["base", "extra:cpu"],
}


def write_project(folder: Path, name: str, index: FakeIndex) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "src" / "demo").mkdir(parents=True, exist_ok=True)
    (folder / "src" / "demo" / "__init__.py").write_text("")
    text = PROJECTS[name].replace("{cpu}", index.index_url("cpu")).replace(
        "{cu128}", index.index_url("cu128"))
    (folder / "pyproject.toml").write_text(text)
    return folder


def sync_args(install: str) -> list[str]:
    if install.startswith("extra:"):
        return ["--extra", install[6:]]
    if install.startswith("group:"):
        return ["--group", install[6:]]
    return []


def summary(build: Build | None) -> tuple[str, str | None] | None:
    """What must agree: the torch version and whether it is PyPI's or which PyTorch variant."""
    if build is None:
        return None
    if build.kind == NONE:
        return ("no wheel", None)
    return (build.version or "?", "pypi" if build.kind == DEFAULT else build.variant)


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory, fake_index: FakeIndex,
           uv_env_module: dict[str, str]) -> dict[str, Path]:
    out = {}
    for name in PROJECTS:
        folder = write_project(tmp_path_factory.mktemp(name), name, fake_index)
        run_uv(["lock"], cwd=folder, env=uv_env_module)
        out[name] = folder
    return out


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_prediction_equals_what_uv_sync_installs_on_linux_x86_64(
    name: str, locked: dict[str, Path], uv_env_module: dict[str, str]
) -> None:
    folder = locked[name]
    project = read_project(folder)
    table = predict(project, load())
    for install in INSTALLS[name]:
        run_uv(["sync", *sync_args(install)], cwd=folder, env=uv_env_module)
        got = installed_packages(folder, uv_env_module)
        cell = table.cell(install, "linux-x86_64")
        for package in ("torch", "torchvision"):
            build = cell.builds.get(package)  # type: ignore[call-overload]
            expected = None if build is None else build.version
            assert got.get(package) == expected, (name, install, package, build)


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_prediction_equals_uv_lock_on_every_platform(name: str, locked: dict[str, Path]) -> None:
    project = read_project(locked[name])
    assert project.lock is not None
    predicted = predict(project, load())
    from_lock = route(project, load())
    assert from_lock.from_lock
    # What check reads (the lock without the wheel lists of unrelated packages) says the same.
    assert load_model(locked[name], load()).routing.cells == from_lock.cells
    for install in INSTALLS[name]:
        for pid in predicted.platforms:
            want = predicted.cell(install, pid)
            have = from_lock.cell(install, pid)
            for package in ("torch", "torchvision"):
                assert summary(want.builds.get(package)) == summary(  # type: ignore[call-overload]
                    have.builds.get(package)), (name, install, pid, package)  # type: ignore[call-overload]


def exported_torch(folder: Path, install: str, pid: str, env: dict[str, str]) -> str | None:
    """torch's version in `uv export --frozen`, its markers evaluated for `pid`."""
    proc = run_uv(["export", "--frozen", "--no-hashes", "--no-header", "--no-annotate",
                   *sync_args(install)], cwd=folder, env=env)
    project = read_project(folder)
    platform_env = python_env(project, platform_envs()[pid].env)
    found = None
    for line in proc.stdout.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-", "--")) or line.startswith("."):
            continue
        req = Requirement(line)
        if req.name == "torch" and holds(req.marker, platform_env, frozenset()):
            pins = [s.version for s in req.specifier if s.operator == "=="]
            found = pins[0] if pins else re.sub(r".*@", "", line)
    return found


@pytest.mark.parametrize("name", ["guide", "marker-gated", "amd64", "dependent-in-base", "alias"])
def test_prediction_equals_uv_export_per_platform(
    name: str, locked: dict[str, Path], uv_env_module: dict[str, str]
) -> None:
    folder = locked[name]
    predicted = predict(read_project(folder), load())
    for install in INSTALLS[name]:
        for pid in predicted.platforms:
            build = predicted.cell(install, pid).torch
            want = None if build is None or build.kind == NONE else build.version
            assert exported_torch(folder, install, pid, uv_env_module) == want, (
                name, install, pid)


def test_extras_with_different_indexes_and_no_conflicts_do_not_lock(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str]
) -> None:
    """What extras-without-conflicts reports: uv refuses two index pins in one fork."""
    text = PROJECTS["guide"].replace('conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]', "")
    PROJECTS["no-conflicts"] = text
    try:
        folder = write_project(tmp_path, "no-conflicts", fake_index)
    finally:
        del PROJECTS["no-conflicts"]
    with pytest.raises(UvCommandError):
        run_uv(["lock"], cwd=folder, env=uv_env)
    table = predict(read_project(folder), load())
    for install in ("extra:cpu", "extra:cu128"):
        torch = table.cell(install, "linux-x86_64").torch
        assert torch is not None and torch.kind == "error", install


def test_check_fix_of_missing_conflicts_locks_and_installs_each_build(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str]
) -> None:
    """extras-without-conflicts' safe fix: after `uvtorch check --fix` the real uv locks, and
    each extra installs the build the model predicts."""
    from uvtorch.cli import main

    text = PROJECTS["guide"].replace('conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]', "")
    PROJECTS["fixme"] = text
    try:
        folder = write_project(tmp_path, "fixme", fake_index)
    finally:
        del PROJECTS["fixme"]
    assert main(["check", str(folder), "--fix"]) == 0
    run_uv(["lock"], cwd=folder, env=uv_env)
    table = predict(read_project(folder), load())
    for install in ("extra:cpu", "extra:cu128"):
        run_uv(["sync", *sync_args(install)], cwd=folder, env=uv_env)
        torch = table.cell(install, "linux-x86_64").torch
        assert torch is not None
        assert installed_packages(folder, uv_env)["torch"] == torch.version


def test_an_unscoped_source_overlapping_an_extra_source_does_not_lock(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str]
) -> None:
    """uv lowers a requirement once per applicable source: on macOS the cuda extra's torch is
    pinned both by the unscoped Darwin source and by its own, so uv 0.13.9 refuses ("conflicting
    indexes for package `torch` in split `sys_platform == 'darwin'`") although the extras
    conflict - the nanochat-extras-no-conflicts corpus entry's sources."""
    PROJECTS["overlap"] = HEAD + """
dependencies = ["torch>=2.9,<2.10"]
[project.optional-dependencies]
cpu = ["torch>=2.9,<2.10"]
cu128 = ["torch>=2.9,<2.10"]
[tool.uv]
conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]
[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", marker = "platform_system == 'Darwin'" },
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu128", extra = "cu128" },
]
""" + INDEXES
    try:
        folder = write_project(tmp_path, "overlap", fake_index)
    finally:
        del PROJECTS["overlap"]
    with pytest.raises(UvCommandError, match="conflicting indexes"):
        run_uv(["lock"], cwd=folder, env=uv_env)
    table = predict(read_project(folder), load())
    assert table.cell("extra:cu128", "macos-arm64").torch.kind == "error"  # type: ignore[union-attr]
    assert table.cell("extra:cu128", "linux-x86_64").torch.kind == "index"  # type: ignore[union-attr]
