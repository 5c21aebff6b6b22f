"""Every error as RFC 9457 `application/problem+json` (contract §6)."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, g, json, request
from werkzeug.exceptions import HTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
# RFC 9110's names, where Python's http module still has the older ones
TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


class Problem(Exception):
    """An error the caller can act on: a status, a sentence, and optionally the bad fields."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, str]] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})


def json_pointer(*tokens: str | int) -> str:
    """RFC 6901: '~' becomes '~0' and '/' becomes '~1' in each token."""
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in tokens)


def problem_body(status: int, detail: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status) or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "request_id": g.get("request_id", ""),
    }
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(problem: Problem) -> Response:
    response = current_app.response_class(
        json.dumps(problem_body(problem.status, problem.detail, problem.errors)),
        status=problem.status,
        mimetype=PROBLEM_MEDIA_TYPE,
    )
    response.headers.update(problem.headers)
    return response


def _drain_body(limit: int) -> None:
    """Read and drop an unread body (up to `limit` bytes) so the connection can serve the caller's next request."""
    stream = request.environ.get("wsgi.input")
    remaining = request.content_length
    if stream is None or remaining is None or remaining > limit:
        return
    while remaining > 0:
        chunk = stream.read(min(remaining, 65536))
        if not chunk:
            break
        remaining -= len(chunk)


def _from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if status == 413:
        _drain_body(4 * current_app.config["MAX_BODY_BYTES"])
    headers = {}
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(sorted(error.valid_methods))  # type: ignore[attr-defined]
    detail = {
        404: "There is no such resource. GET /openapi.yaml lists them all.",
        405: f"{request.method} is not allowed here.",
        413: f"The body is over the limit of {current_app.config['MAX_BODY_BYTES']} bytes.",
    }.get(status, error.description or HTTPStatus(status).description)
    return problem_response(Problem(status, detail, headers=headers))


def _from_unexpected(error: Exception) -> Response:
    current_app.logger.exception("unhandled error in request %s", g.get("request_id", "-"),
                                 extra={"fields": {"request_id": g.get("request_id")}})
    return problem_response(Problem(
        500, f"An unexpected error occurred. Quote request id {g.get('request_id', '-')} when reporting it."))


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(Problem, problem_response)
    app.register_error_handler(HTTPException, _from_http_exception)
    app.register_error_handler(Exception, _from_unexpected)
