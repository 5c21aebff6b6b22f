"""An assessment put into words, in one language, as a JSON-ready mapping (contract §5)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from service.scoring.assessment import CONFIDENCE_FORMULA, Assessment, Factor
from service.scoring.model import STRATEGIES, Citation, Model, SeedReference

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
            "factors": [_factor(factor, language) for factor in assessment.factors],
        },
        "counterfactuals": [
            {
                "criterion": counterfactual.criterion.name,
                "from": counterfactual.before,
                "to": counterfactual.after,
                "recommendation": counterfactual.recommendation,
                "actionable": counterfactual.criterion.actionable,
                "index": counterfactual.index,
            }
            for counterfactual in assessment.counterfactuals
        ],
        "playbook": playbook(model, assessment.recommendation, language),
        "model": {"id": model.id, "version": model.version},
    }


def summary(assessment: Assessment, language: str) -> str:
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
    book = model.playbooks[strategy]
    return {
        "kpis": _texts(book.kpis, language),
        "tools": _texts(book.tools, language),
        "steps": _texts(book.steps, language),
        "risks": [{"risk": r.risk[language], "mitigation": r.mitigation[language]} for r in book.risks],
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


def _source(seed: SeedReference) -> dict[str, str]:
    return {"section": seed.section, "quote": seed.quote}


def _factor(factor: Factor, language: str) -> dict[str, Any]:
    criterion = factor.criterion
    reason, seed = criterion.reason(factor.value)
    return {
        "criterion": criterion.name,
        "label": criterion.label[language],
        "value": factor.value,
        "value_label": criterion.value_label(factor.value, language),
        "weight": criterion.weight,
        "lean": factor.lean,
        "contribution": factor.contribution,
        "favours": factor.favours,
        "reason": reason[language],
        "source": _source(seed),
    }


def _factor_list(model: Model, factors: list[Factor], language: str) -> str:
    messages = model.messages
    phrases = [
        messages["factor"][language].format(criterion=f.criterion.label[language],
                                            value=f.criterion.value_label(f.value, language))
        for f in factors
    ]
    if len(phrases) <= 1:
        return "".join(phrases)
    return messages["list_separator"][language].join(phrases[:-1]) + messages["list_last_separator"][
        language] + phrases[-1]


def _texts(items: Iterable[Citation], language: str) -> list[str]:
    return [item.text[language] for item in items]
