"""Access control: API keys for the API; for /metrics its own token, else an API key (open only when neither is set).

Keys are compared as bytes in constant time against every configured key, so neither a
non-ASCII header nor the position of a mismatch can crash or time the comparison.
"""

from __future__ import annotations

import hmac
from pathlib import Path

from flask import Flask, current_app, request

from service.errors import Problem

# open without a key: probes, the contract, and the pages (whose own calls to the API carry the key)
PUBLIC_ENDPOINTS = frozenset({"operations.healthz", "operations.readyz", "operations.openapi_document", "static"})
PUBLIC_BLUEPRINTS = frozenset({"docs", "playground"})
METRICS_ENDPOINT = "operations.prometheus_metrics"


def configured_keys(app: Flask) -> tuple[bytes, ...]:
    """The API keys from API_KEYS (comma-separated) and API_KEYS_FILE (one per line, # comments)."""
    keys = [key.strip() for key in str(app.config.get("API_KEYS") or "").split(",")]
    path = app.config.get("API_KEYS_FILE")
    if path:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        keys += [line.strip() for line in lines if not line.lstrip().startswith("#")]
    return tuple(key.encode() for key in keys if key)


def _bearer_token() -> bytes | None:
    # WSGI hands headers over as latin-1 text, so this recovers the bytes the caller sent, whatever they were
    header = request.headers.get("Authorization", "").encode("latin-1", errors="replace")
    scheme, _, token = header.partition(b" ")
    if scheme.lower() != b"bearer" or not token.strip():
        return None
    return token.strip()


def _matches(token: bytes | None, secrets: tuple[bytes, ...]) -> bool:
    matched = False
    for secret in secrets:  # no early exit: the time taken does not depend on which key matched
        matched |= hmac.compare_digest(token or b"", secret)
    return matched and token is not None


def _challenge(realm: str, detail: str) -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": f'Bearer realm="{realm}"'})


def require_credentials() -> None:
    """before_request: a 401 problem unless the request carries what its endpoint needs."""
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS or request.blueprint in PUBLIC_BLUEPRINTS:
        return
    keys = current_app.extensions["api_keys"]
    if endpoint == METRICS_ENDPOINT:
        # its own token when one is set (a scraper then holds no key to the API), else any API key: open only
        # when neither is configured
        token = current_app.config.get("METRICS_TOKEN")
        accepted = (str(token).encode(),) if token else keys
        if accepted and not _matches(_bearer_token(), accepted):
            raise _challenge("metrics", "GET /metrics needs Authorization: Bearer <the metrics token>."
                             if token else "GET /metrics needs Authorization: Bearer <API key>.")
        return
    if keys and not _matches(_bearer_token(), keys):
        raise _challenge("strategy-scoring", "This API needs Authorization: Bearer <API key>; "
                                             "the key is missing or not a valid one.")
