"""Log lines: what json.dumps would write, on one line, with the exception and the record's own time."""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import sys
import time
from decimal import Decimal
from typing import Any

import pytest

from service.logs import JsonFormatter


def formatted(fields: dict[str, Any], exc: bool = False) -> str:
    record = logging.LogRecord("strategy.decisions", logging.INFO, __file__, 1, "assessment", None, None)
    record.fields = fields  # type: ignore[attr-defined]
    if exc:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            record.exc_info = sys.exc_info()
    return JsonFormatter().format(record)


class Odd:
    def __str__(self) -> str:
        return "odd thing"


@dataclasses.dataclass
class Point:
    x: int


@pytest.mark.parametrize("fields", [
    {"event": "assessment", "index": 0.61, "external_id": None, "profile": {"industry": "Łódź \"x\"\n\t", "n": [1, 2]}},
    {"odd": Odd(), "tuple": (1, "a"), "set": {1}, "bytes": b"ab", "decimal": Decimal("1.10"), "point": Point(1)},
    {"when": datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC), "day": datetime.date(2024, 5, 1)},
    {"big": 10**30, "surrogate": "\ud800"},
    {"non-string keys": {1: "a", None: "b", 2.5: "c"}},
])
def test_a_log_line_holds_what_json_dumps_would_write(fields: dict[str, Any]) -> None:
    line = formatted(fields)
    assert "\n" not in line
    entry = json.loads(line)
    assert {key: entry[key] for key in fields} == json.loads(json.dumps(fields, ensure_ascii=False, default=str))
    assert list(entry)[:4] == ["time", "level", "logger", "message"]
    assert (entry["level"], entry["logger"], entry["message"]) == ("info", "strategy.decisions", "assessment")


def test_a_log_line_carries_the_exception() -> None:
    entry = json.loads(formatted({"request_id": "r"}, exc=True))
    assert "RuntimeError: boom" in entry["exception"] and entry["request_id"] == "r"


def test_the_time_of_a_log_line_is_its_records_time() -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    for created in (1_700_000_000.0, 1_700_000_000.999, 1_700_000_001.5, 1_700_000_000.25, 1_800_000_000.0):
        record.created, record.msecs = created, (created - int(created)) * 1000
        expected = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(record.msecs):03d}Z"
        assert json.loads(formatter.format(record))["time"] == expected


def test_a_record_of_many_decisions_is_a_line_each_at_its_time() -> None:
    record = logging.LogRecord("strategy.decisions", logging.INFO, __file__, 1, "assessment", None, None)
    record.lines = [{"event": "assessment", "n": n, "text": "a\nb"} for n in range(3)]  # type: ignore[attr-defined]
    lines = JsonFormatter().format(record).split("\n")
    entries = [json.loads(line) for line in lines]
    assert [entry["n"] for entry in entries] == [0, 1, 2] and all(entry["text"] == "a\nb" for entry in entries)
    assert len({entry["time"] for entry in entries}) == 1 and list(entries[0])[:5] == [
        "time", "level", "logger", "message", "event"]


def test_the_writer_writes_whole_lines_in_pieces_a_pipe_writes_at_once() -> None:
    import os
    import select

    from service.logs import NonBlockingHandler

    class Recording(NonBlockingHandler):
        def _write(self, data: memoryview) -> None:
            written.append(bytes(data))

    written: list[bytes] = []
    handler = Recording(fd=os.open(os.devnull, os.O_WRONLY))
    lines = [b"x" * (n * 37 % 900) + b"\n" for n in range(400)] + [b"y" * 10_000 + b"\n", b"z\n"]
    handler._write_whole_lines(b"".join(lines))
    handler.close()
    assert b"".join(written) == b"".join(lines)
    assert all(piece.endswith(b"\n") for piece in written)
    assert all(len(piece) <= select.PIPE_BUF or piece.count(b"\n") == 1 for piece in written)
    assert len(written) < len(lines) / 4  # many lines a write
