"""The benchmark suite: `python -m bench` (see bench/README.md). Not part of the test suite."""

from pathlib import Path

# the shipped models and profiles as the tests know them: one support package for both (tests/support/)
from tests.support.models import REFERENCE_PROFILES_FILE, ROOT

__all__ = ["MODEL_FILE", "REFERENCE_PROFILES_FILE", "RESULTS_FILE", "ROOT"]

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "latest.json"
# the model the service serves by default (the highest version): the profiles are drawn from it, Zen's graph made of it
MODEL_FILE = ROOT / "service" / "models" / "sales-strategy-v2.json"
