"""Problem details in the caller's language (issue 13.7): title, detail and each error's detail, with
Content-Language, for every way a request can go wrong; English stays word for word what it was."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.messages import FIELD_MESSAGES, PARTS, PROBLEMS, TITLES, Message, message_of
from service.scoring import LANGUAGES
from tests.support.models import REFERENCE_PROFILES, ROOT

VALID = REFERENCE_PROFILES["minimal_required_only_b2b"]["profile"]
JSON = "application/json"

# name -> (method, path, body, content type, status)
BAD_REQUESTS: dict[str, tuple[str, str, bytes | None, str | None, int]] = {
    "invalid fields": ("POST", "/assess", json.dumps({**VALID, "segment": "b2x", "colour": 1, "retention_rate": 2,
                                                        "external_id": "x" * 200, "industry": 3}).encode(), JSON, 422),
    "missing and null": ("POST", "/assess", b'{"segment": null, "retention_rate": "0.5"}', JSON, 422),
    "huge number": ("POST", "/assess", json.dumps({**VALID, "retention_rate": 10**400}).encode(), JSON, 422),
    "batch item": ("POST", "/assess/batch", json.dumps({"profiles": [{"segment": "b2x"}]}).encode(), JSON, 200),
    "batch envelope": ("POST", "/assess/batch", b'{"profiles": {}, "extra": 1}', JSON, 422),
    "batch item not an object": ("POST", "/assess/batch", b'{"profiles": [1]}', JSON, 200),
    "malformed": ("POST", "/assess", b'{"segment": "b2b",', JSON, 400),
    "trailing data": ("POST", "/assess", b'{} {}', JSON, 400),
    "invalid UTF-8": ("POST", "/assess", b'{"segment": "\xff"}', JSON, 400),
    "NaN": ("POST", "/assess", b'{"retention_rate": NaN}', JSON, 400),
    "overflowing float": ("POST", "/assess", b'{"retention_rate": 1e400}', JSON, 400),
    "long integer": ("POST", "/assess", b'{"retention_rate": ' + b"9" * 5000 + b"}", JSON, 400),
    "duplicate member": ("POST", "/assess", b'{"segment": "b2b", "segment": "b2c"}', JSON, 400),
    "top-level array": ("POST", "/assess", b"[]", JSON, 400),
    "deep nesting": ("POST", "/assess", b'{"a":' * 50 + b"1" + b"}" * 50, JSON, 400),
    "lone surrogate": ("POST", "/assess", b'{"industry": "\\ud800"}', JSON, 400),
    "not JSON": ("POST", "/assess", b"segment=b2b", "application/x-www-form-urlencoded", 415),
    "unknown model": ("POST", "/assess?model=nope@1", json.dumps(VALID).encode(), JSON, 404),
    "unknown path": ("GET", "/nowhere", None, None, 404),
    "wrong method": ("GET", "/assess", None, None, 405),
}


def send(client: FlaskClient, name: str, language: str) -> Any:
    method, path, body, content_type, status = BAD_REQUESTS[name]
    response = client.open(path, method=method, data=body, content_type=content_type,
                           headers={"Accept-Language": language})
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response


def problems_of(response: Any) -> list[dict[str, Any]]:
    body = response.get_json()
    return [r["problem"] for r in body["results"]] if "results" in body else [body]


def texts(problem: dict[str, Any]) -> list[str]:
    return [problem["title"], problem["detail"], *(error["detail"] for error in problem.get("errors", []))]


@pytest.mark.parametrize("name", BAD_REQUESTS)
def test_every_problem_speaks_the_callers_language(client: FlaskClient, name: str) -> None:
    english, polish = send(client, name, "en"), send(client, name, "pl")
    assert english.headers["Content-Language"] == "en" and polish.headers["Content-Language"] == "pl"
    for en, pl in zip(problems_of(english), problems_of(polish), strict=True):
        assert [e["pointer"] for e in en.get("errors", [])] == [e["pointer"] for e in pl.get("errors", [])]
        assert {k: v for k, v in en.items() if k not in ("title", "detail", "errors", "request_id")} == {
            k: v for k, v in pl.items() if k not in ("title", "detail", "errors", "request_id")}
        for en_text, pl_text in zip(texts(en), texts(pl), strict=True):
            assert pl_text != en_text, f"{name}: {en_text!r} has no Polish"


def test_english_is_word_for_word_what_it_was(client: FlaskClient) -> None:
    problem = send(client, "invalid fields", "en").get_json()
    assert problem["title"] == "Unprocessable Content" and problem["detail"] == "The profile has 5 invalid fields."
    assert {e["pointer"]: e["detail"] for e in problem["errors"]} == {
        "/segment": "Must be one of: b2c, ecommerce, b2b.",
        "/retention_rate": "Must be greater than or equal to 0 and less than or equal to 1 (a share: 0.7 means 70%).",
        "/external_id": "Longer than maximum length 128.",
        "/industry": "Not a valid string.",
        "/colour": "Unknown field.",
    }
    errors = {e["pointer"]: e["detail"] for e in send(client, "missing and null", "en").get_json()["errors"]}
    assert errors["/segment"] == "Field may not be null."
    assert errors["/sales_goal"] == "Missing data for required field."
    assert send(client, "malformed", "en").get_json()["detail"] == (
        "The body is not valid JSON: Expecting property name enclosed in double quotes (line 1, column 19).")


def test_polish_reads_as_polish(client: FlaskClient) -> None:
    problem = send(client, "invalid fields", "pl").get_json()
    assert problem["title"] == "Nieprzetwarzalna treść"
    assert problem["detail"] == "Profil ma 5 nieprawidłowych pól."
    assert problem["errors"][0]["detail"] == "Dozwolone wartości: b2c, ecommerce, b2b."
    assert send(client, "top-level array", "pl").get_json()["detail"] == (
        "Treść musi być obiektem JSON, a nie tablicą.")
    assert send(client, "unknown path", "pl").get_json()["title"] == "Nie znaleziono"


def test_a_401_and_a_500_speak_it_too(make_app: Callable[..., Flask]) -> None:
    guarded = make_app(API_KEYS="k-1")
    for language, words in (("en", "needs Authorization"), ("pl", "wymaga nagłówka Authorization")):
        response = guarded.test_client().post("/assess", json=VALID, headers={"Accept-Language": language})
        assert response.status_code == 401 and response.headers["Content-Language"] == language
        assert words in response.get_json()["detail"]
    app = make_app(TESTING=False)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("internal")

    app.test_client_class = None  # /boom is not part of the API document
    response = app.test_client().get("/boom", headers={"Accept-Language": "pl", "X-Request-ID": "r-1"})
    assert response.status_code == 500 and response.get_json()["title"] == "Wewnętrzny błąd serwera"
    assert "r-1" in response.get_json()["detail"] and "identyfikator" in response.get_json()["detail"]


@pytest.mark.parametrize("catalogue", [PROBLEMS, PARTS, FIELD_MESSAGES], ids=["problems", "parts", "fields"])
def test_each_english_sentence_is_read_back_as_its_own_entry(catalogue: dict[str, dict[str, str]]) -> None:
    """What lets a module raise a Problem in English and still be translated: no template shadows another."""
    for key, text in catalogue.items():
        values = {name: f"<{name}>" for name in ("method", "limit", "request_id", "count", "s", "fields_pl", "key",
                                                 "models", "byte", "reason", "line", "column", "kind", "member",
                                                 "number", "name", "rest", "choices", "min", "max", "received",
                                                 "length")}
        sentence = text["en"].format(**values)
        found = message_of(sentence, catalogue)
        assert found is not None and found.key == key, (key, sentence, found)


def test_every_title_and_sentence_has_every_language() -> None:
    for catalogue in (TITLES, PROBLEMS, PARTS, FIELD_MESSAGES):
        assert all(set(texts) == set(LANGUAGES) for texts in catalogue.values())
    assert Message("invalid_fields", {"count": 1}).text("pl") == "Profil ma 1 nieprawidłowe pole."
    assert Message("invalid_fields", {"count": 12}).text("pl") == "Profil ma 12 nieprawidłowych pól."
    assert Message("invalid_fields", {"count": 22}).text("pl") == "Profil ma 22 nieprawidłowe pola."


def english_sentences_raised() -> list[tuple[str, str]]:
    """(where, sentence) for every English sentence service/ raises as a problem's detail, read with ast: the
    literal and f-string arguments of Problem(...) and of auth's _challenge(...), each {value} as "X"."""
    found = []
    for path in sorted((ROOT / "service").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("Problem", "_challenge")):
                continue
            for argument in node.args:
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    sentence = argument.value
                elif isinstance(argument, ast.JoinedStr):
                    sentence = "".join(part.value if isinstance(part, ast.Constant) else "X"
                                       for part in argument.values)
                else:
                    continue
                if " " in sentence:  # a sentence, not a realm
                    found.append((f"{path.relative_to(ROOT)}:{node.lineno}", sentence))
    return found


def test_every_english_sentence_raised_anywhere_has_its_translation() -> None:
    """A module that raises a Problem in English (request_body.py, auth.py, registry.py) is translated by the
    catalogue entry its sentence fills: a new sentence without one fails here, naming where it is raised."""
    sentences = english_sentences_raised()
    assert len(sentences) >= 8, sentences
    missing = [(where, sentence) for where, sentence in sentences if message_of(sentence) is None]
    assert not missing, f"add these to service/messages.py PROBLEMS: {missing}"
