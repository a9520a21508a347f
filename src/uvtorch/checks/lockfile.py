"""Read uv.lock fast: split it into its `[[package]]` entries and parse only those asked for.

A monorepo's lock holds thousands of packages (9 MB), of which the checks read a handful
(torch, its companions, the project itself, and the packages a dependency walk reaches).
tomlkit builds an editable document of the whole file (12.7 s, 307 MB on such a lock); here
the text is cut at uv's `[[package]]` headers and each wanted entry is parsed on its own with
the standard library's tomllib (Python 3.10: tomlkit, the project's other reader). uv writes
the entries last, as one array of tables (`doc.insert("package", Item::ArrayOfTables(..))` in
`Lock::to_toml`, astral-sh/uv crates/uv-resolver/src/lock/mod.rs), each beginning with
`name = "..."` (as in every uv.lock of tests/corpus); an entry whose first line is not its
name is parsed at once to learn it. uv writes no multi-line strings, so a `[[package]]` line
is always a header (a hand-written multi-line string holding one would read as invalid).

`Lock` is a read-only Mapping like the parsed file: `lock["package"]` parses every entry
(cached); `lock.named("torch")` parses only torch's entries.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from uvtorch.errors import UnreadableProject
from uvtorch.names import package_name

_HEADER = "\n[[package]]\n"
_NAME = re.compile(r'name\s*=\s*"([^"]+)"')


def loads(text: str) -> dict[str, Any]:
    """Parse TOML read-only: tomllib where it exists (Python 3.11+), else tomlkit."""
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)
    import tomlkit  # Python 3.10

    return tomlkit.parse(text).unwrap()


class Lock(Mapping[str, Any]):
    """uv.lock, parsed entry by entry on demand."""

    def __init__(self, text: str, origin: str = "uv.lock") -> None:
        self.origin = origin
        text = text.replace("\r\n", "\n")
        head, *blocks = ("\n" + text).split(_HEADER)
        self._head = self._parse(head)
        self._blocks: dict[str, list[str]] = {}
        self._order: list[tuple[str, int]] = []  # (name, its entry's index), in file order
        for block in blocks:
            match = _NAME.match(block)
            key = package_name(match.group(1) if match else self._name_of(block))
            entries = self._blocks.setdefault(key, [])
            self._order.append((key, len(entries)))
            entries.append(block)
        self._parsed: dict[str, list[dict[str, Any]]] = {}
        self._all: list[dict[str, Any]] | None = None

    def _parse(self, text: str, entry: str = "") -> dict[str, Any]:
        try:
            return loads(text)
        except Exception as exc:  # tomllib's and tomlkit's parse errors alike
            where = f" (in the [[package]] entry of {entry})" if entry else ""
            raise UnreadableProject(
                f"{self.origin} is not valid TOML{where}: {exc}.", "Run uv lock again."
            ) from None

    def _name_of(self, block: str) -> str:
        packages = self._parse("[[package]]\n" + block).get("package", [{}])
        return str(packages[0].get("name", ""))

    def names(self) -> set[str]:
        """The canonical names of every locked package, without parsing any entry."""
        return set(self._blocks)

    def named(self, name: str) -> list[dict[str, Any]]:
        """The entries of one package (several when uv forked it), parsed once."""
        key = package_name(name)
        if key not in self._parsed:
            self._parsed[key] = [
                self._parse("[[package]]\n" + block, name)["package"][0]
                for block in self._blocks.get(key, [])
            ]
        return self._parsed[key]

    def __getitem__(self, key: str) -> Any:
        if key == "package" and self._blocks:
            if self._all is None:
                self._all = [self.named(name)[i] for name, i in self._order]
            return self._all
        return self._head[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._head
        if self._blocks and "package" not in self._head:
            yield "package"

    def __len__(self) -> int:
        return len(self._head) + (1 if self._blocks and "package" not in self._head else 0)


def packages_named(lock: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    """The entries of `name` in any parsed lock (a `Lock`, or a plain parsed dict in tests)."""
    if isinstance(lock, Lock):
        return list(lock.named(name))
    key = package_name(name)
    return [p for p in lock.get("package", []) if package_name(str(p.get("name", ""))) == key]
