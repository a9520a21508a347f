"""`uvtorch upgrade`: move a project to another torch release or other builds, in place.

A three-way merge, key by key. The project's answers (its `.uvtorch.toml`, or read back from a
file in the uv guide's pattern, as `add` does) are rendered twice: as they are (what uvtorch
wrote, `old`) and with the new torch or builds (`new`). For every item uvtorch manages (the
torch and companion requirements in each extra, their sources, the indexes, metadata
overrides, kernel build settings, requires-python, required-version and the comments uvtorch
wrote beside them) the user's file is compared with both:

- old and new agree: the user's value stays, whatever it is;
- the file still has the old value: it gets the new one;
- the file has a third value: the user's edit is kept and reported (`force` takes the new one).

Everything else in the file stays byte for byte: the edits go through tomlkit.
"""

import copy
import json
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from tomlkit.items import AoT, Array, Comment, InlineTable, Table, Trivia, Whitespace, _ArrayItemGroup

from uvtorch.add import _append, _spaced, _table, current_answers, read_pyproject
from uvtorch.answers import ANSWERS_FILE, Answers, dump_answers
from uvtorch.catalog import Catalog, Release, variant_sort_key
from uvtorch.errors import NoBuild, UsageError, UvtorchError
from uvtorch.names import extra_name, index_name, package_name
from uvtorch.plan import Plan, check_python, make_plan, minor_range
from uvtorch.render import padded_inline, render_pyproject
from uvtorch.system import SYSTEM


class Upgrade(NamedTuple):
    """What upgrade would write, and what it has to tell the user."""

    files: dict[str, str]  # relative path -> new text; empty when nothing changes
    before: str  # pyproject.toml as it was
    after: str  # pyproject.toml as upgrade leaves it
    kept: tuple[str, ...]  # one line per hand edit kept (or overwritten with force)
    notes: tuple[str, ...]
    old: Plan
    new: Plan


# ---------------------------------------------------------------------------------------------
# The new answers


def _span(minors: list[Any]) -> str:
    if not minors:
        return "no release"
    return str(minors[0]) if minors[0] == minors[-1] else f"{minors[0]} to {minors[-1]}"


def _has(release: Release, accelerator: str, spec: SpecifierSet | None = None) -> bool:
    return any(spec is None or p in spec for p in release.patches_with(accelerator))


def _successor(accelerator: str, releases: list[Release], catalog: Catalog) -> str | None:
    """The build of the same family to move to: the next newer one those releases have."""
    family = catalog.family_of(accelerator)
    offered = sorted(
        {v for r in releases for v in r.variants if catalog.family_of(v) == family},
        key=variant_sort_key,
    )
    newer = [v for v in offered if variant_sort_key(v) > variant_sort_key(accelerator)]
    choices = newer or offered[::-1]
    return choices[0] if choices else None


def _refuse_missing(
    spec: SpecifierSet, accelerators: tuple[str, ...], replaced: Mapping[str, str],
    catalog: Catalog,
) -> None:
    """Refuse a torch spec that has no build for one of the project's accelerators."""
    matched = [r for r in catalog.releases if any(p in spec for p in r.patches)]
    if not matched:
        return  # make_plan names the known releases
    targets = _span([r.minor for r in matched])
    for accelerator in accelerators:
        if any(_has(r, accelerator, spec) for r in matched):
            continue
        with_it = [r.minor for r in catalog.releases if _has(r, accelerator)]
        if accelerator in replaced.values():
            raise NoBuild(
                f"torch {targets} has no {accelerator} build: {accelerator} exists for torch "
                f"{_span(with_it)}.",
                "Choose another build for --replace (torch "
                f"{targets} has {', '.join(sorted({v for r in matched for v in r.variants}, key=variant_sort_key))}) "
                "or another --torch.",
            )
        keep = with_it[-1] if with_it else None
        successor = _successor(accelerator, matched, catalog)
        moves = f"--replace {accelerator}={successor} or " if successor else ""
        raise NoBuild(
            f"torch {targets} has no {accelerator} build, which this project's "
            f"{extra_name(accelerator)} extra installs.",
            (f"torch {keep} is the newest release that keeps it (--torch "
             f"'{minor_range(keep)}'). " if keep else "")
            + f"To move on without it, change the build: {moves}--drop {accelerator}.",
        )


