"""The availability check of `init`/`add` (uvtorch.availability): its cost per command.

Serves tests/fakeindex.py on 127.0.0.1 with the torch pages of three builds (plus a fixed
latency per request, what a distant index costs per round trip), then times
`availability.confirm` for `-a cpu -a cu130 -a cu132` three ways, in the same run: with an
empty cache (three requests in parallel), with the cache the first run wrote (no request),
and `--offline` (no request, no cache read). The last line times an index whose host does
not resolve (`.invalid`), what a machine without network pays.
Run: `python3 benchmarks/index_check_time.py [--latency-ms 50] [--runs 5]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from fakeindex import NO_MAC, Dist, FakeIndex, _IndexHandler, build_universe, pytorch_index  # noqa: E402
from uvtorch.availability import confirm  # noqa: E402
from uvtorch.catalog import load  # noqa: E402
from uvtorch.pipeline import AnswerStack  # noqa: E402


def _stack(base: str) -> AnswerStack:
    stack = AnswerStack("bench")
    stack.put("flags", "the command line", {
        "accelerators": ("cpu", "cu130", "cu132"), "torch": ">=2.14,<2.15", "index_url": base})
    return stack


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    handle = _IndexHandler._handle

    def slow(self: _IndexHandler, send_body: bool) -> None:
        time.sleep(latency)
        handle(self, send_body)

    _IndexHandler._handle = slow  # type: ignore[method-assign]
    work = Path(tempfile.mkdtemp())
    dists = [Dist(pytorch_index(v), "torch", f"2.14.1+{v}", NO_MAC) for v in ("cpu", "cu130", "cu132")]
    os.environ.pop("UV_OFFLINE", None)
    catalog = load()
    cold, warm, offline = [], [], []
    with FakeIndex(build_universe(work / "universe", dists)) as index:
        for run in range(args.runs):
            os.environ["XDG_CACHE_HOME"] = str(work / f"cache{run}")
            for times, flag in ((cold, False), (warm, False), (offline, True)):
                start = time.perf_counter()
                confirm(_stack(index.pytorch_base), catalog, offline=flag)
                times.append(time.perf_counter() - start)
        requests = len(index.requested("/torch/"))
    start = time.perf_counter()
    lines: list[str] = []
    confirm(_stack("https://index.invalid/whl"), catalog, say=lines.append)
    unresolvable = time.perf_counter() - start
    shutil.rmtree(work)
    print(f"latency {args.latency_ms:g} ms per request, {args.runs} runs, median:")
    print(f"  empty cache (3 pages in parallel): {statistics.median(cold) * 1000:.1f} ms")
    print(f"  cache hit (no request):            {statistics.median(warm) * 1000:.1f} ms")
    print(f"  --offline:                         {statistics.median(offline) * 1000:.2f} ms")
    print(f"  torch page requests made: {requests} (3 per empty-cache run)")
    print(f"  unresolvable host: {unresolvable * 1000:.0f} ms: {lines[-1] if lines else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
