"""The scoring core: plain Python, usable from a batch job or a notebook.

    from service.scoring import load_model, assess, render
    model = load_model("service/models/sales-strategy-v1.json")
    render(assess(model, {"segment": "b2b", ...}), "en")
"""

from service.scoring.arithmetic import CONFIDENCE_FORMULA, Scorecard, decide
from service.scoring.assessment import Assessment, Decision, Factor, assess
from service.scoring.bulk import Explained, assess_many, explain_many
from service.scoring.explanations import Change, Counterfactual, Margin, MissingAnswer, Plan, WeightRange
from service.scoring.governance import CaseResult, Comparison, calibrate, calibration_report, compare, sample_profiles
from service.scoring.model import LANGUAGES, STRATEGIES, Criterion, Model, ModelError, load_model, load_models
from service.scoring.wording import describe, encode, encode_explained, encode_many, render

__all__ = [
    "CONFIDENCE_FORMULA",
    "LANGUAGES",
    "STRATEGIES",
    "Assessment",
    "CaseResult",
    "Change",
    "Comparison",
    "Counterfactual",
    "Criterion",
    "Decision",
    "Explained",
    "Factor",
    "Margin",
    "MissingAnswer",
    "Model",
    "ModelError",
    "Plan",
    "Scorecard",
    "WeightRange",
    "assess",
    "assess_many",
    "calibrate",
    "calibration_report",
    "compare",
    "decide",
    "describe",
    "encode",
    "encode_explained",
    "encode_many",
    "explain_many",
    "load_model",
    "load_models",
    "render",
    "sample_profiles",
]
