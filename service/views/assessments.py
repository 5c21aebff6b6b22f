"""Assessments: a profile in, a recommendation with its reasons out; or many at once."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any, NamedTuple

from flask import Blueprint, current_app, g, request
from marshmallow import ValidationError

from service import metrics
from service.errors import FieldError, Problem
from service.fields import Selection, sparse
from service.gc_pause import collections_paused
from service.identifiers import assessment_ids
from service.logs import log_decisions
from service.messages import field_message, message
from service.registry import LoadedModel, ModelRegistry
from service.request_body import json_object
from service.schemas.responses import assessment_bodies, assessment_body
from service.scoring import STRATEGIES, Assessment, Decision, assess, explain_many
from service.validation import invalid_profile

blueprint = Blueprint("assessments", __name__)


class Assessed(NamedTuple):
    """One profile assessed: the typed Assessment is kept until the response is made, and read from there on."""

    assessment_id: str
    profile: dict[str, Any]
    assessment: Assessment

    def body(self, language: str, fields: Selection = None) -> dict[str, Any]:
        return assessment_body(self.assessment, self.profile, language, self.assessment_id, fields)


def _registry() -> ModelRegistry:
    return current_app.extensions["models"]


def assess_document(loaded: LoadedModel, document: Any, *pointer_prefix: str | int) -> Assessed:
    """Validate one profile and assess it: the whole work of one assessment, or a 422 Problem."""
    profile = valid_profile(loaded, document, *pointer_prefix)
    return Assessed(str(uuid.uuid4()), profile, assess(loaded.model, profile))


def valid_profile(loaded: LoadedModel, document: Any, *pointer_prefix: str | int) -> dict[str, Any]:
    """The profile as the model's schema loads it, or a 422 Problem naming every bad field."""
    try:
        return loaded.profile_schema.load(document)
    except ValidationError as error:
        problem, names = invalid_profile(loaded.profile_schema, error.messages, *pointer_prefix)
        metrics.record_validation_failures(names, loaded.fields)
        raise problem from None


class DecisionLog:
    """A request's decision log: per assessment, what was advised, by which model and (if configured) to whom."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.request_id, self.language, self.model = g.request_id, g.language, loaded.model.key
        self.with_profiles = current_app.config["LOG_PROFILES"]
        self.lines: list[dict[str, Any]] = []

    def add(self, assessment_id: str, external_id: str | None, decision: Decision, document: dict[str, Any],
            started: float) -> None:
        line = {
            "event": "assessment",
            "request_id": self.request_id,
            "assessment_id": assessment_id,
            "external_id": external_id,
            "model": self.model,
            "recommendation": decision.recommendation,
            "index": decision.index,
            "confidence": decision.confidence,
            "language": self.language,
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
        }
        if self.with_profiles:
            line["profile"] = document
        self.lines.append(line)

    def add_assessed(self, assessed: Assessed, document: dict[str, Any], started: float) -> None:
        self.add(assessed.assessment_id, assessed.profile.get("external_id"), assessed.assessment.decision, document,
                 started)

    def write(self) -> None:
        log_decisions(self.lines)
        self.lines = []


def comparison(loaded: LoadedModel, assessed: Assessed, challenger: LoadedModel, document: Any,
               language: str, fields: Selection = None) -> dict[str, Any]:
    """The same profile under a second model, side by side: shadow evaluation that changes no answer."""
    reference = {"id": challenger.model.id, "version": challenger.model.version}
    try:
        other = assess_document(challenger, document)
    except Problem as problem:
        metrics.record_shadow_assessment(loaded.model.key, challenger.model.key, None)
        return {"model": reference, "problem": problem.body(language)}
    agrees = other.assessment.recommendation == assessed.assessment.recommendation
    metrics.record_shadow_assessment(loaded.model.key, challenger.model.key, agrees)
    return {"model": reference, "agrees": agrees,
            "index_difference": other.assessment.index - assessed.assessment.index,
            "assessment": other.body(language, fields)}


@blueprint.post("/assess")
@sparse
def assess_profile() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Assess one business profile: the strategy that fits it, why, what would change it, and how to act."""
    registry = _registry()
    loaded = registry.get(request.args.get("model"))
    challenger = registry.get(request.args["compare"]) if "compare" in request.args else None
    document = json_object(request, current_app.config["MAX_JSON_DEPTH"], current_app.config["MAX_PROFILE_BYTES"])
    assessed = assess_document(loaded, document)
    body = assessed.body(g.language, g.fields)
    metrics.record_assessments([assessed.assessment.recommendation])
    decisions = DecisionLog(loaded)
    decisions.add_assessed(assessed, document, g.started)  # its latency includes the wording, as the caller's does
    decisions.write()
    if challenger is not None:
        body["comparison"] = comparison(loaded, assessed, challenger, document, g.language, g.fields)
    return body, 200, {"Content-Language": g.language}


def _batch_profiles(document: dict[str, Any]) -> list[Any]:
    """The list of profiles of a batch body, or a 422 (no list, or other members) or 413 (over the limit) Problem."""
    profiles = document.get("profiles")
    extra = sorted(set(document) - {"profiles"})
    if not isinstance(profiles, list) or extra:
        errors = [] if isinstance(profiles, list) else [FieldError("/profiles", field_message("not_a_list"))]
        errors += [FieldError(f"/{name}", field_message("unknown")) for name in extra]
        raise Problem(422, message("batch_envelope"), errors)
    limit = current_app.config["MAX_BATCH"]
    if len(profiles) > limit:
        raise Problem(413, message("batch_too_large", count=len(profiles), limit=limit))
    return profiles


@blueprint.post("/assess/batch")
@sparse
@collections_paused()  # a batch's objects all live until its answer is written (service/gc_pause.py)
def assess_batch() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Assess many profiles at once: a result per item, in order; one bad item never fails the others."""
    loaded = _registry().get(request.args.get("model"))
    profiles = _batch_profiles(json_object(request, current_app.config["MAX_JSON_DEPTH"]))
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    valid: list[tuple[int, dict[str, Any], dict[str, Any]]] = []  # (index, document, profile)
    for index, document in enumerate(profiles):
        try:
            if not isinstance(document, dict):
                raise Problem(422, message("profile_not_object"),
                              [FieldError(f"/profiles/{index}", field_message("not_an_object"))])
            valid.append((index, document, valid_profile(loaded, document, "profiles", index)))
            results.append({})  # its place, filled below
        except Problem as problem:
            results.append({"index": index, "status": problem.status, "problem": problem.body(g.language)})
    # the valid profiles assessed together: item by item what /assess gives (tests/core/test_bulk.py)
    tally: Counter[str] = Counter()
    decisions = DecisionLog(loaded)
    valid_profiles = [p for *_, p in valid]
    explained = explain_many(loaded.model, valid_profiles)
    ids = assessment_ids(len(valid))
    bodies = assessment_bodies(explained, valid_profiles, g.language, ids, g.fields)
    for (index, document, profile), decision, assessment_id, body in zip(valid, explained.decisions(), ids, bodies,
                                                                         strict=True):
        results[index] = {"index": index, "status": 200, "assessment": body}
        decisions.add(assessment_id, profile.get("external_id"), decision, document, started)
        tally[decision.recommendation] += 1
    decisions.write()
    metrics.record_assessments(tally.elements())
    counts = {strategy: tally[strategy] for strategy in STRATEGIES} | {"invalid": len(results) - tally.total()}
    body = {"results": results, "counts": counts,
            "model": {"id": loaded.model.id, "version": loaded.model.version}}
    return body, 200, {"Content-Language": g.language}
