"""Real gunicorn servers on 127.0.0.1 for the benchmarks: the tests' own harness (tests/support/servers.py), in
its plain form (no spec check on the measured path), each with its own metrics folder in /dev/shm."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from tests.support import servers


def default_workers() -> int:
    """What gunicorn.conf.py picks when WEB_CONCURRENCY is unset."""
    return int(os.environ.get("WEB_CONCURRENCY", (os.cpu_count() or 1) * 2 + 1))


class Gunicorn(servers.Gunicorn):
    """The harness's Gunicorn, whose metrics folder (in /dev/shm, as in production) goes when it stops."""

    def stop(self) -> None:
        super().stop()
        if self.metrics_dir is not None:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)


def start(app: str, workers: int, scratch: Path, extra_env: dict[str, str] | None = None) -> Gunicorn:
    """`gunicorn -c gunicorn.conf.py APP --bind 127.0.0.1:PORT --workers N`, ready, until stop()."""
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    metrics_dir = Path(tempfile.mkdtemp(prefix="bench-metrics-", dir=shm))
    try:
        return servers.launch(Gunicorn, scratch, app=app, workers=workers, env=extra_env, metrics_dir=metrics_dir)
    except BaseException:
        shutil.rmtree(metrics_dir, ignore_errors=True)
        raise
