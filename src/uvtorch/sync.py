"""`uvtorch sync`, `run` and `which`: read the project and the machine, build uv's command.

The decision is `uvtorch.choose_extra`'s; this module gathers its inputs (pyproject.toml,
.uvtorch.toml, uv.lock, the probed machine, whether this is a container image with torch),
splits the user's arguments into uvtorch's and uv's without changing uv's, and returns the
`uv` command line to run. Running it, printing and exiting are the CLI's.

The `uv` that runs is the one on PATH: nothing read from the project ever names a program.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from uvtorch.choose_extra import (
    ENV_EXTRA,
    ExtraChoice,
    ProjectExtra,
    choose_extra,
    normalize,
    project_extras,
)
from uvtorch.errors import UsageError, UvtorchError
from uvtorch.system import SYSTEM

# Container markers. source: Podman writes /run/.containerenv into every container
# (podman-run(1), "Podman creates /run/.containerenv"); Docker creates /.dockerenv (moby's
# daemon, not a documented interface); systemd's Container Interface sets `container=` for
# PID 1 (systemd.io/CONTAINER_INTERFACE), which Podman and systemd-nspawn export.
CONTAINER_FILES = ("/.dockerenv", "/run/.containerenv")
CONTAINER_ENV = "container"
# uv's own variable for the project's environment; empty is ignored, a relative path is
# resolved against the workspace root. source: astral-sh/uv#6834, which added it.
ENV_PROJECT_ENVIRONMENT = "UV_PROJECT_ENVIRONMENT"


class UvMissing(UvtorchError):
    """`uv` is not on PATH."""


@cache
def uv_cli() -> dict[str, Any]:
    """`data/uv_cli.toml`: uv's options that take a value, and how to get uv."""
    from uvtorch.catalog import read_data

    return read_data("uv_cli.toml")


def find_uv() -> str:
    """The `uv` on PATH, or an error that says how to get it."""
    found = shutil.which("uv")
    if found is None:
        raise UvMissing("uv is not on PATH; uvtorch sync and run call it.", uv_cli()["install_hint"])
    return found


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


class Split(NamedTuple):
    """The user's arguments: uv's options (in order, unchanged) and, for run, the command."""

    uv_args: tuple[str, ...]
    command: tuple[str, ...]  # `uv run`'s command and its arguments (a leading `--` included)
    extras: tuple[tuple[int, str], ...]  # (position in uv_args, value) of each --extra
    all_extras: bool
    verify: bool  # sync: `--verify` (uvtorch's own; uv has no such flag)
    directory: str | None  # --directory, --project: where uv looks for the project
    project: str | None
    active: bool  # --active: uv syncs the active virtual environment


def split_args(subcommand: str, argv: Sequence[str]) -> Split:
    """Walk `argv` as uv would: options (some take a value) until `run`'s command begins."""
    takes_value = set(uv_cli()["value_options"][subcommand])
    uv_args: list[str] = []
    extras: list[tuple[int, str]] = []
    found: dict[str, str] = {}
    all_extras = verify = active = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if subcommand == "run" and (arg == "--" or not arg.startswith("-") or arg == "-"):
            break  # the command starts here
        if subcommand == "sync" and arg == "--verify":
            verify = True
            i += 1
            continue
        name, eq, value = arg.partition("=")
        if arg.startswith("--") and eq and name in takes_value:
            uv_args.append(arg)
            i += 1
        elif arg in takes_value:
            if i + 1 >= len(argv):
                raise UsageError(f"{arg} needs a value.", f"e.g. uvtorch {subcommand} {arg} VALUE")
            value = argv[i + 1]
            uv_args += [arg, value]
            name = arg
            i += 2
        elif not arg.startswith("--") and arg[:2] in takes_value and len(arg) > 2:
            name, value = arg[:2], arg[2:]  # -p3.12
            uv_args.append(arg)
            i += 1
        else:
            uv_args.append(arg)
            name, value = arg, ""
            all_extras = all_extras or arg == "--all-extras"
            active = active or arg == "--active"
            i += 1
            continue
        if name == "--extra":
            extras.append((len(uv_args) - (1 if eq else 2), value))
        elif name in ("--directory", "--project"):
            found[name] = value
    return Split(
        uv_args=tuple(uv_args),
        command=tuple(argv[i:]),
        extras=tuple(extras),
        all_extras=all_extras,
        verify=verify,
        directory=found.get("--directory"),
        project=found.get("--project"),
        active=active,
    )


