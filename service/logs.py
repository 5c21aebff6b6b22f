"""Structured logs: one JSON object per line on stdout, for the access log, errors and the decision log."""

from __future__ import annotations

import json
import logging
import os
import queue
import select
import sys
import threading
import time
import weakref
from typing import Any

import orjson
from gunicorn.glogging import Logger

DECISIONS = logging.getLogger("strategy.decisions")
# no line carries the thread or the process (JsonFormatter writes neither): a record made without looking them up
# costs a fifth less, which counts at a line per assessment (the logging HOWTO's "Optimization")
logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


# what json.dumps(default=str) writes as str(), orjson would write its own way: hand these to default too
_AS_JSON_DUMPS_WOULD = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class JsonFormatter(logging.Formatter):
    """A record as one JSON line; fields passed as `extra={"fields": {...}}` are merged in.

    A record of log_decisions (`extra={"lines": [...]}`) is a line per mapping, each with the record's time.
    """

    _second: tuple[int, str] = (-1, "")  # the last second formatted: one strftime a second, not one a line

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": f"{self._timestamp(record.created)}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        lines = getattr(record, "lines", None)
        if lines is not None:
            return "\n".join(_line({**entry, **fields}) for fields in lines)
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _line(entry)

    def _timestamp(self, created: float) -> str:
        second, text = self._second
        if int(created) != second:
            second, text = int(created), time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
            self._second = (second, text)  # one tuple, so a thread never sees a second with another's text
        return text


def _line(entry: dict[str, Any]) -> str:
    try:
        return orjson.dumps(entry, default=str, option=_AS_JSON_DUMPS_WOULD).decode()
    except orjson.JSONEncodeError:  # what orjson refuses: integers over 64 bits, lone surrogates, non-str keys
        return json.dumps(entry, ensure_ascii=False, default=str)


class NonBlockingHandler(logging.Handler):
    """Log lines handed to a writer thread through a bounded queue, so that no request ever waits on stdout.

    With stdout stalled (a pipe nobody reads), the writer blocks, the queue fills, and further lines are
    dropped and counted in strategy_log_lines_dropped_total. The writer takes every line waiting and writes
    them with as few os.write calls as it can, each of whole lines and at most PIPE_BUF bytes (or one line, if
    longer), which a pipe writes in one piece: lines of different workers do not interleave, and a batch's
    thousand decision lines cost a hundred system calls, not a thousand. A forked child (each gunicorn worker)
    gets a queue and a writer thread of its own: threads do not survive a fork.
    """

    def __init__(self, capacity: int = 10_000, fd: int | None = None) -> None:
        super().__init__()
        self.capacity = capacity
        self.fd = sys.stdout.fileno() if fd is None else fd
        self._start()
        _live_handlers.add(self)

    def _start(self) -> None:
        # SimpleQueue: put is one C call, not the Condition dance of queue.Queue; the bound, in lines (a record of
        # log_decisions holds many), is kept here
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._pending = 0  # lines queued, not yet written
        self._count = threading.Lock()
        self._writer = threading.Thread(target=self._write_lines, name="log-writer", daemon=True)
        self._writer.start()

    def _write_lines(self) -> None:
        waiting = self._queue
        while (data := waiting.get()) is not None:
            pieces, stop = [data], False
            while True:  # and whatever else is waiting, in one go
                try:
                    more = waiting.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                pieces.append(more)
            data = b"".join(pieces)
            self._write_whole_lines(data)
            with self._count:
                self._pending -= data.count(b"\n")
            if stop:
                return

    def _write_whole_lines(self, data: bytes) -> None:
        """Pieces of whole lines, each at most PIPE_BUF bytes (a longer line alone)."""
        view, start, size = memoryview(data), 0, len(data)
        while start < size:
            end = start + select.PIPE_BUF
            if end >= size:
                end = size
            else:
                cut = data.rfind(b"\n", start, end)
                end = cut + 1 if cut >= 0 else (data.find(b"\n", end) + 1 or size)
            self._write(view[start:end])
            start = end

    def _write(self, data: memoryview) -> None:
        try:
            while data:
                data = data[os.write(self.fd, data):]
        except OSError:  # stdout closed: nothing else to do with the lines
            pass

    def emit(self, record: logging.LogRecord) -> None:
        try:
            data = (self.format(record) + "\n").encode("utf-8", errors="replace")
        except Exception:
            self.handleError(record)
            return
        lines = data.count(b"\n")
        with self._count:
            room = self._pending + lines <= self.capacity
            if room:
                self._pending += lines
        if room:
            self._queue.put(data)
        else:
            from service.metrics import record_dropped_log_line  # not at import: gunicorn's master loads this first

            record_dropped_log_line(lines)

    def close(self) -> None:
        """Write what is queued (for a second at most: stdout may be stalled), then stop the writer."""
        _live_handlers.discard(self)
        self._queue.put(None)
        self._writer.join(1)
        super().close()


_live_handlers: weakref.WeakSet[NonBlockingHandler] = weakref.WeakSet()


def _restart_writers() -> None:
    for handler in list(_live_handlers):
        handler._start()


os.register_at_fork(after_in_child=_restart_writers)


def configure_logging() -> None:
    """JSON on stdout for every logger, unless something (gunicorn's logconfig_dict) configured logging already."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def log_decisions(lines: list[dict[str, Any]]) -> None:
    """The decision log's lines of a request (one for /assess, a batch's or a stream chunk's many), as one record.

    One record, formatted and queued once: a line per assessment would otherwise cost a record, a handler call
    and a queue put each. Made directly, not with DECISIONS.info(), which looks up its caller's frame.
    """
    if lines and DECISIONS.isEnabledFor(logging.INFO):
        DECISIONS.handle(DECISIONS.makeRecord(DECISIONS.name, logging.INFO, __file__, 0, "assessment", (), None,
                                              extra={"lines": lines}))


class JsonAccessLogger(Logger):
    """gunicorn's access log as JSON lines. No header is logged but the request id and the user agent."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        headers = dict(resp.headers) if resp is not None else {}
        self.access_log.info("request", extra={"fields": {
            "event": "access",
            "request_id": headers.get("X-Request-ID"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": getattr(resp, "status_code", None),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "remote": environ.get("REMOTE_ADDR"),
            # behind nginx the remote is always nginx: who it was forwarding for (as nginx saw them)
            "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }})

