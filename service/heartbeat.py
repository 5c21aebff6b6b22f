"""A long answer keeps its gunicorn worker alive.

A `sync` worker tells the master it is alive only between requests, so a stream that runs past the
worker timeout would be killed mid-answer. gunicorn.conf.py's `pre_request` hands each request the
worker's `notify`; the stream calls `beat()` between chunks. A sync worker serves one request at a
time, so one per process is all there is. Outside gunicorn (tests, the command) it does nothing.
"""

from __future__ import annotations

from collections.abc import Callable

_notify: Callable[[], None] | None = None


def attach(notify: Callable[[], None]) -> None:
    global _notify
    _notify = notify


def beat() -> None:
    if _notify is not None:
        _notify()
