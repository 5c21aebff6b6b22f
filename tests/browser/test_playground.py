"""The assessment playground (issue 7), in a real headless Chromium against a real gunicorn."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from service.scoring import LANGUAGES
from tests.support.browser import Visit as PageVisit
from tests.support.browser import screenshot
from tests.support.models import REFERENCE_PROFILES, ROOT
from tests.support.servers import Server, start_gunicorn, stop_gunicorn

ASSETS = ROOT / "service" / "playground"
CATALOGUE = json.loads((ASSETS / "i18n.json").read_text(encoding="utf-8"))
PHONE = {"width": 375, "height": 812}


class Visit(PageVisit):
    """One page of the playground, and what a person does on it."""

    def open(self, path: str = "/playground") -> None:
        self.page.goto(self.server.url + path)
        expect(self.page.locator("#questions fieldset.question").first).to_be_visible()

    def fill(self, profile: dict[str, Any]) -> None:
        for name, value in profile.items():
            radio = self.page.locator(f'#questions input[type=radio][name="{name}"][value="{value}"]')
            if radio.count():
                radio.check()
            elif self.page.locator(f"#input-{name}").count():
                self.page.fill(f"#input-{name}", f"{value:g}")  # a share, as the API takes it

    def assess(self) -> dict[str, Any]:
        with self.page.expect_response(lambda r: r.url.endswith("/assess") and r.request.method == "POST") as info:
            self.page.click("#assess-button")
        return info.value.json()

    def scroll_width(self) -> int:
        return self.page.evaluate("document.documentElement.scrollWidth")


def criteria(server: Server, language: str = "en") -> dict[str, Any]:
    return server.get("/criteria", headers={"Accept-Language": language}).json()


def strategy_label(body: dict[str, Any], name: str) -> str:
    return next(s["label"] for s in body["strategies"] if s["name"] == name)


def chart_geometry(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("""() => [...document.querySelectorAll('#factor-chart .chart-row')].map(row => {
        const track = row.querySelector('.track').getBoundingClientRect();
        const bar = row.querySelector('.bar').getBoundingClientRect();
        return {criterion: row.dataset.criterion, contribution: Number(row.dataset.contribution),
                centre: track.left + track.width / 2, half: track.width / 2, left: bar.left, right: bar.right,
                width: bar.width, label: row.querySelector('.track').getAttribute('aria-label')};
    })""")


def check_chart(page: Page, factors: list[dict[str, Any]]) -> None:
    """A bar per factor, in order, on the side its contribution's sign says, as long as its share of the largest."""
    bars = chart_geometry(page)
    assert [b["criterion"] for b in bars] == [f["criterion"] for f in factors]
    largest = max(abs(f["contribution"]) for f in factors)
    assert largest > 0
    for bar, factor in zip(bars, factors, strict=True):
        assert bar["contribution"] == pytest.approx(factor["contribution"])
        assert factor["label"] in bar["label"] and factor["value_label"] in bar["label"]
        assert bar["width"] == pytest.approx(abs(factor["contribution"]) / largest * bar["half"], abs=1.0)
        if factor["contribution"] > 0:
            assert bar["left"] == pytest.approx(bar["centre"], abs=1.0) and bar["right"] > bar["centre"] + 1
        elif factor["contribution"] < 0:
            assert bar["right"] == pytest.approx(bar["centre"], abs=1.0) and bar["left"] < bar["centre"] - 1


def low_contrast(page: Page) -> list[str]:
    """Visible text under WCAG AA contrast (4.5:1, or 3:1 for large text) against its nearest opaque background."""
    return page.evaluate("""() => {
        const parse = c => {
            const p = (c.match(/rgba?\\(([^)]+)\\)/) || [, ''])[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
            return p.length < 3 ? null : {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
        const channel = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
        const lum = c => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
        const background = el => { for (let e = el; e; e = e.parentElement) {
            const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; }
            return {r: 255, g: 255, b: 255, a: 1}; };
        const bad = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            const node = walker.currentNode, el = node.parentElement;
            if (!node.textContent.trim() || !el.getClientRects().length) continue;
            if (el.closest('.visually-hidden, .skip-link')) continue;
            const style = getComputedStyle(el), size = parseFloat(style.fontSize);
            const [high, low] = [lum(parse(style.color)), lum(background(el))].sort((a, b) => b - a);
            const ratio = (high + 0.05) / (low + 0.05);
            const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
            if (ratio < (large ? 3 : 4.5)) bad.push(`${node.textContent.trim().slice(0, 40)}: ${ratio.toFixed(2)}`);
        }
        return bad;
    }""")


