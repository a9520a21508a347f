"""Every HTTP request uvtorch makes: only https:// (and http:// to this machine), bounded.

uvtorch reads index pages (`matrix --refresh`, and `init`/`add` asking whether the chosen
builds have wheels: uvtorch.availability) and wheel METADATA (`check --fix`). Those URLs
may come from files other people wrote, so this module is the one place that decides what
may be fetched and for how long:

- schemes: `https://` anywhere, `http://` only to loopback (127.0.0.0/8, ::1, localhost);
  `file://`, `ftp://`, `data:` and everything else are refused, redirects included;
- one deadline for the whole command (not per read: a server trickling a byte every few
  seconds fails at the deadline), enforced by a watchdog that shuts the open sockets;
- a size limit per response (pages and METADATA files; whole wheels have a larger one),
  checked against Content-Length and while reading;
- a few requests in parallel (`get_all`; `get_each` keeps each URL's failure apart), and
  progress through a callback the CLI supplies (core code never prints).

Proxies from the environment (HTTPS_PROXY ...) are honoured, as urllib does.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import math
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from typing import IO, Any

from uvtorch.errors import UsageError, UvtorchError

DEADLINE_S = 300.0  # a whole command's requests; UVTORCH_FETCH_DEADLINE overrides
PAGE_LIMIT = 64 * 1024 * 1024  # an index page or a METADATA file; UVTORCH_FETCH_PAGE_LIMIT
WHEEL_LIMIT = 8 * 1024 * 1024 * 1024  # a whole wheel (CUDA torch wheels pass 2 GiB)
WORKERS = 8  # requests in parallel in get_all
_CHUNK = 64 * 1024
_PROGRESS_STEP = 8 * 1024 * 1024  # a wheel's progress is reported every 8 MiB
_MAX_REDIRECTS = 5

Progress = Callable[[str], None]


class BadURL(UsageError):
    """A URL that does not parse, or whose scheme or host uvtorch will not fetch."""


class FetchError(UvtorchError):
    """A request that failed: unreachable, an HTTP error, too slow, too large."""


class NotTrusted(UvtorchError):
    """A URL read from a project's files, fetched only with --trust."""

    def __init__(self, url: str, origin: str) -> None:
        super().__init__(
            f"Not fetching {url}: it comes from {origin}, not from the command line.",
            "Pass --trust to let uvtorch fetch URLs found in the project's files for this run.",
        )
        self.url = url
        self.origin = origin


def _loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, what: str = "URL") -> str:
    """`url` if uvtorch may fetch it; else BadURL naming it, `what` it is and what would work."""
    if not isinstance(url, str) or any(c.isspace() or ord(c) < 32 for c in url):
        raise BadURL(
            f"The {what} {url!r} contains spaces or control characters.",
            "Give a URL such as https://download.pytorch.org/whl.",
        )
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise BadURL(
            f"The {what} '{url}' does not parse ({exc}).",
            "Give a URL such as https://download.pytorch.org/whl.",
        ) from None
    scheme = parts.scheme.lower()
    if scheme == "https" and host:
        return url
    if scheme == "http" and host and _loopback(host):
        return url
    if scheme == "http" and host:
        raise BadURL(
            f"The {what} '{url}' uses plain http:// to another machine, which anyone on the "
            "way could change.",
            "Use https:// (http:// is accepted only for 127.0.0.1, ::1 and localhost).",
        )
    raise BadURL(
        f"The {what} '{url}' is not an https:// URL{f' ({scheme}:// is never fetched)' if scheme else ''}.",
        "Give an https:// URL (or http:// to 127.0.0.1, ::1 or localhost).",
    )


