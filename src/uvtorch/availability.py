"""Ask the PyTorch index, before writing a project, whether its builds have wheels.

The catalog is fixed at release time and goes stale every torch release; the index is the
truth. `init` and `add` call `confirm()` with the settled answers. It reads, in parallel, one
page per chosen build, `<index-url>/<build>/torch/` (PEP 691 JSON asked for, the simple HTML
page accepted: uvtorch.indexpage parses both), and then:

- fills in what the catalog calls unknown (`unknown.<build>` of a release in catalog.toml,
  e.g. torch 2.15's cu130): a build or platform the index lists becomes a fact of the catalog
  this command plans with, so the default torch release and the per-platform gating use it;
- checks each planned extra: an index without any torch the spec admits is an error (`uv lock`
  would fail), and so is a target platform without wheels when the project pins its platforms
  (required-environments fails the lock); a platform the catalog claims but the index lacks is
  a warning naming build, version and platform;
- says one line: confirmed, or "catalog used; index not reached (reason)" when it cannot be
  reached in time, or "catalog used; index not asked (reason)" with `--offline` or UV_OFFLINE
  (no request at all).

Limits: one deadline for all of it (UVTORCH_INDEX_DEADLINE, 5 s by default: a machine without
network costs at most that), the requests of uvtorch.fetch (https://, or http:// only to this
machine). Requests go only to the PyTorch index base that is the default or was given on the
command line (or typed in the wizard), never to one read from a project's or template's files.

Parsed pages are cached in `$XDG_CACHE_HOME/uvtorch/index-pages/` for an hour
(UVTORCH_INDEX_MAX_AGE, seconds): a command run again makes no request. The cache is data
from disk: an entry that does not validate is ignored (and replaced).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from uvtorch.catalog import Catalog, Release, variant_sort_key
from uvtorch.errors import NoBuild, UsageError

if TYPE_CHECKING:
    from uvtorch.pipeline import AnswerStack
    from uvtorch.plan import Plan

DEADLINE_S = 5.0  # all of the check's requests; UVTORCH_INDEX_DEADLINE overrides
MAX_AGE_S = 3600.0  # how long a cached page is used; UVTORCH_INDEX_MAX_AGE overrides
CACHE_FOLDER = "index-pages"
SCHEMA = 1
# uv reads UV_OFFLINE as a boolean flag (crates/uv/src/settings.rs:
# `offline: EnvFlag::new(EnvVars::UV_OFFLINE)`); these are the spellings of clap's
# BoolishValueParser, which uv's boolean variables accept.
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off", ""})
# The layers whose index URL the user gave (or that is the catalog's default).
_GIVEN = frozenset({"defaults", "flags", "wizard", "environment"})

Say = Callable[[str], None]


def _quiet(text: str) -> None:
    """The default reporter: say nothing."""


class Page(NamedTuple):
    """One build's torch page: whether it exists, and its final releases' platforms."""

    url: str
    found: bool  # False: a 404 (the index has no such build)
    releases: Mapping[str, frozenset[str]]  # "2.14.1" -> platform ids with a wheel


def offline_reason(flag: bool, environ: Mapping[str, str] | None = None) -> str | None:
    """Why no request may be made ("--offline", "UV_OFFLINE=1"), or None."""
    if flag:
        return "--offline"
    env = os.environ if environ is None else environ
    raw = env.get("UV_OFFLINE")
    if raw is None:
        return None
    value = raw.strip().lower()
    if value in _TRUE:
        return f"UV_OFFLINE={raw}"
    if value in _FALSE:
        return None
    raise UsageError(
        f"UV_OFFLINE={raw!r} is not a boolean.",
        "Set UV_OFFLINE=1 (or true) to stay offline, 0 (or false) to allow the network.",
    )


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "uvtorch" / CACHE_FOLDER


def _cache_file(url: str) -> Path:
    return cache_folder() / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".json")


def read_cached(url: str, platforms: Sequence[str], now: float, max_age: float) -> Page | None:
    """The cached page of `url`, if it is there, fresh and valid; None otherwise."""
    try:
        data = json.loads(_cache_file(url).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    try:
        fetched = data["fetched"]
        ok = (
            data["schema"] == SCHEMA and data["url"] == url
            and isinstance(fetched, (int, float)) and not isinstance(fetched, bool)
            and fetched <= now + 60 and now - fetched < max_age  # not from the future, fresh
            and isinstance(data["found"], bool) and isinstance(data["releases"], dict)
        )
        if not ok:
            return None
        releases: dict[str, frozenset[str]] = {}
        for version, where in data["releases"].items():
            parsed = Version(version)
            if str(parsed) != version or parsed.local or parsed.is_prerelease or parsed.is_devrelease:
                return None
            if not isinstance(where, list) or not all(p in platforms for p in where):
                return None
            releases[version] = frozenset(where)
    except (KeyError, TypeError, InvalidVersion):
        return None
    return Page(url, data["found"], releases)


def write_cached(page: Page, now: float) -> None:
    """Keep `page` for the next command; a cache that cannot be written is not an error."""
    path = _cache_file(page.url)
    data = {
        "schema": SCHEMA, "url": page.url, "fetched": now, "found": page.found,
        "releases": {v: sorted(p) for v, p in sorted(page.releases.items())},
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass


def read_pages(
    urls: Sequence[str], platforms: Sequence[str], *, now: float | None = None,
) -> tuple[dict[str, Page], dict[str, str]]:
    """({url: page}, {url: why it could not be read}): from the cache, else from the index."""
    from uvtorch.fetch import Fetcher, FetchError, _number_env
    from uvtorch.indexpage import ACCEPT, releases

    now = time.time() if now is None else now
    max_age = _number_env("UVTORCH_INDEX_MAX_AGE", MAX_AGE_S)
    pages: dict[str, Page] = {}
    for url in urls:
        cached = read_cached(url, platforms, now, max_age)
        if cached is not None:
            pages[url] = cached
    wanted = [u for u in urls if u not in pages]
    failed: dict[str, str] = {}
    if not wanted:
        return pages, failed
    fetcher = Fetcher(deadline_s=_number_env("UVTORCH_INDEX_DEADLINE", DEADLINE_S))
    try:
        bodies = fetcher.get_each(wanted, "PyTorch index page", accept=ACCEPT)
    finally:
        fetcher.close()
    for url, body in zip(wanted, bodies):
        if isinstance(body, FetchError):
            failed[url] = body.message.rstrip(".")
            continue
        found = {v: frozenset(p & set(platforms)) for v, p in releases(body).items()} if body else {}
        page = Page(url, body is not None, found)
        pages[url] = page
        write_cached(page, now)
    return pages, failed


class _Fill(NamedTuple):
    minor: Version
    text: str


def fill_unknown(catalog: Catalog, pages: Mapping[str, Page]) -> tuple[Catalog, list[_Fill]]:
    """The catalog with the index's answer in place of each `unknown` it covers.

    `pages` maps build ids to their pages. A build or platform the index has wheels for is
    added (with the release's patches the index has); one it lacks stays out. Only releases
    and patches the catalog knows are touched: their companion versions are the catalog's.
    """
    from types import MappingProxyType

    said: list[_Fill] = []
    releases: list[Release] = []
    for release in catalog.releases:
        if not release.unknown:
            releases.append(release)
            continue
        variants = dict(release.variants)
        only = dict(release.variant_patches)
        unknown = dict(release.unknown)
        for variant, open_platforms in release.unknown.items():
            page = pages.get(variant)
            if page is None:
                continue
            del unknown[variant]
            have = {Version(v): p for v, p in page.releases.items() if Version(v) in release.patches}
            where = {p for ps in have.values() for p in ps} & set(open_platforms)
            if not where:
                said.append(_Fill(release.minor, (
                    f"torch {release.minor} has no {variant} wheels for {', '.join(open_platforms)} "
                    "(the catalog did not know)")))
                continue
            ordered = [p for p in catalog.platforms if p in where]
            if variant not in variants:
                built = tuple(sorted(v for v, ps in have.items() if ps & where))
                if set(built) != set(release.patches):
                    only[variant] = built
            variants[variant] = tuple(dict.fromkeys([*variants.get(variant, ()), *ordered]))
            said.append(_Fill(release.minor, (
                f"torch {release.minor} has {variant} wheels for {', '.join(ordered)} "
                "(the catalog did not know; using the index's answer)")))
        releases.append(release._replace(
            variants=MappingProxyType(dict(sorted(variants.items(), key=lambda kv: variant_sort_key(kv[0])))),
            variant_patches=MappingProxyType(only),
            unknown=MappingProxyType(unknown),
        ))
    return catalog._replace(releases=tuple(releases)), said


class Finding(NamedTuple):
    """What the index says about one planned extra."""

    accelerator: str
    error: str | None  # `uv lock` would fail
    warnings: tuple[str, ...]
    versions: tuple[str, ...]  # the index's versions the spec admits, newest first


def _targets(plan: Plan, catalog: Catalog) -> tuple[str, ...]:
    return tuple(plan.answers.platforms) or tuple(catalog.platforms)


def judge(plan: Plan, catalog: Catalog, pages: Mapping[str, Page]) -> list[Finding]:
    """Each planned extra's pages against its plan (extras whose page was not read are left out)."""
    try:
        spec = SpecifierSet(plan.torch.removeprefix("torch"))
    except InvalidSpecifier:
        return []
    pinned = bool(plan.environments)  # required-environments: a missing platform fails the lock
    targets = _targets(plan, catalog)
    out = []
    for extra in plan.extras:
        page = pages.get(extra.accelerator)
        if page is None:
            continue
        versions = sorted((Version(v) for v in page.releases if spec.contains(v)), reverse=True)
        served = [p for p in targets if p not in extra.fallback]
        shown = ", ".join(str(v) for v in versions[:3])
        if not versions:
            has = sorted((Version(v) for v in page.releases), reverse=True)[:4]
            what = (f"its newest are {', '.join(map(str, has))}" if has
                    else "it has no torch at all" if page.found else "the page does not exist")
            out.append(Finding(extra.accelerator, (
                f"The {extra.accelerator} index ({page.url}) has no torch {plan.torch.removeprefix('torch')} "
                f"({what}), so `uv lock` would fail."), (), ()))
            continue
        warnings = []
        error = None
        for platform in served:
            with_wheel = [v for v in versions if platform in page.releases[str(v)]]
            if not with_wheel:
                text = (f"the {extra.accelerator} index has no torch {shown} wheels for {platform}, "
                        "which the catalog lists")
                if pinned:
                    error = f"{text[0].upper()}{text[1:]}: `uv lock` would fail (required-environments)."
                else:
                    warnings.append(f"{text}: the {extra.name} extra cannot install there.")
            elif with_wheel[0] != versions[0]:
                warnings.append(
                    f"the {extra.accelerator} index has torch {versions[0]} without a {platform} "
                    f"wheel (only {with_wheel[0]} has one): uv may pick {versions[0]} and fail to "
                    f"install there; --torch '=={with_wheel[0]}' avoids it.")
        out.append(Finding(extra.accelerator, error, tuple(warnings), tuple(map(str, versions))))
    return out


def confirm(
    stack: AnswerStack,
    catalog: Catalog,
    *,
    offline: bool = False,
    say: Say = _quiet,
    warn: Say = _quiet,
    environ: Mapping[str, str] | None = None,
) -> Catalog:
    """The catalog to plan the stack's answers with, confirmed (and completed) by the index.

    Returns `catalog` itself when the index is not asked or not reached; raises NoBuild when
    the index shows that `uv lock` would fail.
    """
    from uvtorch.plan import _index_url, make_plan

    answers = stack.answers()
    known = {*catalog.all_variants(), *(v for r in catalog.releases for v in r.unknown)}
    builds = [a for a in dict.fromkeys(answers.accelerators) if a in known]  # others: plan's error
    if not builds:
        return catalog
    if answers.channel not in (None, "stable"):
        say(f"catalog used; index not asked (the {answers.channel} channel's builds change daily)")
        return catalog
    reason = offline_reason(offline, environ)
    if reason is not None:
        say(f"catalog used; index not asked ({reason})")
        return catalog
    base = _index_url(answers.index_url, catalog)
    owner = stack.origin("index_url")
    if base != catalog.default_index_url and owner is not None and owner.name not in _GIVEN:
        say(f"catalog used; index not asked (its URL {base} comes from {owner.source}; give "
            "--index-url to have it asked)")
        return catalog
    urls = {build: f"{base}/{build}/torch/" for build in sorted(builds, key=variant_sort_key)}
    pages, failed = read_pages(list(urls.values()), list(catalog.platforms))
    by_build = {b: pages[u] for b, u in urls.items() if u in pages}
    if not by_build:
        why = next(iter(failed.values()), "no answer")
        say(f"catalog used; index not reached ({why})")
        return catalog
    for url, why in failed.items():
        build = next(b for b, u in urls.items() if u == url)
        say(f"catalog used for {build}; index page not read ({why})")
    amended, filled = fill_unknown(catalog, by_build)
    plan = make_plan(answers, amended)
    for fill in filled:
        if fill.minor in plan.releases:
            say(f"index: {fill.text}")
    findings = judge(plan, amended, by_build)
    errors = [f.error for f in findings if f.error]
    if errors:
        raise NoBuild(
            " ".join(errors),
            "Choose a --torch the index has, drop that -a, or pass --offline to write the "
            "project from the catalog anyway.",
        )
    for finding in findings:
        for text in finding.warnings:
            warn(f"warning: index: {text}")
    clean = [f.accelerator for f in findings if not f.warnings]
    if clean:
        newest = {v for f in findings if not f.warnings for v in f.versions[:1]}
        say(f"index: confirmed {', '.join(clean)} (torch {', '.join(sorted(newest, key=Version))} "
            f"wheels for every target platform on {base})")
    return amended

