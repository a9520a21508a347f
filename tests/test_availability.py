"""init and add ask the PyTorch index whether the chosen builds have wheels (availability.py).

Every index here is tests/fakeindex.py (or a socket of the test's own) on 127.0.0.1: the
autouse UV_OFFLINE=1 of conftest.py is removed only together with --index-url pointing there.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomlkit

from fakeindex import NO_MAC, Dist, FakeIndex, build_universe, pytorch_index
from uvtorch.availability import cache_folder, offline_reason
from uvtorch.cli import main
from uvtorch.indexpage import releases

CU130, CU132, CPU, XPU = (pytorch_index(v) for v in ("cu130", "cu132", "cpu", "xpu"))

#: What this module's index has (and what the catalog says about it):
#: - cpu: torch 2.14.1 everywhere (the catalog agrees: confirmed);
#: - cu130: 2.14.1 for Linux only (the catalog also claims windows-x86_64) and 2.15.0 for
#:   linux-x86_64 (the catalog calls 2.15's cu130 unknown);
#: - cu132: 2.15.0 for Linux and Windows (the catalog knows Linux; Windows is unknown);
#: - no xpu page at all (the catalog has xpu for 2.14).
DISTS = (
    Dist(CPU, "torch", "2.14.1+cpu", NO_MAC),
    Dist(CPU, "torch", "2.14.1", ("macos",)),
    Dist(CU130, "torch", "2.14.1+cu130", ("linux-x86_64", "linux-aarch64")),
    Dist(CU130, "torch", "2.15.0+cu130", ("linux-x86_64",)),
    Dist(CU132, "torch", "2.15.0+cu132", NO_MAC),
)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeIndex]:
    with FakeIndex(build_universe(tmp_path_factory.mktemp("availability"), DISTS)) as served:
        yield served


@pytest.fixture(autouse=True)
def online(index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeIndex:
    """Online (no UV_OFFLINE), a cache of this test's own, a request log of this test's own."""
    monkeypatch.delenv("UV_OFFLINE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("UVTORCH_INDEX_DEADLINE", raising=False)
    index.clear_requests()
    index.json_pages = False
    return index


def init(target: Path, base: str, *args: str) -> int:
    return main(["init", str(target), "--yes", "--index-url", base, *args])


def pyproject(target: Path) -> dict[str, object]:
    return tomlkit.parse((target / "pyproject.toml").read_text()).unwrap()


def torch_pages(index: FakeIndex) -> list[str]:
    return index.requested("/torch/")


def test_a_build_the_index_has_is_confirmed_in_one_line(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert init(tmp_path / "p", index.pytorch_base, "-a", "cpu", "--torch", ">=2.14,<2.15") == 0
    out, err = capsys.readouterr()
    assert "index: confirmed cpu (torch 2.14.1 wheels for every target platform" in out
    assert "warning" not in err
    assert torch_pages(index) == ["/whl/cpu/torch/"]


def test_a_platform_the_catalog_claims_but_the_index_lacks_is_a_warning_naming_it(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert init(tmp_path / "p", index.pytorch_base, "-a", "cpu", "-a", "cu130",
                "--torch", ">=2.14,<2.15") == 0
    out, err = capsys.readouterr()
    assert ("warning: index: the cu130 index has no torch 2.14.1 wheels for windows-x86_64, "
            "which the catalog lists") in err
    assert "index: confirmed cpu " in out  # the other build is still confirmed
    assert sorted(torch_pages(index)) == ["/whl/cpu/torch/", "/whl/cu130/torch/"]


def test_the_same_gap_fails_when_the_project_pins_its_platforms(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--platform writes required-environments: uv lock itself would fail there."""
    code = init(tmp_path / "p", index.pytorch_base, "-a", "cu130", "--torch", ">=2.14,<2.15",
                "--platform", "linux-x86_64", "--platform", "windows-x86_64")
    assert code != 0
    err = capsys.readouterr().err
    assert "windows-x86_64" in err and "`uv lock` would fail" in err and "--offline" in err
    assert not (tmp_path / "p").exists()


