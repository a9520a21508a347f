"""`uvtorch add`: add accelerators, packages and kernels to an existing project, in place.

The project's current answers come from its `.uvtorch.toml`, or are read back from a
pyproject.toml that follows the uv guide's pattern (extras named after their build, torch
sourced per extra from explicit indexes). The answers plus the additions are planned exactly
as `init` would plan them, and only what is missing is added to the file, through tomlkit:
every other line, comment and table stays byte for byte.
"""

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import Version
from tomlkit.items import Array, Table

from uvtorch.answers import ANSWERS_FILE, Answers, dump_answers, layer, load_answers
from uvtorch.catalog import Catalog
from uvtorch.check import exclusions as read_exclusions
from uvtorch.check import pytorch_variant
from uvtorch.errors import UsageError, UvtorchError
from uvtorch.names import extra_name, package_name
from uvtorch.plan import Plan, make_plan, written
from uvtorch.platforms import environment_marker
from uvtorch.render import multiline_array, padded_inline
from uvtorch.system import SYSTEM

if TYPE_CHECKING:
    from uvtorch.pipeline import AnswerStack, SystemFlags


def _requirements(values: Any) -> list[Requirement]:
    out = []
    for value in values or []:
        try:
            out.append(Requirement(str(value)))
        except InvalidRequirement:
            continue
    return out


def infer_answers(data: dict[str, Any], catalog: Catalog) -> Answers:
    """Read the answers back from a pyproject.toml in the uv guide's pattern."""
    project = data.get("project", {})
    uv = data.get("tool", {}).get("uv", {})
    indexes = {i.get("name"): i.get("url", "") for i in uv.get("index", [])}
    sources = uv.get("sources", {}).get("torch", [])
    sources = [sources] if isinstance(sources, dict) else sources
    extras = project.get("optional-dependencies", {})
    accelerators: list[str] = []
    base = None
    for source in sources:
        url = indexes.get(source.get("index"), "")
        variant = pytorch_variant(url, catalog)
        extra = source.get("extra")
        if not variant or not extra:
            continue
        if extra_name(variant) != extra:
            raise UvtorchError(
                f"The extra '{extra}' takes torch from {url}, but uvtorch add needs each "
                "accelerator extra named after its build.",
                f"Rename the extra to '{extra_name(variant)}' (and its sources and conflicts), "
                "then run add again.",
            )
        accelerators.append(variant)
        base = url.rstrip("/").rsplit("/", 1)[0]
    if not accelerators:
        raise UvtorchError(
            "This pyproject.toml sources torch from no PyTorch index per extra, so there is no "
            "accelerator pattern to extend.",
            "Create the project with `uvtorch init` (or follow uv's PyTorch guide: one extra "
            "per build, torch sourced per extra from explicit indexes).",
        )
    first_texts = [str(t) for t in extras.get(extra_name(accelerators[0]), [])]
    first = _requirements(first_texts)
    torch_text = next(
        (t for t, r in zip(first_texts, first) if package_name(r.name) == "torch"), None
    ) if len(first) == len(first_texts) else None
    torch = next((r for r in first if package_name(r.name) == "torch"), None)
    skip = {"torch"} | {c.name for c in catalog.index_companions} | {"triton"}
    packages = [
        str(r) for r in first
        if package_name(r.name) not in skip and r.marker is None
    ]
    environments = uv.get("environments", [])
    platforms = tuple(
        p for p in catalog.platforms if environment_marker(p, catalog.platforms) in environments
    )
    channel = "nightly" if base and base.endswith("/nightly") else None
    return Answers(
        name=str(project.get("name", "project")),
        python=project.get("requires-python"),
        torch=(
            written(torch, torch_text).removeprefix(torch.name).split(";")[0] or None
            if torch is not None and torch_text is not None
            else None
        ),
        accelerators=tuple(accelerators),
        packages=tuple(packages),
        platforms=platforms,
        index_url=base.removesuffix("/nightly") if base else None,
        channel=channel,
    )


_INDENT = re.compile(r"\n([ \t]+)[^\s\]]")


