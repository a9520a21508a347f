"""What the user chose, and the `.uvtorch.toml` file that keeps it with the project.

`Answers` holds raw choices (flag values, possibly None for "use the default"); `plan.py`
validates them and fills the defaults. The answers file stores the *resolved* choices, so a
replay gives the same project even after the catalog learns about newer releases.
"""


from typing import NamedTuple

import tomlkit

from uvtorch import __version__

ANSWERS_FILE = ".uvtorch.toml"
ANSWERS_SCHEMA = 1


class Answers(NamedTuple):
    """The choices that fully determine a generated project."""

    name: str
    python: str | None = None
    torch: str | None = None
    accelerators: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    index_url: str | None = None


def dump_answers(answers: Answers) -> str:
    """The `.uvtorch.toml` text for resolved answers (stable key order)."""
    doc = tomlkit.document()
    doc.add(tomlkit.comment("Written by uvtorch init: the choices this project was made from,"))
    doc.add(tomlkit.comment("with every default filled in."))
    doc.add("schema_version", ANSWERS_SCHEMA)
    doc.add("uvtorch_version", __version__)
    table = tomlkit.table()
    table.add("name", answers.name)
    if answers.python is not None:
        table.add("python", answers.python)
    if answers.torch is not None:
        table.add("torch", answers.torch)
    table.add("accelerators", list(answers.accelerators))
    table.add("packages", list(answers.packages))
    table.add("platforms", list(answers.platforms))
    if answers.index_url is not None:
        table.add("index_url", answers.index_url)
    doc.add("answers", table)
    return tomlkit.dumps(doc)
