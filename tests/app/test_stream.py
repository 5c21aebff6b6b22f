"""POST /assess/stream in-process: JSON lines and CSV in, a result per row out in order, each what /assess gives.

The spec-checking client validates a response body as one JSON document, which JSON lines are not; the stream's
answers are checked here line by line against the schema openapi.yaml gives application/x-ndjson (a helper of this
module, not of tests/support, which this work leaves alone).
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_schema_validator import OAS30Validator

from service import create_app, rows
from service.scoring import Model
from tests.support.models import REFERENCE_PROFILES, model_document, model_folder
from tests.support.spec import check_response, spec

PROFILES = [case["profile"] for case in REFERENCE_PROFILES.values()]
NDJSON = "application/x-ndjson"


def random_profiles(model: Model, count: int, seed: int = 14) -> list[dict[str, Any]]:
    chance = random.Random(seed)
    profiles = []
    for n in range(count):
        profile: dict[str, Any] = {"external_id": f"crm-{n}"}
        for criterion in model.criteria:
            if criterion.required or chance.random() < 0.6:
                profile[criterion.name] = (round(chance.random(), 2) if criterion.number is not None
                                           else chance.choice(criterion.options).value)
        profiles.append(profile)
    return profiles


def jsonl(*documents: Any) -> bytes:
    return b"".join(json.dumps(document).encode() + b"\n" for document in documents)


def as_csv(profiles: list[dict[str, Any]], columns: list[str], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([["" if p.get(c) is None else p[c] for c in columns] for p in profiles])
    return buffer.getvalue().encode()


def check_lines(body: bytes) -> list[dict[str, Any]]:
    """Each line of a JSON-lines answer parsed and validated against openapi.yaml's schema for such a line."""
    document = spec()
    schema = document["paths"]["/assess/stream"]["post"]["responses"]["200"]["content"][NDJSON]["schema"]
    validator = OAS30Validator({"allOf": [schema], "components": document["components"]})
    assert body.endswith(b"\n") or not body
    items = [json.loads(line) for line in body.decode().splitlines()]
    for item in items:
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(item)]
        assert not errors, errors[:3]
    return items


def stream(app: Flask, body: bytes, content_type: str = NDJSON, query: str = "", **headers: str) -> Any:
    """POST /assess/stream with a plain client (its body is no one JSON document); status and media type checked."""
    client = FlaskClient(app, app.response_class, use_cookies=False)
    response = client.post(f"/assess/stream{query}", data=body, content_type=content_type, headers=headers)
    if response.mimetype == NDJSON:  # its lines are checked by check_lines; here that openapi.yaml lists it
        assert NDJSON in spec()["paths"]["/assess/stream"]["post"]["responses"][str(response.status_code)]["content"]
    else:
        check_response("POST", "/assess/stream", response.status_code, response.content_type, response.get_data())
    return response


def without_id(assessment: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in assessment.items() if key != "assessment_id"}


@pytest.mark.parametrize("language", ["en", "pl"])
def test_each_line_is_what_assess_gives_in_input_order(make_app: Callable[..., Flask], model: Model,
                                                       language: str) -> None:
    app = make_app(STREAM_CHUNK_ROWS=100)
    client = app.test_client()
    profiles = [*PROFILES, *random_profiles(model, 300)]  # more than three chunks of explain_many
    response = stream(app, jsonl(*profiles), **{"Accept-Language": language})
    assert response.status_code == 200 and response.headers["Content-Language"] == language
    items = check_lines(response.get_data())
    assert [item["index"] for item in items] == list(range(len(profiles)))
    for profile, item in zip(profiles[:40] + profiles[-40:], items[:40] + items[-40:], strict=True):
        single = client.post("/assess", json=profile, headers={"Accept-Language": language}).get_json()
        assert item["status"] == 200 and without_id(item["assessment"]) == without_id(single)