def _append(array: Array, item: Any) -> None:
    """Add `item` to an existing array in the array's own layout."""
    if "\n" in array.as_string():
        indents = _INDENT.findall(array.as_string())
        array.add_line(item, indent=indents[-1] if indents else "    ")
    else:
        array.append(item)


def _names(array: Any) -> set[str]:
    return {package_name(r.name) for r in _requirements(array)}


def _table(doc: Any, *keys: str) -> Table:
    node = doc
    for key in keys:
        if key not in node:
            table = tomlkit.table(is_super_table=key == "tool")
            table.trivia.indent = "\n"  # a blank line before a new table, as people write
            node.add(key, table)
        node = node[key]
    return node  # type: ignore[no-any-return]


def _spaced(tables: Any, new: Table) -> None:
    """Keep one blank line between array-of-tables entries, wherever the blank line was."""
    if len(tables) and tables[-1].as_string().endswith("\n\n"):
        new.add(tomlkit.nl())  # the previous entry kept the blank line: carry it past `new`
    else:
        new.trivia.indent = "\n"


def _restate_floor(uv: Table, old: str, plan: Plan) -> None:
    """Rewrite the comment above required-version if it is the one uvtorch wrote."""
    from tomlkit.items import Comment

    from uvtorch.render import floor_comment

    body = uv.value.body
    keys = [k.key if k is not None else None for k, _ in body]
    end = keys.index("required-version")
    start = end
    while start > 0 and keys[start - 1] is None and isinstance(body[start - 1][1], Comment):
        start -= 1
    block = "".join(body[i][1].as_string() for i in range(start, end))
    if not block.startswith(f"# uv {old} is the oldest release"):
        return  # not our comment: leave the user's words alone
    lines = floor_comment(plan)
    for offset, i in enumerate(range(start, end)):
        item = body[i][1]
        item.trivia.comment = "\n".join(f"# {line}" for line in lines) if offset == 0 else ""
        item.trivia.trail = "\n" if offset == 0 else ""
        item.trivia.indent = ""


def _merge_system(doc: Any, plan: Plan) -> list[str]:
    """The environment's packages: recorded pins and exclude-dependencies."""
    done: list[str] = []
    uvtorch = _table(doc, "tool", "uvtorch")
    pins = {str(name): version or "*" for name, version in plan.system}
    current = uvtorch.get("system")
    if current is None or {str(k): str(v) for k, v in current.items()} != pins:
        uvtorch["system"] = padded_inline(**pins)
        done.append("[tool.uvtorch] system")
    if not plan.excluded and not plan.excluded_from:
        return done  # a system extra that lists no package: nothing to exclude
    uv = _table(doc, "tool", "uv")
    exclusions = uv.get("exclude-dependencies")
    if exclusions is None:
        exclusions = multiline_array([])
        uv.add("exclude-dependencies", exclusions)
    everywhere, scoped = read_exclusions(uv)
    for name in plan.excluded:
        if name not in everywhere:
            _append(exclusions, name)
            done.append(f"{name} in exclude-dependencies")
    for package, names in plan.excluded_from:
        if package not in scoped:
            _append(exclusions, padded_inline(package=padded_inline(name=str(package)),
                                              dependencies=list(names)))
            done.append(f"exclusions of {package}")
        elif not set(names) <= scoped[package]:
            entry = next(x for x in exclusions if isinstance(x, dict)
                         and package_name(str(x.get("package", {}).get("name", ""))) == package)
            for name in names:
                if name not in scoped[package]:
                    entry["dependencies"].append(name)
            done.append(f"exclusions of {package}")
    return done


