"""The scorecard of a model file as a GoRules JDM decision graph, for GoRules Zen (`zen-engine`) to evaluate.

inputNode → one node per criterion (a decision table for a choice, an expression for a number), each
giving the criterion's weighted lean `wl_<name>` and its weight when present `w_<name>` (0 and 0 when
absent or null) → an expression node summing them into index = Σ w·l / Σ w, coverage and the
recommendation by threshold → outputNode. Generated from the model file's JSON, not from our core, so
that agreement between the two is evidence.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bench import MODEL_FILE


def _number(value: float) -> str:
    return repr(float(value))


def _node(node_id: str, kind: str, name: str, x: int, y: int, content: dict[str, Any] | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"id": node_id, "type": kind, "name": name, "position": {"x": x, "y": y}}
    if content is not None:
        node["content"] = content
    return node


def _choice_table(criterion: dict[str, Any]) -> dict[str, Any]:
    name, weight = criterion["name"], criterion["weight"]
    rules = [{"_id": f"{name}-{i}", "in": json.dumps(option["value"]),
              "wl": _number(weight * option["lean"]), "w": _number(weight)}
             for i, option in enumerate(criterion["options"])]
    rules.append({"_id": f"{name}-absent", "in": "", "wl": "0", "w": "0"})  # hit policy "first": the fallback
    return {
        "hitPolicy": "first",
        "inputs": [{"id": "in", "name": name, "field": name}],
        "outputs": [{"id": "wl", "name": "weighted lean", "field": f"wl_{name}"},
                    {"id": "w", "name": "weight if present", "field": f"w_{name}"}],
        "rules": rules,
    }


def _number_expressions(criterion: dict[str, Any]) -> dict[str, Any]:
    name, weight, scale = criterion["name"], criterion["weight"], criterion["number"]
    lean = f"max([-1, min([1, ({name} - {_number(scale['centre'])}) / {_number(scale['span'])}])])"
    return {"expressions": [
        {"id": f"{name}-wl", "key": f"wl_{name}", "value": f"{name} != null ? {_number(weight)} * {lean} : 0"},
        {"id": f"{name}-w", "key": f"w_{name}", "value": f"{name} != null ? {_number(weight)} : 0"},
    ]}


def build_graph(document: dict[str, Any]) -> dict[str, Any]:
    """The JDM graph (a JSON-ready dict) of a model file's scorecard."""
    criteria = document["criteria"]
    threshold = _number(document["threshold"])
    total_weight = _number(math.fsum(c["weight"] for c in criteria))
    nodes = [_node("request", "inputNode", "request", 0, 0)]
    edges = []
    for i, criterion in enumerate(criteria):
        node_id = f"criterion-{criterion['name']}"
        if "number" in criterion:
            nodes.append(_node(node_id, "expressionNode", criterion["name"], 300, 120 * i,
                               _number_expressions(criterion)))
        else:
            nodes.append(_node(node_id, "decisionTableNode", criterion["name"], 300, 120 * i,
                               _choice_table(criterion)))
        edges.append({"id": f"in-{node_id}", "sourceId": "request", "targetId": node_id, "type": "edge"})
        edges.append({"id": f"{node_id}-sum", "sourceId": node_id, "targetId": "score", "type": "edge"})
    names = [c["name"] for c in criteria]
    nodes.append(_node("score", "expressionNode", "index and recommendation", 600, 0, {"expressions": [
        {"id": "weights", "key": "weights", "value": " + ".join(f"w_{n}" for n in names)},
        {"id": "weighted", "key": "weighted", "value": " + ".join(f"wl_{n}" for n in names)},
        {"id": "index", "key": "index", "value": "$.weighted / $.weights"},
        {"id": "coverage", "key": "coverage", "value": f"$.weights / {total_weight}"},
        {"id": "recommendation", "key": "recommendation",
         "value": f"$.index >= {threshold} ? 'relational' : ($.index <= -{threshold} ? 'transactional' : 'hybrid')"},
    ]}))
    nodes.append(_node("response", "outputNode", "response", 900, 0))
    edges.append({"id": "score-out", "sourceId": "score", "targetId": "response", "type": "edge"})
    return {"nodes": nodes, "edges": edges}


def load_decision(path: Path = MODEL_FILE) -> Any:
    """A compiled Zen decision for the model file at `path`."""
    import zen

    document = json.loads(path.read_text(encoding="utf-8"))
    return zen.ZenEngine().create_decision(json.dumps(build_graph(document)))


def load_engine(path: Path = MODEL_FILE, key: str = "scorecard") -> Any:
    """A Zen engine holding the graph under `key`, for `engine.evaluate_batch([{"key": key, "context": ...}])`.

    zen-engine's Python binding starts a Tokio runtime (two threads) on every `evaluate` call; one
    `evaluate_batch` call pays for that once, so it is Zen's best case per decision.
    """
    import zen

    document = json.loads(path.read_text(encoding="utf-8"))
    return zen.ZenEngine({"loader": {"type": "static", "content": {key: build_graph(document)}}})


def zen_score(decision: Any, profile: dict[str, Any]) -> tuple[float, str]:
    """Zen's index and recommendation for a profile."""
    result = decision.evaluate(profile)["result"]
    return float(result["index"]), result["recommendation"]


def disagreements(model: Any, decision: Any, profiles: list[dict[str, Any]], tolerance: float = 1e-9) -> list[str]:
    """Where Zen and our core (`service.scoring.assess`) differ in index, coverage or recommendation.

    The recommendation is not compared within `tolerance` of a decision boundary, where Zen's decimal arithmetic
    and our binary floats may round to either side of it.
    """
    from service.scoring import assess

    found = []
    for profile in profiles:
        ours = assess(model, profile)
        theirs = decision.evaluate(profile)["result"]
        if (abs(float(theirs["index"]) - ours.index) > tolerance
                or abs(float(theirs["coverage"]) - ours.coverage) > tolerance
                or (theirs["recommendation"] != ours.recommendation
                    and abs(abs(ours.index) - model.threshold) >= tolerance)):
            found.append(f"{profile}: ours {ours.index!r} {ours.coverage!r} {ours.recommendation}, "
                         f"zen {theirs['index']!r} {theirs['coverage']!r} {theirs['recommendation']}")
    return found