def test_one_bad_line_never_fails_the_others(app: Flask) -> None:
    good = PROFILES[0]
    body = b"".join([
        jsonl(good), b"{not json\n", b"\n   \n", b"[1, 2]\n", jsonl({**good, "segment": "b2x"}),
        b'{"segment": "b2b", "segment": "b2c"}\n', b"\xff\xfe\n", b'{"a": NaN}\n',
        jsonl({**good, "industry": "x" * (rows.MAX_ROW_BYTES + 10)}), jsonl(good),
    ])
    items = check_lines(stream(app, body).get_data())
    assert [(item["index"], item["status"]) for item in items] == [
        (0, 200), (1, 400), (2, 400), (3, 422), (4, 400), (5, 400), (6, 400), (7, 413), (8, 200)]
    assert items[3]["problem"]["errors"] == [{"pointer": "/segment", "detail": "Must be one of: b2c, ecommerce, b2b."}]
    assert "appears twice" in items[4]["problem"]["detail"]
    assert "16384 bytes" in items[7]["problem"]["detail"]
    assert all(item["problem"]["instance"] == "/assess/stream" for item in items if item["status"] != 200)


def test_a_line_without_its_newline_at_the_end_is_a_row_too(app: Flask) -> None:
    items = check_lines(stream(app, jsonl(PROFILES[0]) + json.dumps(PROFILES[1]).encode()).get_data())
    assert [item["status"] for item in items] == [200, 200]


