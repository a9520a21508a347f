"""The catalog: facts about torch releases and their builds, loaded from package data.

Everything uvtorch knows about the outside world (which release has which accelerator build on
which platform, matching companion versions, wheels with broken metadata, packages that depend
on torch) lives in `uvtorch/data/*.toml`. This module only turns those files into frozen
objects; deciding what to do with them is `plan.py`'s job.
"""


import re
import sys
from collections.abc import Mapping
from typing import NamedTuple
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from packaging.version import Version

from uvtorch.errors import UvtorchWarning
from uvtorch.names import PackageName, package_name


# Package data sits beside the code (uvtorch is installed as files, never run from a zip);
# a plain path avoids importing importlib.resources and zipfile on every start.
_DATA = Path(__file__).parent / "data"


class Platform(NamedTuple):
    """A platform a project can target, with the PEP 508 markers that select it."""

    id: str
    os_marker: str
    machine_marker: str | None


class Release(NamedTuple):
    """One torch minor release (e.g. 2.9) and the builds published for it."""

    minor: Version
    patches: tuple[Version, ...]
    python_min: Version
    python_max: Version
    variants: Mapping[str, tuple[str, ...]]  # variant id -> platforms with wheels
    variant_patches: Mapping[str, tuple[Version, ...]]  # variant -> the only patches built
    companions: Mapping[PackageName, Mapping[Version, Version]]  # name -> torch -> version
    pypi: Mapping[str, str]  # platform -> which build PyPI's wheel is
    macos_min: str | None = None  # the oldest macOS PyPI's macOS arm64 wheels install on
    # variant -> platforms whose wheels nobody confirmed (yes or no): init/add ask the index
    unknown: Mapping[str, tuple[str, ...]] = MappingProxyType({})

    def patches_with(self, variant: str) -> tuple[Version, ...]:
        """The patch releases that have a build for `variant` (none if it has no build)."""
        if variant not in self.variants:
            return ()
        only = self.variant_patches.get(variant)
        return tuple(p for p in self.patches if only is None or p in only)


class Channel(NamedTuple):
    """A pre-release channel (nightly, test): its own indexes and torch versions."""

    name: str
    path: str  # indexes are <base>/<path>/<variant>
    torch: str  # the torch spec (admits its pre-releases)
    pin: str | None  # a date pin's spec, with {date}
    python_min: Version
    python_max: Version
    variants: Mapping[str, tuple[str, ...]]
    triton: Mapping[str, str]  # family -> the triton package torch pulls from the channel
    versions: tuple[tuple[str, str], ...] = ()  # (first date YYYYMMDD, version), oldest first

    def version_on(self, date: str) -> str | None:
        """The torch version the channel built on `date` (YYYYMMDD), from `versions`."""
        found = [v for since, v in self.versions if since <= date]
        return found[-1] if found else None


class Companion(NamedTuple):
    """A torch-family package whose version must match torch's."""

    name: PackageName
    on_index: bool
    pypi_build: str | None = None  # the build PyPI's wheel is, when it is one build (cu13)


class IndexCompanion(NamedTuple):
    """A package torch requires that only the variant's own index hosts (e.g. a triton)."""

    name: PackageName
    family: str
    platforms: tuple[str, ...]
    since: Version
    until: Version | None  # first minor that no longer needs it
    why: str
    variants: tuple[str, ...] = ()  # only these builds of the family need it (empty: all)
    requirement: str | None = None  # as written in the extra, e.g. with extras (default: name)
    note: str | None = None  # told to the user when an extra needs it


class KnownBadMetadata(NamedTuple):
    """A torch build whose wheels disagree on Requires-Dist, with the full correct list."""

    name: PackageName
    version: Version  # includes the local part, e.g. 2.6.0+cu126
    variant: str
    platform: str  # the platform whose wheels lack the requirements
    requires_dist: tuple[str, ...]
    why: str


class Dependent(NamedTuple):
    """A package known to depend on torch, and which companions it pulls in too."""

    name: PackageName
    needs: tuple[PackageName, ...]
    why: str
    # Packages in its dependency tree that require torch themselves (a `system` extra must
    # drop their torch requirements too).
    pulls_torch_through: tuple[PackageName, ...] = ()


class UvFeature(NamedTuple):
    """A pyproject setting and the oldest uv release that accepts it."""

    id: str
    min_uv: Version
    what: str


class Catalog(NamedTuple):
    """All catalog facts, releases sorted oldest first."""

    platforms: Mapping[str, Platform]
    families: Mapping[str, tuple[str | None, tuple[str, ...]]]  # name -> (pattern, platforms)
    releases: tuple[Release, ...]
    companions: Mapping[PackageName, Companion]
    index_companions: tuple[IndexCompanion, ...]
    known_bad: tuple[KnownBadMetadata, ...]
    dependents: Mapping[PackageName, Dependent]
    uv_features: Mapping[str, UvFeature]
    default_index_url: str
    build_backend: Mapping[str, str]
    channels: Mapping[str, Channel] = MappingProxyType({})

    def family_of(self, variant: str) -> str | None:
        """The family (cpu, cuda, rocm, xpu) of a variant id, or None if it fits none."""
        for name, (pattern, _) in self.families.items():
            if variant == name or (pattern is not None and re.fullmatch(pattern, variant)):
                return name
        return None

    def all_variants(self) -> tuple[str, ...]:
        """Every variant any release has, in a stable, readable order."""
        found = {v for r in self.releases for v in r.variants}
        return tuple(sorted(found, key=variant_sort_key))


