"""Every decision about a project, as a pure function of the answers and the catalog.

`make_plan()` validates the answers (raising `UvtorchError`s that name the bad value and what
would work), fills in defaults, and returns a `Plan`: what each accelerator extra contains,
where each package comes from, which overrides and uv settings are needed, and notes for the
user. Renderers only turn a Plan into text; nothing here does I/O.
"""


import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlparse

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import Version

from uvtorch.answers import Answers
from uvtorch.catalog import Catalog, KnownBadMetadata, Release, UvFeature, variant_sort_key

if TYPE_CHECKING:
    from uvtorch.kernels import Recipe
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
from uvtorch.system import SYSTEM, SYSTEM_LAYOUTS

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
    page: str | None = None  # another explicit index that serves it (a flat wheel page)


class Extra(NamedTuple):
    """One accelerator: its extra, its index, and where that index has wheels."""

    accelerator: str
    name: ExtraName
    index_name: str
    url: str
    marker: str | None  # where the index is used; None means every target platform
    fallback: tuple[str, ...]  # target platforms with no wheel there: torch comes from PyPI
    packages: tuple[Package, ...]


class KernelBuild(NamedTuple):
    """uv build settings for one kernel: built against the torch of the extra being synced."""

    name: PackageName  # as listed in the extras
    package: PackageName  # the distribution uv builds (the key of the build settings)
    build_requires: tuple[str, ...]
    match_torch: bool
    variables: tuple[tuple[str, str], ...]
    git: tuple[str, str] | None  # (url, rev)
    metadata: tuple[str, tuple[str, ...], str | None] | None  # version, requires-dist, python
    why: str
    known: bool


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
    # system next to index extras: (package, the image's packages it must not pull)
    excluded_from: tuple[tuple[PackageName, tuple[str, ...]], ...] = ()
    system: tuple[tuple[str, str | None], ...] = ()  # (name, expected version or None)
    kernels: tuple[KernelBuild, ...] = ()
    flat_indexes: tuple[tuple[str, str], ...] = ()  # (name, url) of wheel pages for kernels

    @property
    def required_uv(self) -> Version:
        """The oldest uv that accepts every setting the project uses."""
        return max(f.min_uv for f in self.uv_features)


def make_plan(answers: Answers, catalog: Catalog) -> Plan:
    """Validate `answers` against `catalog` and decide the whole project."""
    answers, moved = _kernels_given_as_packages(answers)
    _refuse_self_dependency(answers)
    plan = _make_plan(answers, catalog)
    if not moved:
        return plan
    note = (
        f"{', '.join(moved)} {'is a kernel' if len(moved) == 1 else 'are kernels'} (built "
        "against torch), so uvtorch gave it the kernel recipe of -k: torch at build time "
        "and only the extras it can be built for. Next time pass it with -k."
    )
    return plan._replace(notes=(note, *plan.notes))


def _refuse_self_dependency(answers: Answers) -> None:
    """A project named like a package it depends on (`init torch`) cannot be locked."""
    own = package_name(answers.name) if is_valid_project_name(answers.name) else None
    if own is None:
        return
    needed = {TORCH, *(package_name(check_requirement(t).name) for t in (*answers.packages, *answers.kernels))}
    if own in needed:
        raise BadSpec(
            f"A project named '{answers.name}' would depend on itself: every accelerator extra "
            f"needs the package {own}, and uv cannot lock a project that requires its own name.",
            "Choose another name with --name (e.g. --name my-" + own + ").",
        )


def _kernels_given_as_packages(answers: Answers) -> tuple[Answers, list[str]]:
    """Move known kernels that arrived as --package into the kernels, once.

    A plain `flash-attn` in every extra (cpu included) with no build recipe is a project
    `uvtorch check` rejects; the user meant the kernel.
    """
    if not answers.packages:
        return answers, []
    from uvtorch import kernels as k

    recipes = k.load_kernels().recipes
    kept: list[str] = []
    moved: list[str] = []
    given_kernels = {package_name(check_requirement(t).name) for t in answers.kernels}
    for text in answers.packages:
        name = package_name(check_requirement(text).name)
        recipe = recipes.get(name)
        if recipe is not None and recipe.needs_torch:
            if name not in given_kernels:
                moved.append(text)
            continue
        kept.append(text)
    if not moved and len(kept) == len(answers.packages):
        return answers, []
    return answers._replace(packages=tuple(kept), kernels=(*answers.kernels, *moved)), moved


