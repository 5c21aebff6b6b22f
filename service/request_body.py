"""Reading a request body as strict JSON: every way it can be wrong is a clear 4xx, never a 500."""

from __future__ import annotations

import contextlib
import json
import math
import re
from typing import Any

import orjson
from flask import Request, current_app

from service.errors import Problem

JSON_MEDIA_TYPES = ("application/json",)
# a body is read in pieces of this size, so that no read asks the server for more than the limit allows
_PIECE = 65536


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


def _over_the_limit(limit: int) -> Problem:
    return Problem(413, f"The body is over the limit of {limit} bytes for this endpoint.")


def body_bytes(request: Request, limit: int) -> bytes:
    """The request body, at most `limit` bytes however it is framed (Content-Length or chunked), else a 413 Problem.

    A body whose framing is broken (a bad chunk size, a missing CRLF, a bad trailer, a body shorter than its
    Content-Length) is a 400 Problem that quotes none of its bytes.
    """
    environ = request.environ
    length = request.content_length
    if length is not None and length > limit:
        _drop(environ["wsgi.input"], length if length <= 4 * limit else 0)  # so a kept-alive connection goes on
        raise _over_the_limit(limit)
    if length is None and not environ.get("wsgi.input_terminated"):
        return b""  # no length and a server that does not end the stream: no body can be read safely
    wanted = limit + 1 if length is None else length
    pieces: list[bytes] = []
    received = 0
    try:
        while received < wanted:
            piece = environ["wsgi.input"].read(min(_PIECE, wanted - received))
            if not piece:
                break
            pieces.append(piece)
            received += len(piece)
    except Exception:  # the server's parser refusing the framing: its message quotes the bytes, so it is not kept
        raise Problem(400, "The body cannot be read: its framing is not valid HTTP/1.1 "
                           "(chunked transfer coding or Content-Length).") from None
    if received > limit:
        if length is None:  # chunked: the rest read too, as far as a Content-Length's would be (see above)
            with contextlib.suppress(Exception):  # broken framing after the limit: the 413 stands
                _drop(environ["wsgi.input"], 4 * limit - received)
        raise _over_the_limit(limit)
    if length is not None and received < length:
        raise Problem(400, f"The body ended after {received} of the {length} bytes its Content-Length announced.")
    return b"".join(pieces)


def _drop(stream: Any, remaining: int) -> None:
    while remaining > 0:
        piece = stream.read(min(remaining, _PIECE))
        if not piece:
            break
        remaining -= len(piece)


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


def _values_within(raw: bytes, limit: int) -> bool:
    """Whether the body holds at most `limit` JSON values, counted as the `{`, `[`, `,` and `:` outside strings.

    Checked before decoding, so that no body makes more objects than that: 2 MiB of `[],` would otherwise be
    700,000 lists. Counting them everywhere is a bound, cheap in C; only a body over it is counted precisely.
    """
    def count(text: bytes) -> int:
        return text.count(b"{") + text.count(b"[") + text.count(b",") + text.count(b":")

    return count(raw) <= limit or count(_STRING.sub(b'""', raw)) <= limit


def json_object(request: Request, max_depth: int, max_bytes: int | None = None) -> dict[str, Any]:
    """The body as a JSON object, or a Problem (400, 413 or 415) saying what is wrong with it.

    The body is at most `max_bytes` (the app's MAX_BODY_BYTES unless an endpoint needs less) and holds at most
    MAX_JSON_VALUES values.
    """
    mimetype = request.mimetype
    if mimetype not in JSON_MEDIA_TYPES and not mimetype.endswith("+json"):
        raise Problem(415, "The body must be JSON: send Content-Type: application/json.")
    config = current_app.config
    raw = body_bytes(request, config["MAX_BODY_BYTES"] if max_bytes is None else max_bytes)
    max_values = config["MAX_JSON_VALUES"]
    if not _values_within(raw, max_values):
        raise Problem(400, f"The JSON holds too many values (the limit is {max_values}).")
    return parse_object(raw, max_depth)


