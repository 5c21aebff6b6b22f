"""`python -m bench.bulk [--quick]`: the figures of issue 14 for the stream and the `score` command.

- the stream: peak RSS of the one gunicorn worker (one thread) serving POST /assess/stream at 10,000 and at
  200,000 rows (VmHWM from /proc, reset before each run through /proc/PID/clear_refs; the highest of the rounds
  for each size), and the stream's profiles/s
  against /assess/batch's on the same worker, alternated in the same run;
- the command: `flask --app service score` over 100,000 and 1,000,000 generated profiles (CSV, in a temporary
  folder), time and peak memory of each run (wait4's ru_maxrss), and the per-item ratios.

Ratios are what to read, as everywhere in bench/: the machine is shared. Results go to bench/results/bulk.json.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.profiles import model_document, random_profiles
from bench.report import Result, machine, table, write_json
from bench.servers import Gunicorn, start

RESULTS = Path(__file__).resolve().parent / "results" / "bulk.json"
NDJSON = "application/x-ndjson"


def _lines(profiles: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps({k: v for k, v in p.items() if v is not None}).encode() + b"\n" for p in profiles]


def stream_rows(server: Gunicorn, lines: list[bytes], count: int, query: str = "") -> tuple[int, int, float]:
    """Send `count` rows (cycling over `lines`) chunked from a thread while reading the answer: (lines, bytes, s)."""
    sock = socket.create_connection((server.host, server.port), timeout=120)
    sock.sendall((f"POST /assess/stream{query} HTTP/1.1\r\nHost: {server.host}\r\nContent-Type: {NDJSON}\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n").encode())

    def send() -> None:
        piece = 200
        for first in range(0, count, piece):
            data = b"".join(lines[(first + n) % len(lines)] for n in range(min(piece, count - first)))
            sock.sendall(b"%x\r\n%s\r\n" % (len(data), data))
        sock.sendall(b"0\r\n\r\n")

    started = time.perf_counter()
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    response = http.client.HTTPResponse(sock)
    response.begin()
    if response.status != 200:
        raise RuntimeError(f"the stream answered {response.status}: {response.read()[:300]!r}")
    answered = size = 0
    while block := response.read(1 << 16):
        answered += block.count(b"\n")
        size += len(block)
    seconds = time.perf_counter() - started
    sender.join(timeout=30)
    sock.close()
    if answered != count:
        raise RuntimeError(f"sent {count} rows, got {answered} lines back")
    return answered, size, seconds


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/PID/status")


def _reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # 5: reset the peak RSS to the current RSS (Linux 4.0+)


def stream_memory(scratch: Path, sizes: tuple[int, int], rounds: int) -> list[Result]:
    document = model_document()
    lines = _lines(random_profiles(document, 1000, seed=14))
    batch = json.dumps({"profiles": random_profiles(document, 1000, seed=14)}).encode()
    small, large = sizes
    peaks: dict[int, list[int]] = {small: [], large: []}
    rates: dict[str, list[float]] = {"stream": [], "batch": []}
    # one worker (gunicorn's sync worker: one thread), otherwise as configured
    with start("service.wsgi:app", 1, scratch) as server:
        (pid,) = server.worker_pids()
        stream_rows(server, lines, small)  # warm: every module imported, every text made, the heap at its size
        for _ in range(rounds):
            for size in (small, large):
                _reset_peak(pid)
                answered, size_bytes, seconds = stream_rows(server, lines, size)
                peaks[size].append(_peak_rss_kib(pid))
                print(f"  stream {size:>7} rows: {seconds:6.1f} s, {answered / seconds:7.0f} rows/s, "
                      f"{size_bytes / 2**20:7.0f} MiB out, worker peak RSS {peaks[size][-1] / 1024:.1f} MiB",
                      flush=True)
    # throughput on a fresh worker (a batch's large bodies leave the heap larger, which the peaks above must not
    # see): the stream and the batch over the same 10,000 profiles, alternated
    with start("service.wsgi:app", 1, scratch) as server:
        stream_rows(server, lines, 2000)
        for _ in range(rounds + 1):
            started = time.perf_counter()
            for _ in range(10):
                status, _ = server.raw("POST", "/assess/batch", batch, timeout=120)
                assert status == 200
            rates["batch"].append(10_000 / (time.perf_counter() - started))
            answered, _, seconds = stream_rows(server, lines, 10_000)
            rates["stream"].append(answered / seconds)
            print(f"  10,000 profiles: batch {rates['batch'][-1]:.0f}/s, stream {rates['stream'][-1]:.0f}/s",
                  flush=True)
    peak_small, peak_large = max(peaks[small]), max(peaks[large])
    memory = peak_large / peak_small
    speed = sorted(rates["stream"])[len(rates["stream"]) // 2] / sorted(rates["batch"])[len(rates["batch"]) // 2]
    return [
        Result("14a", f"stream: worker peak RSS, {large:,} rows ÷ {small:,} rows", memory,
               f"{memory:.3f} ({peak_large / 1024:.1f} ÷ {peak_small / 1024:.1f} MiB)", "≤ 1.10", memory <= 1.10,
               {"peaks_kib": {str(k): v for k, v in peaks.items()}}),
        Result("14b", "stream profiles/s ÷ batch profiles/s (1 worker, 10,000 profiles each, median)", speed,
               f"{speed:.2f}", "≥ 0.80", speed >= 0.80, {"rates": rates}),
    ]


def _write_csv(path: Path, count: int) -> None:
    document = model_document()
    columns = ["external_id", *(c["name"] for c in document["criteria"])]
    pool = random_profiles(document, 1000, seed=15)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        for n in range(count):
            profile = pool[n % len(pool)]
            writer.writerow([f"crm-{n}", *("" if profile.get(c) is None else profile[c] for c in columns[1:])])


def run_command(source: Path, target: Path) -> tuple[float, int, str]:
    """`flask --app service score SOURCE -o TARGET`: (seconds, peak RSS in KiB, its summary line)."""
    flask = Path(sys.executable).with_name("flask")
    started = time.perf_counter()
    process = subprocess.Popen([str(flask), "--app", "service", "score", str(source), "-o", str(target)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={k: v for k, v in os.environ.items() if not k.startswith("STRATEGY_")})
    assert process.stderr is not None
    summary = process.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"score exited with {process.returncode}: {summary[-500:]}")
    return seconds, usage.ru_maxrss, summary.strip().splitlines()[0]


def command_figures(scratch: Path, sizes: tuple[int, int]) -> list[Result]:
    figures: dict[int, tuple[float, int]] = {}
    for size in sizes:
        source, target = scratch / f"profiles-{size}.csv", scratch / f"scored-{size}.csv"
        _write_csv(source, size)
        seconds, peak, summary = run_command(source, target)
        figures[size] = (seconds, peak)
        print(f"  score {size:>9,} rows: {seconds:6.1f} s ({seconds / size * 1e6:.0f} µs a row), peak RSS "
              f"{peak / 1024:.1f} MiB, {target.stat().st_size / 2**20:.0f} MiB written; {summary}", flush=True)
        source.unlink()
        target.unlink()
    small, large = sizes
    (t_small, m_small), (t_large, m_large) = figures[small], figures[large]
    per_item = (t_large / large) / (t_small / small)
    memory = m_large / m_small
    return [
        Result("14c", f"score command, {large:,} profiles: time and peak memory", t_large,
               f"{t_large:.0f} s ({t_large / large * 1e6:.0f} µs a row), {m_large / 1024:.0f} MiB", "printed", None,
               {"seconds": t_large, "peak_kib": m_large}),
        Result("14d", f"score command: time per row, {large:,} ÷ {small:,}", per_item, f"{per_item:.2f}", "flat",
               per_item <= 1.2),
        Result("14e", f"score command: peak memory, {large:,} ÷ {small:,}", memory,
               f"{memory:.3f} ({m_large / 1024:.1f} ÷ {m_small / 1024:.1f} MiB)", "flat", memory <= 1.10),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bulk", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the rows, one round")
    parser.add_argument("--only", nargs="+", choices=("stream", "command"), default=["stream", "command"])
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    for name in [name for name in os.environ if name.startswith("STRATEGY_")]:
        del os.environ[name]
    scale = 10 if args.quick else 1
    info = machine()
    print(f"machine: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}", flush=True)
    results: list[Result] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as folder:
        scratch = Path(folder)
        if "stream" in args.only:
            print("14a-b. POST /assess/stream, one worker", flush=True)
            results += stream_memory(scratch, (10_000 // scale, 200_000 // scale), 1 if args.quick else 2)
        if "command" in args.only:
            print("14c-e. flask --app service score", flush=True)
            results += command_figures(scratch, (100_000 // scale, 1_000_000 // scale))
    print(f"\nSummary ({time.monotonic() - started:.0f} s)\n")
    print(table(results))
    write_json(args.output, results, {"quick": args.quick})
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
