"""Model files are reloaded by gunicorn's HUP without dropping a request."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import requests

from tests.support.models import REFERENCE_PROFILES, model_document, model_folder
from tests.support.servers import start_gunicorn, stop_gunicorn

PROFILE = REFERENCE_PROFILES["b2b_it_consultancy"]["profile"]


def test_hup_brings_in_a_new_model_version_without_dropping_a_request(tmp_path: Path) -> None:
    folder = model_folder(tmp_path / "models", v1=model_document())
    server = start_gunicorn(tmp_path, workers=2, env={"STRATEGY_MODEL_DIR": str(folder)})
    answers: list[tuple[int, str] | str] = []
    stop = threading.Event()

    def send() -> None:
        while not stop.is_set():
            try:  # a new connection each time, as a load balancer's health-checked pool would
                response = requests.post(server.url + "/assess", json=PROFILE, timeout=30,
                                         headers={"Connection": "close"})
                answers.append((response.status_code, response.json()["model"]["version"]))
            except requests.RequestException as error:
                answers.append(repr(error))

    senders = [threading.Thread(target=send) for _ in range(3)]
    try:
        for sender in senders:
            sender.start()
        time.sleep(1)
        newer = model_document()
        newer["version"] = "1.1.0"
        (folder / "v1.1.json").write_text(json.dumps(newer))
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
                len(answers) > 40 and all(a == (200, "1.1.0") for a in answers[-20:])):
            time.sleep(0.2)
    finally:
        stop.set()
        for sender in senders:
            sender.join()
        stop_gunicorn(server)
    failures = [a for a in answers if not (isinstance(a, tuple) and a[0] == 200)]
    assert failures == []
    versions = [a[1] for a in answers if isinstance(a, tuple)]
    assert versions[0] == "1.0.0" and versions[-1] == "1.1.0"
    assert versions.index("1.1.0") > 5, "some requests should have been answered before the reload"