# orjson reads an integer over 64 bits as a float, which is at least this large; such an integer is written with 19
# digits or more, neither a fraction's nor followed by one or by an exponent (a float's digits, which orjson and the
# strict decoder read alike: a small float such as 0.0015864014143305294 has a run of 19 too)
_BEYOND_64_BITS = 2.0**63
# each digit as "0", what may stand around a float's digits as itself, anything else as a space
_DIGITS_MARKED = bytes(ord("0") if 48 <= byte <= 57 else byte if byte in b".eE" else ord(" ") for byte in range(256))
_RUN = b"0" * 19


def _holds_a_long_integer(raw: bytes) -> bool:
    """Whether the text has a run of 19 digits or more that is no float's: not after a "." nor before a "." or an
    exponent (digits in a string count too: they only send a body the longer way). Found with bytes.find on the
    digits marked, which is C all along; a regular expression with lookarounds took 20 times as long."""
    marked = raw.translate(_DIGITS_MARKED)
    at = marked.find(_RUN)
    while at >= 0:
        end = at + len(_RUN)
        while marked[end:end + 1] == b"0":
            end += 1
        if marked[at - 1:at] != b"." and marked[end:end + 1] not in (b".", b"e", b"E"):
            return True
        at = marked.find(_RUN, end)
    return False


def _members_within(document: dict[str, Any], limit: int, containers: int | None = None) -> int | None:
    """How many members all the objects of a document hold together; None if a container lies deeper than `limit`
    levels. One walk, level by level: the depth check and the count of members share it. `containers`, the "{"
    and "[" of the text, bounds how many there are: once that many are found, no level below is looked through
    (a batch's profiles, whose values are a thousand times more than its objects)."""
    level, members, found = [document], 0, 1
    for _ in range(limit):
        members += sum([len(node) for node in level if isinstance(node, dict)])
        if found == containers:
            return members
        level = [child for node in level
                 for child in (node.values() if isinstance(node, dict) else node)
                 if isinstance(child, (dict, list))]  # a tuple: "dict | list" would build a union per child
        found += len(level)
        if not level:
            return members
    return None


def _holds_a_large_float(document: Any) -> bool:
    pending = [document]
    while pending:
        node = pending.pop()
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, (dict, list)):
                pending.append(child)
            elif isinstance(child, float) and abs(child) >= _BEYOND_64_BITS:
                return True
    return False


def _read_fast(raw: bytes, max_depth: int) -> dict[str, Any] | None:
    """The object orjson reads, when the strict decoder would read the same; None to leave it to that one.

    orjson is as strict (no NaN, no infinite number, no lone surrogate, UTF-8 only) but for two things,
    which send a body the strict way: a member repeated (orjson keeps the last; an object holding fewer
    members than the text has colons outside strings) and an integer over 64 bits (orjson makes it a float, of
    2**63 or more: where the text has an integer of 19 digits, any such float sends the body the strict way). A body
    nested deeper than `max_depth` goes the strict way too, which says so.
    """
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(document, dict):
        return None
    members = _members_within(document, max_depth, raw.count(b"{") + raw.count(b"["))
    if members is None or (raw.count(b":") != members and _STRING.sub(b'""', raw).count(b":") != members):
        return None
    if _holds_a_long_integer(raw) and _holds_a_large_float(document):
        return None
    return document


def parse_object(raw: bytes, max_depth: int) -> dict[str, Any]:
    """Bytes as a strict JSON object, or a 400 Problem saying what is wrong: a request's body, a stream's line."""
    document = _read_fast(raw, max_depth)
    if document is not None:
        return document
    return _parse_strictly(raw, max_depth)


def _parse_strictly(raw: bytes, max_depth: int) -> dict[str, Any]:
    """parse_object with the standard library's decoder, which says where a body is wrong."""
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
    if _members_within(document, max_depth) is None:
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
