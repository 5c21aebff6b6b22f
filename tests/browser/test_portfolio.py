"""The portfolio page (issue 14), in real Chromium against a real gunicorn serving two models: a CSV of several
thousand accounts, generated here, uploaded and drawn; every figure checked against the batch endpoint."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.support.browser import Visit as PageVisit
from tests.support.browser import screenshot
from tests.support.models import ROOT, model_document, model_folder
from tests.support.servers import Server, start_gunicorn, stop_gunicorn

ASSETS = ROOT / "service" / "playground"
CATALOGUE = json.loads((ASSETS / "portfolio-i18n.json").read_text(encoding="utf-8"))
ROWS = 4000
REFUSED = {17: "b2x", 1234: "", 3999: "enterprise"}  # rows (from 0) whose segment is wrong or missing
STRATEGIES = ("relational", "hybrid", "transactional")
FIRST, SECOND = "sales-strategy@1.0.0", "sales-strategy@1.1.0"


@pytest.fixture(scope="module")
def portfolio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The shipped model and a challenger with a wider hybrid band, so the second model changes some answers."""
    tmp = tmp_path_factory.mktemp("portfolio")
    challenger = model_document()
    challenger["version"] = "1.1.0"
    challenger["threshold"] = 0.4
    folder = model_folder(tmp / "models", v1=model_document(), v11=challenger)
    server = start_gunicorn(tmp, workers=2, env={"STRATEGY_MODEL_DIR": str(folder), "STRATEGY_DEFAULT_MODEL": FIRST})
    yield server
    stop_gunicorn(server)


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], list[dict[str, Any]]]:
    """A CRM export: a header of field names, several thousand rows, empty cells for what is not known."""
    document = model_document()
    columns = ["external_id", *(c["name"] for c in document["criteria"])]
    chance = random.Random(14)
    profiles = []
    for n in range(ROWS):
        profile: dict[str, Any] = {"external_id": f"acct-{n:05d}"}
        for criterion in document["criteria"]:
            if criterion["required"] or chance.random() < 0.55:
                profile[criterion["name"]] = (round(chance.random(), 2) if "number" in criterion
                                              else chance.choice(criterion["options"])["value"])
        if n in REFUSED:
            profile["segment"] = REFUSED[n]
        profiles.append(profile)
    path = tmp_path_factory.mktemp("upload") / "accounts.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows([[profile.get(name, "") for name in columns] for profile in profiles])
    return path, columns, profiles


def batch(server: Server, profiles: list[dict[str, Any]], model: str) -> list[dict[str, Any]]:
    """The answers the batch endpoint gives, 1,000 at a time, empty cells left out as the stream leaves them out."""
    results = []
    for start in range(0, len(profiles), 1000):
        body = {"profiles": [{k: v for k, v in p.items() if v != ""} for p in profiles[start:start + 1000]]}
        answer = server.post(f"/assess/batch?model={model}&fields=recommendation,rationale", json=body, timeout=120)
        assert answer.status_code == 200
        results += answer.json()["results"]
    return results


@pytest.fixture(scope="module")
def expected(portfolio_server: Server, accounts: tuple[Path, list[str], list[dict[str, Any]]]) -> dict[str, Any]:
    _, _, profiles = accounts
    first, second = batch(portfolio_server, profiles, FIRST), batch(portfolio_server, profiles, SECOND)
    scored = [r for r in first if r["status"] == 200]
    sums: Counter[str] = Counter()
    for result in scored:
        for factor in result["assessment"]["rationale"]["factors"]:
            sums[factor["criterion"]] += factor["contribution"]
    flips = Counter((a["assessment"]["recommendation"], b["assessment"]["recommendation"])
                    for a, b in zip(first, second, strict=True) if a["status"] == 200)
    counts = Counter(r["assessment"]["recommendation"] if r["status"] == 200 else "invalid" for r in first)
    return {"counts": counts, "means": {name: total / len(scored) for name, total in sums.items()},
            "flips": flips, "recommendations": [r["assessment"]["recommendation"] if r["status"] == 200 else ""
                                                for r in first]}


class Visit(PageVisit):
    """The portfolio page; its download is a blob: of this origin."""

    def check_clean(self, *also_allowed: str) -> None:
        super().check_clean("blob:" + self.server.url + "/", *also_allowed)


