"""Many profiles at once: what the batch endpoint, the stream and the command share.

`explain_many` assesses N profiles as arrays (an `Explained`): wording.encode_explained writes each one's answer
from them, and `assess_many` makes of them, item by item, exactly the Assessment `assess` gives for each profile
(a test compares them field by field, bit for bit). The searches of explanations.py (single changes, plans,
missing answers, weight ranges) are run for all profiles together with numpy: the same float operations in the
same order, element by element, so every estimate is the scalar one; what arithmetic.py and explanations.py sum
exactly with math.fsum (every index reported) is summed exactly here too: in arrays where their error-free sums
prove the result is fsum's (_exact_sums), by fsum itself for the rare rest. Only what numpy cannot do the same
way stays scalar: a number criterion's grid values (Python's decimal rounding, near a half).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain, combinations, pairwise
from operator import methodcaller
from typing import Any, TypeVar

import numpy as np

from service.scoring import explanations
from service.scoring.arithmetic import NEAR_BOUNDARY, Profile, Scorecard, Value
from service.scoring.assessment import Assessment, Decision, Factor
from service.scoring.explanations import Change, Counterfactual, Margin, MissingAnswer, Plan, WeightRange
from service.scoring.model import STRATEGIES, Criterion, Model

RELATIONAL, HYBRID, TRANSACTIONAL = (STRATEGIES.index(s) for s in ("relational", "hybrid", "transactional"))
NONE = -1  # no option: unanswered, a number, or no candidate found
T = TypeVar("T")


@dataclass(frozen=True)
class FactorEntries:
    """Every profile's factors (assessment.factors_of), profile by profile: row r's are [bounds[r], bounds[r + 1])."""

    bounds: list[int]
    cols: np.ndarray  # the criterion's position in the model
    choice: np.ndarray  # the value's position among the criterion's choices; NONE for a number
    values: list[Value]  # as scored
    leans: np.ndarray
    contributions: np.ndarray


@dataclass(frozen=True)
class CounterfactualEntries:
    """Every profile's single changes (explanations.counterfactuals), profile by profile, as FactorEntries are."""

    bounds: list[int]
    cols: np.ndarray
    before: list[Value | None]  # None: unanswered
    after: list[Value]
    before_choice: np.ndarray  # positions among the criterion's choices; NONE for unanswered or a number
    after_choice: np.ndarray
    index: np.ndarray  # exact
    reached: np.ndarray  # index into STRATEGIES


@dataclass(frozen=True)
class PlanEntries:
    """Every profile's plans (explanations.plans): two a profile, for the strategies but its own in STRATEGIES
    order (profile r's are 2r and 2r + 1); and the changes of each, plan by plan as FactorEntries are profile by
    profile (none for a plan that cannot reach its target)."""

    target: np.ndarray  # (2N,) index into STRATEGIES
    index: np.ndarray  # (2N,) exact; nan for a plan that cannot reach its target
    bounds: list[int]
    cols: np.ndarray
    before_choice: np.ndarray  # NONE: unanswered
    after_choice: np.ndarray
    before: list[Value | None]
    after: list[Value]


@dataclass(frozen=True)
class WeightEntries:
    """Every profile's weight ranges (explanations.weight_sensitivity), profile by profile."""

    bounds: list[int]
    cols: np.ndarray
    lower: np.ndarray  # nan: no limit
    upper: np.ndarray
    below: np.ndarray  # index into STRATEGIES, NONE: no limit
    above: np.ndarray


@dataclass(frozen=True)
class MissingEntries:
    """Every profile's missing answers (explanations.missing_information), profile by profile."""

    bounds: list[int]
    cols: np.ndarray
    reached: np.ndarray  # the strategies answering it can lead to, by bit mask (bit s: STRATEGIES[s])
    largest_shift: np.ndarray
    can_change: np.ndarray


