"""What would change the answer: single changes, improvement plans, the margin, weight sensitivity, missing answers.

Everything here is computed from the scorecard's arithmetic, never by re-scoring a profile.
"""

from __future__ import annotations

import math
from itertools import combinations, pairwise, product
from typing import NamedTuple

from service.scoring.arithmetic import NEAR_BOUNDARY, Scorecard, Value, decide
from service.scoring.model import STRATEGIES, Criterion

NUMBER_GRID = 0.01


class Change(NamedTuple):
    criterion: Criterion
    before: Value | None
    after: Value


class Counterfactual(NamedTuple):
    change: Change
    index: float
    recommendation: str


class Plan(NamedTuple):
    """The fewest changes to actionable criteria that reach `target`; no changes and no index when none can."""

    target: str
    changes: tuple[Change, ...]
    index: float | None

    @property
    def reachable(self) -> bool:
        return self.index is not None


class Margin(NamedTuple):
    runner_up: str
    distance: float
    close_call: bool


class WeightRange(NamedTuple):
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


class MissingAnswer(NamedTuple):
    criterion: Criterion
    outcomes: tuple[str, ...]
    largest_shift: float
    can_change: bool


def counterfactuals(card: Scorecard) -> tuple[Counterfactual, ...]:
    """Per criterion and per other outcome, the single change that reaches it moving the index least; least first."""
    found = [(abs(counterfactual.index - card.index), counterfactual)
             for criterion in card.model.criteria for counterfactual in single_changes(card, criterion)]
    found.sort(key=lambda pair: pair[0])
    return tuple(counterfactual for _, counterfactual in found)


def single_changes(card: Scorecard, criterion: Criterion) -> list[Counterfactual]:
    """For one criterion, per other outcome, the change of it alone that reaches it moving the index least."""
    current, now, name = card.recommendation, card.index, criterion.name
    candidates = (_number_candidates(card, criterion) if criterion.number is not None
                  else criterion.other_choices(card.values.get(name)))
    nearest: dict[str, tuple[float, Value, float]] = {}
    for after, lean, index, reached in card.outcomes_of(name, candidates):
        if reached != current:
            move = abs(index - now)
            if reached not in nearest or move < nearest[reached][0]:
                nearest[reached] = (move, after, lean)
    before = card.values.get(name)
    return [Counterfactual(Change(criterion, before, after), card.index_with({name: lean}), reached)
            for reached, (_, after, lean) in nearest.items()]


def _number_candidates(card: Scorecard, criterion: Criterion) -> list[tuple[Value, float]]:
    """For a number criterion, grid values near where each outcome's band of leans starts.

    The index is (A + w·lean) / B, rising with the lean, so each outcome is an interval of leans;
    the preferred lean is the point of that interval nearest the current lean (or 0 when absent).
    """
    scale = criterion.number
    assert scale is not None
    name, weight, threshold = criterion.name, criterion.weight, card.model.threshold
    others = card.total_product - card.products.get(name, 0.0)
    total = card.answered_weight - (weight if name in card.leans else 0.0) + weight
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
    return [(value, criterion.lean(value)) for value in values]


def allowed_moves(card: Scorecard, criterion: Criterion) -> tuple[tuple[Value, float], ...]:
    """The answers a plan may move an actionable criterion to: only the ways its model allows (a team is trained,
    never untrained). A capability left unanswered may be answered only so that the index moves the allowed way."""
    value = card.values.get(criterion.name)
    choices = criterion.plan_choices(value)
    if value is None and criterion.moves != "either":
        up = criterion.moves == "up"
        choices = tuple(choice for choice in choices if (choice[1] > card.index if up else choice[1] < card.index))
    return choices


