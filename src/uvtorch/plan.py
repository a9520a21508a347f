"""Every decision about a project, as a pure function of the answers and the catalog.

`make_plan()` validates the answers (raising `UvtorchError`s that name the bad value and what
would work), fills in defaults, and returns a `Plan`: what each accelerator extra contains,
where each package comes from, which overrides and uv settings are needed, and notes for the
user. Renderers only turn a Plan into text; nothing here does I/O.
"""


import re
from typing import NamedTuple
from urllib.parse import urlparse

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import Version

from uvtorch.answers import Answers
from uvtorch.catalog import Catalog, KnownBadMetadata, Release, UvFeature, variant_sort_key
from uvtorch.errors import BadSpec, NoBuild, UnknownAccelerator, UsageError
from uvtorch.names import (
    ExtraName,
    PackageName,
    extra_name,
    import_name,
    index_name,
    is_valid_project_name,
    package_name,
)
from uvtorch.platforms import environment_marker, marker_for

TORCH = PackageName("torch")
# A Python version uvtorch will never see in a torch release; used to tell whether a
# specifier has an upper bound.
_FAR_FUTURE = Version("999")
_PYTHON_FLOOR = Version("3.10")  # the oldest Python a new project should start from


class Package(NamedTuple):
    """A requirement in an accelerator extra, and whether the extra's index serves it."""

    name: PackageName
    requirement: str
    from_index: bool
    why: str = ""


class Extra(NamedTuple):
    """One accelerator: its extra, its index, and where that index has wheels."""

    accelerator: str
    name: ExtraName
    index_name: str
    url: str
    marker: str | None  # where the index is used; None means every target platform
    fallback: tuple[str, ...]  # target platforms with no wheel there: torch comes from PyPI
    packages: tuple[Package, ...]


class Plan(NamedTuple):
    """Everything the renderers need, decided."""

    answers: Answers  # resolved: defaults filled in, names normalized
    project: str
    package: str
    requires_python: str
    torch: str
    releases: tuple[Version, ...]  # the torch minors the spec admits
    extras: tuple[Extra, ...]
    overrides: tuple[KnownBadMetadata, ...]
    environments: tuple[str, ...]  # empty: resolve for every platform
    uv_features: tuple[UvFeature, ...]
    notes: tuple[str, ...]
    # `-a system` only: torch comes from the machine's environment, never from an index.
    dependencies: tuple[str, ...] = ()  # [project] dependencies
    excluded: tuple[str, ...] = ()  # packages the environment provides: kept out of the lock
    system: tuple[tuple[str, str | None], ...] = ()  # (name, expected version or None)

    @property
    def required_uv(self) -> Version:
        """The oldest uv that accepts every setting the project uses."""
        return max(f.min_uv for f in self.uv_features)


SYSTEM = "system"


def make_plan(answers: Answers, catalog: Catalog) -> Plan:
    """Validate `answers` against `catalog` and decide the whole project."""
    project = check_name(answers.name)
    if SYSTEM in (a.strip().lower() for a in answers.accelerators):
        return _system_plan(answers, project, catalog)
    accelerators = _accelerators(answers.accelerators or ("cpu",), catalog)
    targets = _platforms(answers.platforms, catalog)
    torch_spec, patches = check_torch(answers.torch, accelerators, catalog)
    releases = [r for r in catalog.releases if any(p in patches for p in r.patches)]
    python = check_python(answers.python, releases)
    index_url = _index_url(answers.index_url, catalog)
    notes: list[str] = []
    bounded = _FAR_FUTURE not in torch_spec
    family, dependents = _packages(answers.packages, patches, releases, bounded, catalog, notes)
    torch_req = f"torch{_spec_text(answers.torch) if answers.torch else minor_range(releases[-1].minor)}"
    extras = tuple(
        _extra(
            accelerator,
            torch_req,
            family,
            dependents,
            patches,
            releases,
            targets,
            index_url,
            catalog,
            notes,
        )
        for accelerator in accelerators
    )
    overrides = tuple(
        kb
        for kb in catalog.known_bad
        if kb.variant in accelerators and Version(kb.version.public) in patches
    )
    for kb in overrides:
        notes.append(f"Added a metadata override for {kb.name} {kb.version}: {kb.why}.")
    environments = (
        tuple(environment_marker(p, catalog.platforms) for p in targets)
        if answers.platforms
        else ()
    )
    features = ["required-version", "extra-sources", "explicit-index"]
    if len(extras) > 1:
        features.append("conflicts")
    if overrides:
        features.append("dependency-metadata")
    if environments:
        features += ["environments", "required-environments"]
    resolved = answers._replace(
        name=project,
        python=python,
        torch=torch_req.removeprefix("torch"),
        accelerators=accelerators,
        packages=tuple(sorted(p.requirement for p in (*family, *dependents))),
        platforms=tuple(targets) if answers.platforms else (),
        index_url=index_url,
    )
    return Plan(
        answers=resolved,
        project=project,
        package=import_name(project),
        requires_python=python,
        torch=torch_req,
        releases=tuple(r.minor for r in releases),
        extras=extras,
        overrides=overrides,
        environments=environments,
        uv_features=tuple(catalog.uv_features[f] for f in sorted(features)),
        notes=tuple(notes),
    )