# ---- served right ---------------------------------------------------------------------------------------

def test_the_page_and_its_assets_are_served_same_origin_under_a_strict_csp(server: Server) -> None:
    pages = [requests.get(server.url + path, timeout=10) for path in ("/", "/playground")]
    assert [p.status_code for p in pages] == [200, 200]
    assert pages[0].text == pages[1].text
    html = pages[0].text
    assets = re.findall(r'(?:src|href)="(playground/assets/[^"]+)"', html)
    assert {"playground/assets/playground.js", "playground/assets/playground.css"} <= set(assets)
    for response in [*pages, *(requests.get(f"{server.url}/{asset}", timeout=10) for asset in assets),
                     requests.get(f"{server.url}/playground/assets/i18n.json", timeout=10)]:
        assert response.status_code == 200, response.url
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert pages[0].headers["Content-Type"].startswith("text/html")
    # the page's policy belongs to the page's blueprint only
    assert server.get("/criteria").headers.get("Content-Security-Policy") != pages[0].headers["Content-Security-Policy"]
    # nothing inline for the CSP to block, and nothing fetched from elsewhere
    assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", html)
    for name in ("index.html", "playground.js", "playground.css"):
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", (ASSETS / name).read_text()), name
    assert requests.get(server.url + "/playground/assets/../views/playground.py", timeout=10).status_code == 404


def test_the_catalogue_has_every_string_in_both_languages() -> None:
    assert set(CATALOGUE) == set(LANGUAGES)
    assert CATALOGUE["en"].keys() == CATALOGUE["pl"].keys()
    assert all(isinstance(v, str) and v.strip() for strings in CATALOGUE.values() for v in strings.values())
    used = set(re.findall(r'data-i18n="(\w+)"', (ASSETS / "index.html").read_text()))
    used |= set(re.findall(r'\bt\(\s*"(\w+)"', (ASSETS / "playground.js").read_text()))
    used |= {f"favours_{side}" for side in ("relational", "transactional", "neither")}
    assert len(used) > 40
    assert used <= CATALOGUE["en"].keys(), used - CATALOGUE["en"].keys()


# ---- the form and the answer --------------------------------------------------------------------------

