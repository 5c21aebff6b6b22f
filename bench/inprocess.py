"""In-process benchmarks: one assessment against GoRules Zen (1), and batch growth in time and memory (5a)."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import orjson

from bench import MODEL_FILE
from bench.profiles import model_document, random_profiles, reference_profiles
from bench.report import Result
from bench.rounds import alternate, median, ratio
from bench.zen_graph import disagreements, load_decision, load_engine


def _per_item(work: Callable[[Any], object], items: list[Any]) -> Callable[[], float]:
    def measure() -> float:
        started = time.perf_counter()
        for item in items:
            work(item)
        return (time.perf_counter() - started) / len(items)

    return measure


def decision_cost(app: Any, count: int, rounds: int, verify_count: int) -> list[Result]:
    """Seconds per decision: our full pipeline, our core, and Zen on a graph generated from the model file."""
    import service.scoring as scoring
    from service.identifiers import assessment_ids
    from service.schemas.responses import assessment_bodies
    from service.scoring.bulk import explain_many
    from service.views.assessments import assess_document, valid_profile

    loaded = app.extensions["models"].get(None)
    model = loaded.model
    decision = load_decision(MODEL_FILE)
    document = model_document(MODEL_FILE)
    checked = reference_profiles() + random_profiles(document, verify_count, seed=11)
    wrong = disagreements(model, decision, checked)
    if wrong:
        raise RuntimeError(f"Zen and our core disagree on {len(wrong)} of {len(checked)} profiles, "
                           f"so no timing would mean anything; first: {wrong[0]}")
    print(f"  Zen agrees with our core on all {len(checked)} profiles (index and coverage to 1e-9, recommendation)")

    profiles = random_profiles(document, count, seed=7)
    engine = load_engine(MODEL_FILE)
    requests = [{"key": "scorecard", "context": p} for p in profiles]
    for answer, profile in zip(engine.evaluate_batch(requests), profiles, strict=True):
        one, each = answer["data"]["result"], decision.evaluate(profile)["result"]
        # evaluate_batch converts floats on another path: the last bits may differ
        if one["recommendation"] != each["recommendation"] or abs(one["index"] - each["index"]) > 1e-9:
            raise RuntimeError(f"Zen's evaluate_batch and evaluate disagree on {profile}: {one} {each}")

    def zen_batch() -> float:
        started = time.perf_counter()
        engine.evaluate_batch(requests)
        return (time.perf_counter() - started) / len(requests)

    what_if = {id(p): [{"key": "scorecard", "context": changed} for changed in single_changes(document, p)]
               for p in profiles}
    check_counterfactuals(model, engine, profiles[:50], what_if)

    def zen_counterfactuals(profile: dict[str, Any]) -> None:
        """What a Zen caller does to find the single changes that turn the answer: evaluate every one."""
        answers = engine.evaluate_batch([{"key": "scorecard", "context": profile}, *what_if[id(profile)]])
        first = answers[0]["data"]["result"]["recommendation"]
        [a for a in answers[1:] if a["data"]["result"]["recommendation"] != first]

    def many_at_once() -> float:
        """The batch's way: every profile validated, then assessed together (explain_many), each answer written."""
        started = time.perf_counter()
        valid = [valid_profile(loaded, p) for p in profiles]
        for body in assessment_bodies(explain_many(model, valid), valid, "en", assessment_ids(len(valid))):
            orjson.dumps(body)
        return (time.perf_counter() - started) / len(profiles)

    measures = {
        "ours: full pipeline": _per_item(lambda p: orjson.dumps(assess_document(loaded, p).body("en")), profiles),
        "ours: many at once": many_at_once,
        "ours: assess()": _per_item(lambda p: scoring.assess(model, p), profiles),
        "zen: evaluate()": _per_item(decision.evaluate, profiles),
        "zen: evaluate_batch()": zen_batch,
        "zen: what-if changes": _per_item(zen_counterfactuals, profiles),
    }
    scorecard = getattr(scoring, "Scorecard", None)
    if scorecard is not None:  # the bare arithmetic: the same work Zen's graph does
        measures["ours: Scorecard.of()"] = _per_item(lambda p: scorecard.of(model, p), profiles)
    with app.test_request_context("/assess", method="POST"):
        alternate(1, measures)  # warm-up
        times = alternate(rounds, measures)
    zen = times["zen: evaluate()"]
    for name, values in times.items():
        print(f"  {name:<23} median {median(values) * 1e6:9.1f} µs per decision")
    full = ratio(zen, times["ours: full pipeline"])
    core = ratio(zen, times["ours: assess()"])
    details = {name: {"median_us": median(v) * 1e6, "rounds_us": [x * 1e6 for x in v]} for name, v in times.items()}
    details |= {"profiles": count, "rounds": rounds, "verified_profiles": len(checked),
                "response_bytes_median": median([len(orjson.dumps(assess_document(loaded, p).body("en")))
                                                 for p in profiles[:100]])}
    results = [
        Result("1", "in-process: Zen time ÷ ours per decision (validation + scoring + explanations + orjson)", full,
               f"{full:.2f}x", ">= 10x", full >= 10, details),
        Result("1b", "in-process: Zen time ÷ our core assess() (scoring + explanations, no validation/render)",
               core, f"{core:.2f}x", "info", None),
    ]
    if scorecard is not None:
        bare = ratio(zen, times["ours: Scorecard.of()"])
        results.append(Result("1c", "in-process: Zen time ÷ our bare arithmetic (Scorecard.of: what Zen computes)",
                              bare, f"{bare:.2f}x", "info", None))
    batch = ratio(times["zen: evaluate_batch()"], times["ours: full pipeline"])
    results.append(Result("1d", "in-process: Zen evaluate_batch() time ÷ ours (full pipeline): Zen's best case",
                          batch, f"{batch:.2f}x", "info", None))
    changes = ratio(times["zen: what-if changes"], times["ours: full pipeline"])
    count = median([len(what_if[id(p)]) for p in profiles])
    results.append(Result("1e", f"in-process: Zen finding the single changes that turn the answer by evaluating "
                                f"~{count:.0f} changed profiles (evaluate_batch) ÷ ours (full pipeline)",
                          changes, f"{changes:.2f}x", "info", None))
    # the same whole answers made as the batch, the stream and the score command make them
    many = times["ours: many at once"]
    results.append(Result("1f", "in-process: Zen evaluate() time (the index only) ÷ ours, many profiles at once "
                                "(validation + explain_many + every explanation + orjson)",
                          ratio(zen, many), f"{ratio(zen, many):.2f}x", "higher than 1", None))
    results.append(Result("1g", f"in-process: Zen finding the single changes (~{count:.0f} evaluations) ÷ ours, many "
                                "profiles at once", ratio(times["zen: what-if changes"], many),
                          f"{ratio(times['zen: what-if changes'], many):.2f}x", "higher than 1e", None))
    return results


