"""An assessment put into words, in one language, as a JSON-ready mapping (docs/contract.md §5).

Every text that does not depend on the profile (labels, reasons, change phrases, the sentences of plans that
cannot be reached, playbooks) is made once per model and language, as a `Wording` kept in `WORDINGS`;
a render only adds the numbers and the sentences that name the profile's own answers.

`render` gives plain dicts and lists. `encode` gives the same answer for orjson to write, with what is the same
for every profile (a factor's labels, reason and source; a missing answer's question; a playbook) serialised once
per model and language as an `Encoding`, so an answer costs its numbers and sentences, not its ~12 KB of text.
`encode_explained` writes the same answers for many profiles from bulk.explain_many's arrays, without an
Assessment: the batch's, the stream's and the command's. orjson.dumps of each is byte for byte orjson.dumps of
render's (tests/core/test_bulk.py).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, pairwise
from typing import Any, NamedTuple

import numpy as np
import orjson

from service.scoring.arithmetic import CONFIDENCE_FORMULA, Value
from service.scoring.assessment import Assessment
from service.scoring.bulk import NAME_AT, NONE, REACHED_AT, Explained, object_array
from service.scoring.explanations import Change, Margin, Plan
from service.scoring.model import FORMS, STRATEGIES, Citation, Criterion, Model, SeedReference

SUMMARY_FACTORS = 3
# where a sentence made once per model and language takes the words of one answer (no model text holds it)
SLOT = "\x00"

PlaybookText = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]]


class Answer(NamedTuple):
    """The text of one answer to one criterion: its factor entry but for contribution and favours, and its phrase."""

    head: dict[str, Any]  # criterion, label, value, value_label, weight, lean: copied, never handed out
    phrase: str  # how the summary names it
    reason: str
    section: str
    quote: str


@dataclass(frozen=True)
class Wording:
    """A model's text in one language: what every render of that model in that language shares."""

    language: str
    messages: Mapping[str, str]
    strategies: Mapping[str, str]
    # strategy -> its name in each grammatical form (FORMS), for the templates that need one
    forms: Mapping[str, Mapping[str, str]]
    # criterion -> option -> its answer (a criterion scored by a number has none: its text follows the number)
    answers: Mapping[str, Mapping[str, Answer]]
    # criterion -> (label, question)
    questions: Mapping[str, tuple[str, str]]
    # (criterion, before, after) -> the phrase, for every change between options (before None: unanswered)
    changes: Mapping[tuple[str, str | None, str], str]
    # target -> the sentence of a plan that cannot reach it
    unreachable: Mapping[str, str]
    # target -> the sentence of a plan that reaches it, its changes left as SLOT
    reachable: Mapping[str, str]
    # (recommendation, runner-up, close call) -> the margin's sentence, its points left as SLOT
    margins: Mapping[tuple[str, str, bool], str]
    playbooks: Mapping[str, PlaybookText]


@dataclass(frozen=True)
class Encoding:
    """A model's answers in one language as JSON: the pieces every answer shares, serialised once."""

    words: Wording
    # criterion -> option -> (its factor entry up to the contribution, favours -> the entry after it)
    factors: Mapping[str, Mapping[str, tuple[bytes, Mapping[str, bytes], str]]]
    missing: Mapping[str, bytes]  # criterion -> its missing_information entry up to the outcomes
    sensitivity: Mapping[str, bytes]  # criterion -> its sensitivity entry up to the lower bound
    # (criterion, before, after) -> a counterfactual entry up to its recommendation, for every change between
    # options (before None: unanswered); criterion -> the entry from its recommendation to its index
    changes: Mapping[tuple[str, str | None, str], bytes]
    actionable: Mapping[str, bytes]
    unreachable: Mapping[str, bytes]  # target -> the whole plan that cannot reach it
    playbooks: Mapping[str, orjson.Fragment]
    model: orjson.Fragment
    at: Positions  # the same pieces by position, for encode_explained


@dataclass(frozen=True)
class Positions:
    """An Encoding's pieces by the criterion's position in the model and the value's among its choices (K at
    most), for encode_explained to pick those of many entries at once; empty where a criterion has no choice
    (a number's entries are written whole, each after its value)."""

    factor_heads: np.ndarray  # (C, K)
    factor_tails: np.ndarray  # (C, K, 3): favours relational, transactional, neither
    phrases: np.ndarray  # (C, K)
    change_heads: np.ndarray  # (C, K + 1, K): from (K: unanswered), to
    plan_changes: np.ndarray  # (C, K + 1, K): a plan's change entry, from, to
    change_phrases: np.ndarray  # (C, K + 1, K): how a plan's summary names that change
    actionable: np.ndarray  # (C,)
    sensitivity: np.ndarray  # (C,)
    missing: np.ndarray  # (C,)


