"""Fixtures every tier shares; the helpers behind them live in tests/support/.

Each test's tier is its folder (core, app, server, browser, delivery), given to it as a marker, so
`scripts/test core` (or `-m core`) runs one tier alone.

Hypothesis profiles are registered here, once, for every tier: `ci` (the default, what CI runs) and `dev`, a
quick one for the inner loop: `HYPOTHESIS_PROFILE=dev scripts/test core`. A test's own @settings still win.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

from service import create_app
from service.scoring import Model, load_model
from tests.support.browser import browser, page  # noqa: F401  (fixtures: registered here once, so one Chromium serves all)
from tests.support.models import MODEL_FILE
from tests.support.servers import Server, start_gunicorn, stop_gunicorn
from tests.support.spec import SpecCheckingClient

TIERS = ("core", "app", "server", "browser", "delivery")

settings.register_profile("ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(item.fspath).parent.name
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture
def make_app() -> Callable[..., Flask]:
    """create_app with these settings (TESTING unless told otherwise), its test client checking every answer
    against openapi.yaml: for a test that needs settings of its own."""

    def make(**settings: Any) -> Flask:
        app = create_app({"TESTING": True, **settings})
        app.test_client_class = SpecCheckingClient
        return app

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def production_client(make_app: Callable[..., Flask]) -> FlaskClient:
    """Not TESTING, so an unexpected exception becomes the 500 a caller would get rather than a traceback."""
    return make_app(TESTING=False).test_client()


@pytest.fixture(scope="session")
def model() -> Model:
    return load_model(MODEL_FILE)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One gunicorn with three workers, shared by the tests that only send requests."""
    server = start_gunicorn(tmp_path_factory.mktemp("gunicorn"), workers=3)
    yield server
    stop_gunicorn(server)
