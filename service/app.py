"""The application factory."""

from __future__ import annotations

import os
import re
import time
import uuid
from functools import lru_cache
from typing import Any

import orjson
from flask import Flask, Response, g, request
from flask.json.provider import JSONProvider
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from service import metrics
from service.auth import PUBLIC_BLUEPRINTS, configured_keys, require_credentials
from service.config import DEFAULTS, SECRET_SETTINGS
from service.errors import register_error_handlers
from service.logs import configure_logging
from service.registry import ModelRegistry
from service.scoring import LANGUAGES
from service.views import assessments, criteria, docs, operations, playground

SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class OrjsonProvider(JSONProvider):
    """orjson for speed; it also refuses NaN, so no response can carry one."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        return self._app.response_class(orjson.dumps(self._prepare_response_obj(args, kwargs)),
                                        mimetype="application/json")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("STRATEGY")
    # secrets are taken as written: parsing them as JSON would turn a key "1e5" into 100000.0
    app.config.update({name: os.environ[f"STRATEGY_{name}"] for name in SECRET_SETTINGS
                       if f"STRATEGY_{name}" in os.environ})
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]
    app.json = OrjsonProvider(app)

    registry = ModelRegistry.from_folder(app.config["MODEL_DIR"], app.config["DEFAULT_MODEL"])
    app.extensions["models"] = registry
    metrics.record_models((m.model.id, m.model.version, key == registry.default)
                          for key, m in registry.models.items())

    configure_logging()
    app.extensions["api_keys"] = configured_keys(app)
    register_error_handlers(app)
    app.before_request(_start_request)
    app.before_request(require_credentials)
    app.after_request(_finish_request)
    for view in (assessments, criteria, operations, docs, playground):
        app.register_blueprint(view.blueprint)
    return app


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