def single_changes(document: dict[str, Any], profile: dict[str, Any]) -> list[dict[str, Any]]:
    """The profile with one criterion changed (or answered): every other option; a number's minimum, centre, maximum."""
    changed = []
    for criterion in document["criteria"]:
        name = criterion["name"]
        if "number" in criterion:
            scale = criterion["number"]
            values = [scale["minimum"], scale["centre"], scale["maximum"]]
        else:
            values = [option["value"] for option in criterion["options"]]
        changed += [{**profile, name: value} for value in values if value != profile.get(name)]
    return changed


def check_counterfactuals(model: Any, engine: Any, profiles: list[dict[str, Any]],
                          what_if: dict[int, list[dict[str, Any]]]) -> int:
    """Zen's what-if answers must be the ones our counterfactuals give, or the comparison would mean nothing.

    Returns how many counterfactuals were compared (those to a number's grid value have no what-if twin; nor those
    whose index lies within a rounding error of a decision boundary, where Zen's decimal arithmetic and our binary
    floats may round to either side: the index Σ w·l / Σ w of exactly 0.2 is 0.19999999999999998 in floats).
    """
    import service.scoring as scoring

    compared = 0
    for profile in profiles:
        theirs = {}
        for request, answer in zip(what_if[id(profile)], engine.evaluate_batch(what_if[id(profile)]), strict=True):
            name = next(key for key, value in request["context"].items() if profile.get(key) != value)
            theirs[name, request["context"][name]] = answer["data"]["result"]["recommendation"]
        for counterfactual in scoring.assess(model, profile).counterfactuals:
            key = (counterfactual.change.criterion.name, counterfactual.change.after)
            if key not in theirs or abs(abs(counterfactual.index) - model.threshold) < 1e-9:
                continue
            compared += 1
            if theirs[key] != counterfactual.recommendation:
                raise RuntimeError(f"Zen and our counterfactuals disagree on {profile} changed at {key}: "
                                   f"{theirs[key]} against {counterfactual.recommendation}")
    return compared


def batch_growth(app: Any, sizes: tuple[int, ...], rounds: int) -> list[Result]:
    """Time and peak traced memory per item of POST /assess/batch, in-process (Flask test client)."""
    profiles = random_profiles(model_document(MODEL_FILE), max(sizes), seed=5)
    client = app.test_client()
    bodies = {n: orjson.dumps({"profiles": profiles[:n]}) for n in sizes}
    items = max(sizes)

    def post(n: int) -> None:
        response = client.post("/assess/batch", data=bodies[n], content_type="application/json")
        if response.status_code != 200:
            raise RuntimeError(f"POST /assess/batch with {n} profiles answered {response.status_code}: "
                               f"{response.get_data()[:500]!r}")
        response.close()

    def measure(n: int) -> Callable[[], float]:
        def run() -> float:
            started = time.perf_counter()
            for _ in range(items // n):  # the same number of items for every size
                post(n)
            return (time.perf_counter() - started) / items

        return run

    post(min(sizes))
    times = alternate(rounds, {str(n): measure(n) for n in sizes})
    peaks = {}
    for n in sizes:
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            post(n)
            peaks[n] = (tracemalloc.get_traced_memory()[1] - base) / n
        finally:
            tracemalloc.stop()
    for n in sizes:
        print(f"  batch of {n:>5}: {median(times[str(n)]) * 1e6:8.1f} µs and {peaks[n] / 1024:8.1f} KiB peak per item")
    small, large = min(sizes), max(sizes)
    time_growth = median(times[str(large)]) / median(times[str(small)])
    memory_growth = peaks[large] / peaks[small]
    details = {str(n): {"us_per_item": median(times[str(n)]) * 1e6, "peak_kib_per_item": peaks[n] / 1024,
                        "rounds_us": [x * 1e6 for x in times[str(n)]]} for n in sizes}
    return [
        Result("5a", f"growth: time per item, batch of {large} ÷ batch of {small} (in-process)", time_growth,
               f"{time_growth:.2f}", "<= 1.25 (flat)", time_growth <= 1.25, details),
        Result("5b", f"growth: peak memory per item, batch of {large} ÷ batch of {small} (tracemalloc)",
               memory_growth, f"{memory_growth:.2f}", "<= 1.25 (flat)", memory_growth <= 1.25),
    ]