def test_the_form_has_every_criterion_with_its_options_and_the_question_as_help(page: Page, server: Server) -> None:
    visit = Visit(page, server)
    visit.open("/")
    model = criteria(server)
    fieldsets = page.locator("#questions fieldset.question")
    expect(fieldsets).to_have_count(len(model["criteria"]))
    for criterion in model["criteria"]:
        field = page.locator(f"#field-{criterion['name']}")
        expect(field.locator("legend")).to_contain_text(criterion["label"])
        expect(field.locator(".hint")).to_have_text(criterion["question"])
        expect(field.locator(".badge--required")).to_have_count(1 if criterion["required"] else 0)
        if criterion["options"]:
            for option in criterion["options"]:
                radio = field.locator(f'input[type=radio][value="{option["value"]}"]')
                expect(page.get_by_label(option["label"], exact=True).and_(radio)).to_have_count(1)
            unknown = field.get_by_label(CATALOGUE["en"]["unknown"], exact=True)
            if criterion["required"]:
                expect(unknown).to_have_count(0)
                expect(field.locator("input:checked")).to_have_count(0)
            else:
                expect(unknown).to_be_checked()
        else:
            expect(field.get_by_label(CATALOGUE["en"]["shareLabel"])).to_have_attribute("type", "number")
            expect(field.locator("input[type=number]")).to_have_attribute("max", "1")  # the API's unit
    # every control has a label
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => e.labels.length === 0).map(e => e.id || e.name)""")
    assert unlabelled == []
    visit.check_clean()


@pytest.mark.parametrize("name", ["b2b_it_consultancy", "b2c_discount_electronics_shop"])
def test_a_reference_profile_is_assessed_and_drawn(page: Page, server: Server, name: str) -> None:
    reference = REFERENCE_PROFILES[name]
    visit = Visit(page, server)
    visit.open()
    visit.fill(reference["profile"])
    body = visit.assess()
    model = criteria(server)

    assert body["recommendation"] == reference["expected"]
    expect(page.locator("#recommendation")).to_have_text(strategy_label(model, reference["expected"]))
    expect(page.locator("#verdict")).to_have_attribute("data-recommendation", reference["expected"])
    for figure in ("confidence", "coverage"):
        shown = page.locator(f"#{figure}").inner_text()
        assert re.fullmatch(r"\d+%", shown) and abs(int(shown[:-1]) - body[figure] * 100) <= 0.5
    expect(page.locator("#summary")).to_have_text(body["rationale"]["summary"])
    expect(page.locator("#status")).to_contain_text(strategy_label(model, reference["expected"]))
    expect(page.locator("#status")).to_have_attribute("aria-live", "polite")
    assert page.evaluate("document.activeElement.id") == "results-heading"

    factors = body["rationale"]["factors"]
    check_chart(page, factors)
    assert any(f["favours"] == reference["expected"] for f in factors)

    # what would change the answer, and the playbook
    if body["counterfactuals"]:
        expect(page.locator("#counterfactuals > li")).to_have_count(len(body["counterfactuals"]))
    else:
        expect(page.locator("#counterfactuals")).to_have_text(CATALOGUE["en"]["noChanges"])
    if body.get("plans"):
        expect(page.locator("#plans > li")).to_have_count(len(body["plans"]))
        expect(page.locator("#plans")).to_contain_text(body["plans"][0]["summary"])
    if body.get("missing_information"):
        expect(page.locator("#one-question")).to_contain_text(body["missing_information"][0]["question"])
    if body.get("margin", {}).get("close_call"):
        expect(page.locator("#margin")).to_contain_text(body["margin"]["summary"])
    else:
        expect(page.locator("#margin")).to_have_count(0)
    playbook = body["playbook"]
    for key, count in (("kpis", len(playbook["kpis"])), ("tools", len(playbook["tools"])),
                       ("steps", len(playbook["steps"])), ("risks", len(playbook["risks"]))):
        assert count > 0
        expect(page.locator(f"#playbook .playbook-block:has(h4:text-is('{CATALOGUE['en'][key]}')) li")).to_have_count(
            count)
    expect(page.locator("#playbook")).to_contain_text(playbook["risks"][0]["mitigation"])
    assert low_contrast(page) == []
    if name == "b2b_it_consultancy":
        screenshot(page, "playground-desktop-en")
    visit.check_clean()


# Leans both ways and sits just past the transactional threshold: single changes flip it, the bars point both ways.
NEAR_THE_EDGE = {"segment": "ecommerce", "sales_goal": "quick_conversion", "product_complexity": "low",
                 "purchase_cycle": "short", "customer_expectation": "balanced", "team_relationship_skills": "high",
                 "crm_maturity": "advanced", "company_size": "medium"}


def test_what_would_change_the_answer_is_listed_in_words(page: Page, server: Server) -> None:
    visit = Visit(page, server)
    visit.open()
    visit.fill(NEAR_THE_EDGE)
    body = visit.assess()
    model = criteria(server)
    labels = {c["name"]: c for c in model["criteria"]}
    factors = body["rationale"]["factors"]
    assert {f["favours"] for f in factors} >= {"relational", "transactional"}, "the profile should lean both ways"
    check_chart(page, factors)
    counterfactuals = body["counterfactuals"]
    assert counterfactuals, "a profile this close to the threshold should have single changes that flip it"
    items = page.locator("#counterfactuals > li")
    expect(items).to_have_count(len(counterfactuals))

    def shown(name: str, value: Any) -> str:
        if value is None:
            return CATALOGUE["en"]["notAnswered"]
        if labels[name]["options"]:
            return next(o["label"] for o in labels[name]["options"] if o["value"] == value)
        return f"{round(value * 100)}%"

    for item, change in zip(items.all(), counterfactuals, strict=True):
        name = change["criterion"]
        words = f"{labels[name]['label']}: {shown(name, change['from'])} → {shown(name, change['to'])}"
        expect(item).to_contain_text(words)
        expect(item).to_contain_text(strategy_label(model, change["recommendation"]))
        expect(item).to_contain_text(CATALOGUE["en"]["actionable" if change["actionable"] else "notActionable"])
    if body.get("margin", {}).get("close_call"):
        expect(page.locator("#margin")).to_contain_text(body["margin"]["summary"])
    if body.get("missing_information"):
        expect(page.locator("#one-question")).to_contain_text(body["missing_information"][0]["question"])
    screenshot(page, "playground-what-would-change")
    visit.check_clean()


def test_switching_to_polish_redraws_labels_and_the_answer_in_polish(page: Page, server: Server) -> None:
    visit = Visit(page, server)
    visit.open()
    visit.fill(REFERENCE_PROFILES["b2b_it_consultancy"]["profile"])
    sent = visit.assess()
    profile = next(r for r in reversed(visit.requests) if r.url.endswith("/assess")).post_data_json
    polish = criteria(server, "pl")

    with page.expect_response(lambda r: r.url.endswith("/assess")) as info:
        page.get_by_role("button", name="Polski").click()
    polish_body = info.value.json()
    assert info.value.request.all_headers()["accept-language"] == "pl"
    assert info.value.request.post_data_json == profile
    expect(page.locator("#recommendation")).to_have_text(strategy_label(polish, sent["recommendation"]))
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    expect(page.get_by_role("button", name="Polski")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#assess-button")).to_have_text(CATALOGUE["pl"]["assess"])
    expect(page.locator("h1")).to_have_text(CATALOGUE["pl"]["heading"])
    segment = next(c for c in polish["criteria"] if c["name"] == "segment")
    expect(page.locator("#field-segment legend")).to_contain_text(segment["label"])
    expect(page.locator("#field-segment .hint")).to_have_text(segment["question"])
    expect(page.get_by_label("B2B", exact=True)).to_be_checked()  # the answers survive the rebuild
    polish_summary = server.post("/assess", json=profile, headers={"Accept-Language": "pl"}).json()
    assert polish_summary["rationale"]["summary"] != sent["rationale"]["summary"]
    expect(page.locator("#summary")).to_have_text(polish_summary["rationale"]["summary"])
    assert polish_body["rationale"]["summary"] == polish_summary["rationale"]["summary"]
    expect(page.locator("#playbook")).to_contain_text(polish_body["playbook"]["kpis"][0])
    expect(page.locator("#factor-chart .chart-row")).to_have_count(len(polish_body["rationale"]["factors"]))
    screenshot(page, "playground-desktop-pl")
    visit.check_clean()


def test_the_language_switch_offers_the_service_s_languages(page: Page, server: Server) -> None:
    Visit(page, server).open("/")
    expect(page.locator("html")).to_have_attribute("data-languages", " ".join(LANGUAGES))
    buttons = page.locator("[data-lang]")
    expect(buttons).to_have_count(len(LANGUAGES))
    for language in LANGUAGES:
        expect(page.locator(f'[data-lang="{language}"]')).to_have_text(CATALOGUE[language]["languageName"])


def test_a_problem_is_shown_in_polish_after_switching_to_polish(page: Page, server: Server) -> None:
    """The service's problem details (title, detail, each field's) come in the page's language, unit included."""
    visit = Visit(page, server)
    visit.open("/?lang=pl")
    profile = {k: v for k, v in REFERENCE_PROFILES["b2b_it_consultancy"]["profile"].items() if k != "segment"}
    visit.fill(profile)
    page.fill("#input-retention_rate", "1.5")
    with page.expect_response(lambda r: r.url.endswith("/assess") and r.request.method == "POST") as info:
        page.click("#assess-button")
    assert info.value.headers["content-language"] == "pl"
    body = info.value.json()
    assert body["title"] == "Nieprzetwarzalna treść" and body["detail"] == "Profil ma 2 nieprawidłowe pola."
    details = {e["pointer"]: e["detail"] for e in body["errors"]}
    assert details == {"/segment": "Brak wartości wymaganego pola.",
                       "/retention_rate": "Musi być udziałem od 0 do 1 (0,7 oznacza 70%)."}
    summary = page.locator("#error")
    expect(summary).to_contain_text(body["title"])
    expect(summary).to_contain_text(body["detail"])
    for name in ("segment", "retention_rate"):
        expect(page.locator(f"#error-{name}")).to_have_text(details[f"/{name}"])
    expect(page.locator("#field-retention_rate label[for=input-retention_rate]")).to_have_text(
        CATALOGUE["pl"]["shareLabel"])
    screenshot(page, "playground-error-pl")
    visit.check_clean()


