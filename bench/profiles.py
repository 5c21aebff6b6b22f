"""Profiles to benchmark with: the reference profiles, and random valid ones drawn from the model file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import MODEL_FILE, REFERENCE_PROFILES_FILE
from tests.support.models import random_profiles

__all__ = ["model_document", "random_profiles", "reference_profiles"]


def model_document(path: Path = MODEL_FILE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def reference_profiles(path: Path = REFERENCE_PROFILES_FILE) -> list[dict[str, Any]]:
    return [case["profile"] for case in json.loads(path.read_text(encoding="utf-8")).values()]
