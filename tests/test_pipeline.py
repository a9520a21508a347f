"""The answer layers of init and add: the order, the recorded sources, the --trust rule."""

from __future__ import annotations

from itertools import combinations

import pytest

from uvtorch.answers import Answers
from uvtorch.errors import Untrusted
from uvtorch.pipeline import (
    LAYERS,
    AnswerStack,
    SystemFlags,
    add_stack,
    flag_layer,
    probe_system,
    sources,
)

PAIRS = list(combinations(LAYERS, 2))  # (lower, higher), in the documented order


def test_the_documented_order() -> None:
    assert LAYERS == ("defaults", "template", "answers file", "environment", "flags", "wizard")


@pytest.mark.parametrize(("low", "high"), PAIRS, ids=[f"{lo}<{hi}" for lo, hi in PAIRS])
def test_the_higher_layer_wins_and_is_the_recorded_source(low: str, high: str) -> None:
    stack = AnswerStack("demo")
    # Put the higher layer first: the order of the calls must not matter, only the layer's.
    stack.put(high, f"source of {high}", {"torch": f"from {high}", "name": f"n-{high}"})
    stack.put(low, f"source of {low}", {"torch": f"from {low}", "packages": (low,)})
    answers = stack.answers()
    assert answers.torch == f"from {high}"
    assert answers.name == f"n-{high}"
    owner = stack.origin("torch")
    assert owner is not None and owner.name == high and owner.source == f"source of {high}"
    # An answer only the lower layer gives still comes through, named by that layer.
    assert answers.packages == (low,)
    assert sources(stack, ["packages", "torch"]) == {
        "packages": f"source of {low}", "torch": f"source of {high}"}


def test_none_is_no_answer() -> None:
    stack = AnswerStack("demo")
    stack.put("template", "the template t", {"torch": ">=2.9"})
    stack.put("flags", "the command line", {"torch": None})
    assert stack.answers().torch == ">=2.9"
    assert sources(stack, ["torch", "python"]) == {"torch": "the template t"}


def test_the_folder_name_is_the_default_name() -> None:
    stack = AnswerStack("folder")
    assert stack.answers() == Answers(name="folder")
    owner = stack.origin("name")
    assert owner is not None and owner.name == "defaults"


def test_a_resolved_value_keeps_its_source() -> None:
    stack = AnswerStack("demo")
    stack.put("answers file", "the answers file a.toml", {"accelerators": ("auto",)})
    stack.resolve("accelerators", ("cu130",))
    assert stack.answers().accelerators == ("cu130",)
    assert sources(stack, ["accelerators"]) == {"accelerators": "the answers file a.toml"}
    stack.resolve("system_layout", "image-venv")  # nobody gave it: the environment found it
    owner = stack.origin("system_layout")
    assert owner is not None and owner.name == "environment"


def test_the_wizard_layer_holds_only_what_the_wizard_changed() -> None:
    stack = AnswerStack("demo")
    stack.put("flags", "the command line", {"torch": ">=2.9,<2.10"})
    before = stack.answers()
    stack.record("wizard", before, before._replace(python=">=3.12"))
    assert stack.layer("wizard").values == {"python": ">=3.12"}
    assert sources(stack, ["torch"]) == {"torch": "the command line"}


def test_an_unknown_layer_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown answers layer 'cli'"):
        AnswerStack("demo").put("cli", None, {})


def test_the_flag_layer_has_only_the_flags_given() -> None:
    options = {"name": None, "accelerator": ["cpu", "cu128"], "package": [], "torch": "2.9",
               "python_executable": None, "yes": True}
    assert flag_layer(options) == {"accelerators": ("cpu", "cu128"), "torch": "2.9"}


def test_add_extends_the_projects_lists() -> None:
    current = Answers(name="demo", accelerators=("cpu",), packages=("torchvision",),
                      torch=">=2.9,<2.10")
    stack = add_stack(current, "/p/.uvtorch.toml", {"accelerators": ("cu128", "cpu")},
                      None, None)
    answers = stack.answers()
    assert answers.accelerators == ("cpu", "cu128")
    assert answers.packages == ("torchvision",)
    assert sources(stack, ["accelerators", "torch"]) == {
        "accelerators": "the command line", "torch": "/p/.uvtorch.toml"}


class _WouldRun(Exception):
    """Raised by the fake probe: the interpreter would have been run."""


@pytest.fixture
def no_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    def probe(python: str | None) -> None:
        raise _WouldRun(python)

    monkeypatch.setattr("uvtorch.imagetorch.probe", probe)


TRUST_CASES = [  # (layer giving python_executable, its source words, refused without --trust)
    ("template", "the template evil", True),
    ("answers file", "the answers file /tmp/a.toml", True),
    ("environment", "this machine", False),
    ("flags", "the command line", False),
    ("wizard", "the wizard", False),
]


@pytest.mark.parametrize(("layer", "source", "refused"), TRUST_CASES,
                         ids=[c[0] for c in TRUST_CASES])
def test_the_trust_refusal_names_the_layer_that_named_the_interpreter(
    layer: str, source: str, refused: bool, no_probe: None
) -> None:
    stack = AnswerStack("demo")
    stack.put("flags", "the command line", {"accelerators": ("system",)})
    stack.put(layer, source, {"python_executable": "/x/python"})
    if refused:
        with pytest.raises(Untrusted) as caught:
            probe_system(stack, SystemFlags())
        assert f"'/x/python': it is named by {source}," in caught.value.message
        assert "--trust" in caught.value.hint
    else:
        with pytest.raises(_WouldRun):
            probe_system(stack, SystemFlags())
    with pytest.raises(_WouldRun):  # --trust: it runs, whoever named it
        probe_system(stack, SystemFlags(trust=True))


def test_a_higher_layers_interpreter_is_not_refused_for_a_lower_ones(no_probe: None) -> None:
    stack = AnswerStack("demo")
    stack.put("template", "the template evil", {"python_executable": "/evil/python",
                                                "accelerators": ("system",)})
    stack.put("flags", "the command line", {"python_executable": "/usr/bin/python3"})
    with pytest.raises(_WouldRun, match="/usr/bin/python3"):
        probe_system(stack, SystemFlags())
    # The --python-executable flag wins over an answers file's interpreter, too.
    stack = AnswerStack("demo")
    stack.put("answers file", "the answers file a.toml", {"python_executable": "/evil/python",
                                                           "accelerators": ("system",)})
    with pytest.raises(_WouldRun, match="/usr/bin/python3"):
        probe_system(stack, SystemFlags(python_executable="/usr/bin/python3"))