class WordingCache:
    """Each model's Wording and Encoding per language, made on first use and dropped with the model.

    Nothing in them comes from a profile.
    """

    def __init__(self) -> None:
        self._by_model: dict[int, tuple[weakref.ref[Model], dict[tuple[str, str], Any]]] = {}

    def get(self, model: Model, language: str) -> Wording:
        return self._made(model, ("words", language), lambda: _wording(model, language))

    def encoding(self, model: Model, language: str) -> Encoding:
        return self._made(model, ("json", language), lambda: _encoding(model, self.get(model, language)))

    def _made(self, model: Model, key: tuple[str, str], make: Callable[[], Any]) -> Any:
        entry = self._by_model.get(id(model))
        if entry is None or entry[0]() is not model:
            identity = id(model)
            entry = self._by_model[identity] = (weakref.ref(model, lambda _: self._by_model.pop(identity, None)), {})
        found = entry[1].get(key)
        if found is None:
            found = entry[1][key] = make()
        return found


WORDINGS = WordingCache()


def wording(model: Model, language: str) -> Wording:
    """The model's text in one language, made on first use."""
    return WORDINGS.get(model, language)


def render(assessment: Assessment, language: str) -> dict[str, Any]:
    """The assessment in one language, as the API returns it; every list and dict in it is its own."""
    model = assessment.model
    words = wording(model, language)
    recommendation, margin = assessment.recommendation, assessment.margin
    margin_sentence = _margin_sentence(words, recommendation, margin)
    return {
        **_numbers(assessment),
        "rationale": _rationale(words, assessment, margin_sentence),
        "counterfactuals": _counterfactuals(assessment),
        "plans": [_plan(words, plan) for plan in assessment.plans],
        "margin": _margin(margin, margin_sentence),
        "sensitivity": [
            {
                "criterion": weight_range.criterion.name,
                "weight": weight_range.criterion.weight,
                "lower": weight_range.lower,
                "upper": weight_range.upper,
                "below": weight_range.below,
                "above": weight_range.above,
            }
            for weight_range in assessment.sensitivity
        ],
        "missing_information": [
            {
                "criterion": answer.criterion.name,
                "label": words.questions[answer.criterion.name][0],
                "question": words.questions[answer.criterion.name][1],
                "outcomes": list(answer.outcomes),
                "can_change": answer.can_change,
                "largest_shift": answer.largest_shift,
            }
            for answer in assessment.missing_information
        ],
        "playbook": _playbook(words.playbooks[recommendation]),
        "model": {"id": model.id, "version": model.version},
    }


def encode(assessment: Assessment, language: str, fields: Collection[str] | None = None) -> dict[str, Any]:
    """render(), for orjson to write: the same JSON, its shared text pre-serialised; only `fields` (None: all)."""
    return encode_many([assessment], language, fields)[0]


