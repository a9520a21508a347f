"""Turn a Plan into pyproject.toml text, built with tomlkit in a fixed order.

The same Plan always gives the same bytes. Comments appear only where a reader would wonder
why a line is there: platform markers, the metadata override, the uv version floor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tomlkit
from tomlkit.items import Array, InlineTable, Table

from uvtorch.catalog import Catalog
from uvtorch.plan import Plan


def multiline_array(items: list[Any]) -> Array:
    """A multi-line array, one item per line, as people format dependency lists."""
    array = tomlkit.array()
    for item in items:
        array.add_line(item)
    array.add_line(indent="")
    return array


def padded_inline(**values: Any) -> InlineTable:
    """An inline table padded as uv's docs write them: `{ index = "x", extra = "y" }`."""
    table = tomlkit.inline_table()
    table.update(values)
    body = table.value.body
    body[0][1].trivia.indent = " "
    body[-1][1].trivia.trail = " "
    return table


def _wrap(text: str, width: int = 92) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width - 2:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return lines


def _comment_lines(container: Table | tomlkit.TOMLDocument, text: str, width: int = 92) -> None:
    """Add `text` as '#' comment lines wrapped to `width`."""
    for line in _wrap(text, width):
        container.add(tomlkit.comment(line))


def floor_comment(plan: Plan) -> list[str]:
    """The lines explaining required-version (without '# ')."""
    features = ", ".join(f.what for f in plan.uv_features)
    return _wrap(
        f"uv {plan.required_uv} is the oldest release that accepts every setting used here: "
        f"{features}. An older uv would reject them or silently ignore this whole table."
    )


def _project(plan: Plan) -> Table:
    project = tomlkit.table()
    project.add("name", plan.project)
    project.add("version", "0.1.0")
    if plan.system and not plan.extras:
        project.add("description", "A PyTorch project using the torch installed in its environment.")
        project.add("readme", "README.md")
        project.add("requires-python", plan.requires_python)
        _comment_lines(
            project,
            f"torch ({plan.torch}) comes from the environment this project runs in, never from "
            "an index: [tool.uv] exclude-dependencies keeps it out of the lock, even when a "
            "dependency below requires it.",
        )
        project.add("dependencies", multiline_array(list(plan.dependencies)))
        return project
    accelerators = ", ".join(e.accelerator for e in plan.extras)
    project.add("description", f"A PyTorch project for {accelerators}.")
    project.add("readme", "README.md")
    project.add("requires-python", plan.requires_python)
    _comment_lines(
        project,
        "torch lives only in the accelerator extras below, so a plain `uv sync` installs no "
        "torch at all (never PyPI's multi-GB CUDA build). Choose one: "
        f"`uv sync --extra {plan.extras[0].name}`."
        + (" The system extra uses the torch of the environment it runs in (see "
           "[tool.uvtorch] and README.md)." if plan.system else ""),
    )
    project.add("dependencies", tomlkit.array())
    extras = tomlkit.table()
    for extra in plan.extras:
        extras.add(extra.name, multiline_array([p.requirement for p in extra.packages]))
    project.add("optional-dependencies", extras)
    return project


def _build_system(catalog: Catalog) -> Table:
    table = tomlkit.table()
    table.add("requires", [catalog.build_backend["requires"]])
    table.add("build-backend", catalog.build_backend["backend"])
    return table


