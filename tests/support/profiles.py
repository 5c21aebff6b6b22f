"""Hypothesis strategies for profiles of a model: every criterion present or not, every value its schema allows."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from service.scoring import Model, load_model
from tests.support.models import MODEL_FILE

MODEL = load_model(MODEL_FILE)


def values(criterion: Any) -> st.SearchStrategy[Any]:
    if criterion.number is not None:
        return st.floats(criterion.number.minimum, criterion.number.maximum, allow_nan=False)
    return st.sampled_from([option.value for option in criterion.options])


@st.composite
def profiles(draw: st.DrawFn, model: Model = MODEL) -> dict[str, Any]:
    profile = {}
    for criterion in model.criteria:
        if criterion.required or draw(st.booleans()):
            profile[criterion.name] = draw(values(criterion))
    return profile
