"""Marshmallow's error messages as the contract's list of JSON pointers (contract §6)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from service.errors import json_pointer


def field_errors(messages: Any, *prefix: str | int) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(path, sentence) for every message, however deeply marshmallow nested it."""
    if isinstance(messages, dict):
        for key, nested in messages.items():
            yield from field_errors(nested, *prefix, *(() if key == "_schema" else (key,)))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        yield prefix, " ".join(messages)
    elif isinstance(messages, list):
        for nested in messages:
            yield from field_errors(nested, *prefix)
    else:
        yield prefix, str(messages)


def pointers(messages: Any, *prefix: str | int) -> list[dict[str, str]]:
    return [{"pointer": json_pointer(*path), "detail": detail} for path, detail in field_errors(messages, *prefix)]


def invalid_fields_detail(count: int) -> str:
    return f"The profile has {count} invalid field{'s' if count != 1 else ''}."