def variant_sort_key(variant: str) -> tuple[int, str, tuple[int, ...]]:
    """cpu first, then CUDA, ROCm and XPU, each in numeric order (cu118 < cu126 < cu130)."""
    order = {"cpu": 0, "cu": 1, "rocm": 2, "xpu": 3}
    match = re.match(r"([a-z]+?)(\d[\d.]*)?$", variant)
    prefix = match.group(1) if match else variant
    numbers = tuple(int(n) for n in re.findall(r"\d+", variant))
    return (order.get(prefix, 9), prefix, numbers)


OVERLAY = "catalog-overlay.toml"


def overlay_path() -> Path:
    """Facts refreshed from an index by `uvtorch matrix --refresh`, in the user's cache."""
    import os

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "uvtorch" / OVERLAY


def _merge_overlay(releases: list[Release], families: Mapping[str, Any]) -> list[Release]:
    """Overlay facts add builds, patches and platforms; they never take the catalog's away.

    A refresh from a partial mirror (one that carries only cpu and cu128, say) must not make
    every other build vanish from every command: what the packaged catalog knows stays, and
    the overlay only adds (a new release, a new build, a new patch). Companions stay the
    catalog's.
    """
    path = overlay_path()
    if not path.is_file():
        return releases
    import tomlkit  # imported when used: `uvtorch which` never needs it (start-up time)

    by_minor = {str(r.minor): r for r in releases}
    try:
        overlay = tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()
        fresh_releases = [
            _release(minor, raw, families) for minor, raw in overlay.get("releases", {}).items()
        ]
    except Exception as exc:  # a cache is never worth breaking every command for
        import warnings

        warnings.warn(OverlayIgnored(
            f"ignoring {path}: it cannot be read ({type(exc).__name__}: {exc}); using the "
            "packaged catalog. Delete it, or run `uvtorch matrix --refresh` to write it again."
        ), stacklevel=2)
        return releases
    for fresh in fresh_releases:
        known = by_minor.get(str(fresh.minor))
        if known is not None:
            fresh = _union(known, fresh)
        by_minor[str(fresh.minor)] = fresh
    return sorted(by_minor.values(), key=lambda r: r.minor)


def _union(known: Release, fresh: Release) -> Release:
    """The packaged release with what the overlay found added."""
    patches = tuple(sorted({*known.patches, *fresh.patches}))
    variants: dict[str, tuple[str, ...]] = {}
    only: dict[str, tuple[Version, ...]] = {}
    for variant in sorted({*known.variants, *fresh.variants}, key=variant_sort_key):
        variants[variant] = tuple(dict.fromkeys(
            [*known.variants.get(variant, ()), *fresh.variants.get(variant, ())]
        ))
        built: set[Version] = set()
        for release in (known, fresh):
            if variant in release.variants:
                built |= set(release.patches_with(variant))
        if built != set(patches):
            only[variant] = tuple(sorted(built))
    return known._replace(
        patches=patches,
        python_min=min(known.python_min, fresh.python_min),
        python_max=max(known.python_max, fresh.python_max),
        variants=MappingProxyType(variants),
        variant_patches=MappingProxyType(only),
    )


class OverlayIgnored(UvtorchWarning):
    """The refreshed catalog in the user's cache is unreadable; the packaged one is used."""


def read_data(name: str) -> dict[str, Any]:
    """Parse a packaged data file.

    These files are only ever read, never edited, so format preservation buys nothing here:
    the standard library's tomllib (Python 3.11+) parses the catalog in 2 ms where tomlkit
    takes 30 ms, a large share of the start-up budget. Python 3.10 falls back to tomlkit.
    """
    text = (_DATA / name).read_text(encoding="utf-8")
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)
    import tomlkit

    return tomlkit.parse(text).unwrap()  # Python 3.10


