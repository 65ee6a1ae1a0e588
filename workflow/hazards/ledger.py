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
from sqlalchemy.orm import Session

from workflow.access import Need, campaign_for, campaign_unit_ids
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.clock import Clock, local_date
from workflow.models import Person, Rectification, RoleBinding, Site, Unit
from workflow.worklists.filters import WorkFilter
from workflow.worklists.items import Scope, window_for, work_page


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


@dataclass(frozen=True)
class RegisterPage:
    """One page of a campaign's register as filtered, with the count for the whole filter."""

    entries: list[RegisterEntry]
    count: int
    next_after: str | None
    terms: list[str]  # the searched words, to highlight
    sort: str
    levels: dict[int, int]  # rectification id → highest escalation level reached
    count_capped: bool = False  # a search's count stopped past limits.SEARCH_RANK_LIMIT


def register_page(
    session: Session,
    campaign_id: int,
    work_filter: WorkFilter,
    *,
    after: str | None = None,
    by: Actor,
    clock: Clock,
    calendar: WorkingCalendar,
    limit: int | None = None,
) -> RegisterPage:
    """A page of the campaign's hazards matching ``work_filter``, soonest deadline first unless it
    says otherwise; for its leading group only."""
    campaign = campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
    now = clock.now()
    today = local_date(now, campaign.timezone)
    window = window_for(now, campaign.timezone, calendar, work_filter.within)
    found = work_page(
        session,
        Scope("register", campaign_id=campaign.id),
        work_filter,
        window,
        after=after,
        limit=limit,
        levels=True,
    )
    holders = {row.holder_id for row in found.rows}
    people = {
        person_id: (name, email)
        for person_id, name, email in session.execute(
            select(Person.id, Person.name, Person.email).where(Person.id.in_(holders))
        )
    }
    # the one text the lists' rows leave out (a task has none)
    measures = dict(
        session.execute(
            select(Rectification.id, Rectification.temporary_measures).where(
                Rectification.id.in_([row.id for row in found.rows])
            )
        ).all()
    )
    entries = []
    for row in found.rows:
        overdue = row.state == "open" and row.due_at is not None and now >= row.due_at
        name, email = people[row.holder_id]
        entries.append(
            RegisterEntry(
                id=row.id,
                description=row.title,
                severity=row.severity or "minor",
                state=row.state,
                unit=row.unit,
                site=row.site,
                location=row.location,
                responsible=name,
                responsible_email=email,
                deadline=row.due_on,  # type: ignore[arg-type]
                original_deadline=row.original_due,  # type: ignore[arg-type]
                overdue=overdue,
                working_days_overdue=max(calendar.working_days_between(row.due_on, today), 0)  # type: ignore[arg-type]
                if overdue
                else 0,
                registered_at=row.registered_at,
                submission_note=row.note,
                temporary_measures=measures[row.id],
                deadline_estimated=bool(row.due_estimated),
            )
        )
    levels = {item_id: level for (_kind, item_id), level in found.levels.items()}
    return RegisterPage(
        entries,
        found.count,
        found.next_after,
        found.terms,
        found.sort,
        levels,
        found.count_capped,
    )


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