# --------------------------------------------------------------------------------------------
# The project
# --------------------------------------------------------------------------------------------


class Project(NamedTuple):
    """What `uvtorch sync` reads from a project."""

    root: Path
    extras: tuple[ProjectExtra, ...]
    answers: Mapping[str, Any]  # .uvtorch.toml's [answers], {} when absent


def _read_toml(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)
    import tomlkit  # Python 3.10

    return tomlkit.parse(text).unwrap()


def find_project(start: Path) -> Path:
    """The nearest folder at or above `start` whose pyproject.toml has a [project] table."""
    for folder in (start, *start.parents):
        path = folder / "pyproject.toml"
        if path.is_file():
            try:
                if "project" in _read_toml(path):
                    return folder
            except (OSError, ValueError):
                pass
    raise UvtorchError(
        f"No pyproject.toml with a [project] table in {start} or above it.",
        "Run uvtorch sync inside a project (or give --project DIR); `uvtorch init` makes one.",
    )


def load_project(folder: Path) -> Project:
    """Read pyproject.toml, .uvtorch.toml and uv.lock (the last two when present)."""
    from uvtorch.detect import load_cuda

    try:
        pyproject = _read_toml(folder / "pyproject.toml")
    except (OSError, ValueError) as exc:
        raise UvtorchError(
            f"Cannot read {folder / 'pyproject.toml'}: {exc}.",
            "Fix the file (uv would refuse it too).",
        ) from None
    answers: dict[str, Any] = {}
    try:
        answers = _read_toml(folder / ".uvtorch.toml")
    except (OSError, ValueError):
        pass  # not made by uvtorch, or unreadable: pyproject.toml alone decides
    try:
        lock = (folder / "uv.lock").read_text(encoding="utf-8")
    except OSError:
        lock = None
    minors = {minor for (_, minor, _) in load_cuda().archs}
    return Project(folder, project_extras(pyproject, answers, lock, minors),
                   answers.get("answers", {}) or {})


def project_root(split: Split, cwd: Path | None = None) -> Path:
    """Where uv will look for the project, given --directory and --project."""
    base = Path(cwd or Path.cwd())
    if split.directory:
        base = base / split.directory
    return find_project((base / split.project) if split.project else base)


# --------------------------------------------------------------------------------------------
# The machine
# --------------------------------------------------------------------------------------------


def probe_machine() -> Any:
    """The machine as `uvtorch detect` sees it, without asking any Python about torch."""
    from uvtorch.detect import detect
    from uvtorch.probe import SystemReader, probe

    return detect(probe(SystemReader(query_torch=False)))