def _uv(plan: Plan) -> Table:
    uv = tomlkit.table()
    for line in floor_comment(plan):
        uv.add(tomlkit.comment(line))
    uv.add("required-version", f">={plan.required_uv}")
    if plan.environments:
        _comment_lines(uv, "Resolve only for the platforms this project targets.")
        uv.add("environments", multiline_array(list(plan.environments)))
        # uv fails the lock when a package without a source distribution has no wheel for a
        # required environment (required-environments' doc, crates/uv-settings/src/settings.rs).
        _comment_lines(uv, (
            "Fail the lock if torch, or any package without a source distribution, has no "
            "wheel for one of them." if plan.extras else
            "Fail the lock if a package without a source distribution has no wheel for one of "
            "them (torch is the environment's: never locked)."))
        uv.add("required-environments", multiline_array(list(plan.environments)))
    if plan.excluded:
        _comment_lines(
            uv,
            "Installed in the environment (see [tool.uvtorch]): never resolved, downloaded "
            "or replaced by uv.",
        )
        uv.add("exclude-dependencies", multiline_array(list(plan.excluded)))
        return uv
    if len(plan.extras) > 1:
        _comment_lines(uv, "The accelerator extras exclude each other: install exactly one.")
        conflict = tomlkit.array()
        for e in plan.extras:
            conflict.add_line(padded_inline(extra=e.name), indent=" " * 8)
        conflict.add_line(indent=" " * 4)
        outer = tomlkit.array()
        outer.add_line(conflict)
        outer.add_line(indent="")
        uv.add("conflicts", outer)
    if plan.excluded_from:
        _comment_lines(
            uv,
            "The system extra uses the environment's torch (see [tool.uvtorch]): these "
            "packages lose their requirements on it, in every extra, so it is never resolved "
            "for the system extra. The other extras list torch themselves and keep it.",
        )
        exclusions = tomlkit.array()
        for package, names in plan.excluded_from:
            exclusions.add_line(
                padded_inline(package=padded_inline(name=str(package)), dependencies=list(names)),
                indent=" " * 4,
            )
        exclusions.add_line(indent="")
        uv.add("exclude-dependencies", exclusions)
    uv.add("sources", _sources(plan))
    indexes = tomlkit.aot()
    for extra in plan.extras:
        if not extra.url:
            continue  # the system extra: no index
        index = tomlkit.table()
        index.add("name", extra.index_name)
        index.add("url", extra.url)
        index.add("explicit", True)
        indexes.append(index)
    for name, url in plan.flat_indexes:
        index = tomlkit.table()
        _comment_lines(index, "Prebuilt kernel wheels for this torch and build (a flat page).")
        index.add("name", name)
        index.add("url", url)
        index.add("format", "flat")
        index.add("explicit", True)
        indexes.append(index)
    uv.add("index", indexes)
    if plan.kernels:
        _kernel_settings(uv, plan)
    metadata = tomlkit.aot()
    for build in plan.kernels:
        if build.metadata is None:
            continue
        version, requires, python = build.metadata
        entry = tomlkit.table()
        reason = (
            "uv cannot read a git checkout's metadata without building it"
            if build.git
            else "its sdist's metadata is dynamic, or static only through a uv quirk "
            "(astral-sh/uv#18667) a later uv may fix"
        )
        _comment_lines(
            entry,
            f"{build.package} {version}: match-runtime needs metadata uv can read without a "
            f"build, and {reason}; the extras pin this version.",
        )
        entry.add("name", str(build.package))
        entry.add("version", version)
        entry.add("requires-dist", multiline_array(list(requires)) if requires else tomlkit.array())
        if python:
            entry.add("requires-python", python)
        metadata.append(entry)
    if plan.overrides:
        overrides = metadata
        for kb in plan.overrides:
            entry = tomlkit.table()
            _comment_lines(entry, f"{kb.name} {kb.version}: {kb.why}.")
            entry.add("name", str(kb.name))
            entry.add("version", str(kb.version))
            # Literal strings keep the wheel's own double-quoted markers readable.
            entry.add(
                "requires-dist",
                multiline_array([tomlkit.string(r, literal='"' in r and "'" not in r) for r in kb.requires_dist]),
            )
            overrides.append(entry)
    if len(metadata):
        uv.add("dependency-metadata", metadata)
    return uv