def check_name(name: str) -> str:
    """The project name, if it is a valid distribution name."""
    if not is_valid_project_name(name):
        raise BadSpec(
            f"'{name}' is not a valid project name.",
            "Use letters, digits, '-', '_' and '.', starting and ending with a letter or "
            "digit (e.g. --name my-project).",
        )
    return name


def _accelerators(given: tuple[str, ...], catalog: Catalog) -> tuple[str, ...]:
    known = catalog.all_variants()
    chosen: list[str] = []
    for raw in given:
        accelerator = raw.strip().lower()
        if accelerator not in known:
            family = catalog.family_of(accelerator)
            same = [v for v in known if family and catalog.family_of(v) == family]
            hint = (
                f"Known {family} builds: {', '.join(same)}."
                if same
                else f"Known accelerators: {', '.join(known)}."
            )
            raise UnknownAccelerator(
                f"Unknown accelerator '{raw}': no PyTorch release in uvtorch's catalog has "
                "such a build.",
                hint,
            )
        if accelerator not in chosen:
            chosen.append(accelerator)
    return tuple(sorted(chosen, key=variant_sort_key))


def _platforms(given: tuple[str, ...], catalog: Catalog) -> tuple[str, ...]:
    for p in given:
        if p not in catalog.platforms:
            raise UsageError(
                f"Unknown platform '{p}'.",
                f"Choose from: {', '.join(catalog.platforms)}.",
            )
    if not given:
        return tuple(catalog.platforms)
    return tuple(p for p in catalog.platforms if p in given)


def _parse_spec(text: str, flag: str, example: str) -> SpecifierSet:
    try:
        spec = SpecifierSet(text)
    except InvalidSpecifier:
        raise BadSpec(
            f"{flag} '{text}' is not a valid version specifier.",
            f"Write a PEP 440 specifier such as '{example}'.",
        ) from None
    if not str(spec):
        raise BadSpec(f"{flag} is empty.", f"Write a PEP 440 specifier such as '{example}'.")
    return spec


def _spec_text(text: str) -> str:
    """A specifier as written by the user, normalized but in the user's order."""
    return ",".join(str(Specifier(part.strip())) for part in text.split(",") if part.strip())


def minor_range(minor: Version) -> str:
    """`>=X.Y,<X.Y+1`: every patch of one minor release."""
    return f">={minor.major}.{minor.minor},<{minor.major}.{minor.minor + 1}"


def _span(minors: list[Version]) -> str:
    if not minors:
        return "none"
    first, last = minors[0], minors[-1]
    return f"{first}" if first == last else f"{first} to {last}"


