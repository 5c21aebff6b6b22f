"""`python -m bench.metrics_cost`: microseconds that the per-request metrics recording of POST /assess costs,
in prometheus_client's multiprocess mode as under gunicorn (run in its own process: the mode is chosen when
prometheus_client is imported). Prints JSON."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def measure(count: int = 20000, rounds: int = 5) -> float:
    from service import metrics

    costs = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(count):
            metrics.record_request("/assess", "POST", 200, 0.003)
            metrics.record_assessments(["relational"])
        costs.append((time.perf_counter() - started) / count)
    return statistics.median(costs)


def in_subprocess() -> float:
    """The cost per request in seconds, measured in a fresh interpreter with its own metrics folder."""
    folder = tempfile.mkdtemp(prefix="bench-metrics-cost-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        done = subprocess.run([sys.executable, "-m", "bench.metrics_cost"], capture_output=True, text=True,
                              check=True, env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": folder})
        return json.loads(done.stdout.strip().splitlines()[-1])["seconds_per_request"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        sys.exit("set PROMETHEUS_MULTIPROC_DIR to an empty folder (multiprocess mode, as under gunicorn)")
    print(json.dumps({"seconds_per_request": measure()}))
