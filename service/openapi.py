"""The OpenAPI 3.0 document, generated from the schemas and the views' docstrings.

`flask --app service openapi > openapi.yaml` writes the committed copy; a test fails when it differs.
"""

from __future__ import annotations

from typing import Any

import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from service import rows
from service.fields import FIELDS
from service.schemas import responses
from service.schemas.profile import batch_schema
from service.schemas.responses import assessment_body
from service.scoring import LANGUAGES, assess

TITLE = "Strategy-scoring service"
VERSION = "1.0.0"
DESCRIPTION = (
    "Tells a business which sales strategy fits it: `relational`, `transactional` or `hybrid`, with the numbers, "
    "a rationale a salesperson can read (in {languages}, by `Accept-Language`), the single changes that would "
    "flip the answer, and a playbook. Every weight and sentence comes from a versioned model file whose sources "
    "are sections of one seed article. Errors are RFC 9457 problem details, in the same language."
)
EXAMPLE_PROFILE = {
    "segment": "b2b", "sales_goal": "balanced", "product_complexity": "high", "purchase_cycle": "medium",
    "customer_expectation": "balanced", "price_level": "high", "team_relationship_skills": "medium",
    "crm_maturity": "basic", "external_id": "crm-0042", "industry": "Industrial equipment",
}
EXAMPLE_CSV = ("external_id,segment,sales_goal,product_complexity,purchase_cycle,customer_expectation,retention_rate\n"
               "crm-0042,b2b,balanced,high,medium,balanced,0.8\n")
EXAMPLE_ASSESSMENT_ID = "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b"

PROBLEMS = {
    400: "The body is not JSON: malformed, invalid UTF-8, NaN or Infinity, too deep, or not an object.",
    401: "API keys are configured and the request has none or a wrong one (WWW-Authenticate is set).",
    404: "No such path, or no such model (?model= or ?compare=).",
    405: "The path does not take this method.",
    413: "The body is over the configured size limit, or a batch over the configured number of profiles.",
    415: "The Content-Type is not JSON.",
    422: "The JSON is well formed but the profile is not valid: every bad field is listed with a JSON pointer "
         "(or ?fields= names an unknown field).",
    500: "An unexpected fault: a generic problem naming the request id.",
}

# the stream's own: problems with single rows are lines (or cells) of its answer, never a failed response
STREAM_PROBLEMS = {
    400: "The CSV header row is not valid UTF-8.",
    413: "The CSV header row is over the per-row size limit.",
    415: "The Content-Type is neither application/x-ndjson nor text/csv.",
    422: "?fields= names an unknown field, or the CSV header row an unknown or repeated column.",
}

# a schema is registered before any schema that nests it, so that it keeps its name
OUTPUT_SCHEMAS = {
    "Problem": responses.ProblemSchema,
    "Assessment": responses.AssessmentSchema,
    "Criteria": responses.CriteriaSchema,
    "Health": responses.HealthSchema,
    "Readiness": responses.ReadinessSchema,
    "Batch": responses.BatchSchema,
}


# needed only when keys are configured, hence the empty alternative
API_KEY = [{"apiKey": []}, {}]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _headers(*names: str) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in ("X-Request-ID", *names)}


def _problems(*statuses: int) -> dict[int, Any]:
    return {
        status: {"description": PROBLEMS[status], "headers": _headers("Content-Language"),
                 "content": {"application/problem+json": {"schema": _ref("Problem")}}}
        for status in statuses
    }