def check_torch(
    given: str | None, accelerators: tuple[str, ...], catalog: Catalog
) -> tuple[SpecifierSet, frozenset[Version]]:
    """The torch spec (given, or the newest release with every accelerator) and its patches."""
    if given is None:
        for release in reversed(catalog.releases):
            if all(release.patches_with(a) for a in accelerators):
                spec = SpecifierSet(minor_range(release.minor))
                return spec, frozenset(p for p in release.patches if p in spec)
        have = "; ".join(
            f"{a} exists for torch {_span([r.minor for r in catalog.releases if r.patches_with(a)])}"
            for a in accelerators
        )
        raise NoBuild(
            f"No torch release has a build for every accelerator you chose "
            f"({', '.join(accelerators)}): {have}.",
            "Drop one of them, or make separate projects.",
        )
    spec = _parse_spec(given, "--torch", ">=2.9,<2.10")
    if any("+" in s.version for s in spec):
        raise BadSpec(
            f"--torch '{given}' names a local version (the part after '+').",
            "Choose the build with -a/--accelerator and give only the release, e.g. "
            "--torch '==2.9.1' -a cu128.",
        )
    patches = frozenset(p for r in catalog.releases for p in r.patches if p in spec)
    if not patches:
        raise NoBuild(
            f"No torch release in uvtorch's catalog matches --torch '{given}'.",
            f"Known releases: {_span([r.minor for r in catalog.releases])} "
            f"(e.g. --torch '{minor_range(catalog.releases[-1].minor)}').",
        )
    for accelerator in accelerators:
        if not any(p in patches for r in catalog.releases for p in r.patches_with(accelerator)):
            with_it = [r.minor for r in catalog.releases if r.patches_with(accelerator)]
            matched = [r for r in catalog.releases if any(p in patches for p in r.patches)]
            offered = ", ".join(
                sorted({v for r in matched for v in r.variants}, key=variant_sort_key)
            )
            raise NoBuild(
                f"No torch release matching '{given}' has a {accelerator} build: "
                f"{accelerator} exists for torch {_span(with_it)}.",
                f"Builds of torch {_span([r.minor for r in matched])}: {offered}. Change "
                f"--torch or -a {accelerator}.",
            )
    return spec, patches


def check_python(given: str | None, releases: list[Release]) -> str:
    """requires-python: the given spec if the releases can satisfy it, else a default."""
    lowest = min(r.python_min for r in releases)
    highest = max(r.python_max for r in releases)
    if given is None:
        floor = max(lowest, _PYTHON_FLOOR)
        return f">={floor},<{highest.major}.{highest.minor + 1}"
    spec = _parse_spec(given, "--python", f">={max(lowest, _PYTHON_FLOOR)}")
    candidates = [Version(f"3.{minor}") for minor in range(0, 30)]
    allowed = [v for v in candidates if v in spec]
    supported = f"{lowest} to {highest}"
    torch_names = _span([r.minor for r in releases])
    if not allowed:
        raise BadSpec(f"--python '{given}' admits no Python 3 version.", "Try '>=3.10'.")
    if allowed[0] < lowest:
        raise NoBuild(
            f"--python '{given}' admits Python {allowed[0]}, but torch {torch_names} has "
            f"wheels for Python {supported} only, so uv could not lock the project.",
            f"Use --python '>={lowest}' (or newer).",
        )
    if allowed[0] > highest:
        raise NoBuild(
            f"--python '{given}' admits no Python that torch {torch_names} supports "
            f"({supported}).",
            f"Use --python '>={max(lowest, _PYTHON_FLOOR)}'.",
        )
    return _spec_text(given)


def _index_url(given: str | None, catalog: Catalog) -> str:
    url = (given or catalog.default_index_url).rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https", "file") or not (parsed.netloc or parsed.path):
        raise UsageError(
            f"--index-url '{given}' is not an http(s) or file URL.",
            f"Give the base of the PyTorch indexes, e.g. {catalog.default_index_url} "
            "(each accelerator's index is <base>/<id>).",
        )
    return url


_NAME_AND_EXTRAS = re.compile(r"^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?")


def written(req: Requirement, text: str) -> str:
    """A requirement as text, normalized, its specifiers in the order the user wrote them.

    packaging's own str() sorts specifiers; keeping the user's order makes a replayed answers
    file render the very same bytes as the project it came from.
    """
    if req.url:
        return str(req)
    head = text.split(";", 1)[0]
    specifiers = _NAME_AND_EXTRAS.sub("", head).strip().strip("()")
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    out = f"{req.name}{extras}{_spec_text(specifiers) if specifiers else ''}"
    if req.marker is not None:
        out += f"; {req.marker}"
    return out


def check_requirement(text: str) -> Requirement:
    """A parsed PEP 508 requirement."""
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0].rstrip(".")
        raise BadSpec(
            f"-p/--package '{text}' is not a valid requirement ({reason}).",
            "Write a PEP 508 requirement such as 'torchvision', 'ultralytics>=8.3' or "
            "'transformers[torch]'.",
        ) from None


