"""Read TOML in tests with the standard library's strict parser (tomlkit on Python 3.10).

tomllib is a second, independent parser for what uvtorch writes with tomlkit, so tests use it
where it exists; Python 3.10, which uvtorch supports, has no tomllib.
"""

from __future__ import annotations

from typing import Any

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomlkit

    def loads(text: str) -> dict[str, Any]:
        return tomlkit.parse(text).unwrap()

else:

    def loads(text: str) -> dict[str, Any]:
        return tomllib.loads(text)
