"""Fixtures of the page tests: the app over the assessed railway campaign (``scenario``) for the report pages and
the access matrix. The app over the town's campaign (``site``) and its ``visitor`` are in ``tests/conftest.py``."""

from __future__ import annotations

import pytest

from tests.support.actions import BASE_URL
from webapp import create_app, wiring_of
from workflow.clock import FixedClock


@pytest.fixture
def report_site(db_url, scenario, tmp_path):  # type: ignore[no-untyped-def]
    """The app over ``scenario``'s campaign, on the scenario's clock."""
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "CLOCK": scenario.clock,
            "SECRET_KEY": "test",
            "BASE_URL": BASE_URL,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "LOGIN_CLOCK": FixedClock(scenario.clock.now()),
        }
    )
    yield app
    wiring_of(app).engine.dispose()