@dataclass(frozen=True)
class Explained:
    """N valid profiles assessed by one model, as arrays: each profile's numbers, and its explanations as entries."""

    model: Model
    size: int
    recommendation: np.ndarray  # (N,) index into STRATEGIES
    index: np.ndarray
    coverage: np.ndarray
    confidence: np.ndarray
    runner_up: np.ndarray  # index into STRATEGIES
    distance: np.ndarray
    close_call: np.ndarray
    factors: FactorEntries
    counterfactuals: CounterfactualEntries
    plans: PlanEntries
    sensitivity: WeightEntries
    missing_information: MissingEntries
    table: _Table

    def decisions(self) -> list[Decision]:
        """Each profile's Decision, in order."""
        return _tuples(Decision, NAME_AT[self.recommendation], self.index, self.confidence)

    def assessments(self) -> list[Assessment]:
        """The Assessment of each profile, in order: what assess() gives for it."""
        criteria, table = self.table.layout.criterion_at, self.table
        factors, changes, plans = self.factors, self.counterfactuals, self.plans
        ranges, missing = self.sensitivity, self.missing_information
        counterfactuals = _tuples(Counterfactual, _tuples(Change, criteria[changes.cols], changes.before,
                                                          changes.after), changes.index, NAME_AT[changes.reached])
        plan_changes = _per_row(_tuples(Change, criteria[plans.cols], plans.before, plans.after), plans.bounds)
        two_a_profile = list(range(0, 2 * self.size + 1, 2))
        columns = zip(
            _per_row(_tuples(Factor, criteria[factors.cols], factors.values, factors.leans, factors.contributions),
                     factors.bounds),
            self.confidence.tolist(),
            _per_row(counterfactuals, changes.bounds),
            _per_row(_tuples(Plan, NAME_AT[plans.target], plan_changes, _or_none(plans.index)), two_a_profile),
            _tuples(Margin, NAME_AT[self.runner_up], self.distance, self.close_call),
            _per_row(_tuples(WeightRange, criteria[ranges.cols], _or_none(ranges.lower), _or_none(ranges.upper),
                             NAME_AT[ranges.below], NAME_AT[ranges.above]), ranges.bounds),
            _per_row(_tuples(MissingAnswer, criteria[missing.cols], REACHED_AT[missing.reached],
                             missing.largest_shift, missing.can_change), missing.bounds),
            strict=True)
        return [Assessment(self.model, table.card(row), *fields) for row, fields in enumerate(columns)]


def explain_many(model: Model, profiles: Sequence[Profile]) -> Explained:
    """Assess valid profiles together, as arrays (an invalid one raises what assess() raises for the first)."""
    table = _Table.of(_layout(model), profiles)
    threshold, index, recommendation = model.threshold, table.index, table.recommendation
    coverage = table.answered_weight / model.total_weight
    # arithmetic.confidence and explanations.margin, element by element
    decisiveness = np.where(recommendation == HYBRID, (threshold - np.abs(index)) / threshold,
                            (np.abs(index) - threshold) / (1 - threshold))
    distance = np.where(recommendation == RELATIONAL, index - threshold,
                        np.where(recommendation == TRANSACTIONAL, -threshold - index,
                                 np.where(index >= 0, threshold - index, index + threshold)))
    runner_up = np.where(recommendation == HYBRID, np.where(index >= 0, RELATIONAL, TRANSACTIONAL), HYBRID)
    return Explained(model, table.size, recommendation, index, coverage, coverage * (0.5 + 0.5 * decisiveness),
                     runner_up, distance, distance < model.close_call_margin, _factors(table), _counterfactuals(table),
                     _plans(table), _weight_sensitivity(table), _missing_information(table), table)


def assess_many(model: Model, profiles: Sequence[Profile]) -> list[Assessment]:
    """Assess valid profiles together; the same result as assess() on each, in order."""
    return explain_many(model, profiles).assessments() if profiles else []


# A NamedTuple's own constructor is a Python function; tuple.__new__ makes the same tuple without that call,
# which counts when an assessment holds some fifty of them
_new = tuple.__new__


def _factors(table: _Table) -> FactorEntries:
    """assessment.factors_of for every profile: answered criteria, largest |contribution| first, ties in model order."""
    rows, cols = np.nonzero(table.answered)  # row-major: each profile's criteria in model order
    contribution = table.products[rows, cols] / table.answered_weight[rows]
    order = np.lexsort((-np.abs(contribution), rows))  # a stable sort: equal |contribution| keep model order
    rows, cols = rows[order], cols[order]
    return FactorEntries(_bounds(rows, table.size), cols, table.choice[rows, cols], table.values[rows, cols].tolist(),
                         table.leans[rows, cols], contribution[order])


def object_array(items: list[Any]) -> np.ndarray:
    """The items as a 1-D object array (np.array would make tuples a second dimension)."""
    found = np.empty(len(items), dtype=object)
    found[:] = items
    return found


NAME_AT = object_array([*STRATEGIES, None])  # the strategies by index into STRATEGIES; NONE (-1) is the last
# the strategies a missing answer can lead to, by bit mask (bit s: STRATEGIES[s]), in STRATEGIES order
REACHED_AT = object_array([tuple(name for s, name in enumerate(STRATEGIES) if mask >> s & 1)
                           for mask in range(2 ** len(STRATEGIES))])


def _tuples(kind: type[T], *columns: np.ndarray | list[Any]) -> list[T]:
    """A `kind` NamedTuple per position of the columns, made without a Python call for each (map and zip are C)."""
    return list(map(functools.partial(_new, kind),
                    zip(*(column.tolist() if isinstance(column, np.ndarray) else column for column in columns),
                        strict=True)))


def _bounds(rows: np.ndarray, count: int) -> list[int]:
    """Where each row's entries start in `rows` (sorted), and where the last one's end."""
    return np.searchsorted(rows, np.arange(count + 1)).tolist()


def _per_row(items: list[T], bounds: list[int]) -> list[tuple[T, ...]]:
    """Items in row order as one tuple per row (an empty one for a row with none)."""
    return [tuple(items[start:end]) for start, end in pairwise(bounds)]


