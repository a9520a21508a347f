"""Write files all at once or not at all; edit a project's files without losing anything.

What a write guarantees (README "How uvtorch writes files" says the same):

- Every file is first written in full to a private staging folder, `.uvtorch-tx-<pid>-<random>`,
  inside the target folder (beside it when the folder is new), so it is on the target's
  filesystem and a rename is atomic. Files and staged folders are fsynced before anything is
  renamed into place; a new folder goes into place whole, in one rename.
- On any error, Ctrl-C (SIGINT) or SIGTERM, everything the transaction placed is taken back:
  new files and folders are removed, replaced files are restored from the old file kept aside
  until the end. The error says "nothing was written" only when that is so; otherwise it names
  what was left. Signal handlers are installed only while a write runs, then restored.
- A file that must not exist is placed with `os.link`, which fails when the name is taken, and
  a new folder with a rename that fails on a non-empty folder: of two runs racing for one name
  exactly one wins; the other undoes its own files and reports the usual WouldOverwrite.
- Replacing a file keeps its identity: mode, owner and group (where the OS permits; as root
  always), a symbolic link stays a link (its target is written) and, for edits, the file's
  line endings (CRLF stays CRLF; see `as_written`, which callers diff against).
- SIGKILL and power loss cannot be handled. No file is ever half-written in place (each is
  renamed whole), but a kill during the rename phase, which lasts microseconds per file, can
  leave some files new and some old. The staging folder then remains with `journal.json`; the
  next uvtorch write or edit there undoes what the journal shows is still untouched, removes the
  folder and says so (`recover`). A kill while staging leaves only the staging folder.

Edits of an existing project (add, check --fix, upgrade) use::

    with edit_lock(folder):                       # waits for another uvtorch editing folder
        text = (folder / "pyproject.toml").read_text(encoding="utf-8")  # read *after* locking
        ...
        replace_file(folder / "pyproject.toml", new_text)   # or write_files(..., edit=True)

`edit_lock` is an advisory `fcntl.flock` on the project folder itself (no lock file is left
behind) and is re-entrant within a process. On Windows there is no fcntl: edits are not locked.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from uvtorch.errors import Interrupted, TemplateEscape, UvtorchError, WouldOverwrite

TX_PREFIX = ".uvtorch-tx-"
JOURNAL = "journal.json"
LOCK_WAIT_S = 60.0  # how long an edit waits for another uvtorch editing the same project

written: list[Path] = []  # targets whose writes completed in this process (for the CLI's messages)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def existing(target: Path, files: Mapping[str, str]) -> list[str]:
    """The files of `files` that already exist under `target`."""
    return sorted(rel for rel in files if (target / rel).exists())


def as_written(path: Path, text: str) -> str:
    """`text` with the line endings of the file at `path` (CRLF stays CRLF): the real bytes an
    edit writes, so a diff shown to the user shows what happens."""
    try:
        data = path.read_bytes()
    except OSError:
        return text
    crlf = data.count(b"\r\n")
    if crlf and crlf > data.count(b"\n") - crlf:
        return text.replace("\r\n", "\n").replace("\n", "\r\n")
    return text


def read_real(path: Path) -> str:
    """A text file as it is on disk, line endings untranslated (the `before` of a diff)."""
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def diff(path: Path, text: str, change: str) -> str:
    """The unified diff from the file at `path` to `text` as it would be written (its line
    endings kept), labelled `NAME (after CHANGE)`; empty when nothing changes."""
    import difflib

    name = path.name
    return "".join(difflib.unified_diff(
        read_real(path).splitlines(keepends=True),
        as_written(path, text).splitlines(keepends=True),
        name, f"{name} ({change})",
    ))


# --- signals ---------------------------------------------------------------------------------


class _Signal(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while a write ran (a KeyboardInterrupt: nothing swallows it, and
    the CLI's last resort for one says the truth, that nothing was written yet)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Signals:
    """While active, the first SIGINT/SIGTERM raises `_Signal`; later ones are remembered only,
    so that a rollback is never cut short."""

    def __init__(self) -> None:
        self.raising = True
        self.pending: int | None = None

    def handler(self, signum: int, frame: Any) -> None:
        if self.pending is None:
            self.pending = signum
        if self.raising:
            self.raising = False
            raise _Signal(signum)


@contextmanager
def _signals_as_errors() -> Iterator[_Signals]:
    import signal
    import threading

    state = _Signals()
    if threading.current_thread() is not threading.main_thread():
        yield state  # handlers can only be set in the main thread
        return
    wanted = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    old = {s: signal.getsignal(s) for s in wanted}
    old = {s: h for s, h in old.items() if h is not signal.SIG_IGN}  # ignored stays ignored
    try:
        for s in old:
            signal.signal(s, state.handler)
        yield state
    finally:
        state.raising = False
        for s, handler in old.items():
            signal.signal(s, handler)


def _signal_name(signum: int) -> str:
    import signal

    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


# --- locks -----------------------------------------------------------------------------------

_held: dict[tuple[int, int], int] = {}  # (st_dev, st_ino) of locked folders -> depth


@contextmanager
def edit_lock(root: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on the project folder `root` while editing it.

    Another uvtorch editing the same folder waits up to LOCK_WAIT_S seconds, then fails with an
    error that says nothing was written. Re-entrant in one process. Where flock is missing
    (Windows) or refused by the filesystem, the edit proceeds unlocked.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here
        yield
        return
    import time

    try:
        fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # not a folder yet, or unreadable: the write itself will say so
        yield
        return
    try:
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino)
        if key not in _held:
            deadline = time.monotonic() + LOCK_WAIT_S
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise UvtorchError(
                            f"Another uvtorch run is changing {root} and has not finished in "
                            f"{LOCK_WAIT_S:.0f} seconds.",
                            "Wait for it to finish, then run this again; nothing was written.",
                        ) from None
                    time.sleep(0.05)
                except OSError:  # e.g. ENOLCK on some network filesystems: proceed unlocked
                    break
        _held[key] = _held.get(key, 0) + 1
        try:
            yield
        finally:
            _held[key] -= 1
            if not _held[key]:
                del _held[key]
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


def _try_lock(fd: int) -> bool:
    """Take `fd`'s flock without waiting; False when someone holds it."""
    try:
        import fcntl
    except ImportError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return True
    return True


