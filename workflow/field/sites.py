"""A key site's page (the address its QR code holds): who is responsible for it, its open
rectifications, its patrols and inspections, and the recent check-ins there; and the sites whose QR
codes a coordinator prints for a campaign.

Who may open a site is ``access.may_visit_site``; to anyone else it does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workflow.access import (
    Need,
    campaign_for,
    campaign_unit_ids,
    led_campaigns_covering,
    may_visit_site,
)
from workflow.audit import Actor
from workflow.campaigns.inspections import is_inspection
from workflow.clock import DEFAULT_TIMEZONE, local_date
from workflow.definitions.catalogue import stored_definition
from workflow.errors import NotFound
from workflow.field.visits import OccurrenceVisits, occurrence_visits
from workflow.machines import DRAFT
from workflow.models import (
    Campaign,
    EvidenceFile,
    Person,
    Rectification,
    Site,
    SiteVisit,
    Task,
    Unit,
)
from workflow.people import stand_ins

RECENT_VISITS = 20


@dataclass(frozen=True)
class VisitableSite:
    """A site the actor may open, with the people whose patrols the actor's check-in fulfils: the
    actor, and those the actor stands in for today."""

    site: Site
    people: frozenset[int]

    @property
    def id(self) -> int:
        return self.site.id


@dataclass(frozen=True)
class SiteHazard:
    id: int
    description: str
    severity: str
    state: str
    deadline: date
    overdue: bool
    responsible: str


@dataclass(frozen=True)
class SiteVisitRow:
    visit: SiteVisit
    person: str
    photos: list[EvidenceFile]


@dataclass(frozen=True)
class RegisterHere:
    """Where the actor registers a hazard found at the site: an open inspection of theirs (its
    page), or the register of a campaign they coordinate."""

    campaign_id: int
    campaign_title: str
    task_id: int | None


@dataclass(frozen=True)
class SitePage:
    site: Site
    unit: str
    responsible: Person | None
    hazards: list[SiteHazard]
    occurrences: list[OccurrenceVisits]
    visits: list[SiteVisitRow]
    register_here: list[RegisterHere]
    fulfils: int  # how many open patrols/inspections a check-in now would check off


def visitable_site(session: Session, site_id: int, by: Actor, now: datetime) -> VisitableSite:
    """The site, if the actor may open it and check in there; not found otherwise."""
    site = session.get(Site, site_id)
    absent: list[int] = []
    if site is not None and by.person_id is not None:
        absent = stand_ins.absent_for(session, by.person_id, local_date(now, DEFAULT_TIMEZONE))
    if site is None or not may_visit_site(session, site, by, absent):
        raise NotFound(f"no site {site_id}")
    people = frozenset(p for p in (by.person_id, *absent) if p is not None)
    return VisitableSite(site, people)


def site_page(session: Session, site_id: int, *, by: Actor, now: datetime) -> SitePage:
    """What a patrol, the keeper or the leading group sees at the site."""
    visitable = visitable_site(session, site_id, by, now)
    site = visitable.site
    unit = session.get(Unit, site.unit_id)
    responsible = session.get(Person, site.responsible_id) if site.responsible_id else None
    occurrences = occurrence_visits(session, now=now, site_id=site.id)
    return SitePage(
        site=site,
        unit=unit.name if unit else "",
        responsible=responsible,
        hazards=_open_hazards(session, site.id, now),
        occurrences=occurrences,
        visits=recent_visits(session, site.id),
        register_here=_register_here(session, site, by),
        fulfils=sum(
            1
            for o in occurrences
            if o.state == "open" and o.started and o.assignee_id in visitable.people
        ),
    )


def recent_visits(session: Session, site_id: int, limit: int = RECENT_VISITS) -> list[SiteVisitRow]:
    """The site's latest check-ins, newest first, each with who and its photos."""
    rows = session.execute(
        select(SiteVisit, Person.name)
        .join(Person, Person.id == SiteVisit.person_id)
        .where(SiteVisit.site_id == site_id)
        .order_by(SiteVisit.at.desc(), SiteVisit.id.desc())
        .limit(limit)
    ).all()
    ids = [visit.id for visit, _ in rows]
    photos: dict[int, list[EvidenceFile]] = {}
    if ids:
        for photo in session.scalars(
            select(EvidenceFile)
            .where(EvidenceFile.item_kind == "visit", EvidenceFile.item_id.in_(ids))
            .order_by(EvidenceFile.id)
        ):
            photos.setdefault(photo.item_id, []).append(photo)
    return [SiteVisitRow(visit, name, photos.get(visit.id, [])) for visit, name in rows]


def my_sites(session: Session, person_id: int) -> list[tuple[int, str, str]]:
    """The key sites a person keeps or has open work at (id, name, unit name), for the links on
    their inbox: the pages a patrol opens every day, and keeps for when there is no signal."""
    working_at = select(Task.site_id).where(
        Task.assignee_id == person_id, Task.state == "open", Task.site_id.is_not(None)
    )
    return [
        (site_id, name, unit)
        for site_id, name, unit in session.execute(
            select(Site.id, Site.name, Unit.name)
            .join(Unit, Unit.id == Site.unit_id)
            .where(or_(Site.responsible_id == person_id, Site.id.in_(working_at)))
            .order_by(Unit.id, Site.id)
        )
    ]


def code_sheet_sites(session: Session, campaign_id: int, *, by: Actor) -> list[tuple[Site, str]]:
    """The key sites of a campaign (its unit's and its sub-units'), each with its unit's name, in
    the organisation's order: the sheet of QR codes its coordinators print."""
    campaign = campaign_for(session, campaign_id, by, Need.COORDINATOR)
    return [
        (site, unit_name)
        for site, unit_name in session.execute(
            select(Site, Unit.name)
            .join(Unit, Unit.id == Site.unit_id)
            .where(Site.unit_id.in_(campaign_unit_ids(session, campaign)))
            .order_by(Unit.id, Site.id)
        )
    ]


# --- helpers -------------------------------------------------------------------------------------


def _open_hazards(session: Session, site_id: int, now: datetime) -> list[SiteHazard]:
    rows = session.execute(
        select(Rectification, Person.name)
        .join(Person, Person.id == Rectification.responsible_id)
        .where(Rectification.site_id == site_id, Rectification.state != "closed")
        .order_by(Rectification.deadline_at, Rectification.id)
    ).all()
    return [
        SiteHazard(
            id=r.id,
            description=r.description,
            severity=r.severity,
            state=r.state,
            deadline=r.deadline,
            overdue=r.state == "open" and r.deadline_at < now,
            responsible=name,
        )
        for r, name in rows
    ]


def _register_here(session: Session, site: Site, by: Actor) -> list[RegisterHere]:
    """An open inspection of the actor's at the site leads to its page (the findings are its
    own); else the register of each campaign covering the site whose leading group the actor is
    in (registering there needs a coordinator, as everywhere)."""
    own = session.execute(
        select(Task, Campaign)
        .join(Campaign, Campaign.id == Task.campaign_id)
        .where(Task.site_id == site.id, Task.state == "open", Task.assignee_id == by.person_id)
        .order_by(Task.due_at, Task.id)
    ).all()
    places = [
        RegisterHere(campaign.id, campaign.title, task.id)
        for task, campaign in own
        if is_inspection(stored_definition(campaign.definition), task)
    ]
    seen = {place.campaign_id for place in places}
    places += [
        RegisterHere(campaign.id, campaign.title, None)
        for campaign in led_campaigns_covering(session, site.unit_id, by)
        if campaign.id not in seen and campaign.state != DRAFT
    ]
    return places
