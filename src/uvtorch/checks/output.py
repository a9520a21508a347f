"""Render one list of findings as `text`, `json`, `github` (workflow annotations) or `sarif`
(2.1.0). Pure: returns the text; the CLI prints it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from uvtorch import __version__
from uvtorch.checks.registry import SEVERITIES, Finding, Rule

FORMATS = ("text", "json", "github", "sarif")
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


@dataclass(frozen=True)
class Located:
    """A finding with the file and line it points at."""

    finding: Finding
    file: str
    line: int


def summary(findings: Iterable[Finding]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f.severity] += 1
    return counts


def finding_json(f: Finding) -> dict[str, Any]:
    """One finding in the shared JSON shape (`place` holds only the keys that are set)."""
    fix: dict[str, Any] | None = None
    if f.fix is not None:
        fix = {"title": f.fix.title, "applicability": f.fix.applicability}
        if f.fix.why_unsafe:
            fix["why_unsafe"] = f.fix.why_unsafe
    return {
        "code": f.code, "name": f.name, "severity": f.severity,
        "place": {k: v for k, v in asdict(f.place).items() if v is not None},
        "message": f.message, "why": f.why, "fix": fix,
    }


def render_json(located: list[Located], extra: Mapping[str, Any] | None = None) -> str:
    findings = [x.finding for x in located]
    report: dict[str, Any] = {
        "findings": [finding_json(f) for f in findings],
        "summary": summary(findings),
    }
    report.update(extra or {})
    return json.dumps(report, indent=2)


def render_text(located: list[Located], folder: str, silenced: int = 0) -> str:
    out = []
    for x in located:
        f = x.finding
        out.append(f"{x.file}:{x.line}: {f.code} [{f.severity}] {f.name}: {f.message}")
        out.append(f"  why: {f.why}")
        if f.fix is not None:
            flag = "--fix" if f.fix.applicability == "safe" else "--unsafe-fixes"
            out.append(f"  fix ({f.fix.applicability}, {flag}): {f.fix.title}")
            if f.fix.why_unsafe:
                out.append(f"  unsafe because: {f.fix.why_unsafe}")
    counts = summary(x.finding for x in located)
    line = (f"{len(located)} finding(s): {counts['error']} error(s), {counts['warning']} "
            f"warning(s), {counts['info']} info in {folder}")
    if silenced:
        line += f" ({silenced} silenced)"
    out.append(line)
    return "\n".join(out)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(located: list[Located]) -> str:
    """GitHub Actions workflow commands: `::error file=F,line=N,title=T::message`."""
    lines = []
    for x in located:
        f = x.finding
        title = _escape_property(f"{f.code} {f.name}")
        lines.append(
            f"::{_GITHUB_LEVEL[f.severity]} file={_escape_property(x.file)},line={x.line},"
            f"title={title}::{_escape_data(f.message + ': ' + f.why)}"
        )
    return "\n".join(lines)


def render_sarif(located: list[Located], rules: list[Rule]) -> str:
    """A SARIF 2.1.0 log: every rule in tool.driver.rules, one result per finding."""
    index = {r.code: i for i, r in enumerate(rules)}
    driver = {
        "name": "uvtorch",
        "version": __version__,
        "informationUri": "https://github.com/uvtorch/uvtorch",
        "rules": [
            {
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.summary},
                "help": {"text": r.doc, "markdown": r.doc},
                "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
            }
            for r in rules
        ],
    }
    results = []
    for x in located:
        f = x.finding
        result: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f"{f.message}: {f.why}"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": x.file},
                "region": {"startLine": x.line},
            }}],
            "properties": {"name": f.name, "place": finding_json(f)["place"]},
        }
        if f.fix is not None:
            result["properties"]["fix"] = finding_json(f)["fix"]
        results.append(result)
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0",
           "runs": [{"tool": {"driver": driver}, "results": results}]}
    return json.dumps(log, indent=2)


def render_rule(r: Rule) -> str:
    """`--rule CODE`: the rule's documentation."""
    return f"# {r.name} ({r.code})\n\nDefault severity: {r.severity}\n\n{r.summary}.\n\n{r.doc}\n"


def render_rule_list(rules: list[Rule], placeholders: set[str]) -> str:
    width = max(len(r.name) for r in rules)
    lines = []
    for r in rules:
        note = " (not checked yet)" if r.code in placeholders else ""
        lines.append(f"{r.code}  {r.name:<{width}}  {r.severity:<7}  {r.summary}{note}")
    return "\n".join(lines)
