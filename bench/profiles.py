"""Profiles to benchmark with: the reference profiles, and random valid ones drawn from the model file."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from bench import MODEL_FILE, REFERENCE_PROFILES_FILE


def model_document(path: Path = MODEL_FILE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def reference_profiles(path: Path = REFERENCE_PROFILES_FILE) -> list[dict[str, Any]]:
    return [case["profile"] for case in json.loads(path.read_text(encoding="utf-8")).values()]


def random_profiles(document: dict[str, Any], count: int, seed: int = 4) -> list[dict[str, Any]]:
    """Valid profiles: every required criterion answered; optional ones answered, null or absent."""
    rng = random.Random(seed)
    profiles = []
    for i in range(count):
        profile: dict[str, Any] = {}
        for criterion in document["criteria"]:
            if not criterion["required"]:
                roll = rng.random()
                if roll < 0.25:
                    continue
                if roll < 0.35:
                    profile[criterion["name"]] = None
                    continue
            if "number" in criterion:
                scale = criterion["number"]
                profile[criterion["name"]] = rng.uniform(scale["minimum"], scale["maximum"])
            else:
                profile[criterion["name"]] = rng.choice(criterion["options"])["value"]
        if rng.random() < 0.5:
            profile["external_id"] = f"bench-{i}"
        if rng.random() < 0.3:
            profile["industry"] = "Benchmarking"
        profiles.append(profile)
    return profiles
