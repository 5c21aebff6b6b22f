"""Unauthenticated work and metrics with API keys set: a caller without a key costs no header parsing, what is
parsed and cached of Accept-Language is bounded, and /metrics fails closed."""

from __future__ import annotations

import pytest
from flask import Flask

from service import create_app, lifecycle
from tests.support.models import REFERENCE_PROFILES
from tests.support.spec import SpecCheckingClient

PROFILE = REFERENCE_PROFILES["minimal_required_only_b2b"]["profile"]
KEY = "hostile-key-31c9"
HUGE = ", ".join(f"x{i}-{'a' * 8};q=0.{i % 9 + 1}" for i in range(400))  # ~8 KB, just under gunicorn's field limit


def app_with(**settings: str) -> Flask:
    app = create_app({"TESTING": True, **settings})
    app.test_client_class = SpecCheckingClient
    return app


def test_without_a_key_accept_language_is_not_even_parsed() -> None:
    client = app_with(API_KEYS=KEY).test_client()
    lifecycle._language.cache_clear()
    for i in range(50):
        response = client.post("/assess", json=PROFILE, headers={"Accept-Language": f"{HUGE}, y{i}"})
        assert response.status_code == 401
    info = lifecycle._language.cache_info()
    assert info.hits == info.misses == 0, info


def test_only_the_first_256_bytes_of_accept_language_are_parsed_and_cached() -> None:
    client = app_with(API_KEYS=KEY).test_client()
    lifecycle._language.cache_clear()
    late = "en;q=0.1, " + "x" * 300 + ", pl;q=1"  # Polish preferred, but past what is read
    early = "pl;q=1, " + "x" * 300
    auth = {"Authorization": f"Bearer {KEY}"}
    assert client.post("/assess", json=PROFILE, headers={**auth, "Accept-Language": late}).headers[
        "Content-Language"] == "en"
    assert client.post("/assess", json=PROFILE, headers={**auth, "Accept-Language": early}).headers[
        "Content-Language"] == "pl"
    for i in range(200):  # many distinct huge headers: the cache holds at most 64 keys of at most 256 characters
        client.get("/criteria", headers={**auth, "Accept-Language": f"z{i}-{HUGE}"})
    assert lifecycle._language.cache_info().currsize <= 64
    assert lifecycle.ACCEPT_LANGUAGE_READ == 256


@pytest.mark.parametrize(("settings", "open_without", "opened_by"), [
    ({}, True, None),
    ({"API_KEYS": KEY}, False, KEY),
    ({"API_KEYS": KEY, "METRICS_TOKEN": "scraper-token-9"}, False, "scraper-token-9"),
], ids=["nothing set: open", "keys, no token: a key", "a token: the token"])
def test_metrics_fail_closed_once_any_credential_is_set(settings: dict[str, str], open_without: bool,
                                                        opened_by: str | None) -> None:
    client = app_with(**settings).test_client()
    assert (client.get("/metrics").status_code == 200) is open_without
    if opened_by:
        assert client.get("/metrics", headers={"Authorization": f"Bearer {opened_by}"}).status_code == 200
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
