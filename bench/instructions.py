"""`python -m bench.instructions`: instructions a batch item costs against a single /assess request, counted by
valgrind's callgrind, which counts the same whatever else the machine is doing (bench/README.md).

Both go through the app's test client, in-process (no gunicorn, no nginx: what benchmark 3 adds to both sides is
left out), with the garbage collection a worker has. Each side is one process under callgrind doing its work
after a warm-up, less one doing only the warm-up: what is left is the work alone. About three minutes.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson

from bench import MODEL_FILE, ROOT
from bench.profiles import model_document, random_profiles

BATCH, SINGLES = 1000, 300


def work(kind: str, repeats: int) -> None:
    """In the process callgrind watches: a warm-up, then `repeats` batches of BATCH, or `repeats` × SINGLES singles."""
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    from service.app import create_app

    app = create_app()
    logging.disable(logging.CRITICAL)  # the decision log's thread would count at random
    profiles = random_profiles(model_document(MODEL_FILE), BATCH, seed=5)
    client = app.test_client()
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)  # as gunicorn.conf.py sets it in a worker
    batch = orjson.dumps({"profiles": profiles})
    singles = [orjson.dumps(profile) for profile in profiles[:SINGLES]]

    def post(path: str, body: bytes) -> None:
        answer = client.post(path, data=body, content_type="application/json")
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code}")

    for _ in range(1 + repeats):  # the first is the warm-up
        if kind == "batch":
            post("/assess/batch", batch)
        else:
            for body in singles:
                post("/assess", body)


def counted(kind: str, repeats: int, scratch: Path) -> int:
    """Instructions of a process doing `repeats` of `kind` (callgrind's total)."""
    out = scratch / f"{kind}.{repeats}.out"
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-m", "bench.instructions",
         "--work", kind, str(repeats)],
        cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "0"}, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", run.stderr)
    if found is None:
        raise RuntimeError(f"callgrind said no total: {run.stderr[-500:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("--work", nargs=2, metavar=("KIND", "REPEATS"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.work:
        work(arguments.work[0], int(arguments.work[1]))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian's package valgrind)")
    runs = {("batch", 0): 0, ("batch", 2): 0, ("single", 0): 0, ("single", 1): 0}
    with tempfile.TemporaryDirectory() as scratch, ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        futures = {key: pool.submit(counted, *key, Path(scratch)) for key in runs}
        runs = {key: future.result() for key, future in futures.items()}
    item = (runs["batch", 2] - runs["batch", 0]) / (2 * BATCH)
    single = (runs["single", 1] - runs["single", 0]) / SINGLES
    print(f"a batch item ({BATCH} a batch): {item:,.0f} instructions")
    print(f"a single /assess request:       {single:,.0f} instructions")
    print(f"single ÷ batch item:            {single / item:.2f}x")


if __name__ == "__main__":
    main()
