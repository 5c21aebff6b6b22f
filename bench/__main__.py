"""`python -m bench [--quick]`: every benchmark of issue 4 in one run, as ratios against a baseline measured
in the same run (alternating round by round), then a summary table, also written to bench/results/latest.json."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import RESULTS_FILE
from bench.load import Generator, find_wrk
from bench.report import Result, machine, table, write_json

# many short rounds rather than a few long ones: on a shared machine, neighbours' load comes and goes
DEFAULT = {"profiles": 500, "rounds": 30, "verify": 500, "growth_rounds": 3, "http_rounds": 10, "seconds": 2.0,
           "warmup": 2.0, "batch": 1000, "batch_rounds": 5, "batch_seconds": 6.0, "restarts": 200, "scrapes": 21}
QUICK = {"profiles": 200, "rounds": 10, "verify": 200, "growth_rounds": 2, "http_rounds": 3, "seconds": 1.0,
         "warmup": 1.0, "batch": 1000, "batch_rounds": 2, "batch_seconds": 3.0, "restarts": 40, "scrapes": 11}
BENCHMARKS = ("decision", "http", "batch", "growth", "restarts")


def arguments() -> argparse.Namespace:
    from bench.servers import default_workers

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="about a minute instead of about four")
    parser.add_argument("--workers", type=int, default=default_workers(),
                        help="gunicorn workers for every server (default: what gunicorn.conf.py picks)")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS), help="run only these")
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator: wrk (installed with apt-get when missing and root), or plain Python")
    parser.add_argument("--no-proxy", action="store_true",
                        help="send benchmark 3's load to gunicorn itself, not through nginx in front of it")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="where the JSON goes")
    return parser.parse_args()


def generator_for(choice: str) -> Generator:
    if choice == "python":
        return Generator(None)
    wrk = find_wrk(install=True)
    if wrk:
        return Generator(wrk)
    if choice == "wrk":
        sys.exit("wrk is not installed and could not be (that needs root and Debian's apt-get): "
                 "install it (`apt-get install wrk`) or run with --load python")
    print("NOTE: wrk is not installed and could not be (not root, or no apt-get): using the slower Python load "
          "generator, which shares the CPU with the servers; the HTTP ratios are less sharp.", flush=True)
    return Generator(None)


def clean_environment() -> None:
    """Before anything imports the service or prometheus_client."""
    # in-process metrics must not land in a multiprocess folder someone else set; servers get their own
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # the service as shipped, whatever the shell sets (API keys would turn every request into a 401)
    for name in [name for name in os.environ if name.startswith("STRATEGY_")]:
        del os.environ[name]


def quiet_logs(path: Path) -> None:
    """The app logs every decision on stdout: in-process, write those lines to a file, as the servers do."""
    stream = path.open("a", encoding="utf-8")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stdout, sys.stderr):
            handler.setStream(stream)


def main() -> None:
    clean_environment()
    args = arguments()
    settings = dict(QUICK if args.quick else DEFAULT) | {"workers": args.workers, "quick": args.quick,
                                                         "proxy": not args.no_proxy}
    try:
        import zen  # noqa: F401
    except ImportError:
        sys.exit("zen-engine is missing: install the bench extra, `.venv/bin/pip install -e '.[bench]'`")
    from service.app import create_app

    generator = generator_for(args.load) if {"http", "batch", "restarts"} & set(args.only) else None
    settings["load_generator"] = generator.name if generator else None
    info = machine()
    print(f"machine: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, {info['platform']}")
    print(f"settings: {settings}\n", flush=True)

    results: list[Result] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        scratch = Path(folder)
        app = create_app()
        quiet_logs(scratch / "in-process.log")
        bodies = None
        if {"http", "batch", "restarts"} & set(args.only):
            from bench.http_bench import prepare

            bodies = prepare(app, scratch, settings["batch"])

        def run(title: str, work: Callable[[], list[Result]]) -> None:
            print(f"[{time.monotonic() - started:5.0f} s] {title}", flush=True)
            try:
                results.extend(work())
            except Exception as error:  # one broken benchmark must not hide the others' figures
                traceback.print_exc()
                results.append(Result("!", title, None, "ERROR", "-", False, {"error": str(error)}))

        if "decision" in args.only:
            from bench.inprocess import decision_cost

            run("1. one assessment in-process against GoRules Zen",
                lambda: decision_cost(app, settings["profiles"], settings["rounds"], settings["verify"]))
        if "http" in args.only:
            from bench.http_bench import servers_against_baselines

            run(f"2 & 4. HTTP /assess under gunicorn, {args.workers} workers, {generator.name}: service, "
                "do-nothing app, metrics off, a second service (control), alternated",
                lambda: servers_against_baselines(generator, bodies, args.workers, scratch, settings["http_rounds"],
                                                  settings["seconds"], settings["warmup"]))
        if "batch" in args.only:
            from bench.http_bench import batch_against_single

            run("3. HTTP /assess/batch against /assess, alternated",
                lambda: batch_against_single(generator, bodies, args.workers, scratch, settings["batch_rounds"],
                                             settings["seconds"], settings["batch_seconds"], settings["warmup"],
                                             proxy=not args.no_proxy))
        if "growth" in args.only:
            from bench.inprocess import batch_growth

            run("5. growth: batches of 10, 100, 1000 in-process",
                lambda: batch_growth(app, (10, 100, 1000), settings["growth_rounds"]))
        if "restarts" in args.only:
            from bench.restarts import metrics_after_restarts

            run(f"5. growth: /metrics after {settings['restarts']} worker restarts",
                lambda: metrics_after_restarts(bodies.singles, args.workers, scratch, settings["restarts"],
                                               settings["scrapes"]))
    settings["seconds_taken"] = round(time.monotonic() - started)
    print(f"\nSummary ({settings['seconds_taken']} s; ratios against baselines measured in the same run)\n")
    print(table(results))
    write_json(args.output, results, settings)
    print(f"\nwritten to {args.output}")


main()
