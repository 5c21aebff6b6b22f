"""Fixtures every tier shares; the helpers behind them live in tests/support/.

Each test's tier is its folder (core, app, server, browser, delivery), given to it as a marker, so
`scripts/test core` (or `-m core`) runs one tier alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import create_app
from service.scoring import Model, load_model
from tests.support.browser import browser, page  # noqa: F401  (fixtures: registered here once, so one Chromium serves all)
from tests.support.models import MODEL_FILE
from tests.support.servers import Server, start_gunicorn, stop_gunicorn
from tests.support.spec import SpecCheckingClient

TIERS = ("core", "app", "server", "browser", "delivery")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(item.fspath).parent.name
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture
def app() -> Flask:
    app = create_app({"TESTING": True})
    app.test_client_class = SpecCheckingClient
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def model() -> Model:
    return load_model(MODEL_FILE)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One gunicorn with three workers, shared by the tests that only send requests."""
    server = start_gunicorn(tmp_path_factory.mktemp("gunicorn"), workers=3)
    yield server
    stop_gunicorn(server)