def encode_many(assessments: Sequence[Assessment], language: str,
                fields: Collection[str] | None = None) -> list[dict[str, Any]]:
    """encode() of each assessment, in order; the numbers of them all written in one call per kind."""
    every = fields is None
    # each kind of number of every assessment as orjson writes it, taken in order by the loop below
    contributions = iter(_numbers_json([share for a in assessments for *_, share in a.factors])
                         if every or "rationale" in fields else ())
    indexes = iter(_numbers_json([c.index for a in assessments for c in a.counterfactuals])
                   if every or "counterfactuals" in fields else ())
    bounds = iter(_numbers_json([bound for a in assessments for _, lower, upper, _, _ in a.sensitivity
                                 for bound in (lower, upper)]) if every or "sensitivity" in fields else ())
    shifts = iter(_numbers_json([shift for a in assessments for _, _, shift, _ in a.missing_information])
                  if every or "missing_information" in fields else ())
    encodings: dict[int, Encoding] = {}
    bodies = []
    for assessment in assessments:
        model = assessment.model
        encoding = encodings.get(id(model))
        if encoding is None:
            encoding = encodings[id(model)] = WORDINGS.encoding(model, language)
        words = encoding.words
        recommendation, margin = assessment.recommendation, assessment.margin
        margin_sentence = _margin_sentence(words, recommendation, margin)
        body = _numbers(assessment)
        if every or "rationale" in fields:
            body["rationale"] = _encoded_rationale(encoding, assessment, margin_sentence, contributions)
        if every or "counterfactuals" in fields:
            heads, tails = encoding.changes, encoding.actionable
            body["counterfactuals"] = orjson.Fragment(b"[%s]" % b",".join([
                b"%s%s%s%s}" % (heads.get((criterion.name, before, after)) or _change_head(criterion, before, after),
                                _NAMES[reached], tails[criterion.name], next(indexes))
                for ((criterion, before, after), _, reached) in assessment.counterfactuals]))
        if every or "plans" in fields:
            body["plans"] = [orjson.Fragment(encoding.unreachable[plan.target]) if plan.index is None
                             else _plan(words, plan) for plan in assessment.plans]
        if every or "margin" in fields:
            body["margin"] = _margin(margin, margin_sentence)
        if every or "sensitivity" in fields:
            heads, names = encoding.sensitivity, _NAMES
            body["sensitivity"] = orjson.Fragment(b"[%s]" % b",".join([
                b'%s%s,"upper":%s,"below":%s,"above":%s}' % (
                    heads[criterion.name], next(bounds), next(bounds), names[below], names[above])
                for criterion, _, _, below, above in assessment.sensitivity]))
        if every or "missing_information" in fields:
            heads = encoding.missing
            body["missing_information"] = orjson.Fragment(b"[%s]" % b",".join([
                b'%s%s,"can_change":%s,"largest_shift":%s}' % (
                    heads[criterion.name], _OUTCOMES[outcomes], b"true" if can_change else b"false", next(shifts))
                for criterion, outcomes, _, can_change in assessment.missing_information]))
        body["playbook"] = encoding.playbooks[recommendation]
        body["model"] = encoding.model
        bodies.append(body if every else {name: value for name, value in body.items() if name in fields})
    return bodies


def encode_explained(explained: Explained, language: str, fields: Collection[str] | None = None
                     ) -> list[dict[str, Any]]:
    """encode() of each profile explained, in order, written from the arrays: what encode_many gives for their
    Assessments, without making them; each kind of entry of all the profiles written together."""
    encoding = WORDINGS.encoding(explained.model, language)
    every = fields is None
    recommendations = NAME_AT[explained.recommendation].tolist()
    margins = list(map(Margin._make, zip(NAME_AT[explained.runner_up].tolist(), explained.distance.tolist(),
                                         explained.close_call.tolist(), strict=True)))
    relational = 50 * (1 + explained.index)  # Assessment.relational_score, element by element
    columns: list[Iterable[Any]] = [recommendations, relational.tolist(), (100 - relational).tolist(),
                                    explained.index.tolist(), explained.confidence.tolist(),
                                    explained.coverage.tolist()]
    sentences = [_margin_sentence(encoding.words, recommendation, margin)
                 for recommendation, margin in zip(recommendations, margins, strict=True)
                 ] if every or "rationale" in fields or "margin" in fields else []
    sections = []
    if every or "rationale" in fields:
        sections.append("rationale")
        columns.append(_explained_rationale(encoding, explained, recommendations, margins, sentences))
    if every or "counterfactuals" in fields:
        sections.append("counterfactuals")
        columns.append(_explained_counterfactuals(encoding, explained))
    if every or "plans" in fields:
        sections.append("plans")
        columns.append(_explained_plans(encoding, explained))
    if every or "margin" in fields:
        sections.append("margin")
        columns.append(map(_margin, margins, sentences))
    if every or "sensitivity" in fields:
        sections.append("sensitivity")
        ranges = explained.sensitivity
        count = len(ranges.cols)
        columns.append(_fragments([
            encoding.at.sensitivity[ranges.cols].tolist(), _numbers_json(ranges.lower.tolist()),
            [b',"upper":'] * count, _numbers_json(ranges.upper.tolist()), [b',"below":'] * count,
            _NAME_JSON[ranges.below].tolist(), [b',"above":'] * count, _NAME_JSON[ranges.above].tolist(),
            [b"}"] * count], ranges.bounds))
    if every or "missing_information" in fields:
        sections.append("missing_information")
        missing = explained.missing_information
        count = len(missing.cols)
        columns.append(_fragments([
            encoding.at.missing[missing.cols].tolist(), _OUTCOMES_AT[missing.reached].tolist(),
            [b',"can_change":'] * count, _BOOLEAN_JSON[missing.can_change.astype(int)].tolist(),
            [b',"largest_shift":'] * count, _numbers_json(missing.largest_shift.tolist()), [b"}"] * count],
            missing.bounds))
    bodies = []
    for recommendation, relational_score, transactional_score, index, confidence, coverage, *parts in zip(
            *columns, strict=True):
        body = {"recommendation": recommendation,
                "scores": {"relational": relational_score, "transactional": transactional_score},
                "index": index, "confidence": confidence, "coverage": coverage,
                **dict(zip(sections, parts, strict=True)),
                "playbook": encoding.playbooks[recommendation], "model": encoding.model}
        bodies.append(body if every else {name: value for name, value in body.items() if name in fields})
    return bodies


