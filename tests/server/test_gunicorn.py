"""The real server: gunicorn with several workers, its metrics summed across them, and its refusal of a broken model."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from service import create_app
from service.metrics import METHODS
from tests.support.metrics import sample
from tests.support.models import REFERENCE_PROFILES, ROOT, model_document, model_folder
from tests.support.servers import Server, refused_start, start_gunicorn, stop_gunicorn


def test_n_assessments_across_workers_are_n_in_metrics(server: Server) -> None:
    before = server.get("/metrics").text
    sent: dict[str, int] = {}
    for _ in range(20):
        for case in REFERENCE_PROFILES.values():
            assert server.post("/assess", json=case["profile"]).status_code == 200
            sent[case["expected"]] = sent.get(case["expected"], 0) + 1
    after = server.get("/metrics").text
    for recommendation, count in sent.items():
        delta = (sample(after, "strategy_assessments_total", recommendation=recommendation)
                 - sample(before, "strategy_assessments_total", recommendation=recommendation))
        assert delta == count, recommendation
    requests_delta = (sample(after, "strategy_http_requests_total", route="/assess", method="POST", status="200")
                      - sample(before, "strategy_http_requests_total", route="/assess", method="POST", status="200"))
    assert requests_delta == 80
    assert len(set(server.worker_pids())) == 3


def test_no_label_holds_a_value_the_caller_chose(server: Server) -> None:
    for i in range(30):
        server.get(f"/random-{i}")
        server.request("PURGE" if i % 2 else "GET", f"/assess/{i}")
        server.post("/assess", json={**REFERENCE_PROFILES["minimal_required_only_b2b"]["profile"], f"x{i}": 1})
    metrics = server.get("/metrics").text
    routes = set(re.findall(r'route="([^"]*)"', metrics))
    templates = {rule.rule for rule in create_app().url_map.iter_rules()}
    assert routes <= templates | {"<unmatched>"}, routes - templates
    assert set(re.findall(r'method="([^"]*)"', metrics)) <= METHODS | {"OTHER"}
    assert 'field="x1"' not in metrics and sample(metrics, "strategy_validation_failures_total",
                                                  field="<unknown>") >= 30
    assert sample(metrics, "strategy_http_requests_total", route="<unmatched>", method="GET", status="404") >= 15
    assert sample(metrics, "strategy_model_info", model="sales-strategy", version="2.0.0", default="true") == 1


def test_latency_is_a_histogram_by_route_and_status(server: Server) -> None:
    server.get("/healthz")
    metrics = server.get("/metrics").text
    assert sample(metrics, "strategy_http_request_duration_seconds_count", route="/healthz", method="GET",
                  status="200") >= 1
    assert 'strategy_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"' in metrics


def test_a_broken_model_file_stops_the_service_with_a_clear_message(tmp_path: Path) -> None:
    document = model_document()
    document["criteria"][3]["weight"] = 0
    result = refused_start(model_folder(tmp_path / "models", broken=document), tmp_path)
    assert result.returncode != 0
    assert "broken.json: /criteria/3/weight: must be greater than 0" in result.stdout + result.stderr


def test_the_core_imports_neither_flask_nor_marshmallow() -> None:
    code = ("import sys, service.scoring; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'marshmallow', 'werkzeug')))")
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "[]"


def test_restarted_workers_leave_their_counts_and_no_files_behind(tmp_path: Path) -> None:
    server = start_gunicorn(tmp_path, workers=2)
    folder = tmp_path / f"metrics-{server.url.rsplit(':', 1)[1]}"
    profile = REFERENCE_PROFILES["minimal_required_only_b2b"]["profile"]
    sent = 0
    try:
        for _ in range(8):
            for _ in range(5):
                assert server.post("/assess", json=profile).status_code == 200
                sent += 1
            victim = server.worker_pids()[0]
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and (victim in server.worker_pids() or len(server.worker_pids()) < 2):
                time.sleep(0.05)
        metrics = server.get("/metrics").text
        files = sorted(path.name for path in folder.glob("*.db"))
    finally:
        stop_gunicorn(server)
    assert sample(metrics, "strategy_assessments_total", recommendation="relational") == sent
    assert sample(metrics, "strategy_http_requests_total", route="/assess", method="POST", status="200") == sent
    # an archive per kind, plus the files of the two live workers and of the one that answered the scrape
    assert {"counter_archive.db", "histogram_archive.db"} <= set(files)
    assert len(files) <= 2 + 3 * 3, files