def _number_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(
            f"{name}={raw!r} is not a number.", f"Give a number, e.g. {name}={int(default)}."
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{name}={raw!r} must be a positive number.", f"e.g. {name}={int(default)}.")
    return value


_current = threading.local()  # the Fetcher whose request runs on this thread


class _Watched:
    """A connection that registers its socket with the running Fetcher's watchdog."""

    sock: Any

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        fetcher = getattr(_current, "fetcher", None)
        if fetcher is not None:
            fetcher._track(self.sock)


class _HTTPConnection(_Watched, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_Watched, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPSConnection, req, context=getattr(self, "_context", None))


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to a URL that check_url admits."""

    max_redirections = _MAX_REDIRECTS

    def http_error_302(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Any,
    ) -> Any:
        target = headers.get("Location") or headers.get("URI")
        if target:
            check_url(urllib.parse.urljoin(req.full_url, target), f"redirect target of {req.full_url}")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
        headers: Any, newurl: str,
    ) -> urllib.request.Request | None:
        check_url(newurl, f"redirect target of {req.full_url}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    """http(s) only: no file://, ftp:// or data: handler exists to be reached."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        _HTTPHandler(),
        _HTTPSHandler(),
        _Redirects(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


class Fetcher:
    """The requests of one command, sharing one deadline."""

    def __init__(
        self,
        deadline_s: float | None = None,
        page_limit: int | None = None,
        wheel_limit: int | None = None,
        workers: int = WORKERS,
        progress: Progress | None = None,
    ) -> None:
        self.deadline_s = deadline_s or _number_env("UVTORCH_FETCH_DEADLINE", DEADLINE_S)
        self.page_limit = page_limit or int(_number_env("UVTORCH_FETCH_PAGE_LIMIT", PAGE_LIMIT))
        self.wheel_limit = wheel_limit or WHEEL_LIMIT
        self.workers = workers
        self.progress = progress
        self._started: float | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._expired = False
        self._timer: threading.Timer | None = None
        self._opener = _opener()

    # The watchdog: at the deadline every open socket is shut, which ends any blocked read.
    def _start(self) -> None:
        with self._lock:
            if self._started is None:
                self._started = time.monotonic()
                self._timer = threading.Timer(self.deadline_s, self._expire)
                self._timer.daemon = True
                self._timer.start()

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            for sock in self._sockets:
                try:
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
                except OSError:
                    pass

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            if self._expired:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            self._sockets.add(sock)

    def _untrack(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def remaining(self) -> float:
        self._start()
        assert self._started is not None
        return self.deadline_s - (time.monotonic() - self._started)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _too_slow(self, url: str) -> FetchError:
        return FetchError(
            f"Reading {url} did not finish within the {self.deadline_s:g} s this command may "
            "spend on the network.",
            "Try again on a faster connection, or raise UVTORCH_FETCH_DEADLINE (seconds).",
        )

    def _open(self, url: str, accept: str | None = None) -> Any:
        """The response for `url`, or None for a 404; FetchError for the rest."""
        left = self.remaining()
        if left <= 0 or self._expired:
            raise self._too_slow(url)
        headers = {"User-Agent": "uvtorch", **({"Accept": accept} if accept else {})}
        request = urllib.request.Request(url, headers=headers)
        _current.fetcher = self
        try:
            return self._opener.open(request, timeout=left)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 404:
                return None
            raise FetchError(f"Cannot read {url}: HTTP {exc.code}.", "Check the index URL.") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            if self._expired or self.remaining() <= 0:
                raise self._too_slow(url) from None
            raise FetchError(
                f"Cannot reach {url} ({getattr(exc, 'reason', exc)}).",
                "Run it where the index is reachable.",
            ) from None
        finally:
            _current.fetcher = None

    def _read(self, url: str, response: Any, limit: int, sink: IO[bytes]) -> None:
        sock = _socket_of(response)
        try:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > limit:
                raise self._too_large(url, limit)
            total = 0
            while True:
                try:
                    chunk = response.read1(_CHUNK) if hasattr(response, "read1") else response.read(_CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    if self._expired or self.remaining() <= 0:
                        raise self._too_slow(url) from None
                    raise FetchError(f"Reading {url} failed ({exc}).", "Try again.") from None
                if self._expired or self.remaining() <= 0:
                    raise self._too_slow(url)
                if not chunk:
                    return
                step = total // _PROGRESS_STEP
                total += len(chunk)
                if total > limit:
                    raise self._too_large(url, limit)
                sink.write(chunk)
                if self.progress is not None and limit == self.wheel_limit and total // _PROGRESS_STEP > step:
                    name = urllib.parse.unquote(url.rsplit("/", 1)[-1])
                    self.progress(f"reading {name}: {total // (1024 * 1024)} MiB")
        finally:
            self._untrack(sock)
            response.close()

    @staticmethod
    def _too_large(url: str, limit: int) -> FetchError:
        return FetchError(
            f"{url} is larger than the {limit // (1024 * 1024)} MiB uvtorch reads for it.",
            "Check that the URL is an index page or wheel; UVTORCH_FETCH_PAGE_LIMIT (bytes) "
            "raises the limit for pages.",
        )

    def get(self, url: str, what: str = "URL", accept: str | None = None) -> bytes | None:
        """The body of a page (at most page_limit bytes, a .whl wheel_limit); None for a 404.

        `accept` is the request's Accept header (e.g. PEP 691's JSON, then HTML)."""
        check_url(url, what)
        response = self._open(url, accept)
        if response is None:
            return None
        sink = io.BytesIO()
        wheel = urllib.parse.urlsplit(url).path.endswith(".whl")
        self._read(url, response, self.wheel_limit if wheel else self.page_limit, sink)
        return sink.getvalue()

    def get_all(self, urls: Sequence[str], what: str = "URL") -> list[bytes | None]:
        """get() for each URL, `workers` at a time, in order; the first failure is raised."""
        from concurrent.futures import ThreadPoolExecutor, as_completed

        for url in urls:
            check_url(url, what)
        results: dict[int, bytes | None] = {}
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = {pool.submit(self.get, url, what): i for i, url in enumerate(urls)}
            try:
                for done, future in enumerate(as_completed(futures), 1):
                    results[futures[future]] = future.result()
                    if self.progress is not None:
                        self.progress(f"read {done}/{len(urls)} pages")
            except BaseException:
                for future in futures:
                    future.cancel()
                self._expire()  # ends the requests still running: the command has failed
                raise
        return [results[i] for i in range(len(urls))]

    def get_each(
        self, urls: Sequence[str], what: str = "URL", accept: str | None = None
    ) -> list[bytes | None | FetchError]:
        """get() for each URL, `workers` at a time, in order; a URL that fails gives its
        FetchError in its place (the others still count), all within the one deadline."""
        from concurrent.futures import ThreadPoolExecutor

        for url in urls:
            check_url(url, what)

        def one(url: str) -> bytes | None | FetchError:
            try:
                return self.get(url, what, accept)
            except FetchError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return list(pool.map(one, urls))


def _socket_of(response: Any) -> socket.socket | None:
    """The socket under a urllib response, for the watchdog's bookkeeping."""
    raw = getattr(getattr(response, "fp", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None
