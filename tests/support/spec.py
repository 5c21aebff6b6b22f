"""Checks a response against openapi.yaml: a documented status, a documented media type, a body of the schema."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask.testing import FlaskClient
from openapi_schema_validator import OAS30Validator

OPENAPI_FILE = Path(__file__).parents[2] / "openapi.yaml"


@cache
def spec() -> dict[str, Any]:
    return yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))


def check_response(method: str, path: str, status: int, content_type: str, body: bytes) -> None:
    """Raise AssertionError when the response is not one openapi.yaml describes."""
    document = spec()
    schemas = document["components"]["schemas"]
    operation = document["paths"].get(path.split("?")[0], {}).get(method.lower())
    media_type = content_type.split(";")[0].strip()
    if operation is None:
        assert status in (404, 405), f"{method} {path} is not in openapi.yaml but answered {status}"
        assert media_type == "application/problem+json", f"{method} {path}: {status} as {media_type}"
        schema = schemas["Problem"]
    else:
        responses = operation["responses"]
        assert str(status) in responses, f"{method} {path} answered {status}, which openapi.yaml does not list"
        content = responses[str(status)].get("content", {})
        assert media_type in content, f"{method} {path} {status}: {media_type} is not among {list(content)}"
        schema = content[media_type]["schema"]
        if not media_type.endswith("json"):
            return
    # the components ride along so that "#/components/..." references resolve, recursive ones included
    root = {"allOf": [schema], "components": document["components"]}
    errors = sorted(OAS30Validator(root).iter_errors(json.loads(body)), key=str)
    assert not errors, f"{method} {path} {status} breaks openapi.yaml: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])


class SpecCheckingClient(FlaskClient):
    """A test client that fails the test on any response openapi.yaml does not describe."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        request = response.request
        check_response(request.method, request.path, response.status_code, response.content_type or "",
                       response.get_data())
        return response