def _default_torch(accelerators: tuple[str, ...], catalog: Catalog) -> tuple[str, list[str]]:
    """The newest release with every accelerator, and notes on newer ones that lack some."""
    notes: list[str] = []
    for release in reversed(catalog.releases):
        missing = [a for a in accelerators if not _has(release, a)]
        if not missing:
            return minor_range(release.minor), notes
        if not notes:
            successors = [f"{a}={s}" for a in missing if (s := _successor(a, [release], catalog))]
            notes.append(
                f"torch {release.minor} is newer but has no {', '.join(missing)} build"
                + (f": uvtorch upgrade --torch '{minor_range(release.minor)}' --replace "
                   f"{' --replace '.join(successors)} moves to it."
                   if successors else ".")
            )
    raise NoBuild(
        f"No torch release in uvtorch's catalog has every build this project uses "
        f"({', '.join(accelerators)}).",
        "Change the builds with --replace OLD=NEW or --drop ID.",
    )


def _new_answers(
    old: Plan, torch: str | None, replace: tuple[tuple[str, str], ...], drop: tuple[str, ...],
    catalog: Catalog,
) -> tuple[Answers, bool, list[str]]:
    """The answers after the upgrade, whether the torch spec changes, and notes."""
    answers = old.answers
    accelerators = list(answers.accelerators)
    index_builds = [a for a in accelerators if a != SYSTEM]
    for source, target in replace:
        source, target = source.strip().lower(), target.strip().lower()
        if source not in index_builds:
            raise UsageError(
                f"--replace {source}={target}: this project has no {source} build.",
                f"Its builds: {', '.join(index_builds)}.",
            )
        if target in accelerators:
            raise UsageError(
                f"--replace {source}={target}: the project already has {target}.",
                f"Use --drop {source} to remove {source} only.",
            )
        accelerators[accelerators.index(source)] = target
    for raw in drop:
        gone = raw.strip().lower()
        if gone not in accelerators or gone == SYSTEM:
            raise UsageError(
                f"--drop {gone}: this project has no {gone} build.",
                f"Its builds: {', '.join(index_builds)}.",
            )
        accelerators.remove(gone)
    if not [a for a in accelerators if a != SYSTEM]:
        raise UsageError("--drop would leave the project without a torch build.",
                         "Keep at least one, or replace it: --replace OLD=NEW.")
    builds = tuple(a for a in accelerators if a != SYSTEM)
    notes: list[str] = []
    if torch is not None:
        spec_text = torch
    elif replace or drop:
        spec_text = answers.torch or ""
    else:
        spec_text, notes = _default_torch(builds, catalog)
    try:
        spec = SpecifierSet(spec_text)
    except InvalidSpecifier:
        spec = None  # make_plan explains what a specifier looks like
    if spec is not None:
        _refuse_missing(spec, builds, dict(replace), catalog)
    changed = spec_text != answers.torch
    packages = answers.packages
    python = answers.python
    if changed:  # companions follow torch; a default Python range follows its wheels
        packages = tuple(_unpinned(p, catalog) for p in packages)
        releases = [r for r in catalog.releases if r.minor in old.releases]
        if releases and python == check_python(None, releases):
            python = None
        landing = [r for r in catalog.releases
                   if spec is not None and any(p in spec for p in r.patches)]
        if python is not None and landing:
            try:
                check_python(python, landing)
            except UvtorchError as exc:
                lowest = min(r.python_min for r in landing)
                raise NoBuild(
                    exc.message.replace("--python", "requires-python", 1),
                    f"Change requires-python in pyproject.toml (and `python` in {ANSWERS_FILE} "
                    f"if there is one) to '>={lowest}' or newer, then run upgrade again.",
                ) from None
    return (
        answers._replace(torch=spec_text, accelerators=tuple(accelerators), packages=packages,
                         python=python),
        changed,
        notes,
    )


