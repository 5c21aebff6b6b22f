"""What operators and platforms ask of the service: liveness, readiness, metrics and the API contract."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app

from service import metrics, model_reload
from service.openapi import openapi_yaml

blueprint = Blueprint("operations", __name__)


@blueprint.get("/healthz")
def healthz() -> dict[str, Any]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@blueprint.get("/readyz")
def readyz() -> tuple[dict[str, Any], int]:
    """Readiness: a valid model is loaded (503 while none is)."""
    registry = current_app.extensions.get("models")
    if registry is None or not registry.models:
        return {"status": "not ready", "models": [], "default_model": None}, 503
    # a refused reload leaves the service ready (it serves the last good models) and says so here
    return {"status": "ready", "models": sorted(registry.models), "default_model": registry.default,
            "last_reload": model_reload.last_reload()}, 200


@blueprint.get("/metrics")
def prometheus_metrics() -> Response:
    """Prometheus text format, summed over every gunicorn worker."""
    return Response(metrics.exposition(), content_type=metrics.CONTENT_TYPE)


@blueprint.get("/openapi.yaml")
def openapi_document() -> Response:
    """This API's OpenAPI 3.0 document."""
    return Response(openapi_yaml(current_app), mimetype="application/yaml")
