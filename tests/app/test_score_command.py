"""`flask --app service score FILE` (issue 14): a file scored in-process, the same rows as the stream gives."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from service.scoring import Model
from tests.app.test_stream import as_csv, jsonl, random_profiles


def without_ids(text: str) -> list[dict]:
    items = [json.loads(line) for line in text.splitlines()]
    for item in items:
        item.get("assessment", {}).pop("assessment_id", None)
        if "problem" in item:
            item["problem"] = {k: v for k, v in item["problem"].items() if k not in ("instance", "request_id")}
    return items


def test_a_json_lines_file_gives_the_streams_lines(app: Flask, model: Model, tmp_path: Path) -> None:
    profiles = [*random_profiles(model, 300), {"segment": "b2x"}]
    source = tmp_path / "accounts.jsonl"
    source.write_bytes(jsonl(*profiles) + b"not json\n")
    result = app.test_cli_runner().invoke(args=["score", str(source), "--language", "pl"])
    assert result.exit_code == 0, result.output
    client = FlaskClient(app, app.response_class)
    streamed = client.post("/assess/stream", data=source.read_bytes(), content_type="application/x-ndjson",
                           headers={"Accept-Language": "pl"}).get_data(as_text=True)
    assert without_ids(result.stdout) == without_ids(streamed)
    counts = {name: sum(1 for i in without_ids(streamed) if i.get("assessment", {}).get("recommendation") == name)
              for name in ("relational", "hybrid", "transactional")}
    assert ("302 rows in" in result.stderr and f"relational {counts['relational']}, hybrid {counts['hybrid']}, "
            f"transactional {counts['transactional']}, invalid 2" in result.stderr)
    assert "segment: Must be one of: b2c, ecommerce, b2b." in result.stderr
    assert "not valid JSON" in result.stderr
    assert "Scoring" not in result.stderr  # no progress bar when stderr is no terminal


def test_a_csv_file_goes_to_the_output_file_with_the_streams_columns(app: Flask, model: Model,
                                                                     tmp_path: Path) -> None:
    profiles = random_profiles(model, 50)
    columns = ["external_id", *(c.name for c in model.criteria)]
    source, target = tmp_path / "export.CSV", tmp_path / "scored.csv"
    source.write_bytes(as_csv(profiles, columns))
    result = app.test_cli_runner().invoke(args=["score", str(source), "-o", str(target),
                                                "--fields", "recommendation,scores"])
    assert result.exit_code == 0 and result.stdout == ""
    table = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert list(table[0]) == [*columns, "recommendation", "score_relational", "score_transactional", "error"]
    client: FlaskClient = FlaskClient(app, app.response_class)
    streamed = client.post("/assess/stream?fields=recommendation,scores", data=source.read_bytes(),
                           content_type="text/csv").get_data(as_text=True)
    assert target.read_bytes().decode() == streamed


def test_what_it_cannot_read_is_a_clear_error(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    unknown = tmp_path / "accounts.txt"
    unknown.write_text("segment\nb2b\n")
    assert "--format" in runner.invoke(args=["score", str(unknown)]).output
    bad = tmp_path / "bad.csv"
    bad.write_text("segment,colour\nb2b,red\n")
    result = runner.invoke(args=["score", str(bad)])
    assert result.exit_code == 1 and "colour: Unknown column." in result.output
    assert "'hue'" in runner.invoke(args=["score", str(bad), "--fields", "hue"]).output
