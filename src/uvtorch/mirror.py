"""Move a project's PyTorch indexes to a mirror: same builds, another base URL.

A company mirror of https://download.pytorch.org/whl keeps the layout `<base>/<build>` (and
`<base>/nightly/<build>`), so only the part before the build changes. The alternative that
needs no edit is uv's own override by index name, `UV_INDEX=pytorch-cu128=<mirror>/cu128`:
uv 0.13.9 replaces the project's index of that name (tested in tests/test_mirror.py).
"""

from __future__ import annotations

from typing import Any

from uvtorch.catalog import Catalog
from uvtorch.check import pytorch_variant

_CHANNELS = ("nightly", "test")


def split_index_url(url: str, catalog: Catalog) -> tuple[str, str] | None:
    """`https://host/whl/nightly/cu128` -> (`https://host/whl`, `nightly/cu128`); None if not PyTorch-style."""
    if pytorch_variant(url, catalog) in (None, "default"):
        return None
    parts = url.rstrip("/").split("/")
    tail = [parts.pop()]
    if parts and parts[-1] in _CHANNELS:
        tail.insert(0, parts.pop())
    return "/".join(parts), "/".join(tail)


def move_indexes(doc: Any, base: str, catalog: Catalog) -> list[str]:
    """Point every PyTorch-style `[[tool.uv.index]]` of `doc` (tomlkit) at `base`; what changed."""
    indexes = doc.get("tool", {}).get("uv", {}).get("index", [])
    changed = []
    for index in indexes:
        url = index.get("url")
        split = split_index_url(str(url), catalog) if isinstance(url, str) else None
        if split is None:
            continue
        new = f"{base.rstrip('/')}/{split[1]}"
        if new != url:
            index["url"] = new
            changed.append(f"index {index.get('name', '?')}: {url} -> {new}")
    return changed


def uv_index_override(doc: Any, base: str, catalog: Catalog) -> str:
    """The `UV_INDEX=...` value that sends uv to the mirror without editing the project."""
    pairs = []
    for index in doc.get("tool", {}).get("uv", {}).get("index", []):
        url, name = index.get("url"), index.get("name")
        split = split_index_url(str(url), catalog) if isinstance(url, str) else None
        if split is not None and isinstance(name, str):
            pairs.append(f"{name}={base.rstrip('/')}/{split[1]}")
    return " ".join(pairs)
