"""Prometheus metrics, correct across gunicorn workers (multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set).

No label ever holds a value the caller controls: routes are templates ("<unmatched>" for a 404),
methods outside a fixed set are "OTHER", fields outside the model are "<unknown>".
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import Counter as Tally
from collections.abc import Iterable

import prometheus_client.values
from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE  # noqa: F401  (re-exported for the view)
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.mmap_dict import _INITIAL_MMAP_SIZE, MmapedDict

UNMATCHED_ROUTE = "<unmatched>"
UNKNOWN_FIELD = "<unknown>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

ASSESSMENTS = Counter("strategy_assessments_total", "Assessments answered, by recommendation.",
                      ["recommendation"])
REQUESTS = Counter("strategy_http_requests_total", "HTTP requests answered, by route template, method and status.",
                   ["route", "method", "status"])
LATENCY = Histogram("strategy_http_request_duration_seconds",
                    "Time from request to response, by route template, method and status.",
                    ["route", "method", "status"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
VALIDATION_FAILURES = Counter("strategy_validation_failures_total",
                              "Profile fields rejected, by field (names outside the model count as <unknown>).",
                              ["field"])
SHADOW_ASSESSMENTS = Counter("strategy_shadow_assessments_total",
                             "Assessments also made under a second model (?compare=), by whether the two agree.",
                             ["model", "compared_with", "agrees"])
MODEL_INFO = Gauge("strategy_model_info", "The models loaded (1 each); default=\"true\" marks the one used by default.",
                   ["model", "version", "default"], multiprocess_mode="livemax")
MODEL_RELOADS = Counter("strategy_model_reloads_total",
                        "Model reloads (SIGHUP) by outcome: applied, or refused (a broken model; the last good stay).",
                        ["outcome"])
LOG_LINES_DROPPED = Counter("strategy_log_lines_dropped_total",
                            "Log lines dropped because the stream was not being read fast enough (a request never "
                            "waits).", ["stream"])  # labelled: an unlabelled metric would map its file at import

log = logging.getLogger(__name__)


class _ReservedMmapedDict(MmapedDict):
    """prometheus_client's metric file, with its disk space reserved before it is mapped and written.

    The library grows its files with truncate(), which reserves nothing, and writes through a
    memory map: on a full filesystem that write kills the worker with SIGBUS. Reserving the
    space first turns a full disk into an OSError, which _recording logs instead.
    """

    def __init__(self, filename: str, read_mode: bool = False) -> None:
        if not read_mode:
            existed = os.path.exists(filename)
            with open(filename, "a+b") as file:
                size = os.fstat(file.fileno()).st_size
                try:
                    os.posix_fallocate(file.fileno(), 0, max(size, _INITIAL_MMAP_SIZE))
                except OSError:
                    if not existed:  # an empty file would break every later scrape
                        os.unlink(filename)
                    raise
        super().__init__(filename, read_mode)

    def _init_value(self, key: str) -> None:
        encoded = key.encode("utf-8")
        needed = self._used + 4 + len(encoded) + (8 - (len(encoded) + 4) % 8) + 16
        capacity = self._capacity
        while needed > capacity:
            capacity *= 2
        if capacity != self._capacity:
            os.posix_fallocate(self._f.fileno(), 0, capacity)
        super()._init_value(key)


# tested with prometheus-client 0.26 (pyproject pins the range); tests/server/test_faults.py fills a real filesystem
prometheus_client.values.MmapedDict = _ReservedMmapedDict  # type: ignore[misc]


class _Recording:
    """Metrics are never worth a failed request: under `with _recording:` an OSError (a full or unwritable
    metrics folder) is logged, not raised. A class rather than @contextmanager, which costs ten times as
    much on a path every request takes."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: object) -> bool:
        if isinstance(error, OSError):
            log.warning("metrics not recorded: %s", error)
            return True
        return False


_recording = _Recording()

