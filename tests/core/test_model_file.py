"""The model file: it holds docs/contract.md §2 exactly; a broken one is refused with a message naming the problem."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from service.scoring import Model, ModelError, load_model, load_models
from tests.support.models import model_document, model_folder

# docs/contract.md §2: name -> (options most transactional first with leans, required, actionable, start weight)
CONTRACT = {
    "segment": ([("b2c", -0.5), ("ecommerce", 0), ("b2b", 1)], True, False, 3),
    "sales_goal": ([("quick_conversion", -1), ("balanced", 0), ("long_term_loyalty", 1)], True, True, 3),
    "product_complexity": ([("low", -1), ("medium", 0), ("high", 1)], True, False, 3),
    "purchase_cycle": ([("impulse", -1), ("short", -0.5), ("medium", 0.25), ("long", 1)], True, False, 2),
    "customer_expectation": ([("speed_and_price", -1), ("balanced", 0), ("personalization", 1)], True, False, 3),
    "price_level": ([("low", -1), ("medium", 0), ("high", 0.5), ("premium", 1)], False, False, 2),
    "offer_commoditization": ([("high", -1), ("medium", 0), ("low", 0.5)], False, False, 2),
    "team_relationship_skills": ([("low", -1), ("medium", 0), ("high", 1)], False, True, 2),
    "crm_maturity": ([("none", -1), ("basic", 0), ("advanced", 1)], False, True, 1),
    "relationship_budget": ([("low", -1), ("medium", 0), ("high", 1)], False, True, 1),
    "repeat_purchase_potential": ([("low", -1), ("medium", 0), ("high", 1)], False, False, 2),
    "company_size": ([("large", 0), ("medium", 0), ("small", 0.5), ("micro", 0.5)], False, False, 1),
}


def test_the_model_holds_the_contract_scorecard(model: Model) -> None:
    assert [c.name for c in model.criteria] == [*CONTRACT, "retention_rate"]
    for name, (options, required, actionable, weight) in CONTRACT.items():
        criterion = model.criterion(name)
        assert [(o.value, o.lean) for o in criterion.options] == options, name
        assert (criterion.required, criterion.actionable, criterion.weight) == (required, actionable, weight), name
    retention = model.criterion("retention_rate")
    assert retention.number is not None and not retention.required and retention.weight == 1
    assert [retention.lean(x) for x in (0, 0.2, 0.5, 0.65, 0.8, 1)] == pytest.approx([-1, -1, 0, 0.5, 1, 1])
    assert model.threshold == 0.2


def test_every_text_and_source_is_there_in_both_languages(model: Model) -> None:
    for criterion in model.criteria:
        for option in criterion.options:
            assert option.reason["en"] and option.reason["pl"] and option.seed.section
    for strategy, book in model.playbooks.items():
        assert book.kpis and book.tools and book.steps and book.risks, strategy


def _broken(tmp_path: Path, change: Any) -> Path:
    document = model_document()
    change(document)
    return model_folder(tmp_path / "models", broken=document) / "broken.json"


def _set(path: list[Any], value: Any) -> Any:
    def change(document: Any) -> None:
        node = document
        for key in path[:-1]:
            node = node[key]
        if value is _DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return change


_DELETE = object()

BROKEN = {
    "negative weight": (_set(["criteria", 0, "weight"], -1), "/criteria/0/weight: must be greater than 0"),
    "weight as text": (_set(["criteria", 1, "weight"], "3"), "/criteria/1/weight: must be a finite number"),
    "lean out of range": (_set(["criteria", 0, "options", 0, "lean"], -1.5), "/criteria/0/options/0/lean"),
    "options out of order": (_set(["criteria", 1, "options", 0, "lean"], 0.9), "/criteria/1/options: must run"),
    "threshold of 1": (_set(["threshold"], 1), "/threshold: must lie strictly between 0 and 1"),
    "no Polish reason": (_set(["criteria", 2, "options", 1, "reason", "pl"], ""), "/criteria/2/options/1/reason/pl"),
    "control character": (_set(["strategies", "hybrid", "label", "en"], "Hy\x00brid"),
                          "/strategies/hybrid/label/en: must hold no control character"),
    "unknown seed section": (_set(["criteria", 0, "seed", "section"], "Rozdział 99"), "/criteria/0/seed/section"),
    "quote not in its section": (_set(["criteria", 0, "seed", "quote"], "kot ma Alę"), "/criteria/0/seed/quote"),
    "missing playbook": (_set(["playbook", "hybrid"], _DELETE), "/playbook/hybrid: must be an object"),
    "unknown placeholder": (_set(["messages", "factor", "en"], "{secret}"), "/messages/factor/en: uses unknown"),
    "bad version": (_set(["version"], "one"), "/version: must be MAJOR.MINOR.PATCH"),
    "duplicate criterion": (lambda d: d["criteria"].append(copy.deepcopy(d["criteria"][0])), "names criteria twice"),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_model_is_refused_with_its_path(tmp_path: Path, case: str) -> None:
    change, message = BROKEN[case]
    path = _broken(tmp_path, change)
    with pytest.raises(ModelError) as error:
        load_model(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text("{ not json")
    with pytest.raises(ModelError, match="cannot be read as JSON"):
        load_model(path)


def test_an_empty_model_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="holds no model file"):
        load_models(tmp_path)
