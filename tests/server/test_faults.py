"""Faults, on real gunicorn servers of our own: a worker killed under load, SIGTERM with a batch in flight, a broken
model at start, a full or unwritable metrics folder, and a flood of unknown paths. Each proves the service keeps
answering and loses nothing it should keep."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import string
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from service import create_app
from service.scoring import STRATEGIES
from tests.support.metrics import sample
from tests.support.models import MODEL_FILE, REFERENCE_PROFILES, model_document, model_folder
from tests.support.servers import Server, refused_start, start_gunicorn, stop_gunicorn
from tests.support.spec import check_response

PROFILES = [case["profile"] for case in REFERENCE_PROFILES.values()]


@contextlib.contextmanager
def gunicorn(tmp_path: Path, workers: int, env: dict[str, str] | None = None, wait: bool = True) -> Iterator[Server]:
    server = start_gunicorn(tmp_path, workers=workers, env=env, wait=wait)
    try:
        yield server
    finally:
        stop_gunicorn(server)


def wait_for(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    """Poll until `condition()` is truthy; generous deadlines, as the machine is shared and noisy."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"still waiting after {seconds} s for {what}")


def workers(server: Server, count: int, gone: int | None = None) -> set[int]:
    """The worker pids, once there are `count` of them and `gone` is not among them."""
    def settled() -> set[int] | None:
        pids = set(server.worker_pids())
        return pids if len(pids) == count and gone not in pids else None

    return wait_for(settled, 30, f"{count} workers" + (f" without {gone}" if gone else ""))


def assessments_total(server: Server) -> float:
    metrics = server.get("/metrics").text
    return sum(sample(metrics, "strategy_assessments_total", recommendation=s) for s in STRATEGIES)


def cpu_ticks(pid: int) -> int:
    """User plus system CPU time of a process, all threads, in clock ticks (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def idle_ticks(pids: set[int]) -> dict[int, int]:
    """Each worker's CPU ticks, once none is using any (booted and idle)."""
    def still() -> dict[int, int] | None:
        first = {pid: cpu_ticks(pid) for pid in pids}
        time.sleep(0.2)
        return first if first == {pid: cpu_ticks(pid) for pid in pids} else None

    return wait_for(still, 30, "the workers to finish booting")


# --- a. a worker killed with SIGKILL under load ---

THREADS = 6
PER_THREAD = 40


def test_a_killed_worker_loses_only_the_requests_it_had_in_flight(tmp_path: Path) -> None:
    with gunicorn(tmp_path, workers=3) as server:
        # ready means one worker answers; the master may still be forking the others
        first_pids = workers(server, 3)
        before = assessments_total(server)
        ticks = idle_ticks(first_pids)
        outcomes: list[tuple[int, int | str]] = []  # (client thread, status or error)
        lock = threading.Lock()
        halfway = threading.Event()

        def client(number: int) -> None:
            with requests.Session() as session:  # keep-alive, like a CRM plugin's connection pool
                for i in range(PER_THREAD):
                    try:
                        response = session.post(server.url + "/assess", json=PROFILES[(number + i) % len(PROFILES)],
                                                timeout=30)
                        outcome: int | str = response.status_code
                        check_response("POST", "/assess", response.status_code,
                                       response.headers.get("Content-Type", ""), response.content)
                    except requests.RequestException as error:
                        outcome = type(error).__name__
                    except AssertionError as error:  # an answer openapi.yaml does not describe
                        outcome = f"undocumented: {error}"
                    with lock:
                        outcomes.append((number, outcome))
                        if len(outcomes) >= THREADS * PER_THREAD // 2:
                            halfway.set()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        try:
            assert halfway.wait(60), "the clients did not get halfway"
            # the busiest worker, so that the kill hits requests being served rather than an idle process
            victim = max(first_pids, key=lambda pid: cpu_ticks(pid) - ticks[pid])
            os.kill(victim, signal.SIGKILL)
            with lock:
                answered_at_kill = len(outcomes)
        finally:
            for thread in threads:
                thread.join(120)
        assert not any(thread.is_alive() for thread in threads)
        assert len(outcomes) == THREADS * PER_THREAD
        assert answered_at_kill < THREADS * PER_THREAD, "the load was over before the kill"

        assert not [outcome for _, outcome in outcomes if str(outcome).startswith("undocumented")], outcomes
        failures = [(number, outcome) for number, outcome in outcomes if not isinstance(outcome, int)]
        # A client thread has one request in flight at a time, so only that one can die with the worker (the
        # connection it was on goes with it; the next request opens a new one to a live worker): at most one
        # failure per thread, and every other request answered 200.
        assert max(Counter(number for number, _ in failures).values(), default=0) <= 1, failures
        assert len(failures) <= THREADS, failures
        assert all(outcome == 200 for _, outcome in outcomes if isinstance(outcome, int)), Counter(outcomes)

        # the master replaces the worker: three again, the victim gone, a new pid in its place
        pids = workers(server, 3, gone=victim)
        assert pids - first_pids, pids
        for _ in range(12):  # fresh connections, so the new worker gets its share
            response = server.post("/assess", json=PROFILES[0], headers={"Connection": "close"})
            assert response.status_code == 200
        # nothing counted is lost with the dead worker's process: its metric files stay and are summed
        answered = len(outcomes) - len(failures) + 12
        counted = assessments_total(server) - before
        assert answered <= counted <= answered + len(failures), (answered, counted, failures)