def test_a_build_without_a_page_is_an_error_naming_it(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert init(tmp_path / "p", index.pytorch_base, "-a", "xpu", "--torch", ">=2.14,<2.15") != 0
    err = capsys.readouterr().err
    assert "The xpu index" in err and "the page does not exist" in err
    assert not (tmp_path / "p").exists()


def test_the_index_fills_in_a_build_the_catalog_calls_unknown(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """2.15's cu130 is unknown to the catalog; the index has it, so -a cu130 gets 2.15."""
    assert init(tmp_path / "p", index.pytorch_base, "-a", "cu130") == 0
    out = capsys.readouterr().out
    assert "index: torch 2.15 has cu130 wheels for linux-x86_64 (the catalog did not know" in out
    deps = pyproject(tmp_path / "p")["project"]["optional-dependencies"]["cu130"]  # type: ignore[index]
    assert any(d.startswith("torch>=2.15") for d in deps), deps


def test_offline_the_unknown_build_is_not_used(tmp_path: Path, index: FakeIndex) -> None:
    """The control of the test above: the catalog alone gives -a cu130 torch 2.14."""
    assert init(tmp_path / "p", index.pytorch_base, "-a", "cu130", "--offline") == 0
    deps = pyproject(tmp_path / "p")["project"]["optional-dependencies"]["cu130"]  # type: ignore[index]
    assert any(d.startswith("torch>=2.14,<2.15") for d in deps), deps
    assert torch_pages(index) == []


def test_an_unknown_platform_the_index_has_decides_where_the_index_serves(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """2.15's cu132 on Windows is unknown: with the index's yes, Windows gets the cu132 index
    instead of PyPI's torch."""
    assert init(tmp_path / "on", index.pytorch_base, "-a", "cu132") == 0
    out = capsys.readouterr().out
    assert "torch 2.15 has cu132 wheels for windows-x86_64" in out
    assert "no torch 2.15 wheels for macos-arm64; there the cu132 extra installs PyPI's" in out
    assert init(tmp_path / "off", index.pytorch_base, "-a", "cu132", "--offline") == 0
    assert ("no torch 2.15 wheels for windows-x86_64, macos-arm64; there the cu132 extra installs "
            "PyPI's") in capsys.readouterr().out
    sources = lambda p: json.dumps(pyproject(p)["tool"]["uv"]["sources"])  # type: ignore[index]  # noqa: E731
    assert sources(tmp_path / "on") != sources(tmp_path / "off")


def test_pep_691_json_pages_are_read_as_well_as_html(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index.json_pages = True
    index.json_served.clear()
    assert init(tmp_path / "p", index.pytorch_base, "-a", "cu130") == 0
    assert index.json_served == ["/whl/cu130/torch/"]  # asked for (Accept) and served as JSON
    assert "torch 2.15 has cu130 wheels for linux-x86_64" in capsys.readouterr().out
    page = cache_folder().glob("*.json")
    assert [json.loads(p.read_text())["releases"] for p in page] == [
        {"2.14.1": ["linux-aarch64", "linux-x86_64"], "2.15.0": ["linux-x86_64"]}
    ]


def test_indexpage_parses_both_forms_alike() -> None:
    html = b'<a href="x">torch-2.14.1+cu130-cp312-cp312-manylinux_2_28_x86_64.whl</a>'
    pep691 = json.dumps({"files": [
        {"filename": "torch-2.14.1+cu130-cp312-cp312-manylinux_2_28_x86_64.whl"},
        {"filename": "torch-2.16.0.dev20261120+cu130-cp312-cp312-win_amd64.whl"},
        {"filename": 7}, "junk"]}).encode()
    assert releases(html) == releases(pep691) == {"2.14.1": {"linux-x86_64"}}


def test_offline_flag_and_uv_offline_make_no_request(
    index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert init(tmp_path / "a", index.pytorch_base, "-a", "cu130", "--offline") == 0
    assert "catalog used; index not asked (--offline)" in capsys.readouterr().out
    monkeypatch.setenv("UV_OFFLINE", "true")
    assert init(tmp_path / "b", index.pytorch_base, "-a", "cu130") == 0
    assert "catalog used; index not asked (UV_OFFLINE=true)" in capsys.readouterr().out
    assert index.requests == []


@pytest.mark.parametrize(("value", "offline"), [("1", True), ("yes", True), ("0", False),
                                                ("false", False), ("", False)])
def test_uv_offline_is_read_as_uv_reads_a_boolean(value: str, offline: bool) -> None:
    assert (offline_reason(False, {"UV_OFFLINE": value}) is not None) is offline


def test_a_garbled_uv_offline_is_one_message(
    tmp_path: Path, index: FakeIndex, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("UV_OFFLINE", "perhaps")
    assert init(tmp_path / "p", index.pytorch_base, "-a", "cpu") == 2
    assert "UV_OFFLINE='perhaps' is not a boolean" in capsys.readouterr().err
    assert index.requests == []


def test_a_second_command_uses_the_cache_and_makes_no_request(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert init(tmp_path / "a", index.pytorch_base, "-a", "cu130") == 0
    assert torch_pages(index) == ["/whl/cu130/torch/"]
    index.clear_requests()
    assert init(tmp_path / "b", index.pytorch_base, "-a", "cu130") == 0
    assert index.requests == []
    out = capsys.readouterr().out
    assert out.count("torch 2.15 has cu130 wheels") == 2  # the same answer, from the cache


def test_a_stale_cache_is_read_again(
    index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert init(tmp_path / "a", index.pytorch_base, "-a", "cpu", "--torch", "~=2.14.0") == 0
    for entry in cache_folder().glob("*.json"):
        data = json.loads(entry.read_text())
        data["fetched"] -= 7200  # two hours ago: older than the hour a page is kept
        entry.write_text(json.dumps(data))
    index.clear_requests()
    assert init(tmp_path / "b", index.pytorch_base, "-a", "cpu", "--torch", "~=2.14.0") == 0
    assert torch_pages(index) == ["/whl/cpu/torch/"]


@pytest.mark.parametrize("corrupt", [
    "not json", "[]", '{"schema": 1}',
    "FIELDS:releases={\"2.14.1\": [\"../../etc\"]}",
    "FIELDS:releases={\"2.14.1+cpu\": [\"linux-x86_64\"]}",
    "FIELDS:fetched=\"yesterday\"",
    "FIELDS:url=\"https://elsewhere.example/whl/cpu/torch/\"",
])
def test_a_corrupt_cache_entry_is_ignored_and_replaced(
    corrupt: str, index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert init(tmp_path / "a", index.pytorch_base, "-a", "cpu", "--torch", ">=2.14,<2.15") == 0
    [entry] = cache_folder().glob("*.json")
    if corrupt.startswith("FIELDS:"):
        key, value = corrupt.removeprefix("FIELDS:").split("=", 1)
        data = json.loads(entry.read_text())
        data[key] = json.loads(value)
        entry.write_text(json.dumps(data))
    else:
        entry.write_text(corrupt)
    index.clear_requests()
    capsys.readouterr()
    assert init(tmp_path / "b", index.pytorch_base, "-a", "cpu", "--torch", ">=2.14,<2.15") == 0
    assert torch_pages(index) == ["/whl/cpu/torch/"]  # read again
    assert "index: confirmed cpu" in capsys.readouterr().out
    assert json.loads(entry.read_text())["releases"] == {"2.14.1": ["linux-aarch64", "linux-x86_64",
                                                                    "macos-arm64", "windows-x86_64"]}


def test_an_unreachable_index_means_the_catalog_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert init(tmp_path / "p", f"http://127.0.0.1:{port}/whl", "-a", "cu130") == 0
    out = capsys.readouterr().out
    assert "catalog used; index not reached (Cannot reach http://127.0.0.1" in out
    assert (tmp_path / "p" / "pyproject.toml").is_file()


def test_a_server_that_never_answers_ends_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A server that accepts and then says nothing: the check gives up at its deadline."""
    monkeypatch.setenv("UVTORCH_INDEX_DEADLINE", "0.5")
    held: list[socket.socket] = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()

        def accept() -> None:
            try:
                while True:
                    held.append(server.accept()[0])  # kept open, never answered
            except OSError:
                pass

        threading.Thread(target=accept, daemon=True).start()
        base = f"http://127.0.0.1:{server.getsockname()[1]}/whl"
        assert init(tmp_path / "p", base, "-a", "cpu", "-a", "cu130") == 0
    for conn in held:
        conn.close()
    out = capsys.readouterr().out
    assert "catalog used; index not reached (Reading" in out
    assert "did not finish within the 0.5 s" in out
    assert (tmp_path / "p" / "pyproject.toml").is_file()


def test_an_index_url_from_an_answers_file_is_not_asked(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A replayed .uvtorch.toml is someone else's file: its URL is not fetched."""
    assert init(tmp_path / "a", index.pytorch_base, "-a", "cpu", "--offline") == 0
    capsys.readouterr()
    code = main(["init", str(tmp_path / "b"), "--yes", "--answers", str(tmp_path / "a" / ".uvtorch.toml")])
    assert code == 0
    assert "index not asked (its URL" in capsys.readouterr().out
    assert index.requests == []


def test_add_asks_the_index_about_the_new_build(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "p"
    assert init(target, index.pytorch_base, "-a", "cpu", "--torch", ">=2.14,<2.15", "--offline") == 0
    capsys.readouterr()
    assert main(["add", str(target), "-a", "cu130", "--index-url", index.pytorch_base]) == 0
    err = capsys.readouterr().err
    assert "the cu130 index has no torch 2.14.1 wheels for windows-x86_64" in err
    assert sorted(torch_pages(index)) == ["/whl/cpu/torch/", "/whl/cu130/torch/"]
    index.clear_requests()
    assert main(["add", str(target), "-a", "cu132", "--index-url", index.pytorch_base, "--offline"]) == 0
    assert index.requests == []


@pytest.mark.e2e
def test_what_the_index_filled_in_locks_with_the_real_uv(
    index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cu132 Windows wheels of 2.15 (unknown to the catalog) are used, and uv agrees: the lock
    takes Windows' torch from the cu132 index. From the catalog alone Windows would need
    PyPI's torch, which this index's PyPI does not have: that lock fails."""
    import sys

    from fakeindex import UvCommandError, hermetic_uv_env, run_uv

    env = hermetic_uv_env(index, cache_dir=tmp_path / "uv-cache", home_dir=tmp_path / "home",
                          python=sys.executable)
    pins = ("--platform", "linux-x86_64", "--platform", "windows-x86_64")
    assert init(tmp_path / "on", index.pytorch_base, "-a", "cu132", *pins) == 0
    run_uv(["lock"], cwd=tmp_path / "on", env=env)
    lock = (tmp_path / "on" / "uv.lock").read_text()
    assert "cu132-py3-none-win_amd64.whl" in lock  # the file name, its + URL-encoded
    assert init(tmp_path / "off", index.pytorch_base, "-a", "cu132", *pins, "--offline") == 0
    with pytest.raises(UvCommandError, match="torch") as failed:
        run_uv(["lock"], cwd=tmp_path / "off", env=env)
    assert "win32" in str(failed.value) or "Windows" in str(failed.value), failed.value


def test_a_build_id_no_release_has_is_refused_before_any_request(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert init(tmp_path / "p", index.pytorch_base, "-a", "cu999") == 2
    assert "cu999" in capsys.readouterr().err
    assert index.requests == []


def test_the_index_fills_only_releases_and_patches_the_catalog_knows() -> None:
    """Companion versions are the catalog's: a patch or release it does not know is not added."""
    from uvtorch.availability import Page, fill_unknown
    from uvtorch.catalog import load

    page = Page("http://127.0.0.1:9/whl/cu130/torch/", True, {
        "2.15.1": frozenset({"linux-x86_64"}), "2.16.0": frozenset({"linux-x86_64"})})
    amended, said = fill_unknown(load(), {"cu130": page})
    r215 = next(r for r in amended.releases if str(r.minor) == "2.15")
    assert "cu130" not in r215.variants and "cu130" not in r215.unknown
    assert [f.text for f in said] == [
        "torch 2.15 has no cu130 wheels for linux-x86_64, linux-aarch64, windows-x86_64 "
        "(the catalog did not know)"]
    assert [str(r.minor) for r in amended.releases] == [str(r.minor) for r in load().releases]


def test_a_newest_version_without_a_platforms_wheel_is_a_warning_with_the_pin_that_works() -> None:
    from uvtorch.answers import Answers
    from uvtorch.availability import Page, judge
    from uvtorch.catalog import load
    from uvtorch.plan import make_plan

    catalog = load()
    plan = make_plan(Answers(name="p", accelerators=("cu130",), torch=">=2.14,<2.15"), catalog)
    page = Page("u", True, {"2.14.0": frozenset({"linux-x86_64", "linux-aarch64", "windows-x86_64"}),
                            "2.14.1": frozenset({"linux-x86_64", "linux-aarch64"})})
    [finding] = judge(plan, catalog, {"cu130": page})
    assert finding.error is None
    assert finding.warnings == (
        "the cu130 index has torch 2.14.1 without a windows-x86_64 wheel (only 2.14.0 has one): "
        "uv may pick 2.14.1 and fail to install there; --torch '==2.14.0' avoids it.",)


def test_auto_keeps_the_release_it_judged_the_gpu_against(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A GTX 1080 (sm_61) gets cu126 of torch 2.14. The index also has 2.15.0+cu126, which the
    catalog calls unknown: whether its wheels still carry sm_61 nobody checked, so the project
    stays on the release detection chose instead of moving to 2.15 after the index answered."""
    from fakemachine import FakeMachine

    cu126 = pytorch_index("cu126")
    dists = (Dist(CPU, "torch", "2.14.1+cpu", NO_MAC), Dist(CPU, "torch", "2.14.1", ("macos",)),
             Dist(cu126, "torch", "2.14.1+cu126", ("linux-x86_64",)),
             Dist(cu126, "torch", "2.15.0+cu126", ("linux-x86_64",)))
    machine = FakeMachine(Path(__file__).parent / "fixtures" / "machines" / "pascal-580",
                          tmp_path / "machine")
    monkeypatch.setattr("uvtorch.probe.SystemReader", lambda **_: machine.reader())
    with FakeIndex(build_universe(tmp_path / "u", dists)) as served:
        assert init(tmp_path / "p", served.pytorch_base, "-a", "cpu", "-a", "auto") == 0
        assert served.requested("/cu126/torch/")  # the index was asked
    out = capsys.readouterr().out
    assert "-a auto: cu126 (torch 2.14)" in out
    deps = pyproject(tmp_path / "p")["project"]["optional-dependencies"]["cu126"]  # type: ignore[index]
    assert "torch>=2.14,<2.15" in deps, deps
