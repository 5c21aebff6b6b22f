"""The arithmetic of contract §3: the scorecard of a profile, its index, and the decision bands."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from service.scoring.model import Model

Value = str | float
Profile = Mapping[str, Value]

CONFIDENCE_FORMULA = (
    "confidence = coverage × (0.5 + 0.5 × decisiveness), where decisiveness is how far the index lies "
    "into its band: (|index| − t) / (1 − t) for relational and transactional, (t − |index|) / t for hybrid "
    "(t = threshold). 0.5 × coverage on a decision boundary; coverage at the far end of a band."
)


def decide(index: float, threshold: float) -> str:
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


@dataclass(frozen=True)
class Scorecard:
    """The criteria a profile answers, with their weights and leans, and the index they make.

    Sums use math.fsum, which is exactly rounded whatever the order, so an index computed for a
    changed profile by `index_with` is bit for bit the index that profile gets when sent.
    `outcome_with` estimates with plain float arithmetic, fast enough to try hundreds of
    changes, and falls back to the exact sums when the estimate lies near a boundary.
    """

    model: Model
    values: Mapping[str, Value]
    leans: Mapping[str, float]
    products: Mapping[str, float] = field(init=False)
    total_product: float = field(init=False)
    answered_weight: float = field(init=False)
    index: float = field(init=False)
    recommendation: str = field(init=False)

    def __post_init__(self) -> None:
        weights = self.model.weights
        products = {name: weights[name] * lean for name, lean in self.leans.items()}
        object.__setattr__(self, "products", products)
        object.__setattr__(self, "total_product", math.fsum(products.values()))
        object.__setattr__(self, "answered_weight", math.fsum(weights[name] for name in self.leans))
        object.__setattr__(self, "index", self.total_product / self.answered_weight)
        object.__setattr__(self, "recommendation", decide(self.index, self.model.threshold))

    @classmethod
    def of(cls, model: Model, profile: Profile) -> Scorecard:
        """The scorecard of a valid profile (unknown keys and None values ignored; a bad value raises ValueError)."""
        values = {c.name: profile[c.name] for c in model.criteria if profile.get(c.name) is not None}
        missing = [c.name for c in model.criteria if c.required and c.name not in values]
        if missing:
            raise ValueError(f"required criteria missing: {', '.join(missing)}")
        return cls(model, values, {name: model.criterion(name).lean(value) for name, value in values.items()})

    @property
    def coverage(self) -> float:
        return self.answered_weight / self.model.total_weight

    def index_with(self, leans: Mapping[str, float]) -> float:
        """The exact index after setting (or answering) the criteria named to the leans given."""
        weights = self.model.weights
        products = [p for name, p in self.products.items() if name not in leans]
        products += [weights[name] * lean for name, lean in leans.items()]
        answered = [weights[name] for name in self.leans if name not in leans]
        answered += [weights[name] for name in leans]
        return math.fsum(products) / math.fsum(answered)

    def outcome_of(self, name: str, lean: float) -> tuple[float, str]:
        """`outcome_with` for one criterion: the commonest question, asked without building a mapping."""
        weight = self.model.weights[name]
        if name in self.products:
            index = (self.total_product - self.products[name] + weight * lean) / self.answered_weight
        else:
            index = (self.total_product + weight * lean) / (self.answered_weight + weight)
        threshold = self.model.threshold
        if abs(abs(index) - threshold) < NEAR_BOUNDARY:
            index = self.index_with({name: lean})
        return index, decide(index, threshold)

    def outcome_with(self, leans: Mapping[str, float]) -> tuple[float, str]:
        """The index (estimated) and the recommendation (always exact) after the changes given."""
        weights, products = self.model.weights, self.products
        product_sum, weight_sum = self.total_product, self.answered_weight
        for name, lean in leans.items():
            weight = weights[name]
            if name in products:
                product_sum -= products[name]
                weight_sum -= weight
            product_sum += weight * lean
            weight_sum += weight
        index, threshold = product_sum / weight_sum, self.model.threshold
        if abs(abs(index) - threshold) < NEAR_BOUNDARY:
            index = self.index_with(leans)
        return index, decide(index, threshold)