def decide(index: np.ndarray, threshold: float) -> np.ndarray:
    """arithmetic.decide for an array of indexes, as indexes into STRATEGIES."""
    return np.where(index >= threshold, RELATIONAL, np.where(index <= -threshold, TRANSACTIONAL, HYBRID))


@dataclass(frozen=True)
class _Layout:
    """What does not depend on a profile: each criterion's weight and choices as arrays, made once per model."""

    model: Model
    criteria: tuple[Criterion, ...]
    criterion_at: np.ndarray  # (C,) the criteria as an object array, to pick many by position at once
    weights: np.ndarray  # (C,)
    # per criterion: the lean of each choice (for a number, its minimum, centre and maximum)
    choice_leans: tuple[np.ndarray, ...]
    # the same, and each choice's value, by criterion and choice (C, K), padded with 0.0 and None
    lean_at: np.ndarray
    value_at: np.ndarray
    # per criterion scored by options: each value a profile may give (aliases too) -> (as scored, lean, position)
    answers: tuple[dict[str, tuple[str, float, int]] | None, ...]
    required: np.ndarray  # positions of the required criteria
    # per actionable criterion (by index in criteria): may a plan move from choice i (or unanswered, last row) to j?
    moves: dict[int, np.ndarray]


_layouts: dict[int, _Layout] = {}
MAX_LAYOUTS = 8  # a few models are served at once; each reload brings new ones


def _layout(model: Model) -> _Layout:
    found = _layouts.get(id(model))
    if found is None or found.model is not model:
        if len(_layouts) >= MAX_LAYOUTS:  # models reloaded away: the oldest layout goes (it holds its model)
            del _layouts[next(iter(_layouts))]
        found = _layouts[id(model)] = _make_layout(model)
    return found


def _make_layout(model: Model) -> _Layout:
    criteria = model.criteria
    choice_leans, positions, moves = [], [], {}
    for c, criterion in enumerate(criteria):
        values = [value for value, _ in criterion.choices]
        choice_leans.append(np.array([lean for _, lean in criterion.choices], dtype=float))
        positions.append({value: i for i, value in enumerate(values)} if criterion.number is None else {})
        if criterion.actionable and criterion.number is None:
            allowed = np.zeros((len(values) + 1, len(values)), dtype=bool)
            for i, before in enumerate([*values, None]):
                targets = {value for value, _ in criterion.plan_choices(before)}
                allowed[i] = [value in targets for value in values]
            moves[c] = allowed
    answers = tuple(None if c.number is not None else {
        option.value: (c.canonical(option.value), c.lean(c.canonical(option.value)),
                       positions[col][c.canonical(option.value)])
        for option in c.options} for col, c in enumerate(criteria))
    k = max(len(c.choices) for c in criteria)
    lean_at, value_at = np.zeros((len(criteria), k)), np.full((len(criteria), k), None, dtype=object)
    for col, criterion in enumerate(criteria):
        for i, (value, lean) in enumerate(criterion.choices):
            lean_at[col, i], value_at[col, i] = lean, value
    required = np.array([col for col, criterion in enumerate(criteria) if criterion.required], dtype=int)
    return _Layout(model, criteria, object_array(list(criteria)), np.array([c.weight for c in criteria], dtype=float),
                   tuple(choice_leans), lean_at, value_at, answers, required, moves)


