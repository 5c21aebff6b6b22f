"""Logs under attack, on real gunicorn: a stalled reader of stdout never holds a request (lines are dropped and
counted instead), and no profile field reaches a log unless STRATEGY_LOG_PROFILES says so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from tests.server.test_faults import gunicorn, wait_for
from tests.support.metrics import sample
from tests.support.models import REFERENCE_PROFILES, ROOT
from tests.support.servers import free_port

PROFILE = REFERENCE_PROFILES["b2b_it_consultancy"]["profile"]


def test_a_stalled_stdout_reader_never_holds_a_request(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # stdout is a pipe nobody reads until the end: once its 64 KiB are full, every write to it would block
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "service.wsgi:app", "--bind", f"127.0.0.1:{port}",
         "--workers", "2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "STRATEGY_LOG_BUFFER_LINES": "500"})
    try:
        def ready() -> bool:
            try:
                return requests.get(url + "/readyz", timeout=5).ok
            except requests.RequestException:
                return False

        wait_for(ready, 60, "gunicorn to be ready")
        batch = {"profiles": [PROFILE] * 200}  # 200 decision-log lines each: the pipe is full after the first
        slowest = 0.0
        for _ in range(10):
            started = time.perf_counter()
            assert requests.post(url + "/assess/batch", json=batch, timeout=10).status_code == 200
            slowest = max(slowest, time.perf_counter() - started)
        started = time.perf_counter()
        assert requests.get(url + "/healthz", timeout=5).status_code == 200
        health = time.perf_counter() - started
        dropped = sample(requests.get(url + "/metrics", timeout=10).text, "strategy_log_lines_dropped_total",
                         stream="stdout")
        print(f"\nwith stdout stalled: slowest batch {slowest * 1000:.0f} ms, /healthz {health * 1000:.0f} ms, "
              f"{dropped:.0f} log lines dropped")
        assert dropped > 500, "the lines that could not be written were counted"
        assert health < 1.0
    finally:
        reader = threading.Thread(target=process.stdout.read)  # type: ignore[union-attr]
        reader.start()  # let it drain, so it can stop
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        reader.join(30)


MARKERS = {"industry": "Zakład-Kowalskiego-42", "external_id": "crm-Kowalski-7"}


def profile_marked() -> dict[str, object]:
    return {**PROFILE, "industry": MARKERS["industry"], "retention_rate": 0.4242424242}


def test_no_profile_field_reaches_a_log_unless_configured(tmp_path: Path) -> None:
    logs = {}
    for setting in ("false", "true"):
        (tmp_path / setting).mkdir()
        with gunicorn(tmp_path / setting, workers=1, env={"STRATEGY_LOG_PROFILES": setting}) as server:
            assert server.post("/assess", json=profile_marked()).status_code == 200
            assert server.post("/assess/batch", json={"profiles": [profile_marked()] * 3}).status_code == 200
            invalid = {**profile_marked(), "segment": "Kowalski-b2x", "Kowalski-field": 1}
            assert server.post("/assess", json=invalid).status_code == 422
            assert server.post("/assess", data=json.dumps(profile_marked())[:-5],
                               headers={"Content-Type": "application/json"}).status_code == 400
            time.sleep(0.3)  # the log writer's turn
            logs[setting] = server.log.read_text()
    assert "Kowalski" not in logs["false"] and "0.4242424242" not in logs["false"]
    # the same requests with the setting on: the decision log carries the profiles, so the scan above can fail
    assert MARKERS["industry"] in logs["true"] and "0.4242424242" in logs["true"]
    decisions = [json.loads(line) for line in logs["true"].splitlines() if '"event":"assessment"' in line]
    assert len(decisions) == 4 and all(d["profile"]["industry"] == MARKERS["industry"] for d in decisions)