def _make_plan(answers: Answers, catalog: Catalog) -> Plan:
    project = check_name(answers.name)
    chosen = [a.strip().lower() for a in answers.accelerators]
    if SYSTEM in chosen:
        if any(a != SYSTEM for a in chosen):
            return _combined_plan(answers, project, catalog)
        return _system_plan(answers, project, catalog)
    # What an earlier -a system project recorded means nothing for index builds.
    answers = answers._replace(system=(), system_layout=None)
    if answers.nightly_date and answers.channel != "nightly":
        raise UsageError(
            "--nightly-date pins a nightly build, but the channel is not nightly.",
            "Add --channel nightly.",
        )
    if answers.channel not in (None, "stable"):
        return _channel_plan(answers, project, catalog)
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
    _build_notes(accelerators, family, releases, answers.platforms, catalog, notes)
    overrides = tuple(
        kb
        for kb in catalog.known_bad
        if kb.variant in accelerators and Version(kb.version.public) in patches
    )
    for kb in overrides:
        notes.append(f"Added a metadata override for {kb.name} {kb.version}: {kb.why}.")
    environments = _environments(answers, targets, catalog)
    extras, kernels, flat = _kernels(answers, extras, patches, releases, targets, catalog, notes)
    resolved = answers._replace(
        name=project,
        python=python,
        torch=torch_req.removeprefix("torch"),
        accelerators=accelerators,
        # What the user asked for, not the pins derived from it: a replay with another
        # --torch derives the companions' versions again.
        packages=chosen_packages(answers.packages),
        platforms=tuple(targets) if answers.platforms else (),
        index_url=index_url,
        kernels=tuple(k.name for k in kernels) if kernels else (),
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
        uv_features=_uv_features(catalog, extras, kernels, overrides, environments, flat),
        notes=tuple(notes),
        kernels=kernels,
        flat_indexes=flat,
    )


def _environments(answers: Answers, targets: tuple[str, ...], catalog: Catalog) -> tuple[str, ...]:
    """`tool.uv.environments` for --platform; empty (every platform) without it."""
    if not answers.platforms:
        return ()
    return tuple(environment_marker(p, catalog.platforms) for p in targets)


def _uv_features(
    catalog: Catalog,
    extras: tuple[Extra, ...],
    kernels: tuple[KernelBuild, ...],
    overrides: tuple[KnownBadMetadata, ...],
    environments: tuple[str, ...],
    flat: tuple[tuple[str, str], ...],
) -> tuple[UvFeature, ...]:
    """The uv settings a project uses, for its required-version."""
    features = {"required-version", "extra-sources", "explicit-index"}
    if len(extras) > 1:
        features.add("conflicts")
    if any(k.match_torch or k.build_requires for k in kernels):
        features.add("extra-build-dependencies")
    if any(k.variables for k in kernels):
        features.add("extra-build-variables")
    if overrides or any(k.metadata for k in kernels):
        features.add("dependency-metadata")
    if flat:
        features.add("flat-index")
    if environments:
        features |= {"environments", "required-environments"}
    return tuple(catalog.uv_features[f] for f in sorted(features))