# --- b. SIGTERM while a batch of 1000 is being processed ---


def test_sigterm_lets_a_batch_in_flight_finish_then_the_master_exits(tmp_path: Path) -> None:
    graceful = 20
    batch = {"profiles": [PROFILES[i % len(PROFILES)] for i in range(1000)]}
    with gunicorn(tmp_path, workers=1, env={"STRATEGY_GRACEFUL_TIMEOUT": str(graceful)}) as server:
        (worker,) = workers(server, 1)
        idle = idle_ticks({worker})[worker]
        result: dict[str, Any] = {}

        def send() -> None:
            try:
                result["response"] = requests.post(server.url + "/assess/batch", json=batch, timeout=60)
            except requests.RequestException as error:
                result["error"] = error

        thread = threading.Thread(target=send)
        thread.start()
        try:
            # Measured, not a guessed sleep: the worker has started on the batch once it has spent some CPU on it.
            # A whole batch takes several hundred milliseconds of CPU here; 50 ms in, most of it is still to do.
            wait_for(lambda: cpu_ticks(worker) - idle >= 5 or not thread.is_alive(), 30,
                     "the worker to start on the batch")
            assert thread.is_alive(), "the batch was answered before SIGTERM could be sent: it is too small to test"
            terminated = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
        finally:
            thread.join(90)
        assert "error" not in result, result.get("error")
        response = result["response"]
        assert response.status_code == 200
        body = response.json()
        assert [item["index"] for item in body["results"]] == list(range(1000))
        assert all(item["status"] == 200 for item in body["results"])
        assert sum(body["counts"][s] for s in STRATEGIES) == 1000 and body["counts"]["invalid"] == 0

        returncode = server.process.wait(timeout=graceful + 30)
        stopped_after = time.monotonic() - terminated
        log = server.log.read_text()
        assert returncode == 0, log[-2000:]
        assert stopped_after < graceful, f"the master took {stopped_after:.1f} s: it waited out the grace period"
        assert "Handling signal: term" in log
        assert "SIGKILL" not in log and "WORKER TIMEOUT" not in log.upper()


# --- c. a broken model file at start ---


def broken_quote(folder: Path) -> str:
    document = model_document()
    document["criteria"][2]["seed"]["quote"] = "Tego zdania nie ma w artykule"
    model_folder(folder, broken=document)
    return "broken.json: /criteria/2/seed/quote: 'Tego zdania nie ma w artykule' is not found in the section"