def _platform_lists(raw: Mapping[str, Any], families: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """variant -> platforms, with "family" meaning the family's platforms."""
    fam_platforms = {name: tuple(f.get("platforms", ())) for name, f in families.items()}
    variants: dict[str, tuple[str, ...]] = {}
    for variant, platforms in raw.items():
        if platforms == "family":
            family = next(
                name
                for name, f in families.items()
                if name == variant or re.fullmatch(f.get("pattern", "$^"), variant)
            )
            platforms = fam_platforms[family]
        variants[variant] = tuple(platforms)
    return variants


def _release(minor: str, raw: dict[str, Any], families: Mapping[str, Any]) -> Release:
    variants = _platform_lists(raw["variants"], families)
    companions = {
        package_name(name): MappingProxyType(
            {Version(t): Version(v) for t, v in raw.get(name, {}).items()}
        )
        for name in ("torchvision", "torchaudio", "torchao")
        if name in raw
    }
    return Release(
        minor=Version(minor),
        patches=tuple(Version(p) for p in raw["patches"]),
        python_min=Version(raw["python"][0]),
        python_max=Version(raw["python"][1]),
        variants=MappingProxyType(variants),
        variant_patches=MappingProxyType(
            {v: tuple(Version(p) for p in ps) for v, ps in raw.get("variant_patches", {}).items()}
        ),
        companions=MappingProxyType(companions),
        pypi=MappingProxyType(dict(raw.get("pypi", {}))),
        macos_min=raw.get("macos_min"),
        unknown=MappingProxyType(_platform_lists(raw.get("unknown", {}), families)),
    )


DEPENDENTS = "dependents.toml"  # written by scripts/refresh_dependents.py from PyPI, never by hand


def _dependents(raw: Mapping[str, Any]) -> dict[PackageName, Dependent]:
    """data/dependents.toml's [dependents.*], its shape checked: a malformed file (a bad merge,
    a hand edit) fails here with the key it is about, not later as a KeyError in a rule."""

    def bad(where: str, what: str) -> ValueError:
        return ValueError(
            f"uvtorch/data/{DEPENDENTS}: {where} {what}; rerun scripts/refresh_dependents.py"
        )

    def names(where: str, value: Any) -> tuple[PackageName, ...]:
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise bad(where, "must be a list of package names")
        return tuple(package_name(x) for x in value)

    watch = names("`watch`", raw.get("watch"))
    table = raw.get("dependents", {})
    if not isinstance(table, dict):
        raise bad("`dependents`", "must be a table")
    found: dict[PackageName, Dependent] = {}
    for n, d in table.items():
        where = f"[dependents.{n}]"
        if not isinstance(d, dict):
            raise bad(where, "must be a table")
        unknown = set(d) - {"version", "needs", "pulls_torch_through", "why"}
        if unknown:
            raise bad(where, f"has unknown keys {sorted(unknown)}")
        for key in ("version", "why"):
            if not isinstance(d.get(key), str) or not d[key]:
                raise bad(where, f"needs a non-empty string `{key}`")
        name = package_name(n)
        if name not in watch:
            raise bad(where, "is not in `watch`")
        found[name] = Dependent(
            name,
            names(f"{where} needs", d.get("needs")),
            d["why"],
            names(f"{where} pulls_torch_through", d.get("pulls_torch_through", [])),
        )
    return found


@cache
def load() -> Catalog:
    """Read the packaged catalog once per process."""
    raw = read_data("catalog.toml")
    extra = read_data("wheels.toml")
    uv = read_data("uv.toml")
    families = raw["families"]
    releases = _merge_overlay(
        sorted(
            (_release(minor, r, families) for minor, r in raw["releases"].items()),
            key=lambda r: r.minor,
        ),
        families,
    )
    channels = {}
    for name, c in raw.get("channels", {}).items():
        shape = _release("0.0", {"patches": [], "python": c["python"], "variants": c["variants"]}, families)
        channels[name] = Channel(
            name=name,
            path=c["path"],
            torch=c["torch"],
            pin=c.get("pin"),
            python_min=shape.python_min,
            python_max=shape.python_max,
            variants=shape.variants,
            triton=MappingProxyType(dict(c.get("triton", {}))),
            versions=tuple(sorted((d, v) for v, d in c.get("versions", {}).items())),
        )
    return Catalog(
        platforms=MappingProxyType(
            {
                pid: Platform(pid, p["os_marker"], p.get("machine_marker"))
                for pid, p in raw["platforms"].items()
            }
        ),
        families=MappingProxyType(
            {
                name: (f.get("pattern"), tuple(f.get("platforms", ())))
                for name, f in families.items()
            }
        ),
        releases=tuple(releases),
        companions=MappingProxyType(
            {
                package_name(n): Companion(
                    package_name(n), bool(c["on_index"]), c.get("pypi_build")
                )
                for n, c in raw["companions"].items()
            }
        ),
        index_companions=tuple(
            IndexCompanion(
                name=package_name(c["name"]),
                family=c["family"],
                platforms=tuple(c["platforms"]),
                since=Version(c["since"]),
                until=Version(c["until"]) if "until" in c else None,
                why=c["why"],
                variants=tuple(c.get("variants", ())),
                requirement=c.get("requirement"),
                note=c.get("note"),
            )
            for c in extra.get("index_companions", [])
        ),
        known_bad=tuple(
            KnownBadMetadata(
                name=package_name(k["name"]),
                version=Version(k["version"]),
                variant=k["variant"],
                platform=k["platform"],
                requires_dist=tuple(k["requires_dist"]),
                why=k["why"],
            )
            for k in extra.get("known_bad_metadata", [])
        ),
        dependents=MappingProxyType(_dependents(read_data(DEPENDENTS))),
        uv_features=MappingProxyType(
            {
                fid: UvFeature(fid, Version(f["min_uv"]), f["what"])
                for fid, f in uv["features"].items()
            }
        ),
        default_index_url=raw["pytorch_index"]["default_url"],
        build_backend=MappingProxyType(dict(uv["build_backend"])),
        channels=MappingProxyType(channels),
    )