@dataclass(frozen=True)
class _Table:
    """The scorecards of N profiles as arrays."""

    layout: _Layout
    profiles: Sequence[Profile]
    size: int
    total: np.ndarray  # (N,) exact sum of products
    answered_weight: np.ndarray  # (N,) exact sum of answered weights
    index: np.ndarray  # (N,)
    recommendation: np.ndarray  # (N,) index into STRATEGIES
    answered: np.ndarray  # (N, C) bool
    products: np.ndarray  # (N, C) weight × lean, 0 where unanswered
    leans: np.ndarray  # (N, C) 0 where unanswered
    choice: np.ndarray  # (N, C) position of the value among the criterion's choices, NONE where unanswered
    numbers: np.ndarray  # (N, C) the value of a number criterion, nan where unanswered or not a number
    values: np.ndarray  # (N, C) each answer's value as scored, None where unanswered
    _cards: dict[int, Scorecard] = field(default_factory=dict)

    def card(self, row: int) -> Scorecard:
        """Row's Scorecard, made when first asked for: for an Assessment, or an exact sum left to fsum."""
        found = self._cards.get(row)
        if found is None:
            found = self._cards[row] = Scorecard.of(self.layout.model, self.profiles[row])
        return found

    @classmethod
    def of(cls, layout: _Layout, profiles: Sequence[Profile]) -> _Table:
        """The arrays of each profile's Scorecard (what Scorecard.of makes), read criterion by criterion."""
        model, criteria = layout.model, layout.criteria
        n, c = len(profiles), len(criteria)
        answered = np.zeros((n, c), dtype=bool)
        lean_table, choice_table, number_table = np.zeros((n, c)), np.full((n, c), NONE), np.full((n, c), math.nan)
        value_table = np.full((n, c), None, dtype=object)
        try:
            for col, criterion in enumerate(criteria):
                name, answers = criterion.name, layout.answers[col]
                column = object_array(list(map(methodcaller("get", name), profiles)))
                present = np.not_equal(column, None)
                rows = np.nonzero(present)[0]
                given = column[present].tolist()
                if answers is None:  # a number: scored as it is
                    scored, found = given, [criterion.lean(value) for value in given]
                    number_table[rows, col] = given
                else:
                    triples = list(map(answers.__getitem__, given))  # (as scored, lean, position)
                    scored, found, positions = zip(*triples, strict=True) if triples else ((), (), ())
                    choice_table[rows, col] = positions
                answered[rows, col] = True
                lean_table[rows, col] = found
                value_table[rows, col] = scored
            if not answered[:, layout.required].all():
                raise KeyError
        except (KeyError, TypeError):  # not an option, or a required criterion left out: as Scorecard.of says
            for profile in profiles:
                Scorecard.of(model, profile)
            raise
        products = layout.weights[None, :] * lean_table  # weight × lean, as each Scorecard's products are
        total = _fsums(products, answered)
        answered_weight = _fsums(np.where(answered, layout.weights[None, :], 0.0), answered)
        index = total / answered_weight
        return cls(layout, profiles, n, total, answered_weight, index, decide(index, model.threshold), answered,
                   products, lean_table, choice_table, number_table, value_table)


