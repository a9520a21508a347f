"""`uvtorch matrix`: the catalog as a table, filters, JSON, and --refresh from an index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakeindex import Dist, FakeIndex, build_universe, pytorch_index
from uvtorch.catalog import load
from uvtorch.cli import main


@pytest.fixture(autouse=True)
def _fresh_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN202
    """Each test gets its own cache (so its overlay), and the catalog is re-read."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    load.cache_clear()
    yield
    load.cache_clear()


def test_table_shows_builds_platforms_python_and_companions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", "--torch", ">=2.9,<2.10"]) == 0
    out = capsys.readouterr().out
    assert "2.9    cpu" in out and "3.10 to 3.14" in out and "torchvision 0.24.0/0.24.1" in out
    assert "cu129     3.10 to 3.14  linux" in out
    assert "2.10" not in out


def test_filters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", "-a", "cu128", "--platform", "linux-aarch64", "--json"]) == 0
    builds = json.loads(capsys.readouterr().out)["builds"]
    assert [b["torch"] for b in builds] == ["2.11", "2.10", "2.9", "2.7"]
    assert all(b["accelerator"] == "cu128" for b in builds)


def test_bad_torch_filter_is_the_same_error_as_init(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", "--torch", "latest"]) == 2
    assert "'latest' is not a valid version specifier" in capsys.readouterr().err


@pytest.mark.e2e
def test_refresh_learns_a_new_release_from_an_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A torch 2.16 that the packaged catalog has never heard of, on a mirror."""
    root = build_universe(tmp_path / "mirror", [
        Dist(pytorch_index("cpu"), "torch", "2.16.0+cpu",
             ("linux-x86_64", "linux-aarch64", "windows"), requires_python=">=3.11"),
        Dist(pytorch_index("cpu"), "torch", "2.16.0", ("macos",)),
        Dist(pytorch_index("cu134"), "torch", "2.16.0+cu134", ("linux-x86_64",)),
    ])
    with FakeIndex(root) as mirror:
        assert main(["matrix", "--refresh", "--index-url", mirror.pytorch_base,
                     "--torch", ">=2.16"]) == 0
    out = capsys.readouterr().out
    assert "Read torch 2.16 (cpu, cu134)" in out
    assert "cu134" in out and "2.16" in out
    target = tmp_path / "new"
    assert main(["init", str(target), "--yes", "-a", "cu134"]) == 0
    assert '"torch>=2.16,<2.17"' in (target / "pyproject.toml").read_text()


def test_refresh_of_an_index_without_torch_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeIndex(build_universe(tmp_path / "empty", [])) as empty:
        assert main(["matrix", "--refresh", "--index-url", empty.pytorch_base]) == 1
    assert "Found no torch wheels" in capsys.readouterr().err


@pytest.mark.e2e
def test_refresh_from_a_partial_mirror_adds_facts_and_removes_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A company mirror that carries only torch 2.9's cpu build must not erase 2.9's cu128."""
    before = {b["accelerator"] for b in _builds(capsys, ">=2.9,<2.10")}
    assert {"cpu", "cu126", "cu128"} <= before
    root = build_universe(tmp_path / "mirror", [
        Dist(pytorch_index("cpu"), "torch", "2.9.1+cpu", ("linux-x86_64",)),
        Dist(pytorch_index("cu134"), "torch", "2.9.1+cu134", ("linux-x86_64",)),
    ])
    with FakeIndex(root) as mirror:
        assert main(["matrix", "--refresh", "--index-url", mirror.pytorch_base]) == 0
    capsys.readouterr()
    after = {b["accelerator"] for b in _builds(capsys, ">=2.9,<2.10")}
    assert after == before | {"cu134"}
    target = tmp_path / "still"
    assert main(["init", str(target), "--yes", "-a", "cu128", "--torch", ">=2.9,<2.10"]) == 0


def _builds(capsys: pytest.CaptureFixture[str], torch: str) -> list[dict[str, object]]:
    assert main(["matrix", "--torch", torch, "--json"]) == 0
    builds: list[dict[str, object]] = json.loads(capsys.readouterr().out)["builds"]
    return builds
