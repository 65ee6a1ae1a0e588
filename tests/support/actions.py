"""Shared actions: the engine's use cases as the tests call them to set a campaign up (start, register, sweep).

Each call is its own transaction, as a request or a command would be.
"""

from __future__ import annotations

import os
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from webapp.mail import mailer_from_env
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import FixedClock
from workflow.escalation.sweep import run_sweep
from workflow.hazards.rectifications import HazardReport, register_hazard
from workflow.organisation.directory import person_by_email

OPERATOR = Actor.operator("cli:test")
BASE_URL = "http://pingan.test"


def start(
    sessions, definition, clock, calendar, starts=date(2026, 5, 1), unit="town", by=OPERATOR
) -> int:
    """Start ``definition`` (parsed) for ``unit`` on ``starts``; the campaign's id."""
    with sessions.begin() as session:
        return start_campaign(
            session, definition, unit, starts, by=by, clock=clock, calendar=calendar
        ).id


def register(
    sessions: sessionmaker[Session],
    campaign: int,
    calendar: WorkingCalendar,
    when: datetime,
    **fields: object,
) -> int:
    """A hazard registered by the operator at ``when``: by default 道口护栏损坏 at 3号道口."""
    fields.setdefault("description", "道口护栏损坏")
    fields.setdefault("site", "crossing-3")
    with sessions.begin() as session:
        return register_hazard(
            session,
            campaign,
            HazardReport(**fields),
            by=OPERATOR,
            clock=FixedClock(when),  # type: ignore[arg-type]
            calendar=calendar,
            base_url=BASE_URL,
        ).id


def sweep(sessions: sessionmaker[Session], when: datetime):  # type: ignore[no-untyped-def]
    """The scheduler's pass at ``when``, sending through the SMTP server of the environment (the ``smtp`` fixture)."""
    return run_sweep(
        sessions,
        clock=FixedClock(when),
        mailer=mailer_from_env(dict(os.environ)),
        base_url=BASE_URL,
    )


def actor(sessions: sessionmaker[Session], email: str) -> Actor:
    """The person with ``email``, as the actor of a move."""
    with sessions() as session:
        return Actor.person(person_by_email(session, email))


def person_id(sessions: sessionmaker[Session], email: str) -> int:
    with sessions() as session:
        return person_by_email(session, email).id
