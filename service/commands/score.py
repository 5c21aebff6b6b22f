"""`flask --app service score FILE`: score a CSV or JSON-lines file in-process, no server, as the stream would."""

from __future__ import annotations

import functools
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any

import click
from flask import current_app
from flask.cli import with_appcontext

from service import rows
from service.errors import Problem
from service.fields import FIELDS, selected
from service.messages import SOURCE_LANGUAGE, in_language
from service.scoring import LANGUAGES, STRATEGIES

EXTENSIONS = {".csv": rows.CSV, ".jsonl": rows.NDJSON, ".ndjson": rows.NDJSON}
FORMATS = {"csv": rows.CSV, "jsonl": rows.NDJSON}
REASONS_SHOWN = 10


@click.command("score")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "format_name", type=click.Choice(sorted(FORMATS)),
              help="csv or jsonl (JSON lines); by default from the extension (.csv, .jsonl, .ndjson).")
@click.option("-o", "--output", type=click.File("wb"), default="-", show_default="stdout",
              help="Where the results go, in the same format as the file.")
@click.option("--model", "model_key", help="id@version; the service's default model otherwise.")
@click.option("--language", type=click.Choice(LANGUAGES), default=LANGUAGES[0], show_default=True)
@click.option("--fields", help="Only these members of each assessment (or CSV column groups), comma-separated.")
@with_appcontext
def command(file: Path, format_name: str | None, output: IO[bytes], model_key: str | None, language: str,
            fields: str | None) -> None:
    """Score every profile of FILE (CSV with a header row of field names, or JSON lines) with the same engine and
    the same row output as POST /assess/stream; a summary (counts per recommendation, rows refused and why) goes
    to stderr at the end, with a progress bar while it runs when stderr is a terminal."""
    media = FORMATS[format_name] if format_name else EXTENSIONS.get(file.suffix.lower())
    if media is None:
        raise click.UsageError(f"Cannot tell the format of {file.name}: name it .csv or .jsonl, or pass --format.")
    try:
        loaded = current_app.extensions["models"].get(model_key)
        selection = selected({} if fields is None else {"fields": fields},
                             FIELDS if media == rows.NDJSON else rows.CSV_FIELDS)
    except Problem as problem:
        raise click.UsageError(in_language(problem.detail, SOURCE_LANGUAGE)) from None
    instance = str(file)

    problem_body = functools.partial(rows.problem_body, language=language, instance=instance, request_id="")

    started = time.perf_counter()
    counts: Counter[str] = Counter({strategy: 0 for strategy in STRATEGIES})
    reasons: Counter[str] = Counter()
    limit = int(current_app.config["MAX_ROW_BYTES"])
    with file.open("rb") as source:
        if media == rows.CSV:
            try:
                table = rows.csv_rows(source, loaded, limit)
            except Problem as problem:
                errors = "; ".join(f"{e.pointer[1:]}: {e.text(language)}" for e in problem.errors or [])
                detail = in_language(problem.detail, language)
                raise click.ClickException(f"{file.name}: {detail} {errors}".strip()) from None
            csv_out = rows.CsvOutput(loaded, language, table.header, table.delimiter, selection)
            output.write(csv_out.header())
            records, write = table.rows, csv_out.rows
            fields: rows.Selection = frozenset()  # the CSV reads the Assessments: no JSON member is made
        else:
            records = rows.ndjson_rows(source, limit, current_app.config["MAX_JSON_DEPTH"])
            write = functools.partial(rows.ndjson_lines, problem_body=problem_body)
            fields = selection
        with _progress(file) as bar:
            done = 0
            for chunk in rows.chunks(records, int(current_app.config["STREAM_CHUNK_ROWS"])):
                results = rows.score_apart(loaded, chunk, language, _fault, fields=fields,
                                           assessments=media == rows.CSV)
                output.writelines(write(results))
                for result in results:
                    if result.decision is not None:
                        counts[result.decision.recommendation] += 1
                    else:
                        reasons.update(_reasons(result.problem))
                        counts["invalid"] += 1
                position = source.tell()
                bar.update(position - done)
                done = position
    output.flush()
    _summary(counts, reasons, time.perf_counter() - started)


def _fault(error: Exception) -> rows.RowProblem:
    return rows.RowProblem(500, f"An unexpected error occurred ({type(error).__name__}: {error}).")


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, steps: int) -> None:
        return None


def _progress(file: Path) -> Any:
    """click's progress bar over the file's bytes, on a terminal only: a pipe or a log gets the summary alone."""
    if not sys.stderr.isatty():
        return _NoBar()
    return click.progressbar(length=file.stat().st_size, label=f"Scoring {file.name}", file=sys.stderr,
                             show_eta=True, show_percent=True)


def _reasons(problem: rows.RowProblem) -> list[str]:
    """Why a row was refused, one reason per bad field (the pointer and what is wrong), or the problem's sentence."""
    if problem.errors:
        return [f"{error.pointer[1:] or '(row)'}: {error.text(SOURCE_LANGUAGE)}" for error in problem.errors]
    return [in_language(problem.detail, SOURCE_LANGUAGE)]


def _summary(counts: Counter[str], reasons: Counter[str], seconds: float) -> None:
    total = sum(counts.values())
    rate = total / seconds if seconds > 0 else 0.0
    click.echo(f"{total} rows in {seconds:.1f} s ({rate:,.0f} rows/s): "
               + ", ".join(f"{name} {counts[name]}" for name in (*STRATEGIES, "invalid")), err=True)
    if reasons:
        click.echo("Rows refused, by reason (a row may have several):", err=True)
        for reason, count in reasons.most_common(REASONS_SHOWN):
            click.echo(f"  {count:>8}  {reason}", err=True)
        if len(reasons) > REASONS_SHOWN:
            click.echo(f"  … and {len(reasons) - REASONS_SHOWN} other reasons", err=True)
