"""Sparse answers: `?fields=recommendation,scores,confidence` keeps only those members of an assessment.

The names are the Assessment's own top-level members, taken from its response schema (the one source of
truth), so a nightly job that needs three numbers gets three numbers. An unknown name is a 422 naming it.
A `comparison` (from `?compare=`) is kept whenever it is there, its own assessment cut to the same fields.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from flask import request

from service.errors import Problem
from service.schemas.responses import AssessmentSchema

# every member an assessment may have, in the order the answer has them; `comparison` follows ?compare=
FIELDS: tuple[str, ...] = tuple(field.data_key or name for name, field in AssessmentSchema().fields.items()
                                if name != "comparison")
Selection = frozenset[str] | None  # None: the whole answer
MAX_PARAMETER = 1000  # characters of ?fields= read at most: the names fit in far fewer


def selected(args: Mapping[str, str], allowed: tuple[str, ...] = FIELDS) -> Selection:
    """The fields a request asks for (None when it asks for the whole answer), or a 422 naming the unknown ones."""
    if "fields" not in args:
        return None
    text = args["fields"]
    names = [name for name in (part.strip() for part in text[:MAX_PARAMETER].split(",")) if name]
    unknown = [name for name in dict.fromkeys(names) if name not in allowed]
    if len(text) > MAX_PARAMETER or not names or unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:10]) or repr(text[:40])
        if unknown:
            raise Problem(422, f"?fields= names unknown fields: {shown}. The fields are: {', '.join(allowed)}.")
        raise Problem(422, f"?fields= names no field ({shown}). The fields are: {', '.join(allowed)}.")
    return frozenset(names)


def project(assessment: dict[str, Any], selection: Selection) -> dict[str, Any]:
    """The assessment with only the selected members (and its comparison, cut the same way); all of it for None."""
    if selection is None:
        return assessment
    sparse = {name: value for name, value in assessment.items() if name in selection}
    comparison = assessment.get("comparison")
    if comparison is not None:
        sparse["comparison"] = ({**comparison, "assessment": project(comparison["assessment"], selection)}
                                if "assessment" in comparison else comparison)
    return sparse


def project_batch(body: dict[str, Any], selection: Selection) -> dict[str, Any]:
    """A batch answer with every item's assessment cut to the selected members."""
    if selection is None:
        return body
    results = [{**item, "assessment": project(item["assessment"], selection)} if "assessment" in item else item
               for item in body["results"]]
    return {**body, "results": results}


def sparse(cut: Callable[[dict[str, Any], Selection], dict[str, Any]]) -> Callable[[Any], Any]:
    """A view decorator: ?fields= checked before the view does any work, its answer cut to them by `cut`."""
    def decorate(view: Callable[..., tuple[dict[str, Any], int, dict[str, str]]]) -> Callable[..., Any]:
        @functools.wraps(view)
        def sparse_view(*args: Any, **kwargs: Any) -> tuple[dict[str, Any], int, dict[str, str]]:
            selection = selected(request.args)
            body, status, headers = view(*args, **kwargs)
            return cut(body, selection), status, headers
        return sparse_view
    return decorate
