"""`uvtorch init`: from answers to the files of a new project.

Pure apart from reading packaged data: returns the files to write and the notes to show, and
leaves printing and writing to the CLI.
"""


from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from uvtorch.answers import ANSWERS_FILE, Answers, dump_answers
from uvtorch.catalog import Catalog
from uvtorch.errors import WouldOverwrite
from uvtorch.plan import Plan, make_plan
from uvtorch.render import render_pyproject
from uvtorch.templates import BASE_TEMPLATE, Template, load_template, render_files


class Project(NamedTuple):
    """A planned project: its files (relative path -> text) and what to tell the user."""

    plan: Plan
    files: dict[str, str]


def image_interpreters(answers: Answers) -> dict[str, str]:
    """The interpreter paths the README's commands use for each image layout.

    The recorded interpreter fills the layout it was found in (both when the layout is not
    known); the other gets the usual path for images of that kind.
    """
    given, layout = answers.python_executable, answers.system_layout
    base = given if given and layout != "image-venv" else "/usr/bin/python3"
    venv = given if given and layout != "base-interpreter" else "/opt/venv/bin/python"
    return {
        "base_python": base,
        "venv_python": venv,
        "venv_prefix": str(PurePosixPath(venv).parent.parent),
    }


def _mirror_override(plan: Plan) -> str | None:
    """The README's example of uv's index override: the first index, at a mirror with the
    same layout (`<mirror>/<build>`, `<mirror>/nightly/<build>` for a channel)."""
    first = next((e for e in plan.extras if e.url), None)
    if first is None:
        return None
    channel = plan.answers.channel if plan.answers.channel not in (None, "stable") else None
    tail = f"{channel}/{first.accelerator}" if channel else first.accelerator
    return f"{first.index_name}=https://mirror.example.com/whl/{tail}"


def template_context(plan: Plan) -> dict[str, Any]:
    """The variables a file template can use."""
    return {
        "project": plan.project,
        "package": plan.package,
        "torch": plan.torch,
        "requires_python": plan.requires_python,
        "extras": plan.extras,
        "fallbacks": [e for e in plan.extras if e.fallback],
        "overrides": plan.overrides,
        "required_uv": str(plan.required_uv),
        "system": dict(plan.system),
        "excluded": plan.excluded or tuple(str(n) for n, _ in plan.system),
        "python_executable": plan.answers.python_executable,
        "system_layout": plan.answers.system_layout,
        "excluded_from": [str(name) for name, _ in plan.excluded_from],
        "system_sync": "uv sync --extra system" if plan.extras else "uv sync",
        "system_run": "uv run --extra system" if plan.extras else "uv run",
        **image_interpreters(plan.answers),
        "kernels": [k for k in plan.kernels if k.match_torch or k.build_requires],
        "kernel_extra": next(
            (e.name for e in plan.extras for k in plan.kernels if any(p.name == k.name for p in e.packages)),
            "",
        ),
        "channel": plan.answers.channel if plan.answers.channel not in (None, "stable") else None,
        "nightly_date": plan.answers.nightly_date,
        "mirror_override": _mirror_override(plan),
        "sync_command": f"uv sync --extra {plan.extras[0].name}" if plan.extras else "uv sync",
        "run_command": f"uv run --extra {plan.extras[0].name}" if plan.extras else "uv run",
    }


def build_project(answers: Answers, catalog: Catalog, questions: tuple[str, ...]) -> Project:
    """Plan the project and render every file it consists of.

    The base template's files come first; the chosen template's files are added on top (a
    file at the same path replaces the base one).
    """
    plan = make_plan(answers, catalog)
    context = template_context(plan)
    base = load_template(BASE_TEMPLATE, questions)
    chosen: Template | None = load_template(answers.template, questions) if answers.template else None
    files = render_files(base.root / "files", context)
    groups: dict[str, tuple[str, ...]] = {}
    if chosen is not None and chosen.root != base.root:
        files.update(render_files(chosen.root / "files", context))
        groups = chosen.dependency_groups
    files["pyproject.toml"] = render_pyproject(plan, catalog, groups)
    files[ANSWERS_FILE] = dump_answers(plan.answers)
    return Project(plan=plan, files=dict(sorted(files.items())))


