"""Model 2.0.0: it answers the article's own cases as the article does, accepts every 1.0.0 profile, and advises
only moves a consultant would sign."""

from __future__ import annotations

import json
import re
from itertools import combinations, product
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from service.scoring import Model, ModelError, assess, calibrate, load_model, render
from service.scoring.model import STRATEGIES
from tests.support.models import MODEL_FILE, model_folder
from tests.support.profiles import profiles

V2_FILE = MODEL_FILE.parent / "sales-strategy-v2.json"
V1 = load_model(MODEL_FILE)
V2 = load_model(V2_FILE)
RESULTS = {result.case.name: result for result in calibrate(V2)}


@pytest.mark.parametrize("name", list(RESULTS))
def test_each_calibration_case_gets_an_answer_the_article_allows(name: str) -> None:
    result = RESULTS[name]
    assessment = result.assessment
    assert result.passed, (f"{name}: {assessment.recommendation} at index {assessment.index:+.3f}, "
                           f"the article allows {result.case.expected} ({result.case.seed.quote!r})")


def test_the_cases_cover_what_the_article_describes() -> None:
    names = set(RESULTS)
    assert len(names) >= 20
    assert {"amazon", "nike", "starbucks", "apple", "firma-x", "marka-y", "sklep-z", "firma-a", "bakery"} <= names
    sections = {result.case.seed.section for result in RESULTS.values()}
    assert {"Przykłady firm stosujących sprzedaż relacyjną", "Studia przypadków – sukcesy i porażki",
            "Zalety sprzedaży relacyjnej dla małych biznesów", "Kiedy sprzedaż transakcyjna ma sens?",
            "Podsumowanie – która strategia wybrać?", "analiza skuteczności obu strategii w 2024 roku"} <= sections
    assert len([n for n in names if n.startswith("condition-")]) == 4  # each condition of "Kiedy ... ma sens?"
    assert {"segment-b2b", "segment-b2c", "segment-ecommerce", "balanced-firm"} <= names
    assert RESULTS["balanced-firm"].case.expected == ("hybrid",)


def test_the_issues_businesses_no_longer_get_the_wrong_side() -> None:
    assert RESULTS["amazon"].assessment.recommendation != "transactional"
    assert RESULTS["bakery-required-only"].assessment.recommendation != "transactional"
    assert RESULTS["bakery"].assessment.recommendation == "relational"
    assert RESULTS["starbucks-required-only"].assessment.recommendation != "transactional"


