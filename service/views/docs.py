"""The API documentation page: Swagger UI on /openapi.yaml, from the swagger-ui-bundle package's own files.

Nothing is fetched from outside (the service often runs offline), and the Content-Security-Policy holds the
page to that: scripts, styles, images and calls all come from this origin.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

blueprint = Blueprint("docs", __name__)

ASSETS = Path(str(swagger_ui_path))
# Swagger UI sets style attributes and uses data: URIs for its icons; everything else is 'self' only.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
ASSET_MAX_AGE = 24 * 3600  # the files change only with the package version


@blueprint.get("/docs")
def page() -> Response:
    """The Swagger UI page for this service's API."""
    return Response(render_template("docs/index.html"), mimetype="text/html")


@blueprint.get("/docs/swagger-init.js")
def initializer() -> Response:
    """The script that starts Swagger UI on /openapi.yaml."""
    return Response(render_template("docs/swagger-init.js"), mimetype="text/javascript")


@blueprint.get("/docs/assets/<path:name>")
def asset(name: str) -> Response:
    """A file of the Swagger UI distribution; send_from_directory answers 404 for anything outside its folder."""
    return send_from_directory(ASSETS, name, max_age=ASSET_MAX_AGE)


@blueprint.after_request
def security_headers(response: Response) -> Response:
    """The page's own policy, as the playground sets its own; the app adds the headers every response carries."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
