"""`flask --app service models ...`: check a folder of model files, compare two models over profiles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from service.scoring import sample_profiles
from tests.support.models import MODEL_FILE, REFERENCE_PROFILES, model_folder
from tests.support.profiles import MODEL

MODELS = MODEL_FILE.parent
V2_FILE = MODELS / "sales-strategy-v2.json"


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["models", *args])


def test_check_validates_every_file_and_prints_the_calibration_report(app: Flask) -> None:
    result = run(app, "check", str(MODELS))
    assert result.exit_code == 0, result.output
    cases = json.loads(V2_FILE.read_text())["calibration"]
    lines = [line for line in result.output.splitlines() if line[:3].strip().isdigit()]
    assert len(lines) == len(cases) and all(" ok " in line for line in lines)
    assert "  1 ok   amazon" in result.output and "close call" in result.output and "margin" in result.output
    assert f"{len(cases)} of {len(cases)} calibration cases hold" in result.output


def test_check_fails_on_a_missed_case_and_on_a_broken_file(app: Flask, tmp_path: Path) -> None:
    document = json.loads(V2_FILE.read_text())
    document["calibration"][0]["expected"] = ["transactional"]  # Amazon: the article never implies this
    result = run(app, "check", str(model_folder(tmp_path / "missed", wrong=document)))
    assert result.exit_code == 1 and "MISS amazon" in result.output and "missed: amazon" in result.output
    document["threshold"] = 2
    result = run(app, "check", str(model_folder(tmp_path / "broken", broken=document)))
    assert result.exit_code == 1 and "broken.json: /threshold" in result.output
    assert run(app, "check", str(tmp_path / "missed" / "seed")).exit_code == 1  # no model file at all


def test_compare_prints_the_matrix_with_an_example_for_each_flip(app: Flask, tmp_path: Path) -> None:
    lines = tmp_path / "profiles.jsonl"
    cases = app.test_cli_runner().invoke(args=["models", "cases", "sales-strategy@2.0.0"]).output
    lines.write_text(cases)
    result = run(app, "compare", "sales-strategy@1.0.0", "sales-strategy@2.0.0", str(lines))
    assert result.exit_code == 0, result.output
    output = result.output
    count = len(cases.splitlines())
    assert output.startswith(f"{count} profiles: rows sales-strategy@1.0.0, columns sales-strategy@2.0.0")
    rows = {line.split()[0]: [int(n) for n in line.split()[1:]] for line in output.splitlines()[2:5]}
    assert sum(map(sum, rows.values())) == count
    flips = [line for line in output.splitlines() if " -> " in line]
    assert flips and all(", e.g. {" in line for line in flips)
    example = json.loads(flips[0].split(", e.g. ", 1)[1])
    assert example in [json.loads(line) for line in cases.splitlines()]


def test_compare_reads_csv_and_the_reference_file_and_counts_refused_profiles(app: Flask, tmp_path: Path) -> None:
    table = tmp_path / "profiles.csv"
    table.write_text("segment,sales_goal,product_complexity,purchase_cycle,customer_expectation,retention_rate\n"
                     "b2b,long_term_loyalty,high,long,personalization,0.8\n"
                     "b2c,quick_conversion,low,impulse,speed_and_price,\n"
                     "b2x,balanced,medium,medium,balanced,\n")
    result = run(app, "compare", str(MODEL_FILE), str(V2_FILE), str(table))
    assert result.exit_code == 0, result.output
    assert "invalid" in result.output and result.output.startswith("3 profiles")
    reference = run(app, "compare", "sales-strategy@1.0.0", "sales-strategy@2.0.0",
                    str(MODEL_FILE.parents[2] / "tests" / "data" / "reference-profiles.json"))
    assert f"same answer: {len(REFERENCE_PROFILES)}; changed: 0" in reference.output
    assert run(app, "compare", "nope@1", str(V2_FILE), str(table)).exit_code != 0


def test_sample_gives_valid_profiles_the_same_for_the_same_seed(app: Flask) -> None:
    first = run(app, "sample", "sales-strategy@1.0.0", "--count", "50", "--seed", "7").output.splitlines()
    again = run(app, "sample", "sales-strategy@1.0.0", "--count", "50", "--seed", "7").output.splitlines()
    assert first == again and len(first) == 50
    assert all(MODEL.problems(json.loads(line)) == [] for line in first)


def test_the_service_answers_1_0_0_profiles_with_2_0_0_so_compare_can_shadow_it(client: FlaskClient) -> None:
    every_option = [{**REFERENCE_PROFILES["ecommerce_fashion_with_loyalty_app"]["profile"], c.name: o.value}
                    for c in MODEL.criteria for o in c.options]
    batch = [*sample_profiles(MODEL, 500, seed=11), *every_option]
    response = client.post("/assess/batch?compare=sales-strategy@1.0.0", json={"profiles": batch})
    results = response.get_json()["results"]
    assert response.status_code == 200 and len(results) == len(batch)
    assert all(result["status"] == 200 for result in results), [r for r in results if r["status"] != 200][:1]
    assert response.get_json()["model"]["version"] == "2.0.0"