def _packages(
    given: tuple[str, ...],
    patches: frozenset[Version],
    releases: list[Release],
    bounded: bool,
    catalog: Catalog,
    notes: list[str],
) -> tuple[tuple[Package, ...], tuple[Package, ...]]:
    """Split -p values into torch-family packages (matched to torch) and dependents."""
    family: dict[PackageName, Package] = {}
    dependents: dict[PackageName, Package] = {}
    requested: dict[PackageName, Requirement] = {}
    texts: dict[PackageName, str] = {}
    for text in given:
        req = check_requirement(text)
        name = package_name(req.name)
        if name == TORCH:
            raise UsageError(
                f"-p '{text}': torch is always part of each accelerator extra.",
                "Set its version with --torch (e.g. --torch '>=2.9,<2.10').",
            )
        if name in requested:
            raise UsageError(
                f"-p '{text}': {name} is listed twice.", "Give each package once."
            )
        requested[name] = req
        texts[name] = text
    needed = dict.fromkeys(n for n in requested if n in catalog.companions)
    for name in requested:
        dependent = catalog.dependents.get(name)
        if dependent is None:
            continue
        for companion in dependent.needs:
            if companion not in needed:
                needed[companion] = None
                notes.append(
                    f"Added {companion} to every extra: {dependent.why}, and it must come "
                    "from the same PyTorch index as torch."
                )
    for name in needed:
        family[name] = _companion(
            name, requested.get(name), texts.get(name, ""), patches, releases, bounded, catalog
        )
    for name, req in requested.items():
        if name not in family:
            dependents[name] = Package(name, written(req, texts[name]), from_index=False)
    order = sorted(family)
    return tuple(family[n] for n in order), tuple(dependents[n] for n in sorted(dependents))


def _companion(
    name: PackageName,
    req: Requirement | None,
    text: str,
    patches: frozenset[Version],
    releases: list[Release],
    bounded: bool,
    catalog: Catalog,
) -> Package:
    versions = sorted(
        {
            r.companions[name][p]
            for r in releases
            if name in r.companions
            for p in r.patches
            if p in patches and p in r.companions[name]
        }
    )
    torch_names = _span([r.minor for r in releases])
    if not versions:
        raise NoBuild(
            f"No {name} release is known to match torch {torch_names}.",
            f"Choose a torch release that has one, or drop -p {name}.",
        )
    on_index = catalog.companions[name].on_index
    if req is not None and req.specifier:
        if not any(v in req.specifier for v in versions):
            raise NoBuild(
                f"-p '{req}' excludes every {name} release that matches torch {torch_names} "
                f"({', '.join(map(str, versions))}).",
                f"Drop the version and uvtorch picks the matching one, or change --torch.",
            )
        return Package(name, written(req, text), from_index=on_index)
    low, high = versions[0], versions[-1]
    spec = f">={low}"
    if bounded:  # an open-ended torch spec must not cap its companions
        spec += f",<{high.major}.{high.minor + 1}"
    extras = f"[{','.join(sorted(req.extras))}]" if req is not None and req.extras else ""
    return Package(name, f"{name}{extras}{spec}", from_index=on_index)


def _extra(
    accelerator: str,
    torch_req: str,
    family: tuple[Package, ...],
    dependents: tuple[Package, ...],
    patches: frozenset[Version],
    releases: list[Release],
    targets: tuple[str, ...],
    index_url: str,
    catalog: Catalog,
    notes: list[str],
) -> Extra:
    newest = max(
        (r for r in releases if any(p in patches for p in r.patches_with(accelerator))),
        key=lambda r: r.minor,
    )
    served = [p for p in targets if p in newest.variants[accelerator]]
    if not served:
        raise NoBuild(
            f"torch {newest.minor} has no {accelerator} wheels for the target platforms "
            f"({', '.join(targets)}): only for {', '.join(newest.variants[accelerator])}.",
            f"Add --platform for one of those, or drop -a {accelerator}.",
        )
    fallback = tuple(p for p in targets if p not in served)
    marker = marker_for(served, targets, catalog.platforms)
    if fallback:
        builds = ", ".join(f"the {newest.pypi.get(p, 'default')} build on {p}" for p in fallback)
        notes.append(
            f"The {accelerator} index has no torch {newest.minor} wheels for "
            f"{', '.join(fallback)}; there the {extra_name(accelerator)} extra installs "
            f"PyPI's torch instead ({builds})."
        )
    packages = [Package(TORCH, torch_req, from_index=True)]
    packages += family
    family_name = catalog.family_of(accelerator)
    for companion in catalog.index_companions:
        if companion.family != family_name or newest.minor < companion.since:
            continue
        if companion.until is not None and newest.minor >= companion.until:
            continue
        where = [p for p in served if p in companion.platforms]
        if not where:
            continue
        needed_marker = marker_for(where, targets, catalog.platforms)
        text = companion.name + (f"; {needed_marker}" if needed_marker else "")
        packages.append(Package(companion.name, text, from_index=True, why=companion.why))
    packages += dependents
    return Extra(
        accelerator=accelerator,
        name=extra_name(accelerator),
        index_name=index_name(accelerator),
        url=f"{index_url}/{accelerator}",
        marker=marker,
        fallback=fallback,
        packages=tuple(packages),
    )




