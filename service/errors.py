"""Every error as RFC 9457 `application/problem+json` (docs/contract.md §6), in the caller's language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, NamedTuple

from flask import Flask, Response, current_app, g, json, request
from werkzeug.exceptions import HTTPException

from service.messages import Message, in_language, message, title
from service.scoring import LANGUAGES

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(NamedTuple):
    """One bad member of a body: an RFC 6901 pointer to it, and what is wrong with it."""

    pointer: str
    detail: str | Message | tuple[str | Message, ...]  # several: one sentence each, joined

    def text(self, language: str) -> str:
        parts = (self.detail,) if isinstance(self.detail, str | Message) else self.detail
        return " ".join(in_language(part, language) for part in parts)


class Problem(Exception):
    """An error the caller can act on: a status, a sentence, and optionally the bad fields; it knows its own body."""

    def __init__(self, status: int, detail: str | Message, errors: Sequence[FieldError] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})

    def body(self, language: str) -> dict[str, Any]:
        """The problem details (docs/contract.md §6) in `language`, for the request being answered."""
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": title(self.status, language),
            "status": self.status,
            "detail": in_language(self.detail, language),
            "instance": request.path,
            "request_id": g.get("request_id", ""),
        }
        if self.errors is not None:
            body["errors"] = [{"pointer": error.pointer, "detail": error.text(language)} for error in self.errors]
        return body

    def response(self) -> Response:
        language = g.get("language") or LANGUAGES[0]
        response = current_app.response_class(json.dumps(self.body(language)), status=self.status,
                                               mimetype=PROBLEM_MEDIA_TYPE)
        response.headers.update(self.headers)
        response.headers["Content-Language"] = language
        return response


def json_pointer(*tokens: str | int) -> str:
    """RFC 6901: '~' becomes '~0' and '/' becomes '~1' in each token."""
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in tokens)


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
    detail: str | Message = {
        404: message("not_found"),
        405: message("method_not_allowed", method=request.method),
        413: message("body_too_large", limit=current_app.config["MAX_BODY_BYTES"]),
    }.get(status, error.description or HTTPStatus(status).description)
    return Problem(status, detail, headers=headers).response()


def _from_unexpected(error: Exception) -> Response:
    current_app.logger.exception("unhandled error in request %s", g.get("request_id", "-"),
                                 extra={"fields": {"request_id": g.get("request_id")}})
    return Problem(500, message("unexpected", request_id=g.get("request_id", "-"))).response()


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(Problem, Problem.response)
    app.register_error_handler(HTTPException, _from_http_exception)
    app.register_error_handler(Exception, _from_unexpected)