def missing_seed(folder: Path) -> str:
    (folder / "broken.json").write_text(MODEL_FILE.read_text())  # its seed/ folder is not beside it
    return "broken.json: /source/file: the seed article cannot be read: [Errno 2] No such file or directory"


@pytest.mark.parametrize("breakage", [broken_quote, missing_seed], ids=["quote not in the article", "no seed file"])
def test_a_broken_model_file_stops_gunicorn_at_once_with_a_clear_message(tmp_path: Path,
                                                                         breakage: Callable[[Path], str]) -> None:
    models = tmp_path / "models"
    models.mkdir()
    message = breakage(models)
    result = refused_start(models, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-2000:]
    assert message in output, output[-2000:]
    # the master checks the models before it forks: no worker boots on them, once or over and over
    assert "Booting worker" not in output, output[-2000:]
    assert "the models cannot be loaded, so gunicorn stops" in output


# --- d. a full or unwritable metrics folder ---


@contextlib.contextmanager
def tiny_tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size`: needs root (or CAP_SYS_ADMIN); skipped where mounting is refused."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)])


def fill(folder: Path) -> None:
    """Write until the filesystem is full (ENOSPC); a tmpfs of a few pages fills at once."""
    descriptor = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for _ in range(100_000):  # bounded: 400 MB at most
            os.write(descriptor, b"\1" * 4096)
        raise AssertionError(f"{folder} never filled up")
    except OSError as error:
        assert error.errno == 28, error  # ENOSPC
    finally:
        os.close(descriptor)


def assert_it_keeps_answering(server: Server) -> None:
    """Metrics may be lost, answers may not: readiness, assessments and /metrics itself all answer."""
    def ready_or_crashing() -> str | None:
        if server.process.poll() is not None or "was sent SIG" in server.log.read_text():
            return "crashing"
        with contextlib.suppress(requests.RequestException):
            if requests.get(server.url + "/readyz", timeout=5).status_code == 200:
                return "ready"
        return None

    state = wait_for(ready_or_crashing, 30, "the server to be ready")
    assert state == "ready", f"workers killed by a signal: {server.log.read_text().count('was sent SIG')}"
    for profile in PROFILES:
        try:
            response = server.post("/assess", json=profile, headers={"Connection": "close"}, timeout=10)
        except requests.RequestException as error:
            response = None
            reason = error
        else:
            reason = response.status_code
        assert response is not None and response.status_code == 200, (
            f"POST /assess failed ({reason}); workers killed by a signal: "
            f"{server.log.read_text().count('was sent SIG')}")
    assert server.get("/metrics").status_code == 200
    assert "was sent SIG" not in server.log.read_text(), "a worker crashed"


def test_a_full_metrics_filesystem_at_start_still_serves(tmp_path: Path) -> None:
    with tiny_tmpfs(tmp_path / "tmpfs", "64k") as mount:
        (mount / "metrics").mkdir()
        fill(mount)
        with gunicorn(tmp_path, workers=2, env={"PROMETHEUS_MULTIPROC_DIR": str(mount / "metrics")},
                      wait=False) as server:
            assert_it_keeps_answering(server)


def test_a_metrics_filesystem_filling_up_while_serving_still_serves(tmp_path: Path) -> None:
    with tiny_tmpfs(tmp_path / "tmpfs", "1m") as mount, gunicorn(
            tmp_path, workers=2, env={"PROMETHEUS_MULTIPROC_DIR": str(mount / "metrics")}) as server:
        assert server.post("/assess", json=PROFILES[0]).status_code == 200
        fill(mount)
        # new label sets need new room in the metric files: unknown paths, other methods, other statuses
        for method in ("GET", "PUT", "DELETE", "PATCH", "PURGE"):
            with contextlib.suppress(requests.RequestException):
                requests.request(method, server.url + "/nowhere", headers={"Connection": "close"}, timeout=5)
        assert_it_keeps_answering(server)


@contextlib.contextmanager
def unwritable(folder: Path) -> Iterator[Path]:
    """A folder no file can be created in. Root ignores permission bits, so as root it is made immutable."""
    folder.mkdir()
    if os.geteuid() == 0:
        locked = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
        if locked.returncode != 0:
            pytest.skip(f"cannot make a folder immutable here: {locked.stderr.strip()}")
        unlock = ["chattr", "-i", str(folder)]
    else:
        folder.chmod(0o500)
        unlock = ["chmod", "700", str(folder)]
    try:
        with pytest.raises(OSError):
            (folder / "probe").touch()
        yield folder
    finally:
        subprocess.run(unlock, check=True)


def test_an_unwritable_metrics_folder_still_serves(tmp_path: Path) -> None:
    with unwritable(tmp_path / "metrics") as folder, gunicorn(
            tmp_path, workers=2, env={"PROMETHEUS_MULTIPROC_DIR": str(folder)}, wait=False) as server:
        assert_it_keeps_answering(server)
        assert "metrics not recorded" in server.log.read_text()  # logged, not raised


# --- e. random paths and methods do not grow the metrics ---

STANDARD_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def token(rng: random.Random, alphabet: str = string.ascii_letters + string.digits + "-_.~") -> str:
    return "".join(rng.choices(alphabet, k=rng.randint(6, 24)))


def series(metrics: str) -> set[str]:
    """Every series (name and labels, not value) in Prometheus text."""
    return {line.rsplit(" ", 1)[0] for line in metrics.splitlines() if line and not line.startswith("#")}


def test_ten_thousand_random_requests_leave_the_metric_series_unchanged(server: Server) -> None:
    rng = random.Random(5)  # fixed: the same requests every run
    # every route template, its converters filled in, and one unknown path: what any request can be routed to
    templates = {rule.rule for rule in create_app().url_map.iter_rules()}
    paths = ["/" + token(rng)] + [
        "/".join(token(rng) if part.startswith("<") else part for part in template.split("/"))
        for template in templates]

    def send(session: requests.Session, r: random.Random, method: str, path: str) -> int:
        response = session.request(method, server.url + path, timeout=30,
                                   headers={"X-Request-ID": token(r), "Accept-Language": token(r)})
        return response.status_code

    # warm-up: each path with each standard method and one non-standard one, so every legitimate label set exists
    with requests.Session() as session:
        for path in paths:
            for method in (*STANDARD_METHODS, "WARMUP"):
                send(session, rng, method, path)
    before = series(server.get("/metrics").text)

    def random_request(r: random.Random) -> tuple[str, str]:
        method = r.choice(STANDARD_METHODS) if r.random() < 0.7 else "".join(
            r.choices(string.ascii_uppercase, k=r.randint(3, 12)))
        kind = r.random()
        if kind < 0.5:  # a path nobody routes
            path = "/" + "/".join(token(r) for _ in range(r.randint(1, 4)))
        elif kind < 0.8:  # a route's template with random values
            template = r.choice(sorted(templates))
            path = "/".join(token(r) if part.startswith("<") else part for part in template.split("/"))
        else:  # a known prefix with a random tail
            path = r.choice(sorted(templates)).split("<")[0].rstrip("/") + "/" + token(r)
        return method, f"{path}?{token(r)}={token(r)}"  # and a random query, which no label may take either

    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def client(seed: int, count: int) -> None:
        r = random.Random(seed)
        local: Counter[int] = Counter()
        with requests.Session() as session:
            for _ in range(count):
                local[send(session, r, *random_request(r))] += 1
        with lock:
            statuses.update(local)

    threads = [threading.Thread(target=client, args=(seed, 2500)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sum(statuses.values()) == 10_000, statuses
    assert statuses[404] > 5000, statuses  # they did reach the app, as unknown resources mostly
    after = series(server.get("/metrics").text)
    assert len(after) == len(before) and after == before, (
        f"{len(before)} series before, {len(after)} after; new: {sorted(after - before)[:10]}")