def _system_pins(answers: Answers) -> dict[PackageName, str | None]:
    pins: dict[PackageName, str | None] = {}
    for text in answers.system:
        req = check_requirement(text)
        exact = [s.version for s in req.specifier if s.operator == "=="]
        pins[package_name(req.name)] = exact[0] if exact else None
    return pins


def _system_plan(answers: Answers, project: str, catalog: Catalog) -> Plan:
    """A project that uses the torch already installed (a container image's), never another.

    uv's `exclude-dependencies` keeps torch and the image's torch-family packages out of the
    lock, so no dependent can pull a second torch. It applies to the whole project, which is
    why `system` cannot share a project with index-built accelerators.
    """
    others = [a for a in answers.accelerators if a.strip().lower() != SYSTEM]
    if others:
        raise UsageError(
            f"-a system cannot be combined with -a {' -a '.join(others)}.",
            "uv keeps the image's torch out of the lock with exclude-dependencies, which "
            "applies to the whole project, not to one extra; make a separate project for the "
            "image.",
        )
    pins = _system_pins(answers)
    torch_version = pins.get(TORCH)
    if TORCH not in pins or torch_version is None:
        raise UsageError(
            "-a system needs the version of the installed torch.",
            "Run init with the image's interpreter (--python-executable PATH) or give "
            "--system-torch VERSION (e.g. 2.5.0a0+872d972e41.nv24.08).",
        )
    minor = Version(f"{Version(torch_version).major}.{Version(torch_version).minor}")
    releases = [r for r in catalog.releases if r.minor == minor] or [catalog.releases[-1]]
    python = answers.python and check_python(answers.python, releases)
    python = python or check_python(None, releases)
    notes: list[str] = []
    dependents: list[str] = []
    for text in answers.packages:
        req = check_requirement(text)
        name = package_name(req.name)
        if name == TORCH:
            raise UsageError(
                f"-p '{text}': with -a system, torch is the one installed in the image.",
                "Drop -p torch.",
            )
        if name in catalog.companions:
            if name not in pins:
                raise NoBuild(
                    f"-p {name}: the environment has no {name}, and a build from an index "
                    f"would not match its torch {torch_version}.",
                    f"Install {name} in the image (then run init again), or drop -p {name}.",
                )
            continue
        dependents.append(written(req, text))
        dependent = catalog.dependents.get(name)
        for needed in dependent.needs if dependent else ():
            if needed not in pins:
                raise NoBuild(
                    f"-p {name}: {dependent.why}, and the environment has no {needed}; "  # type: ignore[union-attr]
                    f"one from PyPI would not match torch {torch_version}.",
                    f"Install {needed} in the image; with --system-torch, add -p {needed} if "
                    "the image has it.",
                )
    excluded = tuple(sorted(pins))
    notes.append(
        f"torch {torch_version} comes from the environment; {', '.join(excluded)} "
        "are kept out of the lock (exclude-dependencies)."
    )
    resolved = answers._replace(
        name=project,
        python=python,
        torch=None,
        accelerators=(SYSTEM,),
        packages=tuple(sorted(dependents)),
        platforms=(),
        index_url=None,
        system=tuple(
            f"{n}=={v}" if v else str(n) for n, v in sorted(pins.items())
        ),
    )
    return Plan(
        answers=resolved,
        project=project,
        package=import_name(project),
        requires_python=python,
        torch=f"torch=={torch_version}",
        releases=(minor,),
        extras=(),
        overrides=(),
        environments=(),
        uv_features=tuple(
            catalog.uv_features[f] for f in ("exclude-dependencies", "required-version")
        ),
        notes=tuple(notes),
        dependencies=tuple(sorted(dependents)),
        excluded=excluded,
        system=tuple(sorted(pins.items())),
    )
