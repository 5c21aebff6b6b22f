"""Command-line tools registered on the app, run as `flask --app service <command>` (one module per group)."""

from __future__ import annotations

from flask import Flask

from service.commands import models, openapi, profile_fields, score

COMMANDS = (openapi.command, profile_fields.command, models.group, score.command)


def register_commands(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