def test_on_a_phone_nothing_scrolls_sideways_in_either_language(page: Page, server: Server) -> None:
    page.set_viewport_size(PHONE)
    visit = Visit(page, server)
    visit.open()
    assert visit.scroll_width() <= PHONE["width"]
    visit.fill(REFERENCE_PROFILES["b2c_discount_electronics_shop"]["profile"])
    body = visit.assess()
    expect(page.locator("#factor-chart .chart-row")).to_have_count(len(body["rationale"]["factors"]))
    for details in page.locator("#factor-chart details").all():  # the longest text, opened
        details.locator("summary").click()
    assert visit.scroll_width() <= PHONE["width"]
    screenshot(page, "playground-phone-en")
    page.get_by_role("button", name="Polski").click()
    expect(page.locator("#assess-button")).to_have_text(CATALOGUE["pl"]["assess"])
    expect(page.locator("#recommendation")).to_have_text(
        strategy_label(criteria(server, "pl"), body["recommendation"]))
    assert visit.scroll_width() <= PHONE["width"]
    screenshot(page, "playground-phone-pl")
    visit.check_clean()


# ---- errors ------------------------------------------------------------------------------------------------

def test_a_422_is_shown_next_to_the_fields_it_names(page: Page, server: Server) -> None:
    visit = Visit(page, server)
    visit.open()
    profile = {k: v for k, v in REFERENCE_PROFILES["b2b_it_consultancy"]["profile"].items() if k != "segment"}
    visit.fill(profile)
    page.fill("#input-retention_rate", "1.5")  # a share over 1 (150%): the service, not the page, says no
    body = visit.assess()

    assert body["status"] == 422
    details = {e["pointer"]: e["detail"] for e in body["errors"]}
    assert set(details) == {"/segment", "/retention_rate"}
    for name in ("segment", "retention_rate"):
        field = page.locator(f"#field-{name}")
        expect(field).to_have_class(re.compile(r"\bhas-error\b"))
        expect(page.locator(f"#error-{name}")).to_contain_text(details[f"/{name}"])
        expect(field).to_have_attribute("aria-describedby", re.compile(rf"\berror-{name}\b"))
        expect(field.locator("input").first).to_have_attribute("aria-invalid", "true")
    assert "0.7 means 70%" in details["/retention_rate"]  # the unit the field asks for
    expect(page.locator("#field-sales_goal")).not_to_have_class(re.compile(r"\bhas-error\b"))
    summary = page.locator("#error")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_contain_text(body["title"])
    expect(summary).to_contain_text(body["request_id"])
    expect(summary.get_by_role("link")).to_have_count(2)
    assert page.evaluate("document.activeElement.id") == "error"
    expect(page.locator("#result")).to_be_hidden()
    assert low_contrast(page) == []
    screenshot(page, "playground-error")

    # the summary's link takes the keyboard to the field; answering it clears the error
    summary.get_by_role("link", name=re.compile("segment", re.I)).click()
    assert page.evaluate("document.activeElement.name") == "segment"
    page.get_by_label("B2B", exact=True).check()
    page.check("#retention_rate-unknown")
    assert visit.assess()["recommendation"] == "relational"
    expect(page.locator(".question.has-error")).to_have_count(0)
    expect(summary).to_be_empty()
    visit.check_clean()


