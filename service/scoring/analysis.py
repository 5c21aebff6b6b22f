"""What would change the answer: single changes, improvement plans, the margin, weight sensitivity, missing answers.

Everything here is computed from the scorecard's arithmetic, never by re-scoring a profile.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from itertools import combinations, product

from service.scoring.arithmetic import Scorecard, Value, decide
from service.scoring.model import STRATEGIES, Criterion

NUMBER_GRID = 0.01


@dataclass(frozen=True)
class Change:
    criterion: Criterion
    before: Value | None
    after: Value


@dataclass(frozen=True)
class Counterfactual:
    change: Change
    index: float
    recommendation: str


@dataclass(frozen=True)
class Plan:
    """The fewest changes to actionable criteria that reach `target`; no changes and no index when none can."""

    target: str
    changes: tuple[Change, ...]
    index: float | None

    @property
    def reachable(self) -> bool:
        return self.index is not None


@dataclass(frozen=True)
class Margin:
    runner_up: str
    distance: float
    close_call: bool


@dataclass(frozen=True)
class WeightRange:
    """The weights of one criterion between which the recommendation holds (None: no limit that way)."""

    criterion: Criterion
    lower: float | None
    upper: float | None
    below: str | None
    above: str | None

    @property
    def slack(self) -> float:
        """How far the weight can move, relative to it, before the answer changes: small means it matters."""
        weight = self.criterion.weight
        room = [abs(weight - bound) for bound in (self.lower, self.upper) if bound is not None]
        return min(room) / weight if room else math.inf


@dataclass(frozen=True)
class MissingAnswer:
    criterion: Criterion
    outcomes: tuple[str, ...]
    largest_shift: float
    can_change: bool


def _alternatives(card: Scorecard, criterion: Criterion) -> list[Value]:
    """The values a criterion could take instead of its current one."""
    before = card.values.get(criterion.name)
    if criterion.number is not None:
        scale = criterion.number
        return [value for value in (scale.minimum, scale.centre, scale.maximum) if value != before]
    return [option.value for option in criterion.options if option.value != before]


def counterfactuals(card: Scorecard) -> tuple[Counterfactual, ...]:
    """Per criterion and per other outcome, the single change that reaches it moving the index least; least first."""
    found: list[Counterfactual] = []
    for criterion in card.model.criteria:
        before = card.values.get(criterion.name)
        candidates = (_number_candidates(card, criterion) if criterion.number is not None
                      else _alternatives(card, criterion))
        nearest: dict[str, Counterfactual] = {}
        for after in candidates:
            index = card.index_with({criterion.name: criterion.lean(after)})
            reached = decide(index, card.model.threshold)
            best = nearest.get(reached)
            if reached == card.recommendation:
                continue
            if best is None or abs(index - card.index) < abs(best.index - card.index):
                nearest[reached] = Counterfactual(Change(criterion, before, after), index, reached)
        found.extend(nearest.values())
    return tuple(sorted(found, key=lambda counterfactual: abs(counterfactual.index - card.index)))


def _number_candidates(card: Scorecard, criterion: Criterion) -> list[Value]:
    """For a number criterion, grid values near where each outcome's band of leans starts.

    The index is (A + w·lean) / B, rising with the lean, so each outcome is an interval of leans;
    the preferred lean is the point of that interval nearest the current lean (or 0 when absent).
    """
    scale = criterion.number
    assert scale is not None
    name, weight, threshold = criterion.name, criterion.weight, card.model.threshold
    others = math.fsum(p for n, p in card.products.items() if n != name)
    total = math.fsum([card.model.criterion(n).weight for n in card.leans if n != name] + [weight])
    low_edge = (-threshold * total - others) / weight
    high_edge = (threshold * total - others) / weight
    before = card.values.get(name)
    start = card.leans.get(name, 0.0)
    values: list[Value] = []
    for low, high in ((-1.0, min(low_edge, 1.0)), (max(low_edge, -1.0), min(high_edge, 1.0)),
                      (max(high_edge, -1.0), 1.0)):
        if low > high:
            continue
        centre = scale.centre + scale.span * min(max(start, low), high)
        for step in (0, 1, -1, 2, -2):
            value = round(min(max(centre + step * NUMBER_GRID, scale.minimum), scale.maximum), 2)
            if value not in values and value != before:
                values.append(value)
    return values


def plans(card: Scorecard) -> tuple[Plan, ...]:
    """For each other strategy, the smallest set of changes to actionable criteria that reaches it.

    Subsets of the actionable criteria are tried smallest first, every combination of their
    other values within a size; the first size at which a target is reached is minimal by
    construction. Among plans of that size, the one that moves the index least is kept. The
    search uses plain float sums; the plan kept is confirmed with the exact arithmetic.
    """
    model, threshold = card.model, card.model.threshold
    actionable = [c for c in model.criteria if c.actionable]
    targets = [s for s in STRATEGIES if s != card.recommendation]
    found: dict[str, Plan] = {}
    total_product = sum(card.products.values())
    for size in range(1, len(actionable) + 1):
        reaching: dict[str, list[tuple[float, tuple[Change, ...], dict[str, float]]]] = {t: [] for t in targets}
        for subset in combinations(actionable, size):
            kept_product = total_product - sum(card.products.get(c.name, 0.0) for c in subset)
            kept_weight = card.answered_weight - sum(c.weight for c in subset if c.name in card.values)
            added_weight = sum(c.weight for c in subset)
            for afters in product(*(_alternatives(card, c) for c in subset)):
                leans = {c.name: c.lean(after) for c, after in zip(subset, afters, strict=True)}
                index = (kept_product + sum(c.weight * leans[c.name] for c in subset)) / (kept_weight + added_weight)
                reached = decide(index, threshold)
                if reached in reaching and reached not in found:
                    changes = tuple(Change(c, card.values.get(c.name), after)
                                    for c, after in zip(subset, afters, strict=True))
                    reaching[reached].append((abs(index - card.index), changes, leans))
        for target, candidates in reaching.items():
            for _, changes, leans in sorted(candidates, key=lambda candidate: candidate[0]):
                exact = card.index_with(leans)
                if decide(exact, threshold) == target:
                    found[target] = Plan(target, changes, exact)
                    break
        if len(found) == len(targets):
            break
    return tuple(found.get(target, Plan(target, (), None)) for target in targets)


def margin(card: Scorecard) -> Margin:
    """How far the index is from the nearest decision boundary, and which strategy lies beyond it."""
    index, threshold = card.index, card.model.threshold
    recommendation = card.recommendation
    if recommendation == "relational":
        runner_up, distance = "hybrid", index - threshold
    elif recommendation == "transactional":
        runner_up, distance = "hybrid", -threshold - index
    elif index >= 0:
        runner_up, distance = "relational", threshold - index
    else:
        runner_up, distance = "transactional", index + threshold
    return Margin(runner_up, distance, distance < card.model.close_call_margin)


def weight_sensitivity(card: Scorecard) -> tuple[WeightRange, ...]:
    """For each answered criterion, how far its weight could move down and up before the answer changes.

    With the other criteria fixed, index(w) = (S + w·l) / (W + w) moves monotonically from S/W
    towards l as w grows, so it crosses each boundary ±t at most once, at w = (b·W − S) / (l − b).
    Those crossings cut (0, ∞) into intervals of one answer each; the range is the run of
    intervals around the current weight that give the current answer. Most sensitive first.
    """
    model, threshold = card.model, card.model.threshold
    ranges = []
    for name, lean in card.leans.items():
        criterion = model.criterion(name)
        others = math.fsum(p for n, p in card.products.items() if n != name)
        others_weight = card.answered_weight - criterion.weight
        crossings = sorted({weight for boundary in (threshold, -threshold) if lean != boundary
                            for weight in [(boundary * others_weight - others) / (lean - boundary)] if weight > 0})
        edges = [0.0, *crossings, math.inf]
        answers = [decide((others + middle * lean) / (others_weight + middle), threshold)
                   for low, high in itertools.pairwise(edges)
                   for middle in [(low + high) / 2 if high < math.inf else 2 * low + 1]]
        current, weight = card.recommendation, criterion.weight
        tolerance = 1e-9 * weight
        around = [i for i, (low, high) in enumerate(itertools.pairwise(edges))
                  if low - tolerance <= weight <= high + tolerance and answers[i] == current]
        if not around:  # the current weight sits exactly on a crossing: any move changes the answer
            left = max(i for i, edge in enumerate(edges[1:]) if edge <= weight + tolerance)
            ranges.append(WeightRange(criterion, weight, weight, answers[left], answers[left + 1]))
            continue
        first, last = min(around), max(around)
        while first > 0 and answers[first - 1] == current:
            first -= 1
        while last < len(answers) - 1 and answers[last + 1] == current:
            last += 1
        lower, upper = edges[first], edges[last + 1]
        ranges.append(WeightRange(
            criterion,
            lower if lower > 0 else None,
            upper if upper < math.inf else None,
            answers[first - 1] if first > 0 else None,
            answers[last + 1] if last + 1 < len(answers) else None,
        ))
    return tuple(sorted(ranges, key=lambda weight_range: weight_range.slack))


def missing_information(card: Scorecard) -> tuple[MissingAnswer, ...]:
    """The unanswered criteria, those whose answer could change the recommendation first, then by largest shift."""
    answers = []
    for criterion in card.model.criteria:
        if criterion.name in card.values:
            continue
        leans = ({option.lean for option in criterion.options} if criterion.number is None
                 else {-1.0, 0.0, 1.0})
        indexes = [card.index_with({criterion.name: lean}) for lean in sorted(leans)]
        outcomes = {decide(index, card.model.threshold) for index in indexes}
        answers.append(MissingAnswer(
            criterion,
            tuple(s for s in STRATEGIES if s in outcomes),
            max(abs(index - card.index) for index in indexes),
            outcomes != {card.recommendation},
        ))
    return tuple(sorted(answers, key=lambda answer: (not answer.can_change, -answer.largest_shift)))