def _explained_rationale(encoding: Encoding, explained: Explained, recommendations: list[str],
                         margins: list[Margin], sentences: list[str]) -> list[orjson.Fragment]:
    """_encoded_rationale of every profile explained: the factor entries of all written together, then each
    profile's summary from the first phrases of each side."""
    words, at, criteria = encoding.words, encoding.at, explained.model.criteria
    factors = explained.factors
    shares = factors.contributions
    favours = np.where(shares > 0, 0, np.where(shares < 0, 1, 2))  # Factor.favours, as positions in _FAVOURS
    number = factors.choice == NONE
    choice = np.where(number, 0, factors.choice)
    heads, contributions = at.factor_heads[factors.cols, choice].tolist(), _numbers_json(shares.tolist())
    tails = at.factor_tails[factors.cols, choice, favours].tolist()
    phrases = at.phrases[factors.cols, choice]
    for k in np.nonzero(number)[0].tolist():  # a number's entry and phrase follow its value: written whole
        answer = _answer(words.messages, criteria[factors.cols[k]], factors.values[k], float(factors.leans[k]),
                         words.language)
        heads[k], contributions[k], tails[k] = orjson.dumps(_factor_entry(answer, float(shares[k]),
                                                                          _FAVOURS[favours[k]])), b"", b""
        phrases[k] = answer.phrase
    entries = _lists([heads, contributions, tails], factors.bounds)
    # each profile's phrases of each side in factor order: entries sorted by (profile, side), a stable sort
    rows = np.repeat(np.arange(explained.size), np.diff(factors.bounds))
    sides = rows * len(_FAVOURS) + favours
    order = np.argsort(sides, kind="stable")
    ordered = phrases[order].tolist()
    starts = np.searchsorted(sides[order], np.arange(explained.size * len(_FAVOURS) + 1)).tolist()
    fragments = []
    for row, (recommendation, margin, sentence, row_entries) in enumerate(zip(
            recommendations, margins, sentences, entries, strict=True)):
        side = row * len(_FAVOURS)
        relational, transactional = starts[side], starts[side + 1]
        phrases_by_side = {"relational": ordered[relational:min(relational + SUMMARY_FACTORS, transactional)],
                           "transactional": ordered[transactional:min(transactional + SUMMARY_FACTORS,
                                                                       starts[side + 2])]}
        summary = _summary(words, recommendation, phrases_by_side, margin, sentence)
        fragments.append(orjson.Fragment(b'{"summary":%s,"factors":%s}' % (_json(summary), row_entries)))
    return fragments


def _explained_plans(encoding: Encoding, explained: Explained) -> list[orjson.Fragment]:
    """Every profile's two plans, each change's entry and phrase picked by position."""
    at, words, plans = encoding.at, encoding.words, explained.plans
    picked = (plans.cols, np.where(plans.before_choice == NONE, at.plan_changes.shape[1] - 1, plans.before_choice),
              plans.after_choice)
    changes, phrases = _lists([at.plan_changes[picked].tolist()], plans.bounds), at.change_phrases[picked].tolist()
    written = []
    for target, index, changes_json, (start, end) in zip(NAME_AT[plans.target].tolist(),
                                                         _numbers_json(plans.index.tolist()), changes,
                                                         pairwise(plans.bounds), strict=True):
        if start == end:  # no change: the target cannot be reached
            written.append(encoding.unreachable[target])
        else:
            summary = words.reachable[target].replace(SLOT, _join(words.messages, phrases[start:end]))
            written.append(b'{"target":%s,"reachable":true,"changes":%s,"index":%s,"summary":%s}' % (
                _NAMES[target], changes_json, index, _json(summary)))
    return [orjson.Fragment(b"[%s,%s]" % pair) for pair in zip(written[::2], written[1::2], strict=True)]


