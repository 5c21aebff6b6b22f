"""The shipped model files and reference profiles, and folders of models to change for a test."""

from __future__ import annotations

import json
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