# --- the transaction -------------------------------------------------------------------------


class _Clash(Exception):
    """A name that had to be new was taken by someone else between checking and placing."""


class _Entry:
    """One thing to place: a staged file, or a staged new folder placed whole."""

    __slots__ = ("dest", "staged", "kind", "exclusive", "ident", "size", "mtime_ns", "names",
                 "stamps")

    def __init__(self, dest: Path, staged: str, kind: str, exclusive: bool) -> None:
        self.dest = dest
        self.staged = staged
        self.kind = kind  # "file" | "dir"
        self.exclusive = exclusive  # must not exist: placed with no-replace semantics
        self.ident: tuple[int, int] = (0, 0)  # (st_dev, st_ino) of what we staged
        self.size = 0
        self.mtime_ns = 0
        self.names: list[str] = []  # for a folder: every path inside it, relative
        self.stamps: dict[str, list[int]] = {}  # for a folder: its files' [size, mtime_ns]

    @property
    def aside(self) -> str:
        return f"old-{self.staged}"

    def to_json(self) -> dict[str, Any]:
        return {"dest": str(self.dest), "staged": self.staged, "kind": self.kind,
                "exclusive": self.exclusive, "ident": list(self.ident), "size": self.size,
                "mtime_ns": self.mtime_ns, "names": self.names, "stamps": self.stamps}

    @classmethod
    def from_json(cls, raw: Any) -> _Entry:
        entry = cls(Path(str(raw["dest"])), str(raw["staged"]), str(raw["kind"]),
                    bool(raw["exclusive"]))
        dev, ino = raw["ident"]
        entry.ident = (int(dev), int(ino))
        entry.size, entry.mtime_ns = int(raw["size"]), int(raw["mtime_ns"])
        entry.names = [str(n) for n in raw["names"]]
        entry.stamps = {str(k): [int(v[0]), int(v[1])] for k, v in raw["stamps"].items()}
        if entry.kind not in ("file", "dir") or "/" in entry.staged or os.sep in entry.staged:
            raise ValueError(entry.staged)
        return entry


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # Windows cannot open folders; nothing to sync there
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_staged(path: Path, data: bytes, like: os.stat_result | None, mode: int) -> None:
    """Write `data` to the new file `path` in full; with `like`, take its mode and owner (the
    file it replaces). `_fsync_file` follows once every file is written."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0), 0o600)  # Windows: no \n -> \r\n
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if like is not None and hasattr(os, "fchown"):
            if (like.st_uid, like.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(fd, like.st_uid, like.st_gid)
                except PermissionError:  # only root may give a file away; groups may work
                    try:
                        os.fchown(fd, -1, like.st_gid)
                    except PermissionError:
                        pass
        os.chmod(path, stat.S_IMODE(like.st_mode) if like is not None else mode)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    """Flush a staged file to disk. Done after all are written, not one by one: the first
    fsync then commits the filesystem's journal for all of them, the rest cost little (on a
    busy disk, 3000 files took 28 s one by one)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))  # read-only: its mode may be
    try:
        os.fsync(fd)
    except OSError:
        if os.name != "nt":  # Windows cannot flush a read-only handle; elsewhere it is an error
            raise
    finally:
        os.close(fd)


