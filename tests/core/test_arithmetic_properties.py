"""Contract §3 as properties, over every profile hypothesis can build from the model."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from service.scoring import assess, decide, render
from service.scoring.arithmetic import decisiveness
from tests.support.profiles import MODEL, profiles, values


def numbers(document: Any) -> Any:
    """Every number of a rendered assessment, with all text taken out."""
    if isinstance(document, dict):
        return {key: numbers(value) for key, value in document.items() if not isinstance(value, str)}
    if isinstance(document, list):
        return [numbers(item) for item in document if not isinstance(item, str)]
    return document


@given(profiles())
def test_contributions_add_up_to_the_index(profile: dict[str, Any]) -> None:
    assessment = assess(MODEL, profile)
    assert -1 <= assessment.index <= 1
    assert math.isclose(sum(f.contribution for f in assessment.factors), assessment.index, abs_tol=1e-6)
    weights = sum(MODEL.criterion(name).weight for name in profile)
    expected = sum(MODEL.criterion(n).weight * MODEL.criterion(n).lean(v) for n, v in profile.items()) / weights
    assert math.isclose(assessment.index, expected, abs_tol=1e-12)
    assert math.isclose(assessment.relational_score, 50 * (1 + assessment.index))
    assert math.isclose(assessment.relational_score + assessment.transactional_score, 100)
    assert math.isclose(assessment.coverage, weights / MODEL.total_weight)
    assert assessment.recommendation == decide(assessment.index, MODEL.threshold)
    assert [abs(f.contribution) for f in assessment.factors] == sorted(
        (abs(f.contribution) for f in assessment.factors), reverse=True)


@given(profiles(), st.data())
def test_a_higher_lean_never_lowers_the_relational_score(profile: dict[str, Any], data: st.DataObject) -> None:
    criterion = data.draw(st.sampled_from([c for c in MODEL.criteria if c.name in profile]))
    higher = data.draw(values(criterion).filter(lambda v: criterion.lean(v) >= criterion.lean(profile[criterion.name])))
    before = assess(MODEL, profile)
    after = assess(MODEL, {**profile, criterion.name: higher})
    assert after.relational_score >= before.relational_score - 1e-12


@given(profiles())
def test_the_same_profile_always_gets_the_same_answer(profile: dict[str, Any]) -> None:
    assert render(assess(MODEL, profile), "en") == render(assess(MODEL, dict(profile)), "en")


@given(profiles())
def test_the_language_never_changes_a_number(profile: dict[str, Any]) -> None:
    assessment = assess(MODEL, profile)
    english, polish = render(assessment, "en"), render(assessment, "pl")
    assert numbers(english) == numbers(polish)
    assert english["rationale"]["summary"] != polish["rationale"]["summary"]


@given(profiles())
def test_confidence_grows_from_the_boundary_and_with_coverage(profile: dict[str, Any]) -> None:
    assessment = assess(MODEL, profile)
    assert 0 <= assessment.confidence <= assessment.coverage <= 1
    assert math.isclose(assessment.confidence,
                        assessment.coverage * (0.5 + 0.5 * decisiveness(assessment.index, MODEL.threshold)))


@given(profiles())
def test_every_counterfactual_is_true(profile: dict[str, Any]) -> None:
    assessment = assess(MODEL, profile)
    for counterfactual in assessment.counterfactuals:
        change = counterfactual.change
        assert change.before == profile.get(change.criterion.name)
        changed = assess(MODEL, {**profile, change.criterion.name: change.after})
        assert changed.recommendation == counterfactual.recommendation != assessment.recommendation
        assert changed.index == counterfactual.index


@given(profiles())
def test_no_single_option_change_is_missed_or_smaller_than_the_one_listed(profile: dict[str, Any]) -> None:
    assessment = assess(MODEL, profile)
    listed = {(c.change.criterion.name, c.recommendation): c for c in assessment.counterfactuals}
    moves = [abs(c.index - assessment.index) for c in assessment.counterfactuals]
    assert moves == sorted(moves)
    for criterion in MODEL.criteria:
        if criterion.number is not None:
            continue
        for option in criterion.options:
            if option.value == profile.get(criterion.name):
                continue
            changed = assess(MODEL, {**profile, criterion.name: option.value})
            if changed.recommendation == assessment.recommendation:
                continue
            best = listed.get((criterion.name, changed.recommendation))
            assert best is not None, f"{criterion.name}={option.value} flips to {changed.recommendation}, unlisted"
            assert abs(best.index - assessment.index) <= abs(changed.index - assessment.index)
