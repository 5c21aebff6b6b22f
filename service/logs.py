"""Structured logs: one JSON object per line on stdout, for the access log, errors and the decision log."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

import orjson
from gunicorn.glogging import Logger

DECISIONS = logging.getLogger("strategy.decisions")


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
    DECISIONS.info("assessment", extra={"fields": {"event": "assessment", **fields}})


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
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }})

