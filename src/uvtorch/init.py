"""`uvtorch init`: from answers to the files of a new project.

Pure apart from reading packaged data: returns the files to write and the notes to show, and
leaves printing and writing to the CLI.
"""


from typing import NamedTuple
from typing import Any

from uvtorch.answers import ANSWERS_FILE, Answers, dump_answers
from uvtorch.catalog import Catalog
from uvtorch.plan import Plan, make_plan
from uvtorch.render import render_pyproject
from uvtorch.templates import builtin_templates, render_files

DEFAULT_TEMPLATE = "minimal"


class Project(NamedTuple):
    """A planned project: its files (relative path -> text) and what to tell the user."""

    plan: Plan
    files: dict[str, str]


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
    }


def build_project(answers: Answers, catalog: Catalog) -> Project:
    """Plan the project and render every file it consists of."""
    plan = make_plan(answers, catalog)
    files = render_files(
        builtin_templates().joinpath(DEFAULT_TEMPLATE, "files"), template_context(plan)
    )
    files["pyproject.toml"] = render_pyproject(plan, catalog)
    files[ANSWERS_FILE] = dump_answers(plan.answers)
    return Project(plan=plan, files=dict(sorted(files.items())))
