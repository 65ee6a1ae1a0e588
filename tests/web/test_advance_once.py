"""The advance button carries the phase its page showed: clicked twice (or by two coordinators at
once), it moves the campaign one phase, and the second click is told the campaign has moved on."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.support.actions import OPERATOR
from tests.support.web import text
from webapp import wiring_of
from workflow.audit import trail
from workflow.campaigns.tasks import complete_task
from workflow.machines import TASK_SETTLED_STATES
from workflow.models import Campaign, Task


@pytest.fixture
def db_url(sqlite_url):
    """The pages are the same on either database (the engine's test races both)."""
    return sqlite_url


def test_the_same_advance_posted_twice_moves_the_campaign_one_phase(site, visitor):
    with wiring_of(site).transaction() as session:
        for task in session.scalars(
            select(Task).where(
                Task.campaign_id == site.campaign_id,
                Task.required.is_(True),
                Task.state.not_in(TASK_SETTLED_STATES),
            )
        ):
            complete_task(session, task.id, by=OPERATOR, clock=wiring_of(site).clock)
    office = visitor("office@example.org")
    page = office.page(f"/campaigns/{site.campaign_id}")
    form = re.search(r'<input type="hidden" name="from" value="([^"]+)">', page)
    assert form is not None and form.group(1) == "mobilization"

    first = office.post(f"/campaigns/{site.campaign_id}/advance", {"from": form.group(1)})
    second = office.post(f"/campaigns/{site.campaign_id}/advance", {"from": form.group(1)})

    assert (first.status_code, second.status_code) == (302, 302)
    shown = text(office.page(f"/campaigns/{site.campaign_id}"))
    assert f"campaign {site.campaign_id} is no longer in phase 'mobilization'" in shown
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.get(Campaign, site.campaign_id).state == "implementation"
        advances = [e for e in trail(session, site.campaign_id, "campaign") if e.event == "advance"]
    assert len(advances) == 1
