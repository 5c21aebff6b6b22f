"""assess_many, the engine for many profiles at once, gives what assess gives, item by item, bit for bit; and the
encoded answer the batch, the stream and /assess write is byte for byte the plain one."""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.scoring import LANGUAGES, Model, assess, encode, encode_many, load_models, render
from service.scoring.bulk import assess_many, explain_many
from service.scoring.wording import encode_explained
from tests.support.models import ROOT
from tests.support.profiles import profiles

MODELS = load_models(ROOT / "service" / "models")
FIELDS = ("factors", "confidence", "counterfactuals", "plans", "margin", "sensitivity", "missing_information")


def assert_same(model: Model, batch: list[dict[str, Any]]) -> None:
    assessments = assess_many(model, batch)
    # the batch's answers, encoded all together (their numbers written in one call per kind)
    together = {language: encode_many(assessments, language) for language in LANGUAGES}
    # and written from the arrays, without Assessments (the batch's, the stream's)
    explained = explain_many(model, batch)
    written = {language: encode_explained(explained, language) for language in LANGUAGES}
    for n, (profile, many) in enumerate(zip(batch, assessments, strict=True)):
        one = assess(model, profile)
        for field in FIELDS:
            assert getattr(many, field) == getattr(one, field), (field, profile)
        for language in LANGUAGES:
            plain = orjson.dumps(render(one, language))
            assert orjson.dumps(render(many, language)) == plain, (language, profile)
            assert orjson.dumps(encode(many, language)) == plain, (language, profile)
            assert orjson.dumps(together[language][n]) == plain, (language, profile)
            assert orjson.dumps(written[language][n]) == plain, (language, profile)


def random_profiles(model: Model, count: int, seed: int) -> list[dict[str, Any]]:
    """Valid profiles, each optional criterion answered or not; numbers anywhere on their scale."""
    rng = random.Random(seed)
    batch = []
    for _ in range(count):
        profile: dict[str, Any] = {}
        for criterion in model.criteria:
            if criterion.required or rng.random() < 0.6:
                if criterion.number is not None:
                    scale = criterion.number
                    profile[criterion.name] = rng.choice(
                        [rng.uniform(scale.minimum, scale.maximum), round(rng.uniform(scale.minimum, scale.maximum), 2),
                         scale.minimum, scale.centre, scale.maximum])
                else:
                    profile[criterion.name] = rng.choice(criterion.options).value
        batch.append(profile)
    return batch


@pytest.mark.parametrize("key", sorted(MODELS))
def test_thousands_of_random_profiles_get_what_assess_gives(key: str) -> None:
    model = MODELS[key]
    assert_same(model, random_profiles(model, 1500, seed=11))


@pytest.mark.parametrize("key", sorted(MODELS))
def test_profiles_on_a_decision_boundary_get_what_assess_gives(key: str) -> None:
    """Where estimates are decided again with exact sums: the index on ±threshold, or a rounding error from it."""
    model = MODELS[key]
    candidates = random_profiles(model, 20000, seed=5)
    near = [p for p in candidates if assess(model, p).margin.distance < 1e-9]
    assert near, "no boundary profile among the candidates: the test would prove nothing"
    assert_same(model, near)


@pytest.mark.parametrize("key", sorted(MODELS))
def test_one_profile_and_none_are_batches_too(key: str) -> None:
    model = MODELS[key]
    assert assess_many(model, []) == []
    nothing = explain_many(model, [])  # a batch whose every item is refused
    assert (nothing.size, nothing.decisions(), encode_explained(nothing, "en")) == (0, [], [])
    assert_same(model, random_profiles(model, 1, seed=1))


@settings(max_examples=40, deadline=None)
@given(st.lists(profiles(), min_size=1, max_size=40))
def test_any_mix_of_profiles_gets_what_assess_gives(batch: list[dict[str, Any]]) -> None:
    """Rows with and without each criterion side by side: every mask of the vectorised searches is exercised."""
    assert_same(MODELS[min(MODELS)], batch)


