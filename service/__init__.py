"""The strategy-scoring service.

`create_app` is imported lazily so that `service.scoring`, the plain-Python core, can be used
without Flask or Marshmallow installed or imported.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from service.app import create_app

        return create_app
    raise AttributeError(f"module 'service' has no attribute {name!r}")
