"""Assessments: a profile in, a recommendation with its reasons out."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, current_app, g, request
from marshmallow import ValidationError

from service import metrics
from service.errors import Problem
from service.registry import LoadedModel, ModelRegistry
from service.request_body import json_object
from service.scoring import assess, render
from service.validation import field_errors, invalid_fields_detail, pointers

blueprint = Blueprint("assessments", __name__)


def _registry() -> ModelRegistry:
    return current_app.extensions["models"]


def assessment_body(loaded: LoadedModel, profile: dict[str, Any], language: str) -> dict[str, Any]:
    assessment = assess(loaded.model, profile)
    return {
        "assessment_id": str(uuid.uuid4()),
        "external_id": profile.get("external_id"),
        "industry": profile.get("industry"),
        **render(assessment, language),
    }


@blueprint.post("/assess")
def assess_profile() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Assess one business profile: the strategy that fits it, why, what would change it, and how to act."""
    loaded = _registry().get(request.args.get("model"))
    document = json_object(request, current_app.config["MAX_JSON_DEPTH"])
    try:
        profile = loaded.profile_schema.load(document)
    except ValidationError as error:
        paths = [path for path, _ in field_errors(error.messages)]
        metrics.record_validation_failures((str(path[0]) for path in paths if path), loaded.fields)
        raise Problem(422, invalid_fields_detail(len(paths)), pointers(error.messages)) from None
    body = assessment_body(loaded, profile, g.language)
    metrics.record_assessments([body["recommendation"]])
    return body, 200, {"Content-Language": g.language}
