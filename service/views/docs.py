"""The API documentation page (issue 6 fills it in)."""

from flask import Blueprint

blueprint = Blueprint("docs", __name__)
