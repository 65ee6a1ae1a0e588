"""Fixtures of the API tests: the app over the assessed railway campaign (``scenario``), for the routes of the
report, incidents, letters and scores. The app over the town's campaign (``app``, ``as_person``) is in
``tests/conftest.py``."""

from __future__ import annotations

import pytest

from tests.support.actions import BASE_URL
from webapp import create_app, wiring_of


@pytest.fixture
def report_app(db_url, scenario):  # type: ignore[no-untyped-def]
    """The app over ``scenario``'s campaign, on the scenario's clock."""
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "CLOCK": scenario.clock,
            "TESTING": True,
            "SECRET_KEY": "test",
            "BASE_URL": BASE_URL,
        }
    )
    yield app
    wiring_of(app).engine.dispose()
