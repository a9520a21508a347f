"""Every write is one all-or-nothing transaction, and edits keep the file's identity.

Signals are real (sent to a `uvtorch init` subprocess, or raised with os.kill inside a
rename), failures are injected at the OS call, and races are run between real processes.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from test_add import HAND
from uvtorch import write
from uvtorch.cli import main
from uvtorch.errors import UvtorchError, WouldOverwrite
from uvtorch.write import TX_PREFIX, edit_lock, write_files

UVTORCH = [sys.executable, "-m", "uvtorch"]


def tree(root: Path) -> dict[str, str]:
    """Every entry under `root`: kind, mode and a hash of its bytes (or link target)."""
    out: dict[str, str] = {}
    if not root.exists():
        return out
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            st = path.lstat()
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = f"link {os.readlink(path)}"
            elif path.is_dir():
                out[rel] = f"dir {st.st_mode:o}"
            else:
                out[rel] = f"file {st.st_mode:o} {hashlib.sha256(path.read_bytes()).hexdigest()}"
    return out


def leftovers(*folders: Path) -> list[Path]:
    return [p for f in folders if f.is_dir() for p in f.iterdir() if p.name.startswith(TX_PREFIX)]


def big_template(root: Path, count: int = 2000) -> Path:
    """A template whose thousands of files make `init` slow enough to interrupt."""
    (root / "files" / "data").mkdir(parents=True)
    (root / "uvtorch-template.toml").write_text('description = "many files"\n')
    for i in range(count):
        (root / "files" / "data" / f"f{i:05}.txt").write_text(f"file {i} of {{{{ project }}}}\n")
    return root


def wait_for(check: Callable[[], bool], proc: subprocess.Popen[str], limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while not check():
        assert proc.poll() is None, f"uvtorch ended before the moment came: {proc.communicate()}"
        assert time.monotonic() < deadline, "the moment never came"
        time.sleep(0.002)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return big_template(tmp_path_factory.mktemp("tpl") / "many")


# --- signals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signum", "exists"),
    [(signal.SIGINT, True), (signal.SIGTERM, True), (signal.SIGINT, False)],
    ids=["sigint-existing-folder", "sigterm-existing-folder", "sigint-new-folder"],
)
def test_a_signal_while_staging_leaves_everything_as_it_was(
    tmp_path: Path, template: Path, signum: int, exists: bool
) -> None:
    target = tmp_path / "proj"
    if exists:
        target.mkdir()
        (target / "notes.txt").write_text("mine\n")
    before = tree(tmp_path)
    proc = subprocess.Popen(
        [*UVTORCH, "init", str(target), "--yes", "-a", "cpu", "--template", str(template)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    wait_for(lambda: bool(leftovers(tmp_path, target)), proc)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, err
    assert "nothing was written" in err and "Traceback" not in err
    assert err.count("\n") == 1
    assert tree(tmp_path) == before


def test_a_signal_between_two_renames_undoes_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "proj"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    before = tree(tmp_path)
    link = os.link
    calls = []

    def link_then_sigterm(src: Any, dst: Any, **kw: Any) -> None:
        calls.append(dst)
        link(src, dst, **kw)
        if len(calls) == 2:  # the second file is in place, three more to go
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(os, "link", link_then_sigterm)
    handler = signal.getsignal(signal.SIGTERM)
    assert main(["init", str(target), "--yes", "-a", "cpu"]) == 128 + signal.SIGTERM
    err = capsys.readouterr().err
    assert len(calls) == 2
    assert "Interrupted by SIGTERM" in err and "nothing was written" in err
    assert tree(tmp_path) == before
    assert signal.getsignal(signal.SIGTERM) is handler  # installed only while writing


def test_an_ignored_sigint_stays_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    link = os.link

    def link_then_sigint(src: Any, dst: Any, **kw: Any) -> None:
        link(src, dst, **kw)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(os, "link", link_then_sigint)
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)  # e.g. started with nohup
    try:
        write_files(tmp_path, {"a.txt": "a", "b.txt": "b"})
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, old)
    assert (tmp_path / "a.txt").read_text() == "a" and (tmp_path / "b.txt").read_text() == "b"


# --- injected failures -----------------------------------------------------------------------


def fail_on_call(monkeypatch: pytest.MonkeyPatch, name: str, nth: int, code: int) -> list[Any]:
    """Make os.<name> raise OSError(code) on its nth call; the calls are recorded."""
    real = getattr(os, name)
    calls: list[Any] = []

    def failing(*args: Any, **kw: Any) -> Any:
        calls.append(args)
        if len(calls) == nth:
            raise OSError(code, os.strerror(code))
        return real(*args, **kw)

    monkeypatch.setattr(os, name, failing)
    return calls


def test_a_failure_at_the_second_replace_restores_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(f"old {name}\n")
    (tmp_path / "a.txt").chmod(0o600)
    before = tree(tmp_path)
    calls = fail_on_call(monkeypatch, "replace", 2, errno.EIO)
    with pytest.raises(UvtorchError) as raised:
        write_files(tmp_path, {n: "new\n" for n in ("a.txt", "b.txt", "c.txt")}, force=True)
    assert len(calls) >= 3  # the failing one, then a.txt put back
    assert "nothing was written" in str(raised.value)
    assert tree(tmp_path) == before


def test_a_failure_at_the_second_new_file_removes_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    before = tree(tmp_path)
    fail_on_call(monkeypatch, "link", 2, errno.EIO)
    with pytest.raises(UvtorchError) as raised:
        write_files(tmp_path, {"a.txt": "a", "b.txt": "b", "sub/c.txt": "c"})
    assert "nothing was written" in str(raised.value)
    assert tree(tmp_path) == before


@pytest.mark.parametrize("exists", [True, False], ids=["existing-folder", "new-folder"])
def test_a_full_disk_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str], exists: bool) -> None:
    target = tmp_path / "proj"
    if exists:
        target.mkdir()
        (target / "notes.txt").write_text("mine\n")
    before = tree(tmp_path)
    fail_on_call(monkeypatch, "write", 3, errno.ENOSPC)
    assert main(["init", str(target), "--yes", "-a", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "nothing was written" in err
    assert tree(tmp_path) == before


def test_what_could_not_be_undone_is_named_not_denied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_on_call(monkeypatch, "link", 2, errno.EIO)
    unlink = os.unlink

    def stubborn(path: Any, *args: Any, **kw: Any) -> None:
        if Path(path) == tmp_path / "a.txt":
            raise PermissionError(errno.EACCES, "Permission denied")
        unlink(path, *args, **kw)

    monkeypatch.setattr(os, "unlink", stubborn)
    with pytest.raises(UvtorchError) as raised:
        write_files(tmp_path, {"a.txt": "a", "b.txt": "b"})
    text = str(raised.value)
    assert "nothing was written" not in text
    assert f"{tmp_path / 'a.txt'} (Permission denied)" in text
    assert not leftovers(tmp_path)


# --- no-clobber races --------------------------------------------------------------------------


def start_init(target: Path, accelerator: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*UVTORCH, "init", str(target), "--yes", "-a", accelerator],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def one_winner(procs: list[subprocess.Popen[str]], target: Path) -> None:
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    loser = next(err for code, _, err in results if code == 1)
    assert "already has" in loser and "Traceback" not in loser
    winner = next(out for code, out, _ in results if code == 0)
    accelerator = "cu128" if "extras: cu128" in winner else "cpu"
    # Every file is the winner's: its pyproject and its recorded answers agree.
    assert f'"{accelerator}"' in (target / ".uvtorch.toml").read_text()
    assert f"{accelerator} = [" in (target / "pyproject.toml").read_text()
    assert not leftovers(target, target.parent)


@pytest.mark.parametrize("attempt", range(3))
def test_two_inits_into_one_new_folder_one_wins(tmp_path: Path, attempt: int) -> None:
    target = tmp_path / "proj"
    one_winner([start_init(target, "cpu"), start_init(target, "cu128")], target)


def test_two_inits_into_one_empty_folder_one_wins(tmp_path: Path) -> None:
    target = tmp_path / "proj"
    target.mkdir()
    # Both pass their early check while the folder is locked, then race to place files.
    with edit_lock(target):
        procs = [start_init(target, "cpu"), start_init(target, "cu128")]
        time.sleep(3)
        assert os.listdir(target) == []
    one_winner(procs, target)


# --- edit locks -------------------------------------------------------------------------------


def hand(tmp_path: Path, text: str = HAND) -> Path:
    project = tmp_path / "hand"
    project.mkdir()
    (project / "pyproject.toml").write_text(text)
    return project


def test_two_concurrent_adds_both_land(tmp_path: Path) -> None:
    project = hand(tmp_path)
    with edit_lock(project):  # both start, read nothing yet, and wait
        procs = [
            subprocess.Popen([*UVTORCH, "add", str(project), "--package", name],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name in ("einops", "safetensors")
        ]
        time.sleep(3)
        assert (project / "pyproject.toml").read_text() == HAND
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], results
    text = (project / "pyproject.toml").read_text()
    assert text.count('"einops"') == 2 and text.count('"safetensors"') == 2  # cpu and cu128


def test_an_edit_that_cannot_get_the_lock_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import fcntl

    project = hand(tmp_path)
    monkeypatch.setattr(write, "LOCK_WAIT_S", 0.3)
    fd = os.open(project, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as another process would hold it
        assert main(["add", str(project), "--package", "einops"]) == 1
    finally:
        os.close(fd)
    err = capsys.readouterr().err
    assert "Another uvtorch run is changing" in err and "nothing was written" in err
    assert (project / "pyproject.toml").read_text() == HAND


# --- identity -------------------------------------------------------------------------------

NOT_EXPLICIT = HAND.replace(
    'url = "https://download.pytorch.org/whl/cpu"\nexplicit = true\n',
    'url = "https://download.pytorch.org/whl/cpu"\n',
)
EDITS: dict[str, tuple[str, list[str]]] = {
    "add": (HAND, ["add", "{dir}", "--package", "einops"]),
    "check --fix": (NOT_EXPLICIT, ["check", "{dir}", "--fix"]),
}


@pytest.fixture(params=sorted(EDITS))
def edit(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    text, argv = EDITS[request.param]
    project = hand(tmp_path, text)
    yield project, [a.format(dir=project) for a in argv]


def test_edits_keep_the_mode(edit: tuple[Path, list[str]]) -> None:
    project, argv = edit
    path = project / "pyproject.toml"
    path.chmod(0o751)
    assert main(argv) == 0
    assert oct(path.stat().st_mode & 0o7777) == oct(0o751)
    assert os.listdir(project) == ["pyproject.toml"]  # no lock file, no staging left behind


def test_edits_keep_a_private_file_private(edit: tuple[Path, list[str]]) -> None:
    project, argv = edit
    path = project / "pyproject.toml"
    path.chmod(0o600)
    before = path.read_text()
    assert main(argv) == 0
    assert path.read_text() != before
    assert oct(path.stat().st_mode & 0o7777) == oct(0o600)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_edits_keep_the_owner(edit: tuple[Path, list[str]]) -> None:
    project, argv = edit
    path = project / "pyproject.toml"
    os.chown(path, 4321, 4322)
    assert main(argv) == 0
    st = path.stat()
    assert (st.st_uid, st.st_gid) == (4321, 4322)


def test_edits_write_through_a_symlink(edit: tuple[Path, list[str]]) -> None:
    project, argv = edit
    real = project / "config" / "pyproject.toml"
    real.parent.mkdir()
    (project / "pyproject.toml").rename(real)
    (project / "pyproject.toml").symlink_to(Path("config") / "pyproject.toml")
    before = real.read_text()
    assert main(argv) == 0
    assert os.readlink(project / "pyproject.toml") == str(Path("config") / "pyproject.toml")
    assert real.read_text() != before
    assert not leftovers(project, real.parent)


def test_edits_refuse_a_symlink_out_of_the_project(
    edit: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    project, argv = edit
    elsewhere = project.parent / "elsewhere.toml"
    (project / "pyproject.toml").rename(elsewhere)
    (project / "pyproject.toml").symlink_to(elsewhere)
    before = tree(project.parent)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "outside" in err and "nothing was written" in err
    assert tree(project.parent) == before


def test_edits_keep_crlf_and_the_diff_shows_only_real_changes(
    edit: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    project, argv = edit
    path = project / "pyproject.toml"
    lf = path.read_bytes()
    assert main(argv) == 0
    lf_diff = capsys.readouterr().out
    lf_after = path.read_bytes()
    lf_changed = [line for line in lf_diff.splitlines() if line[:1] in "+-"]
    path.write_bytes(lf.replace(b"\n", b"\r\n"))
    assert main(argv) == 0
    crlf_diff = capsys.readouterr().out
    data = path.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")  # every line still ends in CRLF
    assert data.replace(b"\r\n", b"\n") == lf_after
    crlf_changed = [line for line in crlf_diff.splitlines() if line[:1] in "+-"]
    assert crlf_changed == lf_changed  # the same few lines, not every line rewritten
    assert "\r\n" in crlf_diff


# --- killed runs -----------------------------------------------------------------------------


def test_a_killed_runs_staging_is_cleaned_up_by_the_next_run(
    tmp_path: Path, template: Path
) -> None:
    target = tmp_path / "proj"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    before = tree(target)
    proc = subprocess.Popen(
        [*UVTORCH, "init", str(target), "--yes", "-a", "cpu", "--template", str(template)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    wait_for(lambda: bool(leftovers(target)), proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert leftovers(target)  # SIGKILL cannot be handled: the staging folder is what is left
    assert {k for k in tree(target) if not k.startswith(TX_PREFIX)} == set(before)
    done = subprocess.run([*UVTORCH, "init", str(target), "--yes", "-a", "cpu"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "an interrupted uvtorch run had left" in done.stdout
    assert not leftovers(target)
    assert (target / "pyproject.toml").is_file() and not (target / "data").exists()


KILL_AT_SECOND_LINK = """
import json, os, sys
from pathlib import Path
from uvtorch.write import write_files
real = os.link
calls = []
def link(src, dst, **kw):
    calls.append(dst)
    real(src, dst, **kw)
    if len(calls) == 2:
        os.kill(os.getpid(), 9)
