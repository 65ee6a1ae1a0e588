"""The advance's confirmation carries the phase it was made for: sent twice (a double click, a
reload, two coordinators at once), it moves the campaign one phase, even into a phase with no
required work that a second advance would have left at once, and the second post is told the
campaign has moved on."""

from __future__ import annotations

import re

import pytest

from tests.support.actions import OPERATOR
from tests.support.web import finish_the_phase, text
from webapp import wiring_of
from workflow.audit import trail
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import advance_campaign
from workflow.models import Campaign


@pytest.fixture
def db_url(sqlite_url):
    """The pages are the same on either database (the engine's test races both)."""
    return sqlite_url


def test_the_same_confirmation_posted_twice_moves_the_campaign_one_phase(site, visitor):
    office = visitor("office@example.org")
    office.post("/language", {"language": "en"})
    finish_the_phase(site)
    with wiring_of(site).transaction() as session:
        advance_campaign(
            session,
            site.campaign_id,
            by=OPERATOR,
            clock=wiring_of(site).clock,
            calendar=WorkingCalendar(),
        )
    # the patrol plans: next comes the inspection phase, with no required work
    finish_the_phase(site)
    page = office.page(f"/campaigns/{site.campaign_id}/advance")
    form = re.search(r'<input type="hidden" name="from" value="([^"]+)">', page)
    assert form is not None and form.group(1) == "implementation"

    first = office.post(f"/campaigns/{site.campaign_id}/advance", {"from": form.group(1)})
    second = office.post(f"/campaigns/{site.campaign_id}/advance", {"from": form.group(1)})

    assert (first.status_code, second.status_code) == (302, 302)
    shown = text(office.page(f"/campaigns/{site.campaign_id}"))
    assert "Already advanced to 检查验收阶段." in shown
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.get(Campaign, site.campaign_id).state == "inspection", "not closed"
        advances = [e for e in trail(session, site.campaign_id, "campaign") if e.event == "advance"]
    assert len(advances) == 2, "mobilization → implementation, then implementation → inspection"
