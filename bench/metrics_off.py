"""The service with per-request metrics recording switched off: what "metrics off" means in benchmark 4.

`gunicorn -c gunicorn.conf.py bench.metrics_off:app`. Every `record_*` function of service.metrics
(record_request, record_assessments, record_validation_failures, and any added since) except
record_models becomes a no-op before create_app; callers look them up on the module at call time, so
this reaches all of them. The rest is the service as shipped: prometheus_client is imported, the
model-info gauge is set once at start and GET /metrics answers.
"""

from __future__ import annotations

from typing import Any

from service import metrics


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


SWITCHED_OFF = sorted(name for name in dir(metrics) if name.startswith("record_") and name != "record_models")
for _name in SWITCHED_OFF:
    setattr(metrics, _name, _nothing)

from service.app import create_app  # noqa: E402  (after the no-ops are in place)

app = create_app()