def _explained_counterfactuals(encoding: Encoding, explained: Explained) -> list[orjson.Fragment]:
    """The counterfactual entries of every profile explained, written together, then cut profile by profile."""
    at, criteria = encoding.at, explained.model.criteria
    changes = explained.counterfactuals
    number = changes.after_choice == NONE
    heads = at.change_heads[changes.cols, np.where(changes.before_choice == NONE, at.change_heads.shape[1] - 1,
                                                   changes.before_choice),
                            np.where(number, 0, changes.after_choice)].tolist()
    for k in np.nonzero(number)[0].tolist():  # a number's values cannot be known before
        heads[k] = _change_head(criteria[changes.cols[k]], changes.before[k], changes.after[k])
    return _fragments([heads, _NAME_JSON[changes.reached].tolist(), at.actionable[changes.cols].tolist(),
                       _numbers_json(changes.index.tolist()), [b"}"] * len(heads)], changes.bounds)


def _fragments(columns: Sequence[list[bytes]], bounds: list[int]) -> list[orjson.Fragment]:
    """_lists, for orjson to write as they are."""
    return list(map(orjson.Fragment, _lists(columns, bounds)))


def _lists(columns: Sequence[list[bytes]], bounds: list[int]) -> list[bytes]:
    """Per row, the JSON list of its entries ([bounds[r], bounds[r + 1])), entry k the k-th piece of each column
    one after another: one join per row, no concatenation per entry."""
    commas = [b","] * bounds[-1]
    for end in bounds[1:]:
        if end:
            commas[end - 1] = b""  # the last of its row (an empty row's end is the last of a row before)
    pieces = list(chain.from_iterable(zip(*columns, commas, strict=True)))
    width = len(columns) + 1
    return [b"[%s]" % b"".join(pieces[width * start:width * end]) for start, end in pairwise(bounds)]


def _change_head(criterion: Criterion, before: Value | None, after: Value) -> bytes:
    """A counterfactual entry up to its recommendation: made once per model between options (Encoding.changes), and
    for each entry of a number criterion, whose values cannot be known before."""
    return orjson.dumps({"criterion": criterion.name, "from": before, "to": after})[:-1] + b',"recommendation":'


def describe(model: Model, language: str) -> dict[str, Any]:
    """The model as `GET /criteria` shows it: every number, label and source, in one language."""
    return {
        "id": model.id,
        "version": model.version,
        "threshold": model.threshold,
        "confidence": CONFIDENCE_FORMULA,
        "total_weight": model.total_weight,
        "strategies": [{"name": name, "label": model.strategies[name].label[language]} for name in STRATEGIES],
        "criteria": [
            {
                "name": c.name,
                "label": c.label[language],
                "question": c.question[language],
                "weight": c.weight,
                "required": c.required,
                "actionable": c.actionable,
                "source": _source(c.seed),
                "options": [
                    {"value": o.value, "lean": o.lean, "label": o.label[language], "reason": o.reason[language],
                     "source": _source(o.seed)}
                    for o in c.options
                ] if c.number is None else None,
                "number": None if c.number is None else {
                    "minimum": c.number.minimum, "maximum": c.number.maximum,
                    "centre": c.number.centre, "span": c.number.span,
                },
            }
            for c in model.criteria
        ],
        "source": {"title": model.source_title, "sections": list(model.sections)},
    }


