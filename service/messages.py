"""Every sentence a problem can say, in each language the service speaks (issue 13.7).

A problem's detail is a `Message`: a key of `PROBLEMS` and its values, put into words only when the
response is made, in the caller's language. Modules that still raise a Problem with an English sentence
are understood too: `message_of` finds the entry whose English template the sentence fills, so a sentence
written once in English is never a second catalogue. Validation messages are keyed by marshmallow's own
error keys (`FIELD_MESSAGES`); the profile schema makes marshmallow report those keys, not English.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, NamedTuple

from service.scoring import LANGUAGES

# RFC 9110's titles (Python's http module still has some older ones), and what a Polish API says
TITLES: dict[int, dict[str, str]] = {
    400: {"en": "Bad Request", "pl": "Nieprawidłowe żądanie"},
    401: {"en": "Unauthorized", "pl": "Brak uprawnień"},
    404: {"en": "Not Found", "pl": "Nie znaleziono"},
    405: {"en": "Method Not Allowed", "pl": "Niedozwolona metoda"},
    413: {"en": "Content Too Large", "pl": "Zbyt duża treść"},
    415: {"en": "Unsupported Media Type", "pl": "Nieobsługiwany typ treści"},
    422: {"en": "Unprocessable Content", "pl": "Nieprzetwarzalna treść"},
    500: {"en": "Internal Server Error", "pl": "Wewnętrzny błąd serwera"},
}

PROBLEMS: dict[str, dict[str, str]] = {
    "not_found": {"en": "There is no such resource. GET /openapi.yaml lists them all.",
                  "pl": "Nie ma takiego zasobu. GET /openapi.yaml wymienia wszystkie."},
    "method_not_allowed": {"en": "{method} is not allowed here.", "pl": "Metoda {method} nie jest tu dozwolona."},
    "body_too_large": {"en": "The body is over the limit of {limit} bytes.",
                       "pl": "Treść przekracza limit {limit} bajtów."},
    "unexpected": {"en": "An unexpected error occurred. Quote request id {request_id} when reporting it.",
                   "pl": "Wystąpił nieoczekiwany błąd. Zgłaszając go, podaj identyfikator żądania {request_id}."},
    "invalid_fields": {"en": "The profile has {count} invalid field{s}.",
                       "pl": "Profil ma {count} {fields_pl}."},
    "batch_envelope": {"en": "The body must be {{\"profiles\": [...]}}.",
                       "pl": "Treść musi mieć postać {{\"profiles\": [...]}}."},
    "batch_too_large": {"en": "The batch has {count} profiles; the limit is {limit}. Split it.",
                        "pl": "Partia ma {count} profili; limit to {limit}. Podziel ją."},
    "profile_not_object": {"en": "The profile must be a JSON object.", "pl": "Profil musi być obiektem JSON."},
    "unknown_model": {"en": "There is no model {key}; the models are: {models}.",
                      "pl": "Nie ma modelu {key}; dostępne modele: {models}."},
    "not_json_media_type": {"en": "The body must be JSON: send Content-Type: application/json.",
                            "pl": "Treść musi być w JSON: wyślij Content-Type: application/json."},
    "body_too_large_here": {"en": "The body is over the limit of {limit} bytes for this endpoint.",
                            "pl": "Treść przekracza limit {limit} bajtów dla tego zasobu."},
    "body_cut_short": {"en": "The body ended after {received} of the {length} bytes its Content-Length announced.",
                       "pl": "Treść skończyła się po {received} z {length} bajtów zapowiedzianych w Content-Length."},
    "body_framing": {"en": "The body cannot be read: its framing is not valid HTTP/1.1 "
                           "(chunked transfer coding or Content-Length).",
                     "pl": "Nie można odczytać treści: jej podział nie jest poprawnym HTTP/1.1 "
                           "(kodowanie chunked albo Content-Length)."},
    "too_many_values": {"en": "The JSON holds too many values (the limit is {limit}).",
                        "pl": "JSON zawiera zbyt wiele wartości (limit to {limit})."},
    "host_required": {"en": "An HTTP/1.1 request must carry a Host header (RFC 9112, section 3.2).",
                      "pl": "Żądanie HTTP/1.1 musi mieć nagłówek Host (RFC 9112, sekcja 3.2)."},
    "fields_unknown": {"en": "?fields= names unknown fields: {name}. The fields are: {choices}.",
                       "pl": "?fields= wymienia nieznane pola: {name}. Pola to: {choices}."},
    "fields_none": {"en": "?fields= names no field ({name}). The fields are: {choices}.",
                    "pl": "?fields= nie wymienia żadnego pola ({name}). Pola to: {choices}."},
    "csv_header_too_long": {"en": "The CSV header row is over the limit of {limit} bytes.",
                            "pl": "Wiersz nagłówka CSV przekracza limit {limit} bajtów."},
    "csv_header_not_utf8": {"en": "The CSV header row is not valid UTF-8 (byte {byte}).",
                            "pl": "Wiersz nagłówka CSV nie jest poprawnym UTF-8 (bajt {byte})."},
    "csv_header_fields": {"en": "The first row must name the profile's fields (criteria, external_id, industry), "
                                "each once.",
                          "pl": "Pierwszy wiersz musi wymieniać pola profilu (kryteria, external_id, industry), "
                                "każde raz."},
    "stream_media_type": {"en": "Send the profiles as JSON lines (Content-Type: application/x-ndjson) or as CSV "
                                "(Content-Type: text/csv) with a header row of field names.",
                          "pl": "Wyślij profile jako JSON lines (Content-Type: application/x-ndjson) albo jako CSV "
                                "(Content-Type: text/csv) z wierszem nagłówka z nazwami pól."},
    "not_utf8": {"en": "The body is not valid UTF-8 (byte {byte}).",
                 "pl": "Treść nie jest poprawnym UTF-8 (bajt {byte})."},
    "not_json_at": {"en": "The body is not valid JSON: {reason} (line {line}, column {column}).",
                    "pl": "Treść nie jest poprawnym dokumentem JSON: {reason} (wiersz {line}, kolumna {column})."},
    "too_deep": {"en": "The JSON is nested too deeply (the limit is {limit} levels).",
                 "pl": "JSON jest zagnieżdżony zbyt głęboko (limit to {limit} poziomów)."},
    "not_json": {"en": "The body is not valid JSON: {reason}.",
                 "pl": "Treść nie jest poprawnym dokumentem JSON: {reason}."},
    "not_an_object": {"en": "The body must be a JSON object, not {kind}.",
                      "pl": "Treść musi być obiektem JSON, a nie {kind}."},
    "lone_surrogate": {"en": "The body is not valid JSON text: it holds a lone UTF-16 surrogate (\\ud800-\\udfff), "
                             "which is no character.",
                       "pl": "Treść nie jest poprawnym tekstem JSON: zawiera samotny surogat UTF-16 "
                             "(\\ud800-\\udfff), który nie jest znakiem."},
    "api_key": {"en": "This API needs Authorization: Bearer <API key>; the key is missing or not a valid one.",
                "pl": "To API wymaga nagłówka Authorization: Bearer <klucz API>; klucza brak lub jest nieprawidłowy."},
    "metrics_token": {"en": "GET /metrics needs Authorization: Bearer <the metrics token>.",
                      "pl": "GET /metrics wymaga nagłówka Authorization: Bearer <token metryk>."},
}

# the parts of sentences above that are words themselves (a JSON decoder's reason, a kind of JSON value)
PARTS: dict[str, dict[str, str]] = {
    "Expecting value": {"en": "Expecting value", "pl": "oczekiwano wartości"},
    "Expecting property name enclosed in double quotes": {
        "en": "Expecting property name enclosed in double quotes",
        "pl": "oczekiwano nazwy pola w cudzysłowie"},
    "Expecting ':' delimiter": {"en": "Expecting ':' delimiter", "pl": "oczekiwano separatora ':'"},
    "Expecting ',' delimiter": {"en": "Expecting ',' delimiter", "pl": "oczekiwano separatora ','"},
    "Unterminated string starting at": {"en": "Unterminated string starting at",
                                        "pl": "niezakończony napis zaczynający się w"},
    "Invalid control character at": {"en": "Invalid control character at", "pl": "niedozwolony znak sterujący w"},
    "Invalid \\escape": {"en": "Invalid \\escape", "pl": "niepoprawna sekwencja \\"},
    "Invalid \\uXXXX escape": {"en": "Invalid \\uXXXX escape", "pl": "niepoprawna sekwencja \\uXXXX"},
    "Illegal trailing comma before end of object": {"en": "Illegal trailing comma before end of object",
                                                    "pl": "niedozwolony przecinek przed końcem obiektu"},
    "Illegal trailing comma before end of array": {"en": "Illegal trailing comma before end of array",
                                                   "pl": "niedozwolony przecinek przed końcem tablicy"},
    "Extra data": {"en": "Extra data", "pl": "nadmiarowe dane"},
    "duplicate": {"en": "the member {member} appears twice", "pl": "pole {member} występuje dwa razy"},
    "out_of_range": {"en": "the number {number} is out of range", "pl": "liczba {number} jest poza zakresem"},
    "constant": {"en": "{name} is not valid JSON", "pl": "{name} nie jest poprawną wartością JSON"},
    "long_integer": {"en": "Exceeds the limit ({limit} digits) for integer string conversion{rest}",
                     "pl": "liczba całkowita ma więcej cyfr niż limit {limit}"},
    "an array": {"en": "an array", "pl": "tablicą"},
    "a string": {"en": "a string", "pl": "napisem"},
    "null": {"en": "null", "pl": "null"},
    "a boolean": {"en": "a boolean", "pl": "wartością logiczną"},
    "a number": {"en": "a number", "pl": "liczbą"},
}

# marshmallow's error keys (and the validators' own), as the profile schema makes marshmallow report them
FIELD_MESSAGES: dict[str, dict[str, str]] = {
    "required": {"en": "Missing data for required field.", "pl": "Brak wartości wymaganego pola."},
    "null": {"en": "Field may not be null.", "pl": "Pole nie może mieć wartości null."},
    "invalid_string": {"en": "Not a valid string.", "pl": "To nie jest poprawny napis."},
    "invalid_number": {"en": "Not a valid number.", "pl": "To nie jest poprawna liczba."},
    "too_large": {"en": "Number too large.", "pl": "Liczba jest za duża."},
    "one_of": {"en": "Must be one of: {choices}.", "pl": "Dozwolone wartości: {choices}."},
    "share": {"en": "Must be greater than or equal to {min} and less than or equal to {max} (a share: 0.7 means 70%).",
              "pl": "Musi być udziałem od {min} do {max} (0,7 oznacza 70%)."},
    "range": {"en": "Must be greater than or equal to {min} and less than or equal to {max}.",
              "pl": "Musi być nie mniejsze niż {min} i nie większe niż {max}."},
    "too_long": {"en": "Longer than maximum length {max}.", "pl": "Dłuższe niż dopuszczalne {max} znaków."},
    "unknown": {"en": "Unknown field.", "pl": "Nieznane pole."},
    "type": {"en": "Invalid input type.", "pl": "Niepoprawny typ danych."},
    "not_a_list": {"en": "Must be a list of profiles.", "pl": "Musi być listą profili."},
    "not_an_object": {"en": "Must be an object.", "pl": "Musi być obiektem."},
}

# the language the code writes its sentences in, and so the one `message_of` reads them back from
SOURCE_LANGUAGE = "en"

for _catalogue in (TITLES, PROBLEMS, PARTS, FIELD_MESSAGES):  # a missing translation fails at import, not at run
    for _key, _texts in _catalogue.items():
        if set(_texts) != set(LANGUAGES) or SOURCE_LANGUAGE not in _texts:
            raise ValueError(f"service/messages.py, {_key}: {sorted(_texts)} is not {sorted(LANGUAGES)}")


class Message(NamedTuple):
    """A sentence of a catalogue, not yet in words: its key and its values."""

    key: str
    values: Mapping[str, Any] = {}
    catalogue: Mapping[str, Mapping[str, str]] = PROBLEMS

    def text(self, language: str) -> str:
        values = {name: _words(value, language) for name, value in self.values.items()}
        if self.key == "invalid_fields":  # plural forms, which a template alone cannot say
            count = int(values["count"])
            values |= {"s": "" if count == 1 else "s",
                       "fields_pl": _polish_count(count, "nieprawidłowe pole", "nieprawidłowe pola",
                                                  "nieprawidłowych pól")}
        return self.catalogue[self.key][language].format(**values)


def message(key: str, **values: Any) -> Message:
    return Message(key, values)


def field_message(key: str, **values: Any) -> Message:
    return Message(key, values, FIELD_MESSAGES)


def title(status: int, language: str) -> str:
    """RFC 9110's title of a status, in the language (a status without one: Python's English phrase)."""
    return TITLES[status][language] if status in TITLES else HTTPStatus(status).phrase


def message_of(sentence: str, catalogue: Mapping[str, Mapping[str, str]] = PROBLEMS) -> Message | None:
    """The catalogue's entry whose English template this sentence fills, with the values it filled in."""
    for key, pattern in _patterns(catalogue):
        found = pattern.fullmatch(sentence)
        if found:
            return Message(key, found.groupdict(), catalogue)
    return None