# ---- keyboard and keys ---------------------------------------------------------------------------------------

def focused(page: Page) -> dict[str, Any]:
    return page.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
        return {id: e.id, type: e.type, name: e.name, value: e.value, checked: e.checked,
                outline: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth)}; }""")


def test_the_whole_flow_works_from_the_keyboard_alone(page: Page, server: Server) -> None:
    visit = Visit(page, server)
    visit.open()
    wanted = dict(REFERENCE_PROFILES["minimal_required_only_b2b"]["profile"])
    for _ in range(200):
        page.keyboard.press("Tab")
        now = focused(page)
        assert now["outline"] != "none" and now["outlineWidth"] >= 2, f"no visible focus on {now}"
        if now["type"] == "radio" and now["name"] in wanted:
            target = wanted.pop(now["name"])
            page.keyboard.press("Space")
            for _ in range(6):
                if focused(page)["value"] == target:
                    break
                page.keyboard.press("ArrowRight")
            chosen = focused(page)
            assert (chosen["name"], chosen["value"], chosen["checked"]) == (now["name"], target, True)
        elif now["id"] == "assess-button":
            break
    assert not wanted, f"never reached {wanted}"
    assert focused(page)["id"] == "assess-button"
    with page.expect_response(lambda r: r.url.endswith("/assess")) as info:
        page.keyboard.press("Enter")
    assert info.value.request.post_data_json == REFERENCE_PROFILES["minimal_required_only_b2b"]["profile"]
    expect(page.locator("#recommendation")).to_have_text("Relational selling")
    assert focused(page)["id"] == "results-heading"
    visit.check_clean()


KEY = "s3cret-key_2024"


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A gunicorn whose API needs a key (the page itself is open)."""
    server = start_gunicorn(tmp_path_factory.mktemp("keyed"), workers=1, env={"STRATEGY_API_KEYS": KEY})
    yield server
    stop_gunicorn(server)


