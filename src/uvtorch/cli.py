"""The command line: argparse only. `main(argv)` returns the exit code.

Errors the user can fix arrive as `UvtorchError`s and are printed as one paragraph: what is
wrong, then what would work. Exit codes: 0 success, 1 refused work, 2 usage errors.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from uvtorch import __version__
from uvtorch.errors import USAGE, NeedsTerminal, UsageError, UvtorchError, UvtorchWarning

INIT_EPILOG = """\
examples:
  uvtorch init demo --yes -a cpu -a cu128 --package torchvision
      a project whose `uv sync --extra cu128` installs torch+cu128 and a matching
      torchvision, and whose `uv sync --extra cpu` installs the CPU builds
  uvtorch init demo --yes -a cpu -a cu126 -a rocm6.4 -a xpu --package ultralytics
      ultralytics (which requires torch) gets the torch of the chosen extra
  uvtorch init demo --yes --torch '>=2.6,<2.7' -a cu126 --platform linux-x86_64
      an older release, resolved for Linux x86_64 only
  uvtorch init --yes --dry-run -a cu128
      print the files that would be written, write nothing
  uvtorch init app --yes -a system --package torchvision --package ultralytics
      inside a container image (NGC): use the image's torch and torchvision, never
      download others; README.md gives the commands for a venv that sees them
  uvtorch init app --yes -a cpu -a system --system-torch 2.5.0a0+872d972e41.nv24.08
      the cpu build on laptops, the image's torch in the `system` extra

accelerators: cpu, cuXXX (cu118 ... cu132), rocmX.Y (rocm6.4, rocm7.2 ...), xpu. Each one
becomes an extra (`rocm6.4` -> `rocm6-4`) with torch from https://download.pytorch.org/whl/<id>.
torch lives only in those extras: a plain `uv sync` installs no torch at all.
"""


UPGRADE_EPILOG = """\
examples:
  uvtorch upgrade
      move the project in . to the newest torch that has all its builds; prints the diff
      and runs `uv lock`
  uvtorch upgrade demo --torch '>=2.9,<2.10' --dry-run
      show what moving to torch 2.9 would change, write nothing
  uvtorch upgrade demo --torch '>=2.14,<2.15' --replace cu128=cu130
      torch 2.14 has no cu128 build: the cu128 extra becomes cu130, everywhere
  uvtorch upgrade demo --drop cu126
      remove a build without changing torch
"""

SYNC_HELP = """\
usage: uvtorch sync [--extra ID] [--verify] [UV-SYNC-ARGS...]

Choose the project's extra that this machine can run (NVIDIA driver and every GPU's compute
capability, AMD, Intel, Apple silicon, a container image's torch), print one line saying which
and why, and run `uv sync --extra <it> UV-SYNC-ARGS...` with uv's arguments unchanged; uv's
exit code is passed back.

  --extra ID   use this extra (wins over UVTORCH_EXTRA, which wins over detection)
  --verify     after the sync, run `uvtorch verify`: can this torch use this machine's GPU?

examples:
  uvtorch sync                      e.g. `uv sync --extra cu130` on an H100 with driver 580
  uvtorch sync --frozen --verify    the lock as it is, then prove torch can use the GPU
  UVTORCH_EXTRA=cpu uvtorch sync    pin this machine's choice without editing the project
"""

RUN_HELP = """\
usage: uvtorch run [--extra ID] [UV-RUN-ARGS...] [--] COMMAND [ARGS...]

Choose the extra as `uvtorch sync` does, print one line saying which and why, and run
`uv run --extra <it> UV-RUN-ARGS... COMMAND ARGS...`. Everything from COMMAND on is passed to
the command untouched; uv's exit code is passed back.

examples:
  uvtorch run python -c "import torch; print(torch.__version__)"
  uvtorch run --frozen -- pytest -q
  uvtorch run --extra cpu python train.py --extra-flag-of-the-script
"""

PASSTHROUGH_HELP = {
    "sync": ("install the project's extra that this machine runs (uv sync --extra X)", SYNC_HELP),
    "run": ("run a command with the extra this machine runs (uv run --extra X)", RUN_HELP),
}


DETECT_EPILOG = """\
examples:
  uvtorch detect
      the driver, GPUs and their compute capability, and the build to use
  uvtorch detect --json | jq .choice
      the same, for scripts
  UV_CUDA_DRIVER_VERSION=550.54.14 uvtorch detect --torch 2.14
      what a machine with that driver would get for torch 2.14
"""

ADD_EPILOG = """\
examples:
  uvtorch add -a cu130
      give the project in . a cu130 extra (sources, index, conflict entry)
  uvtorch add -a auto
      add the build this machine's GPU runs for the project's torch (says which and why)
  uvtorch add demo --package torchvision --package ultralytics
      add a companion matched to torch and a dependent to every accelerator extra
  uvtorch add demo -k flash-attn --gpu h100
      a kernel built against each CUDA extra's torch, for H100s
  uvtorch add demo --index-url https://mirror.example.com/whl --dry-run
      show how moving to a mirror would change the index URLs
"""

MATRIX_EPILOG = """\
examples:
  uvtorch matrix --torch '>=2.12'
      the builds of torch 2.12 and newer, with platforms and companions
  uvtorch matrix -a cu130 --platform linux-aarch64 --json
      which releases have cu130 wheels for Linux aarch64
  uvtorch matrix --refresh --index-url https://mirror.example.com/whl
      re-read the builds from a mirror into the user cache
"""

WHICH_EPILOG = """\
examples:
  uvtorch which
      e.g. cu130 on an H100 with driver 580, cpu on a laptop
  uv sync --extra "$(uvtorch which)"
      in a Dockerfile or CI script, without uvtorch sync
  uvtorch which --json
      the choice with the reasoning and the project's extras