def merge(doc: Any, plan: Plan, torch_changed: bool) -> list[str]:
    """Add to `doc` what `plan` has and the file lacks; return what was added."""
    done: list[str] = []
    if plan.system and not plan.extras:  # -a system only: dependencies in the base
        dependencies = doc["project"].setdefault("dependencies", multiline_array([]))
        present = _names(dependencies)
        for text in plan.dependencies:
            dependency = package_name(Requirement(text).name)
            if dependency not in present:
                _append(dependencies, text)
                done.append(dependency)
        return done + _merge_system(doc, plan)
    extras = _table(doc, "project", "optional-dependencies")
    for extra in plan.extras:
        wanted = [p.requirement for p in extra.packages]
        if extra.name not in extras:
            extras.add(extra.name, multiline_array(wanted))
            done.append(f"extra {extra.name}")
            continue
        array = extras[extra.name]
        present = _names(array)
        if torch_changed:  # torch and its companions follow the new torch spec
            new: dict[str, str] = {p.name: p.requirement for p in extra.packages if p.from_index}
            for i, value in enumerate(array):
                name = next(iter(_names([value])), None)
                if name in new and str(value) != new[name]:
                    array[i] = new[name]
        for package in extra.packages:
            if package.name not in present:
                _append(array, package.requirement)
                done.append(f"{package.name} in {extra.name}")
    uv = _table(doc, "tool", "uv")
    if "required-version" in uv:
        current = re.sub(r"^[<>=!~ ]+", "", str(uv["required-version"]).split(",")[0])
        try:
            if Version(current) < plan.required_uv:
                uv["required-version"] = f">={plan.required_uv}"
                _restate_floor(uv, current, plan)
                done.append(f"required-version >={plan.required_uv}")
        except ValueError:
            pass
    names = [e.name for e in plan.extras]
    if len(names) > 1:
        conflicts = uv.setdefault("conflicts", tomlkit.array())
        target = next(
            (c for c in conflicts if {x.get("extra") for x in c} & set(names)), None
        )
        if target is None:
            target = tomlkit.array()
            _append(conflicts, target)
        have = {x.get("extra") for x in target}
        for name in names:
            if name not in have:
                _append(target, padded_inline(extra=name))
                done.append(f"{name} in conflicts")
    sources = _table(doc, "tool", "uv", "sources")
    for extra in plan.extras:
        for package in extra.packages:
            if not (package.from_index or package.page):
                continue
            entries = sources.get(package.name)
            if entries is None:
                entries = tomlkit.array()
                entries.add_line(indent="")
                sources.add(package.name, entries)
            if isinstance(entries, dict):
                continue  # one unconditional source: the user's choice, left alone
            if any(e.get("extra") == extra.name for e in entries):
                continue
            values: dict[str, Any] = {"index": package.page or extra.index_name, "extra": extra.name}
            if extra.marker and package.name == "torch" or (
                extra.marker and ";" not in package.requirement and not package.page
            ):
                values["marker"] = extra.marker
            _append(entries, padded_inline(**values))
            done.append(f"source of {package.name} for {extra.name}")
    indexes = uv.setdefault("index", tomlkit.aot())
    present = {i.get("name") for i in indexes}
    wanted_indexes = [(e.index_name, e.url, False) for e in plan.extras if e.url] + [
        (name, url, True) for name, url in plan.flat_indexes
    ]
    for name, url, flat in wanted_indexes:
        if name in present:
            continue
        index = tomlkit.table()
        index.add("name", name)
        index.add("url", url)
        if flat:
            index.add("format", "flat")
        index.add("explicit", True)
        _spaced(indexes, index)
        indexes.append(index)
        done.append(f"index {name}")
    for build in plan.kernels:
        if build.git and build.name not in sources:
            sources.add(build.name, padded_inline(git=build.git[0], rev=build.git[1]))
        if build.match_torch or build.build_requires:
            deps = _table(doc, "tool", "uv", "extra-build-dependencies")
            if build.package not in deps:
                items: list[Any] = list(build.build_requires)
                if build.match_torch:
                    items.append(padded_inline(requirement="torch", **{"match-runtime": True}))
                deps.add(build.package, multiline_array(items))
                done.append(f"build settings of {build.name}")
        if build.variables:
            variables = _table(doc, "tool", "uv", "extra-build-variables")
            if build.package not in variables:
                variables.add(build.package, padded_inline(**dict(build.variables)))
        if build.metadata is not None:
            metadata = uv.setdefault("dependency-metadata", tomlkit.aot())
            if not any(m.get("name") == build.package for m in metadata):
                version, requires, python = build.metadata
                entry = tomlkit.table()
                entry.add("name", str(build.package))
                entry.add("version", version)
                entry.add("requires-dist", multiline_array(list(requires)) if requires else tomlkit.array())
                if python:
                    entry.add("requires-python", python)
                _spaced(metadata, entry)
                metadata.append(entry)
    if plan.system:
        done += _merge_system(doc, plan)
    return done