def in_language(detail: str | Message, language: str) -> str:
    """A detail in the caller's language: a Message in words, or an English sentence translated when known."""
    if isinstance(detail, str):
        if language == SOURCE_LANGUAGE:
            return detail
        found = message_of(detail)
        if found is None:
            return detail
        detail = found
    return detail.text(language)


def _words(value: Any, language: str) -> Any:
    """A value that is itself a phrase of PARTS, in the language; any other value as it is."""
    if isinstance(value, str) and language != SOURCE_LANGUAGE:
        found = message_of(value, PARTS)
        if found is not None:
            return found.text(language)
    return value


def _polish_count(count: int, one: str, few: str, many: str) -> str:
    """Polish plural: 1 pole, 2-4 pola (but 12-14 pól), 0 and 5+ pól."""
    if count == 1:
        return one
    return few if count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14) else many


_PATTERNS: dict[int, tuple[tuple[str, re.Pattern[str]], ...]] = {}


def _patterns(catalogue: Mapping[str, Mapping[str, str]]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each entry's English template as a pattern, made once per catalogue."""
    found = _PATTERNS.get(id(catalogue))
    if found is None:
        found = _PATTERNS[id(catalogue)] = tuple((key, _pattern(texts[SOURCE_LANGUAGE]))
                                                        for key, texts in catalogue.items())
    return found


def _pattern(template: str) -> re.Pattern[str]:
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P<{name}>.*?)" if name.isidentifier() else "")
    return re.compile("".join(parts), re.DOTALL)
