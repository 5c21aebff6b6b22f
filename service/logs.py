"""Structured logs: one JSON object per line on stdout, for the access log, errors and the decision log."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from gunicorn.glogging import Logger

DECISIONS = logging.getLogger("strategy.decisions")


class JsonFormatter(logging.Formatter):
    """A record as one JSON line; fields passed as `extra={"fields": {...}}` are merged in."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


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
