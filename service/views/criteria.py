"""The model behind the answers: criteria, weights, options, leans, labels and sources."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, request

from service.scoring import describe

blueprint = Blueprint("criteria", __name__)


@blueprint.get("/criteria")
def list_criteria() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Describe the model: every criterion with its weight, options, leans, labels and seed section."""
    loaded = current_app.extensions["models"].get(request.args.get("model"))
    return describe(loaded.model, g.language), 200, {"Content-Language": g.language}
