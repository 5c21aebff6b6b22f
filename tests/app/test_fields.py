"""?fields= (issue 14): sparse answers from /assess and the batch; unknown names a 422 naming them, before any work."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from service.errors import Problem
from service.fields import FIELDS, selected
from tests.support.models import REFERENCE_PROFILES

PROFILES = [case["profile"] for case in REFERENCE_PROFILES.values()]


def test_the_selection_is_the_names_asked_for_and_none_without_the_parameter() -> None:
    assert selected({}) is None
    assert selected({"fields": "recommendation, scores,confidence,"}) == {"recommendation", "scores", "confidence"}
    assert set(FIELDS) >= {"recommendation", "scores", "index", "confidence", "coverage", "rationale", "playbook"}
    for text in ("", " , ", "recommendation,colour", "x" * 2000):
        with pytest.raises(Problem) as caught:
            selected({"fields": text})
        assert caught.value.status == 422
    with pytest.raises(Problem, match="'colour', 'hue'"):
        selected({"fields": "colour,recommendation,hue"})


def test_the_comparison_is_kept_and_its_assessment_cut_alike(client: FlaskClient) -> None:
    full = client.post("/assess?compare=sales-strategy@1.0.0", json=PROFILES[0]).get_json()
    sparse = client.post("/assess?compare=sales-strategy@1.0.0&fields=index", json=PROFILES[0]).get_json()
    comparison = full["comparison"]
    assert sparse == {"index": full["index"], "comparison": {
        "model": comparison["model"], "agrees": comparison["agrees"],
        "index_difference": comparison["index_difference"], "assessment": {"index": comparison["assessment"]["index"]}}}


def test_assess_answers_only_the_fields_asked_for(client: FlaskClient) -> None:
    for profile in PROFILES:
        full = client.post("/assess", json=profile).get_json()
        sparse = client.post("/assess?fields=recommendation,scores,confidence", json=profile)
        assert sparse.status_code == 200
        assert sparse.get_json() == {name: full[name] for name in ("recommendation", "scores", "confidence")}


def test_an_unknown_field_is_a_422_naming_it_and_nothing_is_assessed(client: FlaskClient,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="strategy.decisions")
    response = client.post("/assess?fields=recommendation,colour", json=PROFILES[0])
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert "'colour'" in response.get_json()["detail"] and "recommendation" in response.get_json()["detail"]
    assert not [r for r in caplog.records if r.name == "strategy.decisions"], "a decision was logged, not answered"
    assert client.post("/assess/batch?fields=hue", json={"profiles": PROFILES}).status_code == 422


def test_the_batch_cuts_every_assessment_and_leaves_problems_whole(client: FlaskClient) -> None:
    profiles = [PROFILES[0], {**PROFILES[1], "segment": "b2x"}]
    full = client.post("/assess/batch", json={"profiles": profiles}).get_json()
    sparse = client.post("/assess/batch?fields=recommendation,index", json={"profiles": profiles}).get_json()
    assert sparse["results"][0]["assessment"] == {
        "recommendation": full["results"][0]["assessment"]["recommendation"],
        "index": full["results"][0]["assessment"]["index"]}
    assert sparse["results"][1] == {**full["results"][1], "problem": {
        **full["results"][1]["problem"], "request_id": sparse["results"][1]["problem"]["request_id"]}}
    assert sparse["counts"] == full["counts"]
