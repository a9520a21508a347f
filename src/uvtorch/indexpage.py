"""Reading one project page of a PyTorch-style simple index: which wheels it lists.

Both `matrix --refresh` (every release on an index, into the catalog overlay) and the
availability check of `init`/`add` (uvtorch.availability) read `<base>/<variant>/torch/`.
This module is their one parser:

- a page is PEP 691 JSON (`{"files": [{"filename": ...}]}`, content type
  application/vnd.pypi.simple.v1+json) or PEP 503 HTML (the anchors' text); the body says
  which (download.pytorch.org answers HTML whatever Accept asks for);
- a wheel file name becomes (version, platform ids) by its tags (PEP 427 names, parsed by
  `packaging`); tags no platform id describes (i686, ppc64le, s390x, macOS x86_64) are dropped.

Nothing here does I/O.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import Version

# What the requests ask for: JSON first, HTML as PEP 691 says a client should accept too.
ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)

_PLATFORM_TAGS = (
    (re.compile(r"(manylinux|linux).*_x86_64$"), "linux-x86_64"),
    (re.compile(r"(manylinux|linux).*_aarch64$"), "linux-aarch64"),
    (re.compile(r"^win_amd64$"), "windows-x86_64"),
    (re.compile(r"^macosx_.*_arm64$"), "macos-arm64"),
)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self._in_a = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_a = tag == "a"

    def handle_endtag(self, tag: str) -> None:
        self._in_a = False

    def handle_data(self, data: str) -> None:
        if self._in_a and data.strip():
            self.names.append(data.strip())


def filenames(body: bytes) -> list[str]:
    """The file names a project page lists, from PEP 691 JSON or PEP 503 HTML."""
    text = body.decode("utf-8", "replace")
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return []
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, list):
            return []
        return [f["filename"] for f in files
                if isinstance(f, dict) and isinstance(f.get("filename"), str)]
    links = _Links()
    links.feed(text)
    return links.names


def platform_of(tag: str) -> str | None:
    """The platform id of a wheel's platform tag, or None for one uvtorch does not target."""
    return next((pid for pattern, pid in _PLATFORM_TAGS if pattern.search(tag)), None)


def wheels(names: list[str]) -> dict[Version, tuple[set[str], set[str]]]:
    """Wheel names -> {version (with its local part): (platform ids, cpython tags)}.

    Names that are not wheels (sdists, junk) are skipped.
    """
    out: dict[Version, tuple[set[str], set[str]]] = {}
    for name in names:
        try:
            _, version, _, tags = parse_wheel_filename(name)
        except InvalidWheelFilename:
            continue
        platforms, pythons = out.setdefault(version, (set(), set()))
        for tag in tags:
            if re.fullmatch(r"cp3\d+", tag.interpreter):
                pythons.add(tag.interpreter)
            platform = platform_of(tag.platform)
            if platform:
                platforms.add(platform)
    return out


def releases(body: bytes) -> dict[str, set[str]]:
    """A page's final releases: public version ("2.14.1") -> platform ids with a wheel.

    Pre-releases and dev builds are left out: a stable project never resolves to them.
    """
    out: dict[str, set[str]] = {}
    for version, (platforms, _) in wheels(filenames(body)).items():
        if version.is_prerelease or version.is_devrelease:
            continue
        out.setdefault(str(Version(version.public)), set()).update(platforms)
    return out
