"""The assessment playground: a page for people to try the API, served with its own assets under a strict CSP."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

ASSETS = Path(__file__).parent.parent / "playground"

# Everything from this origin only, nothing inline: the page's scripts and styles are files beside it.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

blueprint = Blueprint("playground", __name__, static_folder=str(ASSETS), static_url_path="/playground/assets")


@blueprint.get("/")
@blueprint.get("/playground")
def page() -> Response:
    """The playground page; its script reads GET /criteria and posts to POST /assess like any caller."""
    response = send_from_directory(ASSETS, "index.html", mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/portfolio")
def portfolio() -> Response:
    """The portfolio page: a CSV of accounts sent to POST /assess/stream, drawn as a book of accounts."""
    response = send_from_directory(ASSETS, "portfolio.html", mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.after_request
def security_headers(response: Response) -> Response:
    """The page's own policy; the app adds the headers every response carries (nosniff, no-referrer, ...)."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
