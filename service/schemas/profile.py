"""The profile schema, built from a model file (its options are the model's options): what a request may send.

It is the single source of truth for validating a profile and for the Profile of `openapi.yaml`.
A plainly valid profile takes a short way derived from the schema's own fields; anything else
goes through marshmallow in full.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from marshmallow import RAISE, Schema, fields, types, validate

from service.scoring import Model

ECHOED_FIELDS = {
    "external_id": "The caller's record id (e.g. the CRM's), echoed back; never scored.",
    "industry": "Free text, echoed back; never scored.",
}


class StrictNumber(fields.Float):
    """A JSON number only: no strings, no booleans, nothing too large for a float."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except OverflowError:
            raise self.make_error("too_large") from None


_UNSURE = object()  # what a field's plain check gives for a value it leaves to marshmallow


class ProfileSchema(Schema):
    """A schema whose load() takes a short way for a plainly valid profile, and marshmallow's full load otherwise."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # derived from the fields as declared, so the schema stays the one source of truth
        self._plain_checks = {name: _plain_check(field) for name, field in self.load_fields.items()}
        self._required = frozenset(name for name, field in self.load_fields.items() if field.required)
        # the short way knows only a plain load: one object, every field required as declared, unknown ones refused
        self._short_way = (not self.many and self.partial is None and self.unknown == RAISE
                           and not any(self._hooks.values()))

    def load(self, data: Mapping[str, Any] | Sequence[Mapping[str, Any]], *, many: bool | None = None,
             partial: bool | types.StrSequenceOrSet | None = None,
             unknown: types.UnknownOption | None = None) -> Any:
        """Schema.load, the same result and the same errors: a plainly valid profile just skips the machinery."""
        if many is None and partial is None and unknown is None:
            profile = self.plain_load(data)
            if profile is not None:
                return profile
        return super().load(data, many=many, partial=partial, unknown=unknown)

    def plain_load(self, document: Any) -> dict[str, Any] | None:
        """What load() returns for a plainly valid profile; None for anything else, which load() does in full."""
        if not self._short_way or type(document) is not dict or not self._required <= document.keys():
            return None
        profile = {}
        for name, check in self._plain_checks.items():  # the declared order, as marshmallow's result has it
            if name in document:
                value = check(document[name])
                if value is _UNSURE:
                    return None
                profile[name] = value
        return profile if len(profile) == len(document) else None  # else it holds an unknown field


def _plain_check(field: fields.Field) -> Callable[[Any], Any]:
    """A function giving what the field loads a plainly valid value to, and _UNSURE for any other value."""
    # only String and StrictNumber fields with OneOf, Length or inclusive Range validators: others go the full way
    if field.data_key is not None or field.attribute is not None or field.pre_load or field.post_load:
        return _leave_to_marshmallow
    allow_none = field.allow_none
    if type(field) is fields.String:
        choices: frozenset[str] | None = None
        shortest, longest = 0, sys.maxsize
        for validator in field.validators:
            if type(validator) is validate.OneOf and all(type(choice) is str for choice in validator.choices):
                choices = frozenset(validator.choices) if choices is None else choices & set(validator.choices)
            elif type(validator) is validate.Length and validator.equal is None:
                shortest = max(shortest, validator.min or 0)
                longest = min(longest, sys.maxsize if validator.max is None else validator.max)
            else:
                return _leave_to_marshmallow

        def string(value: Any) -> Any:
            if type(value) is str and shortest <= len(value) <= longest and (choices is None or value in choices):
                return value
            return None if value is None and allow_none else _UNSURE
        return string
    if type(field) is StrictNumber and not field.allow_nan:
        # finite bounds also turn away nan and ±inf, which a Float without allow_nan refuses
        low, high = -sys.float_info.max, sys.float_info.max
        for validator in field.validators:
            if type(validator) is validate.Range and validator.min_inclusive and validator.max_inclusive:
                low = low if validator.min is None else max(low, validator.min)
                high = high if validator.max is None else min(high, validator.max)
            else:
                return _leave_to_marshmallow

        def number(value: Any) -> Any:
            if type(value) is float or type(value) is int:  # not bool, whose type is bool
                try:
                    value = float(value)  # as Float loads it: ints become floats
                except OverflowError:
                    return _UNSURE
                return value if low <= value <= high else _UNSURE
            return None if value is None and allow_none else _UNSURE
        return number
    return _leave_to_marshmallow


def _leave_to_marshmallow(value: Any) -> Any:
    return _UNSURE


def profile_schema(model: Model) -> type[ProfileSchema]:
    """The profile a model scores: its criteria, plus the echoed `external_id` and `industry`; nothing else."""
    declared: dict[str, fields.Field] = {}
    for criterion in model.criteria:
        options = {"required": criterion.required, "allow_none": not criterion.required}
        description = criterion.question["en"]
        if criterion.number is not None:
            scale = criterion.number
            declared[criterion.name] = StrictNumber(
                validate=validate.Range(scale.minimum, scale.maximum), **options,
                metadata={"description": f"{description} Lean = clamp((x - {scale.centre}) / {scale.span}, -1, 1)."})
        else:
            leans = ", ".join(f"{o.value} ({o.lean:+g})" for o in criterion.options)
            declared[criterion.name] = fields.String(
                validate=validate.OneOf([o.value for o in criterion.options]), **options,
                metadata={"description": f"{description} Options and leans: {leans}."})
    declared["external_id"] = fields.String(allow_none=True, validate=validate.Length(max=128),
                                            metadata={"description": ECHOED_FIELDS["external_id"]})
    declared["industry"] = fields.String(allow_none=True, validate=validate.Length(max=100),
                                         metadata={"description": ECHOED_FIELDS["industry"]})
    return ProfileSchema.from_dict(declared, name="Profile")  # type: ignore[return-value]


def batch_schema(profile: type[Schema], max_batch: int) -> type[Schema]:
    """The body of POST /assess/batch (for the OpenAPI document: the view checks each item on its own)."""
    return Schema.from_dict({"profiles": fields.List(
        fields.Nested(profile), required=True, validate=validate.Length(max=max_batch),
        metadata={"description": "Each is assessed on its own; a bad one gets its own problem."})},
        name="BatchRequest")
