"""scripts/refresh_dependents.py's pure part (the tree walk, the file it writes) on fake PyPI
metadata, and the committed data/dependents.toml the catalog loads. No network here."""

from __future__ import annotations

import importlib.util
import sys
from tomlread import loads as toml_loads
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

import pytest

from uvtorch import catalog

ROOT = Path(__file__).resolve().parent.parent


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("refresh_dependents", ROOT / "scripts" / "refresh_dependents.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


rd = _script()
COMPANIONS = ["torchaudio", "torchvision", "torchao"]

# A fake PyPI: name -> (version, Requires-Dist); None: an sdist-only release, requirements unknown
FAKE: dict[str, tuple[str, list[str] | None]] = {
    "app": ("1.0", ["torch>=2.1", "helper>=1", "numpy", 'pytest; extra == "test"']),
    "helper": ("2.0", ["torchvision>=0.16", "torch", "numpy"]),  # a dependent below app
    "numpy": ("2.0", []),
    "pytest": ("8.0", ["pluggy"]),  # only through an extra: never read
    "pluggy": ("1.0", ["torch"]),
    "through": ("0.1", ["middle"]),  # torch only two levels down
    "middle": ("0.2", ["leaf-dep"]),
    "leaf-dep": ("0.3", ['torch>=2; sys_platform == "linux"', 'torchaudio; extra == "audio"']),
    "extra-only": ("3.0", ['torch; extra == "gpu"', "numpy"]),  # not a dependent
    "opaque": ("0.9", None),
}


class Fetch:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, names: Sequence[str]) -> Mapping[str, object]:
        self.calls.append(list(names))
        out: dict[str, object] = {}
        for n in names:
            if n in FAKE:
                version, reqs = FAKE[n]
                out[n] = rd.Meta(n, version, None if reqs is None else tuple(reqs))
            else:
                out[n] = None
        return out


def _walk(watch: list[str], depth: int = 4) -> tuple[object, Fetch]:
    fetch = Fetch()
    return rd.walk(watch, fetch, COMPANIONS, (), depth), fetch


def test_a_dependent_through_another_package_and_its_companion_need() -> None:
    result, fetch = _walk(["app"])
    app = result.dependents["app"]
    assert app.version == "1.0"
    assert app.needs == ("torchvision",)  # helper's requirement, not app's own
    assert app.pulls_torch_through == ("helper",)
    assert app.why == "app 1.0 requires torch>=2.1; helper 2.0 requires torch and torchvision>=0.16"
    read = {n for call in fetch.calls for n in call}
    assert "pytest" not in read and "pluggy" not in read  # extra-marker requirements ignored


def test_torch_deep_in_the_tree_with_a_platform_marker_counts_and_extras_do_not() -> None:
    result, _ = _walk(["through", "extra-only"])
    deep = result.dependents["through"]
    assert deep.pulls_torch_through == ("leaf-dep",)
    assert deep.needs == ()  # torchaudio only in an extra
    assert deep.why == 'leaf-dep 0.3 requires torch>=2 (when sys_platform == "linux")'
    assert "extra-only" not in result.dependents
    assert result.not_dependents == {"extra-only": "3.0"}


def test_the_depth_limit_stops_the_walk() -> None:
    result, _ = _walk(["through"], depth=1)  # through -> middle; leaf-dep not read
    assert result.not_dependents == {"through": "0.1"}


def test_each_package_is_fetched_once_a_level_at_a_time() -> None:
    _, fetch = _walk(["app", "helper", "through"])
    flat = [n for call in fetch.calls for n in call]
    assert len(flat) == len(set(flat))
    assert fetch.calls[0] == ["app", "helper", "through"]


def test_unknown_requirements_and_missing_projects() -> None:
    result, _ = _walk(["opaque"])
    assert result.unknown == {"opaque": "0.9"} and not result.dependents and not result.not_dependents
    with pytest.raises(rd.RefreshError, match="nosuch is not on PyPI"):
        _walk(["nosuch"])


def test_render_is_deterministic_sorted_toml_read_back_by_the_catalog() -> None:
    first, _ = _walk(["through", "app", "extra-only", "opaque"])
    again, _ = _walk(["opaque", "extra-only", "app", "through"])
    text = rd.render(["through", "App", "extra-only", "opaque"], first, "2026-12-01")
    assert text == rd.render(["opaque", "extra-only", "app", "through"], again, "2026-12-01")
    data = toml_loads(text)
    assert data["watch"] == ["app", "extra-only", "opaque", "through"]
    assert list(data["dependents"]) == ["app", "through"]
    assert "pulls_torch_through" in data["dependents"]["app"]
    assert "# examined, no torch requirement: extra-only 3.0" in text
    assert "not judged: opaque 0.9" in text
    assert "on 2026-12-01." in text and "Do not edit by hand" in text
    loaded = catalog._dependents(data)
    assert loaded["app"].needs == ("torchvision",)


def test_check_mode_says_whether_the_file_is_current(tmp_path: Path) -> None:
    out = tmp_path / "dependents.toml"
    out.write_text('watch = ["app", "extra-only"]\n')
    fetch = Fetch()
    assert rd.main(["--check", "--output", str(out)], fetch) == 1
    assert rd.main(["--output", str(out)], fetch) == 0
    written = out.read_text()
    assert "[dependents.app]" in written
    assert rd.main(["--check", "--output", str(out)], fetch) == 0
    assert out.read_text() == written


def test_a_kernel_in_the_watch_list_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dependents.toml"
    out.write_text('watch = ["flash-attn"]\n')
    assert rd.main(["--output", str(out)], Fetch()) == 2
    assert "kernels.toml" in capsys.readouterr().err


def test_the_committed_file_has_what_the_catalog_needs() -> None:
    data = toml_loads((ROOT / "src" / "uvtorch" / "data" / "dependents.toml").read_text())
    assert data["watch"] == sorted(data["watch"])
    companions = set(catalog.load().companions)
    assert data["dependents"]
    for name, entry in data["dependents"].items():
        assert name in data["watch"]
        assert isinstance(entry["version"], str) and entry["version"]
        assert entry["why"].startswith(tuple(f"{n} " for n in [name, *entry.get("pulls_torch_through", [])]))
        assert set(entry["needs"]) <= companions, name
        assert "torch" in entry["why"]
    loaded = catalog.load().dependents
    assert set(loaded) == set(data["dependents"])
    assert loaded["ultralytics"].needs == ("torchvision",)  # the catalog's reason to exist


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"watch": "x"}, "`watch` must be a list"),
        ({"watch": ["a"], "dependents": {"a": {"needs": [], "why": "w"}}}, "`version`"),
        ({"watch": ["a"], "dependents": {"a": {"version": "1", "needs": "torchvision", "why": "w"}}}, "needs must be"),
        ({"watch": [], "dependents": {"a": {"version": "1", "needs": [], "why": "w"}}}, "not in `watch`"),
        ({"watch": ["a"], "dependents": {"a": {"version": "1", "needs": [], "why": "w", "nedds": []}}}, "unknown keys"),
    ],
)
def test_a_malformed_data_file_fails_loading_with_its_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        catalog._dependents(raw)