def test_csv_rows_are_assessed_as_the_same_profiles_sent_as_json(app: Flask, client: FlaskClient,
                                                                 model: Model) -> None:
    profiles = random_profiles(model, 300)
    columns = ["external_id", *(c.name for c in model.criteria)]
    response = stream(app, as_csv(profiles, columns), "text/csv", **{"Accept-Language": "pl"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(table) == len(profiles)
    assert list(table[0])[:len(columns)] == columns  # the input columns first, as sent
    for profile, line in zip(profiles[:30], table[:30], strict=True):
        single = client.post("/assess", json=profile, headers={"Accept-Language": "pl"}).get_json()
        assert line["external_id"] == profile["external_id"] and line["error"] == ""
        assert line["recommendation"] == single["recommendation"]
        assert float(line["score_relational"]) == single["scores"]["relational"]
        assert float(line["index"]) == single["index"] and float(line["confidence"]) == single["confidence"]
        assert float(line["coverage"]) == single["coverage"]
        top = single["rationale"]["factors"][0]
        assert line["factor_1"] == f"{top['label']}: {top['value_label']}"  # in Polish: the requested language
        assert float(line["factor_1_contribution"]) == top["contribution"]
        if single["counterfactuals"]:
            assert line["counterfactual_recommendation"] == single["counterfactuals"][0]["recommendation"]
            default = app.extensions["models"].get(None).model  # the one that answered
            assert line["counterfactual"].startswith(default.criterion(single["counterfactuals"][0]["criterion"])
                                                     .label["pl"])


def test_empty_cells_are_unanswered_and_numbers_are_parsed(app: Flask, client: FlaskClient) -> None:
    required = {"segment": "b2b", "sales_goal": "balanced", "product_complexity": "high",
                "purchase_cycle": "long", "customer_expectation": "personalization"}
    header = [*required, "price_level", "retention_rate"]
    body = ("\ufeff" + ";".join(header) + "\n"  # a spreadsheet's byte-order mark, semicolons, a decimal comma
            + ";".join([*required.values(), "", "0,85"]) + "\n"
            + ";".join([*required.values(), "premium", ""]) + "\n"
            + ";".join([*required.values(), "", "lots"]) + "\n").encode()
    response = stream(app, body, "text/csv")
    text = response.get_data(as_text=True)
    assert text.splitlines()[0].startswith(";".join(header) + ";recommendation;")
    table = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    first = client.post("/assess", json={**required, "retention_rate": 0.85}).get_json()
    second = client.post("/assess", json={**required, "price_level": "premium"}).get_json()
    assert float(table[0]["index"]) == first["index"] and table[0]["retention_rate"] == "0,85"
    assert float(table[1]["index"]) == second["index"]
    assert table[2]["recommendation"] == "" and table[2]["error"].startswith("422 ")
    assert "/retention_rate: Not a valid number." in table[2]["error"]


def test_a_csv_header_the_model_does_not_know_is_a_422_naming_the_columns(app: Flask) -> None:
    response = stream(app, b"segment,colour,segment\nb2b,red,b2b\n", "text/csv")
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert {"pointer": "/colour", "detail": "Unknown column."} in errors
    assert {"pointer": "/segment", "detail": "The column appears twice."} in errors


def test_a_csv_row_of_the_wrong_width_or_over_the_limit_is_that_rows_problem(app: Flask) -> None:
    header = "segment,sales_goal,product_complexity,purchase_cycle,customer_expectation,industry\n"
    good = "b2b,balanced,high,long,personalization,\n"
    body = (header + good + "b2b,balanced\n" + good.replace(",\n", "," + "x" * rows.MAX_ROW_BYTES + "\n")
            + '"b2b",balanced,high,long,personalization,"two\nlines"\n' + good).encode()
    table = list(csv.DictReader(io.StringIO(stream(app, body, "text/csv").get_data(as_text=True))))
    assert [line["error"][:3] for line in table] == ["", "422", "413", "", ""]
    assert table[3]["industry"] == "two\nlines"


def test_accept_can_ask_for_the_other_format(app: Flask, model: Model) -> None:
    profiles = random_profiles(model, 20)
    columns = ["external_id", *(c.name for c in model.criteria)]
    items = check_lines(stream(app, as_csv(profiles, columns), "text/csv", Accept=NDJSON).get_data())
    assert [item["assessment"]["external_id"] for item in items] == [p["external_id"] for p in profiles]
    answer = stream(app, jsonl(*profiles), Accept="text/csv")
    table = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [line["external_id"] for line in table] == [p["external_id"] for p in profiles]
    assert [line["recommendation"] for line in table] == [item["assessment"]["recommendation"] for item in items]


def test_fields_cut_each_line_and_each_csv_row(app: Flask) -> None:
    items = check_lines(stream(app, jsonl(*PROFILES), query="?fields=recommendation,scores,confidence").get_data())
    assert all(set(item["assessment"]) == {"recommendation", "scores", "confidence"} for item in items)
    text = stream(app, as_csv(PROFILES, ["segment", "sales_goal", "product_complexity", "purchase_cycle",
                                         "customer_expectation"]), "text/csv",
                  query="?fields=recommendation,counterfactuals").get_data(as_text=True)
    assert text.splitlines()[0].endswith(",recommendation,counterfactual,counterfactual_recommendation,error")
    for query, content_type in (("?fields=recommendation,colour", NDJSON), ("?fields=playbook", "text/csv")):
        response = stream(app, jsonl(*PROFILES), content_type, query=query)
        assert response.status_code == 422
        assert ("colour" if "colour" in query else "playbook") in response.get_json()["detail"]


def test_anything_but_json_lines_or_csv_is_a_415(app: Flask) -> None:
    response = stream(app, json.dumps(PROFILES[0]).encode(), "application/json")
    assert response.status_code == 415 and "text/csv" in response.get_json()["detail"]


def test_the_body_is_read_a_bounded_line_at_a_time(app: Flask, model: Model) -> None:
    """Never the whole body at once: every read the stream makes asks for at most one row's limit."""
    sizes: list[int] = []

    class Recording(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            sizes.append(-1 if size is None else size)
            return super().read(size)

        def readline(self, size: int | None = -1) -> bytes:
            sizes.append(-1 if size is None else size)
            return super().readline(size)

    body = jsonl(*random_profiles(model, 600))
    client = FlaskClient(app, app.response_class, use_cookies=False)
    response = client.post("/assess/stream", input_stream=Recording(body), content_length=len(body),
                           content_type=NDJSON)
    assert len(check_lines(response.get_data())) == 600
    assert len(sizes) > 600 and all(0 < size <= rows.MAX_ROW_BYTES + 1 for size in sizes)


@pytest.fixture
def two_models(tmp_path: Path) -> Flask:
    challenger = model_document()
    challenger["version"] = "1.1.0"
    challenger["threshold"] = 0.4  # a wider hybrid band: some relational and transactional answers become hybrid
    app = create_app({"TESTING": True, "MODEL_DIR": str(model_folder(tmp_path / "models", v1=model_document(),
                                                                     v11=challenger)),
                      "DEFAULT_MODEL": "sales-strategy@1.0.0"})
    return app


def test_compare_gives_each_line_the_second_models_answer(two_models: Flask, model: Model) -> None:
    profiles = random_profiles(model, 300)
    client = two_models.test_client()
    items = check_lines(stream(two_models, jsonl(*profiles), query="?compare=sales-strategy@1.1.0&fields="
                                                                   "recommendation,index").get_data())
    flips = 0
    for profile, item in zip(profiles[:60], items[:60], strict=True):
        comparison = item["assessment"]["comparison"]
        other = client.post("/assess?model=sales-strategy@1.1.0", json=profile).get_json()
        assert comparison["model"] == {"id": "sales-strategy", "version": "1.1.0"}
        assert comparison["assessment"] == {"recommendation": other["recommendation"], "index": other["index"]}
        assert comparison["agrees"] == (other["recommendation"] == item["assessment"]["recommendation"])
        flips += not comparison["agrees"]
    assert flips > 0, "the challenger's wider band should flip some answers"


def test_a_row_that_breaks_the_service_is_a_500_for_that_row_alone(app: Flask, model: Model,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection (no real input is known to break the core): the chunk is retried row by row."""
    real = rows.explain_many

    def breaks_on_crm_7(model: Model, profiles: list[dict[str, Any]]) -> Any:
        if any(profile.get("external_id") == "crm-7" for profile in profiles):
            raise ZeroDivisionError("injected")
        return real(model, profiles)

    monkeypatch.setattr(rows, "explain_many", breaks_on_crm_7)
    items = check_lines(stream(app, jsonl(*random_profiles(model, 100))).get_data())
    assert [item["index"] for item in items] == list(range(100))
    assert [item["index"] for item in items if item["status"] != 200] == [7]
    assert items[7]["status"] == 500 and "request id" in items[7]["problem"]["detail"]
    assert "injected" not in json.dumps(items[7])


def test_the_stream_needs_a_key_when_keys_are_configured_and_the_portfolio_page_does_not() -> None:
    guarded = create_app({"TESTING": True, "API_KEYS": "s3cret-key"})
    client = FlaskClient(guarded, guarded.response_class)
    body = jsonl(PROFILES[0])
    refused = client.post("/assess/stream", data=body, content_type=NDJSON)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == 'Bearer realm="strategy-scoring"'
    allowed = client.post("/assess/stream", data=body, content_type=NDJSON,
                          headers={"Authorization": "Bearer s3cret-key"})
    assert allowed.status_code == 200 and check_lines(allowed.get_data())[0]["status"] == 200
    page = client.get("/portfolio")
    assert page.status_code == 200 and b'src="playground/assets/portfolio.js"' in page.data


def test_chunks_start_short_and_double_up_to_their_size() -> None:
    """A client waiting after a few hundred rows gets their answers; a long stream is assessed 1,000 at a time."""
    made = [rows.Row(index, {}) for index in range(3000)]
    assert [len(chunk) for chunk in rows.chunks(made, 1000)] == [256, 512, 1000, 1000, 232]
    assert [len(chunk) for chunk in rows.chunks(made[:250], 100)] == [100, 100, 50]
    assert [row.index for chunk in rows.chunks(made, 1000) for row in chunk] == list(range(3000))
