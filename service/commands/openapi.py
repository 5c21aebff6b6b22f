"""`flask --app service openapi`: write the OpenAPI document generated from the schemas and the views."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from service.openapi import openapi_yaml


@click.command("openapi")
@with_appcontext
def command() -> None:
    """Print openapi.yaml as the code generates it (`flask --app service openapi > openapi.yaml`)."""
    click.echo(openapi_yaml(current_app), nl=False)