os.link = link
write_files(Path(sys.argv[1]), json.loads(sys.argv[2]))
"""


def killed_at_second_link(target: Path, files: dict[str, str] | None = None) -> None:
    """Run a write that SIGKILL stops right after placing its second file by link."""
    files = files or {"a.txt": "a", "b.txt": "b", "c.txt": "c"}
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AT_SECOND_LINK, str(target), json.dumps(files)],
        capture_output=True, text=True, timeout=60,
    )
    assert killed.returncode == -9, killed.stderr


def test_the_next_run_undoes_what_a_run_killed_while_renaming_placed(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    before = tree(tmp_path)
    killed_at_second_link(tmp_path)
    assert (tmp_path / "a.txt").read_text() == "a" and (tmp_path / "b.txt").read_text() == "b"
    assert not (tmp_path / "c.txt").exists()  # half the set: what SIGKILL can leave
    assert write.recover(tmp_path)[0].startswith("an interrupted uvtorch run had left")
    assert tree(tmp_path) == before


def test_the_next_run_keeps_what_was_changed_since_a_kill(tmp_path: Path) -> None:
    killed_at_second_link(tmp_path)
    (tmp_path / "b.txt").write_text("the user's now\n")
    notes = write.recover(tmp_path)
    assert "b.txt (changed since; left as it is)" in notes[0]
    assert not (tmp_path / "a.txt").exists()
    assert (tmp_path / "b.txt").read_text() == "the user's now\n"
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("edited", [False, True], ids=["untouched", "edited-since"])
def test_a_new_folder_placed_before_a_kill_is_undone_only_if_untouched(
    tmp_path: Path, edited: bool
) -> None:
    # Placed in order: a.txt (link), the new folder sub/ (one rename), z.txt (link, then kill).
    killed_at_second_link(tmp_path, {"a.txt": "a", "sub/b.txt": "b", "sub/c/d.txt": "d",
                                     "z.txt": "z"})
    assert (tmp_path / "sub" / "c" / "d.txt").read_text() == "d"
    if edited:
        (tmp_path / "sub" / "c" / "d.txt").write_text("the user's\n")
    notes = write.recover(tmp_path)
    assert ("changed since" in notes[0]) is edited
    assert (tmp_path / "sub").exists() is edited
    assert not (tmp_path / "a.txt").exists() and not (tmp_path / "z.txt").exists()
    assert not leftovers(tmp_path)


def test_a_running_transactions_staging_is_left_alone(tmp_path: Path) -> None:
    import fcntl

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    live = tmp_path / f"{TX_PREFIX}{ended.stdout.strip()}-live"
    live.mkdir()
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a running uvtorch holds it
        assert write.recover(tmp_path) == []
        assert live.is_dir()
    finally:
        os.close(fd)
    assert write.recover(tmp_path) and not live.exists()  # unlocked, its process gone


def test_a_just_made_staging_folder_of_a_live_process_is_left_alone(tmp_path: Path) -> None:
    young = tmp_path / f"{TX_PREFIX}{os.getppid()}-young"  # made, not yet locked
    young.mkdir()
    assert write.recover(tmp_path) == []
    assert young.is_dir()