def _wording(model: Model, language: str) -> Wording:
    messages = {key: text[language] for key, text in model.messages.items()}
    strategies = {name: model.strategies[name].label[language] for name in STRATEGIES}
    forms = {name: {form: model.strategies[name].form(form, language) for form in FORMS} for name in STRATEGIES}
    by_option = [c for c in model.criteria if c.number is None]
    actionable = _join(messages, [c.label[language] for c in model.criteria if c.actionable])
    return Wording(
        language=language,
        messages=messages,
        strategies=strategies,
        forms=forms,
        answers={c.name: {o.value: _answer(messages, c, o.value, o.lean, language) for o in c.options}
                 for c in by_option},
        questions={c.name: (c.label[language], c.question[language]) for c in model.criteria},
        changes={(c.name, before, o.value): _change_phrase(messages, c, before, o.value, language)
                 for c in by_option for before in (None, *(o.value for o in c.options)) for o in c.options},
        unreachable={name: messages["plan_unreachable"].format(
                         criteria=actionable, **_named(strategies, forms, "strategy", name)) for name in STRATEGIES},
        reachable={name: messages["plan_reachable"].format(changes=SLOT, **_named(strategies, forms, "strategy", name))
                   for name in STRATEGIES},
        margins={(recommendation, runner_up, close): messages["margin_close" if close else "margin_clear"].format(
                     points=SLOT, **_named(strategies, forms, "recommendation", recommendation),
                     **_named(strategies, forms, "runner_up", runner_up))
                 for recommendation in STRATEGIES for runner_up in STRATEGIES for close in (False, True)},
        playbooks={name: (_texts(book.kpis, language), _texts(book.tools, language), _texts(book.steps, language),
                          tuple((r.risk[language], r.mitigation[language]) for r in book.risks))
                   for name, book in model.playbooks.items()},
    )


def _numbers(assessment: Assessment) -> dict[str, Any]:
    return {
        "recommendation": assessment.recommendation,
        "scores": {"relational": assessment.relational_score, "transactional": assessment.transactional_score},
        "index": assessment.index,
        "confidence": assessment.confidence,
        "coverage": assessment.coverage,
    }


def _counterfactuals(assessment: Assessment) -> list[dict[str, Any]]:
    return [
        {
            "criterion": counterfactual.change.criterion.name,
            "from": counterfactual.change.before,
            "to": counterfactual.change.after,
            "recommendation": counterfactual.recommendation,
            "actionable": counterfactual.change.criterion.actionable,
            "index": counterfactual.index,
        }
        for counterfactual in assessment.counterfactuals
    ]


def _margin(margin: Margin, sentence: str) -> dict[str, Any]:
    return {"runner_up": margin.runner_up, "distance": margin.distance, "points": 50 * margin.distance,
            "close_call": margin.close_call, "summary": sentence}


def _encoding(model: Model, words: Wording) -> Encoding:
    def factor(answer: Answer) -> tuple[bytes, dict[str, bytes], str]:
        head = orjson.dumps(answer.head)[:-1] + b',"contribution":'
        tail = b',"reason":%s,"source":%s}' % (
            _json(answer.reason), _json({"section": answer.section, "quote": answer.quote}))
        return head, {favours: b',"favours":"%s"%s' % (favours.encode(), tail) for favours in _FAVOURS}, answer.phrase

    factors = {name: {value: factor(answer) for value, answer in options.items()}
               for name, options in words.answers.items()}
    missing = {name: orjson.dumps({"criterion": name, "label": label, "question": question})[:-1] + b',"outcomes":'
               for name, (label, question) in words.questions.items()}
    sensitivity = {c.name: orjson.dumps({"criterion": c.name, "weight": c.weight})[:-1] + b',"lower":'
                   for c in model.criteria}
    changes = {(c.name, before, after): _change_head(c, before, after)
               for c in model.criteria if c.number is None
               for before in (None, *(value for value, _ in c.choices)) for after, _ in c.choices}
    actionable = {c.name: b',"actionable":%s,"index":' % _json(c.actionable) for c in model.criteria}
    return Encoding(
        words=words,
        factors=factors,
        missing=missing,
        sensitivity=sensitivity,
        changes=changes,
        actionable=actionable,
        unreachable={name: orjson.dumps({"target": name, "reachable": False, "changes": [], "index": None,
                                         "summary": sentence}) for name, sentence in words.unreachable.items()},
        playbooks={name: orjson.Fragment(orjson.dumps(_playbook(text))) for name, text in words.playbooks.items()},
        model=orjson.Fragment(orjson.dumps({"id": model.id, "version": model.version})),
        at=_positions(model, words, factors, changes, [actionable, sensitivity, missing]),
    )