def test_an_api_key_is_asked_for_on_401_and_sent_as_a_bearer_token_only(page: Page, keyed_server: Server) -> None:
    sent: list[str | None] = []
    page.on("request", lambda r: sent.append(r.headers.get("authorization")) if r.url.endswith(("/criteria", "/assess"))
            else None)
    visit = Visit(page, keyed_server)
    page.goto(keyed_server.url + "/playground")
    expect(page.locator("#questions [role=alert]")).to_contain_text(CATALOGUE["en"]["unauthorized"])
    key = page.get_by_label("API key")
    expect(key).to_have_attribute("type", "password")
    key.fill(KEY)
    key.press("Enter")
    expect(page.locator("#questions fieldset.question").first).to_be_visible()
    assert sent == [None, f"Bearer {KEY}"]

    # a wrong key: the assessment is refused, the message sits by the key field, which gets the focus
    visit.fill(REFERENCE_PROFILES["b2b_it_consultancy"]["profile"])
    key.fill("wrong")
    refused = visit.assess()
    assert refused["status"] == 401
    expect(page.locator("#api-key-error")).to_have_text(CATALOGUE["en"]["unauthorized"])
    expect(page.locator("#error")).to_contain_text(CATALOGUE["en"]["unauthorized"])
    expect(page.locator("#error")).to_contain_text(refused["request_id"])
    expect(key).to_have_attribute("aria-invalid", "true")
    assert focused(page)["id"] == "api-key"

    # the right key, and Enter: the refused request goes again, and this time the service answers it
    key.fill(KEY)
    with page.expect_response(lambda r: r.url.endswith("/assess")) as info:
        key.press("Enter")
    assert info.value.status == 200
    expect(page.locator("#recommendation")).to_have_text("Relational selling")
    expect(page.locator("#api-key-error")).to_be_empty()
    assert sent[-1] == f"Bearer {KEY}" and "Bearer wrong" in sent

    # kept in memory only
    assert page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]") == [0, 0, ""]
    assert page.context.cookies() == []
    assert not any(KEY in r.url for r in visit.requests)
    screenshot(page, "playground-api-key")
    visit.check_clean()