def plans(card: Scorecard) -> tuple[Plan, ...]:
    """For each other strategy, the smallest set of changes to actionable criteria that reaches it.

    Subsets of the actionable criteria are tried smallest first, every combination of their
    other values within a size; the first size at which a target is reached is minimal by
    construction. Among plans of that size, the one that moves the index least is kept. The
    index rises with every lean, so a subset whose extreme values cannot meet a target's band
    is skipped without trying its combinations.
    """
    threshold, now = card.model.threshold, card.index
    actionable = [c for c in card.model.criteria if c.actionable]
    alternatives = {c.name: allowed_moves(card, c) for c in actionable}
    actionable = [c for c in actionable if alternatives[c.name]]
    # what setting a criterion to its lowest and to its highest other lean adds to the sums
    shifts = {}
    for criterion in actionable:
        leans = [lean for _, lean in alternatives[criterion.name]]
        weight, before = criterion.weight, card.products.get(criterion.name)
        shifts[criterion.name] = (weight * min(leans) - (before or 0.0), weight * max(leans) - (before or 0.0),
                                  weight if before is None else 0.0)
    targets = [s for s in STRATEGIES if s != card.recommendation]
    found: dict[str, Plan] = {}
    for size in range(1, len(actionable) + 1):
        sought = [t for t in targets if t not in found]
        relational, hybrid, transactional = ("relational" in sought, "hybrid" in sought, "transactional" in sought)
        best: dict[str, tuple[float, tuple[Criterion, ...], tuple[tuple[Value, float], ...]]] = {}
        for subset in combinations(actionable, size):
            low, high, added = card.total_product, card.total_product, card.answered_weight
            for criterion in subset:
                to_low, to_high, weight = shifts[criterion.name]
                low, high, added = low + to_low, high + to_high, added + weight
            lowest, highest = low / added, high / added
            # can [lowest, highest] meet a sought band (decide()'s, widened by NEAR_BOUNDARY against rounding)?
            if not ((relational and highest >= threshold - NEAR_BOUNDARY)
                    or (transactional and lowest <= -threshold + NEAR_BOUNDARY)
                    or (hybrid and lowest < threshold + NEAR_BOUNDARY and highest > -threshold - NEAR_BOUNDARY)):
                continue
            parts = [(c.weight, card.products.get(c.name)) for c in subset]
            for choice in product(*(alternatives[c.name] for c in subset)):
                total, answered = card.total_product, card.answered_weight  # estimated: float sums in order
                for (weight, before), (_, lean) in zip(parts, choice, strict=True):
                    if before is not None:
                        total -= before
                        answered -= weight
                    total += weight * lean
                    answered += weight
                index = total / answered
                if abs(abs(index) - threshold) < NEAR_BOUNDARY:
                    index = card.index_with({c.name: lean for c, (_, lean) in zip(subset, choice, strict=True)})
                reached = decide(index, threshold)
                if reached in sought:
                    move = abs(index - now)
                    if reached not in best or move < best[reached][0]:
                        best[reached] = (move, subset, choice)
        for target, (_, subset, choice) in best.items():
            changes = tuple(Change(c, card.values.get(c.name), after) for c, (after, _) in zip(subset, choice,
                                                                                              strict=True))
            exact = card.index_with({c.name: lean for c, (_, lean) in zip(subset, choice, strict=True)})
            found[target] = Plan(target, changes, exact)
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
    model, threshold, current = card.model, card.model.threshold, card.recommendation
    ranges = []
    for name, lean in card.leans.items():
        criterion = model.criterion(name)
        weight = criterion.weight
        others = card.total_product - card.products[name]
        others_weight = card.answered_weight - weight
        crossings = []
        for boundary in (threshold, -threshold):
            if lean != boundary:
                crossing = (boundary * others_weight - others) / (lean - boundary)
                if crossing > 0 and crossing not in crossings:
                    crossings.append(crossing)
        if not crossings:  # no weight changes the answer (a third of the criteria, commonly)
            ranges.append(WeightRange(criterion, None, None, None, None))
            continue
        crossings.sort()
        edges = [0.0, *crossings, math.inf]
        # the answer within each interval, taken at its middle (past the last crossing: any weight beyond it)
        middles = [(low + high) / 2 for low, high in pairwise(edges[:-1])]
        middles.append(2 * edges[-2] + 1)
        answers = [decide((others + middle * lean) / (others_weight + middle), threshold) for middle in middles]
        tolerance = 1e-9 * weight
        around = [i for i, answer in enumerate(answers)
                  if answer == current and edges[i] - tolerance <= weight <= edges[i + 1] + tolerance]
        if not around:  # the current weight sits exactly on a crossing: any move changes the answer
            # rounding can put the weight before the first crossing yet outside its answer: then that crossing
            left = max((i for i, edge in enumerate(edges[1:]) if edge <= weight + tolerance), default=0)
            ranges.append(WeightRange(criterion, weight, weight, answers[left], answers[left + 1]))
            continue
        first, last = around[0], around[-1]
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
        outcomes = card.outcomes_of(criterion.name, criterion.choices)  # unanswered: every choice is a change
        reached = {recommendation for *_, recommendation in outcomes}
        answers.append(MissingAnswer(
            criterion,
            tuple(s for s in STRATEGIES if s in reached),
            max(abs(index - card.index) for _, _, index, _ in outcomes),
            reached != {card.recommendation},
        ))
    return tuple(sorted(answers, key=lambda answer: (not answer.can_change, -answer.largest_shift)))
