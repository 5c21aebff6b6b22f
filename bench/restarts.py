"""5c: GET /metrics scrape time, and the files in PROMETHEUS_MULTIPROC_DIR, before and after worker restarts."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from bench.load import python_generator
from bench.report import Result
from bench.rounds import median
from bench.servers import Gunicorn, start


def _scrape_seconds(server: Gunicorn, count: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(count):
        started = time.perf_counter()
        status, body = server.raw("GET", "/metrics")
        times.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"GET /metrics answered {status}")
        size = len(body)
    return median(times), size


def _settle(server: Gunicorn, singles: Path, gone: set[int], seconds: float = 60) -> None:
    """Wait until every worker is new (not in `gone`), has loaded the app and has answered requests.

    A worker writes its gauge file when create_app runs and its counter file on its first request, so
    each file present is also the evidence that it is up.
    """
    generator = python_generator(connections=8, warmup=0.0)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pids = server.worker_pids()
        if len(pids) == server.workers and not gone & set(pids):
            files = {f.name for f in server.metrics_dir.iterdir()}
            if all(f"gauge_livemax_{pid}.db" in files for pid in pids):
                if all(f"counter_{pid}.db" in files for pid in pids):
                    return
                generator.run(server.url + "/assess", singles, 0.3)
                continue
        time.sleep(0.05)
    raise RuntimeError(f"workers did not come back within {seconds} s:\n{server.log_tail()}")


def metrics_after_restarts(singles: Path, workers: int, scratch: Path, restarts: int, scrapes: int) -> list[Result]:
    with start("service.wsgi:app", workers, scratch) as server:
        _settle(server, singles, set())
        before_files = len(list(server.metrics_dir.iterdir()))
        before, before_size = _scrape_seconds(server, scrapes)
        killed, round_number, started = 0, 0, time.monotonic()
        while killed < restarts:
            pids = server.worker_pids()[: restarts - killed]
            # half the rounds a graceful stop, half a crash: child_exit marks both dead
            sig = signal.SIGTERM if round_number % 2 == 0 else signal.SIGKILL
            for pid in pids:
                os.kill(pid, sig)
            killed += len(pids)
            round_number += 1
            _settle(server, singles, set(pids))
        took = time.monotonic() - started
        after_files = len(list(server.metrics_dir.iterdir()))
        after, after_size = _scrape_seconds(server, scrapes)
    growth = after / before
    print(f"  {restarts} worker restarts ({round_number} rounds of SIGTERM/SIGKILL, {took:.0f} s)")
    print(f"  GET /metrics: median {before * 1e3:.2f} ms before, {after * 1e3:.2f} ms after; "
          f"files in PROMETHEUS_MULTIPROC_DIR: {before_files} before, {after_files} after; "
          f"exposition {before_size} → {after_size} bytes")
    details = {"restarts": restarts, "scrape_ms_before": before * 1e3, "scrape_ms_after": after * 1e3,
               "files_before": before_files, "files_after": after_files, "exposition_bytes_before": before_size,
               "exposition_bytes_after": after_size, "scrapes": scrapes}
    return [
        Result("5c", f"growth: /metrics scrape time after {restarts} worker restarts ÷ before", growth,
               f"{growth:.2f} ({before * 1e3:.1f} → {after * 1e3:.1f} ms)", "<= 1.25 (flat)", growth <= 1.25,
               details),
        Result("5d", f"growth: files in PROMETHEUS_MULTIPROC_DIR after {restarts} restarts ÷ before",
               after_files / before_files, f"{after_files / before_files:.1f} ({before_files} → {after_files})",
               "info", None, details),
    ]