def read_pyproject(folder: Path, command: str) -> tomlkit.TOMLDocument:
    """The project's pyproject.toml, parsed with every byte kept, its tables' types checked."""
    path = folder / "pyproject.toml"
    if path.exists() and not path.is_file():  # a FIFO would block for ever
        raise UvtorchError(f"{path} is not a regular file.",
                           f"Run uvtorch {command} in a project folder.")
    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UvtorchError(f"Cannot read {path}: {exc.strerror or exc}.",
                           f"Run uvtorch {command} in a project folder.") from None
    except Exception as exc:  # tomlkit's parse errors: the user's file to fix
        raise UvtorchError(f"{path} is not valid TOML: {exc}.", "Fix it first.") from None
    from uvtorch.shape import check_shape

    check_shape(doc.unwrap(), str(path))
    return doc


def current_answers(folder: Path, doc: tomlkit.TOMLDocument, catalog: Catalog) -> Answers:
    """The project's answers: its `.uvtorch.toml`, or read back from the uv guide's pattern."""
    answers_path = folder / ANSWERS_FILE
    if answers_path.is_file():
        return layer(load_answers(answers_path), name=folder.resolve().name)
    return infer_answers(doc.unwrap(), catalog)


def _silent(text: str) -> None:
    """No reporter given: say nothing."""


def add(
    folder: Path,
    additions: dict[str, tuple[str, ...]],
    torch: str | None,
    catalog: Catalog,
    system: "SystemFlags | None" = None,
    index_url: str | None = None,
    say: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
    confirm: "Callable[[AnswerStack, Catalog], Catalog] | None" = None,
) -> tuple[dict[str, str], list[str], Plan]:
    """The files to rewrite (pyproject.toml, and .uvtorch.toml when present) and what changed.

    The project's answers and the additions are layered as init layers its sources
    (uvtorch.pipeline); `system` is the command line's word on `-a system`, whose environment
    is probed when it is added. `index_url` moves the PyTorch indexes to a mirror with the same
    layout (uvtorch.mirror). `confirm` asks the index about the builds before planning
    (uvtorch.availability.confirm) and returns the catalog to plan with.
    """
    from uvtorch.pipeline import SystemFlags, add_stack, settle

    doc = read_pyproject(folder, "add")
    answers_path = folder / ANSWERS_FILE
    current = current_answers(folder, doc, catalog)
    stack = add_stack(current, f"{answers_path}", additions, torch, index_url)
    merged = stack.answers()
    if current.accelerators == (SYSTEM,) and set(merged.accelerators) != {SYSTEM}:
        raise UsageError(
            "uvtorch add cannot give index accelerators to a project that uses only the "
            "environment's torch.",
            "Its dependencies and global exclude-dependencies would take torch away from the "
            "new extras. Make it again with every accelerator, e.g. uvtorch init DIR --force "
            f"--answers {answers_path} -a system -a cpu (repeat -a and --package for all you want).",
        )
    merged = settle(stack, catalog, system or SystemFlags(),
                    say=say or _silent, warn=warn or _silent)  # -a auto: detection says why
    if confirm is not None:
        catalog = confirm(stack, catalog)
    plan = make_plan(merged, catalog)
    done = []
    if index_url is not None:
        from uvtorch.mirror import move_indexes

        done += move_indexes(doc, plan.answers.index_url or index_url, catalog)
    done += merge(doc, plan, torch_changed=bool(torch))
    files = {"pyproject.toml": tomlkit.dumps(doc)}
    if answers_path.is_file():
        files[ANSWERS_FILE] = dump_answers(plan.answers)
    return files, done, plan