def _kernels(
    answers: Answers,
    extras: tuple[Extra, ...],
    patches: frozenset[Version],
    releases: list[Release],
    targets: tuple[str, ...],
    catalog: Catalog,
    notes: list[str],
) -> tuple[tuple[Extra, ...], tuple[KernelBuild, ...], tuple[tuple[str, str], ...]]:
    """Add each -k kernel to the extras it can serve and decide its build settings."""
    if not answers.kernels:
        if answers.cuda_archs or answers.gpus:
            raise UsageError(
                "--cuda-arch and --gpu choose what kernels are built for, but no -k kernel "
                "was given.",
                "Add -k NAME (e.g. -k flash-attn), or drop --cuda-arch/--gpu.",
            )
        return extras, (), ()
    from uvtorch import kernels as k

    data = k.load_kernels()
    family = {e.accelerator: catalog.family_of(e.accelerator) for e in extras}
    builds: list[KernelBuild] = []
    flat: dict[str, str] = {}
    added: dict[str, list[Package]] = {e.accelerator: [] for e in extras}
    cuda_targets, rocm_targets = k.resolve_targets(answers.cuda_archs, answers.gpus, data)
    seen: set[str] = set()
    for raw in answers.kernels:
        name = package_name(check_requirement(raw).name)
        if name in seen:
            raise UsageError(f"-k {raw} is listed twice.", "Give each kernel once.")
        seen.add(name)
        recipe = data.recipes.get(name) or k.generic_recipe(raw, data)
        if not recipe.known:
            notes.append(
                f"{raw} is not in uvtorch's catalog, so its recipe is a guess: torch at build "
                "time plus setuptools, wheel and ninja, for CUDA and ROCm extras. Tune "
                f"[tool.uv.extra-build-dependencies] and [tool.uv.extra-build-variables] for "
                f"{recipe.build_package} if its build needs more."
            )
        if not recipe.needs_torch:
            notes.append(f"{name} needs no build settings: {recipe.why}.")
        served = [e for e in extras if family[e.accelerator] in recipe.families]
        if not served:
            raise NoBuild(
                f"-k {raw} builds for {', '.join(recipe.families)} accelerators; you chose "
                f"{', '.join(e.accelerator for e in extras)}.",
                f"Add a {recipe.families[0]} accelerator (e.g. -a cu128) or drop -k {raw}.",
            )
        source = k.pick_source(recipe, patches)
        if source is not recipe.sources[0]:
            notes.append(f"{name}: {source.why}.")
        cuda_variants = [e.accelerator for e in served if family[e.accelerator] == "cuda"]
        rocm_served = any(family[e.accelerator] == "rocm" for e in served)
        chosen_cuda = cuda_targets or k.default_targets(cuda_variants, data)
        k.check_buildable(chosen_cuda, cuda_variants, data)
        pin = f"=={source.metadata_version}" if recipe.emit_metadata and source.metadata_version else ""
        for extra in served:
            where = [p for p in targets if p not in extra.fallback]
            if recipe.platforms is not None:
                where = [p for p in where if p in recipe.platforms]
            if not where:
                notes.append(f"{name} has no build for the platforms the {extra.name} extra serves")
                continue
            marker = marker_for(where, targets, catalog.platforms)
            text = f"{recipe.requirement}{pin}" + (f"; {marker}" if marker else "")
            on_index, flat_index = _prebuilt(recipe, extra, releases, flat, notes)
            added[extra.accelerator].append(
                Package(name, text, from_index=on_index, why=recipe.why, page=flat_index)
            )
            cuda = k.toolkit_of(extra.accelerator)
            extra_req = recipe.per_cuda_major.get(f"cu{cuda.split('.')[0]}") if cuda else None
            if extra_req:
                extra_text = extra_req.format(metadata_version=source.metadata_version)
                if marker:
                    extra_text += f"; {marker}"
                added[extra.accelerator].append(
                    Package(package_name(extra_text.split("=")[0]), extra_text, from_index=False)
                )
        variables: dict[str, str] = {}
        if cuda_variants:
            value, dropped = k.arch_value(recipe, chosen_cuda)
            if cuda_targets and value is None and recipe.arch_variable and recipe.arch_values:
                # The user named GPUs, and the kernel can be built for none of them.
                raise NoBuild(
                    f"-k {raw} cannot be built for the GPUs given ({', '.join(cuda_targets)}): "
                    f"{'; '.join(dropped)}.",
                    f"{recipe.name} builds for compute capabilities "
                    f"{', '.join(f'{v[:-1]}.{v[-1]}' for v in recipe.arch_values)}; give "
                    "--cuda-arch for one of those, or drop -k " + raw + ".",
                )
            notes += dropped
            if value and recipe.arch_variable:
                variables[recipe.arch_variable] = value
            conditional, why_not = k.conditional_variables(recipe, chosen_cuda)
            variables.update(conditional)
            notes += why_not
        if rocm_served and recipe.rocm_arch_variable:
            variables[recipe.rocm_arch_variable] = ";".join(
                rocm_targets or data.defaults["rocm_targets"]
            )
        variables.update(recipe.variables)
        families = {family[e.accelerator] for e in served}
        per_family = [recipe.family_variables.get(f or "", {}) for f in sorted(f or "" for f in families)]
        merged: dict[str, str] = {}
        for group in per_family:
            for key, value in group.items():
                if merged.get(key, value) != value:
                    notes.append(
                        f"{name}: {key} differs between your accelerators ({merged[key]} vs "
                        f"{value}) and uv's build variables cannot vary per extra; left unset."
                    )
                    merged[key] = ""
                else:
                    merged[key] = value
        variables.update({key: value for key, value in merged.items() if value})
        if recipe.jobs_variable:
            variables[recipe.jobs_variable] = str(data.defaults["max_jobs"])
        builds.append(
            KernelBuild(
                name=name,
                package=recipe.build_package,
                build_requires=source.build_requires,
                match_torch=recipe.needs_torch,
                variables=tuple(variables.items()),
                git=(source.git, source.rev) if source.kind == "git" and source.git and source.rev else None,
                metadata=(
                    (source.metadata_version, source.metadata_requires_dist,
                     source.metadata_requires_python)
                    if recipe.emit_metadata and source.metadata_version
                    else None
                ),
                why=recipe.why if source is recipe.sources[0] else source.why,
                known=recipe.known,
            )
        )
    extras = tuple(
        e._replace(packages=e.packages + tuple(added[e.accelerator])) for e in extras
    )
    return extras, tuple(builds), tuple(flat.items())


