"""A body read through orjson is what the strict decoder reads: the same document, or the same problem."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.errors import Problem
from service.request_body import _parse_strictly, parse_object

DEPTH = 32

keys = st.sampled_from(["a", "b", "segment", "x:y", "url", "\u0142", ""])
scalars = (st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats(allow_nan=False)
           | st.text(alphabet=st.sampled_from('ab:"\\\u00e9\ud83d\ude00\x00\n{}[],'), max_size=8))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
                      max_leaves=12)


def _outcome(read: Any, raw: bytes) -> tuple[str, Any]:
    try:
        document = read(raw, DEPTH)
    except Problem as problem:
        return "problem", (problem.status, problem.detail)
    return "document", json.dumps(document, sort_keys=True)  # 1 and 1.0, or True and 1, would differ here


def _text(value: Any) -> str:
    return json.dumps({"v": value}, allow_nan=True)


@settings(max_examples=400, deadline=None)
@given(values, st.sampled_from(["as is", "repeat a member", "raw control", "lone surrogate", "infinite", "cut"]))
@example({"a": 12345678901234567890123}, "as is")
@example({"a": "1234567890123456789012"}, "as is")
@example({"a": [-12345678901234567890123, 0.000123456789012345678, 1.5e-300]}, "as is")
@example({"url": "http://x:1", "x:y": 1}, "repeat a member")
def test_the_fast_reading_is_the_strict_one(value: Any, damage: str) -> None:
    text = _text(value)
    if damage == "repeat a member":
        text = text[:-1] + ', "v": 0}'
    elif damage == "raw control":
        text = text.replace("\\n", "\n")
    elif damage == "lone surrogate":
        text = text[:-1] + ', "s": "\\ud800"}'
    elif damage == "infinite":
        text = text[:-1] + ', "n": 1e400}'
    elif damage == "cut":
        text = text[: len(text) // 2]
    raw = text.encode("utf-8", errors="surrogatepass")
    assert _outcome(parse_object, raw) == _outcome(_parse_strictly, raw)


def test_a_repeated_member_is_refused_even_among_colons_in_strings() -> None:
    raw = b'{"url": "http://a:b", "url": "c"}'
    for read in (parse_object, _parse_strictly):
        try:
            read(raw, DEPTH)
        except Problem as problem:
            assert "appears twice" in str(problem.detail)
        else:
            raise AssertionError("a repeated member was read")


def test_a_plain_body_takes_the_fast_reading() -> None:
    from service.request_body import _read_fast

    assert _read_fast(b'{"a": [1, {"b": "x:y", "c": 2.5}], "d": null}', DEPTH) == {
        "a": [1, {"b": "x:y", "c": 2.5}], "d": None}
    assert _read_fast(b'{"a": 0.00024960213131811626, "b": 1e-0000000000000000000001}', DEPTH) is not None
    assert _read_fast(b'{"a": 18446744073709551615, "b": -9223372036854775808}', DEPTH) is not None  # 64 bits
    assert _read_fast(b'{"a": 1e19}', DEPTH) is not None  # a float written as one: read alike
    assert _read_fast(b'{"a": 2.5, "b": "12345678901234567890"}', DEPTH) is not None  # digits, but no large float
    for long in (b"18446744073709551616", b"-9223372036854775809", b"[1, 123456789012345678901234]",
                 b'"x", "b": 12345678901234567890123'):
        assert _read_fast(b'{"a": %s}' % long, DEPTH) is None  # an integer over 64 bits: the strict way
    for large in (b"10000000000000000000.0", b"12345678901234567890e2", b"-12345678901234567890.5E-3"):
        raw = b'{"a": %s}' % large  # a float of 19 digits or more, which both readings read alike
        assert _read_fast(raw, DEPTH) == _parse_strictly(raw, DEPTH)
    assert _read_fast(b'{"a": 1, "a": 2}', DEPTH) is None
    assert _read_fast(b'{"a": [[{"b": 1}]]}', 3) is None  # too deep: the strict way, which says so
