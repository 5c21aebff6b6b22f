"""The shipped model files and reference profiles, random valid profiles, and folders of models to change for a
test; the benchmarks use them too."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent.parent
MODEL_FILE = ROOT / "service" / "models" / "sales-strategy-v1.json"
REFERENCE_PROFILES_FILE = ROOT / "tests" / "data" / "reference-profiles.json"
REFERENCE_PROFILES = json.loads(REFERENCE_PROFILES_FILE.read_text())


def model_document() -> dict[str, Any]:
    """The shipped model file, parsed, to change for a test."""
    return json.loads(MODEL_FILE.read_text())


def model_folder(folder: Path, **documents: dict[str, Any]) -> Path:
    """A folder for STRATEGY_MODEL_DIR: each document as NAME.json, beside the shipped seed article."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "seed").symlink_to(MODEL_FILE.parent / "seed")
    for name, document in documents.items():
        (folder / f"{name}.json").write_text(json.dumps(document))
    return folder


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
