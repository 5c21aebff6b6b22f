"""Prometheus metrics, correct across gunicorn workers (multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set).

No label ever holds a value the caller controls: routes are templates ("<unmatched>" for a 404),
methods outside a fixed set are "OTHER", fields outside the model are "<unknown>".
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE  # noqa: F401  (re-exported for the view)
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

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

log = logging.getLogger(__name__)


def _record(update: Callable[[], None]) -> None:
    """Metrics are never worth a failed request: a full or unwritable metrics folder is logged, not raised."""
    try:
        update()
    except OSError as error:
        log.warning("metrics not recorded: %s", error)


def record_request(route: str | None, method: str, status: int, seconds: float) -> None:
    labels = (route or UNMATCHED_ROUTE, method if method in METHODS else "OTHER", str(status))

    def update() -> None:
        REQUESTS.labels(*labels).inc()
        LATENCY.labels(*labels).observe(seconds)

    _record(update)


def record_assessments(recommendations: Iterable[str]) -> None:
    _record(lambda: [ASSESSMENTS.labels(recommendation).inc() for recommendation in recommendations])


def record_shadow_assessment(model: str, compared_with: str, agrees: bool | None) -> None:
    label = "rejected" if agrees is None else str(agrees).lower()
    _record(lambda: SHADOW_ASSESSMENTS.labels(model, compared_with, label).inc())


def record_validation_failures(fields: Iterable[str], known: frozenset[str]) -> None:
    _record(lambda: [VALIDATION_FAILURES.labels(f if f in known else UNKNOWN_FIELD).inc() for f in fields])


def record_models(models: Iterable[tuple[str, str, bool]]) -> None:
    _record(lambda: [MODEL_INFO.labels(model, version, str(default).lower()).set(1)
                     for model, version, default in models])


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
