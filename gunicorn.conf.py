"""gunicorn settings: `gunicorn -c gunicorn.conf.py service.wsgi:app`. Each can be overridden on the command line.

gunicorn is meant to run behind a buffering reverse proxy (nginx: deploy/k8s/nginx.conf, `scripts/serve`), which
holds slow and idle clients so that a worker only ever sees a whole request arriving at loopback speed. That is what
the `sync` worker class is designed for: one request at a time, the connection closed after it, and a busy worker
never accepts, so every request goes to a free worker (kept-alive connections pinned to one worker are what made
a `gthread` worker do nearly all the work while the others idled). Exposed directly, without the proxy, a worker
is held by every slow client: docs/operations.md says what that risks.
"""

import gc
import multiprocessing
import os
import shutil
import tempfile

# Prometheus multiprocess mode: the folder must be set before any worker imports prometheus_client,
# wiped at start (stale files would count dead processes), and dead workers marked in child_exit.
_DEFAULT_METRICS_DIR = os.path.join("/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),
                                    f"strategy-metrics-{os.getpid()}")
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", _DEFAULT_METRICS_DIR)

bind = os.environ.get("STRATEGY_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("STRATEGY_WORKER_TIMEOUT", 30))
graceful_timeout = int(os.environ.get("STRATEGY_GRACEFUL_TIMEOUT", 30))
# memory a worst-case request made Python keep is given back: each worker is replaced after about this many
# requests, the jitter spreading the restarts so that the workers never all restart at once
max_requests = int(os.environ.get("STRATEGY_MAX_REQUESTS", 10000))
max_requests_jitter = max_requests // 10
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# the control socket (gunicorn 24+) is not used; off, it needs no writable home and never clashes
control_socket_disable = True
accesslog = "-"
errorlog = "-"
# every log line is one JSON object on stdout: access, errors, and the decision log; written by a thread of
# each process from a bounded queue, so a stalled reader of stdout drops (and counts) lines, never a request
logger_class = "service.logs.JsonAccessLogger"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "service.logs.JsonFormatter"}},
    "handlers": {"stdout": {"()": "service.logs.NonBlockingHandler", "formatter": "json",
                            "capacity": int(os.environ.get("STRATEGY_LOG_BUFFER_LINES", 10_000))}},
    "root": {"level": "INFO", "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
    },
}


def on_starting(server):  # noqa: ANN001, ANN201
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)
    # The master imports the code once, so a worker boots in milliseconds (only create_app() is left to do):
    # a HUP's new workers are ready as the old ones stop. New code therefore needs a new master, not a HUP.
    import service.app  # noqa: F401
    from service import metrics, model_reload

    model_reload.at_start(server.log)  # a broken model folder stops gunicorn here, before any worker
    metrics.start_counts()


def on_reload(server):  # noqa: ANN001, ANN201
    from service import model_reload

    model_reload.at_reload(server.log)  # a broken model folder is refused: workers get the last good copy
    model_reload.hand_over(server)


def pre_fork(server, worker):  # noqa: ANN001, ANN201
    # what the master holds (the imported code) is kept out of the workers' garbage collections: a collection
    # walking it would copy every page of it into the worker (copy-on-write), which made a new worker take
    # 0.3-0.8 s to boot
    gc.freeze()


def pre_request(worker, req):  # noqa: ANN001, ANN201
    from service import heartbeat

    heartbeat.attach(worker.notify)  # a stream beats between chunks, so it outlives the worker timeout


def post_fork(server, worker):  # noqa: ANN001, ANN201
    from service import model_reload

    model_reload.point_worker_at_snapshot()


def post_worker_init(worker):  # noqa: ANN001, ANN201
    # the app, its models and modules live as long as the worker: keep them out of every garbage collection,
    # which a batch's thousands of new objects would otherwise make walk them again and again
    gc.collect()
    gc.freeze()
    # a collection every 50,000 new objects, not 700: a batch of 1,000 answers makes some 300,000, which at the
    # default cost a quarter of its time in collections (bench/README.md); what a request leaves are few cycles
    gc.set_threshold(50_000, 20, 10)
    from service import model_reload

    model_reload.retire_a_predecessor(worker)  # after a HUP, an old worker stops only once this one is ready


def child_exit(server, worker):  # noqa: ANN001, ANN201
    from service.metrics import archive_dead_worker

    archive_dead_worker(worker.pid)
    from service import model_reload

    model_reload.predecessor_gone(server, worker.pid)


def on_exit(server):  # noqa: ANN001, ANN201
    from service import model_reload

    model_reload.discard_snapshots()
    # the folder named after this master's pid is no one else's: leave nothing behind in /dev/shm
    if os.environ["PROMETHEUS_MULTIPROC_DIR"] == _DEFAULT_METRICS_DIR:
        shutil.rmtree(_DEFAULT_METRICS_DIR, ignore_errors=True)
