"""The routing table for people (text) and programs (JSON): what `uv sync` installs where.

Rows are installs, columns platforms, cells the torch build; `*` marks a cell where a
companion (torchvision, torchaudio, ...) comes from another build, `!` one uv refuses.
"""

from __future__ import annotations

from typing import Any

from uvtorch.model.routing import ERROR, NONE, Build, Routing


def cell_text(routing: Routing, install: str, platform: str) -> str:
    cell = routing.cell(install, platform)
    torch = cell.torch
    text = "-" if torch is None else torch.label
    if torch is not None and torch.via:
        text += f" (via {torch.via})"
    if cell.mismatched():
        text += " *"
    if routing.install(install).error or (torch is not None and torch.kind in (NONE, ERROR)):
        text += " !"
    return text


def render_text(routing: Routing) -> str:
    """A plain table, one row per install; footnotes list companions that disagree."""
    header = ["install", *routing.platforms]
    rows = [[i.id, *(cell_text(routing, i.id, p) for p in routing.platforms)]
            for i in routing.installs]
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = []
    for inst in routing.installs:
        if inst.error:
            notes.append(f"! {inst.id}: {inst.error}")
        for pid in routing.platforms:
            cell = routing.cell(inst.id, pid)
            for build in cell.mismatched():
                notes.append(f"* {inst.id} on {pid}: {build.package} {build.label} "
                             f"(torch: {cell.torch.label if cell.torch else '-'})")
            torch = cell.torch
            if torch is not None and torch.kind in (NONE, ERROR) and torch.reason:
                notes.append(f"! {inst.id} on {pid}: {torch.reason}")
    origin = "uv.lock" if routing.from_lock else "pyproject.toml (predicted; no uv.lock)"
    out = [f"torch per install and platform, from {origin}:", *lines]
    if notes:
        out += ["", *dict.fromkeys(notes)]
    return "\n".join(out)


def build_json(build: Build) -> dict[str, Any]:
    return {"package": build.package, "kind": build.kind, "label": build.label,
            "index": build.index, "variant": build.variant, "version": build.version,
            "via": build.via, "source": build.source, "reason": build.reason}


def render_json(routing: Routing) -> dict[str, Any]:
    """`{"from_lock": ..., "platforms": [...], "installs": [{"install": id, "cells": {...}}]}`."""
    return {
        "from_lock": routing.from_lock,
        "platforms": list(routing.platforms),
        "required_platforms": list(routing.required_platforms),
        "installs": [
            {"install": inst.id, "command": inst.command, "error": inst.error,
             "cells": {pid: {name: build_json(b)
                             for name, b in routing.cell(inst.id, pid).builds.items()}
                       for pid in routing.platforms}}
            for inst in routing.installs
        ],
    }
