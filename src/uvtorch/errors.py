"""One error hierarchy: every refusal names the bad value and what would work.

Core code raises these; only the CLI turns them into a message and an exit code, so a user
never sees a traceback for a mistake they can fix.
"""

from __future__ import annotations

USAGE = 2  # the command line itself is wrong
REFUSED = 1  # the request is understood but cannot be done safely


class UvtorchError(Exception):
    """A problem the user can fix; `hint` says how."""

    exit_code = REFUSED
    label = "error"  # what the CLI prints before the message

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class UvtorchWarning(UserWarning):
    """Something ignored so that the command can go on; the CLI prints it as one line."""


class UsageError(UvtorchError):
    """A flag value that is malformed or unknown."""

    exit_code = USAGE


class UnknownAccelerator(UsageError):
    """An accelerator id that no catalog release knows."""


class BadSpec(UsageError):
    """A version specifier, requirement or name that does not parse."""


class NoBuild(UvtorchError):
    """A valid choice for which PyTorch publishes no build (e.g. cu118 for torch 2.9)."""


class NeedsTerminal(UsageError):
    """Questions would be asked but nobody can answer them."""


class WouldOverwrite(UvtorchError):
    """Writing would replace files that already exist."""


class BadPyproject(UvtorchError):
    """An existing pyproject.toml cannot be read."""


class UnreadableProject(BadPyproject):
    """`check` cannot read its input (pyproject.toml or uv.lock): a usage error, exit 2, so a
    CI job never mistakes it for findings (exit 1)."""

    exit_code = USAGE


class TemplateEscape(UvtorchError):
    """A template path that would land outside the target folder."""


class Untrusted(UvtorchError):
    """A program to run named by a file someone else may have written, without --trust."""

    def __init__(self, action: str, value: str, origin: str) -> None:
        super().__init__(
            f"Refusing to {action} '{value}': it is named by {origin}, not by the command line, "
            "and running it would execute a program with your rights.",
            "Pass --trust to allow it for this run (only for files you trust), or give the "
            "interpreter yourself with --python-executable PATH.",
        )


class Cancelled(UvtorchError):
    """The user declined the summary: a choice, not an error (printed without "error")."""

    exit_code = REFUSED
    label = "cancelled"

    def __init__(self) -> None:
        super().__init__("nothing was written.")


class Interrupted(UvtorchError):
    """SIGINT or SIGTERM stopped a write; the message says what, if anything, is left."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum  # the shell's convention: 130 for SIGINT, 143 for SIGTERM
