"""An assessment put into words, in one language, as a JSON-ready mapping (docs/contract.md §5).

Every text that does not depend on the profile (labels, reasons, change phrases, the sentences of plans that
cannot be reached, playbooks) is made once per model and language, as a `Wording` kept in `WORDINGS`;
a render only adds the numbers and the sentences that name the profile's own answers.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from service.scoring.arithmetic import CONFIDENCE_FORMULA, Value
from service.scoring.assessment import Assessment
from service.scoring.explanations import Change, Margin, Plan
from service.scoring.model import FORMS, STRATEGIES, Citation, Criterion, Model, SeedReference

SUMMARY_FACTORS = 3

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
    playbooks: Mapping[str, PlaybookText]


class WordingCache:
    """Each model's Wording per language, made on first use and dropped with the model; nothing from a profile."""

    def __init__(self) -> None:
        self._by_model: dict[int, tuple[weakref.ref[Model], dict[str, Wording]]] = {}

    def get(self, model: Model, language: str) -> Wording:
        entry = self._by_model.get(id(model))
        if entry is None or entry[0]() is not model:
            key = id(model)
            entry = self._by_model[key] = (weakref.ref(model, lambda _: self._by_model.pop(key, None)), {})
        found = entry[1].get(language)
        if found is None:
            found = entry[1][language] = _wording(model, language)
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
        "recommendation": recommendation,
        "scores": {"relational": assessment.relational_score, "transactional": assessment.transactional_score},
        "index": assessment.index,
        "confidence": assessment.confidence,
        "coverage": assessment.coverage,
        "rationale": _rationale(words, assessment, margin_sentence),
        "counterfactuals": [
            {
                "criterion": counterfactual.change.criterion.name,
                "from": counterfactual.change.before,
                "to": counterfactual.change.after,
                "recommendation": counterfactual.recommendation,
                "actionable": counterfactual.change.criterion.actionable,
                "index": counterfactual.index,
            }
            for counterfactual in assessment.counterfactuals
        ],
        "plans": [_plan(words, plan) for plan in assessment.plans],
        "margin": {
            "runner_up": margin.runner_up,
            "distance": margin.distance,
            "points": 50 * margin.distance,
            "close_call": margin.close_call,
            "summary": margin_sentence,
        },
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
        playbooks={name: (_texts(book.kpis, language), _texts(book.tools, language), _texts(book.steps, language),
                          tuple((r.risk[language], r.mitigation[language]) for r in book.risks))
                   for name, book in model.playbooks.items()},
    )


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
        entry = answer.head.copy()
        entry["contribution"] = factor.contribution
        entry["favours"] = favours
        entry["reason"] = answer.reason
        # a dict of its own for every entry: callers may change what they are given
        entry["source"] = {"section": answer.section, "quote": answer.quote}
        entries.append(entry)
    return {"summary": _summary(words, assessment.recommendation, phrases, assessment.margin, margin_sentence),
            "factors": entries}


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
        text = words.messages["plan_reachable"].format(
            changes=_join(words.messages, phrases), **_named(words.strategies, words.forms, "strategy", plan.target))
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
    key = "margin_close" if margin.close_call else "margin_clear"
    return words.messages[key].format(
        points=points, **_named(words.strategies, words.forms, "recommendation", recommendation),
        **_named(words.strategies, words.forms, "runner_up", margin.runner_up))


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
