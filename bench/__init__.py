"""The benchmark suite: `python -m bench` (see README, "Performance"). Not part of the test suite."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL_FILE = ROOT / "service" / "models" / "sales-strategy-v1.json"
REFERENCE_PROFILES_FILE = ROOT / "tests" / "data" / "reference-profiles.json"
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "latest.json"
