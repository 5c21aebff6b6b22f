"""The endpoints of docs/contract.md §4 through the app: shapes, languages, headers."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.openapi import EXAMPLE_PROFILE
from tests.support.models import REFERENCE_PROFILES

CONSULTANCY = REFERENCE_PROFILES["b2b_it_consultancy"]["profile"]
FASHION = REFERENCE_PROFILES["ecommerce_fashion_with_loyalty_app"]["profile"]


def test_an_assessment_has_everything_of_contract_section_5(client: FlaskClient) -> None:
    body = client.post("/assess?model=sales-strategy@1.0.0", json=FASHION).get_json()  # pinned: 1.0.0's wording
    uuid.UUID(body["assessment_id"])
    assert body["recommendation"] == "hybrid"
    assert body["scores"]["relational"] + body["scores"]["transactional"] == pytest.approx(100)
    scored = [name for name in FASHION if name not in ("external_id", "industry")]
    assert sorted(f["criterion"] for f in body["rationale"]["factors"]) == sorted(scored)
    assert body["rationale"]["summary"].startswith("A hybrid approach")
    assert all(f["reason"] and f["source"]["section"] for f in body["rationale"]["factors"])
    assert body["counterfactuals"] == []  # no single change moves this balanced profile out of hybrid
    assert body["playbook"]["kpis"] and body["playbook"]["risks"]
    assert body["model"] == {"id": "sales-strategy", "version": "1.0.0"}


def test_each_counterfactual_holds_when_re_sent(client: FlaskClient) -> None:
    checked = 0
    for profile in (EXAMPLE_PROFILE, FASHION, CONSULTANCY, {**FASHION, "retention_rate": 0.9}):
        body = client.post("/assess", json=profile).get_json()
        for counterfactual in body["counterfactuals"]:
            checked += 1
            changed = {**profile, counterfactual["criterion"]: counterfactual["to"]}
            again = client.post("/assess", json=changed).get_json()
            assert again["recommendation"] == counterfactual["recommendation"]
            assert again["index"] == counterfactual["index"]
    assert checked >= 3


@pytest.mark.parametrize(("header", "language"), [
    (None, "en"), ("", "en"), ("pl", "pl"), ("PL", "pl"), ("pl-PL", "pl"), ("pl_PL", "pl"),
    ("pl-PL,en;q=0.5", "pl"), ("en-GB,pl;q=0.9", "en"), ("pl-PL,pl;q=0.9,en-US;q=0.8,en;q=0.7", "pl"),
    ("de, en;q=0.1, pl;q=0.2", "pl"), ("en;q=0.9, pl", "pl"), ("pl;q=0", "en"), ("*", "en"), ("fr", "en"),
    ("pl;q=abc, en;q=0.5", "en"), ("fr-CA, pl-PL;q=0.3", "pl"), ("de-DE, en;q=0.3", "en"), (";;;q=x", "en"),
])
def test_the_language_follows_accept_language(client: FlaskClient, header: str | None, language: str) -> None:
    headers = {"Accept-Language": header} if header is not None else {}
    for _ in range(2):  # the second answer comes from the cache
        response = client.get("/criteria", headers=headers)
        assert response.status_code == 200 and response.headers["Content-Language"] == language
    response = client.post("/assess", json=CONSULTANCY, headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Language"] == language
    polish = "Tej firmie najlepiej odpowiada sprzedaż relacyjna"
    assert (polish in response.get_json()["rationale"]["summary"]) == (language == "pl")


def test_a_sane_request_id_is_echoed_and_an_insane_one_replaced(client: FlaskClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "crm-42.a:b"}).headers["X-Request-ID"] == "crm-42.a:b"
    for insane in ("x" * 129, "bad id", "<script>", "ą"):
        replaced = client.get("/healthz", headers={"X-Request-ID": insane}).headers["X-Request-ID"]
        assert replaced != insane and len(replaced) == 32
    problem = client.post("/assess", json={}, headers={"X-Request-ID": "trace-7"})
    assert problem.headers["X-Request-ID"] == problem.get_json()["request_id"] == "trace-7"


def test_criteria_describe_the_model_in_the_requested_language(client: FlaskClient) -> None:
    english = client.get("/criteria?model=sales-strategy@1.0.0").get_json()  # pinned: 1.0.0's numbers
    polish = client.get("/criteria?model=sales-strategy@1.0.0", headers={"Accept-Language": "pl"}).get_json()
    assert english["threshold"] == 0.2 and "coverage" in english["confidence"]
    segment = english["criteria"][0]
    assert segment["name"] == "segment" and segment["weight"] == 3 and segment["required"]
    assert [(o["value"], o["lean"]) for o in segment["options"]] == [("b2c", -0.5), ("ecommerce", 0), ("b2b", 1)]
    assert polish["criteria"][0]["question"] != segment["question"]
    assert english["criteria"][-1]["number"] == {"minimum": 0, "maximum": 1, "centre": 0.5, "span": 0.3}


def test_health_and_readiness(app: Flask, client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["default_model"] == "sales-strategy@2.0.0"
    app.extensions["models"].models.clear()
    assert client.get("/readyz").status_code == 503


def test_an_unknown_model_is_a_404_naming_the_known_ones(client: FlaskClient) -> None:
    response = client.post("/assess?model=nope@9", json=CONSULTANCY)
    assert response.status_code == 404 and "sales-strategy@1.0.0" in response.get_json()["detail"]


def test_null_optional_criteria_count_as_unanswered(client: FlaskClient) -> None:
    with_nulls = {**REFERENCE_PROFILES["minimal_required_only_b2b"]["profile"], "price_level": None,
                  "retention_rate": None, "external_id": None}
    body = client.post("/assess", json=with_nulls).get_json()
    plain = client.post("/assess", json=REFERENCE_PROFILES["minimal_required_only_b2b"]["profile"]).get_json()
    assert body["index"] == plain["index"] and body["coverage"] == plain["coverage"]