"""

VERIFY_EPILOG = """\
examples:
  uvtorch verify
      after a sync: can this torch use this machine's GPUs? (exit 1 with the fix if not)
  uvtorch verify --json
      the same, for scripts
"""

class _Help(argparse.RawDescriptionHelpFormatter):
    """Descriptions wrapped to the terminal, epilogs (the examples) kept as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return super()._fill_text(text, width, indent)
        return argparse.HelpFormatter._fill_text(self, text, width, indent)


CHECK_EPILOG = """\
examples:
  uvtorch check                      audit ./pyproject.toml (and ./uv.lock)
  uvtorch check DIR --strict         warnings fail too (CI)
  uvtorch check --output-format github      annotations in a GitHub Actions job
  uvtorch check --output-format sarif > uvtorch.sarif     for code scanning
  uvtorch check --select UT001,UT003 --ignore index-not-explicit
  uvtorch check --rule UT005         what platform-gets-other-build means and how to fix it
  uvtorch check --fix                apply the safe fixes; --unsafe-fixes also the others

silencing, in pyproject.toml:
  [tool.uvtorch.check]
  ignore = ["UT006"]                 never report these rules (codes or names)

  torch = [{ index = "pytorch-cu128", extra = "cu128" }]  # uvtorch: ignore[UT005]
      a trailing comment on the line a finding points at silences it (bare
      `# uvtorch: ignore` silences every rule on that line)

pre-commit: uvtorch ships a hook, id `uvtorch-check` (see README.md).
"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one paragraph and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message}.", f"See '{self.prog} --help'.")


def _choice_flags(parser: argparse.ArgumentParser, accelerator_default: str) -> None:
    """The flags init and add share: accelerators, packages, kernels and their GPU targets."""
    parser.add_argument(
        "-a", "--accelerator", action="append", default=[], metavar="ID",
        help="repeatable: cpu, cu126, cu128, rocm6.4, xpu, ...; `auto` (what `uvtorch detect` "
        "finds) or `system` (the torch already installed, e.g. in a container image) "
        f"({accelerator_default})",
    )
    parser.add_argument(
        "--package", action="append", default=[], metavar="REQ",
        help="repeatable: torchvision/torchaudio/torchao get a version matched to torch and "
        "the accelerator's index; anything else (ultralytics>=8.3) goes into every "
        "accelerator extra so it gets that extra's torch (no short flag: in uv, -p means "
        "--python)",
    )
    parser.add_argument(
        "-k", "--kernel", action="append", default=[], metavar="NAME",
        help="repeatable: a package built against torch (flash-attn, grouped_gemm, "
        "causal-conv1d, mamba-ssm, deepspeed, apex, xformers, natten, ...); one `uv sync "
        "--extra ID` builds it against that extra's torch",
    )
    parser.add_argument(
        "--cuda-arch", action="append", default=[], metavar="ARCH",
        help="repeatable: GPU targets for kernel builds, e.g. 9.0 (H100) or 8.0;9.0, or a ROCm "
        "gfx target (default: 7.5 to 12.0, as far as the chosen CUDA versions can build)",
    )
    parser.add_argument(
        "--gpu", action="append", default=[], metavar="NAME",
        help="repeatable: GPU targets by name instead (h100, a100, l4, rtx4090, mi300x, ...)",
    )


def _system_flags(parser: argparse.ArgumentParser) -> None:
    """The flags init and add share for `-a system`: where the environment's torch is."""
    from uvtorch.system import SYSTEM_LAYOUTS

    parser.add_argument(
        "--system-torch", metavar="VERSION",
        help="with -a system: the torch version the image has (e.g. 2.5.0a0+872d972e41.nv24.08), "
        "when uvtorch runs outside the image",
    )
    parser.add_argument(
        "--python-executable", metavar="PATH",
        help="with -a system: the interpreter whose torch to use (default: python3 on PATH)",
    )
    parser.add_argument(
        "--system-layout", choices=SYSTEM_LAYOUTS, metavar="LAYOUT",
        help="with -a system and --system-torch: where the image keeps torch, "
        "base-interpreter (e.g. NGC) or image-venv, so the README shows that layout's "
        "commands first (probed when uvtorch runs in the image)",
    )


def _offline_flag(parser: argparse.ArgumentParser) -> None:
    """init and add ask the PyTorch index whether the chosen builds have wheels (availability.py)."""
    parser.add_argument(
        "--offline", action="store_true",
        help="do not ask the PyTorch index (also UV_OFFLINE=1); without it, the chosen builds' "
        "<index-url>/<build>/torch/ pages are read (within 5 s, UVTORCH_INDEX_DEADLINE; cached "
        "for an hour) to confirm they have wheels for the torch versions and platforms, and to "
        "fill in what the catalog calls unknown",
    )


def _trust_flag(parser: argparse.ArgumentParser, allows: str) -> None:
    """--trust: the user vouches, for this run, for files other people may have written."""
    parser.add_argument(
        "--trust", action="store_true",
        help=f"{allows}; without it uvtorch runs and fetches only what the command line or "
        "your own configuration names (see README: Security)",
    )


