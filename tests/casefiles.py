"""Scenario files under tests/cases/: one TOML file of answers per rendered project."""

from __future__ import annotations

from pathlib import Path

import tomlkit

from uvtorch.answers import Answers

CASES = Path(__file__).parent / "cases"


def case_names() -> list[str]:
    return sorted(p.stem for p in CASES.glob("*.toml"))


def load_case(name: str) -> Answers:
    raw = tomlkit.parse((CASES / f"{name}.toml").read_text()).unwrap()["answers"]
    return Answers(
        name=raw["name"],
        python=raw.get("python"),
        torch=raw.get("torch"),
        accelerators=tuple(raw.get("accelerators", ())),
        packages=tuple(raw.get("packages", ())),
        platforms=tuple(raw.get("platforms", ())),
        index_url=raw.get("index_url"),
        system=tuple(raw.get("system", ())),
        channel=raw.get("channel"),
        nightly_date=raw.get("nightly_date"),
    )
