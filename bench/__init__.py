"""The benchmark suite: `python -m bench` (see bench/README.md). Not part of the test suite."""

from pathlib import Path

# the shipped models and profiles as the tests know them: one support package for both (tests/support/)
from tests.support.models import MODEL_FILE, REFERENCE_PROFILES_FILE, ROOT

__all__ = ["MODEL_FILE", "REFERENCE_PROFILES_FILE", "RESULTS_FILE", "ROOT"]

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "latest.json"
