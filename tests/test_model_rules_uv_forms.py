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
