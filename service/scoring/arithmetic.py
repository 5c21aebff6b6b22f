"""The arithmetic of docs/contract.md §3: the scorecard of a profile, its index, and the decision bands."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TypeVar

from service.scoring.model import Model

Value = str | float
Profile = Mapping[str, Value]
V = TypeVar("V")

CONFIDENCE_FORMULA = (
    "confidence = coverage × (0.5 + 0.5 × decisiveness), where decisiveness is how far the index lies "
    "into its band: (|index| − t) / (1 − t) for relational and transactional, (t − |index|) / t for hybrid "
    "(t = threshold). 0.5 × coverage on a decision boundary; coverage at the far end of a band."
)


def decide(index: float, threshold: float) -> str:
    """The decision bands of docs/contract.md §3, the one place they are spelled out.

    Called about 93 times per assessment of 2.0.0 (counterfactuals, plans, missing answers); inlining it saved
    about 60 ns a call, some 6 µs of an assessment of over 1 ms, so no copy of the bands is kept elsewhere.
    """
    if index >= threshold:
        return "relational"
    if index <= -threshold:
        return "transactional"
    return "hybrid"


def decisiveness(index: float, threshold: float) -> float:
    """How far into its band the index lies: 0 on a decision boundary, 1 at the band's far end."""
    if decide(index, threshold) == "hybrid":
        return (threshold - abs(index)) / threshold
    return (abs(index) - threshold) / (1 - threshold)


def confidence(index: float, threshold: float, coverage: float) -> float:
    """`coverage × (0.5 + 0.5 × decisiveness)`: a coin flip on a boundary, certainty deep in a band."""
    return coverage * (0.5 + 0.5 * decisiveness(index, threshold))


# an estimate this close to a boundary is decided again with the exact sums
NEAR_BOUNDARY = 1e-9


class Scorecard:
    """The criteria a profile answers, with their weights and leans, and the index they make.

    Sums use math.fsum, which is exactly rounded whatever the order, so an index computed for a
    changed profile by `index_with` is bit for bit the index that profile gets when sent.
    `outcomes_of` estimates with plain float arithmetic, fast enough to try hundreds of
    changes, and falls back to the exact sums when the estimate lies near a boundary.
    """

    __slots__ = ("answered_weight", "index", "leans", "model", "products", "recommendation", "total_product", "values")

    model: Model
    values: Mapping[str, Value]
    leans: Mapping[str, float]
    products: Mapping[str, float]
    total_product: float
    answered_weight: float
    index: float
    recommendation: str

    def __init__(self, model: Model, values: Mapping[str, Value], leans: Mapping[str, float]) -> None:
        weights = model.weights
        self.model, self.values, self.leans = model, values, leans
        self.products = {name: weights[name] * lean for name, lean in leans.items()}
        self.total_product = math.fsum(self.products.values())
        self.answered_weight = math.fsum(weights[name] for name in leans)
        self.index = self.total_product / self.answered_weight
        self.recommendation = decide(self.index, model.threshold)

    @classmethod
    def of(cls, model: Model, profile: Profile) -> Scorecard:
        """The scorecard of a valid profile (unknown keys and None values ignored; a bad value raises ValueError)."""
        # an alias (an option kept for older profiles) is scored, and explained, as the option it maps to
        values = {c.name: c.canonical(profile[c.name]) for c in model.criteria if profile.get(c.name) is not None}
        missing = [c.name for c in model.criteria if c.required and c.name not in values]
        if missing:
            raise ValueError(f"required criteria missing: {', '.join(missing)}")
        return cls(model, values, {name: model.criterion(name).lean(value) for name, value in values.items()})

    @property
    def coverage(self) -> float:
        return self.answered_weight / self.model.total_weight

    def index_with(self, leans: Mapping[str, float]) -> float:
        """The exact index after setting (or answering) the criteria named to the leans given.

        fsum is correctly rounded, so cancelling a replaced product by adding its negation gives
        bit for bit the sum of the changed profile's products, without rebuilding that list.
        """
        weights, products = self.model.weights, self.products
        changed = [*products.values()]
        added = []
        for name, lean in leans.items():
            if name in products:
                changed.append(-products[name])
            else:
                added.append(weights[name])
            changed.append(weights[name] * lean)
        if not added:
            return math.fsum(changed) / self.answered_weight
        return math.fsum(changed) / math.fsum([*(weights[name] for name in self.leans), *added])

    def outcomes_of(self, name: str, candidates: Iterable[tuple[V, float]]) -> list[tuple[V, float, float, str]]:
        """(value, lean, index, recommendation) for each candidate value of one criterion, changed alone.

        The index is estimated, the recommendation always exact (decided again with the exact sums
        near a boundary).
        """
        weight, threshold = self.model.weights[name], self.model.threshold
        current = self.products.get(name)
        if current is None:
            base, total = self.total_product, self.answered_weight + weight
        else:
            base, total = self.total_product - current, self.answered_weight
        outcomes = []
        for value, lean in candidates:
            index = (base + weight * lean) / total
            if abs(abs(index) - threshold) < NEAR_BOUNDARY:
                index = self.index_with({name: lean})
            outcomes.append((value, lean, index, decide(index, threshold)))
        return outcomes
