"""`uvtorch check` as a ruff-style checker: the rule registry, one table test per rule, the
output formats, selection and silencing, safe and unsafe fixes, the pre-commit hook, the lock
reader, and the uv guide's own examples (which must pass)."""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from fakeindex import FakeIndex, installed_packages, run_uv
from tomlread import loads
from uvtorch.catalog import load
from uvtorch.checks import CheckContext, Finding, Place, all_rules, registry, rule, run
from uvtorch.checks.codes import CODES
from uvtorch.checks.context import load_context
from uvtorch.checks.locate import line_in_lock, line_in_pyproject
from uvtorch.checks.lockfile import Lock
from uvtorch.cli import main

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).parent / "check_cases"
CORPUS = Path(__file__).parent / "corpus"

GUIDE = """\
[project]
name = "p"
version = "0.1.0"
requires-python = ">=3.10"
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

[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu128"
url = "https://download.pytorch.org/whl/cu128"
explicit = true
"""
CU128_MARKER = ', marker = "sys_platform != \'darwin\'"'
NOT_EXPLICIT = GUIDE.replace('cu128"\nexplicit = true\n', 'cu128"\n')
# The same without the `sys_platform != 'darwin'` markers: nothing in it names macOS, so its
# missing macOS wheel stays the uv guide's info (a marker naming a platform says it matters).
NOT_EXPLICIT_UNMARKED = NOT_EXPLICIT.replace(CU128_MARKER, "")