def _number_candidates(table: _Table, col: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """explanations._number_candidates for every profile: (values, leans, mask of those kept), in the scalar order.

    The grid values are rounded with Python's round(), as the scalar code does (numpy rounds another way).
    """
    layout, threshold = table.layout, table.layout.model.threshold
    criterion = layout.criteria[col]
    scale = criterion.number
    assert scale is not None
    weight = layout.weights[col]
    answered = table.answered[:, col]
    others = table.total - table.products[:, col]
    total = (table.answered_weight - np.where(answered, weight, 0.0)) + weight
    low_edge = (-threshold * total - others) / weight
    high_edge = (threshold * total - others) / weight
    start = table.leans[:, col]
    bands = ((np.full_like(low_edge, -1.0), np.minimum(low_edge, 1.0)),
             (np.maximum(low_edge, -1.0), np.minimum(high_edge, 1.0)),
             (np.maximum(high_edge, -1.0), np.full_like(low_edge, 1.0)))
    raw, valid = [], []
    for low, high in bands:
        centre = scale.centre + scale.span * np.minimum(np.maximum(start, low), high)
        for step in (0, 1, -1, 2, -2):
            raw.append(np.minimum(np.maximum(centre + step * explanations.NUMBER_GRID, scale.minimum), scale.maximum))
            valid.append(low <= high)
    shape = (len(start), len(raw))
    values = _round_2(np.stack(raw, axis=1))
    kept = np.stack(valid, axis=1) & (values != table.numbers[:, col][:, None])  # nan never equals
    # a value met earlier in the row is not kept again
    earlier = np.tril(np.ones((shape[1], shape[1]), dtype=bool), -1)  # earlier[j, i]: i comes before j
    kept &= ~((values[:, :, None] == values[:, None, :]) & kept[:, None, :] & earlier[None, :, :]).any(axis=2)
    leans = np.maximum(-1.0, np.minimum(1.0, (values - scale.centre) / scale.span))
    return values, leans, kept


def _round_2(numbers: np.ndarray) -> np.ndarray:
    """round(x, 2) of each number, as Python rounds it: x's exact value to two decimals, half to even.

    numpy's rint(100 x) / 100 is that wherever 100 x is not within a rounding error of a half (then rint picks the
    integer Python picks, and the division rounds k / 100 to the double nearest it, as Python's does); the few
    numbers that near a half are rounded by Python.
    """
    scaled = numbers * 100
    rounded = np.rint(scaled) / 100
    near_half = np.abs(np.abs(scaled - np.floor(scaled)) - 0.5) < 1e-6
    for at in zip(*np.nonzero(near_half), strict=True):
        rounded[at] = round(float(numbers[at]), 2)
    return rounded


def _estimates(table: _Table, col: int, leans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scorecard.outcomes_of for one criterion, for every profile and each lean of `leans` ((L,) or (N, L))."""
    threshold = table.layout.model.threshold
    weight = table.layout.weights[col]
    answered = table.answered[:, col]
    base = np.where(answered, table.total - table.products[:, col], table.total)
    total = np.where(answered, table.answered_weight, table.answered_weight + weight)
    index = (base[:, None] + weight * (leans if leans.ndim == 2 else leans[None, :])) / total[:, None]
    near = np.abs(np.abs(index) - threshold) < NEAR_BOUNDARY
    if near.any():
        name = table.layout.criteria[col].name
        for row, k in zip(*np.nonzero(near), strict=True):
            lean = leans[row, k] if leans.ndim == 2 else leans[k]
            index[row, k] = table.card(row).index_with({name: float(lean)})
    return index, decide(index, threshold)


def _indexes_with(table: _Table, rows: np.ndarray, cols: np.ndarray, leans: np.ndarray) -> np.ndarray:
    """Scorecard.index_with for each row of `rows`, its criteria `cols` (M, K) set to `leans` (M, K), bit for bit:
    summed in arrays where _exact_sums proves them fsum's, by index_with itself for the rare rest."""
    layout = table.layout
    at = np.arange(rows.size)[:, None]
    weights = layout.weights[cols]
    answered = table.answered[rows]
    was = answered[at, cols]
    # the row's products with the changed ones taken out, and the new ones
    products = table.products[rows]
    products[at, cols] = 0.0
    total, total_exact = _exact_sums(np.column_stack([products, weights * leans]))
    # the answered weights, and those of the criteria answered now
    added, added_exact = _exact_sums(np.column_stack([np.where(answered, layout.weights[None, :], 0.0),
                                                      np.where(was, 0.0, weights)]))
    none_added = was.all(axis=1)
    weight = np.where(none_added, table.answered_weight[rows], added)
    index = total / weight
    for i in np.nonzero(~(total_exact & (none_added | added_exact)))[0].tolist():
        changed = {layout.criteria[col].name: lean for col, lean in zip(cols[i].tolist(), leans[i].tolist(),
                                                                         strict=True)}
        index[i] = table.card(rows[i]).index_with(changed)
    return index


def _exact_sums(terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's math.fsum, bit for bit, where the second array is True (elsewhere, leave it to fsum).

    fsum gives the exact sum rounded once. Added left to right, each addition's rounding error is known exactly
    (TwoSum, Knuth's) and kept in a carry: the running sum plus the carry is the exact sum while the carry's own
    additions are exact, and then one last addition of the two rounds it once, as fsum does. A zero is left to
    fsum, whose sign of zero is its own.
    """
    total, carry = terms[:, 0].copy(), np.zeros(len(terms))
    exact = np.ones(len(terms), dtype=bool)
    for k in range(1, terms.shape[1]):
        total, error = _two_sum(total, terms[:, k])
        carry, lost = _two_sum(carry, error)
        exact &= lost == 0
    found = total + carry
    return found, exact & (found != 0)


def _fsums(terms: np.ndarray, answered: np.ndarray) -> np.ndarray:
    """math.fsum of each row's answered terms (a Scorecard's sums): in arrays where proven, by fsum for the rest."""
    found, exact = _exact_sums(terms)
    for row in np.nonzero(~exact)[0].tolist():
        found[row] = math.fsum(terms[row][answered[row]].tolist())
    return found


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """a + b as numpy adds them, and that addition's rounding error, exactly: a + b = sum + error."""
    found = a + b
    back = found - a
    return found, (a - (found - back)) + (b - back)


def _counterfactuals(table: _Table) -> CounterfactualEntries:
    """explanations.counterfactuals for every profile."""
    layout = table.layout
    # every change found: its row, criterion, where the scalar scan met its outcome first, outcome, value, its
    # position among the choices and its lean (each starts empty, so that a table with none concatenates)
    found_rows, found_cols, found_seen, found_outcomes = ([np.zeros(0, dtype=int)] for _ in range(4))
    afters, after_choices, leans_after = [np.empty(0, dtype=object)], [np.zeros(0, dtype=int)], [np.zeros(0)]
    for col, criterion in enumerate(layout.criteria):
        if criterion.number is None:
            leans = layout.choice_leans[col]
            values = np.array([value for value, _ in criterion.choices], dtype=object)[None, :]
            candidate = np.arange(leans.size)[None, :] != table.choice[:, col][:, None]  # every choice but its own
            index, reached = _estimates(table, col, leans)
            lean_of = np.broadcast_to(leans[None, :], index.shape)
            value_of = np.broadcast_to(values, index.shape)
        else:
            value_of, lean_of, candidate = _number_candidates(table, col)
            index, reached = _estimates(table, col, lean_of)
        move = np.abs(index - table.index[:, None])
        for outcome in range(len(STRATEGIES)):
            mask = candidate & (reached == outcome) & (table.recommendation != outcome)[:, None]
            rows = np.nonzero(mask.any(axis=1))[0]
            if not rows.size:
                continue
            best = np.argmin(np.where(mask[rows], move[rows], np.inf), axis=1)  # the first of the least, as scanned
            found_rows.append(rows)
            found_cols.append(np.full(rows.size, col))
            found_seen.append(np.argmax(mask[rows], axis=1))  # where the scan met this outcome: the scalar order
            found_outcomes.append(np.full(rows.size, outcome))
            afters.append(value_of[rows, best])
            after_choices.append(best if criterion.number is None else np.full(rows.size, NONE))
            leans_after.append(lean_of[rows, best])
    rows, cols, seen, outcomes, after_choice, lean = (np.concatenate(parts) for parts in (
        found_rows, found_cols, found_seen, found_outcomes, after_choices, leans_after))
    exact_index = _indexes_with(table, rows, cols[:, None], lean[:, None])
    # least movement first; among equals, the scalar order: criteria in model order, then as the scan met them
    order = np.lexsort((seen, cols, np.abs(exact_index - table.index[rows]), rows))
    rows, cols = rows[order], cols[order]
    return CounterfactualEntries(_bounds(rows, table.size), cols, table.values[rows, cols].tolist(),
                                 np.concatenate(afters)[order].tolist(), table.choice[rows, cols],
                                 after_choice[order], exact_index[order], outcomes[order])




def _missing_information(table: _Table) -> MissingEntries:
    """explanations.missing_information for every profile."""
    layout = table.layout
    found_rows, found_cols, masks = [np.zeros(0, dtype=int)], [np.zeros(0, dtype=int)], [np.zeros(0, dtype=int)]
    shifts, changes = [np.zeros(0)], [np.zeros(0, dtype=bool)]  # each starts empty: a table with none concatenates
    for col in range(len(layout.criteria)):
        rows = np.nonzero(~table.answered[:, col])[0]
        if not rows.size:
            continue
        # unanswered: every choice is a change (for a number, its minimum, centre and maximum)
        index, reached = _estimates(table, col, layout.choice_leans[col])
        index, reached = index[rows], reached[rows]
        present = np.stack([(reached == s).any(axis=1) for s in range(len(STRATEGIES))], axis=1)
        found_rows.append(rows)
        found_cols.append(np.full(rows.size, col))
        shifts.append(np.max(np.abs(index - table.index[rows, None]), axis=1))
        changes.append((present.sum(axis=1) > 1) | ~present[np.arange(rows.size), table.recommendation[rows]])
        masks.append(present @ (1 << np.arange(len(STRATEGIES))))
    rows, cols, shift, can_change, mask = (np.concatenate(parts) for parts in (found_rows, found_cols, shifts,
                                                                              changes, masks))
    # per profile: those that can change the answer first, then the largest shift; ties in model order (stable)
    order = np.lexsort((-shift, ~can_change, rows))
    return MissingEntries(_bounds(rows[order], table.size), cols[order], mask[order], shift[order], can_change[order])


def _plans(table: _Table) -> PlanEntries:
    """explanations.plans for every profile: subsets of actionable criteria smallest first, all rows together."""
    layout = table.layout
    threshold = layout.model.threshold
    n = table.size
    actionable = [col for col, c in enumerate(layout.criteria) if c.actionable and col in layout.moves]
    # the moves each row may make: (N, choices) per actionable criterion
    allowed = {col: layout.moves[col][np.where(table.choice[:, col] == NONE, -1, table.choice[:, col])]
               for col in actionable}
    # explanations.allowed_moves: a capability left unanswered is answered only so that the index moves its way
    for col in actionable:
        moves = layout.criteria[col].moves
        if moves != "either":
            leans = layout.choice_leans[col][None, :]
            index = table.index[:, None]
            way = leans > index if moves == "up" else leans < index
            allowed[col] = np.where(~table.answered[:, col][:, None], allowed[col] & way, allowed[col])
    # what the lowest and highest allowed lean add to the sums (as explanations.plans computes them)
    shifts = {}
    for col in actionable:
        leans = layout.choice_leans[col]
        weight = layout.weights[col]
        before = table.products[:, col]
        answered = table.answered[:, col]
        low = np.min(np.where(allowed[col], leans[None, :], np.inf), axis=1)
        high = np.max(np.where(allowed[col], leans[None, :], -np.inf), axis=1)
        # weight*lean - (before or 0.0): exact 0.0 subtracted where unanswered, as the scalar code does
        shifts[col] = (weight * low - np.where(answered, before, 0.0), weight * high - np.where(answered, before, 0.0),
                       np.where(answered, 0.0, weight))
    has_moves = {col: allowed[col].any(axis=1) for col in actionable}
    sought = np.ones((n, len(STRATEGIES)), dtype=bool)
    sought[np.arange(n), table.recommendation] = False
    found: dict[tuple[int, int], tuple[tuple[int, ...], tuple[int, ...]]] = {}
    for size in range(1, len(actionable) + 1):
        open_rows = sought.any(axis=1)
        if not open_rows.any():
            break
        search = _PlanSearch(table, allowed, sought)
        for subset in combinations(actionable, size):
            rows_mask = open_rows.copy()
            for col in subset:
                rows_mask &= has_moves[col]
            low, high, added = table.total, table.total, table.answered_weight
            for col in subset:
                to_low, to_high, weight = shifts[col]
                low, high, added = low + to_low, high + to_high, added + weight
            lowest, highest = low / added, high / added
            # can [lowest, highest] meet a sought band? (explanations.plans prunes the same way)
            rows_mask &= ((sought[:, RELATIONAL] & (highest >= threshold - NEAR_BOUNDARY))
                          | (sought[:, TRANSACTIONAL] & (lowest <= -threshold + NEAR_BOUNDARY))
                          | (sought[:, HYBRID] & (lowest < threshold + NEAR_BOUNDARY)
                             & (highest > -threshold - NEAR_BOUNDARY)))
            rows = np.nonzero(rows_mask)[0]
            if rows.size:
                search.subset(subset, rows)
        for (row, target), pick in search.best_pick.items():
            found[row, target] = pick
            sought[row, target] = False
    return _plan_entries(table, found)


# the strategies a profile's plans aim at, in STRATEGIES order: all but its own, by its own
_OTHERS = np.array([[target for target in range(len(STRATEGIES)) if target != own] for own in range(len(STRATEGIES))])


def _plan_entries(table: _Table, found: dict[tuple[int, int], tuple[tuple[int, ...], tuple[int, ...]]]
                  ) -> PlanEntries:
    """The plans found ((row, target) -> its criteria and choices) as entries; their exact indexes summed those of
    a size together."""
    layout, n = table.layout, table.size
    keys = list(found)
    rows = np.array([row for row, _ in keys], dtype=int)
    targets = np.array([target for _, target in keys], dtype=int)
    plan = 2 * rows + targets - (targets > table.recommendation[rows])  # its place among the profile's two
    sizes = np.array([len(found[key][0]) for key in keys], dtype=int)
    index = np.full(2 * n, np.nan)
    for size in set(sizes.tolist()):
        at = np.nonzero(sizes == size)[0].tolist()
        cols, ks = (np.array([found[keys[i]][part] for i in at], dtype=int) for part in (0, 1))
        index[plan[at]] = _indexes_with(table, rows[at], cols, layout.lean_at[cols, ks])
    order = np.argsort(plan).tolist()
    cols = np.fromiter(chain.from_iterable(found[keys[i]][0] for i in order), dtype=int, count=int(sizes.sum()))
    ks = np.fromiter(chain.from_iterable(found[keys[i]][1] for i in order), dtype=int, count=cols.size)
    change_rows = np.repeat(rows[order], sizes[order])
    return PlanEntries(_OTHERS[table.recommendation].ravel(), index,
                       _bounds(np.repeat(plan[order], sizes[order]), 2 * n), cols, table.choice[change_rows, cols],
                       ks, table.values[change_rows, cols].tolist(), layout.value_at[cols, ks].tolist())


class _PlanSearch:
    """One size of explanations.plans' search, for all rows: every pick of every subset, the least move per target.

    A pick's sums are built criterion by criterion in the scalar order, so a prefix shared by many picks is
    computed once (a tree over the subset's criteria); the kept pick is the first of the least moves, as the
    scalar loop's strict comparison keeps it.
    """

    def __init__(self, table: _Table, allowed: dict[int, np.ndarray], sought: np.ndarray) -> None:
        self.table, self.allowed, self.sought = table, allowed, sought
        self.best_move = np.full(sought.shape, np.inf)
        self.best_pick: dict[tuple[int, int], tuple[tuple[int, ...], tuple[int, ...]]] = {}

    def subset(self, subset: tuple[int, ...], rows: np.ndarray) -> None:
        table = self.table
        self._extend(subset, (), rows, table.total[rows], table.answered_weight[rows])

    def _extend(self, subset: tuple[int, ...], pick: tuple[int, ...], rows: np.ndarray, total: np.ndarray,
                answered: np.ndarray) -> None:
        table, layout = self.table, self.table.layout
        col = subset[len(pick)]
        weight = layout.weights[col]
        was = table.answered[rows, col]
        # the scalar order: take out what it was (if answered), then put in the new lean
        base = np.where(was, total - table.products[rows, col], total)
        weights = np.where(was, answered - weight, answered) + weight
        for k, lean in enumerate(layout.choice_leans[col].tolist()):
            ok = self.allowed[col][rows, k]
            if not ok.any():
                continue
            here = rows[ok] if not ok.all() else rows
            sums = (base[ok] if here is not rows else base) + weight * lean
            total_weight = weights[ok] if here is not rows else weights
            if len(pick) + 1 < len(subset):
                self._extend(subset, (*pick, k), here, sums, total_weight)
            else:
                self._finish(subset, (*pick, k), here, sums / total_weight)

    def _finish(self, subset: tuple[int, ...], pick: tuple[int, ...], rows: np.ndarray, index: np.ndarray) -> None:
        table, layout = self.table, self.table.layout
        threshold = layout.model.threshold
        near = np.nonzero(np.abs(np.abs(index) - threshold) < NEAR_BOUNDARY)[0]
        for i in near.tolist():
            index[i] = table.card(rows[i]).index_with(
                {layout.criteria[col].name: float(layout.choice_leans[col][k]) for col, k in zip(subset, pick,
                                                                                                  strict=True)})
        reached = decide(index, threshold)
        move = np.abs(index - table.index[rows])
        better = self.sought[rows, reached] & (move < self.best_move[rows, reached])
        if better.any():
            rows, reached, move = rows[better], reached[better], move[better]
            self.best_move[rows, reached] = move
            for row, target in zip(rows.tolist(), reached.tolist(), strict=True):
                self.best_pick[row, target] = (subset, pick)


def _weight_sensitivity(table: _Table) -> WeightEntries:
    """explanations.weight_sensitivity for every profile: crossings and intervals of all answered criteria at once.

    Each criterion has at most two crossings, so at most three intervals: the scalar loops over them
    become array steps over a fixed width of three.
    """
    # a criterion with fewer crossings pads its rows with inf and nan, which the masks below never select
    with np.errstate(divide="ignore", invalid="ignore"):
        layout, threshold = table.layout, table.layout.model.threshold
        rows, cols = np.nonzero(table.answered)  # row-major: each profile's criteria in model order, as its leans are
        weight = layout.weights[cols]
        lean = table.leans[rows, cols]
        others = table.total[rows] - table.products[rows, cols]
        others_weight = table.answered_weight[rows] - weight
        current = table.recommendation[rows]
        up = (threshold * others_weight - others) / (lean - threshold)
        down = (-threshold * others_weight - others) / (lean + threshold)
        has_up = (lean != threshold) & (up > 0)
        has_down = (lean != -threshold) & (down > 0) & ~(has_up & (down == up))
        count = has_up.astype(int) + has_down
        both = has_up & has_down
        first_edge = np.where(both, np.minimum(up, down), np.where(has_up, up, down))
        second_edge = np.where(both, np.maximum(up, down), np.inf)
        # edges 0, crossings..., inf; the answer in each interval, taken at its middle (past the last: 2·edge + 1)
        edges = np.stack([np.zeros_like(weight), first_edge, second_edge, np.full_like(weight, np.inf)], axis=1)
        edges[count == 0, 1] = np.inf
        middles = np.stack([
            np.where(count >= 1, (0.0 + first_edge) / 2, 1.0),
            np.where(count == 2, (first_edge + second_edge) / 2, 2 * first_edge + 1),
            2 * second_edge + 1,
        ], axis=1)
        answers = decide((others[:, None] + middles * lean[:, None]) / (others_weight[:, None] + middles), threshold)
        intervals = np.arange(3)[None, :]
        answers = np.where(intervals <= count[:, None], answers, NONE)
        tolerance = 1e-9 * weight
        same = answers == current[:, None]
        around = (same & (edges[:, :3] - tolerance[:, None] <= weight[:, None])
                  & (weight[:, None] <= edges[:, 1:] + tolerance[:, None]))
        inside = around.any(axis=1)
        first = np.argmax(around, axis=1)
        last = 2 - np.argmax(around[:, ::-1], axis=1)
        for _ in range(2):  # widen to the neighbouring intervals with the same answer
            first = np.where((first > 0) & same[np.arange(first.size), np.maximum(first - 1, 0)], first - 1, first)
            last = np.where((last < count) & same[np.arange(last.size), np.minimum(last + 1, 2)], last + 1, last)
        at = np.arange(weight.size)
        lower = edges[at, first]
        upper = edges[at, last + 1]
        below = np.where(first > 0, answers[at, np.maximum(first - 1, 0)], NONE)
        above = np.where(last < count, answers[at, np.minimum(last + 1, 2)], NONE)
        # on a crossing exactly (no interval holds the weight): any move changes the answer
        left = np.max(np.where(edges[:, 1:] <= (weight + tolerance)[:, None], intervals, -1), axis=1)
        lower = np.where(inside, lower, weight)
        upper = np.where(inside, upper, weight)
        below = np.where(inside, below, answers[at, np.maximum(left, 0)])
        above = np.where(inside, above, answers[at, np.minimum(left + 1, 2)])
        none = count == 0
        low = np.where(inside & (lower > 0) | ~inside, lower, np.nan)
        high = np.where(inside & (upper < np.inf) | ~inside, upper, np.nan)
        low[none], high[none], below[none], above[none] = np.nan, np.nan, NONE, NONE
        room = np.fmin(np.abs(weight - low), np.abs(weight - high))
        slack = np.where(np.isnan(room), np.inf, room / weight)
    # each profile's ranges, least slack first, ties in model order (a stable sort), all profiles in one sort
    order = np.lexsort((slack, rows))
    return WeightEntries(_bounds(rows[order], table.size), cols[order], low[order], high[order], below[order],
                         above[order])




def _or_none(numbers: np.ndarray) -> list[float | None]:
    """The numbers as Python floats, nan as None."""
    found = numbers.astype(object)
    found[np.isnan(numbers)] = None
    return found.tolist()