def _highest_missing(path: Path) -> Path | None:
    """The outermost folder above `path` that does not exist yet (None: its folder exists)."""
    top = None
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        top = parent
        parent = parent.parent
    return top


class _Transaction:
    """Stage, commit and, on failure, undo one set of files. See the module docstring."""

    def __init__(self, anchor: Path) -> None:
        import secrets

        self.fd = -1
        self.entries: list[_Entry] = []
        self.committed = False
        # Named before it exists, so that a signal at any moment leaves nothing unknown.
        self.staging = anchor / f"{TX_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"

    def open(self) -> None:
        os.mkdir(self.staging, 0o700)
        if os.name != "nt":
            self.fd = os.open(self.staging, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            _try_lock(self.fd)  # held until close: while we run, the folder is not stale

    def stage(self, items: list[tuple[Path, bytes, bool]]) -> None:
        """Write every (destination, bytes, must-be-new) into the staging folder."""
        mode = 0o666 & ~_umask()
        roots: dict[Path, _Entry] = {}
        done: list[Path] = []
        for dest, data, exclusive in items:
            top = _highest_missing(dest)
            if top is None:
                entry = _Entry(dest, f"f{len(self.entries)}", "file", exclusive)
                self.entries.append(entry)
                staged = self.staging / entry.staged
                like = os.stat(dest) if not exclusive and dest.exists() else None
                _write_staged(staged, data, like, mode)
                done.append(staged)
                st = os.lstat(staged)
                entry.ident, entry.size, entry.mtime_ns = (st.st_dev, st.st_ino), st.st_size, \
                    st.st_mtime_ns
                continue
            if top not in roots:
                roots[top] = _Entry(top, f"d{len(self.entries)}", "dir", True)
                self.entries.append(roots[top])
                os.mkdir(self.staging / roots[top].staged)
            entry = roots[top]
            rel = dest.relative_to(top)
            staged = self.staging / entry.staged / rel
            for folder in reversed(rel.parents[:-1]):
                if not (self.staging / entry.staged / folder).exists():
                    os.mkdir(self.staging / entry.staged / folder)
                    entry.names.append(folder.as_posix() + "/")
            _write_staged(staged, data, None, mode)
            done.append(staged)
            entry.names.append(rel.as_posix())
        for staged in done:
            _fsync_file(staged)
        for entry in roots.values():
            folder = self.staging / entry.staged
            for sub in sorted({(folder / n).parent for n in entry.names}, reverse=True):
                _fsync_dir(sub)
            for name in entry.names:
                if not name.endswith("/"):
                    st = os.lstat(folder / name)
                    entry.stamps[name] = [st.st_size, st.st_mtime_ns]
            st = os.lstat(folder)
            entry.ident = (st.st_dev, st.st_ino)
        _fsync_dir(self.staging)

    def commit(self) -> None:
        import json

        journal = self.staging / JOURNAL
        journal.write_text(json.dumps([e.to_json() for e in self.entries]), encoding="utf-8")
        with open(journal, "rb") as handle:
            os.fsync(handle.fileno())
        _fsync_dir(self.staging)
        for entry in self.entries:
            self._place(entry)
        for parent in sorted({e.dest.parent for e in self.entries}):
            _fsync_dir(parent)
        self.committed = True
        journal.unlink()

    def _place(self, entry: _Entry) -> None:
        src = self.staging / entry.staged
        if entry.kind == "dir":
            try:
                os.rename(src, entry.dest)  # fails on a non-empty folder someone made meanwhile
            except OSError as exc:
                if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
                    raise _Clash(entry.dest) from None
                raise
        elif entry.exclusive:
            try:
                os.link(src, entry.dest)  # atomic no-clobber: fails when the name is taken
            except FileExistsError:
                raise _Clash(entry.dest) from None
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK,
                                     errno.ENOSYS):
                    raise
                # No hard links here (some FUSE/SMB mounts): reserve the name, then replace.
                try:
                    os.close(os.open(entry.dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                except FileExistsError:
                    raise _Clash(entry.dest) from None
                os.replace(src, entry.dest)
            else:
                os.unlink(src)
        else:
            aside = self.staging / entry.aside
            try:
                os.link(entry.dest, aside)  # the old file, kept until the commit is done
            except FileNotFoundError:
                pass
            except OSError:
                import shutil

                shutil.copy2(entry.dest, aside)
            os.replace(src, entry.dest)

    def undo(self, careful: bool = False) -> list[str]:
        """Take back whatever of ours is in place; the places that could not be, as text.

        `careful` (recovering a killed run) also requires what is there to be unchanged."""
        problems = []
        for entry in reversed(self.entries):
            try:
                st = os.lstat(entry.dest)
            except FileNotFoundError:
                continue
            except OSError as exc:
                problems.append(f"{entry.dest} ({exc.strerror or exc})")
                continue
            if (st.st_dev, st.st_ino) != entry.ident:
                continue  # never placed, or already someone else's
            if careful and not _untouched(entry, st):
                problems.append(f"{entry.dest} (changed since; left as it is)")
                continue
            aside = self.staging / entry.aside
            try:
                if entry.kind == "dir":
                    os.rename(entry.dest, self.staging / f"undone-{entry.staged}")
                elif aside.exists():
                    os.replace(aside, entry.dest)
                else:
                    os.unlink(entry.dest)
                _fsync_dir(entry.dest.parent)
            except OSError as exc:
                problems.append(f"{entry.dest} ({exc.strerror or exc})")
        return problems

    def close(self) -> str | None:
        """Remove the staging folder; a problem as text when it cannot be."""
        import shutil

        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        try:
            shutil.rmtree(self.staging)
        except FileNotFoundError:
            return None
        except OSError as exc:
            return f"the staging folder {self.staging} ({exc.strerror or exc}; delete it)"
        return None


def _untouched(entry: _Entry, st: os.stat_result) -> bool:
    if entry.kind == "file":
        return (st.st_size, st.st_mtime_ns) == (entry.size, entry.mtime_ns)
    names = []
    for folder, dirs, files in os.walk(entry.dest):
        rel = Path(folder).relative_to(entry.dest)
        names += [(rel / d).as_posix() + "/" for d in dirs]
        for name in files:
            names.append((rel / name).as_posix())
            st = os.lstat(Path(folder) / name)
            if [st.st_size, st.st_mtime_ns] != entry.stamps.get(names[-1]):
                return False  # a file in it was edited since
    return sorted(names) == sorted(entry.names)


def _abandoned(path: Path) -> bool:
    """Whether the run that made staging folder `path` is gone: its process has ended (or the
    folder is a day old). With the folder's lock free, this closes the moment between a run
    making the folder and locking it."""
    import time

    try:
        pid = int(path.name[len(TX_PREFIX):].split("-", 1)[0])
        if time.time() - path.stat().st_mtime > 86400:
            return True
    except (ValueError, OSError):
        return True
    if pid == os.getpid():
        return True  # our own earlier write, which did not finish cleaning up
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, someone else's
        return False
    return False


def recover(folder: Path) -> list[str]:
    """Clean up staging folders that killed runs left in `folder`; what was done, as notes.

    A staging folder still locked belongs to a running uvtorch and is left alone. One with a
    journal was killed while renaming: what it placed and nobody changed since is undone."""
    import json
    import shutil

    notes: list[str] = []
    try:
        leftovers = sorted(p for p in folder.iterdir() if p.name.startswith(TX_PREFIX))
    except OSError:
        return notes
    base = folder.resolve()
    for path in leftovers:
        if path.is_symlink() or not path.is_dir():
            continue
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if os.name != "nt" else -1
        try:
            if fd >= 0 and not _try_lock(fd) or not _abandoned(path):
                continue  # another uvtorch is writing right now
            tx = _Transaction(folder)
            tx.staging = path
            problems: list[str] = []
            journal = path / JOURNAL
            if journal.is_file():
                try:
                    raw = json.loads(journal.read_text(encoding="utf-8"))
                    tx.entries = [_Entry.from_json(e) for e in raw]
                except (OSError, ValueError, KeyError, TypeError):
                    problems.append(f"{journal} (unreadable)")
                # Only our own places: a journal can never point outside this folder.
                tx.entries = [e for e in tx.entries
                              if e.dest == base or base in e.dest.parents]
                problems += tx.undo(careful=True)
            try:
                shutil.rmtree(path)
            except OSError as exc:
                problems.append(f"{path} ({exc.strerror or exc})")
            what = "undid what it had placed and removed" if tx.entries else "removed"
            note = f"an interrupted uvtorch run had left {path.name} in {folder}; {what} it"
            if problems:
                note += "; left: " + ", ".join(problems)
            notes.append(note)
        finally:
            if fd >= 0:
                os.close(fd)
    return notes


def _failure(exc: BaseException, target: Path, files: Mapping[str, str],
             problems: list[str]) -> BaseException:
    """The error to raise after a rollback: it tells the truth about what is left."""
    result = "nothing was written" if not problems else (
        "these could not be undone and are left as they are: " + "; ".join(problems)
    )
    if isinstance(exc, _Signal):
        return Interrupted(
            f"Interrupted by {_signal_name(exc.signum)} while writing into {target}; {result}.",
            exc.signum,
        )
    if isinstance(exc, _Clash):
        clash = existing(target, files) or [str(exc.args[0])]
        return WouldOverwrite(
            f"{target} already has {', '.join(clash)} (another run wrote it meanwhile).",
            f"Choose an empty folder, or pass --force to overwrite these files; {result}.",
        )
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return UvtorchError(
            f"Could not write into {target}: {exc.strerror or exc}{where}.",
            f"Check that the folder is writable and the disk is not full; {result}.",
        )
    return exc


def write_files(
    target: Path, files: Mapping[str, str], *, force: bool = False, edit: bool = False
) -> list[str]:
    """Create or replace `files` (relative path -> text) under `target` as one transaction.

    Without `force` every file must be new, enforced atomically. `edit` keeps each replaced
    file's line endings. Returns notes for the user (leftovers of killed runs cleaned up)."""
    clash = existing(target, files)
    if clash and not force:
        raise WouldOverwrite(
            f"{target} already has {', '.join(clash)}.",
            "Choose an empty folder, or pass --force to overwrite these files.",
        )
    if target.exists() and not target.is_dir():
        raise WouldOverwrite(
            f"{target} exists and is not a folder.", "Choose a folder for the new project."
        )
    root = target.resolve()
    finals: list[tuple[Path, str]] = []
    for rel, text in sorted(files.items()):
        final = (target / rel).resolve()  # a symlinked file: its target is written
        if final == root or root not in final.parents:
            raise TemplateEscape(
                f"Writing '{rel}' would land in {final}, outside {target} (a symbolic link "
                "on the way).",
                "Remove the link or choose another folder; nothing was written.",
            )
        finals.append((final, text))
    anchor = root
    while not anchor.is_dir() and anchor != anchor.parent:
        anchor = anchor.parent
    notes: list[str] = []
    with _signals_as_errors() as signals, ExitStack() as stack:
        tx: _Transaction | None = None
        try:
            if root.is_dir():
                stack.enter_context(edit_lock(root))
            notes += recover(anchor)
            items = []
            for final, text in finals:
                data = (as_written(final, text) if edit else text).encode("utf-8")
                items.append((final, data, not force))
            tx = _Transaction(anchor)
            tx.open()
            tx.stage(items)
            tx.commit()
        except BaseException as exc:
            signals.raising = False  # a second signal must not cut the rollback short
            problems = tx.undo() if tx is not None else []
            left = tx.close() if tx is not None else None
            if left:
                problems.append(left)
            error = _failure(exc, target, files, problems)
            if error is exc:
                raise
            raise error from None
        signals.raising = False
        left = tx.close()
        if left:
            notes.append(f"could not remove {left}")
        written.append(target)
    if signals.pending is not None:  # it arrived after the commit: the files are complete
        raise Interrupted(
            f"Interrupted by {_signal_name(signals.pending)} after {target} was written in full.",
            signals.pending,
        )
    return notes


def replace_file(path: Path, text: str) -> list[str]:
    """Replace one existing file of a project (e.g. pyproject.toml) as an edit: atomic, keeping
    its mode, owner, symlink and line endings. Call inside `edit_lock(path.parent)`."""
    return write_files(path.parent, {path.name: text}, force=True, edit=True)
