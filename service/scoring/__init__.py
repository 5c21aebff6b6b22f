"""The scoring core: plain Python, usable from a batch job or a notebook.

    from service.scoring import load_model, assess, render
    model = load_model("service/models/sales-strategy-v1.json")
    render(assess(model, {"segment": "b2b", ...}), "en")
"""

from service.scoring.assessment import Assessment, Counterfactual, Factor, assess, decide
from service.scoring.explanation import describe, render
from service.scoring.model import LANGUAGES, STRATEGIES, Criterion, Model, ModelError, load_model, load_models

__all__ = [
    "LANGUAGES",
    "STRATEGIES",
    "Assessment",
    "Counterfactual",
    "Criterion",
    "Factor",
    "Model",
    "ModelError",
    "assess",
    "decide",
    "describe",
    "load_model",
    "load_models",
    "render",
]
