"""An assessment: the numbers of docs/contract.md §3 for one profile, with everything that explains them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from service.scoring import explanations
from service.scoring.arithmetic import Profile, Scorecard, Value, confidence
from service.scoring.explanations import Counterfactual, Margin, MissingAnswer, Plan, WeightRange
from service.scoring.model import Criterion, Model


class Factor(NamedTuple):
    """One answered criterion: its value (as scored), lean and share of the index."""

    criterion: Criterion
    value: Value
    lean: float
    contribution: float

    @property
    def favours(self) -> str:
        return "relational" if self.contribution > 0 else "transactional" if self.contribution < 0 else "neither"


class Decision(NamedTuple):
    """What was advised, as the decision log and the tallies keep it: the Assessment's numbers without the rest."""

    recommendation: str
    index: float
    confidence: float


@dataclass(frozen=True)
class Assessment:
    """One profile scored by one model: its scorecard and factors, and what would change the answer."""

    model: Model
    scorecard: Scorecard
    factors: tuple[Factor, ...]
    confidence: float
    counterfactuals: tuple[Counterfactual, ...]
    plans: tuple[Plan, ...]
    margin: Margin
    sensitivity: tuple[WeightRange, ...]
    missing_information: tuple[MissingAnswer, ...]

    @property
    def index(self) -> float:
        return self.scorecard.index

    @property
    def coverage(self) -> float:
        return self.scorecard.coverage

    @property
    def recommendation(self) -> str:
        return self.scorecard.recommendation

    @property
    def decision(self) -> Decision:
        return Decision(self.recommendation, self.index, self.confidence)

    @property
    def relational_score(self) -> float:
        return 50 * (1 + self.index)

    @property
    def transactional_score(self) -> float:
        return 100 - self.relational_score


def assess(model: Model, profile: Profile) -> Assessment:
    """Score a valid profile (unknown keys and None values are ignored; a bad value raises ValueError)."""
    card = Scorecard.of(model, profile)
    return Assessment(
        model=model,
        scorecard=card,
        factors=factors_of(card),
        confidence=confidence(card.index, model.threshold, card.coverage),
        counterfactuals=explanations.counterfactuals(card),
        plans=explanations.plans(card),
        margin=explanations.margin(card),
        sensitivity=explanations.weight_sensitivity(card),
        missing_information=explanations.missing_information(card),
    )


def factors_of(card: Scorecard) -> tuple[Factor, ...]:
    """Every answered criterion with its lean and contribution, largest |contribution| first."""
    model = card.model
    return tuple(sorted(
        (Factor(model.criterion(name), value, card.leans[name], card.products[name] / card.answered_weight)
         for name, value in card.values.items()),
        key=lambda factor: -abs(factor.contribution),
    ))
