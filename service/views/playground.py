"""The assessment playground: a page for people to try the API, served with its own assets under a strict CSP."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response, render_template

from service.scoring import LANGUAGES

ASSETS = Path(__file__).parent.parent / "playground"
# each language's name in itself, from the page's own catalogue (a test holds it to LANGUAGES)
LANGUAGE_NAMES = {language: strings["languageName"]
                  for language, strings in json.loads((ASSETS / "i18n.json").read_text(encoding="utf-8")).items()}

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

blueprint = Blueprint("playground", __name__, static_folder=str(ASSETS), static_url_path="/playground/assets",
                      template_folder=str(ASSETS))


@blueprint.get("/")
@blueprint.get("/playground")
def page() -> Response:
    """The playground page, its language switch from the service's languages; its script reads GET /criteria and
    posts to POST /assess like any caller."""
    response = Response(render_template("index.html", languages=LANGUAGES, names=LANGUAGE_NAMES),
                        mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/portfolio")
def portfolio() -> Response:
    """The portfolio page: a CSV of accounts sent to POST /assess/stream, drawn as a book of accounts."""
    response = Response(render_template("portfolio.html", languages=LANGUAGES, names=LANGUAGE_NAMES),
                        mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.after_request
def security_headers(response: Response) -> Response:
    """The page's own policy; the app adds the headers every response carries (nosniff, no-referrer, ...)."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