def _unpinned(text: str, catalog: Catalog) -> str:
    """A companion without its version, so the plan matches it to the new torch."""
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return text
    if package_name(req.name) not in catalog.companions:
        return text
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    return f"{req.name}{extras}" + (f"; {req.marker}" if req.marker else "")


# ---------------------------------------------------------------------------------------------
# Reading and writing items


def _get(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _plain(value: Any) -> Any:
    return value.unwrap() if hasattr(value, "unwrap") else value


def _show(value: Any) -> str:
    return "absent" if value is None else json.dumps(_plain(value))


def _req_key(text: str) -> Any:
    """A requirement compared by meaning: `torch>=2.9,<2.10` equals `torch <2.10, >=2.9`."""
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return text
    return (package_name(req.name), tuple(sorted(req.extras)), str(req.specifier),
            str(req.marker or ""), req.url)


def _req_name(text: Any) -> str | None:
    try:
        return package_name(Requirement(str(text)).name)
    except InvalidRequirement:
        return None


_EXTRA_MARKER = r"extra\s*==\s*['\"]{}['\"]"


class _Merge:
    """The three-way decisions, and the lines they report."""

    def __init__(self, force: bool) -> None:
        self.force = force
        self.kept: list[str] = []
        self.changes = 0

    def take(self, where: str, old: Any, new: Any, current: Any,
             shown: tuple[Any, Any] | None = None) -> bool:
        """Whether the file gets `new` (values compared as plain data; `shown`: as written)."""
        if old == new or current == new:
            return False
        if current != old:
            verb = "overwrote your edit" if self.force else "kept your edit"
            mine, theirs = shown or (current, new)
            self.kept.append(f"{verb}: {where}: {_show(mine)} (uvtorch "
                             f"{'wrote' if self.force else 'would write'} {_show(theirs)})")
            if not self.force:
                return False
        self.changes += 1
        return True


# ---------------------------------------------------------------------------------------------
# Renaming and dropping extras (in the user's file and in the old rendering alike)


def _requirement_arrays(doc: Any) -> Iterator[tuple[str, Array]]:
    """Every list of requirements where the project can refer to its own extras."""
    project = doc.get("project", {})
    if isinstance(project.get("dependencies"), Array):
        yield "project.dependencies", project["dependencies"]
    for name, value in project.get("optional-dependencies", {}).items():
        if isinstance(value, Array):
            yield f"project.optional-dependencies.{name}", value
    for name, value in doc.get("dependency-groups", {}).items():
        if isinstance(value, Array):
            yield f"dependency-groups.{name}", value


def _self_references(doc: Any, extra: str) -> Iterator[tuple[str, Array, int]]:
    """Requirements on the project itself with `extra` (`all = ["proj[cu128]"]`)."""
    project = package_name(str(_get(doc, "project", "name") or ""))
    for where, array in _requirement_arrays(doc):
        for i, value in enumerate(array):
            if not isinstance(value, str):
                continue
            try:
                req = Requirement(value)
            except InvalidRequirement:
                continue
            if package_name(req.name) == project and extra in {extra_name(e) for e in req.extras}:
                yield where, array, i


def _marker_mentions(doc: Any, extra: str) -> list[str]:
    """Places whose markers test the extra: uvtorch does not rewrite markers."""
    pattern = re.compile(_EXTRA_MARKER.format(re.escape(extra)))
    found = [
        f"{where}: {value}"
        for where, array in _requirement_arrays(doc)
        for value in array
        if isinstance(value, str) and pattern.search(value)
    ]
    for name, value in (_get(doc, "tool", "uv", "sources") or {}).items():
        for entry in value if isinstance(value, list) else [value]:
            if isinstance(entry, Mapping) and pattern.search(str(entry.get("marker", ""))):
                found.append(f"tool.uv.sources.{name}: marker {entry['marker']}")
    return found


def _source_entries(doc: Any) -> Iterator[tuple[str, Any]]:
    for name, value in (_get(doc, "tool", "uv", "sources") or {}).items():
        for entry in value if isinstance(value, list) else [value]:
            if isinstance(entry, Mapping):
                yield str(name), entry


def _torch_index(doc: Any, extra: str) -> str | None:
    """The index the file takes torch from for `extra`."""
    return next(
        (str(e["index"]) for name, e in _source_entries(doc)
         if name == "torch" and e.get("extra") == extra and "index" in e),
        None,
    )


def _rename_key(table: Table, old: str, new: str) -> None:
    body = table.value.body
    index = next(i for i, (k, _) in enumerate(body) if k is not None and k.key == old)
    table.value._replace_at(index, new, body[index][1])  # keeps the key's place


def _rename(doc: Any, old: str, new: str, old_index: str | None, new_index: str,
            strict: bool) -> None:
    """Give the extra `old` the name `new` everywhere, and its index the new build's name."""
    extras = _get(doc, "project", "optional-dependencies")
    if strict:
        if new in extras:
            raise UsageError(f"--replace: the project already has an extra named '{new}'.",
                             f"Rename or remove that extra first, or --drop {old}.")
        mentions = _marker_mentions(doc, old)
        if mentions:
            raise UvtorchError(
                f"The extra '{old}' is tested in markers ({'; '.join(mentions)}), and uvtorch "
                "does not rewrite markers.",
                f"Rewrite them for '{new}' by hand after the upgrade, or use `extra = \"{old}\"` "
                "in sources (which uvtorch renames).",
            )
    _rename_key(extras, old, new)
    for _, array, i in list(_self_references(doc, old)):
        text = str(array[i])
        array[i] = re.sub(
            r"(\[[^\]]*\])",
            lambda m: re.sub(rf"(?<![\w.-]){re.escape(old)}(?![\w.-])", new, m.group(1)),
            text, count=1,
        )
    for group in _get(doc, "tool", "uv", "conflicts") or []:
        for entry in group:
            if isinstance(entry, InlineTable) and entry.get("extra") == old:
                entry["extra"] = new
    for _, entry in _source_entries(doc):
        if entry.get("extra") == old:
            entry["extra"] = new
        if old_index is not None and entry.get("index") == old_index:
            entry["index"] = new_index
    for index in _get(doc, "tool", "uv", "index") or []:
        if old_index is not None and index.get("name") == old_index:
            index["name"] = new_index


def _remove_array_item(array: Array, position: int, comment_prefix: str | None) -> None:
    """Delete one item, and the comment line above it when it starts with `comment_prefix`."""
    groups = array._value  # tomlkit's own item groups: the only way to reach a comment line
    at = array._index_map[position]
    before = groups[at - 1] if at else None
    del array[position]
    if (comment_prefix and before is not None and before.comment is not None
            and _is_blank(before.value)
            and before.comment.trivia.comment.startswith(comment_prefix)):
        groups.remove(before)
        array._reindex()


def _is_blank(value: Any) -> bool:
    return value is None or type(value).__name__ == "Null"


def _drop(doc: Any, extra: str, accelerator: str, strict: bool) -> None:
    """Remove the extra, its conflict entry, its sources and an index nothing else uses."""
    if strict:
        refs = [where for where, _, _ in _self_references(doc, extra)]
        mentions = _marker_mentions(doc, extra)
        if refs or mentions:
            raise UvtorchError(
                f"--drop {accelerator}: other parts of the project refer to the extra '{extra}' "
                f"({'; '.join(refs + mentions)}).",
                f"Remove those references first, or replace the build instead: "
                f"--replace {accelerator}=NEW renames them.",
            )
    index = _torch_index(doc, extra)
    del doc["project"]["optional-dependencies"][extra]
    uv = _get(doc, "tool", "uv")
    conflicts = uv.get("conflicts") if uv is not None else None
    if conflicts is not None:
        for group in list(conflicts):
            for i in reversed(range(len(group))):
                if isinstance(group[i], Mapping) and group[i].get("extra") == extra:
                    del group[i]
            if len(group) < 2:
                conflicts.remove(group)
        if not len(conflicts):
            _remove_comment_above(uv, "conflicts", "The accelerator extras exclude each other")
            del uv["conflicts"]
    sources = _get(doc, "tool", "uv", "sources") or {}
    for name in list(sources):
        value = sources[name]
        if isinstance(value, Mapping):
            if value.get("extra") == extra:
                del sources[name]
            continue
        for i in reversed(range(len(value))):
            if isinstance(value[i], Mapping) and value[i].get("extra") == extra:
                _remove_array_item(value, i, f"# {accelerator}: ")
        if not len(value):
            del sources[name]
    used = {str(e.get("index")) for _, e in _source_entries(doc)}
    indexes = uv.get("index") if uv is not None else None
    if index is not None and index not in used and indexes is not None:
        for i in reversed(range(len(indexes))):
            if indexes[i].get("name") == index:
                del indexes[i]
        if not len(indexes):
            del uv["index"]


# ---------------------------------------------------------------------------------------------
# Comment lines above a key (as uvtorch writes them: one `#` item per line)


def _comment_span(table: Table, key: str) -> tuple[int, int] | None:
    body = table.value.body
    keys = [k.key if k is not None else None for k, _ in body]
    if key not in keys:
        return None
    end = keys.index(key)
    start = end
    while start > 0 and keys[start - 1] is None and isinstance(body[start - 1][1], Comment):
        start -= 1
    return start, end


def _comment_above(table: Any, key: str) -> str | None:
    span = _comment_span(table, key) if isinstance(table, Table) else None
    if span is None or span[0] == span[1]:
        return None
    body = table.value.body
    return "".join(body[i][1].as_string() for i in range(*span)).strip()


def _set_comment_above(table: Table, key: str, text: str | None) -> None:
    """Replace the comment lines above `key` with `text` (None removes them)."""
    span = _comment_span(table, key)
    if span is None:
        return
    body = table.value.body
    for offset, i in enumerate(range(*span)):
        trivia = body[i][1].trivia
        trivia.comment = text if offset == 0 and text else ""
        trivia.trail = "\n" if offset == 0 and text else ""
        trivia.indent = ""


def _remove_comment_above(table: Table, key: str, prefix: str) -> None:
    text = _comment_above(table, key)
    if text is not None and text.startswith(f"# {prefix}"):
        _set_comment_above(table, key, None)


# ---------------------------------------------------------------------------------------------
# The merge, item by item


_SCALARS = (
    ("project", "requires-python"),
    ("project", "description"),
    ("tool", "uv", "required-version"),
    ("tool", "uv", "environments"),
    ("tool", "uv", "required-environments"),
    ("tool", "uvtorch", "system"),
)
_COMMENTS = (("project", "dependencies"), ("tool", "uv", "required-version"))


def _merge_scalars(doc: Any, old: Any, new: Any, merge: _Merge) -> None:
    for path in _SCALARS:
        *parents, key = path
        o, n, c = (_plain(_get(d, *path)) for d in (old, new, doc))
        if c is None and o is not None:
            continue  # the file does without it (a hand-written project): leave it so
        if not merge.take(".".join(path), o, n, c):
            continue
        if n is None:
            del _get(doc, *parents)[key]
        else:
            table = _get(doc, *parents) if _get(doc, *parents) is not None else _table(doc, *parents)
            table[key] = copy.deepcopy(_get(new, *path))
    for path in _COMMENTS:
        *parents, key = path
        o, n, c = (_comment_above(_get(d, *parents), key) for d in (old, new, doc))
        if c is not None and c == o != n:  # uvtorch's words; the user's own comments stay
            _set_comment_above(_get(doc, *parents), key, n)
            merge.changes += 1


def _merge_extras(doc: Any, old: Any, new: Any, merge: _Merge) -> None:
    extras = _get(doc, "project", "optional-dependencies")
    for name, wanted in (_get(new, "project", "optional-dependencies") or {}).items():
        was = _get(old, "project", "optional-dependencies", name) or []
        if extras is None or name not in extras:
            if not was:  # a new extra
                _table(doc, "project", "optional-dependencies")[name] = copy.deepcopy(wanted)
                merge.changes += 1
            continue
        array = extras[name]
        packages = list(dict.fromkeys(n for n in map(_req_name, [*was, *wanted]) if n))
        for package in packages:
            o = next((str(t) for t in was if _req_name(t) == package), None)
            n = next((str(t) for t in wanted if _req_name(t) == package), None)
            at = next((i for i, t in enumerate(array) if _req_name(t) == package), None)
            c = str(array[at]) if at is not None else None
            ok, nk, ck = (None if v is None else _req_key(v) for v in (o, n, c))
            if not merge.take(f"project.optional-dependencies.{name} {package}", ok, nk, ck,
                              shown=(c, n)):
                continue
            if n is None:
                _remove_array_item(array, at, None)  # type: ignore[arg-type]
            elif at is None:
                _append(array, n)
            else:
                array[at] = n


def _entries(value: Any) -> dict[Any, tuple[Any, str | None]]:
    """Source entries by extra, each with the comment line uvtorch wrote above it."""
    if isinstance(value, Mapping):
        return {value.get("extra"): (value, None)}
    out: dict[Any, tuple[Any, str | None]] = {}
    if not isinstance(value, Array):
        return out
    comment = None
    for group in value._value:
        if _is_blank(group.value):
            comment = group.comment.trivia.comment if group.comment is not None else comment
            continue
        if isinstance(group.value, Mapping):
            out.setdefault(group.value.get("extra"), (group.value, comment))
        comment = None
    return out


def _group_of(array: Array, entry: Any) -> int:
    return next(i for i, g in enumerate(array._value) if g.value is entry)


def _set_source_comment(array: Array, entry: Any, text: str | None) -> None:
    groups = array._value
    at = _group_of(array, entry)
    before = groups[at - 1] if at else None
    if before is not None and _is_blank(before.value) and before.comment is not None:
        if text is None:
            groups.remove(before)
        else:
            before.comment.trivia.comment = text
    elif text is not None:
        indent = groups[at].indent
        groups.insert(at, _ArrayItemGroup(
            indent=Whitespace(indent.s if indent is not None else "\n    "),
            comment=Comment(Trivia(indent="", comment=text, trail="")),
        ))
    array._reindex()


def _merge_sources(doc: Any, old: Any, new: Any, merge: _Merge) -> None:
    was_all = _get(old, "tool", "uv", "sources") or {}
    wanted_all = _get(new, "tool", "uv", "sources") or {}
    for package in list(dict.fromkeys([*was_all, *wanted_all])):
        was, wanted = _entries(was_all.get(package)), _entries(wanted_all.get(package))
        sources = _get(doc, "tool", "uv", "sources")
        value = sources.get(package) if sources is not None else None
        have = _entries(value)
        for extra in dict.fromkeys([*was, *wanted]):
            o, o_note = was.get(extra, (None, None))
            n, n_note = wanted.get(extra, (None, None))
            c, c_note = have.get(extra, (None, None))
            where = f"tool.uv.sources.{package}[extra={extra}]"
            if c is None or n is None:
                if not merge.take(where, _plain(o), _plain(n), _plain(c)):
                    continue
                if n is None:
                    if isinstance(value, Array):
                        _remove_array_item(value, list(value).index(c), c_note)
                    else:
                        del sources[package]
                    continue
                if value is None:
                    value = tomlkit.array()
                    value.add_line(indent="")
                    _table(doc, "tool", "uv", "sources").add(package, value)
                if isinstance(value, Array):
                    _append(value, padded_inline(**_plain(n)))
                    if n_note:
                        _set_source_comment(value, value[len(value) - 1], n_note)
                continue
            merged = dict(_plain(c))
            for key in dict.fromkeys([*_plain(o or {}), *_plain(n)]):
                ov, nv, cv = (_plain(d).get(key) if d is not None else None for d in (o, n, c))
                if merge.take(f"{where} {key}", ov, nv, cv):
                    if nv is None:
                        merged.pop(key, None)
                    else:
                        merged[key] = nv
            if merged != _plain(c):
                fresh = padded_inline(**merged)
                if isinstance(value, Array):
                    value[list(value).index(c)] = fresh
                else:
                    sources[package] = fresh
                c = fresh
            # uvtorch's comment follows its entry; any other comment is the user's, and stays.
            if isinstance(value, Array) and c_note == o_note != n_note:
                _set_source_comment(value, c, n_note)
                merge.changes += 1
        if sources is not None and isinstance(sources.get(package), Array) and not len(sources[package]):
            del sources[package]


def _aot_merge(doc: Any, old: Any, new: Any, merge: _Merge, key: str, ident: Any) -> None:
    """Arrays of tables ([[tool.uv.index]], [[tool.uv.dependency-metadata]]) by identity."""
    was = {ident(t): t for t in _get(old, "tool", "uv", key) or []}
    wanted = {ident(t): t for t in _get(new, "tool", "uv", key) or []}
    for name in dict.fromkeys([*was, *wanted]):
        tables = _get(doc, "tool", "uv", key)
        have = {ident(t): t for t in tables or []}
        o, n, c = was.get(name), wanted.get(name), have.get(name)
        where = f"tool.uv.{key}[{name}]"
        if c is not None and n is not None and o is not None and key == "index":
            for field in dict.fromkeys([*o, *n]):
                if field != "name" and merge.take(f"{where} {field}", o.get(field),
                                                  n.get(field), c.get(field)):
                    if n.get(field) is None:
                        del c[field]
                    else:
                        c[field] = n[field]
            continue
        if not merge.take(where, _plain(o), _plain(n), _plain(c)):
            continue
        if c is not None:
            used = {str(e.get("index")) for _, e in _source_entries(doc)}
            if key == "index" and n is None and name in used:
                merge.changes -= 1
                continue  # the user's own sources still use it
            _remove_aot_entry(tables, c)
        if n is not None:
            entry = copy.deepcopy(n)
            if tables is None:
                uv = _table(doc, "tool", "uv")
                last = uv.value.body[-1][1] if uv.value.body else None
                last = last[-1] if isinstance(last, AoT) and len(last) else last
                if last is not None and last.as_string().endswith("\n\n"):
                    entry.add(tomlkit.nl())  # the blank line before the next table moves past it
                else:
                    entry.trivia.indent = "\n"
                tables = tomlkit.aot()
                uv.add(key, tables)
            else:
                _spaced(tables, entry)
            tables.append(entry)
        elif tables is not None and not len(tables):
            del _get(doc, "tool", "uv")[key]


def _remove_aot_entry(tables: AoT, entry: Table) -> None:
    for i, t in enumerate(tables):
        if t is entry:
            del tables[i]
            return


def _merge_build(doc: Any, old: Any, new: Any, merge: _Merge) -> None:
    for key in ("extra-build-dependencies", "extra-build-variables"):
        was = _get(old, "tool", "uv", key) or {}
        wanted = _get(new, "tool", "uv", key) or {}
        for package in dict.fromkeys([*was, *wanted]):
            have = _get(doc, "tool", "uv", key) or {}
            o, n, c = (_plain(d.get(package)) for d in (was, wanted, have))
            if not merge.take(f"tool.uv.{key}.{package}", o, n, c):
                continue
            if n is None:
                del have[package]
            else:
                _table(doc, "tool", "uv", key)[package] = copy.deepcopy(wanted[package])


def _alias_indexes(doc: Any, old: Any, new: Any) -> None:
    """Call the PyTorch indexes of `old` and `new` by the names the user's file gives them."""
    names: dict[str, str] = {}
    for extra in _get(new, "project", "optional-dependencies") or {}:
        rendered, mine = _torch_index(old, extra) or _torch_index(new, extra), _torch_index(doc, extra)
        if rendered and mine and rendered != mine:
            names[rendered] = mine
    for rendering in (old, new):
        for _, entry in _source_entries(rendering):
            if entry.get("index") in names:
                entry["index"] = names[entry["index"]]
        for index in _get(rendering, "tool", "uv", "index") or []:
            if index.get("name") in names:
                index["name"] = names[index["name"]]


# ---------------------------------------------------------------------------------------------


def upgrade(
    folder: Path,
    catalog: Catalog,
    torch: str | None = None,
    replace: tuple[tuple[str, str], ...] = (),
    drop: tuple[str, ...] = (),
    force: bool = False,
) -> Upgrade:
    """The files `uvtorch upgrade` writes, the hand edits it keeps, and what to tell."""
    doc = read_pyproject(folder, "upgrade")
    before = doc.as_string()
    answers = current_answers(folder, doc, catalog)
    if answers.channel not in (None, "stable"):
        raise UsageError(
            f"This project follows the {answers.channel} channel, whose torch moves with every "
            "nightly: there is no release to upgrade to.",
            "Run `uv lock --upgrade-package torch` for the newest build.",
        )
    old = make_plan(answers, catalog)
    if not old.extras:
        raise UsageError(
            "This project uses the torch installed in its environment (-a system only), so "
            "there is no torch release to upgrade in pyproject.toml.",
            "Move the image to the new torch, then make the project again with uvtorch init "
            "-a system.",
        )
    wanted, _, notes = _new_answers(old, torch, replace, drop, catalog)
    new = make_plan(wanted, catalog)
    old_doc = tomlkit.parse(render_pyproject(old, catalog))
    new_doc = tomlkit.parse(render_pyproject(new, catalog))
    for raw in drop:
        accelerator = raw.strip().lower()
        _drop(doc, extra_name(accelerator), accelerator, strict=True)
        _drop(old_doc, extra_name(accelerator), accelerator, strict=False)
    for source, target in replace:
        source, target = source.strip().lower(), target.strip().lower()
        gone, came = extra_name(source), extra_name(target)
        for rendering, strict in ((doc, True), (old_doc, False)):
            index = _torch_index(rendering, gone)
            renamed = index if index == index_name(source) else None
            _rename(rendering, gone, came, renamed, index_name(target), strict)
    _alias_indexes(doc, old_doc, new_doc)
    merge = _Merge(force)
    _merge_scalars(doc, old_doc, new_doc, merge)
    _merge_extras(doc, old_doc, new_doc, merge)
    _merge_sources(doc, old_doc, new_doc, merge)
    _aot_merge(doc, old_doc, new_doc, merge, "index", lambda t: t.get("name"))
    _aot_merge(doc, old_doc, new_doc, merge, "dependency-metadata",
               lambda t: f"{t.get('name')} {t.get('version')}")
    _merge_build(doc, old_doc, new_doc, merge)
    after = tomlkit.dumps(doc)
    if not before.endswith("\n\n"):  # a table removed at the end leaves its blank line
        after = after.rstrip("\n") + "\n"
    files: dict[str, str] = {}
    if after != before:
        files["pyproject.toml"] = after
    if (folder / ANSWERS_FILE).is_file() and new.answers != old.answers:
        files[ANSWERS_FILE] = dump_answers(new.answers)
        readme, said = _follow_readme(folder, old, new, catalog)
        if readme is not None:
            files[README] = readme
        notes += said
    return Upgrade(files, before, after, tuple(merge.kept), tuple(notes) + new.notes, old, new)


README = "README.md"


def _follow_readme(folder: Path, old: Plan, new: Plan, catalog: Catalog) -> tuple[str | None, list[str]]:
    """The generated README.md for the new answers, when the one in `folder` is still what
    uvtorch made from the old ones (its commands name the extras and torch); a README with
    edits of the user's is left alone, with a note."""
    path = folder / README
    if not path.is_file():
        return None, []
    from uvtorch.init import build_project
    from uvtorch.questions import QUESTION_IDS

    try:
        was = build_project(old.answers, catalog, QUESTION_IDS).files.get(README)
        wanted = build_project(new.answers, catalog, QUESTION_IDS).files.get(README)
    except UvtorchError as exc:  # e.g. the template the project was made from is gone
        return None, [f"{README} was not rewritten: its template cannot be rendered ({exc})."]
    if wanted is None or was == wanted:
        return None, []
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        current = None
    if current == was:
        return wanted, []
    return None, [f"{README} has edits of yours, so it was left as it is; its commands may name "
                  "the old extras or torch (`uvtorch init OTHER --answers .uvtorch.toml` shows "
                  "the README uvtorch would write now)."]


def lock(folder: Path) -> tuple[bool, str]:
    """Run `uv lock` in the project when uv is on PATH: (locked, what uv said or why not)."""
    uv = shutil.which("uv")
    if uv is None:
        return False, "uv is not on PATH"
    result = subprocess.run([uv, "lock"], cwd=folder, capture_output=True, text=True, check=False)
    return result.returncode == 0, (result.stderr or result.stdout).strip()


