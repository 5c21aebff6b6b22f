"""Profiles in as JSON lines or CSV, results out the same way, a chunk at a time: what the stream and `score` share.

Nothing here holds more than one chunk of rows: lines are read with a bounded readline, so memory stays flat
however many rows come, and a row over the size limit is that row's problem, not the stream's.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, NamedTuple

import orjson
from marshmallow import ValidationError

from service.errors import FieldError, Problem
from service.fields import Selection
from service.gc_pause import collections_paused
from service.identifiers import assessment_ids
from service.messages import Message, in_language, title
from service.registry import LoadedModel

# the strict JSON reading of a request body, line by line (request_body exposes it only for whole requests)
from service.request_body import parse_object
from service.schemas.responses import assessment_bodies
from service.scoring import Assessment, Decision, explain_many
from service.validation import invalid_profile

NDJSON = "application/x-ndjson"
CSV = "text/csv"
FORMATS = (NDJSON, CSV)
MAX_ROW_BYTES = 16 * 1024  # a longer row (line, or CSV record) is a 413 problem for that row alone

# what a CSV answer carries, by the assessment member ?fields= names (the counterfactual: the first only)
TOP_FACTORS = 3
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "recommendation": ("recommendation",),
    "scores": ("score_relational", "score_transactional"),
    "index": ("index",),
    "confidence": ("confidence",),
    "coverage": ("coverage",),
    "rationale": tuple(f"factor_{n}{part}" for n in range(1, TOP_FACTORS + 1) for part in ("", "_contribution")),
    "counterfactuals": ("counterfactual", "counterfactual_recommendation"),
}
CSV_FIELDS = tuple(CSV_COLUMNS)
COMPARISON_COLUMNS = ("comparison_model", "comparison_recommendation", "comparison_index")
ERROR_COLUMN = "error"
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


@dataclass(frozen=True)
class RowProblem:
    """Why one row was not assessed: a status as a request would get, a sentence, and the bad fields."""

    status: int
    detail: str | Message
    errors: tuple[FieldError, ...] | None = None
    fields: tuple[str, ...] = ()  # the rejected profile fields, for the validation metric


@dataclass(frozen=True)
class Row:
    index: int  # its position among the data rows, from 0
    document: dict[str, Any] | None  # the profile as sent; None when the row could not be read
    cells: list[str] | None = None  # CSV: the cells as sent, echoed in a CSV answer
    problem: RowProblem | None = None


@dataclass(frozen=True)
class Result:
    """A row's outcome: its answer and what it advised (with its Assessment, when asked for), or its problem."""

    row: Row
    body: dict[str, Any] | None  # the assessment as /assess gives it, cut to the fields asked for
    problem: RowProblem | None = None
    decision: Decision | None = None
    assessment: Assessment | None = None  # made only when asked for: a CSV answer reads it
    assessment_id: str | None = None  # the answer's, which the decision log names too
    # with ?compare=: whether the second model agrees, and what it advised (None: it refused the profile)
    agrees: bool | None = None
    other: Decision | None = None


# ---- reading ----------------------------------------------------------------------------------------

class _TooLong:
    """What the line reader yields for a line over the limit (its bytes are read and dropped)."""


TOO_LONG = _TooLong()


def lines(stream: IO[bytes], limit: int) -> Iterator[bytes | _TooLong]:
    """The stream's lines as they arrive, none longer than `limit` bytes held: a longer one is skipped."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit:
            while not line.endswith(b"\n"):  # drop the rest of it, a bounded piece at a time
                line = stream.readline(65536)
                if not line:
                    break
            yield TOO_LONG
        else:
            yield line


def _too_long(limit: int) -> RowProblem:
    return RowProblem(413, f"The row is over the limit of {limit} bytes.")


def _unreadable(error: Exception) -> RowProblem:
    # a broken chunked encoding, a client that stopped sending, a read that timed out
    return RowProblem(400, f"The body could not be read to its end ({type(error).__name__}); "
                           "the rows before this one were assessed.")


def _json_line(line: bytes, max_depth: int) -> dict[str, Any] | RowProblem:
    """One line as a strict JSON object, read exactly as a request's body is, or why it is not one."""
    try:
        return parse_object(line, max_depth)
    except Problem as problem:
        return RowProblem(problem.status, problem.detail)


