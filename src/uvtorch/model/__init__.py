"""A pure model of how uv routes torch: the validated project (project.py), the routing table
(routing.py) and its rendering (explain.py). Nothing here prints or writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from uvtorch.catalog import Catalog
from uvtorch.model.project import ProjectModel, read_project
from uvtorch.model.routing import Routing, predict, route


@dataclass(frozen=True)
class Model:
    project: ProjectModel
    catalog: Catalog
    routing: Routing  # from uv.lock when it locks the project, else predicted
    predicted: Routing  # always from pyproject.toml


def load_model(root: Path, catalog: Catalog) -> Model:
    """Read `root` once and compute its routing table."""
    from uvtorch.model.routing import family

    project = read_project(root, frozenset(family(catalog)))
    predicted = predict(project, catalog)
    routing = route(project, catalog) if project.lock is not None else predicted
    return Model(project, catalog, routing, predicted)
