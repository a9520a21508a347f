"""What the user chose, and the `.uvtorch.toml` file that keeps it with the project.

`Answers` holds raw choices (None or empty for "use the default"); `plan.py` validates them
and fills the defaults. The answers file stores the *resolved* choices, so a replay gives the
same project even after the catalog learns about newer releases.

Choices come in layers, later ones winning per answer: template presets, then an answers
file, then flags. `layer()` stacks them.
"""

from pathlib import Path
from typing import Any, NamedTuple

import tomlkit

from uvtorch import __version__
from uvtorch.errors import UvtorchError

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
    template: str | None = None
    system: tuple[str, ...] = ()  # -a system: what the environment has, as name==version
    python_executable: str | None = None  # -a system: the interpreter that has that torch
    system_layout: str | None = None  # -a system: base-interpreter or image-venv
    kernels: tuple[str, ...] = ()  # packages built against the runtime torch
    cuda_archs: tuple[str, ...] = ()  # kernel build targets: compute capabilities / gfx
    gpus: tuple[str, ...] = ()  # kernel build targets by GPU name
    channel: str | None = None  # stable (default), nightly or test
    nightly_date: str | None = None  # YYYYMMDD: pin one nightly


# Each answer's type, for reading files: "text", or "list" of texts.
FIELDS: dict[str, str] = {
    "name": "text",
    "python": "text",
    "torch": "text",
    "accelerators": "list",
    "packages": "list",
    "platforms": "list",
    "index_url": "text",
    "template": "text",
    "system": "list",
    "python_executable": "text",
    "system_layout": "text",
    "kernels": "list",
    "cuda_archs": "list",
    "gpus": "list",
    "channel": "text",
    "nightly_date": "text",
}


def layer(*layers: dict[str, Any], name: str) -> Answers:
    """Answers from partial layers, later layers overriding earlier ones per answer.

    `name` is the fallback project name (the target folder's) when no layer gives one.
    """
    merged: dict[str, Any] = {"name": name}
    for partial in layers:
        merged.update({k: v for k, v in partial.items() if v is not None})
    return Answers(**merged)


def validate_layer(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """Check the types of a partial answers table read from `source`; return it as a layer."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        kind = FIELDS.get(key)
        if kind is None:
            raise UvtorchError(
                f"{source}: unknown answer '{key}'.",
                f"Known answers: {', '.join(FIELDS)}.",
            )
        if kind == "text" and not isinstance(value, str):
            raise UvtorchError(
                f"{source}: '{key}' must be a string, not {type(value).__name__} {value!r}.",
                f"e.g. {key} = \"...\".",
            )
        if kind == "list":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UvtorchError(
                    f"{source}: '{key}' must be a list of strings, not {value!r}.",
                    f'e.g. {key} = ["..."].',
                )
            value = tuple(value)
        out[key] = value
    return out


def load_answers(path: Path) -> dict[str, Any]:
    """Read a `.uvtorch.toml` file as an answers layer."""
    if path.exists() and not path.is_file():  # a FIFO would block for ever
        raise UvtorchError(
            f"The answers file {path} is not a regular file.",
            f"Give the {ANSWERS_FILE} of a project made by uvtorch init.",
        )
    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()
    except UnicodeDecodeError as exc:
        raise UvtorchError(
            f"The answers file {path} is not UTF-8 text (byte {exc.start}: "
            f"{exc.object[exc.start:exc.start + 1]!r}).",
            f"Save it as UTF-8, or give the {ANSWERS_FILE} of a project made by uvtorch init.",
        ) from None
    except OSError as exc:
        raise UvtorchError(
            f"Cannot read the answers file {path}: {exc.strerror or exc}.",
            f"Give the {ANSWERS_FILE} of a project made by uvtorch init.",
        ) from None
    except tomlkit.exceptions.ParseError as exc:
        raise UvtorchError(
            f"The answers file {path} is not valid TOML ({exc}).",
            f"Give the {ANSWERS_FILE} of a project made by uvtorch init.",
        ) from None
    schema = doc.get("schema_version")
    if type(schema) is not int or not isinstance(doc.get("answers"), dict):  # True is an int
        raise UvtorchError(
            f"{path} is not a uvtorch answers file (schema_version = {schema!r} is not a whole "
            "number, or there is no [answers] table).",
            f"Give the {ANSWERS_FILE} of a project made by uvtorch init.",
        )
    if schema > ANSWERS_SCHEMA:
        raise UvtorchError(
            f"{path} was written by a newer uvtorch ({doc.get('uvtorch_version', '?')}, "
            f"answers schema {schema}).",
            "Upgrade uvtorch to replay it.",
        )
    return validate_layer(doc["answers"], str(path))


# Written only when used, so files made before these answers existed stay byte-identical.
_ONLY_WHEN_SET = {"system", "kernels", "cuda_archs", "gpus"}  # None is never written


def dump_answers(answers: Answers) -> str:
    """The `.uvtorch.toml` text for resolved answers (stable key order)."""
    doc = tomlkit.document()
    doc.add(tomlkit.comment("Written by uvtorch init: the choices this project was made from,"))
    doc.add(tomlkit.comment("with every default filled in. Replay them with"))
    doc.add(tomlkit.comment("`uvtorch init OTHER --answers .uvtorch.toml`."))
    doc.add("schema_version", ANSWERS_SCHEMA)
    doc.add("uvtorch_version", __version__)
    table = tomlkit.table()
    for key, kind in FIELDS.items():
        value = getattr(answers, key)
        if value is None or (key in _ONLY_WHEN_SET and not value):
            continue
        table.add(key, list(value) if kind == "list" else value)
    doc.add("answers", table)
    return tomlkit.dumps(doc)
