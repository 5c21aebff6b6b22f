"""Fuzzing: schemathesis sends valid and invalid requests generated from openapi.yaml; every answer must be one
the document describes (status, content type, body, headers) and none may be a 5xx. Then the examples it (or a
look at what it cannot generate) found, as plain regression tests."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
import schemathesis
import yaml
from flask.testing import FlaskClient
from openapi_schema_validator import OAS30Validator
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from service import create_app
from tests.support.models import REFERENCE_PROFILES
from tests.support.servers import Server
from tests.support.spec import OPENAPI_FILE, spec

SEED = 20240501
VALID = REFERENCE_PROFILES["minimal_required_only_b2b"]["profile"]

# (run, operation, generation mode, status) of every generated request, to prove both kinds were sent
TALLY: Counter[tuple[str, str, str, int]] = Counter()


def load_schema(max_examples: int) -> Any:
    """The committed openapi.yaml, with positive and negative data, every check (schemathesis's default) and a
    fixed seed, derandomized and without an example database, so that a CI run is the same every time.

    From the file rather than from_wsgi/from_url: those skip the operation that served the document, so
    GET /openapi.yaml would go unfuzzed (tests/test_openapi.py holds the file equal to what the app serves).
    `?model=` and `?compare=` name only the default model, whose profile the document's Profile is: a random
    string is a 404 before the body is read, and it was most of what the budget was spent on.
    """
    document = yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))
    parameters = document["components"]["parameters"]
    for name in ("model", "compare"):
        parameters[name]["schema"]["enum"] = [parameters["model"]["schema"]["example"]]
    schema = schemathesis.openapi.from_dict(document)
    schema.config.seed = SEED
    schema.config.generation.update(modes=list(GenerationMode), max_examples=max_examples, deterministic=True,
                                    database="none")
    return schema


def profile_errors(item: Any) -> list[str]:
    root = {"allOf": [{"$ref": "#/components/schemas/Profile"}], "components": spec()["components"]}
    return [error.message for error in OAS30Validator(root).iter_errors(item)]


@schemathesis.serializer("application/x-ndjson")
def ndjson_serializer(ctx: Any, value: Any) -> bytes:
    """The stream's JSON lines: one generated document, one line."""
    return json.dumps(value).encode() + b"\n"


def check_stream_rows(case: schemathesis.Case, response: Any) -> None:
    """The stream answers each row on its own, like the batch: a 200 JSON-lines answer has one result for the line
    sent, 422 when openapi.yaml's Profile rejects it (400 when it is not even an object). Generated CSV text is
    mostly not a header row of field names, which is a 422 for the whole stream: also by design."""
    if response.status_code != 200 or not response.headers.get("Content-Type", "").startswith("application/x-ndjson"):
        return
    results = [json.loads(line) for line in response.text.splitlines()]
    assert [result["index"] for result in results] == [0], results
    errors = profile_errors(case.body) if isinstance(case.body, dict) else ["not an object"]
    assert (results[0]["status"] == 200) == (not errors), f"{errors[:1]} {json.dumps(case.body)[:300]}: {results}"


def call_and_check(run: str, case: schemathesis.Case, **kwargs: Any) -> None:
    """Every check, for every operation but the stream: openapi.yaml says what the service does. The stream answers
    each row on its own (a bad row is a problem line inside a 200) and takes CSV, which generated text rarely is."""
    if case.operation.label == "POST /assess/stream":
        response = case.call_and_validate(excluded_checks=[negative_data_rejection, positive_data_acceptance],
                                          **kwargs)
        check_stream_rows(case, response)
    else:
        response = case.call_and_validate(**kwargs)
    mode = case.meta.generation.mode.value if case.meta else "explicit"
    TALLY[run, case.operation.label, mode, response.status_code] += 1


wsgi_schema = load_schema(max_examples=40)
wsgi_schema.app = create_app()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give each generated test a parameter, its transport: schemathesis names a test by its operation
    (`[POST /assess]`), but pytest 9.2 builds node ids from the function's name and its parameters only, so
    without one all seven operations of a test shared one id. With it: `...[POST /assess][wsgi]`."""
    if "transport" in metafunc.fixturenames:
        transport = "http" if "server" in metafunc.fixturenames else "wsgi"
        metafunc.parametrize("transport", [transport], ids=[transport])


@wsgi_schema.parametrize()
def test_the_app_answers_every_generated_request_as_documented(case: schemathesis.Case, transport: str) -> None:
    call_and_check(transport, case)


# A smaller budget over real HTTP, through gunicorn. Not schemathesis.pytest.from_fixture: its lazy tests break on
# pytest 9.2 (they read `request.node._nodeid`, which is gone), so the base URL comes with each call instead.
http_schema = load_schema(max_examples=10)


@http_schema.parametrize()
def test_the_real_server_answers_every_generated_request_as_documented(case: schemathesis.Case, server: Server,
                                                                       transport: str) -> None:
    call_and_check(transport, case, base_url=server.url, timeout=30)


def test_the_fuzzing_sent_both_valid_and_invalid_profiles() -> None:
    """Guards the set-up above: a mistake there (say, every request a 415) would make the fuzzing vacuous."""
    if not TALLY:
        pytest.skip("counts what the fuzzing tests above sent; run them in the same session")
    for run in {run for run, *_ in TALLY}:
        statuses = {(mode, status) for r, label, mode, status in TALLY if r == run and label == "POST /assess"}
        assert ("positive", 200) in statuses, (run, statuses)
        assert ("negative", 422) in statuses, (run, statuses)


# --- regression tests: the concrete requests behind what the fuzzing found ---


def test_a_batch_with_an_unknown_member_in_an_item_answers_that_item_alone(production_client: FlaskClient) -> None:
    """schemathesis's first find (ST201 on POST /assess/batch): an item the Profile schema rejects does not fail the
    batch. That is the design, and openapi.yaml now says so (a batch item may be anything; one that is not a Profile
    is a 422 inside the 200), so schemathesis runs every check on the batch too."""
    body = {"profiles": [{**VALID, "x-schemathesis-unknown-property": 42}, VALID]}
    response = production_client.post("/assess/batch", json=body)
    assert response.status_code == 200
    first, second = response.get_json()["results"]
    assert first["status"] == 422
    assert first["problem"]["errors"] == [{"pointer": "/profiles/0/x-schemathesis-unknown-property",
                                           "detail": "Unknown field."}]
    assert second["status"] == 200


def test_the_served_document_is_what_its_own_response_schema_says(production_client: FlaskClient) -> None:
    """schemathesis's second find (ST108 on GET /openapi.yaml): openapi.yaml declares its own 200 body, as
    application/yaml, to be `type: string`, but a YAML document parses to a mapping (schemathesis parses YAML
    bodies as any OpenAPI tool does). tests/spec_validation.py never looks inside non-JSON bodies, so only the
    fuzzing saw it. Fix: `{"type": "object"}` for application/yaml in service/openapi.py."""
    response = production_client.get("/openapi.yaml")
    assert response.status_code == 200
    declared = spec()["paths"]["/openapi.yaml"]["get"]["responses"]["200"]["content"]["application/yaml"]["schema"]
    document = yaml.safe_load(response.get_data(as_text=True))
    errors = [error.message[:120] for error in OAS30Validator(declared).iter_errors(document)]
    assert not errors, errors


# Found by hand, because hypothesis never generates them: JSON's \uXXXX escapes can spell a lone UTF-16 surrogate,
# which Python's json module turns into a str that no UTF-8 encoder accepts (RFC 8259 §8.2 leaves it undefined,
# I-JSON, RFC 7493, forbids it). Echoed back (external_id, industry) or named in a problem (an unknown member),
# orjson refuses to encode it and the caller gets a 500.
LONE_SURROGATES = {
    "external_id": ("/assess", json.dumps(VALID)[:-1] + ', "external_id": "crm-\\ud800"}'),
    "industry": ("/assess", json.dumps(VALID)[:-1] + ', "industry": "\\udfff"}'),
    "unknown member's name": ("/assess", json.dumps(VALID)[:-1] + ', "colour\\ud83d": 1}'),
    "batch item's external_id": ("/assess/batch",
                                 '{"profiles": [' + json.dumps(VALID)[:-1] + ', "external_id": "\\ud800"}]}'),
    "batch envelope member": ("/assess/batch", '{"profiles": [], "\\ud800": 1}'),
}


@pytest.mark.parametrize("name", LONE_SURROGATES)
def test_a_lone_surrogate_in_a_string_is_a_client_error_not_a_500(production_client: FlaskClient,
                                                                   name: str) -> None:
    path, body = LONE_SURROGATES[name]
    response = production_client.post(path, data=body.encode(), content_type="application/json")
    assert response.status_code in (400, 422), response.get_data(as_text=True)[:300]
    assert response.content_type == "application/problem+json"
