"""uvtorch.fetch: what may be fetched, and that hostile servers fail within the limits.

Every server here listens on 127.0.0.1 and is started by the test itself.
"""

from __future__ import annotations

import io
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from uvtorch.cli import main
from uvtorch.fetch import BadURL, Fetcher, FetchError, check_url
from uvtorch.fix import wheel_requires_dist

Handler = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def serve(handle: Handler) -> Iterator[str]:
    """A local server answering every GET with `handle`; yields its base URL."""

    class _H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            try:
                handle(self)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _body(data: bytes, status: int = 200) -> Handler:
    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
    return handle


def _trickle(h: BaseHTTPRequestHandler) -> None:
    """One byte every 0.5 s, for ever (the socket's per-read timeout never fires)."""
    h.send_response(200)
    h.end_headers()
    for _ in range(200):
        h.wfile.write(b"x")
        h.wfile.flush()
        time.sleep(0.5)


def _trickled_headers(h: BaseHTTPRequestHandler) -> None:
    h.wfile.write(b"HTTP/1.1 200 OK\r\n")
    for _ in range(200):
        h.wfile.write(b"X-Slow: 1\r\n")
        h.wfile.flush()
        time.sleep(0.5)


@pytest.mark.parametrize("url", [
    "https://download.pytorch.org/whl",
    "http://127.0.0.1:8080/simple",
    "http://127.5.6.7/x",
    "http://[::1]:9000/x",
    "http://localhost/x",
])
def test_allowed_urls(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize(("url", "says"), [
    ("file:///etc/passwd", "file:// is never fetched"),
    ("ftp://example.com/x", "ftp:// is never fetched"),
    ("data:text/plain,hi", "not an https:// URL"),
    ("http://example.com/whl", "plain http:// to another machine"),
    ("http://127.0.0.1.evil.com/x", "plain http:// to another machine"),
    ("https://[x/whl", "does not parse"),
    ("https://a.b:port/whl", "does not parse"),
    ("https://a.b/w l", "spaces or control characters"),
    ("https://a.b/w\nl", "spaces or control characters"),
    ("/just/a/path", "not an https:// URL"),
    ("https:///nohost", "not an https:// URL"),
])
def test_refused_urls(url: str, says: str) -> None:
    with pytest.raises(BadURL) as caught:
        check_url(url, "--index-url")
    assert says in caught.value.message
    assert "--index-url" in caught.value.message
    assert "https://" in caught.value.hint


def test_a_page_and_a_404() -> None:
    def handle(h: BaseHTTPRequestHandler) -> None:
        (_body(b"hello") if h.path == "/ok" else _body(b"no", 404))(h)

    with serve(handle) as base:
        fetcher = Fetcher()
        assert fetcher.get(f"{base}/ok") == b"hello"
        assert fetcher.get(f"{base}/missing") is None
        fetcher.close()


def test_http_error_is_one_message() -> None:
    with serve(_body(b"down", 503)) as base:
        with pytest.raises(FetchError, match="HTTP 503"):
            Fetcher().get(f"{base}/x")


@pytest.mark.parametrize("handler", [_trickle, _trickled_headers], ids=["body", "headers"])
def test_a_trickling_server_fails_at_the_overall_deadline(handler: Handler) -> None:
    """A byte every 0.5 s keeps every single read alive; the command's deadline still ends it."""
    with serve(handler) as base:
        fetcher = Fetcher(deadline_s=1.5)
        start = time.monotonic()
        with pytest.raises(FetchError, match="did not finish within the 1.5 s"):
            fetcher.get(f"{base}/torch/")
        assert time.monotonic() - start < 5
        fetcher.close()


def test_the_deadline_is_per_command_not_per_request() -> None:
    def slow(h: BaseHTTPRequestHandler) -> None:
        time.sleep(0.4)
        _body(b"ok")(h)

    with serve(slow) as base:
        fetcher = Fetcher(deadline_s=1.0)
        with pytest.raises(FetchError, match="did not finish"):
            for _ in range(10):  # each is well under the deadline; together they are not
                fetcher.get(f"{base}/p")
        fetcher.close()


def test_an_oversized_page_is_refused_with_and_without_content_length() -> None:
    big = b"<a>x</a>" * 100_000  # 800 kB

    def chunked(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.end_headers()  # no Content-Length: read until the limit, not into memory for ever
        h.wfile.write(big)

    for handler in (_body(big), chunked):
        with serve(handler) as base:
            with pytest.raises(FetchError, match="larger than the 0 MiB"):
                Fetcher(page_limit=100_000).get(f"{base}/torch/")


def test_a_redirect_to_file_is_refused() -> None:
    def redirect(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", "file:///etc/passwd")
        h.end_headers()

    with serve(redirect) as base:
        with pytest.raises(BadURL, match="file:// is never fetched"):
            Fetcher().get(f"{base}/x")


def test_get_all_runs_requests_in_parallel_and_keeps_order() -> None:
    lock = threading.Lock()
    busy = [0, 0]  # in flight now, most in flight at once

    def slow(h: BaseHTTPRequestHandler) -> None:
        with lock:
            busy[0] += 1
            busy[1] = max(busy)
        time.sleep(0.3)
        with lock:
            busy[0] -= 1
        _body(h.path.encode())(h)

    with serve(slow) as base:
        seen: list[str] = []
        fetcher = Fetcher(workers=4, progress=seen.append)
        pages = fetcher.get_all([f"{base}/{i}" for i in range(12)])
        fetcher.close()
    assert pages == [f"/{i}".encode() for i in range(12)]
    assert 2 <= busy[1] <= 4  # several at once, never more than the pool
    assert seen[-1] == "read 12/12 pages"


def _wheel(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def _wheel_server(wheel: bytes) -> Handler:
    def handle(h: BaseHTTPRequestHandler) -> None:
        (_body(b"", 404) if h.path.endswith(".metadata") else _body(wheel))(h)
    return handle


def test_wheel_metadata_is_read_from_the_wheel_when_no_pep658_file() -> None:
    wheel = _wheel({"torch-2.6.0.dist-info/METADATA":
                    b"Name: torch\nRequires-Dist: nvidia-cudnn-cu12==9.5.1.17\nRequires-Python: >=3.9\n"})
    with serve(_wheel_server(wheel)) as base:
        get = Fetcher().get
        assert wheel_requires_dist(f"{base}/torch-2.6.0-cp312-cp312-linux_x86_64.whl", get) == (
            ["nvidia-cudnn-cu12==9.5.1.17"], ">=3.9")


@pytest.mark.parametrize(("wheel", "says"), [
    (b"<html>not a zip</html>", "is not a wheel (a zip archive)"),
    (_wheel({"torch/__init__.py": b""}), "has no *.dist-info/METADATA"),
    (_wheel({"torch-2.6.0.dist-info/METADATA": b"\xff\xfe\x00bad"}), "is not UTF-8 text"),
])
def test_a_broken_wheel_is_one_message(wheel: bytes, says: str) -> None:
    with serve(_wheel_server(wheel)) as base:
        url = f"{base}/torch-2.6.0-cp312-cp312-linux_x86_64.whl"
        with pytest.raises(Exception) as caught:
            wheel_requires_dist(url, Fetcher().get)
    assert type(caught.value).__name__ == "UvtorchError"
    assert says in str(caught.value) and url in str(caught.value)


def test_matrix_refresh_refuses_file_urls(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", "--refresh", "--index-url", "file:///etc"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("uvtorch: error: The --index-url 'file:///etc' is not an https:// URL")
    assert err.count("\n") == 1


def test_matrix_refresh_refuses_a_url_that_does_not_parse(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", "--refresh", "--index-url", "https://[x/whl"]) == 2
    assert "does not parse" in capsys.readouterr().err


def test_matrix_refresh_of_a_trickling_index_ends_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("UVTORCH_FETCH_DEADLINE", "2")
    with serve(_trickle) as base:
        start = time.monotonic()
        assert main(["matrix", "--refresh", "--index-url", base]) == 1
        assert time.monotonic() - start < 8
    assert "did not finish within the 2 s" in capsys.readouterr().err
    assert not (tmp_path / "uvtorch" / "catalog-overlay.toml").exists()


def test_matrix_refresh_of_an_oversized_page_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("UVTORCH_FETCH_PAGE_LIMIT", "1000")
    with serve(_body(b"<a>torch</a>" * 1000)) as base:
        assert main(["matrix", "--refresh", "--index-url", base]) == 1
    assert "larger than" in capsys.readouterr().err


@pytest.mark.parametrize("reply", [b"\x00\xff\xfe binary", b'{"not": "html"}', b"<a>torch-x.whl</a>"])
def test_matrix_refresh_of_garbage_pages_finds_nothing(
    reply: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with serve(_body(reply)) as base:
        assert main(["matrix", "--refresh", "--index-url", base]) == 1
    assert "Found no torch wheels" in capsys.readouterr().err


def test_unreachable_is_one_message() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match="Cannot reach"):
        Fetcher().get(f"http://127.0.0.1:{port}/x")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_matrix_refresh_shows_progress_only_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with serve(_body(b"nothing", 404)) as base:
        assert main(["matrix", "--refresh", "--index-url", base]) == 1
        assert "read 1/" not in capsys.readouterr().err  # not a terminal: no progress
        terminal = _Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        assert main(["matrix", "--refresh", "--index-url", base]) == 1
    shown = terminal.getvalue()
    assert "\r\x1b[Kuvtorch: read 1/" in shown and "pages" in shown
    assert "Found no torch wheels" in shown


def test_init_does_not_import_the_network_code(tmp_path: Path) -> None:
    """init stays fast: uvtorch.fetch (and urllib's HTTP stack) load only where they are used."""
    import subprocess
    import sys

    code = ("import sys; from uvtorch.cli import main; "
            f"main(['init', {str(tmp_path / 'app')!r}, '--yes', '--dry-run']); "
            "print(sorted(m for m in ('uvtorch.fetch', 'http.client', 'urllib.request') "
            "if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("value", ["soon", "0", "-1", "inf", "nan"])
def test_a_bad_deadline_setting_is_one_message(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UVTORCH_FETCH_DEADLINE", value)
    assert main(["matrix", "--refresh", "--index-url", "http://127.0.0.1:9/whl"]) == 2
    err = capsys.readouterr().err
    assert f"UVTORCH_FETCH_DEADLINE={value!r}" in err and err.count("\n") == 1


def test_get_each_keeps_each_failure_apart_and_sends_accept() -> None:
    seen: list[str | None] = []

    def page(h: BaseHTTPRequestHandler) -> None:
        seen.append(h.headers.get("Accept"))
        _body(b"ok" if h.path == "/ok" else b"gone", 200 if h.path == "/ok" else 404)(h)

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/x"
    with serve(page) as base:
        fetcher = Fetcher(deadline_s=10)
        got = fetcher.get_each([f"{base}/ok", f"{base}/missing", closed], accept="text/html")
        fetcher.close()
    assert got[:2] == [b"ok", None]
    assert isinstance(got[2], FetchError) and "Cannot reach" in got[2].message
    assert seen == ["text/html", "text/html"]
