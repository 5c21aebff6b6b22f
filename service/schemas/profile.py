"""The profile schema, built from a model file (its options are the model's options): what a request may send.

It is the single source of truth for validating a profile and for the Profile of `openapi.yaml`.
A plainly valid profile takes a short way derived from the schema's own fields; anything else
goes through marshmallow in full.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from marshmallow import RAISE, Schema, fields, missing, types, validate

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


# marshmallow's error keys as the messages it reports (service.messages.FIELD_MESSAGES holds their words);
# "invalid" says a different thing for a string and for a number
FIELD_KEYS: dict[type[fields.Field], dict[str, str]] = {
    fields.String: {"required": "required", "null": "null", "invalid": "invalid_string",
                    "invalid_utf8": "invalid_string"},
    StrictNumber: {"required": "required", "null": "null", "invalid": "invalid_number", "too_large": "too_large",
                   "special": "invalid_number"},
}


def is_share(minimum: float, maximum: float) -> bool:
    """A number scale from 0 to 1 is a share (the playground asks for it as one, with the same words)."""
    return (minimum, maximum) == (0, 1)


_UNSURE = object()  # what a field's plain check gives for a value it leaves to marshmallow


class ProfileSchema(Schema):
    """A schema whose load() takes a short way for a plainly valid profile, and marshmallow's full load otherwise.

    Its errors are marshmallow's error keys (see FIELD_KEYS), which service.validation puts into the caller's words.
    """

    error_messages = {"unknown": "unknown", "type": "type"}  # noqa: RUF012  (marshmallow's own class attribute)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # derived from the fields as declared, so the schema stays the one source of truth
        self._plain_checks = {name: _plain_check(field) for name, field in self.load_fields.items()}
        # a field that must be present, or whose absence marshmallow fills in (load_default), is needed for the
        # short way: without it, marshmallow decides
        self._required = frozenset(name for name, field in self.load_fields.items()
                                   if field.required or field.load_default is not missing)
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


# set by binding the field to its schema, or the same validators spelt another way (compared as `validators`)
BINDING = frozenset({"name", "parent", "root", "_creation_index", "validate", "validators"})


def _understood(field: fields.Field) -> bool:
    """Whether the field is exactly what a declaration of `required`, `allow_none`, `validate`, `metadata` and
    `error_messages` alone makes: anything else it was declared with (load_default, data_key, attribute, a
    deserialize function, ...) is something the short way does not know, so marshmallow decides."""
    try:
        plain = type(field)(required=field.required, allow_none=field.allow_none, validate=field.validators,
                            metadata=field.metadata, error_messages=field.error_messages)
    except TypeError:  # a field type whose constructor wants more: not one the short way knows
        return False
    mine, theirs = vars(field), vars(plain)
    return (field.validators == plain.validators and mine.keys() == theirs.keys()
            and all(mine[key] == theirs[key] for key in mine.keys() - BINDING))


def _plain_check(field: fields.Field) -> Callable[[Any], Any]:
    """A function giving what the field loads a plainly valid value to, and _UNSURE for any other value."""
    # only String and StrictNumber fields that _understood() and OneOf, Length or inclusive Range validators:
    # any other field goes the full way
    if not _understood(field):
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
            share = is_share(scale.minimum, scale.maximum)
            unit = " A share from 0 to 1 (0.7 means 70%)." if share else ""
            declared[criterion.name] = StrictNumber(
                validate=validate.Range(scale.minimum, scale.maximum, error="share" if share else "range"),
                **options, error_messages=FIELD_KEYS[StrictNumber], metadata={
                    "description": f"{description}{unit} Lean = clamp((x - {scale.centre}) / {scale.span}, -1, 1)."})
        else:
            leans = ", ".join(f"{o.value} ({o.lean:+g})" for o in criterion.options)
            declared[criterion.name] = fields.String(
                validate=validate.OneOf([o.value for o in criterion.options], error="one_of"), **options,
                error_messages=FIELD_KEYS[fields.String],
                metadata={"description": f"{description} Options and leans: {leans}."})
    for name, longest in (("external_id", 128), ("industry", 100)):
        declared[name] = fields.String(allow_none=True, validate=validate.Length(max=longest, error="too_long"),
                                       error_messages=FIELD_KEYS[fields.String],
                                       metadata={"description": ECHOED_FIELDS[name]})
    return ProfileSchema.from_dict(declared, name="Profile")  # type: ignore[return-value]


def batch_schema(max_batch: int) -> type[Schema]:
    """The body of POST /assess/batch, as the view reads it (for the OpenAPI document).

    Any item is taken: the view checks each on its own, so an item that is not a Profile is answered with its own
    422 problem inside the 200, and a batch over `max_batch` items is a 413 (not a 422: the schema sets no maxItems).
    """
    item = fields.Raw(metadata={"anyOf": [{"$ref": "#/components/schemas/Profile"}, {}], "description": (
        "A Profile. An item that is not a valid one gets its own 422 problem in `results`; the others are "
        "still assessed.")})
    return Schema.from_dict({"profiles": fields.List(item, required=True, metadata={
        "description": f"At most {max_batch} (STRATEGY_MAX_BATCH): a longer batch is refused with a 413."})},
        name="BatchRequest")
