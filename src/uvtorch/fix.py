"""`uvtorch check --fix`: repair what can be repaired safely, editing pyproject.toml in place.

Edits go through tomlkit, so comments, order and formatting of everything else stay as they
were. Repairs: a PyPI-style PyTorch index made explicit, a missing conflict set added, and a
lock whose CUDA torch lost its nvidia-* requirements given a [[tool.uv.dependency-metadata]]
override read from the real x86_64 wheel's METADATA on the index (PEP 658 `.metadata` file,
or the wheel itself): that also covers nightlies no static catalog can know. For a project
using the environment's torch: the missing `exclude-dependencies`, global or scoped to the
packages through which the lock's system extra would get an index's torch.
"""

import io
import zipfile
from collections.abc import Callable, Mapping
from email.parser import HeaderParser
from typing import Any

import tomlkit
from packaging.utils import canonicalize_name
from tomlkit.items import Table

from uvtorch.check import (
    Project,
    exclusions,
    pytorch_variant,
    system_extra_carriers,
    system_names,
)
from uvtorch.checks.lock_rules import cuda_torch_without_nvidia
from uvtorch.checks.registry import Finding
from uvtorch.checks.rules import unsafe_to_make_explicit
from uvtorch.errors import UvtorchError
from uvtorch.fetch import NotTrusted
from uvtorch.names import PackageName
from uvtorch.render import padded_inline
from uvtorch.system import SYSTEM

Fetch = Callable[[str], bytes | None]


def fetch(url: str) -> bytes | None:
    """GET a URL through uvtorch.fetch (https only, bounded); None when it does not exist (404)."""
    from uvtorch.fetch import Fetcher

    fetcher = Fetcher()
    try:
        return fetcher.get(url, "wheel URL")
    finally:
        fetcher.close()


def wheel_requires_dist(wheel_url: str, get: Fetch = fetch) -> tuple[list[str], str | None]:
    """(Requires-Dist, Requires-Python) of a wheel: its PEP 658 file, else the wheel itself."""
    raw = get(wheel_url.split("#", 1)[0] + ".metadata")
    if raw is None:
        wheel = get(wheel_url.split("#", 1)[0])
        if wheel is None:
            raise UvtorchError(f"{wheel_url} is gone from the index.", "Run uv lock again.")
        try:
            with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
                names = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
                raw = archive.read(names[0]) if names else None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:  # zip corruption
            raise UvtorchError(
                f"{wheel_url} is not a wheel (a zip archive): {exc}.",
                "Check what the index serves at that URL; uv lock again to refresh the lock.",
            ) from None
        if raw is None:
            raise UvtorchError(
                f"{wheel_url} has no *.dist-info/METADATA, so its requirements cannot be read.",
                "Check what the index serves at that URL; uv lock again to refresh the lock.",
            )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UvtorchError(
            f"The METADATA of {wheel_url} is not UTF-8 text.",
            "Check what the index serves at that URL.",
        ) from None
    headers = HeaderParser().parsestr(text)
    return headers.get_all("Requires-Dist") or [], headers.get("Requires-Python")


def _x86_64_wheel(package: Mapping[str, Any]) -> str | None:
    for wheel in package.get("wheels", []):
        url = str(wheel.get("url", ""))
        if "x86_64" in url and ("manylinux" in url or "linux_x86_64" in url):
            return url
    return None


def _uv(doc: tomlkit.TOMLDocument) -> Table:
    tool = doc.setdefault("tool", tomlkit.table(is_super_table=True))
    return tool.setdefault("uv", tomlkit.table())  # type: ignore[no-any-return]