def write(folder: Path, text: str, lock: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(text)
    if lock is not None:
        (folder / "uv.lock").write_text(lock)
    return folder


def findings(folder: Path, **environment: str) -> list[Finding]:
    ctx = load_context(folder, load())
    if environment:
        ctx.project = ctx.project._replace(environment=environment, interpreter="/usr/bin/python3")
    return run(ctx)


# --- the registry ------------------------------------------------------------------------------


def test_every_rule_name_of_the_contract_has_one_code_and_is_registered() -> None:
    rules = all_rules()
    assert [r.code for r in rules] == sorted(CODES)
    assert {r.name for r in rules} == set(CODES.values())
    assert len(set(CODES.values())) == len(CODES)
    assert all(re.fullmatch(r"UT\d{3}", code) for code in CODES)


@pytest.mark.parametrize("code", sorted(CODES))
def test_rule_docs_have_every_section(code: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--rule", code]) == 0
    by_code = capsys.readouterr().out
    for section in registry.DOC_SECTIONS:
        assert f"## {section}\n" in by_code, section
    assert main(["check", "--rule", CODES[code]]) == 0
    assert capsys.readouterr().out == by_code
    assert by_code.startswith(f"# {CODES[code]} ({code})")


def test_list_rules_and_an_unknown_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--list-rules"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == len(CODES) and listing[0].startswith("UT001  extras-without-conflicts")
    assert main(["check", "--rule", "all"]) == 0
    assert capsys.readouterr().out.splitlines() == listing
    assert main(["check", "--rule", "UT999"]) == 2
    assert "No rule is called 'UT999'" in capsys.readouterr().err


def test_a_rule_without_its_doc_sections_or_code_is_refused() -> None:
    with pytest.raises(ValueError, match="not in uvtorch.checks.codes"):
        rule("UT001", "some-other-name", "error", "x")
    with pytest.raises(ValueError, match="lacks"):
        rule("UT007", "inert-source", "warning", "x")(lambda ctx: iter(()))


def test_a_placeholder_is_replaced_by_the_real_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    all_rules()
    monkeypatch.setattr(registry, "_RULES", dict(registry._RULES))
    monkeypatch.setattr(registry, "_PLACEHOLDERS", set(registry._PLACEHOLDERS))
    del registry._RULES["UT022"]  # every rule is real now: make UT022 a placeholder again

    def placeholder(ctx: CheckContext) -> list[Finding]:
        """## What it does\nx\n## Why is this bad?\nx\n## Example\nx\n## Fix\nx"""
        return []

    rule("UT022", "lock-other-host", "info", "s", placeholder=True)(placeholder)
    assert "UT022" in registry.placeholders()

    def lock_other_host(ctx: CheckContext) -> list[Finding]:
        """## What it does\nx\n## Why is this bad?\nx\n## Example\nx\n## Fix\nx"""
        return [Finding("lock-other-host", "info", Place(table="uv.lock"), "m", "w")]

    rule("UT022", "lock-other-host", "info", "s")(lock_other_host)
    assert "UT022" not in registry.placeholders()
    # A placeholder registered after the real rule does not undo it.
    rule("UT022", "lock-other-host", "info", "s", placeholder=True)(lock_other_host)
    assert "lock-other-host" in [f.name for f in findings(write(tmp_path, GUIDE))]
    with pytest.raises(ValueError, match="registered twice"):
        rule("UT022", "lock-other-host", "info", "s")(lock_other_host)


# --- one table test per rule -------------------------------------------------------------------

LOCK_CU126 = """\
version = 1
revision = 2
requires-python = ">=3.10"

[[package]]
name = "torch"
version = "2.6.0+cu126"
source = { registry = "https://download.pytorch.org/whl/cu126" }
dependencies = [{ name = "filelock" }]
wheels = [{ url = "https://download.pytorch.org/whl/cu126/torch-2.6.0%2Bcu126-cp312-cp312-manylinux_2_28_x86_64.whl" }]
"""
LOCK_CU128 = LOCK_CU126.replace("2.6.0+cu126", "2.9.1+cu128").replace("cu126", "cu128").replace(
    '[{ name = "filelock" }]', '[{ name = "nvidia-cudnn-cu12" }]').replace("2.6.0%2B", "2.9.1%2B")
ENVIRONMENTS = ("[tool.uv]\nenvironments = [\"sys_platform == 'linux' and platform_machine == "
                "'x86_64'\", \"sys_platform == 'win32'\"]\n")
SYSTEM = '[tool.uvtorch]\nsystem = { torch = "2.5.0a0" }\n\n[tool.uv]\n'


def _system_lock() -> tuple[str, str]:
    text = GUIDE.replace('cpu = ["torch', 'system = ["tensorkit"]\ncpu = ["torch').replace(
        "[tool.uv]\n", SYSTEM.replace("[tool.uv]\n", "") + '[tool.uv]\nexclude-dependencies = [\n'
        '  { package = { name = "tensorkit" }, dependencies = [] },\n]\n', 1)
    lock = """\
version = 1
revision = 2
requires-python = ">=3.10"

[[package]]
name = "p"
version = "0.1.0"
source = { editable = "." }

[package.optional-dependencies]
system = [{ name = "tensorkit" }]

[[package]]
name = "tensorkit"
version = "1.0.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "torch" }]
"""
    return text, lock


# (rule, pyproject.toml, uv.lock or None, interpreter packages or None, severity, place keys)
SYSTEM_TEXT, SYSTEM_LOCK = _system_lock()
POSITIVE = [
    ("extras-without-conflicts", GUIDE.replace(
        'conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]', ""), None, None, "error",
     {"table": "tool.uv.conflicts"}),
    ("accelerator-extra-without-source", GUIDE.replace(
        '  { index = "pytorch-cu128", extra = "cu128"' + CU128_MARKER + " },\n]\ntorchvision",
        "]\ntorchvision"), None, None, "error",
     {"install": "extra:cu128", "package": "torch", "table": "tool.uv.sources"}),
    ("companion-build-mismatch", GUIDE.replace(
        '{ index = "pytorch-cu128", extra = "cu128"' + CU128_MARKER + " },\n]\n\n[[",
        '{ index = "pytorch-cpu", extra = "cu128" },\n]\n\n[['), None, None, "error",
     {"install": "extra:cu128", "package": "torchvision"}),
    ("base-install-pulls-pypi-torch", GUIDE.replace(
        "dependencies = []", 'dependencies = ["ultralytics"]'), None, None, "error",
     {"install": "base", "package": "ultralytics", "table": "project.dependencies"}),
    ("platform-gets-other-build", GUIDE.replace(CU128_MARKER, ""), None, None, "info",
     {"install": "extra:cu128", "platform": "macos-arm64", "package": "torch"}),
    ("platform-gets-other-build", GUIDE.replace(CU128_MARKER, "").replace(
        "[tool.uv]\n", "[tool.uv]\nenvironments = [\"sys_platform == 'darwin'\", "
        "\"sys_platform == 'linux'\"]\n"), None, None, "warning",
     {"install": "extra:cu128", "platform": "macos-arm64"}),
    ("platform-gets-other-build", GUIDE.replace(CU128_MARKER, "").replace(
        "[tool.uv]\n", "[tool.uv]\nrequired-environments = [\"sys_platform == 'darwin'\"]\n"),
     None, None, "error", {"install": "extra:cu128"}),
    ("index-not-explicit", NOT_EXPLICIT, None, None, "warning", {"table": "tool.uv.index"}),
    ("kernel-without-build-torch", GUIDE.replace(
        'cu128 = ["torch>=2.9,<2.10", "torchvision>=0.24,<0.25"]',
        'cu128 = ["torch>=2.9,<2.10", "torchvision>=0.24,<0.25", "flash-attn"]'), None, None,
     "error", {"package": "flash-attn"}),
    ("no-build-for-accelerator", GUIDE.replace('cu128 = ["torch>=2.9,<2.10"',
                                               'cu128 = ["torch>=2.4,<2.5"'), None, None, "error",
     {"install": "extra:cu128", "package": "torch"}),
    ("nightly-without-triton-source", GUIDE.replace("whl/cu128", "whl/nightly/cu128"), None, None,
     "error", {"install": "extra:cu128"}),
    ("system-torch-not-excluded", GUIDE.replace("[tool.uv]\n", SYSTEM), None, None, "error",
     {"package": "torch", "table": "tool.uv.exclude-dependencies"}),
    ("lock-cuda-without-nvidia", GUIDE, LOCK_CU126, None, "error",
     {"package": "torch", "table": "uv.lock"}),
    ("lock-missing-platform-wheel", GUIDE.replace("[tool.uv]\n", ENVIRONMENTS), LOCK_CU128, None,
     "warning", {"install": "extra:cu128", "platform": "windows-x86_64", "table": "uv.lock"}),
    ("lock-system-extra-pulls-torch", SYSTEM_TEXT, SYSTEM_LOCK, None, "error",
     {"install": "extra:system", "package": "tensorkit"}),
    ("system-torch-mismatch", GUIDE.replace("[tool.uv]\n", SYSTEM), None, {"torch": "2.7.0"},
     "error", {"package": "torch"}),
    ("lock-other-host", GUIDE.replace("https://download.pytorch.org/whl/",
                                      "https://mirror.example/pytorch/whl/"), LOCK_CU128, None,
     "info", {"package": "torch", "table": "uv.lock"}),
]
# The same rules quiet on the nearest correct file.
NEGATIVE = [
    ("extras-without-conflicts", GUIDE, None, None),
    ("accelerator-extra-without-source", GUIDE, None, None),
    ("companion-build-mismatch", GUIDE.replace("dependencies = []",
                                               'dependencies = ["filelock"]'), None, None),
    ("base-install-pulls-pypi-torch", GUIDE.replace(
        "dependencies = []", 'dependencies = ["torch"]').replace(
        "torch = [\n", 'torch = [\n  { index = "pytorch-cu128", marker = "sys_platform == \'linux\'" },\n'),
     None, None),
    ("platform-gets-other-build", GUIDE, None, None),
    ("platform-gets-other-build", GUIDE.replace(CU128_MARKER, "").replace(
        "[tool.uv]\n", "[tool.uv]\nenvironments = [\"sys_platform == 'linux'\"]\n"), None, None),
    ("index-not-explicit", GUIDE, None, None),
    ("kernel-without-build-torch", GUIDE, None, None),
    ("no-build-for-accelerator", GUIDE, None, None),
    ("nightly-without-triton-source", GUIDE.replace("whl/cu128", "whl/nightly/cu128").replace(
        "torchvision = [", 'pytorch-triton = [{ index = "pytorch-cu128", extra = "cu128" }]\n'
        "torchvision = ["), None, None),
    ("system-torch-not-excluded", GUIDE.replace("[tool.uv]\n", SYSTEM + 'exclude-dependencies = '
                                                '["torch"]\n'), None, None),
    ("lock-cuda-without-nvidia", GUIDE, LOCK_CU128, None),
    ("lock-missing-platform-wheel", GUIDE.replace("[tool.uv]\n", ENVIRONMENTS), LOCK_CU128.replace(
        "manylinux_2_28_x86_64.whl\" }]", "manylinux_2_28_x86_64.whl\" }, { url = "
        "\"https://download.pytorch.org/whl/cu128/torch-2.9.1%2Bcu128-cp312-cp312-win_amd64.whl\" }]"),
     None),
    ("lock-system-extra-pulls-torch", SYSTEM_TEXT.replace("dependencies = [] }",
                                                          'dependencies = ["torch"] }'),
     SYSTEM_LOCK.replace('dependencies = [{ name = "torch" }]', "dependencies = []"), None),
    ("system-torch-mismatch", GUIDE.replace("[tool.uv]\n", SYSTEM), None, {"torch": "2.5.0a0"}),
    ("lock-other-host", GUIDE, LOCK_CU128, None),
]


@pytest.mark.parametrize(("name", "text", "lock", "env", "severity", "place"), POSITIVE,
                         ids=[f"{p[0]}-{p[4]}" for p in POSITIVE])
def test_each_rule_finds_its_mistake(
    tmp_path: Path, name: str, text: str, lock: str | None, env: dict[str, str] | None,
    severity: str, place: dict[str, str],
) -> None:
    found = [f for f in findings(write(tmp_path, text, lock), **(env or {})) if f.name == name]
    assert found, f"{name} not found"
    assert any(
        f.severity == severity and all(getattr(f.place, k) == v for k, v in place.items())
        for f in found
    ), found


@pytest.mark.parametrize(("name", "text", "lock", "env"), NEGATIVE,
                         ids=[f"{n[0]}-{i}" for i, n in enumerate(NEGATIVE)])
def test_each_rule_is_quiet_on_the_correct_file(
    tmp_path: Path, name: str, text: str, lock: str | None, env: dict[str, str] | None
) -> None:
    assert name not in {f.name for f in findings(write(tmp_path, text, lock), **(env or {}))}


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.glob("uv-guide-*.toml")))
def test_the_uv_guides_examples_pass(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (CASES / case).read_text()
    assert "https://docs.astral.sh/uv/guides/integration/pytorch/" in text
    write(tmp_path, text)
    assert main(["check", str(tmp_path)]) == 0, capsys.readouterr().out
    assert all(f.severity == "info" for f in findings(tmp_path))


def test_the_guides_extras_example_notes_macos_only_as_info(tmp_path: Path) -> None:
    write(tmp_path, (CASES / "uv-guide-extras-cpu-cu128.toml").read_text())
    assert {(f.name, f.severity, f.place.platform) for f in findings(tmp_path)} == {
        ("platform-gets-other-build", "info", "macos-arm64")}


# --- output formats ----------------------------------------------------------------------------


def _two_findings(tmp_path: Path) -> Path:
    """One error (no conflicts) and one warning (an index not explicit)."""
    return write(tmp_path, NOT_EXPLICIT.replace(
        'conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]', ""))


def test_json_has_the_shared_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _two_findings(tmp_path)
    assert main(["check", str(tmp_path), "--output-format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"findings", "summary", "routing"}
    assert report["summary"] == {"error": 1, "warning": 1, "info": 0}
    first = report["findings"][0]
    assert first == {
        "code": "UT001", "name": "extras-without-conflicts", "severity": "error",
        "place": {"install": "extra:cu128", "package": "torch", "table": "tool.uv.conflicts"},
        "message": first["message"], "why": first["why"],
        "fix": {"title": 'add conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]] to [tool.uv]',
                "applicability": "safe"},
    }
    assert main(["check", str(tmp_path), "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == report


def test_github_annotations(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    _two_findings(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--output-format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    pattern = re.compile(r"::(error|warning|notice) file=([^,]+),line=(\d+),title=(UT\d{3}) ([a-z-]+)::(.+)")
    parsed = [pattern.fullmatch(line) for line in lines]
    assert all(parsed), lines
    text = (tmp_path / "pyproject.toml").read_text().splitlines()
    error, warning = parsed
    assert error and error.group(1, 2, 4, 5) == ("error", "pyproject.toml", "UT001",
                                                "extras-without-conflicts")
    assert text[int(error.group(3)) - 1].startswith("[tool.uv]")  # no conflicts key: its table
    assert warning and warning.group(1, 4) == ("warning", "UT006")
    assert text[int(warning.group(3)) - 1] == "[[tool.uv.index]]"
    assert text[int(warning.group(3))] == 'name = "pytorch-cu128"'


def test_github_escapes_what_would_end_a_property() -> None:
    from uvtorch.checks.output import Located, render_github

    f = Finding("index-not-explicit", "warning", Place(), "50% done,\nnext", "a:b")
    line = render_github([Located(f, "dir,x/pyproject.toml", 3)])
    assert line == ("::warning file=dir%2Cx/pyproject.toml,line=3,title=UT006 "
                    "index-not-explicit::50%25 done,%0Anext: a:b")


def test_sarif_is_a_valid_2_1_0_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _two_findings(tmp_path)
    assert main(["check", str(tmp_path), "--output-format", "sarif"]) == 1
    log = json.loads(capsys.readouterr().out)
    assert log["version"] == "2.1.0" and "sarif-2.1.0" in log["$schema"]
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "uvtorch" and driver["version"]
    ids = [r["id"] for r in driver["rules"]]
    assert ids == sorted(CODES)
    for r in driver["rules"]:
        assert r["name"] == CODES[r["id"]] and r["shortDescription"]["text"]
        assert "## Fix" in r["help"]["text"]
        assert r["defaultConfiguration"]["level"] in {"error", "warning", "note"}
    results = run_["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("UT001", "error"), ("UT006", "warning")]
    for r in results:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["message"]["text"]
        (location,) = r["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"].endswith("pyproject.toml")
        assert isinstance(physical["region"]["startLine"], int) and physical["region"]["startLine"] >= 1


def test_info_is_a_sarif_note_and_a_github_notice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, GUIDE.replace(CU128_MARKER, ""))
    assert main(["check", str(tmp_path), "--output-format", "sarif"]) == 0
    assert {r["level"] for r in json.loads(capsys.readouterr().out)["runs"][0]["results"]} == {"note"}
    assert main(["check", str(tmp_path), "--output-format", "github"]) == 0
    assert capsys.readouterr().out.startswith("::notice ")


def test_text_output_names_file_line_code_and_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _two_findings(tmp_path)
    assert main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"pyproject\.toml:\d+: UT001 \[error\] extras-without-conflicts: ", out)
    assert "fix (safe, --fix): add explicit = true to the index pytorch-cu128" in out
    assert out.rstrip().endswith(f"2 finding(s): 1 error(s), 1 warning(s), 0 info in {tmp_path}")


# --- selection, strictness, silencing ----------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "exit_code", "codes"),
    [
        ([], 1, ["UT001", "UT006"]),
        (["--select", "UT006"], 0, ["UT006"]),
        (["--select", "UT006", "--strict"], 1, ["UT006"]),
        (["--select", "index-not-explicit,UT001"], 1, ["UT001", "UT006"]),
        (["--select", "UT00"], 1, ["UT001", "UT006"]),
        (["--ignore", "UT001"], 0, ["UT006"]),
        (["--ignore", "extras-without-conflicts", "--ignore", "UT006", "--strict"], 0, []),
        (["--select", "ALL", "--ignore", "UT001", "--strict"], 1, ["UT006"]),
    ],
)
def test_select_ignore_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], exit_code: int,
    codes: list[str],
) -> None:
    _two_findings(tmp_path)
    assert main(["check", str(tmp_path), "--json", *flags]) == exit_code
    assert [f["code"] for f in json.loads(capsys.readouterr().out)["findings"]] == codes


def test_an_unknown_selector_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _two_findings(tmp_path)
    assert main(["check", str(tmp_path), "--ignore", "index-not-explcit"]) == 2
    assert "index-not-explcit" in capsys.readouterr().err


def test_the_project_can_ignore_rules_in_pyproject(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = NOT_EXPLICIT.replace('conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]', "")
    write(tmp_path, text + '\n[tool.uvtorch.check]\nignore = ["UT001"]\n')
    assert main(["check", str(tmp_path), "--json"]) == 0
    assert [f["code"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["UT006"]
    write(tmp_path, text + '\n[tool.uvtorch.check]\nignore = ["no-such-rule"]\n')
    assert main(["check", str(tmp_path)]) == 2


def test_a_trailing_comment_silences_the_finding_on_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = NOT_EXPLICIT_UNMARKED.replace('[[tool.uv.index]]\nname = "pytorch-cu128"',
                                '[[tool.uv.index]]  # uvtorch: ignore[UT006]\nname = "pytorch-cu128"')
    write(tmp_path, text)
    assert main(["check", str(tmp_path), "--strict"]) == 0
    out = capsys.readouterr().out
    # Left: the info that the non-explicit cu128 index, searched first, has no macOS wheel.
    assert "0 error(s), 0 warning(s)" in out and "(1 silenced)" in out
    # Another code on that line silences nothing; a bare ignore silences every code.
    write(tmp_path, text.replace("ignore[UT006]", "ignore[UT001]"))
    assert main(["check", str(tmp_path), "--strict"]) == 1
    write(tmp_path, text.replace("ignore[UT006]", "ignore"))
    assert main(["check", str(tmp_path), "--strict"]) == 0
    capsys.readouterr()
    write(tmp_path, text.replace("ignore[UT006]", "ignore[UT0066]"))
    assert main(["check", str(tmp_path)]) == 2


def test_silencing_on_a_source_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = GUIDE.replace(CU128_MARKER, "")
    line = '  { index = "pytorch-cu128", extra = "cu128" },\n]\ntorchvision'
    write(tmp_path, text.replace(line, line.replace("},", "},  # uvtorch: ignore[UT005]"), 1))
    assert main(["check", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # platform-gets-other-build reports torch per install and platform; that one is silenced.
    assert "0 finding(s)" in out and "(1 silenced)" in out


# --- fixes: safe and unsafe --------------------------------------------------------------------

UNSOURCED = """\
[project]
name = "p"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["torch>=2.9,<2.10"]

[[tool.uv.index]]
name = "pytorch-cpu"
url = "{url}"
"""


def test_fix_applies_safe_fixes_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, UNSOURCED.format(url="https://download.pytorch.org/whl/cpu"))
    (f,) = findings(tmp_path)
    assert f.name == "index-not-explicit" and f.fix is not None
    assert f.fix.applicability == "unsafe" and "torch" in (f.fix.why_unsafe or "")
    before = (tmp_path / "pyproject.toml").read_text()
    assert main(["check", str(tmp_path), "--fix"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "pyproject.toml").read_text() == before
    assert "not fixed (unsafe, needs --unsafe-fixes): add explicit = true" in out
    assert "fix (unsafe, --unsafe-fixes)" in out and "unsafe because: torch has no source" in out
    assert main(["check", str(tmp_path), "--unsafe-fixes"]) == 0
    assert "fixed: made the index pytorch-cpu explicit" in capsys.readouterr().out
    assert loads((tmp_path / "pyproject.toml").read_text())["tool"]["uv"]["index"][0]["explicit"]


def test_fix_makes_a_sourced_index_explicit_as_a_safe_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, NOT_EXPLICIT)
    (f,) = [f for f in findings(tmp_path) if f.name == "index-not-explicit"]
    assert f.fix is not None and f.fix.applicability == "safe"
    assert main(["check", str(tmp_path), "--fix"]) == 0
    assert "fixed: made the index pytorch-cu128 explicit" in capsys.readouterr().out
    assert (tmp_path / "pyproject.toml").read_text() == GUIDE


def test_fix_keeps_machine_output_one_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, NOT_EXPLICIT)
    assert main(["check", str(tmp_path), "--fix", "--output-format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["findings"] == []
    assert "fixed: made the index pytorch-cu128 explicit" in captured.err


@pytest.mark.e2e
def test_the_unsafe_fix_does_change_the_build_uv_installs(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Why making that index explicit is unsafe: torch came from it, and afterwards from PyPI."""
    project = write(tmp_path / "p", UNSOURCED.format(url=fake_index.index_url("cpu")))

    def fresh_sync() -> str:
        # A fresh resolution: uv 0.13.9 keeps a lock's torch when only `explicit` changed
        # (its lock-validity check does not compare it), so the change shows on the next
        # `uv lock` from scratch or upgrade.
        (project / "uv.lock").unlink(missing_ok=True)
        run_uv(["sync"], cwd=project, env=uv_env)
        return installed_packages(project, uv_env)["torch"]

    assert fresh_sync() == "2.9.1+cpu"
    assert main(["check", str(project), "--fix"]) == 0
    assert fresh_sync() == "2.9.1+cpu"  # --fix left the index alone
    assert main(["check", str(project), "--unsafe-fixes"]) == 0
    capsys.readouterr()
    assert fresh_sync() == "2.9.1"  # now PyPI's build


# --- the pre-commit hook -----------------------------------------------------------------------


def test_the_pre_commit_hook_runs_check_on_pyproject_and_lock_changes() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "uvtorch-check" and hook["entry"] == "uvtorch check"
    assert hook["pass_filenames"] is False and hook["language"] == "python"
    files = re.compile(hook["files"])
    for path in ["pyproject.toml", "uv.lock", "sub/dir/pyproject.toml", "pkg/uv.lock"]:
        assert files.search(path), path
    for path in ["pyproject.toml.bak", "my-uv.lock", "docs/pyproject.md", "xpyproject.toml"]:
        assert not files.search(path), path
    project = loads((ROOT / "pyproject.toml").read_text())["project"]
    assert hook["entry"].split()[0] in project["scripts"]


# --- the lock reader and the line locator ------------------------------------------------------


@pytest.mark.parametrize("entry", sorted(p.parent.name for p in CORPUS.glob("*/uv.lock")))
def test_the_lock_reader_equals_a_whole_file_parse(entry: str) -> None:
    text = (CORPUS / entry / "uv.lock").read_text()
    whole = loads(text)
    lock = Lock(text)
    assert dict(lock.items()) == whole
    for package in whole["package"]:
        assert package in lock.named(package["name"])
    assert lock.names() == {re.sub(r"[-_.]+", "-", p["name"]).lower() for p in whole["package"]}


def test_a_lock_entry_written_another_way_is_still_read() -> None:
    text = '[[package]]\nversion = "1.0"\nname = "Foo_Bar"\n\n[[package]]\nname = "torch"\n'
    lock = Lock(text)
    assert lock.named("foo-bar") == [{"version": "1.0", "name": "Foo_Bar"}]
    assert [p["name"] for p in lock["package"]] == ["Foo_Bar", "torch"]


def test_a_broken_lock_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, GUIDE, lock='version = 1\n\n[[package]]\nname = "torch"\nversion = \n')
    assert main(["check", str(tmp_path)]) == 2
    assert "uv.lock is not valid TOML" in capsys.readouterr().err


def test_lines_point_at_the_entry_of_the_place() -> None:
    lines = GUIDE.splitlines()

    def line(**place: str) -> str:
        return lines[line_in_pyproject(GUIDE, Finding("x", "error", Place(**place),
                                                      "pytorch-cu128 ...", "")) - 1]

    assert line(table="tool.uv.sources", package="torchvision", install="extra:cu128") == (
        '  { index = "pytorch-cu128", extra = "cu128", marker = "sys_platform != \'darwin\'" },')
    assert line(table="tool.uv.sources", package="torch").startswith("torch = [")
    assert line(table="project.optional-dependencies", install="extra:cpu",
                package="torch").startswith("cpu = [")
    assert line(table="tool.uv.conflicts").startswith("conflicts = ")
    assert line(table="tool.uv.index") == "[[tool.uv.index]]"
    assert line_in_pyproject(GUIDE, Finding("x", "error", Place(), "", "")) == 1
    assert line_in_lock(LOCK_CU126, "torch") == 6


def test_context_holds_the_project_and_the_model(tmp_path: Path) -> None:
    ctx = load_context(write(tmp_path, GUIDE), load())
    assert ctx.root == tmp_path and ctx.lock is None and ctx.model is not None
    assert ctx.pyproject["project"]["name"] == "p" and ctx.project.data is ctx.pyproject
    assert replace(Place(), install="base") == Place(install="base")
    assert sys.version_info >= (3, 10)


def test_check_help_documents_silencing_and_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for text in ("[tool.uvtorch.check]", "# uvtorch: ignore[UT005]", "--output-format github",
                 "--unsafe-fixes", "--rule UT005", "uvtorch-check",
                 "Exit code 1 when an unsilenced error"):
        assert text in out, text


GROUP_SCOPED = """\
[project]
name = "p"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["torch>=2.9,<2.10"]

[dependency-groups]
cuda = ["torch>=2.9,<2.10; platform_system == 'Linux' and platform_machine == 'x86_64'"]

[tool.uv]
default-groups = ["cuda"]
environments = ["sys_platform == 'linux' and platform_machine == 'x86_64'", "sys_platform == 'darwin'"]

[tool.uv.sources]
torch = [{{ index = "pytorch-cu128", group = "cuda" }}]

[[tool.uv.index]]
name = "pytorch-cu128"
url = "{url}"
explicit = true
"""


@pytest.mark.e2e
def test_a_group_scoped_source_only_reaches_the_groups_requirement(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str]
) -> None:
    """open-instruct's pattern (tests/corpus/open-instruct): the default group's source has no
    marker, but the group's torch requirement is for Linux x86_64 only, and a group-scoped source
    applies only to requirements declared in that group (uv:
    crates/uv-distribution/src/metadata/lowering.rs). So macOS gets PyPI's torch through the
    base requirement, and platform-gets-other-build must stay quiet: its first label there
    ("missing-platform-marker") was wrong."""
    project = write(tmp_path / "p", GROUP_SCOPED.format(url=fake_index.index_url("cu128")))
    run_uv(["lock"], cwd=project, env=uv_env)
    lock = loads((project / "uv.lock").read_text())
    torches = {p["version"]: p["source"]["registry"] for p in lock["package"] if p["name"] == "torch"}
    assert torches == {"2.9.1+cu128": fake_index.index_url("cu128"), "2.9.1": fake_index.pypi_url}
    macos = [p for p in lock["package"] if p["name"] == "torch" and p["version"] == "2.9.1"]
    assert any("macosx" in w["url"] for w in macos[0]["wheels"])
    assert "platform-gets-other-build" not in {f.name for f in findings(project)}


def test_brackets_in_strings_and_comments_do_not_hide_later_tables() -> None:
    text = (
        '[project]\nname = "p"\ndescription = """\nuses [ brackets\n"""\n'
        'dependencies = [\n  "torch",  # a [ in a comment\n  "x ; extra == \'[\'",\n]\n\n'
        '[tool.uv.sources]\ntorch = [{ index = "pytorch-cu128", extra = "cu128" }]\n'
    )
    f = Finding("x", "error", Place(table="tool.uv.sources", package="torch"), "", "")
    assert text.splitlines()[line_in_pyproject(text, f) - 1].startswith("torch = [{")
    f = Finding("x", "error", Place(table="project.dependencies", package="torch"), "", "")
    assert text.splitlines()[line_in_pyproject(text, f) - 1] == '  "torch",  # a [ in a comment'


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_NAMES = st.sampled_from(["torch", "Torch", "torch_vision", "torchvision", "nvidia-cudnn-cu12",
                          "Foo.Bar", "foo-bar", "p", "name"])
_ENTRY = st.fixed_dictionaries(
    {"name": _NAMES, "version": st.sampled_from(["1.0", "2.9.1+cu128", "2.6.0+cu126"])},
    optional={
        "dependencies": st.lists(st.fixed_dictionaries({"name": _NAMES}), max_size=3),
        "optional-dependencies": st.dictionaries(
            st.sampled_from(["cpu", "cu128", "system"]),
            st.lists(st.fixed_dictionaries({"name": _NAMES}), max_size=2), max_size=2),
        "wheels": st.lists(st.fixed_dictionaries({"url": st.text(max_size=12)}), max_size=2),
    },
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_ENTRY, max_size=8))
def test_the_lock_reader_reads_what_tomlkit_writes(packages: list[dict[str, object]]) -> None:
    """Any lock-shaped document, written as uv writes one ([[package]] headers, sub-tables
    per entry): reading entry by entry gives what a whole-file parse gives."""
    import tomlkit

    text = tomlkit.dumps({"version": 1, "requires-python": ">=3.10", "package": packages})
    whole = loads(text)
    lock = Lock(text)
    assert dict(lock.items()) == whole
    for package in whole.get("package", []):
        same = [p for p in whole["package"]
                if re.sub(r"[-_.]+", "-", p["name"]).lower()
                == re.sub(r"[-_.]+", "-", package["name"]).lower()]
        assert lock.named(package["name"]) == same


def test_a_silenced_finding_is_not_fixed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = NOT_EXPLICIT_UNMARKED.replace('[[tool.uv.index]]\nname = "pytorch-cu128"',
                                '[[tool.uv.index]]  # uvtorch: ignore[UT006]\nname = "pytorch-cu128"')
    write(tmp_path, text)
    assert main(["check", str(tmp_path), "--fix", "--strict"]) == 0
    assert (tmp_path / "pyproject.toml").read_text() == text
    assert "fixed:" not in capsys.readouterr().out


def test_the_benchmarks_big_lock_is_one_both_tools_read(tmp_path: Path) -> None:
    """benchmarks/check_time.py compares like with like: uv reads the built lock whole (and
    exports every copy), and check finds in it what it finds in the lock it was built from."""
    import subprocess

    from fakeindex import find_uv_bin

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from check_time import build
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    packages, _ = build(tmp_path, copies=2)
    lock = loads((tmp_path / "uv.lock").read_text())
    assert len(lock["package"]) == packages == len(Lock((tmp_path / "uv.lock").read_text())["package"])
    done = subprocess.run([find_uv_bin(), "export", "--frozen", "--no-hashes", "--all-extras",
                           "--directory", str(tmp_path)], capture_output=True, text=True,
                          env={**os.environ, "UV_OFFLINE": "1"}, check=True)
    assert "numpy-c2==" in done.stdout and "numpy==" in done.stdout
    assert {f.name for f in findings(tmp_path)} == {f.name for f in findings(CORPUS / "dia-cu126")}


def test_an_index_entry_is_found_by_its_whole_name() -> None:
    text = ('[[tool.uv.index]]\nname = "pytorch-cu12"  # old\nurl = "x"\n\n'
            '[[tool.uv.index]]\nname = "pytorch-cu128"\nurl = "y"\n')

    def line(message: str) -> int:
        return line_in_pyproject(text, Finding("x", "warning", Place(table="tool.uv.index"),
                                               message, ""))

    assert line("the PyTorch index pytorch-cu128 is not explicit") == 5
    assert line("the PyTorch index pytorch-cu12 is not explicit") == 1


@pytest.mark.e2e
def test_the_safe_fixes_make_a_project_uv_can_lock(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Extras without a conflict set and an index that is not explicit: uv cannot lock it;
    after `check --fix` (safe fixes only) it locks, and each extra installs its own build."""
    text = NOT_EXPLICIT.replace(
        'conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]', "").replace(
        "https://download.pytorch.org/whl/", fake_index.pytorch_base + "/")
    project = write(tmp_path / "p", text)
    failed = run_uv(["lock"], cwd=project, env=uv_env, check=False)
    assert failed.returncode != 0 and "conflicting" in failed.stderr.lower()
    assert main(["check", str(project), "--fix"]) == 0
    out = capsys.readouterr().out
    assert "fixed: declared the extras cpu, cu128 as conflicting" in out
    assert "fixed: made the index pytorch-cu128 explicit" in out
    run_uv(["lock"], cwd=project, env=uv_env)
    for extra, version in (("cpu", "2.9.1+cpu"), ("cu128", "2.9.1+cu128")):
        run_uv(["sync", "--extra", extra], cwd=project, env=uv_env)
        assert installed_packages(project, uv_env)["torch"] == version
