"""A real gunicorn serving the service, started and stopped the way an operator would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from tests.support.models import ROOT
from tests.support.spec import check_response


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real gunicorn serving the service, and a requests session that checks every answer against the spec."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        response = self.session.request(method, self.url + path, **kwargs)
        check_response(method, path, response.status_code, response.headers.get("Content-Type", ""),
                       response.content)
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def worker_pids(self) -> list[int]:
        output = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in output.split()]


def start_gunicorn(tmp: Path, workers: int = 3, env: dict[str, str] | None = None,
                   wait: bool = True) -> Server:
    port = free_port()
    log = tmp / f"gunicorn-{port}.log"
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp / f"metrics-{port}"), **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "service.wsgi:app",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        cwd=ROOT, env=environment, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    if wait:
        try:
            wait_until_ready(server)
        except BaseException:  # never leave a server behind, whatever stopped the wait
            stop_gunicorn(server)
            raise
    return server


def wait_until_ready(server: Server) -> None:
    """Until /readyz answers 200; a RuntimeError with the log if gunicorn exits or a minute passes."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{server.log.read_text()}")
        try:
            if requests.get(server.url + "/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or too busy booting to answer
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not become ready:\n{server.log.read_text()}")


def stop_gunicorn(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    server.session.close()


def refused_start(models: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run gunicorn on a folder of models that should stop it; the timeout bounds a master that never gives up."""
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "service.wsgi:app", "--bind", "127.0.0.1:0",
         "--workers", "2"],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "STRATEGY_MODEL_DIR": str(models),
                       "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")},
        capture_output=True, text=True, timeout=60,
    )