def _prebuilt(
    recipe: "Recipe", extra: Extra, releases: list[Release], flat: dict[str, str], notes: list[str]
) -> tuple[bool, str | None]:
    """Whether the kernel's wheels come from the extra's own PyTorch index or a flat page."""
    for prebuilt in recipe.prebuilt:
        if extra.accelerator not in prebuilt.variants:
            continue
        if prebuilt.kind == "pytorch-index":
            return True, None
        if prebuilt.kind == "flat-index" and prebuilt.url_template and prebuilt.index_name:
            if len(releases) != 1:
                notes.append(
                    f"{recipe.name}: its wheel pages are per torch minor, and your torch spec "
                    "spans several, so it is built from source."
                )
                return False, None
            minor = releases[0].minor
            name = f"{prebuilt.index_name}-{extra.name}"
            flat[name] = prebuilt.url_template.format(
                torch_major=minor.major, torch_minor=minor.minor, variant=extra.accelerator
            )
            return False, name
    return False, None


def check_name(name: str) -> str:
    """The project name, if it is a valid distribution name."""
    if not is_valid_project_name(name):
        raise BadSpec(
            f"{name!r} is not a valid project name.",
            "Use letters, digits, '-', '_' and '.', starting and ending with a letter or "
            "digit (e.g. --name my-project).",
        )
    return name


def check_accelerators(given: Sequence[str], catalog: Catalog) -> tuple[str, ...]:
    """Accelerator ids the catalog knows, normalized; an unknown one is an error."""
    return _accelerators(tuple(given), catalog)


def check_platforms(given: Sequence[str], catalog: Catalog) -> tuple[str, ...]:
    """Platform ids the catalog knows; an unknown one is an error."""
    return _platforms(tuple(given), catalog)


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


_BARE_VERSION = re.compile(r"^\d+(\.\d+){0,2}$")
_LOOKS_LIKE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._-]*(\[.*\])?([<>=!~;].*)?$")


def check_python(given: str | None, releases: list[Release]) -> str:
    """requires-python: the given spec if the releases can satisfy it, else a default."""
    lowest = min(r.python_min for r in releases)
    highest = max(r.python_max for r in releases)
    if given is None:
        floor = max(lowest, _PYTHON_FLOOR)
        return f">={floor},<{highest.major}.{highest.minor + 1}"
    if _BARE_VERSION.match(given.strip()):  # `uv init -p 3.12` means requires-python >=3.12
        given = f">={given.strip()}"
    elif _LOOKS_LIKE_NAME.match(given.strip()):
        raise BadSpec(
            f"-p/--python '{given}' is not a Python version specifier: -p means --python here, as in uv.",
            f"To add the package, use --package {given.strip()}; for requires-python write "
            "a version such as 3.12 or '>=3.11,<3.14'.",
        )
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
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise UsageError(
            f"--index-url {given!r} contains spaces or control characters, which would be "
            "written into pyproject.toml as a URL no tool can use.",
            f"Give the base of the PyTorch indexes, e.g. {catalog.default_index_url} "
            "(percent-encode a space as %20).",
        )
    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018 - a port that is not a number raises ValueError
    except ValueError as exc:
        raise UsageError(
            f"--index-url '{given}' does not parse as a URL ({exc}).",
            f"Give the base of the PyTorch indexes, e.g. {catalog.default_index_url}.",
        ) from None
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


