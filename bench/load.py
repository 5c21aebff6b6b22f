"""Load generators: wrk (Debian's package) with post_bodies.lua, or a plain-Python fallback."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

LUA_SCRIPT = Path(__file__).resolve().parent / "post_bodies.lua"


@dataclass(frozen=True)
class Load:
    requests: float  # answered; the Python client counts a request in flight at an edge in part
    seconds: float
    failures: int  # non-2xx answers and socket errors

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def find_wrk(install: bool = True) -> str | None:
    """wrk's path; when it is missing and we are root, Debian's `wrk` package is installed first."""
    found = shutil.which("wrk") or ("/usr/bin/wrk" if os.access("/usr/bin/wrk", os.X_OK) else None)
    if found or not install or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print("wrk is missing: installing Debian's wrk package with apt-get ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "install", "-y", "-qq", "wrk"], ["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "wrk"]):
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        if shutil.which("wrk"):
            break
    return shutil.which("wrk")


class Generator:
    """Posts the bodies of a file (one a line, in turn) to a URL for a while, from several connections."""

    def __init__(self, wrk: str | None, connections: int = 16, threads: int = 2) -> None:
        self.wrk = wrk
        self.connections = connections
        self.threads = threads
        self.warmup = 0.0  # for the Python client: seconds before counting starts
        self.keep_alive = True  # for the Python client

    @property
    def name(self) -> str:
        if self.wrk:
            return f"wrk -t{self.threads} -c{self.connections}"
        return f"python http.client, {self.connections} {'' if self.keep_alive else 'new '}connections"

    def run(self, url: str, bodies: Path, seconds: float) -> Load:
        if self.wrk:
            return self._wrk(url, bodies, seconds)
        return _python_load(url, bodies, seconds, self.connections, self.warmup, self.keep_alive)

    def _wrk(self, url: str, bodies: Path, seconds: float) -> Load:
        assert self.wrk is not None
        command = [self.wrk, f"-t{self.threads}", f"-c{self.connections}", f"-d{max(1, round(seconds))}s",
                   "--timeout", "60s", "-s", str(LUA_SCRIPT), url]
        done = subprocess.run(command, env={**os.environ, "BENCH_BODIES": str(bodies)}, capture_output=True,
                              text=True, check=False)
        out = done.stdout
        total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b", out)
        if done.returncode != 0 or total is None:
            raise RuntimeError(f"wrk failed ({done.returncode}):\n{out}\n{done.stderr}")
        scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[total.group(3)]
        failures = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
        socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        if socket_errors:
            failures += sum(int(n) for n in socket_errors.groups())
        return Load(int(total.group(1)), float(total.group(2)) * scale, failures)


def _python_load(url: str, bodies: Path, seconds: float, connections: int, warmup: float = 0.0,
                 keep_alive: bool = True) -> Load:
    """Connections in threads, posting in turn for warmup + seconds; counts the work done in the window
    [warmup, warmup + seconds]: each answered request counts for the share of its time that lies in it.

    So a request in flight when the window opens or closes counts in part, which keeps the figure
    honest when one request takes a sizeable part of the run (wrk counts whole answers from the start).
    Without keep-alive each request is a new connection, so it goes to whichever worker accepts first
    (a kept-alive connection stays with one worker, and two on one worker share its GIL).
    """
    match = re.fullmatch(r"http://([^:/]+):(\d+)(/.*)", url)
    assert match, url
    host, port, path = match.group(1), int(match.group(2)), match.group(3)
    payloads = [line for line in bodies.read_bytes().splitlines() if line]
    spans: list[tuple[float, float]] = []  # list.append is atomic under the GIL
    failures = [0] * connections
    started = time.perf_counter()
    opens, closes = started + warmup, started + warmup + seconds

    def worker(slot: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=120)
        i = slot
        while (sent := time.perf_counter()) < closes:
            try:
                connection.request("POST", path, payloads[i % len(payloads)], {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                if response.status >= 300:
                    failures[slot] += 1
                else:
                    spans.append((sent, time.perf_counter()))
                if not keep_alive:
                    connection.close()
            except OSError:
                failures[slot] += 1
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=120)
            i += 1
        connection.close()

    workers = [threading.Thread(target=worker, args=(slot,)) for slot in range(connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    done = sum(max(0.0, min(end, closes) - max(begin, opens)) / (end - begin) for begin, end in spans if end > begin)
    return Load(done, seconds, sum(failures))


def python_generator(connections: int, warmup: float, keep_alive: bool = True) -> Generator:
    """A Generator that uses the Python client whether or not wrk is there (for a few large requests)."""
    generator = Generator(None, connections)
    generator.warmup = warmup
    generator.keep_alive = keep_alive
    return generator
