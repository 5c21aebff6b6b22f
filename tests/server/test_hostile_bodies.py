"""Hostile requests straight to gunicorn (as if the proxy were bypassed): broken chunked framing, bodies over an
endpoint's limit however framed, bodies built to cost memory, requests without Host, a wrong method, header limits.
Raw sockets on loopback, so the bytes are exactly what an attacker would send."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from pathlib import Path

import pytest
import yaml

from tests.server.test_faults import gunicorn, workers
from tests.support.metrics import sample
from tests.support.models import REFERENCE_PROFILES, ROOT
from tests.support.servers import Server
from tests.support.spec import check_response

PROFILE = json.dumps(REFERENCE_PROFILES["b2b_it_consultancy"]["profile"]).encode()
MARKER = b"Sekretna-Firma-Kowalski"  # bytes no log line may ever quote


def exchange(server: Server, raw: bytes, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """Send `raw` on a new connection; the status, headers and body of the answer."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def chunked(path: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode() + body


def chunk(data: bytes) -> bytes:
    return b"%x\r\n" % len(data) + data + b"\r\n"


BROKEN_CHUNKS = {
    "bad chunk size": b"zz\r\n" + MARKER + b"\r\n0\r\n\r\n",
    "missing CRLF after a chunk": b"%x\r\n" % len(PROFILE) + PROFILE + MARKER + b"0\r\n\r\n",
    "bare LF": b"%x\n" % len(PROFILE) + PROFILE + b"\n0\n\n",
    "bad trailer": chunk(PROFILE) + b"0\r\n" + MARKER + b" no colon\r\n\r\n",
    "a chunk longer than sent": b"ffff\r\n" + PROFILE,
}


@pytest.mark.parametrize("case", BROKEN_CHUNKS, ids=list(BROKEN_CHUNKS))
def test_broken_chunked_framing_is_a_400_problem_that_logs_no_byte_of_the_body(server: Server, case: str) -> None:
    status, headers, body = exchange(server, chunked("/assess", BROKEN_CHUNKS[case]))
    assert status == 400, body
    check_response("POST", "/assess", status, headers["content-type"], body)
    assert headers["content-type"] == "application/problem+json"
    assert MARKER not in body
    time.sleep(0.2)  # the writer thread's turn
    assert MARKER.decode() not in server.log.read_text()
    assert " 500 " not in server.log.read_text()


def test_a_good_chunked_body_is_assessed(server: Server) -> None:
    pieces = chunk(PROFILE[:40]) + chunk(PROFILE[40:]) + b"0\r\n\r\n"
    status, _, body = exchange(server, chunked("/assess", pieces))
    assert status == 200 and json.loads(body)["recommendation"] == "relational"


@pytest.mark.parametrize(("path", "size"), [("/assess", 17 * 1024), ("/assess/batch", 3 * 1024 * 1024)])
@pytest.mark.parametrize("framing", ["chunked", "Content-Length"])
def test_over_the_endpoints_limit_is_413_however_the_body_is_framed(server: Server, path: str, size: int,
                                                                    framing: str) -> None:
    body = b'{"industry": "' + b"x" * size + b'"}'
    if framing == "chunked":
        raw = chunked(path, b"".join(chunk(body[i:i + 65536]) for i in range(0, len(body), 65536)) + b"0\r\n\r\n")
    else:
        raw = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
               "Connection: close\r\n\r\n").encode() + body
    status, headers, answer = exchange(server, raw)
    assert status == 413, answer[:300]
    check_response("POST", path, status, headers["content-type"], answer)
    assert b"over the limit" in answer


