"""A real gunicorn serving the service, started and stopped the way an operator would; one harness for the tests
and the benchmarks (bench/servers.py). `Gunicorn` speaks plain HTTP, so the benchmarks measure no spec check;
`Server` adds the requests session the tests use, which checks every answer against openapi.yaml."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Self, TypeVar

from tests.support.models import ROOT

APP = "service.wsgi:app"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py APP --bind 127.0.0.1:PORT --workers N`, with its own metrics folder and log."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path, metrics_dir: Path | None = None,
                 app: str = APP, workers: int = 0) -> None:
        self.process = process
        self.url = url
        self.log = log
        self.metrics_dir = metrics_dir
        self.app = app
        self.workers = workers
        self.host, _, port = url.removeprefix("http://").rpartition(":")
        self.port = int(port)

    def raw(self, method: str, path: str, body: bytes | None = None, timeout: float = 30) -> tuple[int, bytes]:
        """One request on its own connection, nothing checked: (status, body)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body, {"Content-Type": "application/json"} if body is not None else {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def wait_ready(self, seconds: float = 60) -> None:
        """Until /readyz answers 200; a RuntimeError with the log if gunicorn exits or the time passes."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.app} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if self.raw("GET", "/readyz", timeout=5)[0] == 200:
                    return
            except OSError:  # not listening yet, or too busy booting to answer
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn {self.app} did not become ready in {seconds} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The master's children, read from /proc (what `pgrep -P master` prints)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # the command name (field 2) may hold spaces and parentheses: fields after the last ")" are safe
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                pids.append(int(entry.name))
        return sorted(pids)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Server(Gunicorn):
    """A Gunicorn, and a requests session that checks every answer against the spec."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        import requests  # here, not at the top: the benchmarks import this module and need neither

        super().__init__(*args, **kwargs)
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        from tests.support.spec import check_response

        kwargs.setdefault("timeout", 30)
        response = self.session.request(method, self.url + path, **kwargs)
        check_response(method, path, response.status_code, response.headers.get("Content-Type", ""),
                       response.content)
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def stop(self) -> None:
        super().stop()
        self.session.close()


G = TypeVar("G", bound=Gunicorn)


def launch(kind: type[G], scratch: Path, app: str = APP, workers: int = 3, env: dict[str, str] | None = None,
           metrics_dir: Path | None = None, wait: bool = True) -> G:
    """Start gunicorn as an operator would (the project's gunicorn.conf.py) and, unless told not to, wait for it."""
    port = free_port()
    log = scratch / f"gunicorn-{app.replace(':', '-')}-{port}.log"
    metrics_dir = metrics_dir or scratch / f"metrics-{port}"
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", app,
             "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT)
    server = kind(process, f"http://127.0.0.1:{port}", log, metrics_dir, app, workers)
    if wait:
        try:
            server.wait_ready()
        except BaseException:  # never leave a server behind, whatever stopped the wait
            server.stop()
            raise
    return server


def start_gunicorn(tmp: Path, workers: int = 3, env: dict[str, str] | None = None, wait: bool = True) -> Server:
    """The service under real gunicorn, for a test: answers checked against the spec."""
    return launch(Server, tmp, workers=workers, env=env, wait=wait)


def stop_gunicorn(server: Gunicorn) -> None:
    server.stop()


def wait_until_ready(server: Gunicorn) -> None:
    server.wait_ready()


def refused_start(models: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run gunicorn on a folder of models that should stop it; the timeout bounds a master that never gives up."""
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", APP, "--bind", "127.0.0.1:0",
         "--workers", "2"],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "STRATEGY_MODEL_DIR": str(models),
                       "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")},
        capture_output=True, text=True, timeout=60,
    )