def _parser(wanted: str | None = None) -> argparse.ArgumentParser:
    """The parser; only `wanted`'s arguments are built (start-up time: one command runs)."""
    parser = _Parser(
        prog="uvtorch",
        description="Write uv projects that install the right PyTorch build for every "
        "accelerator they target.",
    )
    parser.add_argument("--version", action="version", version=f"uvtorch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    detect = commands.add_parser(
        "detect",
        help="report this machine's accelerator and the torch build to use",
        description="Report what this machine has (NVIDIA driver and GPUs with their compute "
        "capability, ROCm, Intel GPU, Apple silicon, a torch already importable) and the "
        "accelerator id to use with `uvtorch init -a`. Unlike uv's --torch-backend=auto, the "
        "choice also checks that the build's wheels carry code for every GPU.",
        epilog=DETECT_EPILOG,
        formatter_class=_Help,
    )
    if wanted == "detect":  # arguments only for the command being run
        detect.add_argument("--json", action="store_true", help="print a stable JSON report")
        detect.add_argument(
            "--torch", metavar="X.Y",
            help="choose for this torch release (default: the newest release with a build "
            "this machine's GPU runs)",
        )
        detect.add_argument(
            "--python-executable", metavar="PATH",
            help="look for an importable torch in this interpreter (default: python3 on PATH)",
        )
    check = commands.add_parser(
        "check",
        help="audit a project's pyproject.toml and uv.lock for PyTorch failure modes",
        description=textwrap.fill("Audit DIR/pyproject.toml (and uv.lock when present) for the "
        "ways PyTorch + uv configurations break. Every finding has a stable code and name (UT001 "
        "extras-without-conflicts, ...; --list-rules lists them, --rule CODE explains one) "
        "and a severity: error (some documented `uv sync`/`uv lock` breaks or installs the "
        "wrong build), warning (works, but one platform or install silently gets another "
        "build) or info. Exit code 1 when an unsilenced error is found (--strict: a warning "
        "too), 2 when the input cannot be read or a flag is wrong, else 0.", 79,
        break_on_hyphens=False),
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if wanted == "check":  # arguments only for the command being run
        check.add_argument("directory", nargs="?", default=".", metavar="DIR")
        check.add_argument(
            "--output-format", choices=("text", "json", "github", "sarif"), default="text",
            help="text (default), json, github (workflow annotations) or sarif (2.1.0)",
        )
        check.add_argument("--json", action="store_true", help="the same as --output-format json")
        check.add_argument(
            "--select", action="append", default=[], metavar="RULES",
            help="only these rules: codes, names or code prefixes, comma-separated or repeated "
            "(UT001,index-not-explicit; ALL)",
        )
        check.add_argument(
            "--ignore", action="append", default=[], metavar="RULES",
            help="leave out these rules (as --select takes them)",
        )
        check.add_argument(
            "--strict", action="store_true", help="warnings count for the exit code too",
        )
        check.add_argument(
            "--explain", action="store_true",
            help="first print the routing table: for each install (uv sync, --extra X, "
            "--group G) and target platform, which torch build it gets (* a companion "
            "disagrees, ! uv fails); JSON output always carries it under \"routing\"",
        )
        check.add_argument(
            "--rule", metavar="CODE",
            help="print the documentation of one rule (a code or name; `all`: list them) and exit",
        )
        check.add_argument(
            "--list-rules", action="store_true", help="list every rule's code, name and severity",
        )
        check.add_argument(
            "--python-executable", metavar="PATH",
            help="for a project using its environment's torch ([tool.uvtorch] system): the "
            "interpreter to compare with (default: python3 on PATH; DIR/.venv/bin/python only "
            "with --trust)",
        )
        _trust_flag(check, "run DIR/.venv/bin/python to compare the system torch, and let "
                    "--fix fetch the wheel URLs found in uv.lock")
        check.add_argument(
            "--fix", action="store_true",
            help="apply the safe fixes (explicit indexes nothing else depends on, a conflict "
            "set, metadata overrides read from the index, exclude-dependencies for the "
            "environment's torch) in place, and print the diff",
        )
        check.add_argument(
            "--unsafe-fixes", action="store_true",
            help="with --fix (or alone): also apply fixes that may change which build a user "
            "gets; each is explained in the output",
        )
    add = commands.add_parser(
        "add",
        help="add accelerators, packages or kernels to an existing project",
        description="Add accelerators (-a), torch-family packages and dependents (--package) and "
        "kernels (-k) to a project made by uvtorch init, or to a hand-written one in uv's "
        "PyTorch-guide pattern (one extra per build, named after it). pyproject.toml is edited "
        "in place: only the missing lines are added, every comment and unrelated table stays; "
        ".uvtorch.toml is updated when present. A change that cannot be made is refused with "
        "the flag that would allow it.",
        epilog=ADD_EPILOG,
        formatter_class=_Help,
    )
    if wanted == "add":  # arguments only for the command being run
        add.add_argument("directory", nargs="?", default=".", metavar="DIR")
        add.add_argument("-p", "--python", dest="add_python", metavar="SPEC", help=argparse.SUPPRESS)
        _choice_flags(add, "default: none; the project's accelerators stay")
        _system_flags(add)
        add.add_argument("--torch", metavar="SPEC",
                         help="change the torch spec of every extra (e.g. to a release that has "
                         "the new accelerator)")
        add.add_argument(
            "--index-url", metavar="URL",
            help="move the PyTorch indexes to a mirror with the same layout (<URL>/<build>), "
            "e.g. https://mirror.example.com/whl; without editing, uv's "
            "UV_INDEX=pytorch-cu128=<URL>/cu128 does the same for one run",
        )
        add.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
        _offline_flag(add)
        _trust_flag(add, "run the python_executable that DIR/.uvtorch.toml names (-a system)")
    upgrade = commands.add_parser(
        "upgrade",
        help="move a project to a new torch release, or change its builds",
        description="Move DIR (a project made by uvtorch init, or a hand-written one in uv's "
        "PyTorch-guide pattern) to the newest torch release that has every build it uses, or "
        "to --torch SPEC; --replace/--drop change the builds. Only what uvtorch manages is "
        "rewritten (torch and companion specs, sources, indexes, metadata overrides, kernel "
        "settings, required-version, .uvtorch.toml); every other line stays byte for byte. A "
        "managed line you edited by hand is kept and reported (--force takes uvtorch's). "
        "Prints the diff, then runs `uv lock` when uv is on PATH.",
        epilog=UPGRADE_EPILOG,
        formatter_class=_Help,
    )
    if wanted == "upgrade":  # arguments only for the command being run
        upgrade.add_argument("directory", nargs="?", default=".", metavar="DIR")
        upgrade.add_argument("--torch", metavar="SPEC",
                             help="the torch spec to move to, e.g. '>=2.9,<2.10' (default: the "
                             "newest release that has every build of the project)")
        upgrade.add_argument("--replace", action="append", default=[], metavar="OLD=NEW",
                             help="repeatable: replace a build (and rename its extra everywhere), "
                             "e.g. cu128=cu130")
        upgrade.add_argument("--drop", action="append", default=[], metavar="ID",
                             help="repeatable: remove a build, its extra, sources and index")
        upgrade.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
        upgrade.add_argument("--force", action="store_true",
                             help="overwrite hand-edited managed lines with uvtorch's version")
        upgrade.add_argument("--no-lock", action="store_true",
                             help="do not run `uv lock` after writing")
    matrix = commands.add_parser(
        "matrix",
        help="show the catalog: torch releases, builds, platforms, companions",
        description="Show which torch release has which accelerator build on which platform, "
        "its Python range and matching companion versions. --refresh reads a PyTorch-style "
        "index (the real one or a company mirror) and keeps what it finds in the user's cache, "
        "so a newer torch release works without a uvtorch release.",
        epilog=MATRIX_EPILOG,
        formatter_class=_Help,
    )
    if wanted == "matrix":  # arguments only for the command being run
        matrix.add_argument("--torch", metavar="SPEC", help="only releases matching, e.g. '>=2.12'")
        matrix.add_argument("-a", "--accelerator", action="append", default=[], metavar="ID",
                            help="repeatable: only these builds")
        matrix.add_argument("--platform", metavar="ID", help="only builds with wheels for it")
        matrix.add_argument("--json", action="store_true", help="print JSON")
        matrix.add_argument("--refresh", action="store_true",
                            help="re-read the builds from the index (see --index-url)")
        matrix.add_argument("--index-url", metavar="URL",
                            help="with --refresh: the base of the PyTorch indexes (default: "
                            "https://download.pytorch.org/whl)")
    for name, (summary, text) in PASSTHROUGH_HELP.items():  # parsed by _run_passthrough
        commands.add_parser(name, help=summary, description=text, add_help=False)
    which = commands.add_parser(
        "which",
        help="print the project's extra that this machine should install",
        description="Print the name of the extra `uvtorch sync` would install on this machine "
        "(for `uv sync --extra \"$(uvtorch which)\"` in scripts and Dockerfiles). Precedence: "
        "--extra, then the UVTORCH_EXTRA environment variable, then detection.",
        epilog=WHICH_EPILOG,
        formatter_class=_Help,
    )
    verify = commands.add_parser(
        "verify",
        help="check that the synced torch can use this machine's GPU",
        description="Run the project's environment once and report torch's version and build, "
        "torch.version.cuda/hip, XPU, whether torch sees the GPU and whether every GPU's compute "
        "capability is in torch.cuda.get_arch_list(). Exit code 1, with the fix, when the "
        "installed torch cannot use this machine's GPU; 0 on a machine without one.",
        epilog=VERIFY_EPILOG,
        formatter_class=_Help,
    )
    if wanted in ("which", "verify"):  # arguments only for the command being run
        for sub in (which, verify):
            sub.add_argument("--json", action="store_true", help="print JSON with the reasoning")
            sub.add_argument("--project", "--directory", dest="directory", metavar="DIR",
                             help="the project (default: the one at or above the current folder)")
        which.add_argument("--extra", metavar="ID",
                           help="the extra to use (wins over UVTORCH_EXTRA and detection)")
    init = commands.add_parser(
        "init",
        help="create a new PyTorch project",
        description="Create a new project: pyproject.toml with one extra per accelerator, "
        "README.md, .gitignore, src/<package>/__init__.py and .uvtorch.toml (the answers).",
        epilog=INIT_EPILOG,
        formatter_class=_Help,
    )
    if wanted == "init":  # arguments only for the command being run
        init.add_argument(
            "directory", nargs="?", default=".", metavar="DIR",
            help="where to create the project (default: the current folder)",
        )
        init.add_argument("-n", "--name", help="project name (default: the folder's name)")
        init.add_argument(
            "-p", "--python", metavar="SPEC",
            help="requires-python: a specifier such as '>=3.11,<3.14', or a bare version "
            "meaning >= it, as in `uv init -p 3.12` (default: what the torch release "
            "supports, from 3.10)",
        )
        init.add_argument(
            "--torch", metavar="SPEC",
            help="torch version specifier, e.g. '>=2.9,<2.10' (default: the newest release "
            "that has every chosen accelerator)",
        )
        _choice_flags(init, "default: cpu")
        init.add_argument(
            "--platform", action="append", default=[], metavar="ID",
            help="repeatable: linux-x86_64, linux-aarch64, windows-x86_64, macos-arm64; resolve "
            "only for these (default: all)",
        )
        init.add_argument(
            "--index-url", metavar="URL",
            help="base URL of the PyTorch indexes, e.g. a company mirror of "
            "https://download.pytorch.org/whl (the default)",
        )
        init.add_argument(
            "--channel", choices=("stable", "nightly", "test"), metavar="CHANNEL",
            help="stable (default), nightly or test: which family of PyTorch indexes "
            "(<index-url>/nightly/<id> ...) and pre-release torch builds to use",
        )
        init.add_argument(
            "--nightly-date", metavar="YYYYMMDD",
            help="with --channel nightly: pin the nightly of that day",
        )
        _system_flags(init)
        init.add_argument(
            "--template", metavar="DIR|NAME",
            help="start from a template: a built-in name (see --list-templates) or a folder with "
            "uvtorch-template.toml and files/",
        )
        init.add_argument(
            "--answers", metavar="FILE",
            help="replay the .uvtorch.toml of an earlier project; flags beside it override single "
            "answers",
        )
        init.add_argument(
            "--list-templates", action="store_true", help="list the built-in templates and exit"
        )
        init.add_argument(
            "-y", "--yes", action="store_true",
            help="never ask: every choice not given by a flag takes its default (without it, "
            "init asks on a terminal)",
        )
        init.add_argument(
            "--dry-run", action="store_true", help="print the files that would be written"
        )
        init.add_argument("--force", action="store_true", help="overwrite existing files")
        _offline_flag(init)
        _trust_flag(init, "run the python_executable that a template's presets or the "
                    "--answers file name (-a system)")
    for command in (parser, detect, check, add, upgrade, matrix, which, verify, init):
        command.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
            help="on an internal error, show the traceback (as UVTORCH_TRACEBACK=1 does)",
        )
        command.add_argument(
            "-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
            help="print only results and errors: no notes, file lists, diffs or next steps",
        )
        command.add_argument(
            "--color", choices=("auto", "always", "never"), default=argparse.SUPPRESS,
            metavar="WHEN", help="colour error and warning labels: auto (on a terminal, unless "
            "NO_COLOR is set), always or never",
        )
        command.add_argument(
            "--no-progress", action="store_true", default=argparse.SUPPRESS,
            help="never draw progress (also UV_NO_PROGRESS=1)",
        )
    return parser


