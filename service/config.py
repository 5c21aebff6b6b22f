"""Settings and their defaults; each can be set as an environment variable `STRATEGY_<NAME>`."""

from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    # folder of model files (*.json); every one is loaded and validated at start
    "MODEL_DIR": str(Path(__file__).parent / "models"),
    # the model that answers when a request names none: "id@version", or "" for the newest
    "DEFAULT_MODEL": "",
    # largest request body accepted, in bytes (413 above it, however the body is framed): that of POST /assess/batch,
    # whose 1,000 profiles are ~0.7 MB (~1.2 MB with every character escaped)
    "MAX_BODY_BYTES": 2 * 1024 * 1024,
    # that of POST /assess, whose one profile is a few hundred bytes
    "MAX_PROFILE_BYTES": 16 * 1024,
    # most JSON values (containers, items, members) in one body (400 above it): 1,000 full profiles are ~31,000
    "MAX_JSON_VALUES": 50_000,
    # deepest JSON nesting accepted (400 above it)
    "MAX_JSON_DEPTH": 32,
    # most profiles in one POST /assess/batch (413 above it)
    "MAX_BATCH": 1000,
    # POST /assess/stream and the score command: the longest row (413 for that row alone), and how long a stream
    # waits for a client that neither sends nor reads before it gives up (behind nginx, nginx cuts it off at 60 s)
    "MAX_ROW_BYTES": 16 * 1024,
    "STREAM_IDLE_SECONDS": 30,
    # ... and how many rows they assess together at most, the most they hold at once: a batch's 1,000 by default
    # (the first chunks are shorter: rows.chunks); fewer for less memory, at some cost a row
    "STREAM_CHUNK_ROWS": 1000,
    # API keys (comma-separated) and/or a file of them (one per line); when any is set, the API needs one
    "API_KEYS": "",
    "API_KEYS_FILE": "",
    # when set, GET /metrics needs it as a bearer token
    "METRICS_TOKEN": "",
    # whether the decision log carries the whole profile (off: only its external_id)
    "LOG_PROFILES": False,
}
SECRET_SETTINGS = ("API_KEYS", "METRICS_TOKEN")
