"""Every reference profile gets the recommendation it must get, from the core and over HTTP."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from service.scoring import Model, assess
from tests.support.models import REFERENCE_PROFILES


@pytest.mark.parametrize("name", REFERENCE_PROFILES)
def test_core_recommends_as_expected(model: Model, name: str) -> None:
    case = REFERENCE_PROFILES[name]
    assert assess(model, case["profile"]).recommendation == case["expected"]


@pytest.mark.parametrize("name", REFERENCE_PROFILES)
@pytest.mark.parametrize("language", ["en", "pl"])
def test_api_recommends_as_expected(client: FlaskClient, name: str, language: str) -> None:
    case = REFERENCE_PROFILES[name]
    response = client.post("/assess", json=case["profile"], headers={"Accept-Language": language})
    assert response.status_code == 200
    body = response.get_json()
    assert body["recommendation"] == case["expected"]
    assert body["external_id"] == case["profile"].get("external_id")
    assert response.headers["Content-Language"] == language


def test_fewer_answers_mean_lower_coverage_and_confidence(model: Model) -> None:
    full = assess(model, REFERENCE_PROFILES["b2b_it_consultancy"]["profile"])
    minimal = assess(model, REFERENCE_PROFILES["minimal_required_only_b2b"]["profile"])
    assert minimal.coverage < full.coverage
    assert minimal.confidence < full.confidence