def _positions(model: Model, words: Wording,
               factors: Mapping[str, Mapping[str, tuple[bytes, Mapping[str, bytes], str]]],
               changes: Mapping[tuple[str, str | None, str], bytes], by_criterion: list[Mapping[str, bytes]]
               ) -> Positions:
    """The pieces of an Encoding laid out by position (Positions)."""
    criteria = model.criteria
    k = max(len(c.choices) for c in criteria)
    size = len(criteria)
    factor_heads, phrases = np.full((size, k), b"", dtype=object), np.full((size, k), "", dtype=object)
    factor_tails = np.full((size, k, len(_FAVOURS)), b"", dtype=object)
    change_heads, plan_changes = (np.full((size, k + 1, k), b"", dtype=object) for _ in range(2))
    change_phrases = np.full((size, k + 1, k), "", dtype=object)
    for col, c in enumerate(criteria):
        if c.number is not None:  # a number's pieces follow its value
            continue
        values = [value for value, _ in c.choices]
        for i, value in enumerate(values):
            factor_heads[col, i], tails, phrases[col, i] = factors[c.name][value]
            factor_tails[col, i] = [tails[favours] for favours in _FAVOURS]
        for i, before in [*enumerate(values), (k, None)]:
            change_heads[col, i, :len(values)] = [changes[c.name, before, after] for after in values]
            plan_changes[col, i, :len(values)] = [_json({"criterion": c.name, "from": before, "to": after})
                                                  for after in values]
            change_phrases[col, i, :len(values)] = [words.changes[c.name, before, after] for after in values]
    actionable, sensitivity, missing = ([pieces[c.name] for c in criteria] for pieces in by_criterion)
    return Positions(factor_heads, factor_tails, phrases, change_heads, plan_changes, change_phrases,
                     object_array(actionable),
                     object_array(sensitivity), object_array(missing))


def _encoded_rationale(encoding: Encoding, assessment: Assessment, margin_sentence: str,
                        contributions: Iterator[bytes]) -> orjson.Fragment:
    """_rationale, written: each factor entry its shared pieces around the profile's own contribution (the next
    of `contributions`, written beforehand)."""
    words = encoding.words
    entries = []
    phrases: dict[str, list[str]] = {"relational": [], "transactional": [], "neither": []}
    by_option = encoding.factors
    # factors first: zip stops at their end without taking the next assessment's first contribution
    for (criterion, value, lean, share), contribution in zip(assessment.factors, contributions, strict=False):
        favours = "relational" if share > 0 else "transactional" if share < 0 else "neither"  # Factor.favours, inline
        options = by_option.get(criterion.name)
        if options is not None:  # a criterion scored by options
            head, tails, phrase = options[value]
            entries.append(head + contribution + tails[favours])
        else:
            answer = _answer(words.messages, criterion, value, lean, words.language)
            entries.append(orjson.dumps(_factor_entry(answer, share, favours)))
            phrase = answer.phrase
        phrases[favours].append(phrase)
    summary = _summary(words, assessment.recommendation, phrases, assessment.margin, margin_sentence)
    return orjson.Fragment(b'{"summary":%s,"factors":[%s]}' % (_json(summary), b",".join(entries)))


_json = orjson.dumps
_FAVOURS = ("relational", "transactional", "neither")
_NAMES = {None: b"null", **{name: _json(name) for name in STRATEGIES}}
_NAME_JSON = object_array([_NAMES[name] for name in NAME_AT])
_BOOLEAN_JSON = object_array([b"false", b"true"])
# every outcomes tuple a missing answer can have (the strategies it reaches), and the same by bit mask
_OUTCOMES = {reached: _json(reached) for reached in REACHED_AT}
_OUTCOMES_AT = object_array([_OUTCOMES[reached] for reached in REACHED_AT])


def _numbers_json(numbers: list[float | None]) -> list[bytes]:
    """Each number (or None) as orjson writes it, all in one call: numbers hold no comma."""
    return _json(numbers)[1:-1].split(b",") if numbers else []


def _answer(messages: Mapping[str, str], criterion: Criterion, value: Value, lean: float, language: str) -> Answer:
    label, value_label = criterion.label[language], criterion.value_label(value, language)
    reason, seed = criterion.reason(value)
    head = {"criterion": criterion.name, "label": label, "value": value, "value_label": value_label,
            "weight": criterion.weight, "lean": lean}
    return Answer(head, messages["factor"].format(criterion=label, value=value_label), reason[language],
                  seed.section, seed.display)


def _rationale(words: Wording, assessment: Assessment, margin_sentence: str) -> dict[str, Any]:
    """The factor entries, and the summary naming those that tip the balance most."""
    entries = []
    phrases: dict[str, list[str]] = {"relational": [], "transactional": [], "neither": []}
    for factor in assessment.factors:
        criterion = factor.criterion
        if criterion.number is None:
            answer = words.answers[criterion.name][factor.value]  # type: ignore[index]
        else:
            answer = _answer(words.messages, criterion, factor.value, factor.lean, words.language)
        favours = factor.favours
        phrases[favours].append(answer.phrase)
        entries.append(_factor_entry(answer, factor.contribution, favours))
    return {"summary": _summary(words, assessment.recommendation, phrases, assessment.margin, margin_sentence),
            "factors": entries}


