"""The arithmetic of contract §3: index, contributions, scores, recommendation, confidence."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from service.scoring.model import Criterion, Model

Value = str | float
Profile = Mapping[str, Value]


@dataclass(frozen=True)
class Factor:
    criterion: Criterion
    value: Value
    lean: float
    contribution: float

    @property
    def favours(self) -> str:
        return "relational" if self.contribution > 0 else "transactional" if self.contribution < 0 else "neither"


@dataclass(frozen=True)
class Counterfactual:
    criterion: Criterion
    before: Value | None
    after: Value
    index: float
    recommendation: str


@dataclass(frozen=True)
class Assessment:
    model: Model
    profile: Profile
    factors: tuple[Factor, ...]
    index: float
    coverage: float
    confidence: float
    recommendation: str
    counterfactuals: tuple[Counterfactual, ...]

    @property
    def relational_score(self) -> float:
        return 50 * (1 + self.index)

    @property
    def transactional_score(self) -> float:
        return 100 - self.relational_score


def decide(index: float, threshold: float) -> str:
    if index >= threshold:
        return "relational"
    if index <= -threshold:
        return "transactional"
    return "hybrid"


def decisiveness(index: float, threshold: float) -> float:
    """How far into its band the index lies: 0 on a decision boundary, 1 at the band's far end."""
    recommendation = decide(index, threshold)
    if recommendation == "hybrid":
        return (threshold - abs(index)) / threshold
    return (abs(index) - threshold) / (1 - threshold)


CONFIDENCE_FORMULA = (
    "confidence = coverage × (0.5 + 0.5 × decisiveness), where decisiveness is how far the index lies "
    "into its band: (|index| − t) / (1 − t) for relational and transactional, (t − |index|) / t for hybrid "
    "(t = threshold). 0.5 × coverage on a decision boundary; coverage at the far end of a band."
)


def confidence(index: float, threshold: float, coverage: float) -> float:
    """`coverage × (0.5 + 0.5 × decisiveness)`: a coin flip on a boundary, certainty deep in a band."""
    return coverage * (0.5 + 0.5 * decisiveness(index, threshold))


def scored_profile(model: Model, profile: Profile) -> dict[str, Value]:
    """The criteria of the profile that the model scores, in the model's order (others, and None, dropped)."""
    return {c.name: profile[c.name] for c in model.criteria if profile.get(c.name) is not None}


def assess(model: Model, profile: Profile) -> Assessment:
    """Score a valid profile (unknown keys and None values are ignored; a bad value raises ValueError)."""
    present = scored_profile(model, profile)
    missing = [c.name for c in model.criteria if c.required and c.name not in present]
    if missing:
        raise ValueError(f"required criteria missing: {', '.join(missing)}")
    leans = {name: model.criterion(name).lean(value) for name, value in present.items()}
    weights = {name: model.criterion(name).weight for name in present}
    products = {name: weights[name] * leans[name] for name in present}
    total_weight = math.fsum(weights.values())
    index = math.fsum(products.values()) / total_weight
    factors = sorted(
        (Factor(model.criterion(name), value, leans[name], products[name] / total_weight)
         for name, value in present.items()),
        key=lambda factor: -abs(factor.contribution),
    )
    coverage = total_weight / model.total_weight
    recommendation = decide(index, model.threshold)
    return Assessment(
        model=model,
        profile=present,
        factors=tuple(factors),
        index=index,
        coverage=coverage,
        confidence=confidence(index, model.threshold, coverage),
        recommendation=recommendation,
        counterfactuals=_counterfactuals(model, present, products, weights, index, recommendation),
    )


def _counterfactuals(
    model: Model,
    present: Mapping[str, Value],
    products: Mapping[str, float],
    weights: Mapping[str, float],
    index: float,
    recommendation: str,
) -> tuple[Counterfactual, ...]:
    """Per criterion and per other outcome, the single change that reaches it with the least movement of the index.

    Sums use math.fsum, which is exactly rounded whatever the order, so an index computed here
    is bit-for-bit the index a re-sent profile gets.
    """
    found: list[Counterfactual] = []
    for criterion in model.criteria:
        name = criterion.name
        other_products = [p for n, p in products.items() if n != name]
        other_weights = [w for n, w in weights.items() if n != name]
        before = present.get(name)
        weight_with_change = math.fsum([*other_weights, criterion.weight])
        if criterion.number is not None:
            candidates = _number_candidates(criterion, before, other_products, other_weights, model.threshold)
        else:
            candidates = [option.value for option in criterion.options if option.value != before]
        nearest: dict[str, Counterfactual] = {}
        for after in candidates:
            changed = math.fsum([*other_products, criterion.weight * criterion.lean(after)]) / weight_with_change
            reached = decide(changed, model.threshold)
            if reached == recommendation:
                continue
            best = nearest.get(reached)
            if best is None or abs(changed - index) < abs(best.index - index):
                nearest[reached] = Counterfactual(criterion, before, after, changed, reached)
        found.extend(nearest.values())
    found.sort(key=lambda counterfactual: abs(counterfactual.index - index))
    return tuple(found)


def _number_candidates(
    criterion: Criterion,
    before: Value | None,
    other_products: list[float],
    other_weights: list[float],
    threshold: float,
) -> list[float]:
    """For a number criterion, the values (on a 0.01 grid) nearest to where each outcome's band starts.

    The index is (A + w·lean) / B, rising with the lean, so each outcome is an interval of leans;
    the preferred lean is the point of that interval nearest the current lean (or 0 when absent).
    """
    scale = criterion.number
    assert scale is not None
    w = criterion.weight
    total = math.fsum([*other_products])
    weight = math.fsum([*other_weights, w])
    low_edge = (-threshold * weight - total) / w
    high_edge = (threshold * weight - total) / w
    start = scale.lean(float(before)) if before is not None else 0.0
    bands = [(-1.0, min(low_edge, 1.0)), (max(low_edge, -1.0), min(high_edge, 1.0)), (max(high_edge, -1.0), 1.0)]
    values: list[float] = []
    for low, high in bands:
        if low > high:
            continue
        lean = min(max(start, low), high)
        centre = scale.centre + scale.span * lean
        for step in (0, 1, -1, 2, -2):
            value = round(min(max(centre + step / 100, scale.minimum), scale.maximum), 2)
            if value not in values and value != before:
                values.append(value)
    return values
