"""gunicorn settings: `gunicorn -c gunicorn.conf.py service.wsgi:app`. Each can be overridden on the command line."""

import gc
import multiprocessing
import os
import shutil
import tempfile

# Prometheus multiprocess mode: the folder must be set before any worker imports prometheus_client,
# wiped at start (stale files would count dead processes), and dead workers marked in child_exit.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                      os.path.join("/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),
                                   f"strategy-metrics-{os.getpid()}"))

bind = os.environ.get("STRATEGY_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("STRATEGY_THREADS", 2))
timeout = int(os.environ.get("STRATEGY_WORKER_TIMEOUT", 30))
graceful_timeout = int(os.environ.get("STRATEGY_GRACEFUL_TIMEOUT", 30))
keepalive = 5
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# the control socket (gunicorn 24+) is not used; off, it needs no writable home and never clashes
control_socket_disable = True
accesslog = "-"
errorlog = "-"
# every log line is one JSON object on stdout: access, errors, and the decision log
logger_class = "service.logs.JsonAccessLogger"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "service.logs.JsonFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
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


def post_worker_init(worker):  # noqa: ANN001, ANN201
    # the app, its models and modules live as long as the worker: keep them out of every garbage collection,
    # which a batch's thousands of new objects would otherwise make walk them again and again
    gc.collect()
    gc.freeze()


def child_exit(server, worker):  # noqa: ANN001, ANN201
    from service.metrics import archive_dead_worker

    archive_dead_worker(worker.pid)
