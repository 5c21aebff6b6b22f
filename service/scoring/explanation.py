"""An assessment put into words, in one language, as a JSON-ready mapping (contract §5)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from service.scoring.analysis import Change, Margin, Plan
from service.scoring.arithmetic import CONFIDENCE_FORMULA, Value
from service.scoring.assessment import Assessment, Factor
from service.scoring.model import STRATEGIES, Citation, Criterion, Model, SeedReference

SUMMARY_FACTORS = 3


def render(assessment: Assessment, language: str) -> dict[str, Any]:
    model = assessment.model
    return {
        "recommendation": assessment.recommendation,
        "scores": {"relational": assessment.relational_score, "transactional": assessment.transactional_score},
        "index": assessment.index,
        "confidence": assessment.confidence,
        "coverage": assessment.coverage,
        "rationale": {
            "summary": summary(assessment, language),
            "factors": [_factor(model, factor, language) for factor in assessment.factors],
        },
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
        "plans": [_plan(model, plan, language) for plan in assessment.plans],
        "margin": _margin(assessment, language),
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
                "label": answer.criterion.label[language],
                "question": answer.criterion.question[language],
                "outcomes": list(answer.outcomes),
                "can_change": answer.can_change,
                "largest_shift": answer.largest_shift,
            }
            for answer in assessment.missing_information
        ],
        "playbook": playbook(model, assessment.recommendation, language),
        "model": {"id": model.id, "version": model.version},
    }


def summary(assessment: Assessment, language: str) -> str:
    """What the recommendation rests on, and a warning when the call is close."""
    text = _summary_of_factors(assessment, language)
    if assessment.margin.close_call:
        text += " " + _margin_sentence(assessment, language)
    return text


def _summary_of_factors(assessment: Assessment, language: str) -> str:
    messages = assessment.model.messages
    recommendation = assessment.recommendation
    if recommendation != "hybrid":
        pushing = [f for f in assessment.factors if f.favours == recommendation]
        return messages[f"summary_{recommendation}"][language].format(
            factors=_factor_list(assessment.model, pushing[:SUMMARY_FACTORS], language))
    relational = [f for f in assessment.factors if f.favours == "relational"]
    transactional = [f for f in assessment.factors if f.favours == "transactional"]
    if not relational or not transactional:
        return messages["summary_hybrid_neutral"][language]
    return messages["summary_hybrid"][language].format(
        relational_factors=_factor_list(assessment.model, relational[:SUMMARY_FACTORS], language),
        transactional_factors=_factor_list(assessment.model, transactional[:SUMMARY_FACTORS], language),
    )


def playbook(model: Model, strategy: str, language: str) -> dict[str, Any]:
    """The playbook's text, looked up once per language; every call gets lists of its own."""
    key = ("playbook", strategy, language)
    if key not in model.rendered:
        book = model.playbooks[strategy]
        model.rendered[key] = (_texts(book.kpis, language), _texts(book.tools, language),
                               _texts(book.steps, language),
                               tuple((r.risk[language], r.mitigation[language]) for r in book.risks))
    kpis, tools, steps, risks = model.rendered[key]
    return {"kpis": list(kpis), "tools": list(tools), "steps": list(steps),
            "risks": [{"risk": risk, "mitigation": mitigation} for risk, mitigation in risks]}


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


def _source(seed: SeedReference) -> dict[str, str]:
    return {"section": seed.section, "quote": seed.quote}


def _plan(model: Model, plan: Plan, language: str) -> dict[str, Any]:
    messages = model.messages
    strategy = model.strategies[plan.target].label[language]
    if plan.reachable:
        text = messages["plan_reachable"][language].format(
            strategy=strategy, changes=_join(model, [_change(model, change, language) for change in plan.changes],
                                             language))
    else:
        actionable = [c.label[language] for c in model.criteria if c.actionable]
        text = messages["plan_unreachable"][language].format(strategy=strategy,
                                                             criteria=_join(model, actionable, language))
    return {
        "target": plan.target,
        "reachable": plan.reachable,
        "changes": [{"criterion": c.criterion.name, "from": c.before, "to": c.after} for c in plan.changes],
        "index": plan.index,
        "summary": text,
    }


def _change(model: Model, change: Change, language: str) -> str:
    criterion = change.criterion
    after = criterion.value_label(change.after, language)
    if change.before is None:
        return model.messages["change_unanswered"][language].format(criterion=criterion.label[language], after=after)
    return model.messages["change"][language].format(
        criterion=criterion.label[language], before=criterion.value_label(change.before, language), after=after)


def _margin(assessment: Assessment, language: str) -> dict[str, Any]:
    margin: Margin = assessment.margin
    return {
        "runner_up": margin.runner_up,
        "distance": margin.distance,
        "points": 50 * margin.distance,
        "close_call": margin.close_call,
        "summary": _margin_sentence(assessment, language),
    }


def _margin_sentence(assessment: Assessment, language: str) -> str:
    model, margin = assessment.model, assessment.margin
    points = f"{50 * margin.distance:.1f}".replace(".", model.messages["decimal_separator"][language])
    key = "margin_close" if margin.close_call else "margin_clear"
    return model.messages[key][language].format(
        recommendation=model.strategies[assessment.recommendation].label[language],
        runner_up=model.strategies[margin.runner_up].label[language], points=points)


def _factor(model: Model, factor: Factor, language: str) -> dict[str, Any]:
    criterion = factor.criterion
    return {
        "criterion": criterion.name,
        "label": criterion.label[language],
        "value": factor.value,
        "value_label": criterion.value_label(factor.value, language),
        "weight": criterion.weight,
        "lean": factor.lean,
        "contribution": factor.contribution,
        "favours": factor.favours,
        **_reason(model, criterion, factor.value, language),
    }


def _reason(model: Model, criterion: Criterion, value: Value, language: str) -> dict[str, Any]:
    """The reason and its source, looked up once per option and language."""
    key = ("reason", criterion.name, value, language)
    found = model.rendered.get(key) if criterion.number is None else None
    if found is None:
        reason, seed = criterion.reason(value)
        found = (reason[language], seed.section, seed.quote)
        if criterion.number is None:
            model.rendered[key] = found
    text, section, quote = found
    return {"reason": text, "source": {"section": section, "quote": quote}}


def _factor_list(model: Model, factors: list[Factor], language: str) -> str:
    return _join(model, [
        model.messages["factor"][language].format(criterion=f.criterion.label[language],
                                                  value=f.criterion.value_label(f.value, language))
        for f in factors
    ], language)


def _join(model: Model, phrases: list[str], language: str) -> str:
    messages = model.messages
    if len(phrases) <= 1:
        return "".join(phrases)
    return messages["list_separator"][language].join(phrases[:-1]) + messages["list_last_separator"][
        language] + phrases[-1]


def _texts(items: Iterable[Citation], language: str) -> tuple[str, ...]:
    return tuple(item.text[language] for item in items)
