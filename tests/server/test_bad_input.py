"""Contract §6 over real HTTP to gunicorn: every kind of bad input is a clear problem+json, never a 500,
and no worker goes down."""

from __future__ import annotations

import json

import pytest
import requests

from tests.support.models import REFERENCE_PROFILES
from tests.support.servers import Server

VALID = REFERENCE_PROFILES["minimal_required_only_b2b"]["profile"]
JSON = "application/json"

# name -> (body, content type, status, words the detail must contain)
NOT_JSON = {
    "malformed": (b'{"segment": "b2b",', JSON, 400, "not valid JSON"),
    "trailing data": (b'{"segment": "b2b"} {}', JSON, 400, "not valid JSON"),
    "invalid UTF-8": (b'{"segment": "\xff\xfe"}', JSON, 400, "UTF-8"),
    "NaN": (b'{"retention_rate": NaN}', JSON, 400, "NaN"),
    "Infinity": (b'{"retention_rate": Infinity}', JSON, 400, "Infinity"),
    "-Infinity": (b'{"retention_rate": -Infinity}', JSON, 400, "Infinity"),
    "overflowing float": (b'{"retention_rate": 1e400}', JSON, 400, "out of range"),
    "5,000-digit integer": (b'{"retention_rate": ' + b"9" * 5000 + b"}", JSON, 400, "not valid JSON"),
    "deep nesting": (b"[" * 7000 + b"]" * 7000, JSON, 400, "nested too deeply"),
    "deep objects": (b'{"a":' * 50 + b"1" + b"}" * 50, JSON, 400, "nested too deeply"),
    "duplicate member": (b'{"segment": "b2b", "segment": "b2c"}', JSON, 400, "appears twice"),
    "top-level array": (b"[]", JSON, 400, "not an array"),
    "top-level string": (b'"b2b"', JSON, 400, "not a string"),
    "top-level null": (b"null", JSON, 400, "not null"),
    "top-level number": (b"42", JSON, 400, "not a number"),
    "empty body": (b"", JSON, 400, "not valid JSON"),
    "text/plain": (json.dumps(VALID).encode(), "text/plain", 415, "Content-Type"),
    "form": (b"segment=b2b", "application/x-www-form-urlencoded", 415, "Content-Type"),
    "over the size limit": (b'{"industry": "' + b"x" * (3 * 1024 * 1024) + b'"}', JSON, 413, "over the limit"),
}

# name -> (profile, {pointer: words of its detail})
INVALID_PROFILES = {
    "unknown option": ({**VALID, "purchase_cycle": "eternal"}, {"/purchase_cycle": "Must be one of"}),
    "unknown field": ({**VALID, "colour": "red"}, {"/colour": "Unknown field"}),
    "field name with / and ~": ({**VALID, "a/b~c": 1}, {"/a~1b~0c": "Unknown field"}),
    "missing required": ({"segment": "b2b"}, {"/sales_goal": "Missing data", "/customer_expectation": "Missing"}),
    "null required": ({**VALID, "segment": None}, {"/segment": "may not be null"}),
    "number for an option": ({**VALID, "segment": 3}, {"/segment": "Not a valid string"}),
    "string for a number": ({**VALID, "retention_rate": "0.5"}, {"/retention_rate": "Not a valid number"}),
    "boolean for a number": ({**VALID, "retention_rate": True}, {"/retention_rate": "Not a valid number"}),
    "number out of range": ({**VALID, "retention_rate": 1.5}, {"/retention_rate": "less than or equal to 1"}),
    "huge integer": ({**VALID, "retention_rate": 10**400}, {"/retention_rate": "too large"}),
    "over-long external_id": ({**VALID, "external_id": "x" * 129}, {"/external_id": "Longer than maximum"}),
    "object for an option": ({**VALID, "segment": {"b2b": True}}, {"/segment": "Not a valid string"}),
}


@pytest.mark.parametrize("path", ["/assess", "/assess/batch"])
@pytest.mark.parametrize("case", NOT_JSON, ids=list(NOT_JSON))
def test_a_body_that_is_not_a_json_object(server: Server, case: str, path: str) -> None:
    body, content_type, status, words = NOT_JSON[case]
    response = server.post(path, data=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["instance"] == path
    assert words in problem["detail"]
    assert problem["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize("case", INVALID_PROFILES, ids=list(INVALID_PROFILES))
def test_an_invalid_profile_names_every_bad_field(server: Server, case: str) -> None:
    profile, expected = INVALID_PROFILES[case]
    response = server.post("/assess", data=json.dumps(profile), headers={"Content-Type": JSON})
    assert response.status_code == 422
    problem = response.json()
    assert problem["title"] == "Unprocessable Content"
    found = {error["pointer"]: error["detail"] for error in problem["errors"]}
    for pointer, words in expected.items():
        assert words in found.get(pointer, ""), (pointer, found)
    assert problem["detail"].startswith(f"The profile has {len(found)} invalid field")


def test_wrong_path_and_method_are_problems_too(server: Server) -> None:
    missing = server.get("/no/such/path")
    assert missing.status_code == 404 and missing.json()["title"] == "Not Found"
    wrong = server.request("DELETE", "/assess")
    assert wrong.status_code == 405 and "POST" in wrong.headers["Allow"]


def test_no_bad_input_took_a_worker_down(server: Server) -> None:
    workers = server.worker_pids()
    for body, content_type, _, _ in NOT_JSON.values():
        server.post("/assess", data=body, headers={"Content-Type": content_type})
    assert server.worker_pids() == workers
    assert server.post("/assess", json=VALID).status_code == 200
    assert b" 500 " not in server.log.read_bytes()


@pytest.mark.parametrize(("what", "headers", "path"), [
    ("a header over 8190 bytes", {"X-Big": "x" * 9000}, "/healthz"),
    ("over 100 header fields", {f"X-Field-{i}": "1" for i in range(120)}, "/healthz"),
    ("a request line over 4094 bytes", {}, "/healthz?" + "q" * 5000),
])
def test_gunicorn_refuses_oversized_headers_itself(server: Server, what: str, headers: dict[str, str],
                                                   path: str) -> None:
    workers = server.worker_pids()
    # gunicorn answers these before the app sees them (plain text, not in openapi.yaml), so no spec check here
    response = requests.get(server.url + path, headers=headers, timeout=30)
    assert response.status_code in (400, 414, 431), what
    assert server.worker_pids() == workers
    assert server.get("/healthz").status_code == 200
