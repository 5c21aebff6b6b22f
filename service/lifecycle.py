"""The request lifecycle: what every request gets before and after its view (language, request id, headers, metrics)."""

from __future__ import annotations

import re
import time
import uuid
from functools import lru_cache

from flask import Flask, Response, g, request
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from service import metrics
from service.auth import PUBLIC_BLUEPRINTS, require_credentials
from service.scoring import LANGUAGES

SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def register_lifecycle(app: Flask) -> None:
    """Hook the lifecycle into the app: credentials are checked after the request id is set, so a 401 carries it."""
    app.before_request(_start_request)
    app.before_request(require_credentials)
    app.after_request(_finish_request)


@lru_cache(maxsize=64)
def _language(accept_language: str) -> str:
    """The caller's most preferred language that we speak, by RFC 4647 lookup (pl-PL falls back to pl).

    Callers send few distinct headers, so answers are cached.
    """
    for value, quality in parse_accept_header(accept_language, LanguageAccept):
        tag = value.lower().replace("_", "-")
        if quality <= 0:
            continue
        if tag == "*":
            break
        while tag:
            if tag in LANGUAGES:
                return tag
            tag = tag.rpartition("-")[0]
    return LANGUAGES[0]


def _start_request() -> None:
    environ = request.environ  # the headers read straight from it: no header object built per request
    g.started = time.perf_counter()
    g.language = _language(environ.get("HTTP_ACCEPT_LANGUAGE", ""))
    caller_id = environ.get("HTTP_X_REQUEST_ID", "")
    g.request_id = caller_id if SANE_REQUEST_ID.fullmatch(caller_id) else uuid.uuid4().hex


# for a JSON API: nothing may sniff, frame, cache or run what it returns; pages set their own policy
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
API_ONLY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}
API_HEADERS = SECURITY_HEADERS | API_ONLY_HEADERS


def _finish_request(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
    response.headers.update(SECURITY_HEADERS if request.blueprint in PUBLIC_BLUEPRINTS else API_HEADERS)
    rule = request.url_rule
    metrics.record_request(rule.rule if rule is not None else None, request.method, response.status_code,
                           time.perf_counter() - g.get("started", time.perf_counter()))
    return response
