"""Find the line of pyproject.toml (or uv.lock) a finding points at, for annotations, SARIF
and inline silencing. A small line scanner over the text, not a TOML parser: it knows table
headers, `key = ` lines and which lines a multi-line value spans, which is all a place names.
Falls back to the table's header, then to line 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from uvtorch.checks.registry import Finding

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip().strip("\"'")).lower()


def _parts(dotted: str) -> list[str]:
    return [p.strip().strip("\"'") for p in re.findall(r'"[^"]*"|\'[^\']*\'|[^.]+', dotted)]


@dataclass
class _Key:
    table: list[str]  # the header's parts
    key: list[str]  # the key's parts
    first: int  # 1-based line of `key =`
    last: int  # the value's last line


def _code(line: str, open_string: str | None) -> tuple[str, str | None]:
    """The line without string contents and comment, and the multi-line string still open at
    its end (triple quotes), so that brackets in strings or comments are not counted."""
    out: list[str] = []
    i = 0
    quote = open_string
    while i < len(line):
        if quote is not None:
            if line.startswith("\\", i) and quote in ('"', '"""'):
                i += 2  # an escape in a basic string
                continue
            if line.startswith(quote, i):
                i += len(quote)
                quote = None
                out.append('""')
            else:
                i += 1
            continue
        char = line[i]
        if char == "#":
            break
        if char in "\"'":
            triple = line[i:i + 3]
            quote = triple if triple in ('"""', "'''") else char
            i += len(quote)
            continue
        out.append(char)
        i += 1
    if quote in ('"', "'"):
        quote = None  # a one-line string ends with its line
    return "".join(out), quote


def _scan(lines: list[str]) -> tuple[list[tuple[list[str], int]], list[_Key]]:
    headers: list[tuple[list[str], int]] = []
    keys: list[_Key] = []
    table: list[str] = []
    depth = 0
    current: _Key | None = None
    open_string: str | None = None
    for number, line in enumerate(lines, 1):
        inside = open_string is not None
        code, open_string = _code(line, open_string)
        if depth == 0 and not inside:
            header = _HEADER.match(line)
            if header:
                table = _parts(header.group(1))
                headers.append((table, number))
                current = None
                continue
            key = _KEY.match(line)
            if key:
                current = _Key(table, _parts(key.group(1)), number, number)
                keys.append(current)
        elif current is not None:
            current.last = number
        depth += code.count("[") + code.count("{") - code.count("]") - code.count("}")
        depth = max(depth, 0)
    return headers, keys


def _mentions(line: str, package: str) -> bool:
    """Whether a line names `package` as a key or at the start of a requirement string."""
    wanted = _norm(package)
    for match in re.finditer(r"""(?:^|["'\s{,\[])([A-Za-z0-9][A-Za-z0-9._-]*)""", line):
        if _norm(match.group(1)) == wanted:
            return True
    return False


def line_in_pyproject(text: str, finding: Finding) -> int:
    """The 1-based line of pyproject.toml that `finding` is about (1 when unknown)."""
    lines = text.splitlines()
    headers, keys = _scan(lines)
    table = _parts(finding.place.table or "")
    if not table or table == ["uv", "lock"]:
        return 1
    package = finding.place.package
    extra = (finding.place.install or "").partition(":")[2]
    # [[tool.uv.index]]-like arrays of tables: the entry whose name the message quotes.
    entries = [n for parts, n in headers if parts == table]
    if len(entries) > 1:
        for start in entries:
            named = next((k for k in keys if k.table == table and k.key == ["name"]
                          and k.first > start), None)
            value = re.search(r"""=\s*["']([^"']+)["']""", lines[named.first - 1]) if named else None
            if value and re.search(rf"(?<![\w.-]){re.escape(value.group(1))}(?![\w.-])",
                                   finding.message):
                return start
    if entries and not package:
        return entries[0]
    # The most specific key: table.package, table.extra, then the table path itself.
    wanted = [_norm(x) for x in table]
    for tail in [t for t in (package, extra) if t]:
        for parts, n in headers:
            if [_norm(x) for x in parts] == wanted + [_norm(tail)]:
                return n
        for k in keys:
            if [_norm(x) for x in k.table + k.key] == wanted + [_norm(tail)]:
                inner = package if tail != package else None
                return (_line_within(lines, k, inner, extra) if inner or extra else None) or k.first
    for k in keys:
        if [_norm(x) for x in k.table + k.key] == wanted:
            return (_line_within(lines, k, package, extra) if package else None) or k.first
    for parts, n in sorted(headers, key=lambda h: -len(h[0])):
        if wanted[: len(parts)] == [_norm(x) for x in parts]:
            return n
    return 1


def _line_within(lines: list[str], key: _Key, package: str | None, extra: str) -> int | None:
    """Inside a multi-line value, the line naming `package` (and the extra, when given)."""
    span = range(key.first, key.last + 1)
    named = [n for n in span if package and _mentions(lines[n - 1], package)]
    if extra:
        scoped = [n for n in span if re.search(rf"""extra\s*=\s*["']{re.escape(extra)}["']""",
                                                lines[n - 1])]
        if scoped:
            return scoped[0]
    return named[0] if named else None


def line_in_lock(text: str, package: str | None) -> int:
    """The line of `name = "package"` in uv.lock (1 when unknown)."""
    if not package:
        return 1
    found = text.find(f'\nname = "{package}"\n')
    return text.count("\n", 0, found) + 2 if found >= 0 else 1
