"""`matrix --refresh` page reading: the thread pool against one request after another.

`uvtorch.matrix.refresh` asks for ~100 variant pages (`<base>/<variant>/torch/`), most of
them 404s. Against a local server that answers each request after a fixed latency (what a
distant index costs per round trip), this times `Fetcher.get_all` with the default pool
against a pool of one (the old sequential loop), in the same run, and prints the ratio.
Run: `python3 benchmarks/refresh_time.py [--latency-ms 50] [--runs 3]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from uvtorch.catalog import load  # noqa: E402
from uvtorch.fetch import WORKERS, Fetcher  # noqa: E402
from uvtorch.matrix import candidates  # noqa: E402


def _server(latency: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            time.sleep(latency)
            body = b"not here"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _time(urls: list[str], workers: int) -> float:
    fetcher = Fetcher(workers=workers)
    start = time.perf_counter()
    fetcher.get_all(urls)
    fetcher.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    server = _server(args.latency_ms / 1000)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    urls = [f"{base}/{variant}/torch/" for variant in candidates(load())]
    pooled = statistics.median(_time(urls, WORKERS) for _ in range(args.runs))
    single = statistics.median(_time(urls, 1) for _ in range(args.runs))
    print(f"{len(urls)} pages, {args.latency_ms:g} ms each: pool of {WORKERS} {pooled:.2f} s, "
          f"one at a time {single:.2f} s; ratio {single / pooled:.1f}x")
    server.shutdown()


if __name__ == "__main__":
    main()
