"""Score `uvtorch check` against the labelled real-world corpus in tests/corpus/.

Each entry holds a pyproject.toml (sometimes a uv.lock) and a labels.toml written by reading
the file with uv's rules before the tool was run on it. This script runs
`python -m uvtorch check COPY --output-format json` on a temporary copy of every entry (so
nothing in the corpus can be modified, `--fix` or not), and scores the findings against the
labels by the shared check contract:

- a finding matches a label when the rule names are equal and every `place` key the label
  gives is equal in the finding (package names compared PEP 503-normalised, extra and group
  names PEP 685-normalised; a finding's `table` may point inside the label's table:
  `tool.uv.sources.torch[0]` is in `tool.uv.sources`, `tool.uv.prerelease` in `tool.uv`);
- recall = error/warning labels matched by some finding / all error/warning labels;
- precision = error/warning findings matching some label / all error/warning findings;
- false alarm = an error/warning finding that matches no label (listed with entry, rule and
  place);
- exit agreement = the tool's exit code equals the label file's `exit`.

Info labels and info findings are never counted: they may match each other or not at all.
An entry whose output is not a JSON object in the contract's shape is reported as
"tool output not in contract format" and counts as a miss for its labels and as an exit
disagreement; labels are never adapted to the tool.

Run: `python3 benchmarks/check_corpus.py [--json] [--corpus DIR] [--python PATH] [ENTRY ...]`.
Exit status 0 whenever the scoring ran, whatever the figures (this is a measurement, not a
test); 2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
COUNTED = ("error", "warning")
NOT_CONTRACT = "tool output not in contract format"


def _normalise_name(name: str) -> str:
    """PEP 503 / PEP 685 normalisation: case-insensitive, runs of -_. become one dash."""
    return re.sub(r"[-_.]+", "-", name).lower()


def normalise_place(place: dict[str, Any]) -> dict[str, str]:
    """A place whose package, extra and group names compare the way uv compares them."""
    out: dict[str, str] = {}
    for key, value in place.items():
        if not isinstance(value, str):
            continue
        if key == "package":
            value = _normalise_name(value)
        elif key == "install" and ":" in value:
            kind, _, name = value.partition(":")
            value = f"{kind}:{_normalise_name(name)}"
        out[key] = value
    return out


def matches(label: dict[str, Any], finding: dict[str, Any]) -> bool:
    """The contract's rule: equal names, and every place key of the label equal in the finding."""
    if label.get("rule") != finding.get("name"):
        return False
    want = normalise_place(label.get("place", {}))
    have = normalise_place(finding.get("place") or {})
    return all(_same(key, value, have.get(key)) for key, value in want.items())


def _same(key: str, want: str, have: str | None) -> bool:
    """Equal, except that a finding may point inside the table a label names.

    A label's `table = "tool.uv.sources"` is the TOML table; a finding that says
    `tool.uv.sources.torchvision[0]` or `tool.uv.prerelease` (inside `tool.uv`) is at that place.
    """
    if have is None:
        return False
    if key == "table":
        return have == want or have.startswith((want + ".", want + "["))
    return have == want


def contract_findings(stdout: str) -> list[dict[str, Any]] | None:
    """The findings of a contract-shaped JSON report, or None when stdout is anything else."""
    try:
        report = json.loads(stdout)
    except ValueError:
        return None
    if not isinstance(report, dict) or not isinstance(report.get("findings"), list):
        return None
    findings = report["findings"]
    for finding in findings:
        if not (
            isinstance(finding, dict)
            and isinstance(finding.get("name"), str)
            and finding.get("severity") in ("error", "warning", "info")
            and isinstance(finding.get("place", {}), (dict, type(None)))
        ):
            return None
    return findings


@dataclass
class EntryScore:
    """What one entry contributes to the totals."""

    name: str
    expected_exit: int
    labels: int  # error/warning labels
    matched_labels: int = 0
    findings: int = 0  # error/warning findings
    matched_findings: int = 0
    exit_code: int | None = None
    problem: str | None = None  # set when the output could not be scored
    missed: list[dict[str, Any]] = field(default_factory=list)
    false_alarms: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exit_agrees(self) -> bool:
        return self.problem is None and self.exit_code == self.expected_exit


def score_entry(
    name: str,
    labels_doc: dict[str, Any],
    findings: list[dict[str, Any]] | None,
    exit_code: int | None,
    problem: str | None = None,
) -> EntryScore:
    """Score one entry's findings (None when the output was unusable) against its labels."""
    mistakes = labels_doc.get("mistake", [])
    counted_labels = [m for m in mistakes if m.get("severity") in COUNTED]
    score = EntryScore(name, int(labels_doc.get("exit", 0)), len(counted_labels))
    score.exit_code = exit_code
    if findings is None:
        score.problem = problem or NOT_CONTRACT
        score.missed = list(counted_labels)
        return score
    counted_findings = [f for f in findings if f.get("severity") in COUNTED]
    score.findings = len(counted_findings)
    for label in counted_labels:
        if any(matches(label, f) for f in findings):
            score.matched_labels += 1
        else:
            score.missed.append(label)
    for finding in counted_findings:
        # Any label matches, whatever its severity: an info label names the mistake too, so a
        # warning finding for it is a severity disagreement, not a false alarm.
        if any(matches(label, finding) for label in mistakes):
            score.matched_findings += 1
        else:
            score.false_alarms.append(finding)
    return score