@pytest.mark.parametrize("key", sorted(MODELS))
def test_an_encoded_answer_cut_to_some_fields_is_the_plain_one_cut_alike(key: str) -> None:
    model = MODELS[key]
    rng = random.Random(7)
    names = list(render(assess(model, random_profiles(model, 1, seed=2)[0]), "en"))
    batch = random_profiles(model, 100, seed=3)
    assessments, many = [assess(model, profile) for profile in batch], assess_many(model, batch)
    explained = explain_many(model, batch)
    for _ in range(20):
        fields = frozenset(rng.sample(names, rng.randint(1, len(names))))
        for language in LANGUAGES:
            together = encode_many(many, language, fields)
            written = encode_explained(explained, language, fields)
            for profile, assessment, encoded, from_arrays in zip(batch, assessments, together, written, strict=True):
                plain = {name: value for name, value in render(assessment, language).items() if name in fields}
                assert orjson.dumps(encode(assessment, language, fields)) == orjson.dumps(plain), (fields, profile)
                assert orjson.dumps(encoded) == orjson.dumps(plain), (fields, profile)
                assert orjson.dumps(from_arrays) == orjson.dumps(plain), (fields, profile)


def test_numbers_are_rounded_as_python_rounds_them() -> None:
    from service.scoring.bulk import _round_2

    rng = random.Random(3)
    numbers = [rng.uniform(-2, 2) for _ in range(20000)] + [n / 200 for n in range(-400, 401)]  # halves too
    numbers += [0.125, 0.375, 2.675, 1.005, 0.285, -0.125, 1e-300, -0.0, 0.0]
    rounded = _round_2(np.array(numbers).reshape(-1, 1)).ravel().tolist()
    assert [repr(x) for x in rounded] == [repr(round(x, 2)) for x in numbers]  # -0.0 too


def test_models_reloaded_away_do_not_pile_up_in_the_layouts() -> None:
    from service.scoring import bulk

    for _ in range(bulk.MAX_LAYOUTS + 3):  # a reload makes new Model objects
        model = load_models(ROOT / "service" / "models")[min(MODELS)]
        assert_same(model, random_profiles(model, 2, seed=1))
    assert len(bulk._layouts) <= bulk.MAX_LAYOUTS


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)
                         | st.sampled_from([0.0, -0.0, 0.1, -0.35 * 2, 0.7, 1e-17, 3.0]), min_size=6, max_size=6),
                min_size=1, max_size=30))
def test_sums_in_arrays_said_exact_are_fsum_bit_for_bit(rows: list[list[float]]) -> None:
    from service.scoring.bulk import _exact_sums

    found, exact = _exact_sums(np.array(rows))
    for row, total, is_exact in zip(rows, found.tolist(), exact.tolist(), strict=True):
        if is_exact:
            assert total.hex() == math.fsum(row).hex(), row


def test_sums_in_arrays_are_exact_for_the_models_leans() -> None:
    """What makes the fast path worth having: the models' products rarely leave it to fsum."""
    from service.scoring.bulk import _exact_sums

    rng = random.Random(8)
    for model in MODELS.values():
        choices = [[c.weight * lean for _, lean in c.choices] if c.number is None else
                   [c.weight * rng.uniform(-1, 1) for _ in range(50)] for c in model.criteria]
        rows = [[rng.choice(products) for products in choices] for _ in range(2000)]
        found, exact = _exact_sums(np.array(rows))
        assert exact.mean() > 0.99, model.key
        assert all(total.hex() == math.fsum(row).hex()
                   for row, total, is_exact in zip(rows, found.tolist(), exact.tolist(), strict=True) if is_exact)


@pytest.mark.parametrize("damage", [{"segment": "nope"}, {"segment": ["x"]}, {"sales_goal": None}])
def test_a_bad_profile_among_good_ones_raises_what_assess_raises(damage: dict[str, Any]) -> None:
    """assess_many is handed valid profiles; given a bad one, it says what Scorecard.of says, for the first bad one."""
    model = MODELS[max(MODELS)]
    good = random_profiles(model, 3, seed=6)
    bad = {**good[1], **damage}
    with pytest.raises(ValueError) as alone:
        assess(model, bad)
    with pytest.raises(ValueError) as among:
        assess_many(model, [good[0], bad, {**good[2], "segment": "other"}])
    assert str(among.value) == str(alone.value)


def test_indexes_the_arrays_cannot_prove_are_left_to_index_with(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback of the sums in arrays, which random profiles rarely reach, made to take every sum: the sums
    are spoiled as well as declared unproven, so an answer that used one would differ."""
    from service.scoring import bulk

    proven = bulk._exact_sums
    monkeypatch.setattr(bulk, "_exact_sums",
                        lambda terms: (proven(terms)[0] + 1.0, np.zeros(len(terms), dtype=bool)))
    model = MODELS[max(MODELS)]
    batch = random_profiles(model, 60, seed=12)
    for profile, many in zip(batch, assess_many(model, batch), strict=True):
        one = assess(model, profile)
        assert (many.counterfactuals, many.plans) == (one.counterfactuals, one.plans), profile
