"""Assessments: a profile in, a recommendation with its reasons out; or many at once."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

from flask import Blueprint, current_app, g, request
from marshmallow import ValidationError

from service import metrics
from service.errors import Problem, problem_body
from service.fields import project, project_batch, sparse
from service.logs import log_decision
from service.registry import LoadedModel, ModelRegistry
from service.request_body import json_object
from service.scoring import STRATEGIES, assess, render
from service.validation import field_errors, invalid_fields_detail, pointers

blueprint = Blueprint("assessments", __name__)


def _registry() -> ModelRegistry:
    return current_app.extensions["models"]


def assess_document(loaded: LoadedModel, document: Any, language: str, *pointer_prefix: str | int) -> dict[str, Any]:
    """Validate one profile and assess it: the whole work of one assessment, or a 422 Problem."""
    try:
        profile = loaded.profile_schema.load(document)
    except ValidationError as error:
        paths = [path for path, _ in field_errors(error.messages)]
        metrics.record_validation_failures((str(path[0]) for path in paths if path), loaded.fields)
        raise Problem(422, invalid_fields_detail(len(paths)), pointers(error.messages, *pointer_prefix)) from None
    return {
        "assessment_id": str(uuid.uuid4()),
        "external_id": profile.get("external_id"),
        "industry": profile.get("industry"),
        **render(assess(loaded.model, profile), language),
    }


def record_decision(loaded: LoadedModel, body: dict[str, Any], document: dict[str, Any], started: float) -> None:
    """One line of the decision log: what was advised, by which model, and (when configured) to whom."""
    fields = {
        "request_id": g.request_id,
        "assessment_id": body["assessment_id"],
        "external_id": body["external_id"],
        "model": loaded.model.key,
        "recommendation": body["recommendation"],
        "index": body["index"],
        "confidence": body["confidence"],
        "language": g.language,
        "latency_ms": round((time.perf_counter() - started) * 1000, 3),
    }
    if current_app.config["LOG_PROFILES"]:
        fields["profile"] = document
    log_decision(fields)


def comparison(loaded: LoadedModel, body: dict[str, Any], challenger: LoadedModel, document: Any,
               language: str) -> dict[str, Any]:
    """The same profile under a second model, side by side: shadow evaluation that changes no answer."""
    reference = {"id": challenger.model.id, "version": challenger.model.version}
    try:
        other = assess_document(challenger, document, language)
    except Problem as problem:
        metrics.record_shadow_assessment(loaded.model.key, challenger.model.key, None)
        return {"model": reference, "problem": problem_body(problem.status, problem.detail, problem.errors)}
    agrees = other["recommendation"] == body["recommendation"]
    metrics.record_shadow_assessment(loaded.model.key, challenger.model.key, agrees)
    return {"model": reference, "agrees": agrees, "index_difference": other["index"] - body["index"],
            "assessment": other}


@blueprint.post("/assess")
@sparse(project)
def assess_profile() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Assess one business profile: the strategy that fits it, why, what would change it, and how to act."""
    registry = _registry()
    loaded = registry.get(request.args.get("model"))
    challenger = registry.get(request.args["compare"]) if "compare" in request.args else None
    document = json_object(request, current_app.config["MAX_JSON_DEPTH"])
    body = assess_document(loaded, document, g.language)
    metrics.record_assessments([body["recommendation"]])
    record_decision(loaded, body, document, g.started)
    if challenger is not None:
        body["comparison"] = comparison(loaded, body, challenger, document, g.language)
    return body, 200, {"Content-Language": g.language}


@blueprint.post("/assess/batch")
@sparse(project_batch)
def assess_batch() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Assess many profiles at once: a result per item, in order; one bad item never fails the others."""
    loaded = _registry().get(request.args.get("model"))
    document = json_object(request, current_app.config["MAX_JSON_DEPTH"])
    profiles = document.get("profiles")
    extra = sorted(set(document) - {"profiles"})
    if not isinstance(profiles, list) or extra:
        errors = [{"pointer": "/profiles", "detail": "Must be a list of profiles."}] if not isinstance(
            profiles, list) else []
        errors += [{"pointer": f"/{name}", "detail": "Unknown field."} for name in extra]
        raise Problem(422, "The body must be {\"profiles\": [...]}.", errors)
    limit = current_app.config["MAX_BATCH"]
    if len(profiles) > limit:
        raise Problem(413, f"The batch has {len(profiles)} profiles; the limit is {limit}. Split it.")
    results: list[dict[str, Any]] = []
    for index, profile in enumerate(profiles):
        started = time.perf_counter()
        try:
            if not isinstance(profile, dict):
                raise Problem(422, "The profile must be a JSON object.",
                              [{"pointer": f"/profiles/{index}", "detail": "Must be an object."}])
            assessment = assess_document(loaded, profile, g.language, "profiles", index)
            record_decision(loaded, assessment, profile, started)
            results.append({"index": index, "status": 200, "assessment": assessment})
        except Problem as problem:
            results.append({"index": index, "status": problem.status,
                            "problem": problem_body(problem.status, problem.detail, problem.errors)})
    recommendations = [r["assessment"]["recommendation"] for r in results if r["status"] == 200]
    metrics.record_assessments(recommendations)
    tally = Counter(recommendations)
    counts = {strategy: tally[strategy] for strategy in STRATEGIES} | {"invalid": len(results) - len(recommendations)}
    body = {"results": results, "counts": counts,
            "model": {"id": loaded.model.id, "version": loaded.model.version}}
    return body, 200, {"Content-Language": g.language}
