"""The application factory."""

from __future__ import annotations

import os
from typing import Any

import orjson
from flask import Flask, Response
from flask.json.provider import JSONProvider

from service import metrics
from service.auth import configured_keys
from service.commands import register_commands
from service.config import DEFAULTS, SECRET_SETTINGS
from service.errors import register_error_handlers
from service.lifecycle import register_lifecycle
from service.logs import configure_logging
from service.registry import ModelRegistry
from service.views import assessments, criteria, docs, operations, playground, stream


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
    """The service as a Flask app, ready to serve (gunicorn imports it through service.wsgi).

    Settings come from service.config.DEFAULTS, then STRATEGY_* environment variables (JSON-parsed, except the
    secrets, taken as written), then `test_config`. Every model file in MODEL_DIR is loaded and validated now, so
    a broken one stops the start; the registry is `app.extensions["models"]`. Then logging, the API keys, the
    error handlers, the request lifecycle, one blueprint per resource and the `flask` commands.
    """
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
    metrics.declare_shadow_pairs(sorted(registry.models))

    configure_logging()
    app.extensions["api_keys"] = configured_keys(app)
    register_error_handlers(app)
    register_lifecycle(app)
    for view in (assessments, criteria, operations, docs, playground, stream):
        app.register_blueprint(view.blueprint)
    register_commands(app)
    return app
