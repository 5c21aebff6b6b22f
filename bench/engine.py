"""`python -m bench.engine`: the engine for many profiles against one profile at a time, in-process.

assess() on each of the same random profiles ÷ explain_many() on all of them together (the arrays the batch, the
stream and the command write their answers from), and ÷ assess_many() (the same made into Assessments, as the CSV
reads them), time per item, the sides alternated round by round and the median ratios printed (above 1: many at
once is faster). tests/core/test_bulk.py proves they give the same assessments.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from bench import ROOT
from bench.profiles import model_document, random_profiles
from bench.rounds import alternate, median, ratio
from service.scoring import assess, load_model
from service.scoring.bulk import assess_many, explain_many


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__)
    parser.add_argument("--model", default=str(ROOT / "service" / "models" / "sales-strategy-v2.json"))
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    path = Path(args.model)
    model = load_model(path)
    profiles = [{k: v for k, v in p.items() if v is not None}
                for p in random_profiles(model_document(path), args.profiles, seed=7)]

    def one_by_one() -> float:
        started = time.perf_counter()
        for profile in profiles:
            assess(model, profile)
        return (time.perf_counter() - started) / len(profiles)

    def together(engine: Callable[..., object]) -> Callable[[], float]:
        def measure() -> float:
            started = time.perf_counter()
            engine(model, profiles)
            return (time.perf_counter() - started) / len(profiles)
        return measure

    times = alternate(args.rounds, {"assess": one_by_one, "explain_many": together(explain_many),
                                    "assess_many": together(assess_many)})
    print(f"{model.key}, {len(profiles)} random profiles, {args.rounds} rounds")
    print(f"  assess, one by one:    {median(times['assess']) * 1e6:7.1f} µs per profile")
    for name in ("explain_many", "assess_many"):
        print(f"  {name + ', at once:':22s}{median(times[name]) * 1e6:7.1f} µs per profile"
              f"  (assess ÷ {name}: {ratio(times['assess'], times[name]):.2f}×)")


if __name__ == "__main__":
    main()
