"""Rendered pyproject.toml files: snapshots for review, plus properties every file must have."""

from __future__ import annotations


import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode
from validate_pyproject import api as validate_api

from casefiles import case_names, load_case
from tomlread import loads
from uvtorch.catalog import load
from uvtorch.plan import make_plan
from uvtorch.render import render_pyproject


class TomlSnapshot(SingleFileSnapshotExtension):
    """One readable .toml file per case, reviewed like code."""

    _write_mode = WriteMode.TEXT
    file_extension = "toml"


@pytest.fixture
def toml_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(TomlSnapshot)


def _render(case: str) -> str:
    catalog = load()
    return render_pyproject(make_plan(load_case(case), catalog), catalog)


@pytest.mark.parametrize("case", case_names())
def test_rendered_pyproject_matches_snapshot(case: str, toml_snapshot: SnapshotAssertion) -> None:
    assert _render(case) == toml_snapshot


@pytest.fixture(scope="module")
def validator() -> validate_api.Validator:
    # The schema-store plugin validates [tool.uv] against uv's published schema too.
    return validate_api.Validator()


@pytest.mark.parametrize("case", case_names())
def test_rendered_pyproject_passes_validate_pyproject(
    case: str, validator: validate_api.Validator
) -> None:
    validator(loads(_render(case)))


@pytest.mark.parametrize("case", case_names())
def test_same_answers_give_the_same_bytes(case: str) -> None:
    assert _render(case) == _render(case)


@pytest.mark.parametrize("case", case_names())
def test_torch_is_never_a_base_dependency(case: str) -> None:
    data = loads(_render(case))
    assert not any(d.startswith("torch") for d in data["project"]["dependencies"])
    for extra, requirements in data["project"].get("optional-dependencies", {}).items():
        if extra == "system":  # the environment's torch: none listed, none pulled in
            assert not any(r.startswith(("torch", "torchvision")) for r in requirements)
            continue
        assert requirements[0].startswith("torch")


@pytest.mark.parametrize("case", case_names())
def test_every_index_package_has_a_source_per_extra(case: str) -> None:
    data = loads(_render(case))
    uv = data["tool"]["uv"]
    if "torch" in uv.get("exclude-dependencies", []):  # -a system: no index at all
        assert "index" not in uv
        return
    indexes = {i["name"]: i for i in uv["index"]}
    assert all(i["explicit"] for i in indexes.values())
    for name, entries in uv["sources"].items():
        for entry in entries:
            assert entry["index"] in indexes
            listed = data["project"]["optional-dependencies"][entry["extra"]]
            assert any(r.split(";")[0].startswith(name) for r in listed), (name, entry)
    extras = set(data["project"]["optional-dependencies"])
    if len(extras) > 1:
        assert [{c["extra"] for c in uv["conflicts"][0]}] == [extras]


KERNELS = sorted(
    __import__("uvtorch.kernels", fromlist=["load_kernels"]).load_kernels().recipes
)


@pytest.mark.parametrize("kernel", KERNELS)
def test_kernel_recipe_renders(
    kernel: str, toml_snapshot: SnapshotAssertion, validator: validate_api.Validator
) -> None:
    """Each catalog recipe in a cpu + CUDA + ROCm project, for an H100 and an MI300X."""
    from uvtorch.answers import Answers

    catalog = load()
    answers = Answers(name="kernels", torch=">=2.9,<2.10", accelerators=("cpu", "cu128", "rocm6.4"),
                      kernels=(kernel,), gpus=("h100", "mi300x"))
    if kernel in {"grouped-gemm", "apex", "transformer-engine"}:  # CUDA only
        answers = answers._replace(accelerators=("cpu", "cu128"), gpus=("h100",))
    text = render_pyproject(make_plan(answers, catalog), catalog)
    validator(loads(text))
    assert text == toml_snapshot
