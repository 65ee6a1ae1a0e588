"""A real browser: Debian's chromium (driven by Playwright, never `playwright install`), and signing in on its page."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from tests.support.actions import OPERATOR
from tests.support.texts import RAILWAY_WITH_ESCALATION, TOWN_WITH_CROSSING
from tests.support.web import PASSWORD, give_everyone_a_password
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import FixedClock
from workflow.definitions.reader import parse_definition
from workflow.models import Campaign
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation

CHROMIUM = Path("/usr/bin/chromium")


def sign_in(page, base: str, email: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Sign ``email`` in through the sign-in form of the app at ``base``."""
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()


def town_railway_campaign(
    session: Session, started: FixedClock, calendar: WorkingCalendar
) -> Campaign:
    """What a browser test's server opens on: the town (``TOWN_WITH_CROSSING``), everyone signing in
    with ``PASSWORD``, and its railway campaign (``RAILWAY_WITH_ESCALATION``) started 2026-05-01."""
    import_organisation(session, parse_organisation(TOWN_WITH_CROSSING, "org.yaml"))
    give_everyone_a_password(session)
    return start_campaign(
        session,
        parse_definition(RAILWAY_WITH_ESCALATION, "def.yaml"),
        "town",
        date(2026, 5, 1),
        by=OPERATOR,
        clock=started,
        calendar=calendar,
    )
