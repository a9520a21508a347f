"""Shared fixtures for the end-to-end tests against the fake PyTorch index.

The universe of fake wheels is built once per session and served on
127.0.0.1; ``uv_env`` gives a hermetic environment for running the real uv
(see tests/fakeindex.py for the helpers ``run_uv`` and ``installed_packages``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakeindex import FakeIndex, build_universe, hermetic_uv_env


@pytest.fixture(scope="session")
def fake_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeIndex]:
    """The fake PyPI (``.pypi_url``) and PyTorch indexes (``.pytorch_base``/<variant>)."""
    root = build_universe(tmp_path_factory.mktemp("universe"))
    with FakeIndex(root) as index:
        yield index


@pytest.fixture(scope="session")
def uv_session_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(cache dir, isolated HOME) shared by every uv call of the session."""
    return tmp_path_factory.mktemp("uv-cache"), tmp_path_factory.mktemp("uv-home")


@pytest.fixture
def uv_env(fake_index: FakeIndex, uv_session_dirs: tuple[Path, Path]) -> dict[str, str]:
    """A fresh environment dict for ``run_uv``: fake PyPI as default index, no user config."""
    cache_dir, home_dir = uv_session_dirs
    return hermetic_uv_env(fake_index, cache_dir=cache_dir, home_dir=home_dir, python=sys.executable)


@pytest.fixture(scope="module")
def uv_env_module(fake_index: FakeIndex, uv_session_dirs: tuple[Path, Path]) -> dict[str, str]:
    """Like ``uv_env``, for module-scoped projects that several tests sync in turn."""
    cache_dir, home_dir = uv_session_dirs
    return hermetic_uv_env(fake_index, cache_dir=cache_dir, home_dir=home_dir, python=sys.executable)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep uvtorch's template cache out of the real user's ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


@pytest.fixture(autouse=True)
def _no_index_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """`init` and `add` ask the PyTorch index (uvtorch.availability) unless offline: a test
    must never reach download.pytorch.org, so every test runs with UV_OFFLINE=1 unless it
    removes it (tests/test_availability.py does, with the fake index's URL). uv run through
    fakeindex.run_uv never sees it (hermetic_uv_env drops UV_* variables)."""
    monkeypatch.setenv("UV_OFFLINE", "1")
