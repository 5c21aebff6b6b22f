"""openapi.yaml cannot drift from the code: it is generated from the schemas, and must equal what they generate."""

from __future__ import annotations

import json

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from service.openapi import EXAMPLE_PROFILE, openapi_yaml
from tests.support.spec import OPENAPI_FILE, check_response, spec


def test_the_committed_document_is_what_the_code_generates(app: Flask) -> None:
    assert OPENAPI_FILE.read_text(encoding="utf-8") == openapi_yaml(app), (
        "openapi.yaml is stale: run `flask --app service openapi > openapi.yaml`")


def test_the_document_is_valid_openapi_3_0() -> None:
    document = spec()
    assert document["openapi"].startswith("3.0.")
    validate(document)


def test_the_service_serves_the_document(client: FlaskClient) -> None:
    response = client.get("/openapi.yaml")
    assert response.status_code == 200
    assert yaml.safe_load(response.get_data(as_text=True)) == spec()


def test_the_examples_are_valid(app: Flask) -> None:
    operation = spec()["paths"]["/assess"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["example"] == EXAMPLE_PROFILE
    app.extensions["models"].get(None).profile_schema.load(EXAMPLE_PROFILE)
    example = operation["responses"]["200"]["content"]["application/json"]["example"]
    check_response("POST", "/assess", 200, "application/json", json.dumps(example).encode())
    assert example["counterfactuals"], "the example should show what would change the answer"


# pages for people, not API: documented in the README, not in openapi.yaml
PAGE_BLUEPRINTS = ("docs.", "playground.", "static")


def test_every_route_of_the_app_is_documented(app: Flask) -> None:
    documented = {(path, method.upper()) for path, item in spec()["paths"].items() for method in item}
    served = {(rule.rule, method) for rule in app.url_map.iter_rules() if not rule.endpoint.startswith(PAGE_BLUEPRINTS)
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == documented


def test_the_response_check_catches_what_breaks_the_document() -> None:
    good = {"status": "ok"}
    check_response("GET", "/healthz", 200, "application/json", json.dumps(good).encode())
    for method, path, status, content_type, body in (
        ("GET", "/healthz", 200, "application/json", {"status": 1}),
        ("GET", "/healthz", 200, "application/json", {"status": "ok", "extra": True}),
        ("GET", "/healthz", 201, "application/json", good),
        ("GET", "/healthz", 200, "text/html", good),
        ("GET", "/nowhere", 200, "application/json", good),
        ("POST", "/assess", 422, "application/problem+json", {"status": 422}),
    ):
        with pytest.raises(AssertionError):
            check_response(method, path, status, content_type, json.dumps(body).encode())