def ndjson_rows(stream: IO[bytes], limit: int = MAX_ROW_BYTES, max_depth: int = 32) -> Iterator[Row]:
    """A row per non-blank line of JSON lines."""
    index = 0
    try:
        for line in lines(stream, limit):
            if line is TOO_LONG:
                yield Row(index, None, problem=_too_long(limit))
            elif line.strip():
                parsed = _json_line(line, max_depth)  # type: ignore[arg-type]
                yield Row(index, None, problem=parsed) if isinstance(parsed, RowProblem) else Row(index, parsed)
            else:
                continue
            index += 1
    except Exception as error:  # the body itself broke off: a last row says so, the stream ends cleanly
        yield Row(index, None, problem=_unreadable(error))


class _Records:
    """Decoded lines for csv.reader, counting the bytes of the record being read so a long one can be refused."""

    def __init__(self, source: Iterator[bytes | _TooLong], limit: int) -> None:
        self.source, self.limit, self.size = source, limit, 0

    def __iter__(self) -> _Records:
        return self

    def __next__(self) -> str:
        line = next(self.source)
        if line is TOO_LONG or self.size + len(line) > self.limit:  # type: ignore[arg-type]
            raise RowTooLong
        self.size += len(line)  # type: ignore[arg-type]
        return line.decode("utf-8")  # type: ignore[union-attr]


class RowTooLong(Exception):
    pass


@dataclass(frozen=True)
class CsvInput:
    header: list[str]
    delimiter: str
    rows: Iterator[Row]


def csv_rows(stream: IO[bytes], loaded: LoadedModel, limit: int = MAX_ROW_BYTES) -> CsvInput:
    """The header (checked now: a 422 Problem when it names what the model does not know), then a row per record."""
    source = lines(stream, limit)
    first = next(source, b"")
    if first is TOO_LONG:
        raise Problem(413, f"The CSV header row is over the limit of {limit} bytes.")
    try:
        text = first.decode("utf-8-sig")  # type: ignore[union-attr]  (spreadsheets start with a byte-order mark)
    except UnicodeDecodeError as error:
        raise Problem(400, f"The CSV header row is not valid UTF-8 (byte {error.start}).") from None
    delimiter = ";" if text.count(";") > text.count(",") else ","  # a Polish spreadsheet writes semicolons
    header = [name.strip() for name in next(csv.reader([text], delimiter=delimiter), [])]
    unknown = [name for name in header if name not in loaded.fields]
    duplicated = [name for name, count in Counter(header).items() if count > 1]
    if not header or unknown or duplicated:
        errors = ([FieldError(f"/{name[:100]}", "Unknown column.") for name in unknown[:20]]
                  + [FieldError(f"/{name[:100]}", "The column appears twice.") for name in duplicated])
        raise Problem(422, "The first row must name the profile's fields (criteria, external_id, industry), "
                           "each once.", errors or [FieldError("/", "No header row.")])
    numbers = frozenset(c.name for c in loaded.model.criteria if c.number is not None)
    return CsvInput(header, delimiter, _csv_records(source, header, delimiter, numbers, limit))


def _cell(name: str, cell: str, numbers: frozenset[str]) -> Any:
    """A cell as the profile's value: numbers parsed for number criteria (a decimal comma too), text otherwise."""
    if name in numbers:
        try:
            return float(cell.replace(",", ".") if _DECIMAL_COMMA.fullmatch(cell) else cell)
        except ValueError:
            return cell  # validation says what is wrong with it
    return cell


