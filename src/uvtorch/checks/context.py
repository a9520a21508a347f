"""Build the `CheckContext` for a project folder."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from uvtorch.catalog import Catalog
from uvtorch.check import Project, read_project
from uvtorch.checks.registry import CheckContext


def context_of(project: Project) -> CheckContext:
    """The context of an already read project."""
    return CheckContext(root=project.path, pyproject=project.data, lock=project.lock,
                        project=project)


def load_context(
    folder: Path, catalog: Catalog, environment: Mapping[str, str] | None = None
) -> CheckContext:
    """Read `folder`'s pyproject.toml (and uv.lock) into a context for the rules.

    The validating model reads first: a file that is not a regular file, not UTF-8 or not
    TOML stops here (UnreadableProject, exit 2) before anything else opens it."""
    from uvtorch.model import load_model

    model = load_model(folder, catalog)
    ctx = context_of(read_project(folder, catalog, environment))
    ctx.model = model
    return ctx