def in_image_with_torch(environ: Mapping[str, str] | None = None) -> bool:
    """Inside a container image (its markers) whose python3 on PATH can import torch."""
    env = os.environ if environ is None else environ
    if not (env.get(CONTAINER_ENV) or any(os.path.exists(p) for p in CONTAINER_FILES)):
        return False
    python = shutil.which("python3")
    if python is None:
        return False
    try:  # find_spec: no import of torch itself (seconds, and it may touch the GPU)
        done = subprocess.run(
            [python, "-c", "import importlib.util as u; print(u.find_spec('torch') is not None)"],
            capture_output=True, text=True, timeout=10, check=False, stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and done.stdout.strip() == "True"


# --------------------------------------------------------------------------------------------
# Putting it together
# --------------------------------------------------------------------------------------------


class Plan(NamedTuple):
    """What `uvtorch sync`/`run` will do."""

    project: Project
    choice: ExtraChoice
    argv: tuple[str, ...]  # the uv command line, uv's path first
    notes: tuple[str, ...]
    detection: Any  # uvtorch.detect.Detection, or None when the choice needed none


def _explicit_from_args(split: Split, project: Project) -> tuple[str | None, tuple[str, ...]]:
    """The accelerator extra the arguments name (taken as the choice), and uv's other args."""
    accelerator = {e.name for e in project.extras}
    named = [(pos, v) for pos, v in split.extras if normalize(v) in accelerator]
    if split.all_extras and project.extras:
        raise UsageError(
            "--all-extras would install every accelerator extra at once "
            f"({', '.join(sorted(accelerator))}); they conflict ([tool.uv] conflicts), so uv "
            "refuses the combination.",
            "Drop --all-extras and let uvtorch choose, or name one with --extra ID.",
        )
    if len({normalize(v) for _, v in named}) > 1:
        raise UsageError(
            f"--extra names several accelerator extras ({', '.join(v for _, v in named)}); "
            "they conflict: one environment holds one torch build.",
            "Give one --extra ID, or none and let uvtorch choose.",
        )
    drop: set[int] = set()
    for pos, _ in named:  # `--extra=X` is one argument, `--extra X` two
        drop.update((pos,) if split.uv_args[pos].startswith("--extra=") else (pos, pos + 1))
    kept = [arg for i, arg in enumerate(split.uv_args) if i not in drop]
    return (named[0][1] if named else None), tuple(kept)


def environment_dir(project: Project, split: Split, environ: Mapping[str, str]) -> Path:
    """The environment uv syncs: UV_PROJECT_ENVIRONMENT, the active one, or .venv."""
    if split.active and environ.get("VIRTUAL_ENV"):
        return Path(environ["VIRTUAL_ENV"])
    given = environ.get(ENV_PROJECT_ENVIRONMENT)  # relative: to the workspace root (uv#6834)
    return workspace_root(project.root) / (given or ".venv")


def workspace_root(root: Path) -> Path:
    """The root of the uv workspace `root` belongs to (uv keeps one .venv there), else root."""
    for folder in root.parents:
        path = folder / "pyproject.toml"
        if not path.is_file():
            continue
        try:
            if "workspace" in _read_toml(path).get("tool", {}).get("uv", {}):
                return folder
        except (OSError, ValueError):
            continue
    return root


def plan(
    subcommand: str,
    split: Split,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Plan:
    """Choose the extra and build the uv command (`subcommand` is sync or run). An `--extra`
    among the arguments that names an accelerator extra is the choice (`--extra ID`)."""
    env = os.environ if environ is None else environ
    project = load_project(project_root(split, cwd))
    explicit, uv_args = _explicit_from_args(split, project)
    detection = None
    from_env = env.get(ENV_EXTRA) or None
    if not explicit and not from_env:
        detection = probe_machine()
    in_image = (
        not explicit and not from_env and any(e.variant == SYSTEM for e in project.extras)
        and in_image_with_torch(env)
    )
    choice = choose_extra(
        project.extras, detection, explicit=explicit, from_env=from_env, in_image=in_image
    )
    notes: list[str] = []
    extra_args: list[str] = ["--extra", choice.extra]
    if choice.variant == SYSTEM:
        venv = environment_dir(project, split, env)
        if env.get(ENV_PROJECT_ENVIRONMENT) and subcommand == "sync" and "--inexact" not in uv_args:
            extra_args.append("--inexact")
            notes.append(
                f"{ENV_PROJECT_ENVIRONMENT} is set: syncing with --inexact, so that the image's"
                " torch in that environment stays (README.md: sync into the image's venv)"
            )
        elif not venv.exists() and not env.get(ENV_PROJECT_ENVIRONMENT):
            raise UvtorchError(
                f"The system extra uses the image's torch, but {venv} does not exist yet; a "
                "venv made by uv sync would not see the image's packages.",
                "Make it first as README.md shows for this image's layout (e.g. `uv venv "
                "--system-site-packages --python /usr/bin/python3`), then run uvtorch sync "
                "again.",
            )
    argv = (find_uv(), subcommand, *extra_args, *uv_args, *split.command)
    return Plan(project, choice, argv, tuple(notes), detection)


def which(
    uvtorch_extra: str | None, directory: str | None, environ: Mapping[str, str] | None = None
) -> tuple[Project, ExtraChoice, Any]:
    """`uvtorch which`: the choice, with the project and the machine it was made for."""
    split = Split((), (), (), False, False, directory, None, False)
    env = os.environ if environ is None else environ
    project = load_project(project_root(split))
    from_env = env.get(ENV_EXTRA) or None
    if uvtorch_extra or from_env:
        return project, choose_extra(project.extras, None, explicit=uvtorch_extra,
                                     from_env=from_env), None
    detection = probe_machine()
    in_image = any(e.variant == SYSTEM for e in project.extras) and in_image_with_torch(env)
    return project, choose_extra(project.extras, detection, in_image=in_image), detection


__all__ = ["Plan", "Project", "Split", "plan", "split_args", "which"]