def _list_templates() -> int:
    from uvtorch.questions import QUESTION_IDS
    from uvtorch.templates import builtin_names, load_template

    for name in builtin_names():
        print(f"{name:<10} {load_template(name, QUESTION_IDS).description}")
    return 0


def _detect(torch: str | None, python: str | None, query_torch: bool) -> tuple[Any, Any]:
    """Probe this machine and choose an accelerator for `torch` (a minor like 2.14), or, with
    None, for the newest release that has a build this machine's GPU runs."""
    from uvtorch.catalog import load
    from uvtorch.detect import choose, choose_for_machine, detect
    from uvtorch.probe import SystemReader, probe

    detection = detect(probe(SystemReader(python=python, query_torch=query_torch)))
    if torch is None:
        return detection, choose_for_machine(detection, load())
    return detection, choose(detection, load(), torch)


def _run_detect(args: argparse.Namespace) -> int:
    import json

    from uvtorch.detect import format_report, to_json

    try:
        detection, choice = _detect(args.torch, args.python_executable, query_torch=True)
    except ValueError as exc:  # an unknown torch release
        if args.torch is None:
            raise
        raise UsageError(f"--torch '{args.torch}': {exc}.", "e.g. --torch 2.14") from None
    if args.json:
        print(json.dumps(to_json(detection, choice), indent=2, sort_keys=True))
    else:
        sys.stdout.write(format_report(detection, choice).rstrip("\n") + "\n")
    return 0