def _factor_entry(answer: Answer, contribution: float, favours: str) -> dict[str, Any]:
    """One factor entry of the rationale; a dict of its own every time: callers may change what they are given."""
    return {**answer.head, "contribution": contribution, "favours": favours, "reason": answer.reason,
            "source": {"section": answer.section, "quote": answer.quote}}


def _summary(words: Wording, recommendation: str, phrases: Mapping[str, list[str]], margin: Margin,
             margin_sentence: str) -> str:
    messages = words.messages
    if recommendation != "hybrid":
        text = messages[f"summary_{recommendation}"].format(
            factors=_join(messages, phrases[recommendation][:SUMMARY_FACTORS]))
    elif phrases["relational"] and not phrases["transactional"]:
        text = messages["summary_hybrid_relational_only"].format(
            factors=_join(messages, phrases["relational"][:SUMMARY_FACTORS]))
    elif phrases["transactional"] and not phrases["relational"]:
        text = messages["summary_hybrid_transactional_only"].format(
            factors=_join(messages, phrases["transactional"][:SUMMARY_FACTORS]))
    elif not phrases["relational"]:
        text = messages["summary_hybrid_neutral"]
    else:
        text = messages["summary_hybrid"].format(
            relational_factors=_join(messages, phrases["relational"][:SUMMARY_FACTORS]),
            transactional_factors=_join(messages, phrases["transactional"][:SUMMARY_FACTORS]))
    return f"{text} {margin_sentence}" if margin.close_call else text


def _plan(words: Wording, plan: Plan) -> dict[str, Any]:
    changes, phrases = [], []
    for change in plan.changes:
        changes.append({"criterion": change.criterion.name, "from": change.before, "to": change.after})
        phrases.append(_phrase_of(words, change))
    reachable = plan.reachable
    if reachable:
        text = words.reachable[plan.target].replace(SLOT, _join(words.messages, phrases))
    else:
        text = words.unreachable[plan.target]
    return {"target": plan.target, "reachable": reachable, "changes": changes, "index": plan.index, "summary": text}


def _phrase_of(words: Wording, change: Change) -> str:
    criterion = change.criterion
    if criterion.number is None:
        return words.changes[criterion.name, change.before, change.after]  # type: ignore[index]
    return _change_phrase(words.messages, criterion, change.before, change.after, words.language)


def _change_phrase(messages: Mapping[str, str], criterion: Criterion, before: Value | None, after: Value,
                   language: str) -> str:
    label, after_label = criterion.label[language], criterion.value_label(after, language)
    if before is None:
        return messages["change_unanswered"].format(criterion=label, after=after_label)
    return messages["change"].format(criterion=label, before=criterion.value_label(before, language),
                                     after=after_label)


def _margin_sentence(words: Wording, recommendation: str, margin: Margin) -> str:
    points = f"{50 * margin.distance:.1f}".replace(".", words.messages["decimal_separator"])
    return words.margins[recommendation, margin.runner_up, margin.close_call].replace(SLOT, points)


def _named(labels: Mapping[str, str], forms: Mapping[str, Mapping[str, str]], placeholder: str,
           strategy: str) -> dict[str, str]:
    """The values of `{placeholder}` (the label) and of each `{placeholder_FORM}` for one strategy."""
    return {placeholder: labels[strategy], **{f"{placeholder}_{form}": text for form, text in forms[strategy].items()}}


def _playbook(text: PlaybookText) -> dict[str, Any]:
    kpis, tools, steps, risks = text
    return {"kpis": list(kpis), "tools": list(tools), "steps": list(steps),
            "risks": [{"risk": risk, "mitigation": mitigation} for risk, mitigation in risks]}


def _source(seed: SeedReference) -> dict[str, str]:
    return {"section": seed.section, "quote": seed.display}


def _join(messages: Mapping[str, str], phrases: list[str]) -> str:
    if len(phrases) <= 1:
        return "".join(phrases)
    return messages["list_separator"].join(phrases[:-1]) + messages["list_last_separator"] + phrases[-1]


def _texts(items: Iterable[Citation], language: str) -> tuple[str, ...]:
    return tuple(item.text[language] for item in items)