def _sparse_answers(spec: APISpec) -> None:
    """?fields= cuts an assessment to some of its members: answers and batch items may hold such a sparse one."""
    schemas = spec.components.schemas
    sparse = {key: value for key, value in schemas["Assessment"].items() if key != "required"}
    sparse["properties"] = {**sparse["properties"], "comparison": _ref("SparseComparison")}
    comparison = {**schemas["Comparison"]}
    comparison["properties"] = {**comparison["properties"], "assessment": _ref("AssessmentAnswer")}
    spec.components.schema("SparseAssessment", {
        **sparse, "minProperties": 1, "description": "An assessment cut to the members ?fields= names."})
    spec.components.schema("SparseComparison", comparison)
    spec.components.schema("AssessmentAnswer", {"anyOf": [_ref("Assessment"), _ref("SparseAssessment")]})
    schemas["BatchItem"]["properties"]["assessment"]["allOf"] = [_ref("AssessmentAnswer")]
    # a stream's row can fail as a request would (unreadable 400, too long 413, broken 500), not only as a profile
    row = {**schemas["BatchItem"], "properties": {**schemas["BatchItem"]["properties"], "status": {
        "type": "integer", "description": "200 with `assessment`, or the row's problem status (400, 413, 422, 500)."}}}
    spec.components.schema("StreamItem", row)


