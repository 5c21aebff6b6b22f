"""The stream: profiles in as JSON lines or CSV, results out the same way as they are computed, in input order."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Blueprint, Response, current_app, g, request, stream_with_context

from service import heartbeat, metrics, rows
from service.errors import Problem
from service.fields import FIELDS, selected
from service.messages import message
from service.registry import LoadedModel
from service.views.assessments import DecisionLog

blueprint = Blueprint("stream", __name__)

# a client that neither sends nor reads for this long loses its stream, and the worker thread is free again
# a chunk is answered once it is full, or once its first row has waited this long for the others
CHUNK_SECONDS = 0.25


def _output_format(sent: str) -> str:
    """The format asked for in Accept (JSON lines or CSV); the one sent when Accept prefers neither."""
    others = [media for media in rows.FORMATS if media != sent]
    return request.accept_mimetypes.best_match([sent, *others], default=sent) or sent


@blueprint.post("/assess/stream")
def assess_stream() -> Response:
    """Assess profiles sent as JSON lines or CSV: a result per row, streamed back in order as they are computed."""
    registry = current_app.extensions["models"]
    loaded = registry.get(request.args.get("model"))
    challenger = registry.get(request.args["compare"]) if "compare" in request.args else None
    sent = request.mimetype
    if sent not in rows.FORMATS:
        raise Problem(415, "Send the profiles as JSON lines (Content-Type: application/x-ndjson) or as CSV "
                           "(Content-Type: text/csv) with a header row of field names.")
    answer = _output_format(sent)
    selection = selected(request.args, FIELDS if answer == rows.NDJSON else rows.CSV_FIELDS)
    config = current_app.config
    socket = request.environ.get("gunicorn.socket")
    if socket is not None:  # blocking without a limit otherwise: a stalled client would hold a thread for ever
        socket.settimeout(float(config["STREAM_IDLE_SECONDS"]))  # gunicorn resets it per request
    limit = int(config["MAX_ROW_BYTES"])
    body = request.environ["wsgi.input"]  # read a line at a time: never the whole body, whatever its length
    if sent == rows.CSV:
        table = rows.csv_rows(body, loaded, limit)  # the header now: a bad one is a 422 before any row
        source, columns, delimiter = table.rows, table.header, table.delimiter
    else:
        source = rows.ndjson_rows(body, limit, config["MAX_JSON_DEPTH"])
        columns, delimiter = list(loaded.profile_schema.fields), ","
    language = g.language
    if answer == rows.CSV:
        table_out = rows.CsvOutput(loaded, language, columns, delimiter, selection, challenger is not None)
        head, write = table_out.header(), table_out.rows
        fields: rows.Selection = frozenset()  # the CSV reads the Assessments: no JSON member is made
    else:
        head, write = b"", functools.partial(rows.ndjson_lines, problem_body=_problem_body)
        fields = selection
    return Response(stream_with_context(_generate(loaded, challenger, source, language, fields, answer == rows.CSV,
                                                  head, write)),
                    mimetype=answer, headers={"Content-Language": language})


def _generate(loaded: LoadedModel, challenger: LoadedModel | None, source: Iterator[rows.Row], language: str,
              fields: rows.Selection, assessments: bool, head: bytes,
              write: Callable[[list[rows.Result]], Iterable[bytes]]) -> Iterator[bytes]:
    if head:
        yield head
    for chunk in rows.chunks(source, int(current_app.config["STREAM_CHUNK_ROWS"]), CHUNK_SECONDS):
        heartbeat.beat()
        started = time.perf_counter()
        results = rows.score_apart(loaded, chunk, language, _fault, challenger, _problem_body, fields, assessments)
        _account(loaded, challenger, results, started)
        yield from write(results)


def _problem_body(problem: rows.RowProblem) -> dict[str, Any]:
    return rows.problem_body(problem, g.language, request.path, g.request_id)


def _fault(error: Exception) -> rows.RowProblem:
    """A row that broke the service: logged with the request id, a 500 for that row alone (no detail of it)."""
    current_app.logger.error("unexpected error on a row of stream %s", g.request_id, exc_info=error,
                             extra={"fields": {"request_id": g.request_id}})
    return rows.RowProblem(500, message("unexpected", request_id=g.request_id))


def _account(loaded: LoadedModel, challenger: LoadedModel | None, results: list[rows.Result],
             started: float) -> None:
    """Metrics and the decision log, as the batch keeps them."""
    recommendations = []
    decisions = DecisionLog(loaded)
    for result in results:
        decision = result.decision
        if decision is None:
            assert result.problem is not None
            if result.problem.fields:
                metrics.record_validation_failures(result.problem.fields, loaded.fields)
            continue
        recommendations.append(decision.recommendation)
        document = result.row.document or {}
        assert result.assessment_id is not None
        decisions.add(result.assessment_id, document.get("external_id"), decision, document, started)
        if challenger is not None:
            metrics.record_shadow_assessment(loaded.model.key, challenger.model.key, result.agrees)
    decisions.write()
    metrics.record_assessments(recommendations)
