"""The assessment playground page (issue 7 fills it in)."""

from flask import Blueprint

blueprint = Blueprint("playground", __name__)
