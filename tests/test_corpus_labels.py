"""Every corpus entry carries a well-formed labels.toml and SOURCE.toml.

The corpus measures `uvtorch check`; a label with a misspelt rule name or a place key the
findings never carry would silently count as a miss, so the format is checked here, without
running the tool (labels come from reading the files, never from the tool's output).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CORPUS = Path(__file__).parent / "corpus"

# The rule-name table of the check contract (/work/wt/COMMON.md, "Contract shared by the
# `check` helpers"); labels use these names, findings carry them in `name`.
RULE_NAMES = frozenset(
    {
        "extras-without-conflicts",
        "accelerator-extra-without-source",
        "companion-build-mismatch",
        "base-install-pulls-pypi-torch",
        "platform-gets-other-build",
        "index-not-explicit",
        "inert-source",
        "extra-alias-not-routed",
        "inert-build-setting",
        "unused-index",
        "risky-resolution-setting",
        "nonexistent-version",
        "default-group-conflicts",
        "kernel-without-build-torch",
        "no-build-for-accelerator",
        "nightly-without-triton-source",
        "system-torch-not-excluded",
        "lock-cuda-without-nvidia",
        "lock-missing-platform-wheel",
        "lock-system-extra-pulls-torch",
        "system-torch-mismatch",
        "lock-other-host",
    }
)
SEVERITIES = frozenset({"error", "warning", "info"})
PLACE_KEYS = frozenset({"install", "package", "platform", "table"})
PLATFORMS = frozenset(
    {"linux-x86_64", "linux-aarch64", "windows-x86_64", "macos-arm64", "macos-x86_64"}
)
INSTALL = re.compile(r"^(base|extra:[a-z0-9]+(-[a-z0-9]+)*|group:[a-z0-9]+(-[a-z0-9]+)*)$")
SOURCE_KEYS = frozenset({"repo", "path", "commit", "url", "license", "verbatim", "notes"})
DOC_SOURCE_KEYS = frozenset({"url", "license", "verbatim", "notes"})
COMMIT = re.compile(r"^[0-9a-f]{40}$")

ENTRIES = sorted(p for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_"))


def _load(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


def test_the_corpus_is_big_enough() -> None:
    assert len(ENTRIES) >= 40, [p.name for p in ENTRIES]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda p: p.name)
def test_entry_has_its_files(entry: Path) -> None:
    for name in ("pyproject.toml", "SOURCE.toml", "labels.toml"):
        assert (entry / name).is_file(), f"{entry.name}: {name} missing"
    _load(entry / "pyproject.toml")  # the checked file itself parses as TOML


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda p: p.name)
def test_labels_use_the_contract(entry: Path) -> None:
    labels = _load(entry / "labels.toml")
    assert set(labels) <= {"exit", "mistake"}, f"{entry.name}: unknown top-level keys"
    assert labels.get("exit") in (0, 1), f"{entry.name}: exit must be 0 or 1"
    mistakes = labels.get("mistake", [])
    assert isinstance(mistakes, list)
    for m in mistakes:
        where = f"{entry.name}: {m.get('rule')}"
        assert set(m) <= {"rule", "severity", "place", "why"}, f"{where}: unknown keys {set(m)}"
        assert m.get("rule") in RULE_NAMES, f"{where}: unknown rule name"
        assert m.get("severity") in SEVERITIES, f"{where}: bad severity"
        assert isinstance(m.get("why"), str) and m["why"].strip(), f"{where}: no why"
        place = m.get("place", {})
        assert isinstance(place, dict) and set(place) <= PLACE_KEYS, f"{where}: place keys"
        assert all(isinstance(v, str) and v for v in place.values()), f"{where}: place values"
        if "install" in place:
            assert INSTALL.match(place["install"]), f"{where}: install {place['install']!r}"
        if "platform" in place:
            assert place["platform"] in PLATFORMS, f"{where}: platform {place['platform']!r}"
    has_error = any(m["severity"] == "error" for m in mistakes)
    assert labels["exit"] == int(has_error), f"{entry.name}: exit must be 1 iff an error label"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda p: p.name)
def test_source_names_where_the_file_came_from(entry: Path) -> None:
    source = _load(entry / "SOURCE.toml")
    if entry.name.startswith("uv-guide-"):
        # The uv guide's own examples come from a documentation page, not a repository file.
        missing = DOC_SOURCE_KEYS - set(source)
        assert not missing, f"{entry.name}: SOURCE.toml lacks {sorted(missing)}"
        assert source["url"].startswith("https://docs.astral.sh/uv/"), entry.name
        return
    missing = SOURCE_KEYS - set(source)
    assert not missing, f"{entry.name}: SOURCE.toml lacks {sorted(missing)}"
    assert COMMIT.match(source["commit"]), f"{entry.name}: commit {source['commit']!r}"
    assert re.match(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", source["repo"]), entry.name
    assert source["url"].startswith(f"https://github.com/{source['repo']}/"), entry.name
    assert isinstance(source["verbatim"], bool), entry.name
    if not source["verbatim"]:
        text = (entry / "pyproject.toml").read_text(encoding="utf-8")
        assert text.startswith("#"), f"{entry.name}: a reduced file starts with a header comment"
        assert f'name = "repro-{entry.name}"' in text, f"{entry.name}: reduced file not renamed"
