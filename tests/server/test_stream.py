"""POST /assess/stream over real HTTP through gunicorn: answers flow back while the body is still being sent, in
order, and a client that stalls loses only its own stream, after STREAM_IDLE_SECONDS, never a worker.

The client here is full duplex (it reads while it sends, as curl does): a socket and a thread that sends the body
in chunks, http.client's response parser on the same socket. requests sends the whole body before it reads.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from openapi_schema_validator import OAS30Validator

from service.scoring import Model
from tests.support.models import REFERENCE_PROFILES
from tests.support.servers import Server, start_gunicorn, stop_gunicorn
from tests.support.spec import spec

NDJSON = "application/x-ndjson"


def random_profiles(model: Model, count: int) -> list[dict[str, Any]]:
    profiles = []
    for n in range(count):
        profile: dict[str, Any] = {"external_id": f"crm-{n}"}
        for k, criterion in enumerate(model.criteria):
            if criterion.required or (n + k) % 3:
                profile[criterion.name] = ((n * 7 + k) % 101 / 100 if criterion.number is not None
                                           else criterion.options[(n + k) % len(criterion.options)].value)
        profiles.append(profile)
    return profiles


class Stream:
    """One POST /assess/stream: the body sent chunk by chunk from a thread, the answer read line by line."""

    def __init__(self, url: str, content_type: str = NDJSON, path: str = "/assess/stream",
                 timeout: float = 60) -> None:
        address = urlsplit(url)
        self.socket = socket.create_connection((address.hostname, address.port), timeout=timeout)
        self.socket.sendall((f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: {content_type}\r\n"
                             "Transfer-Encoding: chunked\r\nAccept-Language: en\r\n\r\n").encode())
        self.response: http.client.HTTPResponse | None = None

    def send(self, data: bytes) -> None:
        if data:
            self.socket.sendall(b"%x\r\n%s\r\n" % (len(data), data))

    def end(self) -> None:
        self.socket.sendall(b"0\r\n\r\n")

    def send_in_background(self, pieces: Iterator[bytes], finish: bool = True) -> threading.Thread:
        def work() -> None:
            for piece in pieces:
                self.send(piece)
            if finish:
                self.end()
        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        return thread

    def lines(self) -> Iterator[dict[str, Any]]:
        if self.response is None:
            self.response = http.client.HTTPResponse(self.socket)
            self.response.begin()
            assert self.response.status == 200, self.response.read()[:500]
            assert self.response.getheader("Content-Type") == NDJSON
        while line := self.response.readline():
            yield json.loads(line)

    def close(self) -> None:
        self.socket.close()


def line_validator() -> Callable[[dict[str, Any]], list[str]]:
    document = spec()
    schema = document["paths"]["/assess/stream"]["post"]["responses"]["200"]["content"][NDJSON]["schema"]
    validator = OAS30Validator({"allOf": [schema], "components": document["components"]})
    return lambda item: [error.message for error in validator.iter_errors(item)]


def test_answers_flow_back_while_the_body_is_still_coming(server: Server, model: Model) -> None:
    profiles = random_profiles(model, 3000)
    lines = [json.dumps(p).encode() + b"\n" for p in profiles]
    lines[1500] = json.dumps({**profiles[1500], "industry": "x" * 20000}).encode() + b"\n"  # over the row limit
    stream = Stream(server.url)
    try:
        stream.send(b"".join(lines[:300]))
        answers = stream.lines()
        first = next(answers)  # the body is still open: the service answers what it has read
        assert first["index"] == 0 and first["status"] == 200
        sender = stream.send_in_background(b"".join(lines[n:n + 100]) for n in range(300, len(lines), 100))
        items = [first, *answers]
        sender.join(timeout=30)
    finally:
        stream.close()
    errors = line_validator()
    assert [item["index"] for item in items] == list(range(len(profiles)))
    assert [item["status"] for item in items if item["status"] != 200] == [413]
    assert items[1500]["status"] == 413 and not errors(items[1500])
    for n in (0, 1, 299, 300, 1499, 1501, 2999):
        assert not errors(items[n])
        single = server.post("/assess", json=profiles[n]).json()
        got = {k: v for k, v in items[n]["assessment"].items() if k != "assessment_id"}
        assert got == {k: v for k, v in single.items() if k != "assessment_id"}


@pytest.fixture
def impatient_server(tmp_path: Path) -> Iterator[Server]:
    """Two (sync) workers, streams given up after two idle seconds."""
    server = start_gunicorn(tmp_path, workers=2, env={"STRATEGY_STREAM_IDLE_SECONDS": "2"})
    yield server
    stop_gunicorn(server)


def test_a_stalled_client_loses_its_own_stream_and_nobody_waits_for_it(impatient_server: Server,
                                                                       model: Model) -> None:
    profiles = random_profiles(model, 10)
    stream = Stream(impatient_server.url)
    try:
        stream.send(b"".join(json.dumps(p).encode() + b"\n" for p in profiles))  # ... and then nothing more
        started = time.monotonic()
        served = [impatient_server.post("/assess", json=REFERENCE_PROFILES["minimal_required_only_b2b"]["profile"])
                  .status_code for _ in range(5)]
        assert served == [200] * 5  # the other worker answers while the stream waits
        items = list(stream.lines())
        waited = time.monotonic() - started
    finally:
        stream.close()
    # gunicorn reads a chunked body up to 1 KiB ahead, so the row just before the stall may be caught in that read
    statuses = [item["status"] for item in items]
    assert statuses in ([200] * 10 + [400], [200] * 9 + [400]), statuses
    assert "could not be read to its end" in items[-1]["problem"]["detail"]
    assert not line_validator()(items[-1])
    assert 1.5 < waited < 20, waited  # a bound on the setting, not a timing of the service
    assert impatient_server.get("/readyz").status_code == 200 and impatient_server.process.poll() is None


def test_a_stream_longer_than_the_worker_timeout_is_not_killed(tmp_path: Path, model: Model) -> None:
    """A sync worker tells the master it lives only between requests; a stream beats between its chunks instead."""
    server = start_gunicorn(tmp_path, workers=1, env={"STRATEGY_WORKER_TIMEOUT": "2",
                                                      "STRATEGY_STREAM_IDLE_SECONDS": "10"})
    try:
        [worker] = server.worker_pids()
        profiles = random_profiles(model, 60)
        stream = Stream(server.url)
        try:
            def slowly() -> Iterator[bytes]:
                for n in range(0, len(profiles), 5):  # 12 pieces, 0.5 s apart: 6 s, three times the timeout
                    yield b"".join(json.dumps(p).encode() + b"\n" for p in profiles[n:n + 5])
                    time.sleep(0.5)
            sender = stream.send_in_background(slowly())
            items = list(stream.lines())
            sender.join(timeout=30)
        finally:
            stream.close()
        assert [item["status"] for item in items] == [200] * len(profiles)
        assert server.worker_pids() == [worker], "the master killed the streaming worker"
    finally:
        stop_gunicorn(server)
