"""`python -m bench.profile`: where one in-process assessment spends its time, phase by phase, then cProfile's
top functions. For finding what to speed up; the figures of issue 4 come from `python -m bench`."""

from __future__ import annotations

import cProfile
import importlib
import io
import os
import pstats
import uuid
from collections.abc import Callable
from typing import Any

os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

import orjson

from bench import MODEL_FILE
from bench.inprocess import _per_item
from bench.profiles import model_document, random_profiles
from bench.rounds import alternate, median


def phases(loaded: Any, profiles: list[dict[str, Any]]) -> dict[str, Callable[[], float]]:
    """One measure per phase of assess_document, each over the same profiles (inputs prepared beforehand)."""
    from service.schemas.responses import assessment_body
    from service.scoring import assess, render
    from service.views.assessments import assess_document

    model = loaded.model
    valid = [loaded.profile_schema.load(p) for p in profiles]
    assessments = [assess(model, p) for p in valid]
    bodies = [assessment_body(a, p, "en") for a, p in zip(assessments, valid, strict=True)]
    measures = {
        "whole: orjson.dumps(assess_document(...))": _per_item(
            lambda p: orjson.dumps(assess_document(loaded, p).body("en")), profiles),
        "validation: profile_schema.load": _per_item(loaded.profile_schema.load, profiles),
        "assess() (all analysis)": _per_item(lambda p: assess(model, p), valid),
        "render(..., 'en')": _per_item(lambda a: render(a, "en"), assessments),
        "orjson.dumps": _per_item(orjson.dumps, bodies),
        "uuid.uuid4": _per_item(lambda _: str(uuid.uuid4()), profiles),
    }
    try:  # the parts of assess(), where the core has them
        analysis = importlib.import_module("service.scoring.explanations")
        scorecard = importlib.import_module("service.scoring.arithmetic").Scorecard
        cards = [scorecard.of(model, p) for p in valid]
        measures["  Scorecard.of"] = _per_item(lambda p: scorecard.of(model, p), valid)
        for name in ("counterfactuals", "plans", "margin", "weight_sensitivity", "missing_information"):
            if hasattr(analysis, name):
                measures[f"  analysis.{name}"] = _per_item(getattr(analysis, name), cards)
    except (ImportError, AttributeError):
        pass
    return measures


def main() -> None:
    from service.app import create_app
    from service.views.assessments import assess_document

    app = create_app()
    loaded = app.extensions["models"].get(None)
    profiles = random_profiles(model_document(MODEL_FILE), 300, seed=9)
    with app.test_request_context("/assess", method="POST"):
        measures = phases(loaded, profiles)
        times = alternate(15, measures)
        whole = median(next(iter(times.values())))
        print(f"{'phase':<44} {'µs':>8} {'share':>7}")
        for name, values in times.items():
            print(f"{name:<44} {median(values) * 1e6:8.1f} {median(values) / whole:7.1%}")
        sizes = [len(orjson.dumps(assess_document(loaded, p).body("en"))) for p in profiles]
        print(f"\nresponse body: median {median(sizes)} bytes")
        profiler = cProfile.Profile()
        profiler.enable()
        for p in profiles * 3:
            orjson.dumps(assess_document(loaded, p).body("en"))
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print(out.getvalue())


if __name__ == "__main__":
    main()
