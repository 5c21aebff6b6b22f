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
    """A record as one JSON line; fields passed as `extra={"fields": {...}}` are merged in."""

    _second: tuple[int, str] = (-1, "")  # the last second formatted: one strftime a second, not one a line

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": f"{self._timestamp(record.created)}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        try:
            return orjson.dumps(entry, default=str, option=_AS_JSON_DUMPS_WOULD).decode()
        except orjson.JSONEncodeError:  # what orjson refuses: integers over 64 bits, lone surrogates, non-str keys
            return json.dumps(entry, ensure_ascii=False, default=str)

    def _timestamp(self, created: float) -> str:
        second, text = self._second
        if int(created) != second:
            second, text = int(created), time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
            self._second = (second, text)  # one tuple, so a thread never sees a second with another's text
        return text


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
        # SimpleQueue: put is one C call, not the Condition dance of queue.Queue (a line per assessment is logged);
        # its bound is kept here, so it is exceeded by at most one line per thread racing past the check
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_lines, name="log-writer", daemon=True)
        self._writer.start()

    def _write_lines(self) -> None:
        lines = self._queue
        while (line := lines.get()) is not None:
            piece, stop = [line], False
            size = len(line)
            while size < select.PIPE_BUF:
                try:
                    line = lines.get_nowait()
                except queue.Empty:
                    break
                if line is None:
                    stop = True
                    break
                if size + len(line) > select.PIPE_BUF:
                    self._write(b"".join(piece))
                    piece, size = [], 0
                piece.append(line)
                size += len(line)
            self._write(b"".join(piece))
            if stop:
                return

    def _write(self, data: bytes) -> None:
        try:
            while data:
                data = data[os.write(self.fd, data):]
        except OSError:  # stdout closed: nothing else to do with the lines
            pass

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = (self.format(record) + "\n").encode("utf-8", errors="replace")
        except Exception:
            self.handleError(record)
            return
        if self._queue.qsize() >= self.capacity:
            from service.metrics import record_dropped_log_line  # not at import: gunicorn's master loads this first

            record_dropped_log_line()
        else:
            self._queue.put(line)

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


def log_decision(fields: dict[str, Any]) -> None:
    if DECISIONS.isEnabledFor(logging.INFO):
        # made directly, not with DECISIONS.info(), which looks up its caller's frame: one line per assessment
        DECISIONS.handle(DECISIONS.makeRecord(DECISIONS.name, logging.INFO, __file__, 0, "assessment", (), None,
                                              extra={"fields": {"event": "assessment", **fields}}))


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

