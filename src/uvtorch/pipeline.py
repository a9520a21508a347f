"""The answers of `init` and `add`, stacked from their sources in one explicit order.

As copier's `AnswersMap` (copier/_user_data.py) stacks its answers with a `ChainMap`: each
source is a named layer, a higher layer wins per answer, and the stack remembers which layer
gave each answer, so a refusal (the --trust rule for `python_executable`) can name the file a
value came from. From lowest to highest:

    defaults < template < answers file < environment < flags < wizard

The environment layer holds what probing this machine found (the accelerator the wizard
pre-selects, `-a system`'s packages, Python and image layout). Probes only answer what no
layer answered, or resolve a value in the layer that gave it (`-a auto` becomes the build
detection chose; an interpreter becomes the path it resolved to), and that layer stays the
answer's source.

Core code never prints: what the user should read arrives through the `say`/`warn` callbacks
that the CLI passes in (pypa/build's `_ctx` logger idea), at the moment it happens.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from uvtorch.answers import Answers
from uvtorch.errors import UsageError

if TYPE_CHECKING:
    from uvtorch.catalog import Catalog
    from uvtorch.questions import Prompter
    from uvtorch.templates import Template

# The layers, lowest first: a later one wins per answer.
LAYERS: tuple[str, ...] = ("defaults", "template", "answers file", "environment", "flags", "wizard")
# Layers whose values other people may have written: a program they name runs only with --trust.
UNTRUSTED: frozenset[str] = frozenset({"template", "answers file"})

# The answer each init flag gives: answer key -> argparse destination.
FLAG_ANSWERS: dict[str, str] = {
    "name": "name",
    "python": "python",
    "torch": "torch",
    "accelerators": "accelerator",
    "packages": "package",
    "platforms": "platform",
    "index_url": "index_url",
    "python_executable": "python_executable",
    "system_layout": "system_layout",
    "kernels": "kernel",
    "cuda_archs": "cuda_arch",
    "gpus": "gpu",
    "channel": "channel",
    "nightly_date": "nightly_date",
}


def _quiet(text: str) -> None:
    """The default reporter: say nothing."""


def flag_layer(options: Mapping[str, Any]) -> dict[str, Any]:
    """The answers given by flags (only those actually given), from parsed options by dest."""
    given: dict[str, Any] = {}
    for key, dest in FLAG_ANSWERS.items():
        value = options.get(dest)
        if isinstance(value, list):
            value = tuple(value) or None
        if value is not None:
            given[key] = value
    return given


class Layer(NamedTuple):
    """One source of answers: its place in LAYERS, the words that name it, its answers."""

    name: str
    source: str
    values: dict[str, Any]


class AnswerStack:
    """Named layers of partial answers; `answers()` merges them, higher layers winning."""

    def __init__(self, name: str) -> None:
        """`name` is the default project name (the target folder's)."""
        self._layers: dict[str, Layer] = {
            layer: Layer(layer, layer, {}) for layer in LAYERS
        }
        self.put("defaults", "the defaults", {"name": name})

    def put(self, layer: str, source: str | None, values: Mapping[str, Any]) -> None:
        """Add answers to `layer` (None values are no answer); `source` names its origin."""
        if layer not in self._layers:
            raise ValueError(f"unknown answers layer {layer!r}; layers: {', '.join(LAYERS)}")
        old = self._layers[layer]
        merged = {**old.values, **{k: v for k, v in values.items() if v is not None}}
        self._layers[layer] = Layer(layer, source or old.source, merged)

    def layer(self, layer: str) -> Layer:
        return self._layers[layer]

    def view(self) -> ChainMap[str, Any]:
        """Every answer given, highest layer first (ChainMap's lookup order)."""
        return ChainMap(*(self._layers[name].values for name in reversed(LAYERS)))

    def answers(self) -> Answers:
        return Answers(**dict(self.view()))

    def origin(self, key: str) -> Layer | None:
        """The layer whose value of `key` wins, or None when no layer gives it."""
        return next(
            (self._layers[name] for name in reversed(LAYERS) if key in self._layers[name].values),
            None,
        )

    def keys_of(self, *layers: str) -> list[str]:
        return [key for name in layers for key in self._layers[name].values]

    def resolve(self, key: str, value: Any) -> None:
        """Replace `key`'s winning value by what it resolved to, in the layer that gave it (the
        environment layer when none did), so the answer keeps its source."""
        owner = self.origin(key)
        where = owner.name if owner is not None and owner.name != "defaults" else "environment"
        self._layers[where].values[key] = value

    def record(self, layer: str, before: Answers, after: Answers) -> None:
        """Put into `layer` every answer that differs between `before` and `after`."""
        changed = {k: v for k, v in after._asdict().items() if getattr(before, k) != v}
        self.put(layer, None, changed)


class SystemFlags(NamedTuple):
    """The command line's word on `-a system`: where the environment's torch is."""

    system_torch: str | None = None
    python_executable: str | None = None
    system_layout: str | None = None
    trust: bool = False


class Wizard(NamedTuple):
    """The questions to ask: a prompter, and a template's `ask` list (None: every question)."""

    prompter: Prompter
    only: tuple[str, ...] | None = None


def init_stack(
    name: str,
    flags: dict[str, Any],
    template_spec: str | None,
    answers_path: Path | None,
) -> tuple[AnswerStack, Template | None]:
    """The layers `uvtorch init` starts from: a template's presets, a replayed answers file
    and the flags (the wizard and the environment are added by `settle`)."""
    from uvtorch.answers import load_answers

    replayed = load_answers(answers_path) if answers_path is not None else {}
    template = None
    spec = template_spec or replayed.get("template")
    if spec:
        from uvtorch.questions import QUESTION_IDS
        from uvtorch.templates import load_template

        template = load_template(spec, QUESTION_IDS)
        flags = {**flags, "template": template.name}
    stack = AnswerStack(name)
    if template is not None:
        stack.put("template", f"the template {template.name}", template.presets)
    if answers_path is not None:
        stack.put("answers file", f"the answers file {answers_path}", replayed)
    stack.put("flags", "the command line", flags)
    return stack, template


def add_stack(
    current: Answers, source: str, additions: Mapping[str, tuple[str, ...]],
    torch: str | None, index_url: str | None,
) -> AnswerStack:
    """The layers `uvtorch add` starts from: the project's answers, then the flags, whose lists
    extend the project's (an accelerator is added, not chosen instead)."""
    stack = AnswerStack(current.name)
    stack.put("answers file", source, current._asdict())
    union = {
        key: tuple(dict.fromkeys(getattr(current, key) + additions.get(key, ())))
        for key in ("accelerators", "packages", "kernels")
    }
    stack.put("flags", "the command line", {
        **{k: v for k, v in union.items() if v != getattr(current, k)},
        "cuda_archs": additions.get("cuda_archs") or None,
        "gpus": additions.get("gpus") or None,
        "torch": torch or None,
        "index_url": index_url or None,
    })
    return stack


def auto_choice(torch_spec: str | None, warn: Callable[[str], None] = _quiet) -> Any:
    """What `-a auto` means here: the newest release of the spec (default: any) with a build
    this machine's GPU runs; a warning when the spec has none."""
    from uvtorch.catalog import load
    from uvtorch.detect import choose_for_machine, detect
    from uvtorch.plan import check_torch
    from uvtorch.probe import SystemReader, probe

    catalog = load()
    minors = None
    if torch_spec:
        _, patches = check_torch(torch_spec, (), catalog)
        minors = [str(r.minor) for r in catalog.releases if any(p in patches for p in r.patches)]
    detection = detect(probe(SystemReader(query_torch=False)))
    choice = choose_for_machine(detection, catalog, minors)
    if torch_spec and choice.accelerator == "cpu" and choice.alternative:
        minor, build = choice.alternative
        warn(
            f"warning: -a auto: no torch release matching --torch '{torch_spec}' has a build "
            f"for this machine's GPU, so auto means cpu; torch {minor} has {build}, which fits "
            f"(e.g. --torch '>={minor},<{minor.split('.')[0]}.{int(minor.split('.')[1]) + 1}' "
            f"-a {build})."
        )
    return choice


def resolve_auto(
    stack: AnswerStack, say: Callable[[str], None] = _quiet, warn: Callable[[str], None] = _quiet
) -> None:
    """Replace `-a auto` by what detection chooses for the answers' torch; say why."""
    answers = stack.answers()
    if "auto" not in answers.accelerators:
        return
    from uvtorch.catalog import load
    from uvtorch.plan import check_torch

    others = tuple(a for a in answers.accelerators if a != "auto")
    if answers.torch:
        check_torch(answers.torch, others, load())  # the flag's own errors come first
    choice = auto_choice(answers.torch, warn)
    say(f"-a auto: {choice.accelerator} (torch {choice.torch})")
    for reason in choice.reasons:
        say(f"  {reason}")
    chosen = tuple(dict.fromkeys(
        a if a != "auto" else choice.accelerator for a in answers.accelerators))
    stack.resolve("accelerators", chosen)
    if not answers.torch:
        # The release detection judged this machine's GPU against: asking the index later may
        # find a newer release with the same build, whose GPU support nobody has checked.
        from packaging.version import Version

        from uvtorch.plan import minor_range

        stack.put("environment", "this machine", {"torch": minor_range(Version(choice.torch))})


def ask(stack: AnswerStack, wizard: Wizard, catalog: Catalog,
        warn: Callable[[str], None] = _quiet) -> None:
    """Ask the questions no answers file or flag settled; the answers become the wizard layer."""
    from uvtorch.questions import ask_all, settled

    answers = stack.answers()
    if not answers.accelerators:  # pre-select what this machine has (as -a auto)
        choice = auto_choice(answers.torch, warn)
        stack.put("environment", "this machine",
                  {"accelerators": tuple(dict.fromkeys(("cpu", choice.accelerator)))})
        answers = stack.answers()
    asked = ask_all(answers, settled(stack.keys_of("answers file", "flags")), wizard.only,
                    catalog, wizard.prompter)
    stack.record("wizard", answers, asked)


def probe_system(stack: AnswerStack, flags: SystemFlags) -> None:
    """For -a system, record what the environment provides (probing it unless told).

    An interpreter named by a template or an answers file (not the command line or the
    wizard) is run only with --trust; the refusal names that file.
    """
    answers = stack.answers()
    if "system" not in answers.accelerators:
        given = [flag for flag, value in (("--system-torch", flags.system_torch),
                                          ("--system-layout", flags.system_layout)) if value]
        if given:
            raise UsageError(
                f"{given[0]} applies only to -a system (the torch a container image has).",
                f"Add -a system (an extra next to the index accelerators), or drop {given[0]}.",
            )
        return
    from uvtorch.catalog import load
    from uvtorch.plan import check_requirement

    if flags.system_layout:  # the command line's word on the layout wins (init and add)
        stack.put("flags", None, {"system_layout": flags.system_layout})
    if flags.system_torch:  # wins over a replayed answers file's torch; keeps its companions
        from packaging.version import InvalidVersion, Version

        try:
            Version(flags.system_torch)
        except InvalidVersion:
            raise UsageError(
                f"--system-torch {flags.system_torch!r} is not a version: it names the one torch "
                "build the image has, not a range.",
                "Give the exact version, e.g. --system-torch 2.5.0a0+872d972e41.nv24.08 (what "
                "`python -c 'import torch; print(torch.__version__)'` prints in the image).",
            ) from None
        companions = load().companions
        kept = [s for s in answers.system if check_requirement(s).name.lower() != "torch"]
        have = {check_requirement(s).name.lower() for s in kept}
        wanted = [check_requirement(p).name.lower() for p in answers.packages]
        extra = sorted(n for n in wanted if n in companions and n not in have)
        stack.put("flags", None, {"system": (f"torch=={flags.system_torch}", *kept, *extra)})
        return
    if answers.system:  # replayed
        return
    from uvtorch.imagetorch import probe

    if flags.python_executable:  # the command line names the interpreter: it wins
        stack.put("flags", None, {"python_executable": flags.python_executable})
    elif answers.python_executable and not flags.trust:
        owner = stack.origin("python_executable")
        if owner is not None and owner.name in UNTRUSTED:
            from uvtorch.errors import Untrusted

            raise Untrusted("run the interpreter", answers.python_executable, owner.source)
    answers = stack.answers()
    found = probe(answers.python_executable)
    major, minor = (int(x) for x in found.python.split("."))
    if answers.python:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            admitted = SpecifierSet(answers.python).contains(found.python, prereleases=True)
        except InvalidSpecifier:
            admitted = True  # the plan reports a bad spec in its own words
        if not admitted:
            raise UsageError(
                f"The environment's Python {found.python} ({found.executable}) is outside "
                f"requires-python {answers.python}, so the project could not be installed there.",
                f"Give --python '>={found.python}' (or a range that includes {found.python}).",
            )
    stack.resolve("system", tuple(f"{n}=={v}" for n, v in sorted(found.packages.items())))
    stack.resolve("python_executable", found.interpreter)
    if not answers.system_layout:
        stack.resolve("system_layout", found.layout)
    if not answers.python:
        stack.resolve("python", f">={major}.{minor},<{major}.{minor + 1}")


def settle(
    stack: AnswerStack,
    catalog: Catalog,
    system: SystemFlags,
    wizard: Wizard | None = None,
    *,
    say: Callable[[str], None] = _quiet,
    warn: Callable[[str], None] = _quiet,
) -> Answers:
    """The answers to plan from: `-a auto` resolved, the wizard's answers (when asked) and what
    `-a system` finds in the environment, each in its layer."""
    resolve_auto(stack, say, warn)
    if wizard is not None:
        ask(stack, wizard, catalog, warn)
    probe_system(stack, system)
    return stack.answers()


def sources(stack: AnswerStack, keys: Iterable[str]) -> dict[str, str]:
    """Where each answer came from, by the words that name its layer (for notes and tests)."""
    return {key: owner.source for key in keys if (owner := stack.origin(key)) is not None}