def _csv_records(source: Iterator[bytes | _TooLong], header: list[str], delimiter: str, numbers: frozenset[str],
                 limit: int) -> Iterator[Row]:
    records = _Records(source, limit)
    reader = csv.reader(records, delimiter=delimiter, strict=True)
    index = 0
    while True:
        records.size = 0  # the bytes of the record about to be read
        try:
            cells = next(reader)
        except StopIteration:
            return
        except RowTooLong:
            yield Row(index, None, problem=_too_long(limit))
            index += 1
            continue
        except UnicodeDecodeError as error:
            yield Row(index, None, problem=RowProblem(400, f"The row is not valid UTF-8 (byte {error.start})."))
            index += 1
            continue
        except csv.Error as error:
            yield Row(index, None, problem=RowProblem(400, f"The row is not valid CSV: {error}."))
            index += 1
            continue
        except Exception as error:  # the body itself broke off
            yield Row(index, None, problem=_unreadable(error))
            return
        if not cells or not any(cell.strip() for cell in cells):
            continue  # a blank line is no row
        if len(cells) != len(header):
            yield Row(index, None, cells, RowProblem(
                422, f"The row has {len(cells)} cells; the header has {len(header)}.",
                (FieldError("/", f"Expected {len(header)} cells."),)))
        else:
            document = {name: _cell(name, cell.strip(), numbers) for name, cell in zip(header, cells, strict=True)
                        if cell.strip()}
            yield Row(index, document, cells)
        index += 1


FIRST_CHUNK = 256  # rows: a client that sends a few hundred and waits for their answers gets them


def chunks(rows: Iterable[Row], size: int, seconds: float | None = None) -> Iterator[list[Row]]:
    """Lists of rows, the first of up to FIRST_CHUNK and each next one twice as long, up to `size`; with
    `seconds`, none held back longer than that once a later row arrives.

    Rows are read with a blocking read, so a chunk is only handed on full (or late, when a row comes): a short
    first chunk answers a client that waits before it sends more, and the long ones after it spread the
    engine's cost per call (a chunk of 256 rows costs a third more a row than one of 1,000).
    """
    chunk: list[Row] = []
    opened = 0.0
    wanted = min(FIRST_CHUNK, size)
    for row in rows:
        if not chunk:
            opened = time.monotonic()
        chunk.append(row)
        if len(chunk) >= wanted or (seconds is not None and time.monotonic() - opened > seconds):
            yield chunk
            chunk, wanted = [], min(2 * wanted, size)
    if chunk:
        yield chunk


# ---- assessing --------------------------------------------------------------------------------------

ProblemBody = Callable[[RowProblem], dict[str, Any]]


def problem_body(problem: RowProblem, language: str, instance: str, request_id: str) -> dict[str, Any]:
    """A row's problem details, as a request's would read in `language` (the row's place stands for the path)."""
    body: dict[str, Any] = {"type": "about:blank", "title": title(problem.status, language), "status": problem.status,
                            "detail": in_language(problem.detail, language), "instance": instance,
                            "request_id": request_id}
    if problem.errors is not None:
        body["errors"] = [{"pointer": error.pointer, "detail": error.text(language)} for error in problem.errors]
    return body


def _validated(loaded: LoadedModel, row: Row) -> dict[str, Any] | RowProblem:
    if row.problem is not None:
        return row.problem
    try:
        return loaded.profile_schema.load(row.document)
    except ValidationError as error:
        problem, names = invalid_profile(loaded.profile_schema, error.messages)
        return RowProblem(422, problem.detail, tuple(problem.errors or ()), tuple(names))


class _Answer(NamedTuple):
    body: dict[str, Any]
    decision: Decision
    assessment: Assessment | None
    assessment_id: str