def test_the_page_is_served_under_the_playgrounds_strict_csp(portfolio_server: Server) -> None:
    page = requests.get(portfolio_server.url + "/portfolio", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
    html = page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", html)
    for asset in re.findall(r'(?:src|href)="(playground/assets/[^"]+)"', html):
        assert requests.get(f"{portfolio_server.url}/{asset}", timeout=10).status_code == 200, asset
    for name in ("portfolio.html", "portfolio.js", "portfolio.css"):
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", (ASSETS / name).read_text()), name


def test_the_catalogue_has_every_string_in_both_languages() -> None:
    assert CATALOGUE["en"].keys() == CATALOGUE["pl"].keys()
    assert all(isinstance(v, str) and v.strip() for strings in CATALOGUE.values() for v in strings.values())
    used = set(re.findall(r'data-i18n="(\w+)"', (ASSETS / "portfolio.html").read_text()))
    used |= set(re.findall(r'\bt\(\s*"(\w+)"', (ASSETS / "portfolio.js").read_text()))
    used |= {f"favours_{side}" for side in ("relational", "transactional", "neither")}
    assert len(used) > 35 and used <= CATALOGUE["en"].keys(), used - CATALOGUE["en"].keys()


def bars(page: Page, selector: str, data: str) -> list[dict[str, Any]]:
    return page.evaluate(f"""() => [...document.querySelectorAll('{selector}')].map(row => {{
        const track = row.querySelector('.track, .share-track').getBoundingClientRect();
        const bar = row.querySelector('.bar, .share').getBoundingClientRect();
        return {{key: row.dataset.criterion || row.dataset.strategy, value: Number(row.dataset.{data}),
                 left: bar.left, right: bar.right, width: bar.width, track_left: track.left,
                 track_width: track.width}};
    }})""")


def test_a_crm_export_is_scored_drawn_compared_and_downloaded(page: Page, portfolio_server: Server,
                                                              accounts: tuple[Path, list[str], list[dict[str, Any]]],
                                                              expected: dict[str, Any], tmp_path: Path) -> None:
    path, columns, profiles = accounts
    visit = Visit(page, portfolio_server)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(portfolio_server.url + "/portfolio?lang=en")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#model")).to_have_value(FIRST)
    page.set_input_files("#file", str(path))
    page.select_option("#compare", SECOND)
    page.click("#score-button")
    expect(page.locator("#result")).to_be_visible(timeout=120_000)
    expect(page.locator("#status")).to_have_text(
        f"Scored {ROWS:,} rows: {ROWS - len(REFUSED):,} assessed, {len(REFUSED)} refused.")

    # the distribution: counts as the batch gives them, bars as long as their share
    distribution = bars(page, "#distribution .distribution-row", "count")
    assert {row["key"]: row["value"] for row in distribution} == {
        name: expected["counts"][name] for name in (*STRATEGIES, "invalid")}
    for row in distribution:
        assert row["width"] == pytest.approx(row["value"] / ROWS * row["track_width"], abs=1.0)

    # what drives the portfolio: the mean signed contribution of each criterion, largest first, on its side
    drivers = bars(page, "#drivers .chart-row", "mean")
    means = expected["means"]
    assert [row["key"] for row in drivers] == sorted(means, key=lambda name: -abs(means[name]))
    largest = max(abs(value) for value in means.values())
    for row in drivers:
        assert row["value"] == pytest.approx(means[row["key"]], abs=1e-12)
        centre, half = row["track_left"] + row["track_width"] / 2, row["track_width"] / 2
        assert row["width"] == pytest.approx(abs(row["value"]) / largest * half, abs=1.0)
        if row["value"] > 0:
            assert row["left"] == pytest.approx(centre, abs=1.0)
        elif row["value"] < 0:
            assert row["right"] == pytest.approx(centre, abs=1.0)
    assert {row["value"] > 0 for row in drivers if row["value"]} == {True, False}, "drivers should point both ways"

    # the flip matrix of ?compare=: every cell as the two models' batches give it, and some answers do change
    cells = page.evaluate("""() => [...document.querySelectorAll('#flips td')].map(
        td => [td.dataset.from, td.dataset.to, Number(td.textContent.replace(/\\D/g, ''))])""")
    assert {(a, b): n for a, b, n in cells if n} == dict(expected["flips"])
    assert sum(n for a, b, n in cells if a != b) > 0
    expect(page.locator("#refused li")).to_have_count(2)  # two rows with a wrong value, one without any
    expect(page.locator("#refused")).to_contain_text("segment: Must be one of: b2c, ecommerce, b2b.")
    screenshot(page, "portfolio-desktop-en")

    # Polish: the page's strings from its catalogue, the model's labels from the API, the same numbers
    page.click("button[data-lang=pl]")
    expect(page.locator("h1")).to_have_text(CATALOGUE["pl"]["heading"])
    polish = requests.get(portfolio_server.url + "/criteria", headers={"Accept-Language": "pl"}, timeout=10).json()
    top = next(c["label"] for c in polish["criteria"] if c["name"] == drivers[0]["key"])
    expect(page.locator("#drivers .chart-row").first.locator(".chart-label")).to_have_text(top)
    hybrid = next(s["label"] for s in polish["strategies"] if s["name"] == "hybrid")
    expect(page.locator("#distribution [data-strategy=hybrid] .distribution-label")).to_have_text(hybrid)
    assert [row["value"] for row in bars(page, "#drivers .chart-row", "mean")] == [row["value"] for row in drivers]
    screenshot(page, "portfolio-desktop-pl")

    # the scored CSV, in Polish: every row, in order, the input columns first, as the stream writes it
    with page.expect_download(timeout=120_000) as info:
        page.click("#download")
    target = tmp_path / "scored.csv"
    info.value.save_as(target)
    assert info.value.suggested_filename == "accounts-scored.csv"
    table = list(csv.DictReader(io.StringIO(target.read_bytes().decode())))
    assert len(table) == ROWS and list(table[0])[:len(columns)] == columns
    assert [line["external_id"] for line in table] == [p["external_id"] for p in profiles]
    assert [line["recommendation"] for line in table] == expected["recommendations"]
    assert [n for n, line in enumerate(table) if line["error"]] == sorted(REFUSED)
    assert {line["comparison_model"] for line in table if not line["error"]} == {SECOND}
    labels = {c["label"] for c in polish["criteria"]}
    assert all(line["factor_1"].split(": ")[0] in labels for line in table if not line["error"])

    # nothing left the origin, nothing was kept in the browser
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert page.context.cookies() == []
    visit.check_clean()