def refuse_existing_project(target: Path) -> None:
    """Refuse to replace a pyproject.toml that is already there, pointing at `uvtorch add`.

    `--force` would replace the whole file: the user's name, dependencies and every table
    uvtorch does not write. Most people who run init on their project want add instead.
    """
    pyproject = target / "pyproject.toml"
    if not pyproject.is_file():
        return
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        data: dict[str, Any] = tomlkit.parse(pyproject.read_text(encoding="utf-8")).unwrap()
    except (OSError, UnicodeDecodeError, TOMLKitError):
        data = {}
    project = data.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    deps = project.get("dependencies") if isinstance(project, dict) else None
    tables = sorted(k for k in data if k != "project")
    kept = []
    if isinstance(name, str):
        kept.append(f"its name ({name})")
    if isinstance(deps, list) and deps:
        kept.append(f"its {len(deps)} dependencies")
    if tables:
        kept.append(f"the tables {', '.join(f'[{t}]' for t in tables)}")
    discards = ", ".join(kept) or "its contents"
    raise WouldOverwrite(
        f"{target} already has a pyproject.toml.",
        f"To give that project accelerator extras, run `uvtorch add {target} -a cpu -a cu128` "
        f"(it adds only the missing lines). `uvtorch init --force` would replace the file, "
        f"discarding {discards}.",
    )


# What to tell the user, as text: the CLI prints it.


def system_next(answers: Answers) -> str:
    """The first step for a -a system project: a venv that sees the image's torch."""
    if answers.system_layout == "base-interpreter":
        python = image_interpreters(answers)["base_python"]
        return (f"uv venv --system-site-packages --python {python} && uv sync "
                "(README.md: other image layouts)")
    if answers.system_layout == "image-venv":
        return "layer a venv on the image's as README.md shows, then uv sync"
    return "make a venv that sees the image's torch as README.md shows, then uv sync"


def summary(project: Project, target: Path) -> str:
    """What the wizard shows before asking to write: the project in a few lines."""
    plan = project.plan
    lines = [f"uvtorch will write {plan.project} into {target}:"]
    lines.append(f"  {plan.torch} for Python {plan.requires_python}")
    for extra in plan.extras:
        names = ", ".join(p.name for p in extra.packages)
        where = extra.url or f"torch from the environment: {plan.answers.system[0]}"
        lines.append(f"  extra {extra.name}: {names}  ({where})")
    platforms = ", ".join(plan.answers.platforms) or "all (linux, macOS, Windows)"
    lines.append(f"  platforms: {platforms}")
    lines.append(f"  files: {', '.join(project.files)}")
    lines += [f"  note: {note}" for note in plan.notes]
    return "\n".join(lines) + "\n"


def dry_run_report(project: Project, target: Path, force: bool) -> str:
    """`--dry-run`: every file, the plan's notes, and what writing would need."""
    out = []
    for rel, text in project.files.items():
        out.append(f"--- {rel} ---\n{text}" + ("" if text.endswith("\n") else "\n"))
    out += [f"note: {note}\n" for note in project.plan.notes]
    clash = [rel for rel in project.files if (target / rel).exists()]  # as write.existing
    if clash and not force:
        out.append(f"note: {', '.join(clash)} already exist; writing needs --force.\n")
    out.append(f"Dry run: nothing was written ({len(project.files)} files for {target}).\n")
    return "".join(out)


def created_report(project: Project, target: Path, shown: str, notes: list[str],
                   summarized: bool) -> str:
    """After writing: the files, the notes (unless the summary showed them) and the next step.

    `shown` is the target as the user typed it, for the `cd` of the next step.
    """
    plan = project.plan
    extras = [e.name for e in plan.extras]
    using = f"extras: {', '.join(extras)}" if extras else "from the environment"
    out = [f"Created {plan.project} in {target} ({plan.torch}; {using}):\n"]
    out += [f"  {rel}\n" for rel in project.files]
    out += [f"note: {note}\n" for note in (() if summarized else plan.notes)]
    out += [f"note: {note}\n" for note in notes]
    cd = "" if target.resolve() == Path.cwd() else f"cd {shown} && "
    # `uvtorch sync` chooses the extra this machine runs (the first extra is cpu even on a GPU
    # machine); plain uv beside it, as the generated README puts them.
    sync = (f"uvtorch sync  (picks the extra for this machine; with uv alone: "
            f"uv sync --extra {extras[0]})" if extras else system_next(plan.answers))
    out.append(f"Next: {cd}{sync}\n")
    return "".join(out)
