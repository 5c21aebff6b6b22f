"""Marshmallow's errors as the contract's list of JSON pointers (docs/contract.md §6), each in the caller's words.

The profile schema reports marshmallow's error keys (service.schemas.profile.FIELD_KEYS); here each becomes a
Message of service.messages.FIELD_MESSAGES, with the values (choices, bounds) read from the field itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marshmallow import Schema, fields, validate

from service.errors import FieldError, Problem, json_pointer
from service.messages import FIELD_MESSAGES, Message, field_message, message


def field_errors(messages: Any, *prefix: str | int) -> Iterator[tuple[tuple[str | int, ...], list[str]]]:
    """(path, messages) for every bad member, however deeply marshmallow nested it."""
    if isinstance(messages, dict):
        for key, nested in messages.items():
            yield from field_errors(nested, *prefix, *(() if key == "_schema" else (key,)))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        yield prefix, messages
    elif isinstance(messages, list):
        for nested in messages:
            yield from field_errors(nested, *prefix)
    else:
        yield prefix, [str(messages)]


def invalid_profile(schema: Schema, messages: Any, *prefix: str | int) -> tuple[Problem, list[str]]:
    """The 422 problem for a profile marshmallow refused, and the names of its bad fields (walked once)."""
    errors, names = [], []
    for path, keys in field_errors(messages):
        field = schema.fields.get(str(path[0])) if path else None
        errors.append(FieldError(json_pointer(*prefix, *path), tuple(_message(key, field) for key in keys)))
        if path:
            names.append(str(path[0]))
    return Problem(422, message("invalid_fields", count=len(errors)), errors), names


def _message(key: str, field: fields.Field | None) -> str | Message:
    if key not in FIELD_MESSAGES:
        return key  # a sentence of a field the schema did not key: shown as marshmallow wrote it
    values: dict[str, Any] = {}
    for validator in field.validators if field is not None else ():
        if isinstance(validator, validate.OneOf):
            values["choices"] = ", ".join(map(str, validator.choices))
        elif isinstance(validator, validate.Range):
            values |= {"min": f"{validator.min:g}", "max": f"{validator.max:g}"}
        elif isinstance(validator, validate.Length):
            values["max"] = validator.max
    return field_message(key, **values)
