"""The shape of the pyproject.toml tables `uvtorch add` reads and edits, checked up front.

`add` walks `[project]` and `[tool.uv]` and appends to their arrays; a file with
`project = "x"` or `sources = 5` must be one error naming the key, not an AttributeError
deep inside. This checks types only, for the keys add touches; what the values mean is the
planner's and `check`'s business.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from uvtorch.errors import BadPyproject

# dotted key -> (accepted kinds, an example that would work); "*" matches any one key.
_SHAPES: dict[str, tuple[tuple[str, ...], str]] = {
    "project": (("table",), '[project] with name = "demo"'),
    "project.name": (("string",), 'name = "demo"'),
    "project.requires-python": (("string",), 'requires-python = ">=3.10"'),
    "project.dependencies": (("strings",), 'dependencies = ["numpy"]'),
    "project.optional-dependencies": (("table",), '[project.optional-dependencies] cpu = ["torch"]'),
    "project.optional-dependencies.*": (("strings",), 'cpu = ["torch>=2.9"]'),
    "dependency-groups": (("table",), '[dependency-groups] dev = ["pytest"]'),
    "tool": (("table",), "[tool.uv]"),
    "tool.uv": (("table",), "[tool.uv]"),
    "tool.uvtorch": (("table",), "[tool.uvtorch]"),
    "tool.uv.required-version": (("string",), 'required-version = ">=0.9.8"'),
    "tool.uv.environments": (("string", "strings"), "environments = [\"sys_platform == 'linux'\"]"),
    "tool.uv.conflicts": (("tables-lists",), 'conflicts = [[{ extra = "cpu" }, { extra = "cu128" }]]'),
    "tool.uv.index": (("tables",), '[[tool.uv.index]] with name and url'),
    "tool.uv.index.*.name": (("string",), 'name = "pytorch-cpu"'),
    "tool.uv.index.*.url": (("string",), 'url = "https://download.pytorch.org/whl/cpu"'),
    "tool.uv.index.*.explicit": (("boolean",), "explicit = true"),
    "tool.uv.sources": (("table",), '[tool.uv.sources] torch = [{ index = "pytorch-cpu", extra = "cpu" }]'),
    "tool.uv.sources.*": (("table", "tables"), 'torch = [{ index = "pytorch-cpu", extra = "cpu" }]'),
    "tool.uv.sources.*.*.index": (("string",), 'index = "pytorch-cpu"'),
    "tool.uv.sources.*.*.extra": (("string",), 'extra = "cpu"'),
    "tool.uv.sources.*.*.group": (("string",), 'group = "dev"'),
    "tool.uv.sources.*.*.marker": (("string",), "marker = \"sys_platform == 'linux'\""),
    "tool.uv.exclude-dependencies": (("array",), 'exclude-dependencies = ["torch"]'),
    "tool.uv.dependency-metadata": (("tables",), '[[tool.uv.dependency-metadata]] name = "torch"'),
    "tool.uv.extra-build-dependencies": (("table",), "[tool.uv.extra-build-dependencies]"),
    "tool.uv.extra-build-variables": (("table",), "[tool.uv.extra-build-variables]"),
    "tool.uv.no-build-isolation-package": (("strings",), 'no-build-isolation-package = ["flash-attn"]'),
}

_KIND_NAMES = {
    "table": "a table", "string": "a string", "boolean": "true or false", "array": "an array",
    "strings": "an array of strings", "tables": "an array of tables",
    "tables-lists": "an array of arrays of tables",
}


def _is(kind: str, value: Any) -> bool:
    if kind == "table":
        return isinstance(value, Mapping)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "strings":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "tables":
        return isinstance(value, list) and all(isinstance(v, Mapping) for v in value)
    if kind == "tables-lists":
        return isinstance(value, list) and all(
            isinstance(v, list) and all(isinstance(t, Mapping) for t in v) for v in value
        )
    raise AssertionError(kind)


def _toml_type(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "float", str: "string", list: "array",
            dict: "table"}.get(type(value), type(value).__name__)


def _items(value: Any) -> list[tuple[str, Any]]:
    """The children a `*` step walks: a table's entries, an array's items (or one table)."""
    if isinstance(value, Mapping):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, list):
        return [(str(i), v) for i, v in enumerate(value)]
    return []


def check_shape(data: Mapping[str, Any], source: str) -> None:
    """Raise BadPyproject for the first key of `data` whose type add cannot work with."""
    for pattern, (kinds, example) in _SHAPES.items():
        nodes: list[tuple[str, Any]] = [("", data)]
        for step in pattern.split("."):
            nxt: list[tuple[str, Any]] = []
            for where, node in nodes:
                if step == "*":
                    # tool.uv.sources.torch may be one table: treat it as a list of one.
                    children = [("", node)] if isinstance(node, Mapping) and pattern.startswith(
                        "tool.uv.sources.*.*") and where.count(".") == 3 else _items(node)
                    nxt += [(f"{where}.{k}" if k else where, v) for k, v in children]
                elif isinstance(node, Mapping) and step in node:
                    nxt.append((f"{where}.{step}".lstrip("."), node[step]))
            nodes = nxt
        for where, value in nodes:
            if not any(_is(kind, value) for kind in kinds):
                wanted = " or ".join(_KIND_NAMES[k] for k in kinds)
                raise BadPyproject(
                    f"{source}: {where} must be {wanted}, not {_toml_type(value)} {value!r}.",
                    f"e.g. {example}; fix the file, then run the command again.",
                )