def _with_case(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    document["calibration"][0].update(changes)
    return document


@pytest.mark.parametrize(("change", "message"), [
    ({"profile": {"segment": "b2b"}}, "/calibration/0/profile: sales_goal: required"),
    ({"profile": {**RESULTS["amazon"].case.profile, "colour": "red"}}, "names no criterion: colour"),
    ({"profile": {**RESULTS["amazon"].case.profile, "segment": "b2x"}}, "segment: must be one of"),
    ({"expected": ["maybe"]}, "/calibration/0/expected: must list"),
    ({"seed": {"section": "Podsumowanie – która strategia wybrać?", "quote": "kot ma Alę"}}, "/calibration/0/seed"),
])
def test_a_broken_calibration_case_is_refused_when_loaded(tmp_path: Path, change: dict[str, Any],
                                                          message: str) -> None:
    document = _with_case(json.loads(V2_FILE.read_text()), **change)
    path = model_folder(tmp_path / "models", broken=document) / "broken.json"
    with pytest.raises(ModelError, match=re.escape(message)):
        load_model(path)


def test_an_alias_must_map_to_a_scored_option_with_its_lean(tmp_path: Path) -> None:
    document = json.loads(V2_FILE.read_text())
    segment = next(c for c in document["criteria"] if c["name"] == "segment")
    alias = next(o for o in segment["options"] if o["value"] == "ecommerce")
    alias["maps_to"] = "b2x"
    path = model_folder(tmp_path / "a", broken=document) / "broken.json"
    with pytest.raises(ModelError, match="'b2x' is not a scored option of segment"):
        load_model(path)
    alias["maps_to"], alias["lean"] = "b2c", 0
    path = model_folder(tmp_path / "b", broken=document) / "broken.json"
    with pytest.raises(ModelError, match="must equal the lean of 'b2c'"):
        load_model(path)


# --- 2.0.0 accepts what 1.0.0 accepts ---

@settings(max_examples=300)
@given(profiles(model=V1))
def test_every_profile_of_1_0_0_is_valid_for_2_0_0(profile: dict[str, Any]) -> None:
    assert V2.problems(profile) == []
    assess(V2, profile)


def test_every_option_of_1_0_0_is_an_option_of_2_0_0() -> None:
    for old in V1.criteria:
        new = V2.criterion(old.name)
        assert new.required == old.required
        assert {o.value for o in old.options} <= {o.value for o in new.options}
    assert {c.name for c in V2.criteria if c.required} == {c.name for c in V1.criteria if c.required}


def test_ecommerce_is_scored_and_explained_as_b2c() -> None:
    base = {"sales_goal": "balanced", "product_complexity": "medium", "purchase_cycle": "short",
            "customer_expectation": "balanced"}
    alias, target = assess(V2, {**base, "segment": "ecommerce"}), assess(V2, {**base, "segment": "b2c"})
    assert alias.index == target.index and alias.recommendation == target.recommendation
    assert render(alias, "en")["rationale"] == render(target, "en")["rationale"]
    assert all(c.change.before != "ecommerce" and c.change.after != "ecommerce" for c in alias.counterfactuals)


# --- the leans and weights the article supports ---

PODSUMOWANIE = {"sales_goal", "customer_expectation", "offer_type", "product_complexity", "team_relationship_skills"}


def test_the_four_factors_of_podsumowanie_weigh_most() -> None:
    four = [V2.criterion(name).weight for name in PODSUMOWANIE]
    others = [c.weight for c in V2.criteria if c.name not in PODSUMOWANIE]
    assert min(four) > max(others)


def test_leans_the_article_does_not_support_are_moderate() -> None:
    assert V2.criterion("crm_maturity").lean("none") >= -0.25  # an obstacle to fix, not a reason
    assert V2.criterion("purchase_cycle").lean("long") <= 0.25  # the article says nothing about long cycles
    assert V2.criterion("offer_commoditization").lean("high") >= -0.5  # competition cuts both ways in the article
    assert V2.criterion("segment").lean("ecommerce") == V2.criterion("segment").lean("b2c")
    retention = V2.criterion("retention_rate")
    assert retention.number is not None and retention.number.span >= 0.5
    assert retention.reason(0.51)[0] == retention.reason(0.5)[0] == retention.reason(0.59)[0]  # no flip at 50%


# --- plans a consultant would give ---

def allowed(model: Model, profile: dict[str, Any], name: str, index: float) -> list[Any]:
    criterion = model.criterion(name)
    value = profile.get(name)
    now = index if value is None else criterion.lean(value)
    return [o.value for o in criterion.options if o.maps_to is None and o.value != value and (
        criterion.moves == "either" or (o.lean > now if criterion.moves == "up" else o.lean < now))]


@settings(max_examples=80)
@given(profiles(model=V2))
def test_no_plan_ever_lowers_a_capability_and_each_is_true_and_minimal(profile: dict[str, Any]) -> None:
    assessment = assess(V2, profile)
    actionable = [c.name for c in V2.criteria if c.actionable]
    for plan in assessment.plans:
        for change in plan.changes:
            criterion = change.criterion
            assert criterion.actionable
            if criterion.moves == "up":
                floor = assessment.index if change.before is None else criterion.lean(change.before)
                assert criterion.lean(change.after) > floor, (criterion.name, change)
        reached_with = [
            size for size in range(1, len(actionable) + 1)
            if any(assess(V2, {**profile, **dict(zip(subset, values, strict=True))}).recommendation == plan.target
                   for subset in combinations(actionable, size)
                   for values in product(*(allowed(V2, profile, n, assessment.index) for n in subset)))]
        if not plan.reachable:
            assert reached_with == []
            continue
        again = assess(V2, {**profile, **{c.criterion.name: c.after for c in plan.changes}})
        assert again.recommendation == plan.target and again.index == plan.index
        assert min(reached_with) == len(plan.changes)


def test_the_issues_plans_are_gone() -> None:
    """A skilled team with a CRM is never advised to unlearn or drop it to reach another strategy."""
    profile = {"segment": "b2b", "sales_goal": "long_term_loyalty", "product_complexity": "high",
               "purchase_cycle": "long", "customer_expectation": "personalization",
               "team_relationship_skills": "high", "crm_maturity": "advanced"}
    for plan in assess(V2, profile).plans:
        assert all(c.criterion.name not in ("team_relationship_skills", "crm_maturity") for c in plan.changes)


# --- text a Polish salesperson would write ---

TEXT = V2_FILE.read_text()


def _ours(node: Any) -> list[str]:
    """Every Polish text of the file that is the model's own (quotes excluded: they are the article's words)."""
    if isinstance(node, dict):
        return [t for key, value in node.items() if key != "seed" for t in (
            [value] if key == "pl" and isinstance(value, str) else _ours(value))]
    if isinstance(node, list):
        return [t for item in node for t in _ours(item)]
    return []


POLISH = _ours({k: v for k, v in json.loads(TEXT).items() if k != "calibration"})


@pytest.mark.parametrize("phrase", ["może być trzeba", "przechyla", "sygnały płyną", "a w tym mocna jest",
                                    "pole do działania", "zniżk", "obniżk", "mierni", "„Sprzedaż",
                                    "skala relacyjności"])
def test_the_phrases_the_issue_names_are_gone(phrase: str) -> None:
    assert not [text for text in POLISH if phrase in text]


def test_one_term_per_thing_and_the_articles_word_for_referrals() -> None:
    assert "Revenue from referrals" not in TEXT
    kpis = [k.text["pl"] for k in V2.playbooks["relational"].kpis]
    assert "Zyski z poleceń" in kpis
    assert V2.messages["list_last_separator"]["pl"] not in (" i ", " oraz ")  # labels themselves hold "i"


@settings(max_examples=100)
@given(profiles(model=V2))
def test_strategy_names_inside_polish_sentences_are_declined(profile: dict[str, Any]) -> None:
    body = render(assess(V2, profile), "pl")
    labels = [V2.strategies[name].label["pl"] for name in STRATEGIES]
    sentences = [body["margin"]["summary"], *(plan["summary"] for plan in body["plans"])]
    for sentence in sentences:
        assert not any(label in sentence for label in labels), sentence  # never the capitalised nominative label
    for plan in body["plans"]:
        if plan["reachable"]:
            assert re.match(r"Do sprzedaży (relacyjnej|transakcyjnej|hybrydowej) prowadzą", plan["summary"])


def test_answering_an_open_question_reads_as_such() -> None:
    profile = {"segment": "b2c", "sales_goal": "quick_conversion", "product_complexity": "low",
               "purchase_cycle": "impulse", "customer_expectation": "speed_and_price"}
    for language, marker in (("en", "(question not answered yet): "), ("pl", "(pytanie dotąd bez odpowiedzi): ")):
        plans = render(assess(V2, profile), language)["plans"]
        phrases = [p["summary"] for p in plans if p["reachable"]]
        assert phrases and any(marker in phrase for phrase in phrases)
        for phrase in phrases:  # the marker follows the question's label, never a value
            for option in (o for c in V2.criteria for o in c.options):
                assert f"{option.label[language]} {marker.strip()}" not in phrase


def test_a_hybrid_that_leans_one_way_says_which() -> None:
    profile = {"segment": "b2b", "sales_goal": "balanced", "product_complexity": "medium", "purchase_cycle": "medium",
               "customer_expectation": "balanced"}
    assessment = assess(V2, profile)
    assert assessment.recommendation == "hybrid"
    assert "raczej za sprzedażą relacyjną" in render(assessment, "pl")["rationale"]["summary"]
    assert "lean toward relational selling" in render(assessment, "en")["rationale"]["summary"]


def test_table_row_quotes_read_as_text_with_the_articles_words() -> None:
    body = render(assess(V2, RESULTS["segment-b2c"].case.profile), "pl")
    segment = next(f for f in body["rationale"]["factors"] if f["criterion"] == "segment")
    assert segment["source"]["quote"] == "Sprzedaż transakcyjna – 56% – B2C"
    for criterion in V2.criteria:
        for option in criterion.options:
            shown, stored = option.seed.display, option.seed.quote
            assert "|" not in shown
            words = [word for word in shown.split() if word != "–"]
            assert words == [word for word in stored.replace("|", " ").split() if word != "–"]