def build_spec(app: Flask) -> dict[str, Any]:
    registry = app.extensions["models"]
    loaded = registry.get(None)
    views = app.view_functions
    example = assessment_body(assess(loaded.model, EXAMPLE_PROFILE), EXAMPLE_PROFILE, LANGUAGES[0],
                              EXAMPLE_ASSESSMENT_ID, plain=True)
    languages = ", ".join(LANGUAGES)
    models = sorted(registry.models)

    spec = APISpec(title=TITLE, version=VERSION, openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
                   info={"description": DESCRIPTION.format(languages=languages)})
    profile = type(loaded.profile_schema)
    spec.components.schema("Profile", schema=profile)
    spec.components.schema("BatchRequest", schema=batch_schema(app.config["MAX_BATCH"]))
    for name, schema in OUTPUT_SCHEMAS.items():
        spec.components.schema(name, schema=schema)
    _sparse_answers(spec)
    spec.components.header("X-Request-ID", {
        "description": "The caller's request id when it sent a sane one ([A-Za-z0-9._:-]{1,128}), else a new one.",
        "schema": {"type": "string"}})
    spec.components.header("Content-Language", {"description": f"The language of the text: one of {languages}.",
                                                "schema": {"type": "string", "enum": list(LANGUAGES)}})
    spec.components.parameter("Accept-Language", "header", {
        "description": f"One of {languages} (default {LANGUAGES[0]}); the text follows it, no number does.",
        "schema": {"type": "string"}, "required": False})
    spec.components.security_scheme("apiKey", {
        "type": "http", "scheme": "bearer",
        "description": "Needed only when the service is configured with API keys (STRATEGY_API_KEYS)."})
    spec.components.security_scheme("metricsToken", {
        "type": "http", "scheme": "bearer",
        "description": "Needed only when the service is configured with STRATEGY_METRICS_TOKEN."})
    spec.components.parameter("compare", "query", {
        "description": "A second model (id@version) to assess the same profile with, side by side in `comparison`: "
                       "shadow evaluation that never changes the answer.",
        "schema": {"type": "string", "enum": models}, "required": False})
    spec.components.parameter("fields", "query", {
        "description": f"Only these members of each assessment, comma-separated (e.g. recommendation,scores,confidence)"
                       f": any of {', '.join(FIELDS)}; an unknown name is a 422. With ?compare= the comparison stays, "
                       f"its assessment cut the same way. For a CSV answer of /assess/stream, the column groups "
                       f"{', '.join(rows.CSV_FIELDS)} (rationale: the top factors; counterfactuals: the first).",
        "schema": {"type": "array", "items": {"type": "string", "enum": list(FIELDS)}, "minItems": 1},
        "style": "form", "explode": False, "example": ["recommendation", "scores", "confidence"], "required": False})
    spec.components.parameter("model", "query", {
        "description": f"The model to answer with, as id@version; default {registry.default}. Any other is a 404.",
        "schema": {"type": "string", "enum": models, "example": registry.default}, "required": False})

    def operation(view: str, responses: dict[int, Any], **extra: Any) -> dict[str, Any]:
        return {"operationId": view.split(".")[-1], "summary": (views[view].__doc__ or "").strip(),
                "responses": responses, **extra}

    def ok(schema: str, *headers: str, **content: Any) -> dict[str, Any]:
        return {"description": "OK", "headers": _headers(*headers),
                "content": {"application/json": {"schema": _ref(schema), **content}}}

    spec.path("/assess", operations={"post": operation(
        "assessments.assess_profile",
        {200: ok("AssessmentAnswer", "Content-Language", example=example),
         **_problems(400, 401, 404, 413, 415, 422, 500)},
        tags=["assessments"], security=API_KEY,
        parameters=["Accept-Language", "model", "compare", "fields"],
        requestBody={"required": True, "content": {"application/json": {
            "schema": _ref("Profile"), "example": EXAMPLE_PROFILE}}},
    )})
    spec.path("/assess/batch", operations={"post": operation(
        "assessments.assess_batch",
        {200: ok("Batch", "Content-Language"), **_problems(400, 401, 404, 413, 415, 422, 500)},
        tags=["assessments"], security=API_KEY,
        parameters=["Accept-Language", "model", "fields"],
        requestBody={"required": True, "content": {"application/json": {
            "schema": _ref("BatchRequest"), "example": {"profiles": [EXAMPLE_PROFILE]}}}},
    )})
    spec.path("/assess/stream", operations={"post": operation(
        "stream.assess_stream",
        {200: {"description": "A result per row, in order, streamed as computed: in JSON lines a batch item per line "
                              "(index, status, then assessment or problem); in CSV the input columns, then the "
                              "assessment's, then `error`. Accept may ask for the other format.",
               "headers": _headers("Content-Language"),
               "content": {rows.NDJSON: {"schema": _ref("StreamItem")}, rows.CSV: {"schema": {"type": "string"}}}},
         **_problems(401, 404, 500),
         **{status: {**_problems(status)[status], "description": text} for status, text in STREAM_PROBLEMS.items()}},
        tags=["assessments"], security=API_KEY,
        parameters=["Accept-Language", "model", "compare", "fields"],
        requestBody={"required": True, "content": {
            rows.NDJSON: {"schema": _ref("Profile"), "example": EXAMPLE_PROFILE},
            rows.CSV: {"schema": {"type": "string"}, "example": EXAMPLE_CSV}}},
    )})
    spec.path("/criteria", operations={"get": operation(
        "criteria.list_criteria", {200: ok("Criteria", "Content-Language"), **_problems(401, 404, 500)},
        tags=["model"], security=API_KEY,
        parameters=["Accept-Language", "model"],
    )})
    spec.path("/healthz", operations={"get": operation(
        "operations.healthz", {200: ok("Health")}, tags=["operations"])})
    spec.path("/readyz", operations={"get": operation(
        "operations.readyz",
        {200: ok("Readiness"), 503: {**ok("Readiness"), "description": "No model is loaded."}},
        tags=["operations"])})
    spec.path("/metrics", operations={"get": operation(
        "operations.prometheus_metrics",
        {200: {"description": "Prometheus text exposition format.", "headers": _headers(),
               "content": {"text/plain": {"schema": {"type": "string"}}}}, **_problems(401)},
        tags=["operations"], security=[{"metricsToken": []}, {}])})
    spec.path("/openapi.yaml", operations={"get": operation(
        "operations.openapi_document",
        {200: {"description": "This document.", "headers": _headers(),
               "content": {"application/yaml": {"schema": {"type": "object"}}}}},
        tags=["operations"])})
    return spec.to_dict()


def openapi_yaml(app: Flask) -> str:
    """The document as YAML, made once per app (it depends only on the app's models and settings)."""
    if "openapi_yaml" not in app.extensions:
        app.extensions["openapi_yaml"] = yaml.safe_dump(build_spec(app), sort_keys=False, allow_unicode=True,
                                                        width=110)
    return app.extensions["openapi_yaml"]