def chosen_packages(given: tuple[str, ...]) -> tuple[str, ...]:
    """The --package answers as the user gave them, normalized and sorted, for .uvtorch.toml."""
    return tuple(sorted(written(check_requirement(t), t) for t in given))


def check_package(text: str) -> Requirement:
    """A --package value: a requirement other than torch itself (torch comes from --torch)."""
    req = check_requirement(text)
    if package_name(req.name) == TORCH:
        raise UsageError(
            f"--package '{text}': torch is always part of each accelerator extra.",
            "Set its version with --torch (e.g. --torch '>=2.9,<2.10').",
        )
    return req


def check_requirement(text: str) -> Requirement:
    """A parsed PEP 508 requirement; a bare version (a mistyped `-p 3.12`) is refused."""
    if _BARE_VERSION.match(text.strip()):
        raise BadSpec(
            f"--package '{text}' looks like a Python version, not a package.",
            f"For requires-python use --python {text.strip()} (or -p {text.strip()}, as in uv).",
        )
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0].rstrip(".")
        raise BadSpec(
            f"--package '{text}' is not a valid requirement ({reason}).",
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
    """Split --package values into torch-family packages (matched to torch) and dependents."""
    family: dict[PackageName, Package] = {}
    dependents: dict[PackageName, Package] = {}
    requested: dict[PackageName, Requirement] = {}
    texts: dict[PackageName, str] = {}
    for text in given:
        req = check_package(text)
        name = package_name(req.name)
        if name in requested:
            raise UsageError(
                f"--package '{text}': {name} is listed twice.", "Give each package once."
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
            f"Choose a torch release that has one, or drop --package {name}.",
        )
    on_index = catalog.companions[name].on_index
    if req is not None and req.specifier:
        if not any(v in req.specifier for v in versions):
            raise NoBuild(
                f"--package '{req}' excludes every {name} release that matches torch {torch_names} "
                f"({', '.join(map(str, versions))}).",
                "Drop the version and uvtorch picks the matching one, or change --torch.",
            )
        return Package(name, written(req, text), from_index=on_index)
    low, high = versions[0], versions[-1]
    spec = f">={low}"
    if bounded:  # an open-ended torch spec must not cap its companions
        spec += f",<{high.major}.{high.minor + 1}"
    extras = f"[{','.join(sorted(req.extras))}]" if req is not None and req.extras else ""
    return Package(name, f"{name}{extras}{spec}", from_index=on_index)


def _build_notes(
    accelerators: tuple[str, ...],
    family: tuple[Package, ...],
    releases: list[Release],
    platforms: tuple[str, ...],
    catalog: Catalog,
    notes: list[str],
) -> None:
    """Facts about PyPI's wheels that the extras cannot fix: say them (macOS only when the
    user names it among the platforms)."""
    for package in family:
        build = catalog.companions[package.name].pypi_build
        if package.from_index or build is None:
            continue
        other = [a for a in accelerators if not a.startswith(build)]
        if other:
            notes.append(
                f"{package.name} comes from PyPI, whose wheel is a {build} (CUDA 13) build: in the "
                f"{', '.join(extra_name(a) for a in other)} extras its compiled kernels do not "
                f"load (its Python API still works). A {package.name} from the variant's own "
                "index, where one exists, has them."
            )
    if "macos-arm64" in platforms:
        newest = [r for r in releases if r.macos_min]
        if newest:
            oldest = min(r.minor for r in newest)
            notes.append(
                f"torch {oldest} and newer install on macOS {newest[0].macos_min} or newer only "
                f"(PyPI's macOS wheels); for macOS 13, use --torch '<{oldest}'."
            )


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
        if companion.variants and accelerator not in companion.variants:
            continue
        where = [p for p in served if p in companion.platforms]
        if not where:
            continue
        needed_marker = marker_for(where, targets, catalog.platforms)
        text = (companion.requirement or companion.name) + (
            f"; {needed_marker}" if needed_marker else ""
        )
        packages.append(Package(companion.name, text, from_index=True, why=companion.why))
        if companion.note and companion.note not in notes:
            notes.append(companion.note)
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


class _SystemPart(NamedTuple):
    """What a `-a system` answer contributes, validated: the image's packages and dependents."""

    pins: dict[PackageName, str | None]  # torch-family name -> the image's version
    torch_version: str
    minor: Version
    dependents: tuple[str, ...]  # requirements of the other packages (-p), sorted
    dependent_names: tuple[PackageName, ...]  # their names, in the same order


def _system_part(answers: Answers, catalog: Catalog, *, beside_index_builds: bool) -> _SystemPart:
    if answers.system_layout is not None and answers.system_layout not in SYSTEM_LAYOUTS:
        raise UsageError(
            f"Unknown system layout '{answers.system_layout}'.",
            f"Use one of: {', '.join(SYSTEM_LAYOUTS)} (where the image keeps its torch).",
        )
    if answers.kernels and not beside_index_builds:
        raise UsageError(
            f"-k {' -k '.join(answers.kernels)} cannot be used with -a system alone.",
            "uvtorch builds kernels against the torch in uv.lock (extra-build-dependencies "
            "with match-runtime), and the image's torch is never in the lock. Drop -k and "
            "use the image's build (NGC images ship flash-attn, transformer-engine and apex), "
            "or build it against the image's torch inside the project's environment "
            "(uv pip install --no-build-isolation NAME); beside a GPU build (-a cu128 -a "
            "system) the kernel is built for that extra.",
        )
    pins = _system_pins(answers)
    torch_version = pins.get(TORCH)
    if TORCH not in pins or torch_version is None:
        raise UsageError(
            "-a system needs the version of the installed torch.",
            "Run init with the image's interpreter (--python-executable PATH) or give "
            "--system-torch VERSION (e.g. 2.5.0a0+872d972e41.nv24.08).",
        )
    dependents: list[str] = []
    names: list[PackageName] = []
    for text in answers.packages:
        req = check_requirement(text)
        name = package_name(req.name)
        if name == TORCH:
            raise UsageError(
                f"--package '{text}': with -a system, torch is the one installed in the image.",
                "Drop --package torch.",
            )
        if name in catalog.companions:
            if name not in pins:
                raise NoBuild(
                    f"--package {name}: the environment has no {name}, and a build from an index "
                    f"would not match its torch {torch_version}.",
                    f"Install {name} in the image (then run init again), or drop --package {name}.",
                )
            continue
        dependents.append(written(req, text))
        names.append(name)
        dependent = catalog.dependents.get(name)
        for needed in dependent.needs if dependent else ():
            if needed not in pins:
                raise NoBuild(
                    f"--package {name}: {dependent.why}, and the environment has no {needed}; "  # type: ignore[union-attr]
                    f"one from PyPI would not match torch {torch_version}.",
                    f"Install {needed} in the image; with --system-torch, add --package {needed} if "
                    "the image has it.",
                )
    version = Version(torch_version)
    pairs = sorted(zip(dependents, names, strict=True))
    return _SystemPart(
        pins=pins,
        torch_version=torch_version,
        minor=Version(f"{version.major}.{version.minor}"),
        dependents=tuple(text for text, _ in pairs),
        dependent_names=tuple(name for _, name in pairs),
    )


def _system_answers(part: _SystemPart) -> tuple[str, ...]:
    """The image's packages as answers record them (name==version)."""
    return tuple(f"{n}=={v}" if v else str(n) for n, v in sorted(part.pins.items()))


def _system_plan(answers: Answers, project: str, catalog: Catalog) -> Plan:
    """A project that uses the torch already installed (a container image's), never another.

    uv's `exclude-dependencies` keeps torch and the image's torch-family packages out of the
    lock, so no dependent can pull a second torch.
    """
    part = _system_part(answers, catalog, beside_index_builds=False)
    targets = _platforms(answers.platforms, catalog)
    environments = _environments(answers, targets, catalog)  # --platform, as for index builds
    releases = [r for r in catalog.releases if r.minor == part.minor] or [catalog.releases[-1]]
    python = answers.python and check_python(answers.python, releases)
    python = python or check_python(None, releases)
    excluded = tuple(sorted(part.pins))
    notes = [
        f"torch {part.torch_version} comes from the environment; {', '.join(excluded)} "
        f"{'is' if len(excluded) == 1 else 'are'} kept out of the lock (exclude-dependencies)."
    ]
    resolved = answers._replace(
        name=project,
        python=python,
        torch=None,
        accelerators=(SYSTEM,),
        packages=part.dependents,
        platforms=tuple(targets) if answers.platforms else (),
        index_url=None,
        system=_system_answers(part),
    )
    return Plan(
        answers=resolved,
        project=project,
        package=import_name(project),
        requires_python=python,
        torch=f"torch=={part.torch_version}",
        releases=(part.minor,),
        extras=(),
        overrides=(),
        environments=environments,
        uv_features=tuple(
            catalog.uv_features[f]
            for f in ("exclude-dependencies", "required-version",
                      *(("environments", "required-environments") if environments else ()))
        ),
        notes=tuple(notes),
        dependencies=part.dependents,
        excluded=excluded,
        system=tuple(sorted(part.pins.items())),
    )


def _combined_plan(answers: Answers, project: str, catalog: Catalog) -> Plan:
    """Index accelerators plus a `system` extra that uses the image's torch.

    uv cannot exclude a package for one extra, but it can drop named packages' requirements
    on torch (`exclude-dependencies` entries scoped to a package). The system extra lists the
    other packages only; each of them, and every package the catalog knows they pull torch
    through, loses its requirements on the image's packages. The index extras list torch and
    its companions themselves, so they keep them. A dependency the catalog does not know
    could still pull PyPI's torch into the system extra: `uvtorch check` finds that in the
    lock and names the package to add. Kernels (-k) are built for the index extras only; the
    system extra uses the image's.
    """
    part = _system_part(answers, catalog, beside_index_builds=True)
    others = tuple(a for a in answers.accelerators if a.strip().lower() != SYSTEM)
    index_plan = make_plan(answers._replace(accelerators=others), catalog)
    excluded = tuple(sorted(part.pins))
    through: list[PackageName] = []
    for name in part.dependent_names:
        dependent = catalog.dependents.get(name)
        for carrier in (name, *(dependent.pulls_torch_through if dependent else ())):
            if carrier not in through:
                through.append(carrier)
    system_extra = Extra(
        accelerator=SYSTEM,
        name=ExtraName(SYSTEM),
        index_name="",
        url="",
        marker=None,
        fallback=(),
        packages=tuple(
            Package(name=n, requirement=r, from_index=False)
            for n, r in zip(part.dependent_names, part.dependents, strict=True)
        ),
    )
    notes = [*index_plan.notes, f"The {SYSTEM} extra uses the environment's torch {part.torch_version}."]
    if through:
        notes.append(
            f"{', '.join(through)} lose their requirements on {', '.join(excluded)} (scoped "
            "exclude-dependencies). After uv lock, uvtorch check finds any other dependency "
            f"that would pull PyPI's torch into the {SYSTEM} extra."
        )
    resolved = index_plan.answers._replace(
        accelerators=(*index_plan.answers.accelerators, SYSTEM),
        system=_system_answers(part),
        system_layout=answers.system_layout,
        python_executable=answers.python_executable,
    )
    features = {f.what: f for f in index_plan.uv_features}
    for key in ("scoped-exclude-dependencies", "conflicts"):
        features[catalog.uv_features[key].what] = catalog.uv_features[key]
    return index_plan._replace(
        answers=resolved,
        extras=(*index_plan.extras, system_extra),
        uv_features=tuple(features.values()),
        notes=tuple(notes),
        system=tuple(sorted(part.pins.items())),
        excluded_from=tuple((n, excluded) for n in through),
    )


def _channel_plan(answers: Answers, project: str, catalog: Catalog) -> Plan:
    """A project on the nightly or test channel: its own indexes and pre-release torch.

    PyPI has no pre-release torch, so a platform the channel's index has no build for gets no
    torch at all from that extra (a marker on the requirement) instead of a PyPI fallback,
    which could never satisfy the pre-release spec.
    """
    channel = catalog.channels.get(answers.channel or "")
    if channel is None:
        raise UsageError(
            f"Unknown channel '{answers.channel}'.",
            f"Choose stable, {', '.join(catalog.channels)}.",
        )
    known = tuple(channel.variants)
    accelerators: list[str] = []
    for raw in answers.accelerators or ("cpu",):
        accelerator = raw.strip().lower()
        if accelerator not in known:
            raise NoBuild(
                f"The {channel.name} channel has no {accelerator} build.",
                f"Its builds: {', '.join(sorted(known, key=variant_sort_key))}.",
            )
        accelerators.append(accelerator)
    accelerators = sorted(dict.fromkeys(accelerators), key=variant_sort_key)
    targets = _platforms(answers.platforms, catalog)
    if answers.nightly_date:
        if not re.fullmatch(r"20\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])", answers.nightly_date):
            raise BadSpec(
                f"--nightly-date '{answers.nightly_date}' is not a date as YYYYMMDD.",
                "e.g. --nightly-date 20261120.",
            )
        version = channel.version_on(answers.nightly_date) or ""
        torch_req = "torch" + (channel.pin or "==").format(
            version=version, date=answers.nightly_date
        )
    else:
        torch_req = "torch" + (_spec_text(answers.torch) if answers.torch else channel.torch)
    shape = [Release(Version("0"), (), channel.python_min, channel.python_max, {}, {}, {}, {})]
    python = check_python(answers.python, shape)
    index_url = _index_url(answers.index_url, catalog)
    notes = [
        f"{channel.name} builds come and go: a nightly disappears from the index after a while, "
        "so a lock made today may not sync in a few months (pin one with --nightly-date)."
    ]
    companions: list[str] = []
    dependents: list[Package] = []
    for text in answers.packages:
        req = check_requirement(text)
        name = package_name(req.name)
        if name == TORCH:
            raise UsageError(f"--package '{text}': torch is always in each extra.", "Drop --package torch.")
        if name in catalog.companions and catalog.companions[name].on_index:
            companions.append(name)
        else:
            dependents.append(Package(name, written(req, text), from_index=False))
    linux = [p for p in catalog.platforms if catalog.platforms[p].os_marker == "sys_platform == 'linux'"]
    extras = []
    for accelerator in accelerators:
        served = [p for p in targets if p in channel.variants[accelerator]]
        if not served:
            raise NoBuild(
                f"The {channel.name} {accelerator} build has no wheels for "
                f"{', '.join(targets)}.",
                f"It has: {', '.join(channel.variants[accelerator])}.",
            )
        missing = tuple(p for p in targets if p not in served)
        marker = marker_for(served, targets, catalog.platforms)
        if missing:
            notes.append(
                f"The {channel.name} {accelerator} index has no builds for {', '.join(missing)}: "
                f"there the {extra_name(accelerator)} extra installs no torch."
            )
        with_marker = (lambda text: f"{text}; {marker}") if marker else (lambda text: text)
        packages = [Package(TORCH, with_marker(torch_req), from_index=True)]
        packages += [Package(PackageName(c), with_marker(c), from_index=True) for c in companions]
        triton = channel.triton.get(catalog.family_of(accelerator) or "")
        on_linux = [p for p in served if p in linux]
        if triton and on_linux:
            triton_marker = marker_for(on_linux, targets, catalog.platforms)
            packages.append(
                Package(
                    package_name(triton),
                    triton + (f"; {triton_marker}" if triton_marker else ""),
                    from_index=True,
                    why=f"torch's {channel.name} builds require {triton} from the same index",
                )
            )
        packages += dependents
        extras.append(
            Extra(
                accelerator=accelerator,
                name=extra_name(accelerator),
                index_name=f"pytorch-{channel.path}-{extra_name(accelerator)}",
                url=f"{index_url}/{channel.path}/{accelerator}",
                marker=None,
                fallback=(),
                packages=tuple(packages),
            )
        )
    extras_t, kernels, flat = _kernels(
        answers, tuple(extras), frozenset(), [], targets, catalog, notes
    )
    environments = _environments(answers, targets, catalog)
    resolved = answers._replace(
        name=project,
        python=python,
        torch=None if answers.nightly_date else torch_req.removeprefix("torch"),
        accelerators=tuple(accelerators),
        packages=tuple(sorted([*companions, *(d.requirement for d in dependents)])),
        platforms=tuple(targets) if answers.platforms else (),
        index_url=index_url,
        kernels=tuple(k.name for k in kernels),
    )
    return Plan(
        answers=resolved,
        project=project,
        package=import_name(project),
        requires_python=python,
        torch=torch_req,
        releases=(),
        extras=extras_t,
        overrides=(),
        environments=environments,
        uv_features=_uv_features(catalog, extras_t, kernels, (), environments, flat),
        notes=tuple(notes),
        kernels=kernels,
        flat_indexes=flat,
    )
