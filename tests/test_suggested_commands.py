"""Every command a generated file suggests is run by a test on the fake index (issue 14).

For each kind of project (index extras, nightly, -a system, a kernel, the training and notebook
templates) the audit collects what the generated files tell a user to type: each ```bash block
of README.md, and each backticked span that starts with `uv`, `uvtorch` or `pip` (or with an
environment assignment before one) in README.md, pyproject.toml's comments and the template's
files. Each one must match a shape in RUNNERS (run here, with the real uv on the fake index,
and an assertion about the result) or in ELSEWHERE (the named test runs it). A new suggestion
that no test runs fails `test_every_suggested_command_is_run_by_a_test`.

The one change made to a command before it runs: the README's placeholder mirror
(https://mirror.example.com/whl) becomes a second address of the fake index, so uv really
fetches through the override.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from fakeindex import FakeIndex, build_wheel, find_uv_bin, installed_packages
from uvtorch.cli import main

TESTS = Path(__file__).parent
MIRROR = "https://mirror.example.com/whl"
NGC = "2.5.0a0+872d972e41.nv24.08"

# How each kind of project is made (besides --yes and --index-url <fake index>).
KINDS: dict[str, list[str]] = {
    "index": ["-a", "cpu", "-a", "cu126", "--torch", ">=2.9,<2.10", "--package", "torchvision"],
    "nightly": ["-a", "cpu", "-a", "cu130", "--channel", "nightly"],
    "system": ["-a", "system", "-a", "cpu", "--system-torch", NGC, "--torch", ">=2.9,<2.10"],
    "kernel": ["-a", "cpu", "-a", "cu128", "--torch", ">=2.9,<2.10", "-k", "flash-attn"],
    "training": ["-a", "cpu", "--template", "training"],
    "notebook": ["-a", "cpu", "--template", "notebook"],
}
RUN = ("index", "nightly", "system")  # the kinds whose suggestions run here, end to end

_SPAN = re.compile(r"`([^`\n]+)`")
_BLOCK = re.compile(r"```bash\n(.*?)```", re.S)
_COMMAND = re.compile(r"^(?:[A-Z_]+=\S+\s+)*(?:uv|uvtorch|pip)(?:\s|$)")


def suggested(project: Path) -> list[str]:
    """What the generated files tell a user to type, in file order (blocks whole)."""
    found: list[str] = []
    paths = [project / "README.md", project / "pyproject.toml"] + sorted(
        p for p in project.rglob("*") if p.suffix in (".py", ".ipynb") and ".venv" not in p.parts)
    for path in paths:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        found += [block.strip() for block in _BLOCK.findall(text)]
        found += [span for span in _SPAN.findall(_BLOCK.sub("", text)) if _COMMAND.match(span)]
    return list(dict.fromkeys(found))


class Context(NamedTuple):
    kind: str
    project: Path
    env: dict[str, str]
    index: FakeIndex
    mirror: str  # the fake index under another address: what stands for MIRROR


def sh(ctx: Context, command: str, cwd: Path | None = None) -> str:
    """Run `command` as a user pastes it (bash -euo pipefail); its stdout."""
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", command.replace(MIRROR, ctx.mirror)],
                          cwd=cwd or ctx.project, env=ctx.env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
    return done.stdout


def torch_of(ctx: Context, project: Path | None = None) -> str | None:
    return installed_packages(project or ctx.project, ctx.env).get("torch")


# --- runners: one per shape of suggestion ---------------------------------------------------

def _lock(ctx: Context, command: str) -> None:
    sh(ctx, command)
    assert (ctx.project / "uv.lock").is_file()


def _sync_extra(ctx: Context, command: str) -> None:
    extra = command.split()[-1]
    sh(ctx, command)
    assert (torch_of(ctx) or "").endswith(f"+{extra}"), torch_of(ctx)


def _plain_sync(ctx: Context, command: str) -> None:
    sh(ctx, "uv sync --extra cpu")
    sh(ctx, command)  # exact: the extra's torch goes again
    assert torch_of(ctx) is None


def _plain_run(ctx: Context, command: str) -> None:
    """`uv run` (named in the README's "installs no torch"): a fresh project gets none."""
    fresh = _fresh_copy(ctx)
    out = sh(ctx, command + " python -c \"import importlib.util as u; print(u.find_spec('torch'))\"",
             cwd=fresh)
    assert out.strip() == "None"


def _readme_pair(ctx: Context, command: str) -> None:
    """`uv sync --extra cpu` then `uv run --extra cpu python -c ...print(torch.__version__)`."""
    out = sh(ctx, command)
    assert out.strip().endswith("+cpu"), out


def _uvtorch_trio(ctx: Context, command: str) -> None:
    """uvtorch sync / run / sync --verify on a machine without a GPU: the cpu extra."""
    out = sh(ctx, command)
    assert "+cpu" in out, out  # what `uvtorch run ... print(torch.__version__)` printed
    assert (torch_of(ctx) or "").endswith("+cpu")


def _syncs_cpu(ctx: Context, command: str) -> None:
    """`uvtorch sync`, or `uv sync --extra "$(uvtorch which)"`: the cpu extra here."""
    sh(ctx, command)
    assert (torch_of(ctx) or "").endswith("+cpu")


def _uvtorch_which(ctx: Context, command: str) -> None:
    assert sh(ctx, command).strip() == "cpu"


def _uv_index_override(ctx: Context, command: str) -> None:
    fresh = _fresh_copy(ctx)
    (fresh / "uv.lock").unlink(missing_ok=True)
    sh(ctx, command, cwd=fresh)
    assert ctx.mirror in (fresh / "uv.lock").read_text()  # uv fetched through the override


def _add_index_url(ctx: Context, command: str) -> None:
    fresh = _fresh_copy(ctx)
    sh(ctx, command, cwd=fresh)
    text = (fresh / "pyproject.toml").read_text()
    assert ctx.mirror in text and ctx.index.pytorch_base not in text
    sh(ctx, "uv lock", cwd=fresh)  # "then run `uv lock`"
    assert ctx.mirror in (fresh / "uv.lock").read_text()


def _pip_install_extra(ctx: Context, command: str) -> None:
    """pip with the extra and its index gets the extra's build (pip reads no tool.uv)."""
    venv = _pip_venv(ctx)
    sh(ctx, f". {venv}/bin/activate && {command}")
    assert _pip_torch(venv).endswith("+" + re.search(r'"\.\[(\w+)\]"', command)[1])  # type: ignore[index]


def _pip_install_extra_alone(ctx: Context, command: str) -> None:
    """`pip install ".[cpu]"` with no index named: PyPI's torch (no local build label); for a
    nightly project none, as the README says (PyPI has no nightly builds)."""
    venv = _pip_venv(ctx)
    if ctx.kind == "nightly":
        done = subprocess.run(["bash", "-c", f". {venv}/bin/activate && {command}"],
                              cwd=ctx.project, env=ctx.env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode != 0 and "No matching distribution found for torch" in done.stderr
        assert "PyPI has no nightly builds" in (ctx.project / "README.md").read_text()
        return
    sh(ctx, f". {venv}/bin/activate && {command}")
    torch = _pip_torch(venv)
    assert torch and "+" not in torch, torch


def _pip_install_plain(ctx: Context, command: str) -> None:
    """`pip install .`: pip reads no tool.uv.sources, and torch is only in the extras: none."""
    venv = _pip_venv(ctx)
    sh(ctx, f". {venv}/bin/activate && {command}")
    assert _pip_torch(venv) == ""


def _init_answers(ctx: Context, command: str) -> None:
    """`uvtorch init OTHER --answers .uvtorch.toml` makes the same project again."""
    other = ctx.project.parent / f"{ctx.project.name}-again"
    # No terminal here: --yes takes what the answers file does not settle (it settles all).
    sh(ctx, command.replace("OTHER", str(other)) + " --yes")
    assert (other / "pyproject.toml").read_text() == (ctx.project / "pyproject.toml").read_text(
        ).replace(f'name = "{ctx.project.name}"', f'name = "{other.name}"')


def _check(ctx: Context, command: str) -> None:
    sh(ctx, command)  # exit 0: nothing to fix in a fresh, locked project


def _sync_dry_run(ctx: Context, command: str) -> None:
    out = subprocess.run(["bash", "-c", command], cwd=ctx.project, env=ctx.env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "Would" in out.stderr + out.stdout, out.stderr


def _upgrade_torch(ctx: Context, command: str) -> None:
    sh(ctx, command)
    assert "torch" in (ctx.project / "uv.lock").read_text()


Runner = Callable[[Context, str], None]
PYTHON_C = 'python -c "import torch; print(torch.__version__)"'
RUNNERS: list[tuple[str, Runner]] = [
    (r"uv lock", _lock),
    (r"uv lock --upgrade-package torch", _upgrade_torch),
    (r"uv sync --extra (cpu|cu126|cu130)", _sync_extra),
    (r"uv sync", _plain_sync),
    (r"uv run", _plain_run),
    (r"uv sync --extra cpu\nuv run --extra cpu " + re.escape(PYTHON_C), _readme_pair),
    (r"uvtorch sync\nuvtorch run " + re.escape(PYTHON_C) + r"\nuvtorch sync --verify", _uvtorch_trio),
    (r"uvtorch sync", _syncs_cpu),
    (r"uvtorch which", _uvtorch_which),
    (r'uv sync --extra "\$\(uvtorch which\)"', _syncs_cpu),
    (r'UV_INDEX="[\w-]+=' + re.escape(MIRROR) + r'/[\w./-]+" uv lock', _uv_index_override),
    (r"uvtorch add --index-url " + re.escape(MIRROR), _add_index_url),
    (r'pip install "\.\[\w+\]" --extra-index-url \S+', _pip_install_extra),
    (r'pip install "\.\[\w+\]"', _pip_install_extra_alone),
    (r"pip install \.", _pip_install_plain),
    (r"uvtorch init OTHER --answers \.uvtorch\.toml", _init_answers),
    (r"uvtorch check", _check),
    (r"uv sync --dry-run", _sync_dry_run),
]

# Suggestions another test runs: shape -> (test file, test name, a text that test contains).
ELSEWHERE: dict[str, tuple[str, str, str]] = {
    # -a system's three image layouts: each block run as pasted (test_system._follow)
    r"uv venv --system-site-packages --python \S+\nuv sync --extra system\nuv run --extra system .*":
        ("test_system.py", "test_base_interpreter_flow_uses_the_base_torch", "_follow("),
    r'IMAGE_PYTHON=\S+\nuv venv --python "\$IMAGE_PYTHON"\n.*':
        ("test_system.py", "test_image_venv_flow_never_replaces_the_image_torch", "_follow("),
    r"export UV_PROJECT_ENVIRONMENT=\S+\nuv sync --extra system --inexact\n.*":
        ("test_system.py", "test_syncing_into_the_image_venv_needs_inexact", "_follow("),
    r"uv sync --extra system": ("test_system.py", "test_a_system_extra_next_to_index_extras", "system"),
    # a kernel: one sync builds it against the extra's torch; the rebuild after editing targets
    r"uv sync --extra (ID|cu128) --reinstall-package (NAME|flash-attn)":
        ("test_e2e_kernels.py", "test_the_suggested_rebuild_commands_rebuild_the_kernel",
         "--reinstall-package"),
    r"uvtorch sync --reinstall-package NAME":
        ("test_e2e_kernels.py", "test_the_suggested_rebuild_commands_rebuild_the_kernel",
         '"uvtorch", "sync", "--reinstall-package"'),  # pinned by UVTORCH_EXTRA there
    # the training template's script and test need a real torch (numbers, autograd)
    r"uvtorch run python -m \w+\.train|uv run --extra cpu python -m \w+\.train":
        ("test_e2e_templates.py", "test_training_template_syncs_and_its_test_passes", ".train"),
    r"uvtorch run pytest|uv run --extra cpu pytest":
        ("test_e2e_templates.py", "test_training_template_syncs_and_its_test_passes", "pytest"),
    r"uv run --extra cpu jupyter lab":
        ("test_suggested_commands.py", "test_the_notebook_templates_jupyter_lab_command",
         "jupyter lab"),
}
# Words in backticks that name a command without being one to type (the README's prose about
# uv's flags), each with the sentence's claim that a runner above checks.
MENTIONS = {"uv sync --extra": "uv sync --extra cpu", "uv sync --extra <id>": "uv sync --extra cpu"}


def _shape_of(command: str) -> str | None:
    for pattern, _ in RUNNERS:
        if re.fullmatch(pattern, command, re.S):
            return pattern
    for pattern in ELSEWHERE:
        if re.fullmatch(pattern, command, re.S):
            return pattern
    return None


def _fresh_copy(ctx: Context) -> Path:
    """A copy of the project without its environment, for commands that change it."""
    fresh = ctx.project.parent / f"{ctx.project.name}-copy-{len(list(ctx.project.parent.iterdir()))}"
    shutil.copytree(ctx.project, fresh, ignore=shutil.ignore_patterns(".venv"))
    return fresh


def _pip_venv(ctx: Context) -> Path:
    venv = ctx.project.parent / f"pip-venv-{len(list(ctx.project.parent.iterdir()))}"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    return venv


def _pip_torch(venv: Path) -> str:
    shown = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import importlib.metadata as m\ntry: print(m.version('torch'))\n"
                            "except m.PackageNotFoundError: print('')"],
                           capture_output=True, text=True, check=True)
    return shown.stdout.strip()


def _make(kind: str, folder: Path, index: FakeIndex) -> Path:
    project = folder / kind
    assert main(["init", str(project), "--yes", "--index-url", index.pytorch_base, *KINDS[kind]]) == 0
    return project


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_suggested_command_is_run_by_a_test(
    kind: str, tmp_path: Path, fake_index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _make(kind, tmp_path, fake_index)
    capsys.readouterr()
    commands = [c for c in suggested(project) if c not in MENTIONS]
    assert commands, "the audit found no suggestion at all: its patterns are broken"
    unrun = [c for c in commands if _shape_of(c) is None]
    assert not unrun, f"generated files suggest commands no test runs: {unrun}"
    for command in commands:
        shape = _shape_of(command)
        if shape in ELSEWHERE:
            file, name, needle = ELSEWHERE[shape]
            source = (TESTS / file).read_text()
            start = source.index(f"def {name}(")  # the test exists ...
            body = source[start:source.find("\ndef ", start + 1)]
            assert needle in body, f"{file}::{name} no longer runs {command!r}"  # ... and runs it


def test_the_audit_sees_what_a_readme_suggests(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(textwrap.dedent("""\
        Run `uv sync --extra cpu`, not `uvx whatever` or `torch`.

        ```bash
        uvtorch sync
        uvtorch which
        ```
        """))
    assert suggested(tmp_path) == ["uvtorch sync\nuvtorch which", "uv sync --extra cpu"]
    assert _shape_of("uv sync --extra cpu") and _shape_of("uv sync --extra cpuu") is None
    assert _shape_of("uvtorch sync\nuvtorch which") is None  # a block is matched whole


def _fake_uv_build(pypi: Path) -> None:
    """A PEP 517 backend named uv_build on the fake PyPI, so pip can build a generated project
    (uv builds it with its own built-in backend and never asks for this one)."""
    backend = textwrap.dedent('''\
        """A stand-in for uv_build: enough of PEP 517 for pip to build a uvtorch project."""
        import base64, hashlib, os, zipfile
        try:
            import tomllib
        except ImportError:
            import tomli as tomllib

        def _project():
            with open("pyproject.toml", "rb") as f:
                return tomllib.load(f)["project"]

        def _metadata(p):
            lines = ["Metadata-Version: 2.1", f"Name: {p['name']}", f"Version: {p['version']}"]
            if "requires-python" in p:
                lines.append(f"Requires-Python: {p['requires-python']}")
            lines += [f"Requires-Dist: {r}" for r in p.get("dependencies", [])]
            for extra, reqs in p.get("optional-dependencies", {}).items():
                lines.append(f"Provides-Extra: {extra}")
                for r in reqs:
                    req, _, marker = r.partition(";")
                    cond = f'({marker.strip()}) and extra == "{extra}"' if marker else f'extra == "{extra}"'
                    lines.append(f"Requires-Dist: {req.strip()}; {cond}")
            return "\\n".join(lines) + "\\n\\n"

        def get_requires_for_build_wheel(config_settings=None):
            return []

        def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
            p = _project()
            module = p["name"].replace("-", "_")
            info = f"{module}-{p['version']}.dist-info"
            files = {}
            for root, _, names in os.walk(os.path.join("src", module)):
                for n in names:
                    path = os.path.join(root, n)
                    with open(path, "rb") as f:
                        files[os.path.relpath(path, "src")] = f.read()
            files[f"{info}/METADATA"] = _metadata(p).encode()
            files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
            record = "".join(
                f"{k},sha256={base64.urlsafe_b64encode(hashlib.sha256(v).digest()).rstrip(b'=').decode()},{len(v)}\\n"
                for k, v in files.items()) + f"{info}/RECORD,,\\n"
            files[f"{info}/RECORD"] = record.encode()
            name = f"{module}-{p['version']}-py3-none-any.whl"
            with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
                for k, v in files.items():
                    z.writestr(k, v)
            return name
        ''')
    build_wheel(pypi, "uv_build", "0.13.9", module_files={"uv_build/__init__.py": backend})


@pytest.fixture(scope="module")
def mirror_of(fake_index: FakeIndex) -> str:
    """The fake index under another address (localhost, not 127.0.0.1): a "mirror" of it."""
    return fake_index.pytorch_base.replace("127.0.0.1", "localhost")


@pytest.mark.e2e
@pytest.mark.parametrize("kind", RUN)
def test_every_suggested_command_runs_and_does_what_it_says(
    kind: str, tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str], mirror_of: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from fakeindex import PYPI

    pypi = fake_index.root / PYPI
    if not list(pypi.glob("uv_build-*.whl")):
        _fake_uv_build(pypi)
    project = _make(kind, tmp_path, fake_index)
    capsys.readouterr()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "uvtorch"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m uvtorch "$@"\n')
    shim.chmod(0o755)
    # A machine without a GPU (no nvidia-smi, rocm tools or Intel devices on this PATH).
    env = dict(uv_env, PATH=f"{bin_dir}:{Path(find_uv_bin()).parent}:/usr/bin:/bin",
               PIP_INDEX_URL=fake_index.pypi_url, PIP_NO_CACHE_DIR="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("UVTORCH_EXTRA", None)  # detection chooses, as on a user's machine
    ctx = Context(kind, project, env, fake_index, mirror_of)
    sh(ctx, "uv lock")  # the lock the README's commands start from
    ran = []
    for command in suggested(project):
        if command in MENTIONS:
            command = MENTIONS[command]
        shape = _shape_of(command)
        runner = dict(RUNNERS).get(shape or "")
        if runner is None:
            assert shape in ELSEWHERE, command
            continue
        runner(ctx, command)
        ran.append(command)
    assert len(ran) >= 8, ran


@pytest.mark.e2e
def test_the_notebook_templates_jupyter_lab_command(
    tmp_path: Path, fake_index: FakeIndex, uv_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`uv run --extra cpu jupyter lab` (the notebook's first cell): JupyterLab from the dev
    group starts in the environment of the extra, so its kernel imports that torch. A fake
    jupyterlab on the fake PyPI prints the torch it sees instead of serving."""
    from fakeindex import PYPI

    pypi = fake_index.root / PYPI
    if not list(pypi.glob("jupyterlab-*.whl")):
        info = "jupyterlab-4.2.0.dist-info"
        build_wheel(pypi, "jupyterlab", "4.2.0", module_files={
            "jupyterlab/__init__.py": textwrap.dedent("""\
                import sys
                def main():
                    import torch
                    print("jupyter", " ".join(sys.argv[1:]), "with torch", torch.__version__)
                """),
            f"{info}/entry_points.txt": "[console_scripts]\njupyter = jupyterlab:main\n",
        })
        build_wheel(pypi, "ipykernel", "6.29.0")
    project = _make("notebook", tmp_path, fake_index)
    capsys.readouterr()
    command = next(c for c in suggested(project) if "jupyter lab" in c)
    assert command == "uv run --extra cpu jupyter lab"
    ctx = Context("notebook", project, dict(uv_env, PATH=f"{Path(find_uv_bin()).parent}:/usr/bin:/bin"),
                  fake_index, "")
    sh(ctx, "uv lock")
    out = sh(ctx, command)
    assert re.fullmatch(r"jupyter lab with torch 2\.\d+\.\d+\+cpu\n", out), out
