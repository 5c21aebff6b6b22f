"""Reloads (SIGHUP) on real gunicorn: a broken model is refused and the last good models keep serving; repeated
HUPs do not stall requests; a master leaves nothing behind in /dev/shm or the temporary folder."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

from tests.server.test_faults import gunicorn, wait_for, workers
from tests.support.metrics import sample
from tests.support.models import REFERENCE_PROFILES, ROOT, model_document, model_folder
from tests.support.servers import Server, free_port

PROFILE = REFERENCE_PROFILES["b2b_it_consultancy"]["profile"]


class Traffic:
    """Requests sent throughout, each on a new connection (as a load balancer's pool would), their outcomes kept."""

    def __init__(self, server: Server, clients: int = 2) -> None:
        self.server = server
        self.answers: list[tuple[int, str, float] | str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._send) for _ in range(clients)]

    def _send(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                response = requests.post(self.server.url + "/assess", json=PROFILE, timeout=30,
                                         headers={"Connection": "close"})
                self.answers.append((response.status_code, response.json()["model"]["version"],
                                     time.perf_counter() - started))
            except requests.RequestException as error:
                self.answers.append(repr(error))

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)


def readiness(server: Server) -> dict[str, Any]:
    return server.get("/readyz", headers={"Connection": "close"}).json()


def test_a_broken_model_on_hup_is_refused_and_the_last_good_models_keep_serving(tmp_path: Path) -> None:
    folder = model_folder(tmp_path / "models", v1=model_document())
    broken = model_document()
    broken["version"] = "1.1.0"
    broken["criteria"][3]["weight"] = 0
    with gunicorn(tmp_path, workers=2, env={"STRATEGY_MODEL_DIR": str(folder)}) as server:
        first = workers(server, 2)
        with Traffic(server) as traffic:
            time.sleep(0.5)
            (folder / "v1.1.json").write_text(json.dumps(broken))
            server.process.send_signal(signal.SIGHUP)
            wait_for(lambda: not first & set(server.worker_pids()) and len(server.worker_pids()) == 2, 30,
                     "new workers in place of the old")
            time.sleep(0.5)
        assert server.process.poll() is None, "the master is still running"
        ready = readiness(server)
        metrics = server.get("/metrics").text
        # the fix comes in: the next HUP takes it
        broken["criteria"][3]["weight"] = 2
        (folder / "v1.1.json").write_text(json.dumps(broken))
        server.process.send_signal(signal.SIGHUP)
        applied = wait_for(lambda: (r := readiness(server))["last_reload"] and r["last_reload"]["outcome"] == "applied"
                           and r, 30, "the good model to be taken")
        log = server.log.read_text()

    failures = [a for a in traffic.answers if not (isinstance(a, tuple) and a[:2] == (200, "1.0.0"))]
    assert not failures and len(traffic.answers) > 10, failures or traffic.answers
    assert ready["status"] == "ready" and ready["models"] == ["sales-strategy@1.0.0"]
    assert ready["last_reload"]["outcome"] == "refused"
    assert ready["last_reload"]["error"] == "v1.1.json: /criteria/3/weight: must be greater than 0"  # no folder path
    assert sample(metrics, "strategy_model_reloads_total", outcome="refused") == 1
    assert sample(metrics, "strategy_model_reloads_total", outcome="applied") == 0
    [refusal] = [line for line in log.splitlines() if "reload refused" in line]
    assert json.loads(refusal)["level"] == "error"
    assert "v1.1.json: /criteria/3/weight: must be greater than 0" in refusal
    assert "Traceback" not in log and "Worker failed to boot" not in log
    assert applied["models"] == ["sales-strategy@1.0.0", "sales-strategy@1.1.0"]


def p99(times: list[float]) -> float:
    return statistics.quantiles(times, n=100)[98]


def test_repeated_hups_do_not_stall_requests(tmp_path: Path) -> None:
    with gunicorn(tmp_path, workers=3) as server:
        workers(server, 3)
        with Traffic(server) as calm:
            time.sleep(3)
        with Traffic(server) as reloading:
            for _ in range(6):
                time.sleep(0.5)
                server.process.send_signal(signal.SIGHUP)
            time.sleep(0.5)
        assert server.process.poll() is None
    for traffic in (calm, reloading):
        assert all(isinstance(a, tuple) and a[0] == 200 for a in traffic.answers), traffic.answers
    base = p99([a[2] for a in calm.answers])  # type: ignore[index]
    hup = p99([a[2] for a in reloading.answers])  # type: ignore[index]
    print(f"\np99 of POST /assess: {base * 1000:.0f} ms calm, {hup * 1000:.0f} ms under a HUP every 0.5 s "
          f"({len(reloading.answers)} requests)")
    # the new workers are forked from a master that has the code imported and the models checked: ready at once
    assert hup <= 3 * base + 0.2, (hup, base)


def test_a_master_leaves_no_metrics_folder_and_no_model_copy_behind(tmp_path: Path) -> None:
    environment = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    environment["TMPDIR"] = str(temporary)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "service.wsgi:app", "--bind", f"127.0.0.1:{port}",
         "--workers", "2"], cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    folder = shm / f"strategy-metrics-{process.pid}"

    def up() -> bool:
        with contextlib.suppress(requests.RequestException):
            return process.poll() is not None or requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).ok
        return False

    try:
        wait_for(up, 60, "gunicorn to be ready")
        assert process.poll() is None
        assert requests.post(f"http://127.0.0.1:{port}/assess", json=PROFILE, timeout=30).status_code == 200
        assert folder.is_dir() and any(folder.iterdir())
        assert [p.name for p in temporary.iterdir() if p.name.startswith("strategy-models-")]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    assert not folder.exists(), f"{folder} was left behind"
    assert not [p for p in temporary.iterdir() if p.name.startswith("strategy-models-")]