def _assessed(loaded: LoadedModel, rows: list[Row], language: str, fields: Selection,
              assessments: bool = False) -> list[_Answer | RowProblem]:
    """Each row's answer (as /assess gives it, cut to `fields`) and decision (and Assessment, if asked for), or its
    problem. The valid rows are assessed together.
    """
    outcomes = [_validated(loaded, row) for row in rows]
    valid = [outcome for outcome in outcomes if not isinstance(outcome, RowProblem)]
    explained = explain_many(loaded.model, valid)
    ids = assessment_ids(len(valid))
    answered = iter(map(_Answer, assessment_bodies(explained, valid, language, ids, fields), explained.decisions(),
                        explained.assessments() if assessments else [None] * len(valid), ids))
    return [outcome if isinstance(outcome, RowProblem) else next(answered) for outcome in outcomes]


@collections_paused()  # a chunk's objects all live until its answers are made (service/gc_pause.py)
def score(loaded: LoadedModel, rows: list[Row], language: str, challenger: LoadedModel | None = None,
          problem_body: ProblemBody | None = None, fields: Selection = None, assessments: bool = False
          ) -> list[Result]:
    """A chunk of rows assessed: a Result per row, in order; with a challenger, each answer's comparison too.

    The answers hold the members `fields` names (None: all); a CSV answer, which reads the Assessments (made
    when `assessments` is asked for), asks for none.
    """
    outcomes = _assessed(loaded, rows, language, fields, assessments)
    if challenger is None:
        return [Result(row, None, outcome) if isinstance(outcome, RowProblem)
                else Result(row, outcome.body, None, outcome.decision, outcome.assessment, outcome.assessment_id)
                for row, outcome in zip(rows, outcomes, strict=True)]
    # the second model sees the profiles the first accepted, as /assess?compare= does
    accepted = [row for row, outcome in zip(rows, outcomes, strict=True) if not isinstance(outcome, RowProblem)]
    others = iter(_assessed(challenger, accepted, language, fields))
    reference = {"id": challenger.model.id, "version": challenger.model.version}
    results = []
    for row, outcome in zip(rows, outcomes, strict=True):
        if isinstance(outcome, RowProblem):
            results.append(Result(row, None, outcome))
            continue
        body, decision, assessment, assessment_id = outcome
        other = next(others)
        if isinstance(other, RowProblem):
            body["comparison"] = {"model": reference, "problem": problem_body(other) if problem_body else {}}
            results.append(Result(row, body, None, decision, assessment, assessment_id))
        else:
            agrees = other.decision.recommendation == decision.recommendation
            body["comparison"] = {"model": reference, "agrees": agrees,
                                  "index_difference": other.decision.index - decision.index,
                                  "assessment": other.body}
            results.append(Result(row, body, None, decision, assessment, assessment_id, agrees, other.decision))
    return results


def score_apart(loaded: LoadedModel, rows: list[Row], language: str, fault: Callable[[Exception], RowProblem],
                challenger: LoadedModel | None = None, problem_body: ProblemBody | None = None,
                fields: Selection = None, assessments: bool = False) -> list[Result]:
    """score(), and should a chunk fail unexpectedly, its rows one by one: only a row that fails alone gets `fault`."""
    try:
        return score(loaded, rows, language, challenger, problem_body, fields, assessments)
    except Exception as error:
        if len(rows) == 1:
            return [Result(rows[0], None, fault(error))]
    return [result for row in rows
            for result in score_apart(loaded, [row], language, fault, challenger, problem_body, fields, assessments)]


# ---- writing ----------------------------------------------------------------------------------------

PIECE_BYTES = 64 * 1024  # what a writer hands on at a time: see ndjson_lines


def ndjson_lines(results: list[Result], problem_body: ProblemBody) -> Iterator[bytes]:
    """A line per result, as a batch item: index, status, then the assessment or the problem; written as they are
    taken, in pieces of about PIECE_BYTES.

    A chunk's lines are some 12 MB. Joined whole, they were a fresh allocation each time, which the C library
    maps and unmaps (a page fault every 4 KB: 7 ms a chunk), and gunicorn's chunked encoding copies what it is
    given once more; pieces of 64 KB reuse the same memory, and no chunk's answer is ever held whole.
    """
    pending: list[bytes] = []
    size = 0
    for result in results:
        if result.problem is None:
            item = {"index": result.row.index, "status": 200, "assessment": result.body}
        else:
            problem = result.problem
            item = {"index": result.row.index, "status": problem.status,
                    "problem": problem_body(problem)}
        line = orjson.dumps(item, option=orjson.OPT_APPEND_NEWLINE)
        pending.append(line)
        size += len(line)
        if size >= PIECE_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


