"""The command line of `uvtorch sync`, `run`, `which` and `verify`: parse, print, run uv.

Kept apart from cli.py so that `uvtorch which` imports only what it needs (start-up time is
most of its budget). The decisions are `uvtorch.choose_extra`'s and `uvtorch.verify`'s.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from uvtorch.errors import UvtorchError


def _say(line: str) -> None:
    print(f"uvtorch: {line}", file=sys.stderr, flush=True)


def _run_uv(argv: Sequence[str]) -> int:
    """Run uv in the foreground and pass its exit code back. Ctrl-C reaches uv (and the
    command it runs) through the terminal; uvtorch only waits, as `uv run` does itself."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        process = subprocess.Popen(list(argv))
        code = process.wait()
    except OSError as exc:
        raise UvtorchError(f"Cannot run {argv[0]}: {exc}.", "Check your uv installation.") from None
    finally:
        signal.signal(signal.SIGINT, previous)
    return 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell says


def run_passthrough(subcommand: str, argv: Sequence[str]) -> int:
    """`uvtorch sync|run [--extra ID] [--verify] [UV-ARGS...] [COMMAND...]`."""
    from uvtorch.cli import PASSTHROUGH_HELP
    from uvtorch.sync import plan, split_args

    if argv[:1] in (["-h"], ["--help"]):
        sys.stdout.write(PASSTHROUGH_HELP[subcommand][1])
        return 0
    split = split_args(subcommand, argv)
    if subcommand == "run" and not split.command:
        from uvtorch.errors import UsageError

        raise UsageError("uvtorch run needs a command to run.",
                         'e.g. uvtorch run python -c "import torch; print(torch.__version__)"')
    todo = plan(subcommand, split)
    _say(todo.choice.line())
    for note in todo.notes:
        _say(f"note: {note}")
    code = _run_uv(todo.argv)
    if code != 0 or not split.verify:
        return code
    from uvtorch.sync import environment_dir

    verdict = _verify(todo.project, environment_dir(todo.project, split, os.environ),
                      todo.detection)
    _print_verdict(verdict)
    return 0 if verdict.ok else 1


def _fix_hint(project: Any, detection: Any, installed: str | None) -> str | None:
    """What to run when the installed build (`installed`: cu130, cpu ...) cannot use the GPU:
    the extra detection picks, else the build to add (as `uvtorch detect` would choose it)."""
    from uvtorch.choose_extra import choose_extra

    try:
        best = choose_extra(project.extras, detection)
    except UvtorchError:
        best = None
    if best is not None and best.variant not in ("cpu", installed):
        return (f"`uvtorch sync --extra {best.extra}` installs a build for this machine "
                f"({'; '.join(best.reasons)}).")
    try:
        from uvtorch.catalog import load
        from uvtorch.detect import choose

        minors = [e.minor for e in project.extras if e.minor]
        pick = choose(detection, load(), max(minors, key=lambda m: tuple(map(int, m.split("."))))
                      if minors else None)
    except ValueError:
        return None
    if pick.accelerator == "cpu":
        return None
    return (f"the project has no extra whose build serves this GPU: add one with "
            f"`uvtorch add -a {pick.accelerator}`, then `uvtorch sync --extra "
            f"{pick.accelerator.replace('.', '-')}`.")


def _verify(project: Any, env_dir: Any, detection: Any) -> Any:
    from uvtorch.detect import torch_variant
    from uvtorch.verify import interpreter, judge, run_report

    if detection is None:  # the choice was given, so the machine was not probed yet
        from uvtorch.sync import probe_machine

        detection = probe_machine()
    report = run_report(interpreter(env_dir))
    installed = torch_variant(str(report.get("version", "")))
    return judge(report, detection, _fix_hint(project, detection, installed))


def _print_verdict(verdict: Any, out: Any = None) -> None:
    """The report: on stderr after a sync (beside uv's output), else on stdout."""
    for line in verdict.lines:
        print(f"verify: {line}", file=out or sys.stderr)
    if not verdict.ok:
        print(f"verify: FAILED. Fix: {verdict.fix}", file=out or sys.stderr)


def run_which(args: argparse.Namespace) -> int:
    """`uvtorch which [--json] [--extra ID]`: only the name, or the reasoning as JSON."""
    from uvtorch.sync import which

    project, choice, detection = which(args.extra, args.directory)
    if not args.json:
        print(choice.extra)
        return 0
    from uvtorch.detect import to_json

    print(json.dumps({
        "schema_version": 1,
        "extra": choice.extra,
        "build": choice.variant,
        "origin": choice.origin,
        "reasons": list(choice.reasons),
        "project": str(project.root),
        "extras": [{"name": e.name, "build": e.variant, "via": e.via, "torch": e.torch}
                   for e in project.extras],
        "assessed": [{"extra": name, "runtime": fit.runtime, "arch": fit.arch,
                      "missing": list(fit.missing)} for name, fit in choice.assessed],
        "machine": to_json(detection) if detection is not None else None,
    }, indent=2))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """`uvtorch verify`: the environment as it is, without syncing."""
    from pathlib import Path

    from uvtorch.sync import Split, environment_dir, load_project, project_root

    split = Split((), (), (), False, False, args.directory, None, False)
    project = load_project(project_root(split, Path.cwd()))
    verdict = _verify(project, environment_dir(project, split, os.environ), None)
    if args.json:
        print(json.dumps({"schema_version": 1, "ok": verdict.ok, "lines": list(verdict.lines),
                          "fix": verdict.fix}, indent=2))
    else:
        _print_verdict(verdict, sys.stdout)
    return 0 if verdict.ok else 1
