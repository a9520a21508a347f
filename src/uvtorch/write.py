"""Write a set of files into a folder all at once, or not at all.

Every file is first written to a temporary file beside its target; only when all of them are
ready are they renamed into place. An existing file is never replaced without `force`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from uvtorch.errors import TemplateEscape, UvtorchError, WouldOverwrite


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def existing(target: Path, files: Mapping[str, str]) -> list[str]:
    """The files of `files` that already exist under `target`."""
    return sorted(rel for rel in files if (target / rel).exists())


def write_files(target: Path, files: Mapping[str, str], *, force: bool = False) -> None:
    """Create `files` (relative path -> text) under `target` atomically."""
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
    for rel in files:
        final = (target / rel).resolve()
        if final != root and root not in final.parents:
            raise TemplateEscape(
                f"Writing '{rel}' would land in {final}, outside {target} (a symbolic link "
                "on the way).",
                "Remove the link or choose another folder; nothing was written.",
            )
    mode = 0o666 & ~_umask()
    staged: list[tuple[str, Path]] = []
    try:
        for rel, text in sorted(files.items()):
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            os.chmod(tmp, mode)  # mkstemp makes 0600 files; use what the user's umask allows
            staged.append((tmp, path))
        for tmp, path in staged:
            os.replace(tmp, path)
    except OSError as exc:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise UvtorchError(
            f"Could not write into {target}: {exc.strerror or exc}.",
            "Check that the folder is writable and the disk is not full; nothing was changed.",
        ) from None
