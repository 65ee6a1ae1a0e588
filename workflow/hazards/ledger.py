"""The hazard register (隐患台账) of a campaign, filtered as coordinators read it, and the choices
its forms offer.

One record per hazard: where, grade, who is responsible, deadline (and the
original one), state, and whether it is overdue (derived, never stored).
Only the campaign's leading group sees the whole register.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from workflow.access import Need, campaign_for, campaign_unit_ids
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.clock import Clock, local_date
from workflow.errors import InvalidInput
from workflow.hazards.rectifications import SEVERITIES
from workflow.machines import RECTIFICATION_STATES
from workflow.models import Person, Rectification, RoleBinding, Site, Unit

REGISTER_LIMIT = 500


@dataclass(frozen=True)
class RegisterFilter:
    unit: str | None = None  # unit code
    site: str | None = None  # site code
    severity: str | None = None
    state: str | None = None
    overdue: bool = False


@dataclass(frozen=True)
class RegisterEntry:
    id: int
    description: str
    severity: str
    state: str
    unit: str | None
    site: str | None
    location: str | None
    responsible: str
    responsible_email: str
    deadline: date
    original_deadline: date
    overdue: bool
    working_days_overdue: int
    registered_at: datetime
    submission_note: str | None
    temporary_measures: str | None
    # counted over a year without the official calendar: shown as 「预计」
    deadline_estimated: bool = False


@dataclass(frozen=True)
class Choice:
    code: str
    name: str


@dataclass(frozen=True)
class RegisterChoices:
    units: list[Choice]
    sites: list[Choice]
    people: list[Choice]  # code = e-mail


def hazard_register(
    session: Session,
    campaign_id: int,
    filters: RegisterFilter,
    *,
    by: Actor,
    clock: Clock,
    calendar: WorkingCalendar,
) -> list[RegisterEntry]:
    """The campaign's hazards matching ``filters``, soonest deadline first; for its leading group
    only."""
    campaign = campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
    if filters.severity and filters.severity not in SEVERITIES:
        raise InvalidInput(f"severity must be one of {', '.join(SEVERITIES)}")
    if filters.state and filters.state not in RECTIFICATION_STATES:
        raise InvalidInput(f"state must be one of {', '.join(RECTIFICATION_STATES)}")
    now = clock.now()
    today = local_date(now, campaign.timezone)
    responsible = aliased(Person)
    query = (
        select(Rectification, Unit.name, Site.name, responsible.name, responsible.email)
        .join(responsible, responsible.id == Rectification.responsible_id)
        .outerjoin(Unit, Unit.id == Rectification.unit_id)
        .outerjoin(Site, Site.id == Rectification.site_id)
        .where(Rectification.campaign_id == campaign.id)
    )
    if filters.unit:
        query = query.where(Unit.code == filters.unit)
    if filters.site:
        query = query.where(Site.code == filters.site)
    if filters.severity:
        query = query.where(Rectification.severity == filters.severity)
    if filters.state:
        query = query.where(Rectification.state == filters.state)
    if filters.overdue:
        query = query.where(Rectification.state == "open", Rectification.deadline_at <= now)
    query = query.order_by(Rectification.deadline_at, Rectification.id).limit(REGISTER_LIMIT)
    entries = []
    for rectification, unit, site, name, email in session.execute(query):
        overdue = rectification.state == "open" and now >= rectification.deadline_at
        entries.append(
            RegisterEntry(
                id=rectification.id,
                description=rectification.description,
                severity=rectification.severity,
                state=rectification.state,
                unit=unit,
                site=site,
                location=rectification.location,
                responsible=name,
                responsible_email=email,
                deadline=rectification.deadline,
                original_deadline=rectification.original_deadline,
                overdue=overdue,
                working_days_overdue=max(
                    calendar.working_days_between(rectification.deadline, today), 0
                )
                if overdue
                else 0,
                registered_at=rectification.registered_at,
                submission_note=rectification.submission_note,
                temporary_measures=rectification.temporary_measures,
                deadline_estimated=rectification.deadline_estimated,
            )
        )
    return entries


def register_choices(session: Session, campaign_id: int, *, by: Actor) -> RegisterChoices:
    """The units, key sites and people of a campaign, for the register's filters and forms."""
    campaign = campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
    # the people offered are exactly those assignable_person accepts
    unit_ids = campaign_unit_ids(session, campaign)
    units = [
        Choice(code, name)
        for code, name in session.execute(
            select(Unit.code, Unit.name).where(Unit.id.in_(unit_ids)).order_by(Unit.name, Unit.code)
        )
    ]
    sites = [
        Choice(code, name)
        for code, name in session.execute(
            select(Site.code, Site.name)
            .where(Site.unit_id.in_(unit_ids))
            .order_by(Site.name, Site.code)
        )
    ]
    people = [
        Choice(email, name)
        for email, name in session.execute(
            select(Person.email, Person.name)
            .where(Person.active.is_(True), Person.unit_id.in_(unit_ids))
            .order_by(Person.name, Person.email)
        )
    ]
    bound = {
        email
        for (email,) in session.execute(
            select(Person.email)
            .join(RoleBinding, RoleBinding.person_id == Person.id)
            .where(RoleBinding.campaign_id == campaign.id)
        )
    }
    # people bound to the campaign first: they are whom work usually goes to
    people.sort(key=lambda choice: choice.code not in bound)
    return RegisterChoices(units, sites, people)
