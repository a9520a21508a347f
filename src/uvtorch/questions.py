"""The questions `uvtorch init` can ask, as data, and the flow that decides which to ask.

Every question has a flag; a question answered by a flag (or by a replayed answers file) is
not asked, and a template may limit the questions to the ones it lists. Each answer is checked
with the same `plan.check_*` function that checks the flag, so a value the flag would refuse
is refused at the prompt with the same words. Talking to the terminal is `wizard.py`'s job:
this module only sees a `Prompter`, so the flow can be tested without one.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, Protocol

from packaging.version import Version

from uvtorch.answers import Answers
from uvtorch.catalog import Catalog, Release, variant_sort_key
from uvtorch.errors import UvtorchError
from uvtorch.plan import (
    check_name,
    check_package,
    check_python,
    check_requirement,
    check_torch,
    minor_range,
)
from uvtorch.system import SYSTEM


class Question(NamedTuple):
    """One question: its id (as templates' `ask` lists name it), flag and prompt text."""

    id: str
    flag: str
    prompt: str


QUESTIONS: tuple[Question, ...] = (
    Question("name", "-n/--name", "Project name"),
    Question("torch", "--torch", "PyTorch release"),
    Question("python", "--python", "Python versions (requires-python)"),
    Question("accelerators", "-a/--accelerator", "Accelerators (one extra each)"),
    Question("companions", "--package", "torch-family packages"),
    Question("dependents", "--package", "Other packages that need torch (space-separated)"),
    Question("kernels", "-k/--kernel", "Kernels to build against torch"),
    Question("platforms", "--platform", "Platforms to resolve for"),
)
QUESTION_IDS: tuple[str, ...] = tuple(q.id for q in QUESTIONS)

# Which answers settle which questions (the --package answer settles both package questions).
ANSWER_SETTLES = {
    "name": ("name",),
    "torch": ("torch",),
    "python": ("python",),
    "accelerators": ("accelerators",),
    "packages": ("companions", "dependents"),
    "platforms": ("platforms",),
    "kernels": ("kernels",),
}


class Choice(NamedTuple):
    """An option of a select or checkbox question."""

    title: str
    value: str
    checked: bool = False
    disabled: str | None = None  # the reason it cannot be chosen


Validator = Callable[[Any], "bool | str"]


class Prompter(Protocol):
    """What the flow needs from a terminal (questionary in wizard.py, a script in tests)."""

    def text(self, message: str, default: str, validate: Validator) -> str: ...

    def select(self, message: str, choices: Sequence[Choice], default: str) -> str: ...

    def checkbox(
        self, message: str, choices: Sequence[Choice], validate: Validator
    ) -> list[str]: ...

    def confirm(self, message: str, default: bool) -> bool: ...


def settled(layer_keys: Sequence[str]) -> set[str]:
    """The question ids that the given answers settle."""
    return {q for key in layer_keys for q in ANSWER_SETTLES.get(key, ())}


def _message(check: Callable[[], object]) -> "bool | str":
    """True if `check` passes, else the error text the flag would print."""
    try:
        check()
    except UvtorchError as exc:
        return str(exc)
    return True




def _index_builds(answers: Answers) -> tuple[str, ...]:
    """The accelerators that are builds on an index (all but `system`)."""
    return tuple(a for a in answers.accelerators if a != SYSTEM)


def _system_only(answers: Answers) -> bool:
    """torch, Python and platforms then come from the environment: nothing to ask."""
    return answers.accelerators == (SYSTEM,)


def _releases(answers: Answers, catalog: Catalog) -> list[Release]:
    _, patches = check_torch(answers.torch, _index_builds(answers) or ("cpu",), catalog)
    return [r for r in catalog.releases if any(p in patches for p in r.patches)]


def _companion_names(answers: Answers, catalog: Catalog) -> set[str]:
    from packaging.requirements import Requirement

    return {Requirement(p).name.lower() for p in answers.packages} & set(catalog.companions)


def ask_name(answers: Answers, catalog: Catalog, prompter: Prompter, q: Question) -> Answers:
    name = prompter.text(q.prompt, answers.name, lambda v: _message(lambda: check_name(v)))
    return answers._replace(name=name)


def ask_torch(answers: Answers, catalog: Catalog, prompter: Prompter, q: Question) -> Answers:
    if _system_only(answers):
        return answers
    chosen = _index_builds(answers)
    choices = []
    for release in reversed(catalog.releases):
        value = minor_range(release.minor)
        missing = [a for a in chosen if not release.patches_with(a)]
        builds = builds_summary(release.variants, catalog)
        choices.append(
            Choice(
                title=f"{release.minor}  (Python {release.python_min}-{release.python_max}; "
                f"{builds})",
                value=value,
                disabled=f"no {', '.join(missing)} build" if missing else None,
            )
        )
    enabled = [c.value for c in choices if c.disabled is None]
    default = answers.torch if answers.torch in enabled else (enabled[0] if enabled else "")
    if answers.torch and answers.torch not in enabled:
        return answers  # a custom spec from a template or file: keep it
    return answers._replace(torch=prompter.select(q.prompt, choices, default))


def ask_python(answers: Answers, catalog: Catalog, prompter: Prompter, q: Question) -> Answers:
    if _system_only(answers):
        return answers
    releases = _releases(answers, catalog)
    default = answers.python or check_python(None, releases)
    python = prompter.text(
        q.prompt, default, lambda v: _message(lambda: check_python(v, releases))
    )
    return answers._replace(python=python)


def builds_summary(variants: Iterable[str], catalog: Catalog) -> str:
    """`cpu, cu126..cu132 (4), rocm7.1, rocm7.2, xpu`: one release's builds in one short line.

    The full list ran past 80 columns, and the terminal cut the end of each title off.
    """
    by_family: dict[str, list[str]] = {}
    for v in sorted(variants, key=variant_sort_key):
        by_family.setdefault(catalog.family_of(v) or v, []).append(v)
    parts = []
    for members in by_family.values():
        if len(members) > 2:
            parts.append(f"{members[0]}..{members[-1]} ({len(members)})")
        else:
            parts.extend(members)
    return ", ".join(parts)


def nvidia_driver_text(version: Version) -> str:
    """A driver version as NVIDIA writes it (450.80.02, not PEP 440's 450.80.2)."""
    parts = version.release
    text = f"{parts[0]}" + "".join(f".{p:02d}" for p in parts[1:3])
    return text


def _driver_note(variant: str, catalog: Catalog) -> str:
    """What a machine needs for a build, e.g. the NVIDIA driver a CUDA build runs on."""
    family = catalog.family_of(variant)
    if family == "cuda":
        from uvtorch.detect import cuda_of, load_cuda

        cuda = cuda_of(variant)
        floors = load_cuda().driver_min.get(cuda[0]) if cuda else None
        if floors:
            need = ", ".join(
                f"{nvidia_driver_text(v)} {os_.capitalize()}" for os_, v in sorted(floors.items())
            )
            return f"NVIDIA, driver >= {need}"
        return "NVIDIA"
    return {"rocm": "AMD GPU, Linux", "xpu": "Intel GPU", "cpu": "any machine"}.get(
        family or "cpu", ""
    )


def ask_accelerators(
    answers: Answers, catalog: Catalog, prompter: Prompter, q: Question
) -> Answers:
    releases = _releases(answers._replace(accelerators=()), catalog)
    have = {v for r in releases for v in r.variants}
    names = ", ".join(str(r.minor) for r in releases)
    preset = answers.accelerators or ("cpu",)
    # Only the builds this torch has, one short line each: on an 80x24 terminal the whole
    # catalog (20+ builds, most disabled) scrolled the question off the screen.
    choices = [
        Choice(title=f"{v}  ({_driver_note(v, catalog)})", value=v, checked=v in preset)
        for v in catalog.all_variants()
        if v in have
    ]
    missing = [v for v in catalog.all_variants() if v not in have]
    if missing:
        choices.append(Choice(
            title=f"{len(missing)} other builds",
            value="",
            disabled=f"not in torch {names}; `uvtorch matrix` lists them",
        ))

    def validate(values: list[str]) -> "bool | str":
        if not values:
            return "Choose at least one accelerator (space toggles, enter confirms)."
        return _message(lambda: check_torch(answers.torch, tuple(values), catalog))

    return answers._replace(accelerators=tuple(prompter.checkbox(q.prompt, choices, validate)))


def ask_companions(
    answers: Answers, catalog: Catalog, prompter: Prompter, q: Question
) -> Answers:
    releases = [] if _system_only(answers) else _releases(answers, catalog)
    current = _companion_names(answers, catalog)
    choices = []
    for name in sorted(catalog.companions):
        if _system_only(answers):  # whatever the environment has, at its version
            choices.append(Choice(title=f"{name}  (the environment's)", value=name,
                                  checked=name in current))
            continue
        versions = sorted(
            {str(v) for r in releases for v in r.companions.get(name, {}).values()}, key=Version
        )
        choices.append(
            Choice(
                title=f"{name}  ({', '.join(versions)})" if versions else name,
                value=name,
                checked=name in current,
                disabled=None if versions else "no release matches this torch",
            )
        )
    picked = prompter.checkbox(q.prompt, choices, lambda _: True)
    others = tuple(p for p in answers.packages if check_requirement(p).name.lower() not in catalog.companions)
    return answers._replace(packages=tuple(picked) + others)


def ask_dependents(
    answers: Answers, catalog: Catalog, prompter: Prompter, q: Question
) -> Answers:
    companions = tuple(
        p for p in answers.packages if check_requirement(p).name.lower() in catalog.companions
    )
    current = " ".join(p for p in answers.packages if p not in companions)

    def validate(text: str) -> "bool | str":
        for item in text.replace(",", " ").split():
            result = _message(lambda: check_package(item))
            if result is not True:
                return result
        return True

    text = prompter.text(q.prompt, current, validate)
    return answers._replace(packages=companions + tuple(text.replace(",", " ").split()))


def ask_kernels(answers: Answers, catalog: Catalog, prompter: Prompter, q: Question) -> Answers:
    """Offered only when a GPU accelerator is chosen: kernels build for CUDA or ROCm."""
    from uvtorch.kernels import load_kernels

    families = {catalog.family_of(a) for a in answers.accelerators}
    if not families & {"cuda", "rocm"}:
        return answers  # (with -a system alone there is no GPU build: nothing to build for)
    recipes = load_kernels().recipes
    choices = [
        Choice(title=f"{name}  ({', '.join(r.families)})", value=name,
               checked=name in answers.kernels)
        for name, r in sorted(recipes.items())
        if families & set(r.families)
    ]
    picked = prompter.checkbox(q.prompt, choices, lambda _: True)
    return answers._replace(kernels=tuple(picked))


def ask_platforms(answers: Answers, catalog: Catalog, prompter: Prompter, q: Question) -> Answers:
    if _system_only(answers):
        return answers  # the environment's platform
    chosen = answers.platforms or tuple(catalog.platforms)
    choices = [Choice(title=p, value=p, checked=p in chosen) for p in catalog.platforms]
    picked = prompter.checkbox(
        q.prompt, choices, lambda v: True if v else "Choose at least one platform."
    )
    every = set(picked) == set(catalog.platforms)
    return answers._replace(platforms=() if every else tuple(picked))


ASKERS = {
    "name": ask_name,
    "torch": ask_torch,
    "python": ask_python,
    "accelerators": ask_accelerators,
    "companions": ask_companions,
    "dependents": ask_dependents,
    "kernels": ask_kernels,
    "platforms": ask_platforms,
}


def ask_all(
    answers: Answers,
    settled_ids: set[str],
    only: tuple[str, ...] | None,
    catalog: Catalog,
    prompter: Prompter,
) -> Answers:
    """Ask every question not settled (and, with a template's `only`, listed there)."""
    for question in QUESTIONS:
        if question.id in settled_ids or (only is not None and question.id not in only):
            continue
        answers = ASKERS[question.id](answers, catalog, prompter, question)
    return answers
