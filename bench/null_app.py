"""A do-nothing Flask app: POST /assess answers a precomputed body, the baseline of benchmark 2.

`gunicorn -c gunicorn.conf.py bench.null_app:app`. The body is read from the file $BENCH_NULL_BODY (the
runner writes there a real /assess answer of typical size); without it, one is computed at import.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response, request


def _body() -> bytes:
    path = os.environ.get("BENCH_NULL_BODY")
    if path:
        return Path(path).read_bytes()
    import orjson

    from bench import MODEL_FILE
    from bench.profiles import reference_profiles
    from service.schemas.responses import assessment_body
    from service.scoring import assess, load_model

    profile = reference_profiles()[0]
    return orjson.dumps(assessment_body(assess(load_model(MODEL_FILE), profile), profile, "en"))


BODY = _body()
app = Flask(__name__)


@app.post("/assess")
def assess() -> Response:
    request.get_data()  # read the request, as the service must
    return Response(BODY, mimetype="application/json", headers={"Content-Language": "en"})


@app.get("/readyz")
def readyz() -> Response:
    return Response(b'{"status":"ready"}', mimetype="application/json")
