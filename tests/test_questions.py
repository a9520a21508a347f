"""The question flow without a terminal: a scripted prompter stands in for the person."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from uvtorch.answers import Answers
from uvtorch.catalog import load
from uvtorch.questions import QUESTION_IDS, Choice, Validator, ask_all, settled


class Script:
    """Answers questions from a dict {prompt start: answer}; records what was asked."""

    def __init__(self, replies: dict[str, Any]) -> None:
        self.replies = replies
        self.asked: list[str] = []
        self.choices: dict[str, Sequence[Choice]] = {}
        self.validators: dict[str, Validator] = {}

    def _reply(self, message: str, default: Any) -> Any:
        self.asked.append(message)
        for start, reply in self.replies.items():
            if message.startswith(start):
                return reply
        return default

    def text(self, message: str, default: str, validate: Validator) -> str:
        self.validators[message] = validate
        reply = self._reply(message, default)
        assert validate(reply) is True, validate(reply)
        return str(reply)

    def select(self, message: str, choices: Sequence[Choice], default: str) -> str:
        self.choices[message] = choices
        return str(self._reply(message, default))

    def checkbox(self, message: str, choices: Sequence[Choice], validate: Validator) -> list[str]:
        self.choices[message] = choices
        self.validators[message] = validate
        reply = self._reply(message, [c.value for c in choices if c.checked])
        assert validate(reply) is True, validate(reply)
        return list(reply)

    def confirm(self, message: str, default: bool) -> bool:
        return bool(self._reply(message, default))


def run(replies: dict[str, Any], answers: Answers | None = None, settled_ids: set[str] | None = None,
        only: tuple[str, ...] | None = None) -> tuple[Answers, Script]:
    script = Script(replies)
    result = ask_all(answers or Answers(name="demo"), settled_ids or set(), only, load(), script)
    return result, script


def test_enter_everywhere_gives_the_defaults() -> None:
    answers, script = run({})
    assert len(script.asked) == len(QUESTION_IDS) - 1  # no GPU build: no kernel question
    assert answers.name == "demo"
    assert answers.torch == ">=2.15,<2.16"
    assert answers.accelerators == ("cpu",)
    assert answers.platforms == ()  # every platform: no environments
    assert answers.packages == ()


def test_settled_questions_are_not_asked() -> None:
    ids = settled(["name", "accelerators", "packages"])
    assert ids == {"name", "accelerators", "companions", "dependents"}
    _, script = run({}, settled_ids=ids)
    assert [m.split()[0] for m in script.asked] == ["PyTorch", "Python", "Platforms"]


def test_a_template_can_limit_the_questions() -> None:
    _, script = run({}, only=("name", "platforms"))
    assert script.asked == ["Project name", "Platforms to resolve for"]


def test_accelerators_without_a_build_are_one_disabled_line_with_the_reason() -> None:
    _, script = run({"PyTorch release": ">=2.9,<2.10"})
    choices = {c.value: c for c in script.choices["Accelerators (one extra each)"]}
    assert choices["cu128"].disabled is None
    assert choices["cu128"].title.startswith("cu128")
    assert "cu118" not in choices  # 2.9 has no cu118 build: not offered one by one
    assert choices[""].disabled == "not in torch 2.9; `uvtorch matrix` lists them"


def test_releases_without_a_preset_accelerator_are_disabled() -> None:
    _, script = run({}, answers=Answers(name="demo", accelerators=("cu118",)),
                    settled_ids={"accelerators"})
    releases = {c.value: c for c in script.choices["PyTorch release"]}
    assert releases[">=2.9,<2.10"].disabled == "no cu118 build"
    assert releases[">=2.7,<2.8"].disabled is None


def test_choices_flow_into_the_answers() -> None:
    answers, _ = run({
        "PyTorch release": ">=2.9,<2.10",
        "Accelerators": ["cpu", "cu128"],
        "torch-family": ["torchvision"],
        "Other packages": "ultralytics>=8.3, timm",
        "Platforms": ["linux-x86_64"],
    })
    assert answers.accelerators == ("cpu", "cu128")
    assert answers.packages == ("torchvision", "ultralytics>=8.3", "timm")
    assert answers.platforms == ("linux-x86_64",)


def test_prompts_refuse_what_the_flags_refuse_with_the_same_words() -> None:
    from uvtorch.plan import check_python

    _, script = run({"PyTorch release": ">=2.9,<2.10"})
    python = script.validators["Python versions (requires-python)"]
    assert python(">=3.11") is True
    with pytest.raises(Exception) as flag_error:
        check_python("three", [r for r in load().releases if str(r.minor) == "2.9"])
    assert python("three") == str(flag_error.value)
    assert "3.8" in str(python(">=3.8"))
    name = script.validators["Project name"]
    assert "not a valid project name" in str(name("my project"))
    dependents = script.validators["Other packages that need torch (space-separated)"]
    assert "not a valid requirement" in str(dependents("ultralytics>>1"))
    accelerators = script.validators["Accelerators (one extra each)"]
    assert "at least one" in str(accelerators([]))


def test_companion_versions_are_shown_for_the_chosen_torch() -> None:
    _, script = run({"PyTorch release": ">=2.12,<2.13"})
    titles = {c.value: c.title for c in script.choices["torch-family packages"]}
    assert titles["torchvision"] == "torchvision  (0.27.0, 0.27.1)"
    assert titles["torchaudio"] == "torchaudio  (2.11.0)"


def test_kernels_are_offered_only_for_gpu_builds() -> None:
    _, cpu_only = run({})
    assert "Kernels to build against torch" not in cpu_only.asked
    answers, script = run({"PyTorch release": ">=2.9,<2.10", "Accelerators": ["cpu", "rocm6.4"],
                           "Kernels": ["flash-attn"]})
    offered = {c.value for c in script.choices["Kernels to build against torch"]}
    assert "flash-attn" in offered and "apex" not in offered  # apex is CUDA-only
    assert answers.kernels == ("flash-attn",)
