"""Fixtures of the engine's tests: the town's organisation and the railway definition (``tests/support/texts.py``)."""

from __future__ import annotations

import pytest

from tests.support.texts import RAILWAY, TOWN
from workflow.definitions.reader import parse_definition
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation


@pytest.fixture
def town(sessions) -> None:  # type: ignore[no-untyped-def]
    """``TOWN`` imported: a town, three villages and their heads."""
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN, "town.yaml"))


@pytest.fixture
def railway():  # type: ignore[no-untyped-def]
    """``RAILWAY``, parsed: start it with ``tests.support.actions.start``."""
    return parse_definition(RAILWAY, "railway.yaml")
