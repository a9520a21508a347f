"""The corpus scorer (benchmarks/check_corpus.py) counts by the check contract's rules.

Synthetic findings only: the scorer's arithmetic must be right before its figures mean
anything, and these tests must not depend on what today's `uvtorch check` prints.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "check_corpus.py"


@pytest.fixture(scope="module")
def scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_corpus", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_corpus"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


LABELS = {
    "exit": 1,
    "mistake": [
        {
            "rule": "extras-without-conflicts",
            "severity": "error",
            "place": {"install": "extra:gpu"},
        },
        {"rule": "inert-source", "severity": "warning", "place": {"package": "torch_vision"}},
        {
            "rule": "platform-gets-other-build",
            "severity": "info",
            "place": {"platform": "macos-arm64"},
        },
    ],
}


def finding(name: str, severity: str, **place: str) -> dict[str, object]:
    return {"code": "UT000", "name": name, "severity": severity, "place": place, "message": "m"}


def test_a_finding_matches_on_name_and_every_label_key(scorer: ModuleType) -> None:
    label = LABELS["mistake"][0]
    name = "extras-without-conflicts"
    assert scorer.matches(label, finding(name, "error", install="extra:gpu", package="torch"))
    assert not scorer.matches(label, finding(name, "error", install="extra:cpu"))
    assert not scorer.matches(label, finding(name, "error"))
    assert not scorer.matches(label, finding("inert-source", "error", install="extra:gpu"))


def test_names_compare_the_way_uv_normalises_them(scorer: ModuleType) -> None:
    inert = finding("inert-source", "warning", package="Torch.Vision")
    assert scorer.matches(LABELS["mistake"][1], inert)
    label = {"rule": "r", "place": {"install": "extra:audio_common"}}
    assert scorer.matches(label, {"name": "r", "place": {"install": "extra:audio-common"}})


def test_a_finding_may_point_inside_the_labelled_table(scorer: ModuleType) -> None:
    label = {"rule": "r", "place": {"table": "tool.uv.sources", "package": "torch"}}
    inside = {"name": "r", "place": {"table": "tool.uv.sources.torch[0]", "package": "torch"}}
    assert scorer.matches(label, inside)
    def at(table: str) -> dict[str, object]:
        return {"name": "r", "place": {"table": table, "package": "torch"}}

    assert scorer.matches({"rule": "r", "place": {"table": "tool.uv"}}, at("tool.uv.prerelease"))
    assert not scorer.matches(label, at("tool.uv.sourcesx"))
    assert not scorer.matches({"rule": "r", "place": {"table": "tool.uv.sources"}}, at("tool.uv"))


def test_recall_precision_and_false_alarms(scorer: ModuleType) -> None:
    findings = [
        finding("extras-without-conflicts", "error", install="extra:gpu"),
        finding("platform-gets-other-build", "warning", platform="macos-arm64"),  # info label
        finding("index-not-explicit", "warning", table="tool.uv.index"),  # no label
        finding("unused-index", "info"),  # info findings are never alarms
    ]
    s = scorer.score_entry("e", LABELS, findings, 1)
    assert (s.labels, s.matched_labels) == (2, 1)
    assert [m["rule"] for m in s.missed] == ["inert-source"]
    assert (s.findings, s.matched_findings) == (3, 2)
    assert [f["name"] for f in s.false_alarms] == ["index-not-explicit"]
    assert s.exit_agrees
    t = scorer.totals([s])
    assert t["recall"] == 0.5 and t["precision"] == pytest.approx(2 / 3)
    assert t["false_alarms"] == 1


def test_output_outside_the_contract_is_reported_not_scored(scorer: ModuleType) -> None:
    old_shape = json.dumps([{"id": "extras-without-conflicts", "message": "..."}])
    assert scorer.contract_findings(old_shape) is None
    assert scorer.contract_findings("not json") is None
    assert scorer.contract_findings(json.dumps({"findings": [{"name": "x"}]})) is None
    summary = {"error": 0, "warning": 1, "info": 0}
    good = {"findings": [finding("inert-source", "warning")], "summary": summary}
    assert scorer.contract_findings(json.dumps(good)) == good["findings"]
    s = scorer.score_entry("e", LABELS, None, 2)
    assert s.problem == scorer.NOT_CONTRACT and not s.exit_agrees and s.matched_labels == 0
    assert len(s.missed) == 2


def test_a_clean_entry_with_a_clean_report_agrees(scorer: ModuleType) -> None:
    s = scorer.score_entry("clean", {"exit": 0}, [], 0)
    assert s.exit_agrees and s.labels == 0 and not s.false_alarms
