"""Sparse answers: `?fields=recommendation,scores,confidence` keeps only those members of an assessment.

The names are the Assessment's own top-level members, taken from its response schema (the one source of
truth), so a nightly job that needs three numbers gets three numbers, and the service writes only those: the
selection is handed to the answer's builder (schemas.responses.assessment_body), not cut from a whole answer.
An unknown name is a 422 naming it, before any work. A `comparison` (from `?compare=`) is kept whenever it is
there, its own assessment cut to the same fields.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from flask import g, request

from service.errors import Problem
from service.messages import message
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
        raise Problem(422, message("fields_unknown" if unknown else "fields_none", name=shown,
                                   choices=", ".join(allowed)))
    return frozenset(names)


def sparse(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view decorator: ?fields= checked before the view does any work, and kept in `g.fields` for it."""
    @functools.wraps(view)
    def sparse_view(*args: Any, **kwargs: Any) -> Any:
        g.fields = selected(request.args)
        return view(*args, **kwargs)
    return sparse_view
