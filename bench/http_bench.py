"""HTTP benchmarks under gunicorn with the project's gunicorn.conf.py: against a do-nothing app (2),
batch against single requests (3), metrics on against off (4)."""

from __future__ import annotations

import contextlib
import os
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench import MODEL_FILE
from bench.load import Generator, Load, python_generator
from bench.metrics_cost import in_subprocess
from bench.profiles import model_document, random_profiles
from bench.report import Result
from bench.rounds import alternate, median, ratio
from bench.servers import Gunicorn, start


@dataclass(frozen=True)
class Bodies:
    singles: Path  # one profile a line: /assess requests, in turn
    batch: Path  # one line: {"profiles": [all of them]}
    null_answer: Path  # a real /assess answer of median size, for the do-nothing app
    count: int


def prepare(app: Any, scratch: Path, count: int) -> Bodies:
    from service.views.assessments import assess_document

    profiles = random_profiles(model_document(MODEL_FILE), count, seed=3)
    loaded = app.extensions["models"].get(None)
    with app.test_request_context("/assess", method="POST"):
        answers = sorted((orjson.dumps(assess_document(loaded, p).body("en")) for p in profiles), key=len)
    bodies = Bodies(scratch / "singles.jsonl", scratch / "batch.jsonl", scratch / "null-answer.json", count)
    bodies.singles.write_bytes(b"\n".join(orjson.dumps(p) for p in profiles) + b"\n")
    bodies.batch.write_bytes(orjson.dumps({"profiles": profiles}) + b"\n")
    bodies.null_answer.write_bytes(answers[len(answers) // 2])
    return bodies


@dataclass(frozen=True)
class Front:
    """Where the load is sent: gunicorn itself, or nginx in front of it (the production file, scripts/proxy.py)."""

    url: str
    server: Gunicorn

    @property
    def app(self) -> str:
        return self.server.app

    def log_tail(self) -> str:
        return self.server.log_tail()


@contextlib.contextmanager
def front_of(server: Gunicorn, proxy: bool) -> Iterator[Front]:
    if not proxy:
        yield Front(server.url, server)
        return
    from tests.support.proxy import nginx_in_front

    with nginx_in_front(server) as url:
        yield Front(url, server)


def _rate(generator: Generator, server: Gunicorn | Front, path: str, body: Path, seconds: float,
          per_request: int = 1, log: list[Load] | None = None) -> Callable[[], float]:
    def measure() -> float:
        load = generator.run(server.url + path, body, seconds)
        if load.failures:
            raise RuntimeError(f"{server.app} {path}: {load.failures} failed requests "
                               f"(non-2xx or socket errors) in {load.requests}; log:\n{server.log_tail()}")
        if load.requests == 0:
            raise RuntimeError(f"{server.app} {path}: no request answered in {seconds} s")
        if log is not None:
            log.append(load)
        return load.per_second * per_request

    return measure


def servers_against_baselines(generator: Generator, bodies: Bodies, workers: int, scratch: Path, rounds: int,
                              seconds: float, warmup: float) -> list[Result]:
    """2: the service ÷ a do-nothing app; 4: the service ÷ itself with metrics recording off; and, as a control
    showing the noise floor, the service ÷ a second identical service. One alternation of all four."""
    names = {"service": "service.wsgi:app", "null": "bench.null_app:app", "metrics off": "bench.metrics_off:app",
             "service copy": "service.wsgi:app"}
    started: dict[str, Gunicorn] = {}
    try:
        started["service"] = start(names["service"], workers, scratch)
        started["null"] = start(names["null"], workers, scratch, {"BENCH_NULL_BODY": str(bodies.null_answer)})
        started["metrics off"] = start(names["metrics off"], workers, scratch)
        started["service copy"] = start(names["service copy"], workers, scratch)
        for server in started.values():
            _rate(generator, server, "/assess", bodies.singles, warmup)()
        rates = alternate(rounds, {name: _rate(generator, server, "/assess", bodies.singles, seconds)
                                   for name, server in started.items()})
    finally:
        for server in started.values():
            server.stop()
    for name, values in rates.items():
        print(f"  {name:<12} /assess: median {median(values):8.1f} requests/s  (rounds: "
              f"{', '.join(f'{v:.0f}' for v in values)})")
    against_null = ratio(rates["service"], rates["null"])
    metrics_cost = ratio(rates["service"], rates["metrics off"])
    control = ratio(rates["service"], rates["service copy"])
    recording = in_subprocess()
    cpu_per_request = (os.cpu_count() or 1) / median(rates["service"])
    print(f"  metrics recording, measured alone: {recording * 1e6:.1f} µs a request = "
          f"{recording / cpu_per_request:.1%} of the service's CPU time a request ({cpu_per_request * 1e6:.0f} µs)")
    details = {name: {"median_rps": median(v), "rounds_rps": v} for name, v in rates.items()}
    details["null_answer_bytes"] = bodies.null_answer.stat().st_size
    return [
        Result("2", "HTTP: /assess requests/s, service ÷ do-nothing Flask app (same gunicorn config)", against_null,
               f"{against_null:.2f}", ">= 0.85", against_null >= 0.85, details),
        Result("4", "HTTP: /assess requests/s, metrics on ÷ metrics recording off", metrics_cost,
               f"{metrics_cost:.3f}", ">= 0.95", metrics_cost >= 0.95, details),
        Result("4b", "metrics recording alone (multiprocess mode, in-process) ÷ CPU time of one /assess request",
               recording / cpu_per_request, f"{recording / cpu_per_request:.1%} ({recording * 1e6:.1f} µs)",
               "info", None, {"recording_us": recording * 1e6, "cpu_per_request_us": cpu_per_request * 1e6}),
        Result("A/A", "control: the service ÷ an identical second service (the noise floor; 1.00 ideally)",
               control, f"{control:.3f}", "info", None),
    ]


def batch_against_single(generator: Generator, bodies: Bodies, workers: int, scratch: Path, rounds: int,
                         seconds: float, batch_seconds: float, warmup: float, proxy: bool = True) -> list[Result]:
    """3: profiles/s through POST /assess/batch ÷ requests/s through POST /assess, on one server.

    Through nginx in front of gunicorn, as production runs it (`proxy`), or gunicorn alone.
    """
    # A few large requests (a batch of 1000 takes a tenth of a second of CPU or more): the Python client counting
    # the work done in a window several request-times long. 8 connections, each request a new one, so that every
    # sync worker has a batch to take whenever it is free.
    batches = python_generator(connections=8, warmup=1.5, keep_alive=False)
    with start("service.wsgi:app", workers, scratch) as server, front_of(server, proxy) as front:
        status, answer = server.raw("POST", "/assess/batch", bodies.batch.read_bytes(), timeout=120)
        document = orjson.loads(answer) if status == 200 else {}
        results = document.get("results", [])
        if status != 200 or len(results) != bodies.count or any(r.get("status") != 200 for r in results):
            raise RuntimeError(f"POST /assess/batch misbehaves: status {status}, {len(results)} results for "
                               f"{bodies.count} valid profiles, counts {document.get('counts')}: {answer[:300]!r}")
        _rate(generator, front, "/assess", bodies.singles, warmup)()
        rates = alternate(rounds, {
            "single": _rate(generator, front, "/assess", bodies.singles, seconds),
            "batch": _rate(batches, front, "/assess/batch", bodies.batch, batch_seconds, per_request=bodies.count),
        })
    where = "nginx in front of gunicorn" if proxy else "gunicorn alone"
    print(f"  ({where})")
    print(f"  /assess        : median {median(rates['single']):8.1f} requests/s  ({generator.name})")
    print(f"  /assess/batch  : median {median(rates['batch']):8.1f} profiles/s  ({bodies.count} a request, "
          f"{batches.name}, spread {min(rates['batch']):.0f}..{max(rates['batch']):.0f})")
    gain = ratio(rates["batch"], rates["single"])
    details = {"proxy": proxy, "single_rps": rates["single"], "batch_profiles_per_s": rates["batch"],
               "batch_size": bodies.count,
               "batch_answer_bytes": len(answer), "single_median": statistics.median(rates["single"]),
               "batch_median": statistics.median(rates["batch"])}
    return [Result("3", f"HTTP ({where}): profiles/s via /assess/batch ({bodies.count} a request) ÷ requests/s "
                        "via /assess",
                   gain, f"{gain:.2f}x", ">= 8x", gain >= 8, details)]