# the labelled series of the per-request metrics, found once per worker instead of by .labels() on every
# request; the keys come from fixed sets (route templates, METHODS, statuses the app sends, recommendations)
_request_series: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}
_assessment_series: dict[str, Counter] = {}


def record_request(route: str | None, method: str, status: int, seconds: float) -> None:
    labels = (route or UNMATCHED_ROUTE, method if method in METHODS else "OTHER", str(status))
    with _recording:
        series = _request_series.get(labels)
        if series is None:
            series = _request_series[labels] = (REQUESTS.labels(*labels), LATENCY.labels(*labels))
        series[0].inc()
        series[1].observe(seconds)


def record_assessments(recommendations: Iterable[str]) -> None:
    with _recording:
        for recommendation, count in Tally(recommendations).items():
            series = _assessment_series.get(recommendation)
            if series is None:
                series = _assessment_series[recommendation] = ASSESSMENTS.labels(recommendation)
            series.inc(count)


def declare_shadow_pairs(models: list[str]) -> None:
    """Every series of shadow assessments at 0 from the start (the models are the service's), so the panel and
    the alerts see the first disagreement as a change, not as a series appearing."""
    with _recording:
        for model in models:
            for compared_with in models:
                if compared_with != model:
                    for agrees in ("true", "false", "rejected"):
                        SHADOW_ASSESSMENTS.labels(model, compared_with, agrees)


def record_shadow_assessment(model: str, compared_with: str, agrees: bool | None) -> None:
    with _recording:
        SHADOW_ASSESSMENTS.labels(model, compared_with, "rejected" if agrees is None else str(agrees).lower()).inc()


def record_validation_failures(fields: Iterable[str], known: frozenset[str]) -> None:
    with _recording:
        for field in fields:
            VALIDATION_FAILURES.labels(field if field in known else UNKNOWN_FIELD).inc()


def record_models(models: Iterable[tuple[str, str, bool]]) -> None:
    with _recording:
        for model, version, default in models:
            MODEL_INFO.labels(model, version, str(default).lower()).set(1)


def start_counts() -> None:
    """gunicorn's master, at start: the counters of rare events from 0, so that the first is an increase alerts see."""
    with _recording:
        for outcome in ("applied", "refused"):
            MODEL_RELOADS.labels(outcome)
        LOG_LINES_DROPPED.labels("stdout")


def record_model_reload(outcome: str) -> None:
    with _recording:
        MODEL_RELOADS.labels(outcome).inc()


def record_dropped_log_line(lines: int = 1) -> None:
    with contextlib.suppress(OSError):  # not logged: a log line is what could not be written
        LOG_LINES_DROPPED.labels("stdout").inc(lines)


def archive_dead_worker(pid: int, folder: str | None = None) -> None:
    """gunicorn's child_exit: fold a dead worker's counter and histogram files into one archive file each.

    prometheus_client keeps every dead worker's files (its counts must outlive it), so without
    this each scrape reads two more files for every worker that ever lived. The master is the
    only writer of the archives. If anything fails (a full disk), the files stay as they are:
    nothing is lost, and the master goes on.
    """
    try:
        folder = folder or os.environ["PROMETHEUS_MULTIPROC_DIR"]
        multiprocess.mark_process_dead(pid, folder)
        for kind in ("counter", "histogram"):
            dead = os.path.join(folder, f"{kind}_{pid}.db")
            if os.path.exists(dead):
                _fold_into_archive(dead, os.path.join(folder, f"{kind}_archive.db"))
                os.unlink(dead)
    except Exception:  # this runs in gunicorn's master, which must outlive any metrics housekeeping
        log.exception("metrics of worker %s not archived; its files stay as they are", pid)


def _fold_into_archive(dead: str, archive_path: str) -> None:
    archive = _ReservedMmapedDict(archive_path)
    try:
        totals = {key: value for key, value, _ in archive.read_all_values()}
        for key, value, _, _ in MmapedDict.read_all_values_from_file(dead):
            totals[key] = totals.get(key, 0.0) + value
            archive.write_value(key, totals[key], 0.0)
    finally:
        archive.close()


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
