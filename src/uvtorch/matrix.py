"""`uvtorch matrix`: the catalog as a table, and `--refresh` from a PyTorch-style index.

The packaged catalog is fixed at release time. `refresh` reads the torch pages of each
variant index (`<base>/<variant>/torch/`), turns the wheel file names into releases, builds,
platforms and Python ranges, and writes them to an overlay in the user's cache
(`$XDG_CACHE_HOME/uvtorch/catalog-overlay.toml`) that `catalog.load()` merges, so a new torch
release (or a company mirror's selection) works without a uvtorch release. Companion versions
are not on those pages; for releases only the overlay knows, --package companions are refused.
"""

from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

from packaging.version import Version

from uvtorch.catalog import Catalog, variant_sort_key
from uvtorch.indexpage import filenames, wheels


def rows(
    catalog: Catalog, torch: str | None, accelerators: Iterable[str], platform: str | None
) -> list[dict[str, Any]]:
    """One row per (release, build), filtered; stable order."""
    from packaging.specifiers import SpecifierSet

    spec = SpecifierSet(torch) if torch else None
    wanted = {a.lower() for a in accelerators}
    out = []
    for release in reversed(catalog.releases):
        if spec is not None and not any(p in spec for p in release.patches):
            continue
        for variant in sorted(release.variants, key=variant_sort_key):
            platforms = list(release.variants[variant])
            if (wanted and variant not in wanted) or (platform and platform not in platforms):
                continue
            companions = {
                str(name): sorted({str(v) for v in by_torch.values()}, key=Version)
                for name, by_torch in release.companions.items()
            }
            out.append({
                "torch": str(release.minor),
                "patches": [str(p) for p in release.patches_with(variant)],
                "python": f"{release.python_min} to {release.python_max}",
                "accelerator": variant,
                "platforms": platforms,
                "companions": companions,
            })
    return out


def format_table(table: list[dict[str, Any]]) -> str:
    """A readable text table of `rows()`."""
    if not table:
        return "No build matches those filters.\n"
    short = {"linux-x86_64": "linux", "linux-aarch64": "aarch64", "windows-x86_64": "win",
             "macos-arm64": "mac"}
    lines = [f"{'torch':<6} {'build':<9} {'python':<13} {'platforms':<22} companions"]
    last = None
    for row in table:
        torch = row["torch"] if row["torch"] != last else ""
        last = row["torch"]
        companions = ", ".join(f"{n} {'/'.join(v)}" for n, v in row["companions"].items())
        platforms = " ".join(short.get(p, p) for p in row["platforms"])
        lines.append(
            f"{torch:<6} {row['accelerator']:<9} {row['python']:<13} {platforms:<22} "
            f"{companions if torch else ''}".rstrip()
        )
    return "\n".join(lines) + "\n"


def candidates(catalog: Catalog) -> list[str]:
    """Variant ids to look for on an index: the known ones and their likely successors."""
    guesses = {f"cu{m}{n}" for m in (12, 13, 14) for n in range(10)}
    guesses |= {f"rocm{m}.{n}" for m in (6, 7, 8) for n in range(21)}
    guesses |= {"cpu", "xpu"} | set(catalog.all_variants())
    return sorted(guesses, key=variant_sort_key)


def refresh(
    base: str, catalog: Catalog, get_all: Callable[[list[str]], list[bytes | None]]
) -> tuple[dict[str, Any], list[str]]:
    """Facts read from `base`/<variant>/torch/ pages: {minor: release table}, and variants seen.

    `get_all` reads the pages (in parallel, see uvtorch.fetch.Fetcher.get_all), None for a 404.
    """
    releases: dict[str, dict[str, Any]] = {}
    seen: list[str] = []
    variants = candidates(catalog)
    pages = get_all([f"{base.rstrip('/')}/{variant}/torch/" for variant in variants])
    for variant, page in zip(variants, pages):
        if page is None:
            continue
        found = False
        for version, (where, pythons) in wheels(filenames(page)).items():
            if version.is_prerelease or version.is_devrelease:
                continue
            found = True
            minor = f"{version.major}.{version.minor}"
            entry = releases.setdefault(minor, {"patches": set(), "python": set(), "variants": {}})
            entry["patches"].add(str(Version(version.public)))
            entry["python"].update(Version(f"3.{tag[3:]}") for tag in pythons)
            if where:
                entry["variants"].setdefault(variant, set()).update(where)
        if found:
            seen.append(variant)
    platforms = list(catalog.platforms)
    out = {
        minor: {
            "patches": sorted(e["patches"], key=Version),
            "python": [str(min(e["python"])), str(max(e["python"]))] if e["python"] else ["3.10", "3.14"],
            "variants": {
                v: [p for p in platforms if p in ps] for v, ps in sorted(e["variants"].items())
            },
        }
        for minor, e in sorted(releases.items(), key=lambda kv: Version(kv[0]))
    }
    return out, seen


def write_overlay(base: str, releases: dict[str, Any], path: Path) -> None:
    """The refreshed facts as TOML (tomlkit), stamped with where and when they were read."""
    import tomlkit

    from uvtorch.write import write_files

    doc = tomlkit.document()
    doc.add(tomlkit.comment("Written by `uvtorch matrix --refresh`; delete it to use the packaged catalog."))
    doc.add("source", base)
    doc.add("refreshed", date.today().isoformat())
    table = tomlkit.table(is_super_table=True)
    for minor, release in releases.items():
        entry = tomlkit.table()
        entry.add("patches", release["patches"])
        entry.add("python", release["python"])
        variants = tomlkit.table()
        for variant, platforms in release["variants"].items():
            variants.add(variant, platforms)
        entry.add("variants", variants)
        table.add(minor, entry)
    doc.add("releases", table)
    write_files(path.parent, {path.name: tomlkit.dumps(doc)}, force=True)
