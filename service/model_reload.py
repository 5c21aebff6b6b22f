"""Model reloads that cannot take the service down, run by gunicorn's master (hooks in gunicorn.conf.py).

The master copies the model folder (STRATEGY_MODEL_DIR) and validates the copy, as a worker would load it,
at start and on every SIGHUP, and keeps the last copy that passed. Workers load that copy, never the live
folder: a HUP with a broken model is refused (one error line naming the file and the JSON path, the metric
strategy_model_reloads_total{outcome="refused"}, and /readyz's `last_reload`), and the new workers boot on the
last good models. At start there is no last good copy, so a broken folder stops gunicorn.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import tempfile
import time
from typing import Any

from service.config import DEFAULTS
from service.scoring import ModelError

_snapshot: str | None = None  # the folder workers load: the last copy that validated
_last_reload: dict[str, Any] | None = None  # what /readyz reports: the outcome of the last HUP
_predecessors: list[int] = []  # the workers a HUP replaces, each stopped by its successor once that one is ready
_first_successor_age = 0


def _source() -> str:
    return os.environ.get("STRATEGY_MODEL_DIR") or DEFAULTS["MODEL_DIR"]


def _validated_copy(source: str) -> str:
    """A private copy of `source`, validated; a ModelError (naming the files of `source`) if it does not load."""
    from service.registry import ModelRegistry

    copy = tempfile.mkdtemp(prefix="strategy-models-")
    try:
        # symlinks followed (a ConfigMap's files are links); the kubelet's own `..data` entries left out
        shutil.copytree(source, copy, dirs_exist_ok=True, ignore=shutil.ignore_patterns("..*"))
        ModelRegistry.from_folder(copy, os.environ.get("STRATEGY_DEFAULT_MODEL", ""))
    except (ModelError, OSError) as error:
        shutil.rmtree(copy, ignore_errors=True)
        raise ModelError(str(error).replace(copy, source)) from None
    return copy


def at_start(log: logging.Logger) -> None:
    """on_starting: the first copy, or SystemExit with the reason when the folder does not load."""
    global _snapshot
    try:
        _snapshot = _validated_copy(_source())
    except ModelError as error:
        log.error("the models cannot be loaded, so gunicorn stops: %s", error)
        raise SystemExit(1) from None


def at_reload(log: logging.Logger) -> None:
    """on_reload: take the new folder if it loads; otherwise keep serving the last good copy, and say so."""
    global _snapshot, _last_reload
    from service.metrics import record_model_reload

    source = _source()
    try:
        copy = _validated_copy(source)
    except ModelError as error:
        # /readyz is public: the file and the JSON path, not where the folder lives
        reason = str(error).replace(os.path.join(source, ""), "")
        _last_reload = {"outcome": "refused", "at": time.time(), "error": reason}
        record_model_reload("refused")
        log.error("model reload refused, the last good models stay in service: %s", error)
        return
    previous, _snapshot = _snapshot, copy
    _last_reload = {"outcome": "applied", "at": time.time(), "error": None}
    record_model_reload("applied")
    if previous:  # the old workers hold their models in memory, not in files
        shutil.rmtree(previous, ignore_errors=True)


def hand_over(server: Any) -> None:
    """on_reload: keep the old workers until their successors are ready (gunicorn would stop them at once).

    The master counts twice its workers, so it stops none when it forks the new ones; each new worker, once
    booted, stops one old worker (retire_a_predecessor), and each old one gone lowers the count again
    (predecessor_gone). gunicorn's reload waits, reaping, until every old worker has gone.
    """
    global _first_successor_age
    _predecessors[:] = sorted(server.WORKERS, key=lambda pid: server.WORKERS[pid].age)
    _first_successor_age = server.worker_age + 1
    server.num_workers = server.cfg.workers + len(_predecessors)


def retire_a_predecessor(worker: Any) -> None:
    """post_worker_init, in a worker forked by a HUP: this worker is ready, so one old worker may stop.

    A worker forked later (one replacing a successor that died before it was ready) stops an old one still left.
    """
    if not _predecessors:
        return
    index = worker.age - _first_successor_age
    with contextlib.suppress(ProcessLookupError):  # it died meanwhile
        os.kill(_predecessors[index if 0 <= index < len(_predecessors) else 0], signal.SIGTERM)


def predecessor_gone(server: Any, pid: int) -> None:
    """child_exit: an old worker has gone, so the master counts one worker fewer, down to its setting."""
    if pid in _predecessors:
        _predecessors.remove(pid)
        server.num_workers = max(server.cfg.workers, server.num_workers - 1)


def point_worker_at_snapshot() -> None:
    """post_fork, in the new worker: load the last good copy."""
    if _snapshot is not None:
        os.environ["STRATEGY_MODEL_DIR"] = _snapshot


def last_reload() -> dict[str, Any] | None:
    """The outcome of the last HUP as the master saw it when it forked this worker (None: none yet)."""
    return _last_reload


def discard_snapshots() -> None:
    """on_exit."""
    if _snapshot is not None:
        shutil.rmtree(_snapshot, ignore_errors=True)
