"""API keys and the metrics token: who gets in, who gets a 401, and that no secret leaks anywhere."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.models import REFERENCE_PROFILES
from tests.support.servers import start_gunicorn, stop_gunicorn

PROFILE = REFERENCE_PROFILES["minimal_required_only_b2b"]["profile"]
KEY_IN_ENV, KEY_IN_FILE, METRICS_TOKEN = "env-key-7f3a9c", "file-key-ä91b", "metrics-token-55e1"


@pytest.fixture
def guarded(tmp_path: Path, make_app: Callable[..., Flask]) -> Flask:
    keys = tmp_path / "keys"
    keys.write_text(f"# one key a line\n{KEY_IN_FILE}\n\n", encoding="utf-8")
    return make_app(API_KEYS=f" {KEY_IN_ENV} ,", API_KEYS_FILE=str(keys), METRICS_TOKEN=METRICS_TOKEN)


def bearer(key: str) -> dict[str, str]:
    # WSGI carries headers as latin-1 text: this is how the UTF-8 bytes of a non-ASCII key arrive
    return {"Authorization": "Bearer " + key.encode().decode("latin-1")}


@pytest.mark.parametrize("path", ["/assess", "/assess/batch", "/criteria"])
@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer"}, {"Authorization": f"Basic {KEY_IN_ENV}"},
    {"Authorization": "Bearer \u00ff\u00e4\u0000"}, {"Authorization": f"Bearer {KEY_IN_ENV}x"},
], ids=["none", "wrong", "empty", "basic", "non-ascii", "longer"])
def test_missing_or_wrong_keys_get_a_401_challenge(guarded: Flask, path: str, headers: dict[str, str]) -> None:
    client = guarded.test_client()
    body = {"profiles": [PROFILE]} if path.endswith("batch") else PROFILE
    response = client.get(path, headers=headers) if path == "/criteria" else client.post(path, json=body,
                                                                                         headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="strategy-scoring"'
    assert KEY_IN_ENV not in response.get_data(as_text=True)


def test_each_configured_key_gets_in(guarded: Flask) -> None:
    client = guarded.test_client()
    for key in (KEY_IN_ENV, KEY_IN_FILE):
        assert client.post("/assess", json=PROFILE, headers=bearer(key)).status_code == 200
        assert client.get("/criteria", headers={**bearer(key)}).status_code == 200
    assert client.post("/assess", json=PROFILE, headers={"Authorization": f"bearer  {KEY_IN_ENV} "}).status_code == 200


def test_probes_and_the_contract_stay_open(guarded: Flask) -> None:
    client = guarded.test_client()
    for path in ("/healthz", "/readyz", "/openapi.yaml"):
        assert client.get(path).status_code == 200, path


def test_metrics_need_their_own_token(guarded: Flask) -> None:
    client = guarded.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=bearer(KEY_IN_ENV)).status_code == 401
    response = client.get("/metrics", headers=bearer(METRICS_TOKEN))
    assert response.status_code == 200 and b"strategy_model_info" in response.data


def test_without_keys_everything_is_open(client: FlaskClient) -> None:
    assert client.post("/assess", json=PROFILE).status_code == 200
    assert client.get("/metrics").status_code == 200


def test_responses_carry_headers_fit_for_a_json_api(client: FlaskClient) -> None:
    for response in (client.post("/assess", json=PROFILE), client.get("/nowhere")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_a_500_names_the_request_id_and_shows_no_internals(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("internal detail: /srv/secret/path")

    app.test_client_class = None  # /boom is not part of the API document
    response = app.test_client().get("/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["request_id"] == "req-500" and "req-500" in problem["detail"]
    assert "internal detail" not in response.get_data(as_text=True) and "Traceback" not in problem["detail"]
    logged = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.fields["request_id"] for r in logged] == ["req-500"]  # type: ignore[attr-defined]
    assert logged[0].exc_info is not None and "internal detail" in str(logged[0].exc_info[1])  # logged, not shown


def test_logs_are_json_lines_with_decisions_and_no_secret(tmp_path: Path) -> None:
    server = start_gunicorn(tmp_path, workers=2, env={"STRATEGY_API_KEYS": KEY_IN_ENV,
                                                      "STRATEGY_METRICS_TOKEN": METRICS_TOKEN})
    try:
        headers = {"Authorization": f"Bearer {KEY_IN_ENV}", "X-Request-ID": "trace-log-1"}
        assert server.post("/assess", json={**PROFILE, "external_id": "crm-9"}, headers=headers).status_code == 200
        batch = server.post("/assess/batch", json={"profiles": [PROFILE, PROFILE, {"segment": "x"}]},
                            headers={"Authorization": f"Bearer {KEY_IN_ENV}"})
        assert batch.status_code == 200
        assert server.post("/assess", json=PROFILE, headers={"Authorization": "Bearer guess"}).status_code == 401
        assert server.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 200
    finally:
        stop_gunicorn(server)
    lines = server.log.read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    decisions = [e for e in entries if e.get("event") == "assessment"]
    assert len(decisions) == 3
    first = next(d for d in decisions if d["request_id"] == "trace-log-1")
    assert first["external_id"] == "crm-9" and first["model"] == "sales-strategy@2.0.0"
    assert {"recommendation", "index", "confidence", "latency_ms", "assessment_id"} <= set(first)
    assert "profile" not in first
    access = [e for e in entries if e.get("event") == "access"]
    assert {(e["path"], e["status"]) for e in access} >= {("/assess", 200), ("/assess", 401), ("/metrics", 200)}
    assert any(e["request_id"] == "trace-log-1" for e in access)
    text = server.log.read_text()
    assert KEY_IN_ENV not in text and METRICS_TOKEN not in text and "guess" not in text


def test_the_decision_log_carries_the_profile_only_when_configured(tmp_path: Path) -> None:
    server = start_gunicorn(tmp_path, workers=1, env={"STRATEGY_LOG_PROFILES": "true"})
    try:
        assert server.post("/assess", json=PROFILE).status_code == 200
    finally:
        stop_gunicorn(server)
    decisions = [json.loads(line) for line in server.log.read_text().splitlines() if '"assessment"' in line]
    assert decisions[0]["profile"] == PROFILE


def test_keys_from_the_environment_are_taken_as_written(monkeypatch: pytest.MonkeyPatch,
                                                        make_app: Callable[..., Flask]) -> None:
    monkeypatch.setenv("STRATEGY_API_KEYS", "1e5")  # JSON would read this as the number 100000.0
    monkeypatch.setenv("STRATEGY_METRICS_TOKEN", "true")
    client = make_app().test_client()
    assert client.post("/assess", json=PROFILE, headers={"Authorization": "Bearer 1e5"}).status_code == 200
    assert client.post("/assess", json=PROFILE, headers={"Authorization": "Bearer 100000.0"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer true"}).status_code == 200
