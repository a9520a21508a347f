"""The interactive wizard: the only module that talks to questionary (imported lazily).

Ctrl-C propagates as KeyboardInterrupt (questionary's `unsafe_ask`), so the CLI can exit 130
with nothing written.
"""

from collections.abc import Sequence
from typing import Any

from uvtorch.questions import Choice, Validator


def _choices(choices: Sequence[Choice]) -> list[Any]:
    import questionary

    return [
        questionary.Choice(c.title, value=c.value, checked=c.checked, disabled=c.disabled)
        for c in choices
    ]


class QuestionaryPrompter:
    """A `questions.Prompter` on the real terminal."""

    def text(self, message: str, default: str, validate: Validator) -> str:
        import questionary

        answer: str = questionary.text(message, default=default, validate=validate).unsafe_ask()
        return answer.strip()

    def select(self, message: str, choices: Sequence[Choice], default: str) -> str:
        import questionary

        answer: str = questionary.select(
            message, choices=_choices(choices), default=default or None
        ).unsafe_ask()
        return answer

    def checkbox(self, message: str, choices: Sequence[Choice], validate: Validator) -> list[str]:
        import questionary

        answer: list[str] = questionary.checkbox(
            message, choices=_choices(choices), validate=validate
        ).unsafe_ask()
        return answer

    def confirm(self, message: str, default: bool) -> bool:
        import questionary

        answer: bool = questionary.confirm(message, default=default).unsafe_ask()
        return answer