def _kernel_settings(uv: Table, plan: Plan) -> None:
    """extra-build-dependencies and extra-build-variables for every kernel."""
    deps = tomlkit.table()
    for build in plan.kernels:
        if not (build.match_torch or build.build_requires):
            continue  # nothing to build (e.g. bitsandbytes: its wheels carry every binary)
        _comment_lines(deps, f"{build.name}: {build.why}.")
        requirements: list[Any] = list(build.build_requires)
        if build.match_torch:
            requirements.append(padded_inline(requirement="torch", **{"match-runtime": True}))
        deps.add(build.package, multiline_array(requirements) if len(requirements) > 1 else requirements)
    if len(deps):
        uv.add("extra-build-dependencies", deps)
    if not any(build.variables for build in plan.kernels):
        return
    variables = tomlkit.table()
    _comment_lines(
        variables,
        "Target GPUs of each kernel build (edit them, then `uvtorch sync --reinstall-package "
        "NAME` or `uv sync --extra ID --reinstall-package NAME` rebuilds; without --extra, "
        "uv sync would uninstall torch); MAX_JOBS bounds parallel compiler jobs, each of which "
        "can take several GB of RAM.",
    )
    for build in plan.kernels:
        if build.variables:
            variables.add(build.package, padded_inline(**dict(build.variables)))
    uv.add("extra-build-variables", variables)


def _sources(plan: Plan) -> Table:
    """One entry per accelerator for every package its index serves."""
    names: list[str] = []
    for extra in plan.extras:
        for package in extra.packages:
            if (package.from_index or package.page) and package.name not in names:
                names.append(package.name)
    git: dict[str, tuple[str, str]] = {b.name: b.git for b in plan.kernels if b.git}
    sources = tomlkit.table()
    for name in names:
        array = tomlkit.array()
        for extra in plan.extras:
            served = [p for p in extra.packages if p.name == name and (p.from_index or p.page)]
            if not served:
                continue
            values = {"index": served[0].page or extra.index_name, "extra": extra.name}
            if extra.marker is not None and name == "torch":
                array.add_line(
                    comment=f"{extra.accelerator}: that index has no wheels for "
                    f"{', '.join(extra.fallback)}, which get PyPI's torch"
                )
                values["marker"] = extra.marker
            elif extra.marker is not None and all(
                p.name != name or ";" not in p.requirement for p in extra.packages
            ):
                values["marker"] = extra.marker
            array.add_line(padded_inline(**values))
        for extra in plan.extras if name in git else ():
            # Extras without a wheel page for this kernel build it from its git source.
            if any(p.name == name and not p.page for p in extra.packages):
                url, rev = git[name]
                array.add_line(padded_inline(git=url, rev=rev, extra=extra.name))
        array.add_line(indent="")
        sources.add(name, array)
    for name, (url, rev) in ((n, g) for n, g in git.items() if n not in names):
        _comment_lines(sources, f"{name}: built from git at a fixed commit.")
        sources.add(name, padded_inline(git=url, rev=rev))
    return sources


def _groups(groups: Mapping[str, tuple[str, ...]]) -> Table:
    table = tomlkit.table()
    for name, requirements in groups.items():
        table.add(name, multiline_array(list(requirements)))
    return table


def render_pyproject(
    plan: Plan, catalog: Catalog, groups: Mapping[str, tuple[str, ...]] | None = None
) -> str:
    """The complete pyproject.toml for `plan`, with a template's dependency groups."""
    doc = tomlkit.document()
    doc.add("project", _project(plan))
    doc.add(tomlkit.nl())
    if groups:
        doc.add("dependency-groups", _groups(groups))
        doc.add(tomlkit.nl())
    doc.add("build-system", _build_system(catalog))
    doc.add(tomlkit.nl())
    tool = tomlkit.table(is_super_table=True)
    tool.add("uv", _uv(plan))
    if plan.system:
        uvtorch = tomlkit.table()
        _comment_lines(
            uvtorch,
            "What the environment had when this project was made, to compare with the torch "
            "its interpreter imports later.",
        )
        uvtorch.add("system", padded_inline(**{name: version or "*" for name, version in plan.system}))
        tool.add("uvtorch", uvtorch)
    doc.add("tool", tool)
    return tomlkit.dumps(doc)
