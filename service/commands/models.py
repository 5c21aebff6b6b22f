"""`flask --app service models ...`: check model files against their calibration cases, compare two models."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from service.scoring import (
    Model,
    ModelError,
    calibrate,
    calibration_report,
    compare,
    load_model,
    sample_profiles,
)

group = AppGroup("models", help="Check and compare the model files.")


@group.command("check")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def check(folder: Path) -> None:
    """Validate every model file in FOLDER and run its calibration cases; exit 1 on any failure."""
    paths = sorted(folder.glob("*.json"))
    failures = 0 if paths else 1
    if not paths:
        click.echo(f"{folder}: holds no model file (*.json)", err=True)
    for path in paths:
        try:
            model = load_model(path)
        except ModelError as error:
            click.echo(f"INVALID {error}", err=True)
            failures += 1
            continue
        results = calibrate(model)
        click.echo("\n".join(calibration_report(model, results)))
        missed = [result.case.name for result in results if not result.passed]
        failures += len(missed)
        click.echo(f"{path.name}: valid; {len(results) - len(missed)} of {len(results)} calibration cases hold"
                   + (f"; missed: {', '.join(missed)}" if missed else "") + "\n")
    if failures:
        raise SystemExit(1)


@group.command("compare")
@click.argument("first")
@click.argument("second")
@click.argument("profiles", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def compare_command(first: str, second: str, profiles: Path) -> None:
    """The matrix of recommendations of FIRST (rows) and SECOND (columns) over PROFILES (JSON lines or CSV).

    A model is a file path or an `id@version` the app has loaded.
    """
    comparison = compare(_model(first), _model(second), _read_profiles(profiles))
    click.echo("\n".join(comparison.table()))


@group.command("sample")
@click.argument("model")
@click.option("--count", default=10_000, show_default=True, help="How many profiles.")
@click.option("--seed", default=13, show_default=True, help="The random seed: the same seed, the same profiles.")
def sample(model: str, count: int, seed: int) -> None:
    """Print COUNT random valid profiles of MODEL as JSON lines (for `models compare`)."""
    for profile in sample_profiles(_model(model), count, seed):
        click.echo(json.dumps(profile, ensure_ascii=False))


@group.command("cases")
@click.argument("model")
def cases(model: str) -> None:
    """Print the profiles of MODEL's calibration cases as JSON lines (for `models compare`)."""
    for case in _model(model).calibration:
        click.echo(json.dumps(dict(case.profile), ensure_ascii=False))


def _model(name: str) -> Model:
    path = Path(name)
    if path.is_file():
        try:
            return load_model(path)
        except ModelError as error:
            raise click.ClickException(str(error)) from None
    models = current_app.extensions["models"].models
    if name not in models:
        raise click.ClickException(f"{name!r} is neither a model file nor one of: {', '.join(sorted(models))}")
    loaded: Model = models[name].model
    return loaded


def _read_profiles(path: Path) -> Iterator[dict[str, Any]]:
    """Profiles from JSON lines (one object a line); from a .csv file's rows under a header of field names; or from a
    .json document: a list of profiles, or named entries each a profile or holding one (tests/data's reference file)."""
    with path.open(encoding="utf-8", newline="") as file:
        if path.suffix.lower() == ".json":
            try:
                document = json.load(file)
            except ValueError as error:
                raise click.ClickException(f"{path}: not JSON: {error}") from None
            entries = document.values() if isinstance(document, dict) else document
            for entry in entries:
                profile = entry.get("profile", entry) if isinstance(entry, dict) else entry
                if not isinstance(profile, dict):
                    raise click.ClickException(f"{path}: a profile must be a JSON object")
                yield profile
            return
        if path.suffix.lower() == ".csv":
            for row in csv.DictReader(file):
                yield {name: _cell(text) for name, text in row.items() if name and text not in (None, "")}
            return
        for number, line in enumerate(file, 1):
            if line.strip():
                try:
                    profile = json.loads(line)
                except ValueError as error:
                    raise click.ClickException(f"{path}:{number}: not JSON: {error}") from None
                if not isinstance(profile, dict):
                    raise click.ClickException(f"{path}:{number}: a profile must be a JSON object")
                yield profile


def _cell(text: str) -> str | float:
    """A CSV cell: a number when it reads as one (the retention rate), else the option's text."""
    try:
        return float(text)
    except ValueError:
        return text.strip()