def run_check(
    entry: Path, python: str, timeout: float
) -> tuple[list[dict[str, Any]] | None, int | None, str | None]:
    """Run the tool on a temporary copy of ENTRY; (findings or None, exit code, problem)."""
    with tempfile.TemporaryDirectory(prefix="uvtorch-corpus-") as tmp:
        copy = Path(tmp) / entry.name
        shutil.copytree(entry, copy)
        for name in ("labels.toml", "expected.toml", "SOURCE.toml"):
            (copy / name).unlink(missing_ok=True)  # the tool sees only what a user has
        command = [python, "-m", "uvtorch", "check", str(copy), "--output-format", "json"]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, cwd=tmp
            )
        except subprocess.TimeoutExpired:
            return None, None, f"timed out after {timeout:g} s"
    findings = contract_findings(done.stdout)
    if findings is None:
        first = (done.stderr.strip().splitlines() or [""])[-1][:120]
        detail = f" (exit {done.returncode}{': ' + first if first else ''})"
        return None, done.returncode, NOT_CONTRACT + detail
    return findings, done.returncode, None


def _place_text(place: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted((place or {}).items())) or "-"


def totals(scores: list[EntryScore]) -> dict[str, Any]:
    labels = sum(s.labels for s in scores)
    matched = sum(s.matched_labels for s in scores)
    findings = sum(s.findings for s in scores)
    matched_findings = sum(s.matched_findings for s in scores)
    agree = sum(s.exit_agrees for s in scores)
    return {
        "entries": len(scores),
        "labels": labels,
        "labels_matched": matched,
        "recall": matched / labels if labels else None,
        "findings": findings,
        "findings_matched": matched_findings,
        "precision": matched_findings / findings if findings else None,
        "false_alarms": sum(len(s.false_alarms) for s in scores),
        "exit_agreement": agree / len(scores) if scores else None,
        "exit_agreeing": agree,
        "not_scored": sum(s.problem is not None for s in scores),
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def print_table(scores: list[EntryScore]) -> None:
    width = max([len(s.name) for s in scores] + [5])
    print(f"{'entry':<{width}}  labels  found  alarms  exit(tool/label)")
    for s in scores:
        tool_exit = "-" if s.exit_code is None else str(s.exit_code)
        mark = "" if s.exit_agrees else "  <- exit differs"
        line = (
            f"{s.name:<{width}}  {s.matched_labels:>2}/{s.labels:<3}  {s.findings:>5}"
            f"  {len(s.false_alarms):>6}  {tool_exit}/{s.expected_exit}{mark}"
        )
        print(line + (f"  [{s.problem}]" if s.problem else ""))
    t = totals(scores)
    print()
    print(
        f"recall {_pct(t['recall'])} ({t['labels_matched']}/{t['labels']} error/warning labels), "
        f"precision {_pct(t['precision'])} "
        f"({t['findings_matched']}/{t['findings']} error/warning findings), "
        f"false alarms {t['false_alarms']}, "
        f"exit agreement {_pct(t['exit_agreement'])} ({t['exit_agreeing']}/{t['entries']})"
    )
    if t["not_scored"]:
        n = t["not_scored"]
        print(f"{n} entr{'y' if n == 1 else 'ies'}: {NOT_CONTRACT} or no output")
    alarms = [(s.name, f) for s in scores for f in s.false_alarms]
    if alarms:
        print("\nfalse alarms:")
        for name, f in alarms:
            where = _place_text(f.get("place"))
            print(f"  {name}: {f.get('name')} ({f.get('severity')}) at {where}")
    missed = [(s.name, m) for s in scores for m in s.missed if s.problem is None]
    if missed:
        print("\nmissed labels:")
        for name, m in missed:
            where = _place_text(m.get("place"))
            print(f"  {name}: {m.get('rule')} ({m.get('severity')}) at {where}")


def _brief(rule: object, item: dict[str, Any]) -> dict[str, Any]:
    return {"rule": rule, "severity": item.get("severity"), "place": item.get("place") or {}}


def as_json(scores: list[EntryScore]) -> dict[str, Any]:
    return {
        "totals": totals(scores),
        "entries": [
            {
                "entry": s.name,
                "expected_exit": s.expected_exit,
                "exit": s.exit_code,
                "exit_agrees": s.exit_agrees,
                "problem": s.problem,
                "labels": s.labels,
                "labels_matched": s.matched_labels,
                "findings": s.findings,
                "findings_matched": s.matched_findings,
                "missed": [_brief(m.get("rule"), m) for m in s.missed],
                "false_alarms": [_brief(f.get("name"), f) for f in s.false_alarms],
            }
            for s in scores
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("entries", nargs="*", help="entry names (default: every entry)")
    parser.add_argument(
        "--corpus", type=Path, default=CORPUS, help="corpus folder (default: tests/corpus)"
    )
    parser.add_argument("--python", default=sys.executable, help="interpreter that imports uvtorch")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per entry")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    args = parser.parse_args(argv)
    available = sorted(p for p in args.corpus.iterdir() if (p / "labels.toml").is_file())
    if args.entries:
        by_name = {p.name: p for p in available}
        unknown = [e for e in args.entries if e not in by_name]
        if unknown:
            parser.error(f"no corpus entry named {', '.join(unknown)}")
        chosen = [by_name[e] for e in args.entries]
    else:
        chosen = available
    scores = []
    for entry in chosen:
        with (entry / "labels.toml").open("rb") as f:
            labels_doc = tomllib.load(f)
        findings, exit_code, problem = run_check(entry, args.python, args.timeout)
        scores.append(score_entry(entry.name, labels_doc, findings, exit_code, problem))
    if args.json:
        print(json.dumps(as_json(scores), indent=2))
    else:
        print_table(scores)
    return 0


if __name__ == "__main__":
    sys.exit(main())
