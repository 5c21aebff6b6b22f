"""Reading a request body as strict JSON: every way it can be wrong is a clear 4xx, never a 500."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import Request

from service.errors import Problem

JSON_MEDIA_TYPES = ("application/json",)


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:20]} is out of range")
    return number


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise ValueError(f"the member {duplicate[:64]!r} appears twice")
    return document


_decoder = json.JSONDecoder(parse_float=_finite_float, parse_constant=_reject_constant,
                            object_pairs_hook=_unique_keys)


# only an escape can put a surrogate into a decoded str; a well-formed pair decodes to one character
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def _has_lone_surrogate(document: Any) -> bool:
    pending = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(node, dict):
            pending.extend(node)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return False


def _depth(document: Any, limit: int) -> bool:
    """True when no container lies deeper than `limit` levels."""
    level = [document]
    for _ in range(limit):
        level = [child for node in level
                 for child in (node.values() if isinstance(node, dict) else node if isinstance(node, list) else ())
                 if isinstance(child, (dict, list))]  # a tuple: "dict | list" would build a union per child
        if not level:
            return True
    return False


def json_object(request: Request, max_depth: int) -> dict[str, Any]:
    """The body as a JSON object, or a Problem (400, 413 or 415) saying what is wrong with it."""
    mimetype = request.mimetype
    if mimetype not in JSON_MEDIA_TYPES and not mimetype.endswith("+json"):
        raise Problem(415, "The body must be JSON: send Content-Type: application/json.")
    raw = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH this raises 413
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Problem(400, f"The body is not valid UTF-8 (byte {error.start}).") from None
    try:
        document = _decoder.decode(text)
    except json.JSONDecodeError as error:
        raise Problem(400, f"The body is not valid JSON: {error.msg} (line {error.lineno}, "
                           f"column {error.colno}).") from None
    except RecursionError:
        raise Problem(400, f"The JSON is nested too deeply (the limit is {max_depth} levels).") from None
    except ValueError as error:  # out-of-range numbers, NaN, duplicate members, over-long integers
        raise Problem(400, f"The body is not valid JSON: {error}.") from None
    if not isinstance(document, dict):
        raise Problem(400, f"The body must be a JSON object, not {_json_type(document)}.")
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(document):
        raise Problem(400, "The body is not valid JSON text: it holds a lone UTF-16 surrogate (\\ud800-\\udfff), "
                           "which is no character.")
    if not _depth(document, max_depth):
        raise Problem(400, f"The JSON is nested too deeply (the limit is {max_depth} levels).")
    return document


def _json_type(document: Any) -> str:
    if isinstance(document, list):
        return "an array"
    if isinstance(document, str):
        return "a string"
    if document is None:
        return "null"
    if isinstance(document, bool):
        return "a boolean"
    return "a number"
