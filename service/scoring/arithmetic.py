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


@dataclass(frozen=True)
class Scorecard:
    """The criteria a profile answers, with their weights and leans, and the index they make.

    Sums use math.fsum, which is exactly rounded whatever the order, so an index computed for a
    changed profile by `index_with` is bit for bit the index that profile gets when sent.
    """

    model: Model
    values: Mapping[str, Value]
    leans: Mapping[str, float]
    products: Mapping[str, float] = field(init=False)
    index: float = field(init=False)
    answered_weight: float = field(init=False)

    def __post_init__(self) -> None:
        products = {name: self.model.criterion(name).weight * lean for name, lean in self.leans.items()}
        answered_weight = math.fsum(self.model.criterion(name).weight for name in self.leans)
        object.__setattr__(self, "products", products)
        object.__setattr__(self, "answered_weight", answered_weight)
        object.__setattr__(self, "index", math.fsum(products.values()) / answered_weight)

    @classmethod
    def of(cls, model: Model, profile: Profile) -> Scorecard:
        """The scorecard of a valid profile (unknown keys and None values ignored; a bad value raises ValueError)."""
        values = {c.name: profile[c.name] for c in model.criteria if profile.get(c.name) is not None}
        missing = [c.name for c in model.criteria if c.required and c.name not in values]
        if missing:
            raise ValueError(f"required criteria missing: {', '.join(missing)}")
        return cls(model, values, {name: model.criterion(name).lean(value) for name, value in values.items()})

    @property
    def recommendation(self) -> str:
        return decide(self.index, self.model.threshold)

    @property
    def coverage(self) -> float:
        return self.answered_weight / self.model.total_weight

    def index_with(self, leans: Mapping[str, float]) -> float:
        """The index after setting (or answering) the criteria named to the leans given."""
        model = self.model
        products = [p for name, p in self.products.items() if name not in leans]
        weights = [model.criterion(name).weight for name in self.leans if name not in leans]
        products += [model.criterion(name).weight * lean for name, lean in leans.items()]
        weights += [model.criterion(name).weight for name in leans]
        return math.fsum(products) / math.fsum(weights)

    def index_with_weight(self, name: str, weight: float) -> float:
        """The index if criterion `name` weighed `weight` instead."""
        model = self.model
        products = [p for n, p in self.products.items() if n != name] + [weight * self.leans[name]]
        weights = [model.criterion(n).weight for n in self.leans if n != name] + [weight]
        return math.fsum(products) / math.fsum(weights)
