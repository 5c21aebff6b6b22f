"""The request lifecycle: what every request gets before and after its view (language, request id, headers, metrics)."""

from __future__ import annotations

import re
import time
import uuid
from functools import lru_cache

from flask import Flask, Response, current_app, g, request
from werkzeug.datastructures import LanguageAccept
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_accept_header

from service import metrics
from service.auth import PUBLIC_BLUEPRINTS, require_credentials
from service.errors import Problem
from service.scoring import LANGUAGES

SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


# the part of Accept-Language that is read: room for several preferences, so that no header costs more than that
# to parse, and the cache (keyed by it) holds at most 64 of these
ACCEPT_LANGUAGE_READ = 256


def register_lifecycle(app: Flask) -> None:
    """Hook the lifecycle into the app: credentials are checked after the request id is set, so a 401 carries it,
    and before Accept-Language is read through the cache, so a caller without a key fills no cache."""
    app.before_request(_start_request)
    app.before_request(_check_credentials)
    app.before_request(_choose_language)
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
    g.language = LANGUAGES[0]  # until _choose_language, for an answer given before it (a 401)
    caller_id = environ.get("HTTP_X_REQUEST_ID", "")
    g.request_id = caller_id if SANE_REQUEST_ID.fullmatch(caller_id) else uuid.uuid4().hex
    if "HTTP_HOST" not in environ and environ.get("SERVER_PROTOCOL") == "HTTP/1.1":
        raise Problem(400, "An HTTP/1.1 request must carry a Host header (RFC 9112, section 3.2).")


def _check_credentials() -> None:
    try:
        require_credentials()
    except Problem:
        # the 401 speaks the caller's language too: its header parsed (bounded) but never cached
        g.language = _language.__wrapped__(request.environ.get("HTTP_ACCEPT_LANGUAGE", "")[:ACCEPT_LANGUAGE_READ])
        raise


def _choose_language() -> None:
    g.language = _language(request.environ.get("HTTP_ACCEPT_LANGUAGE", "")[:ACCEPT_LANGUAGE_READ])


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
    route = rule.rule if rule is not None else _route_refusing_the_method() if response.status_code == 405 else None
    metrics.record_request(route, request.method, response.status_code,
                           time.perf_counter() - g.get("started", time.perf_counter()))
    return response


def _route_refusing_the_method() -> str | None:
    """A 405's route template (routing matched the path, not the method), so it is counted under its route."""
    error = request.routing_exception
    methods = getattr(error, "valid_methods", None)
    if not methods:
        return None
    try:
        rule, _ = current_app.url_map.bind_to_environ(request.environ).match(method=sorted(methods)[0],
                                                                              return_rule=True)
    except HTTPException:
        return None
    return rule.rule  # type: ignore[union-attr]