def apply_fixes(
    project: Project, findings: list[Finding], get: Fetch = fetch, unsafe: bool = False
) -> tuple[str, list[str]]:
    """The repaired pyproject.toml text and what was done; unfixable findings are left alone,
    and so are unsafe fixes (see `Fix.applicability`) unless `unsafe`."""
    path = project.path / "pyproject.toml"
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    done: list[str] = []
    ids = {f.name for f in findings}
    if "index-not-explicit" in ids:
        for index in _uv(doc).get("index", []):
            if not unsafe and unsafe_to_make_explicit(project, str(index.get("name", ""))):
                continue
            if pytorch_variant(str(index.get("url", "")), project.catalog) and not index.get("explicit"):
                index["explicit"] = True
                done.append(f"made the index {index.get('name')} explicit")
    if "extras-without-conflicts" in ids:
        extras = sorted({s.extra for s in project.sources("torch") if s.extra})
        conflict = tomlkit.array()
        for extra in extras:
            conflict.append(padded_inline(extra=extra))
        uv = _uv(doc)
        conflicts = uv.setdefault("conflicts", tomlkit.array())
        conflicts.append(conflict)
        done.append(f"declared the extras {', '.join(extras)} as conflicting")
    if "lock-cuda-without-nvidia" in ids and project.lock is not None:
        uv = _uv(doc)
        existing = {
            (str(e.get("name")), str(e.get("version")))
            for e in uv.get("dependency-metadata", [])
        }
        for package in cuda_torch_without_nvidia(project.lock):
            version = str(package.get("version", ""))
            if ("torch", version) in existing:
                continue
            url = _x86_64_wheel(package)
            if url is None:
                done.append(f"torch {version}: no Linux x86_64 wheel in the lock to read; not fixed")
                continue
            try:
                requires, python = wheel_requires_dist(url, get)
            except NotTrusted as exc:
                done.append(
                    f"torch {version}: not fixed: reading its METADATA means fetching {exc.url}, "
                    f"a URL from {exc.origin}; pass --trust to fetch it"
                )
                continue
            entry = tomlkit.table()
            entry.add(tomlkit.comment(
                f"torch {version}: some of its wheels declare no nvidia-* requirements, so the "
                "lock lost them (astral-sh/uv#11945); this is the x86_64 wheel's Requires-Dist."
            ))
            entry.add("name", "torch")
            entry.add("version", version)
            array = tomlkit.array()
            for requirement in requires:
                array.add_line(requirement)
            array.add_line(indent="")
            entry.add("requires-dist", array)
            if python:
                entry.add("requires-python", python)
            metadata = uv.setdefault("dependency-metadata", tomlkit.aot())
            metadata.append(entry)
            done.append(f"added a dependency-metadata override for torch {version} from {url}")
    if ids & {"lock-system-extra-pulls-torch", "system-torch-not-excluded"}:
        done += _exclude_system_packages(project, _uv(doc))
    return tomlkit.dumps(doc), done


def _exclude_system_packages(project: Project, uv: Table) -> list[str]:
    """Keep the environment's packages out of what uv resolves (see check.exclusions)."""
    names = system_names(project)
    excluded, scoped = exclusions(project.uv)
    wanted: dict[str, list[str]] = {}
    if SYSTEM not in project.extras:
        missing = [n for n in names if n not in excluded]
        if missing:
            array = uv.setdefault("exclude-dependencies", tomlkit.array())
            for name in missing:
                array.append(name)
            return [f"excluded {', '.join(missing)} from the lock (the environment has them)"]
        return []
    for req in project.extras[SYSTEM]:
        owner = PackageName(canonicalize_name(req.name))
        missing = [n for n in names if n not in excluded and n not in scoped.get(owner, set())]
        if missing:
            wanted.setdefault(owner, []).extend(missing)
    for carrier in system_extra_carriers(project):
        wanted.setdefault(carrier.package, []).extend(
            n for n in carrier.pulls if n not in wanted.get(carrier.package, [])
        )
    if not wanted:
        return []
    array = uv.get("exclude-dependencies")
    if array is None:
        array = tomlkit.array()
        uv.add("exclude-dependencies", array)
    for package, pulls in wanted.items():
        entry = padded_inline(package=padded_inline(name=package), dependencies=sorted(set(pulls)))
        array.add_line(entry, indent=" " * 4)
    array.add_line(indent="")
    return [
        f"made {package} drop its requirements on {', '.join(sorted(set(pulls)))} "
        "(the system extra uses the environment's)"
        for package, pulls in wanted.items()
    ]
