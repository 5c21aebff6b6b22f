"""`flask --app service profile-fields`: the fields of a profile as a Markdown table, from the default model.

The README's table is this command's output, and a test holds the two equal.
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from marshmallow import validate

from service.schemas.profile import ECHOED_FIELDS, is_share
from service.scoring import LANGUAGES


def profile_fields_table(app: Flask) -> str:
    """One row per field a profile may hold: the default model's criteria in its order, then the echoed fields."""
    loaded = app.extensions["models"].get(None)
    model, language = loaded.model, LANGUAGES[0]
    rows = ["| field | required | what it asks | values (most transactional first) |", "|---|---|---|---|"]
    for criterion in model.criteria:
        if criterion.number is not None:
            scale = criterion.number
            values = f"a number from {scale.minimum:g} to {scale.maximum:g}" + (
                " (a share: 0.7 means 70%)" if is_share(scale.minimum, scale.maximum) else "")
        else:
            values = ", ".join(f"`{option.value}`" for option in criterion.options)
        rows.append(f"| `{criterion.name}` | {'yes' if criterion.required else 'no'} | "
                    f"{criterion.question[language]} | {values} |")
    for name, description in ECHOED_FIELDS.items():
        [longest] = [v.max for v in loaded.profile_schema.fields[name].validators if isinstance(v, validate.Length)]
        rows.append(f"| `{name}` | no | {description} | text, at most {longest} characters |")
    return "\n".join(rows) + "\n"


@click.command("profile-fields")
@with_appcontext
def command() -> None:
    """Print the fields of a profile, with their values, as the README's Markdown table."""
    click.echo(profile_fields_table(current_app), nl=False)