class CsvOutput:
    """A CSV answer: the input columns, then the selected assessment's columns (texts in one language), then error."""

    def __init__(self, loaded: LoadedModel, language: str, input_columns: list[str], delimiter: str = ",",
                 selection: Selection = None, compare: bool = False) -> None:
        self.model, self.language, self.input_columns = loaded.model, language, input_columns
        self.delimiter = delimiter
        self.groups = [name for name in CSV_FIELDS if selection is None or name in selection]
        self.compare = compare

    def header(self) -> bytes:
        columns = [*self.input_columns, *(c for group in self.groups for c in CSV_COLUMNS[group]),
                   *(COMPARISON_COLUMNS if self.compare else ()), ERROR_COLUMN]
        return self._write([columns])

    def rows(self, results: list[Result]) -> list[bytes]:
        """The results' rows, in one piece (a chunk's CSV is some 300 bytes a row)."""
        return [self._write([self._row(result) for result in results])]

    def _write(self, rows: list[list[Any]]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=self.delimiter, lineterminator="\r\n").writerows(rows)
        return buffer.getvalue().encode("utf-8")

    def _echo(self, row: Row) -> list[str]:
        width = len(self.input_columns)
        if row.cells is not None:
            return (row.cells + [""] * width)[:width]
        document = row.document or {}
        return [_text(document.get(name)) for name in self.input_columns]

    def _row(self, result: Result) -> list[Any]:
        cells: list[Any] = self._echo(result.row)
        width = sum(len(CSV_COLUMNS[group]) for group in self.groups) + (len(COMPARISON_COLUMNS) if self.compare else 0)
        if result.problem is not None:
            problem = result.problem
            errors = "; ".join(f"{e.pointer}: {e.text(self.language)}" for e in problem.errors or [])
            detail = in_language(problem.detail, self.language)
            return [*cells, *[""] * width, f"{problem.status} {detail}" + (f" {errors}" if errors else "")]
        assessment = result.assessment
        assert assessment is not None
        for group in self.groups:
            cells.extend(self._columns(group, assessment))
        if self.compare:
            assert result.body is not None
            reference, other = result.body["comparison"]["model"], result.other
            cells += [f"{reference['id']}@{reference['version']}", other.recommendation if other else "",
                      _text(other.index) if other else ""]
        cells.append("")
        return cells

    def _columns(self, group: str, assessment: Assessment) -> list[Any]:
        if group == "scores":
            return [_text(assessment.relational_score), _text(assessment.transactional_score)]
        if group == "rationale":
            language = self.language
            cells = [cell for factor in assessment.factors[:TOP_FACTORS]
                     for cell in (f"{factor.criterion.label[language]}: "
                                  f"{factor.criterion.value_label(factor.value, language)}",
                                  _text(factor.contribution))]
            return cells + [""] * (2 * TOP_FACTORS - len(cells))
        if group == "counterfactuals":
            if not assessment.counterfactuals:
                return ["", ""]
            first = assessment.counterfactuals[0]
            change = first.change
            return [self._change(change.criterion.name, change.before, change.after), first.recommendation]
        return [_text(getattr(assessment, group))]

    def _change(self, name: str, before: Any, after: Any) -> str:
        """The change in the model's own words, as its plans put it."""
        criterion, language, messages = self.model.criterion(name), self.language, self.model.messages
        label, after_label = criterion.label[language], criterion.value_label(after, language)
        if before is None:
            return messages["change_unanswered"][language].format(criterion=label, after=after_label)
        return messages["change"][language].format(criterion=label, before=criterion.value_label(before, language),
                                                   after=after_label)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return orjson.dumps(value).decode()
