"""POST /assess/batch (docs/contract.md §4): a result per item, in order; each equals what a single call gives."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from service.scoring import LANGUAGES
from tests.support.metrics import sample
from tests.support.models import REFERENCE_PROFILES
from tests.support.servers import Server

PROFILES = [case["profile"] for case in REFERENCE_PROFILES.values()]


def without_id(assessment: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in assessment.items() if key != "assessment_id"}


def test_each_item_is_what_a_single_call_gives(client: FlaskClient) -> None:
    for language in LANGUAGES:
        headers = {"Accept-Language": language}
        batch = client.post("/assess/batch", json={"profiles": PROFILES}, headers=headers)
        assert batch.status_code == 200 and batch.headers["Content-Language"] == language
        results = batch.get_json()["results"]
        assert [r["index"] for r in results] == list(range(len(PROFILES)))
        for profile, result in zip(PROFILES, results, strict=True):
            single = client.post("/assess", json=profile, headers=headers).get_json()
            assert result["status"] == 200
            assert without_id(result["assessment"]) == without_id(single)


def test_one_bad_item_never_fails_the_others(client: FlaskClient) -> None:
    profiles = [PROFILES[0], {**PROFILES[1], "segment": "b2x"}, "not a profile", PROFILES[2]]
    body = client.post("/assess/batch", json={"profiles": profiles}).get_json()
    assert [r["status"] for r in body["results"]] == [200, 422, 422, 200]
    assert body["results"][1]["problem"]["errors"] == [
        {"pointer": "/profiles/1/segment", "detail": "Must be one of: b2c, ecommerce, b2b."}]
    assert body["results"][2]["problem"]["errors"][0]["pointer"] == "/profiles/2"
    assert body["counts"] == {"relational": 1, "hybrid": 1, "transactional": 0, "invalid": 2}


def test_garbage_collection_is_back_on_after_a_batch_good_or_bad(client: FlaskClient) -> None:
    """A batch holds collections off while it works (service/gc_pause.py); they must resume, whatever it met."""
    for body in ({"profiles": PROFILES}, {"profiles": [{"segment": "b2x"}]}, {"profiles": "none"}):
        client.post("/assess/batch", json=body)
        assert gc.isenabled(), body


def test_over_the_maximum_is_a_clear_413(make_app: Callable[..., Flask]) -> None:
    response = make_app(MAX_BATCH=3).test_client().post("/assess/batch", json={"profiles": PROFILES})
    assert response.status_code == 413
    assert response.get_json()["detail"] == "The batch has 4 profiles; the limit is 3. Split it."


def test_a_body_without_a_list_of_profiles_is_a_422(client: FlaskClient) -> None:
    for body, pointers in (({"profiles": {}}, ["/profiles"]), ({}, ["/profiles"]),
                           ({"profiles": [], "extra": 1}, ["/extra"])):
        response = client.post("/assess/batch", json=body)
        assert response.status_code == 422
        assert [e["pointer"] for e in response.get_json()["errors"]] == pointers


def test_an_empty_batch_is_an_empty_answer(client: FlaskClient) -> None:
    body = client.post("/assess/batch", json={"profiles": []}).get_json()
    assert body["results"] == [] and set(body["counts"].values()) == {0}


def test_a_batch_counts_each_assessment_in_metrics(server: Server) -> None:
    before = server.get("/metrics").text
    profiles = PROFILES * 25 + [{"segment": "b2x"}] * 5
    response = server.post("/assess/batch", json={"profiles": profiles})
    assert response.status_code == 200 and response.json()["counts"]["invalid"] == 5
    after = server.get("/metrics").text
    total = sum(sample(after, "strategy_assessments_total", recommendation=r)
                - sample(before, "strategy_assessments_total", recommendation=r)
                for r in ("relational", "hybrid", "transactional"))
    assert total == 100