def _selectors(values: Sequence[str]) -> list[str]:
    return [x for value in values for x in value.split(",") if x.strip()]


def _run_check(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    folder = Path(args.directory)
    if not (args.fix or args.unsafe_fixes):
        return _check(args, folder)
    from uvtorch.write import edit_lock

    with edit_lock(folder) if folder.is_dir() else nullcontext():  # read after locking
        return _check(args, folder)


def _check(args: argparse.Namespace, folder: Path) -> int:
    import os

    from uvtorch.catalog import load
    from uvtorch.checks import output
    from uvtorch.checks.context import load_context
    from uvtorch.checks.registry import (
        UnknownRule,
        all_rules,
        find_rule,
        placeholders,
        resolve,
        run,
    )
    from uvtorch.checks.silence import configured_ignores, unsilenced

    if args.list_rules or (args.rule or "").lower() == "all":
        print(output.render_rule_list(all_rules(), placeholders()))
        return 0
    select, ignore = _selectors(args.select), _selectors(args.ignore)
    try:
        if args.rule:
            print(output.render_rule(find_rule(args.rule)), end="")
            return 0
        resolve(select + ignore)
    except UnknownRule as exc:
        raise UsageError(
            f"No rule is called '{exc}'.",
            "Give a code (UT005), a name (platform-gets-other-build) or a code prefix; "
            "uvtorch check --list-rules lists them.",
        ) from None
    fmt = "json" if args.json else args.output_format
    folder = Path(args.directory)
    ctx = load_context(folder, load())
    project = ctx.project
    # A project with a system extra next to index extras is checked on laptops too: its
    # environment is compared only when --python-executable names the image's interpreter.
    from uvtorch.system import SYSTEM

    model = ctx.model
    combined = SYSTEM in model.project.optional
    if model.project.uvtorch.get("system") and (
        args.python_executable or not combined
    ):
        import shutil

        from uvtorch.imagetorch import probe

        venv = folder / ".venv" / "bin" / "python"
        python = args.python_executable or (str(venv) if venv.exists() else None)
        # python3 on PATH may be the project's own too (an activated .venv, a ./bin on PATH).
        # Its folder is resolved, not the file: a venv's python is a symlink to the base
        # interpreter, but it runs the venv's site-packages (.pth files run code).
        runs = python or shutil.which("python3") or "python3"
        inside = os.sep in runs and Path(os.path.abspath(runs)).parent.resolve().is_relative_to(
            folder.resolve())
        if inside and not args.python_executable and not args.trust:
            # The audited project's own program: never run without the user's say-so.
            print(f"note: the system-torch comparison was skipped: {runs} is a program inside "
                  "the audited project, run only with --trust (or name an interpreter with "
                  "--python-executable PATH).", file=sys.stderr)
        else:
            try:
                found = probe(python).packages
            except UvtorchError:
                found = {}
            ctx.project = project = project._replace(environment=found, interpreter=python)

    def findings_of(context: Any) -> list[Any]:
        return run(context, select or None, ignore + sorted(configured_ignores(context.pyproject)))

    findings = findings_of(ctx)
    # Fix reports go to stderr for machine-read formats, so stdout stays one document.
    say = sys.stdout if fmt == "text" else sys.stderr
    unsafe = args.unsafe_fixes
    if args.fix or unsafe:
        from uvtorch.fix import apply_fixes
        from uvtorch.write import diff, replace_file

        # A silenced finding is not fixed either.
        shown_now = [x.finding for x in unsilenced(folder, findings)[0]]
        fixable = [
            f for f in shown_now
            if f.fix is not None and (f.fix.applicability == "safe" or unsafe)
        ]
        path = folder / "pyproject.toml"
        before = path.read_text(encoding="utf-8")
        after, done = (
            apply_fixes(project, fixable, _lock_fetcher(args.trust), unsafe=unsafe)
            if fixable else (before, [])
        )
        if after != before:
            shown = diff(path, after, "fixed")  # before the write: the diff needs the old bytes
            for note in replace_file(path, after):
                print(f"note: {note}", file=say)
            say.write(shown)
        for line in done:
            print(f"fixed: {line}", file=say)
        held = [f.fix for f in shown_now
                if f.fix is not None and f.fix.applicability == "unsafe" and not unsafe]
        for fix in held:
            print(f"not fixed (unsafe, needs --unsafe-fixes): {fix.title}: {fix.why_unsafe}",
                  file=say)
        if after != before:
            print("Run `uv lock` to apply the fixes to the lock.", file=say)
            ctx = load_context(folder, load(), project.environment)
            ctx.project = ctx.project._replace(interpreter=project.interpreter)
            # What the lock still says is fixed by the next `uv lock`.
            findings = [f for f in findings_of(ctx) if f.place.table != "uv.lock"]
            model = ctx.model  # the table of the fixed file
    located, silenced = unsilenced(folder, findings)
    from uvtorch.model import explain

    if fmt == "json":
        print(output.render_json(located, {"routing": explain.render_json(model.routing)}))
    elif fmt == "github":
        rendered = output.render_github(located)
        if rendered:
            print(rendered)
    elif fmt == "sarif":
        print(output.render_sarif(located, all_rules()))
    else:
        if args.explain:
            print(explain.render_text(model.routing) + "\n")
        print(output.render_text(located, os.fspath(folder), silenced))
    failing = {"error", "warning"} if args.strict else {"error"}
    return 1 if any(x.finding.severity in failing for x in located) else 0


def _lock_fetcher(trusted: bool) -> Callable[[str], bytes | None]:
    """How check --fix reads a URL found in uv.lock: fetched only with --trust."""
    from uvtorch.fetch import Fetcher, NotTrusted

    if not trusted:
        def refuse(url: str) -> bytes | None:
            raise NotTrusted(url, "uv.lock")

        return refuse
    fetcher = Fetcher(progress=_progress())
    return lambda url: fetcher.get(url, "wheel URL from uv.lock")


def _run_add(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from uvtorch.add import add
    from uvtorch.catalog import load
    from uvtorch.checks.context import load_context
    from uvtorch.checks.registry import run
    from uvtorch.write import diff, edit_lock, write_files

    if args.add_python is not None:
        raise UsageError(
            f"uvtorch add has no -p/--python ('{args.add_python}'): in uv, -p means --python, "
            "and add keeps the project's requires-python.",
            f"To add a package, use --package {args.add_python}.",
        )
    folder = Path(args.directory)
    additions = {
        "accelerators": tuple(args.accelerator),
        "packages": tuple(args.package),
        "kernels": tuple(args.kernel),
        "cuda_archs": tuple(args.cuda_arch),
        "gpus": tuple(args.gpu),
    }
    if not any(additions.values()) and not args.torch and not args.index_url:
        raise UsageError(
            "Nothing to add.",
            "Give -a, --package, -k, --torch or --index-url (see uvtorch add --help).",
        )
    with edit_lock(folder) if folder.is_dir() else nullcontext():  # read after locking
        files, done, plan = add(folder, additions, args.torch, load(),
                                system=_system_flags_of(args), index_url=args.index_url,
                                say=_say, warn=_warn, confirm=_confirm(args))
        sys.stdout.write(diff(folder / "pyproject.toml", files["pyproject.toml"], "after add"))
        if not done:
            print("Nothing to change: the project already has all of that.")
            return 0
        for line in plan.notes:
            print(f"note: {line}")
        if args.dry_run:
            print("Dry run: nothing was written.")
            return 0
        for note in write_files(folder, files, force=True, edit=True):
            print(f"note: {note}")
    print(f"added: {', '.join(done)}")
    remaining = [f for f in run(load_context(folder, load())) if f.severity != "info"]
    for f in remaining:  # the write succeeded: what is left is for `uvtorch check` to judge
        print(f"still to fix ({f.severity}): {f.code} {f.name}: {f.message}")
    print("Run `uv lock` to update the lock" + (
        ", and `uvtorch check` for what is still to fix." if remaining else "."))
    return 0


def _run_upgrade(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from uvtorch.catalog import load
    from uvtorch.checks.context import load_context
    from uvtorch.checks.registry import run

    from uvtorch.upgrade import lock, upgrade
    from uvtorch.write import diff, edit_lock, write_files

    pairs = []
    for text in args.replace:
        old, sep, new = text.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise UsageError(f"--replace '{text}' is not OLD=NEW.", "e.g. --replace cu128=cu130.")
        pairs.append((old, new))
    folder = Path(args.directory)
    with edit_lock(folder) if folder.is_dir() else nullcontext():  # read after locking
        result = upgrade(folder, load(), args.torch, tuple(pairs), tuple(args.drop), args.force)
        sys.stdout.write(diff(folder / "pyproject.toml", result.after, "after upgrade"))
        for line in result.kept:
            print(line)
        for line in result.notes:
            print(f"note: {line}")
        if not result.files:
            print(f"Nothing to change: the project already uses {result.new.torch} "
                  f"({', '.join(e.name for e in result.new.extras)}).")
            return 0
        if args.dry_run:
            print("Dry run: nothing was written.")
            return 0
        for note in write_files(folder, result.files, force=True, edit=True):
            print(f"note: {note}")
    builds = ", ".join(e.name for e in result.new.extras)
    torch = (result.new.torch if result.old.torch == result.new.torch
             else f"{result.old.torch} -> {result.new.torch}")
    print(f"upgraded: {torch} ({builds}); wrote {', '.join(result.files)}")
    remaining = run(load_context(folder, load()))
    for f in remaining:
        print(f"{f.severity}: {f.code} {f.name}: {f.message}")
    failed = any(f.severity == "error" for f in remaining)
    if args.no_lock:
        print("Run `uv lock` to update the lock.")
        return 1 if failed else 0
    locked, said = lock(folder)
    if locked:
        print("uv lock: the lock follows the new torch.")
    elif said == "uv is not on PATH":
        print("uv is not on PATH: run `uv lock` to update the lock.")
    else:
        print(f"uvtorch: error: `uv lock` failed: {said}\npyproject.toml was written; fix what "
              "uv reports, then run `uv lock` again.", file=sys.stderr)
        return 1
    return 1 if failed else 0


def _run_matrix(args: argparse.Namespace) -> int:
    import json

    from uvtorch.catalog import load, overlay_path
    from uvtorch.matrix import format_table, rows
    from uvtorch.plan import check_accelerators, check_platforms, check_torch

    catalog = load()
    check_accelerators(args.accelerator, catalog)  # an unknown id is an error, not "no match"
    if args.platform:
        check_platforms([args.platform], catalog)
    if args.refresh:
        from uvtorch.fetch import Fetcher, check_url
        from uvtorch.matrix import refresh, write_overlay

        base = check_url((args.index_url or catalog.default_index_url).rstrip("/"), "--index-url")
        fetcher = Fetcher(progress=_progress())
        try:
            releases, seen = refresh(base, catalog, lambda urls: fetcher.get_all(urls, "--index-url page"))
        finally:
            fetcher.close()
            _progress_done()
        if not releases:
            raise UvtorchError(
                f"Found no torch wheels under {base}/<build>/torch/.",
                "Give the base of a PyTorch-style index, e.g. https://download.pytorch.org/whl.",
            )
        write_overlay(base, releases, overlay_path())
        load.cache_clear()
        catalog = load()
        print(f"Read torch {', '.join(releases)} ({', '.join(seen)}) from {base}; "
              f"kept in {overlay_path()}.")
    if args.torch:
        check_torch(args.torch, (), catalog)  # the same errors as init's --torch
    table = rows(catalog, args.torch, args.accelerator, args.platform)
    if args.json:
        print(json.dumps({"schema_version": 1, "builds": table}, indent=2))
    else:
        sys.stdout.write(format_table(table))
    return 0


def _progress() -> Callable[[str], None] | None:
    """A one-line progress report on stderr, only when it is a terminal (and not --no-progress)."""
    from uvtorch.console import show_progress

    if not show_progress(sys.stderr):
        return None

    def show(text: str) -> None:
        sys.stderr.write(f"\r\x1b[Kuvtorch: {text}")
        sys.stderr.flush()

    return show


def _progress_done() -> None:
    from uvtorch.console import show_progress

    if show_progress(sys.stderr):
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()


def _system_flags_of(args: argparse.Namespace) -> Any:
    from uvtorch.pipeline import SystemFlags

    return SystemFlags(args.system_torch, args.python_executable, args.system_layout, args.trust)


def _confirm(args: argparse.Namespace) -> Callable[[Any, Any], Any]:
    """How init and add ask the index about the chosen builds (uvtorch.availability)."""
    from uvtorch.availability import confirm

    return lambda stack, catalog: confirm(stack, catalog, offline=args.offline, say=_say, warn=_warn)


def _say(text: str) -> None:
    sys.stdout.write(f"{text}\n")


def _warn(text: str) -> None:
    sys.stderr.write(f"{text}\n")


def _init(args: argparse.Namespace) -> int:
    from uvtorch.catalog import load
    from uvtorch.init import build_project, refuse_existing_project
    from uvtorch.pipeline import Wizard, flag_layer, init_stack, settle
    from uvtorch.questions import QUESTION_IDS

    if args.list_templates:
        return _list_templates()
    if not args.yes and not sys.stdin.isatty():
        raise NeedsTerminal(
            "uvtorch init has no terminal to ask its questions on.",
            "Pass --yes to take the defaults for everything not given by a flag "
            "(e.g. uvtorch init demo --yes -a cpu -a cu128).",
        )
    target = Path(args.directory)
    if not args.force and not args.dry_run:
        refuse_existing_project(target)
    catalog = load()
    stack, template = init_stack(target.resolve().name, flag_layer(vars(args)), args.template,
                                 Path(args.answers) if args.answers else None)
    asked = not args.yes
    wizard = None
    if asked:
        from uvtorch.wizard import QuestionaryPrompter

        wizard = Wizard(QuestionaryPrompter(), template.ask if template else None)
    answers = settle(stack, catalog, _system_flags_of(args), wizard, say=_say, warn=_warn)
    catalog = _confirm(args)(stack, catalog)  # the index's word on the chosen builds
    project = build_project(answers, catalog, QUESTION_IDS)
    if wizard is not None:
        from uvtorch.errors import Cancelled
        from uvtorch.init import summary

        sys.stdout.write(summary(project, target))
        if not wizard.prompter.confirm("Write these files?", default=True):
            raise Cancelled
    if args.dry_run:
        from uvtorch.init import dry_run_report

        sys.stdout.write(dry_run_report(project, target, args.force))
        return 0
    from uvtorch.init import created_report
    from uvtorch.write import write_files  # not before: --dry-run stays light

    notes = write_files(target, project.files, force=args.force)
    sys.stdout.write(created_report(project, target, args.directory, notes, summarized=asked))
    return 0


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    from uvtorch.console import label

    print(f"uvtorch: {label('warning', sys.stderr)}: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit code.

    Known bad input ends as one `uvtorch: error:` paragraph. Anything else is a bug: it is
    reported in one line (the traceback with UVTORCH_TRACEBACK=1 or -v) and exits 1.
    """
    import warnings

    args_list = list(sys.argv[1:] if argv is None else argv)
    with warnings.catch_warnings():
        warnings.simplefilter("always", UvtorchWarning)
        warnings.showwarning = _show_warning
        try:
            return _main(args_list)
        except Exception as exc:  # the last resort: a bug, never a user's mistake
            import os

            if os.environ.get("UVTORCH_TRACEBACK") == "1" or any(
                a in ("-v", "--verbose") for a in args_list
            ):
                import traceback

                traceback.print_exc()
            print(f"uvtorch: internal error: {type(exc).__name__}: {exc} (set "
                  "UVTORCH_TRACEBACK=1 or pass -v to see the traceback; please report it)",
                  file=sys.stderr)
            return 1


def _main(args_list: list[str]) -> int:
    wanted = next((a for a in args_list if not a.startswith("-")), None)
    if "uvtorch.write" in sys.modules:  # what an earlier main() in this process wrote
        sys.modules["uvtorch.write"].written.clear()
    try:
        if wanted in PASSTHROUGH_HELP and args_list[0] == wanted:
            # uv's arguments pass through unchanged: argparse would reorder or reject them.
            from uvtorch.cli_sync import run_passthrough

            return run_passthrough(wanted, args_list[1:])
        parser = _parser(wanted)
        args = parser.parse_args(args_list)
        if args.command is None:
            parser.print_help()
            return USAGE
        from uvtorch.console import configure

        configure(quiet=getattr(args, "quiet", False), color=getattr(args, "color", "auto"),
                  progress=not getattr(args, "no_progress", False))
        if getattr(args, "quiet", False) and args.command in _QUIET_COMMANDS and not getattr(
            args, "dry_run", False
        ):
            import contextlib
            import os

            # What these commands print is a report of what they did; errors and warnings
            # go to stderr and stay.
            with open(os.devnull, "w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
                return _dispatch(args)
        return _dispatch(args)
    except UvtorchError as exc:
        from uvtorch.console import label

        text = f"uvtorch: {label(exc.label, sys.stderr)}: {exc.message}"
        if exc.hint:
            text += f" {exc.hint}"
        print(text, file=sys.stderr)
        if _wants_json(args_list):  # a script reading stdout gets a document, not nothing
            import json

            print(json.dumps({"schema_version": 1, "error": {
                "kind": exc.label, "message": exc.message, "hint": exc.hint,
                "exit_code": exc.exit_code,
            }}, indent=2))
        return exc.exit_code
    except KeyboardInterrupt:
        done = getattr(sys.modules.get("uvtorch.write"), "written", [])
        what = f"{done[-1]} was already written in full" if done else "nothing was written"
        print(f"uvtorch: interrupted; {what}.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `uvtorch detect --json | head`: the reader left
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except EOFError:  # the terminal closed while a question was waiting
        print("uvtorch: input ended; nothing was written.", file=sys.stderr)
        return 130


def _wants_json(args: list[str]) -> bool:
    """`--json` or `--output-format json` on the command line (errors then print JSON too)."""
    if "--json" in args or "--output-format=json" in args:
        return True
    return any(a == "--output-format" and b == "json" for a, b in zip(args, args[1:]))


_QUIET_COMMANDS = ("init", "add", "upgrade")  # -q: their stdout reports, it is not a result


def _dispatch(args: argparse.Namespace) -> int:
    """Run the parsed command."""
    if args.command == "detect":
        return _run_detect(args)
    if args.command == "check":
        return _run_check(args)
    if args.command == "matrix":
        return _run_matrix(args)
    if args.command == "add":
        return _run_add(args)
    if args.command == "upgrade":
        return _run_upgrade(args)
    if args.command in ("which", "verify"):
        from uvtorch.cli_sync import run_verify, run_which

        return run_which(args) if args.command == "which" else run_verify(args)
    return _init(args)
