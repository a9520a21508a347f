"""Name normalization, done once: package names (PEP 503), extras (PEP 685), index names."""

from __future__ import annotations

import re
from typing import NewType

PackageName = NewType("PackageName", str)
ExtraName = NewType("ExtraName", str)

# fullmatch, ASCII: "$" would admit a trailing newline, "\\d"-style classes full-width digits.
_PROJECT_NAME = re.compile(r"([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])", re.IGNORECASE | re.ASCII)


def canonicalize_name(name: str) -> str:
    """PEP 503 normalization, as `packaging.utils.canonicalize_name` does it without
    validation; written out because importing packaging.utils (and packaging.tags with it)
    costs ~40 ms of every start, most of `uvtorch which`'s budget."""
    return re.sub(r"[-_.]+", "-", name).lower()


def package_name(name: str) -> PackageName:
    """The canonical form of a distribution name (`Torch_Vision` -> `torch-vision`)."""
    return PackageName(canonicalize_name(name))


def extra_name(accelerator: str) -> ExtraName:
    """The extra for an accelerator, normalized as PEP 685 says (`rocm6.4` -> `rocm6-4`)."""
    return ExtraName(re.sub(r"[-_.]+", "-", accelerator).lower())


def index_name(accelerator: str) -> str:
    """The `[[tool.uv.index]]` name for an accelerator's PyTorch index."""
    return f"pytorch-{extra_name(accelerator)}"


def is_valid_project_name(name: str) -> bool:
    """Whether `name` is a valid distribution name (PEP 508 / packaging core metadata)."""
    return bool(_PROJECT_NAME.fullmatch(name))


def import_name(project: str) -> str:
    """The Python package name for a project (`my-Project.x` -> `my_project_x`)."""
    return re.sub(r"[^0-9a-zA-Z_]", "_", canonicalize_name(project)).lower()