def test_a_request_without_host_on_http_1_1_is_400(server: Server) -> None:
    status, headers, body = exchange(server, b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert status == 400 and headers["content-type"] == "application/problem+json", body
    assert b"Host" in body
    assert exchange(server, b"GET /healthz HTTP/1.0\r\n\r\n")[0] == 200  # HTTP/1.0 has no Host to require


def test_a_405_is_counted_under_its_route(server: Server) -> None:
    before = server.get("/metrics").text
    assert server.request("DELETE", "/assess").status_code == 405
    after = server.get("/metrics").text
    labels = {"route": "/assess", "method": "DELETE", "status": "405"}
    assert sample(after, "strategy_http_requests_total", **labels) == sample(
        before, "strategy_http_requests_total", **labels) + 1


@pytest.mark.parametrize(("what", "raw", "status"), [
    ("a request line over 4094 bytes", b"GET /healthz?" + b"q" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ("a header field over 8190 bytes", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"x" * 9000 + b"\r\n\r\n",
     431),
    ("over 100 header fields", b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
     + b"".join(b"X-F%d: 1\r\n" % i for i in range(120)) + b"\r\n", 431),
])
def test_gunicorn_answers_header_limits_as_documented(server: Server, what: str, raw: bytes, status: int) -> None:
    assert exchange(server, raw)[0] == status, what
    readme = (ROOT / "README.md").read_text()
    assert re.search(rf"{status}", readme.split("Header limits", 1)[1].split("\n", 1)[0]), "the README says so"


# --- memory: the worst bodies each endpoint accepts, 20 at once, against the pod's memory limit ---


def memory_limit_bytes() -> int:
    """The gunicorn container's memory limit in deploy/k8s/deployment.yaml."""
    deployment = yaml.safe_load((ROOT / "deploy" / "k8s" / "deployment.yaml").read_text())
    [container] = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "strategy-scoring"]
    limit = container["resources"]["limits"]["memory"]
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", limit).groups()  # type: ignore[union-attr]
    return int(number) * {"Mi": 2**20, "Gi": 2**30}[unit]


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def worst_bodies() -> list[tuple[str, bytes]]:
    """What costs most memory per byte, each just inside the limits: containers, members, the largest valid batch."""
    full = {**REFERENCE_PROFILES["b2b_it_consultancy"]["profile"], "external_id": "x" * 128, "industry": "y" * 100}
    limit = 2 * 1024 * 1024 - 64
    return [
        ("/assess/batch", b'{"profiles": [' + b"[]," * ((limit - 20) // 3) + b"[]]}"),
        ("/assess/batch", b'{"profiles": [{' + b",".join(b'"f%06d":0' % i for i in range((limit - 30) // 12)) + b"}]}"),
        ("/assess/batch", json.dumps({"profiles": [full] * 1000}).encode()),
        ("/assess", b'{"a": [' + b"[]," * 5000 + b"[]]}"),
    ]


def test_twenty_worst_case_bodies_at_once_stay_under_the_pods_memory_limit(tmp_path: Path) -> None:
    limit = memory_limit_bytes()
    deployment_workers = 3  # WEB_CONCURRENCY in deploy/k8s/deployment.yaml
    with gunicorn(tmp_path, workers=deployment_workers) as server:
        pids = workers(server, deployment_workers)
        idle = sum(rss(pid) for pid in pids)
        bodies = worst_bodies()
        peak = idle
        statuses: list[int] = []

        def send(path: str, body: bytes) -> None:
            raw = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
            statuses.append(exchange(server, raw, timeout=120)[0])

        threads = [threading.Thread(target=send, args=bodies[i % len(bodies)]) for i in range(20)]
        for thread in threads:
            thread.start()
        watcher_started = time.monotonic()
        while any(thread.is_alive() for thread in threads) and time.monotonic() - watcher_started < 120:
            peak = max(peak, sum(rss(pid) for pid in pids if Path(f"/proc/{pid}").exists()))
            time.sleep(0.01)
        for thread in threads:
            thread.join(10)
    print(f"\nworkers' RSS: idle {idle / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB with 20 worst-case bodies "
          f"at once (the pod's limit: {limit / 2**20:.0f} MiB)")
    assert len(statuses) == 20 and 200 in statuses, statuses  # the valid batch is answered...
    assert set(statuses) <= {200, 400, 422}, statuses  # ... the others refused, none by a crash
    assert peak < limit, (peak, limit)
