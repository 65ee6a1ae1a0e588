"""Standing at a glance: the campaigns a person sees, each unit's red/amber/green, what was
escalated to a leader, a person's own items in one campaign.

Every unit is red (something overdue), amber (something due within 3 working
days) or green, with the counts behind the colour: the way coordinators and
leaders in 隐患排查治理 work read a campaign (DOMAIN.md, "How rectification is
run in practice"). Escalations are read per recipient, by level and age.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, literal, select
from sqlalchemy.orm import Session

from workflow import limits
from workflow.access import CampaignAccess, Need, campaign_access, campaign_for, campaigns_held
from workflow.assessment.report_status import report_statuses
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.clock import Clock, end_of_day, local_date
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.texts import campaign_twins, english_twin, english_twins
from workflow.machines import CLOSED
from workflow.models import (
    Campaign,
    CampaignUnit,
    Escalation,
    Incident,
    Letter,
    Person,
    Petition,
    Rectification,
    Task,
    Unit,
)
from workflow.views.inbox import SOON_WORKING_DAYS, campaign_facts
from workflow.worklists import keyset
from workflow.worklists.filters import WorkFilter
from workflow.worklists.keyset import DAY, SortKey
from workflow.worklists.search import words

COLOURS = ("red", "amber", "green")
# a site keeper holds a handful of items; a village head with a role sees the whole page instead
HELD_LIST_LIMIT = 100


@dataclass(frozen=True)
class CampaignSummary:
    id: int
    title: str
    state: str
    phase_title: str | None
    phase_title_en: str | None
    unit: str
    access: CampaignAccess
    # the definition's English title, unless the title was given by hand
    title_en: str | None = None


@dataclass
class UnitStanding:
    unit_id: int
    name: str
    overdue: int = 0
    due_soon: int = 0
    open: int = 0  # open items, overdue and due soon included
    settled: int = 0  # tasks done or verified, rectifications closed

    @property
    def colour(self) -> str:
        return "red" if self.overdue else "amber" if self.due_soon else "green"


@dataclass
class CampaignStanding:
    id: int
    title: str
    units: list[UnitStanding]
    title_en: str | None = None

    def count(self, colour: str) -> int:
        return sum(1 for unit in self.units if unit.colour == colour)


@dataclass(frozen=True)
class EscalatedItem:
    kind: str
    id: int
    title: str
    campaign_id: int
    campaign_title: str
    level: int  # the highest level that reached me
    colour: str
    deadline: date
    reached_at: datetime
    days_since: int  # calendar days since it reached me
    working_days_overdue: int
    title_en: str | None = None  # a task's English title, where its definition gives one
    campaign_title_en: str | None = None
    deadline_estimated: bool = False  # counted over a year without the official calendar: 「预计」


@dataclass(frozen=True)
class HeldItem:
    """A task, rectification or letter of one campaign that is the viewer's to handle."""

    kind: str  # task | rectification | petition
    id: int
    title: str
    title_en: str | None  # a task's English title, where its definition gives one
    state: str
    due_on: date | None
    due_estimated: bool = False  # counted over a year without the official calendar: 「预计」


@dataclass
class EscalatedToMe:
    # highest level first, oldest first
    levels: dict[int, list[EscalatedItem]] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(len(items) for items in self.levels.values())


def campaigns_for(session: Session, by: Actor) -> list[CampaignSummary]:
    """The campaigns a person takes part in or holds items in (``Need.OWN_ITEMS``; every campaign
    for an operator), newest first."""
    query = _campaigns_seen(by)
    if query is None:
        return []
    return _summaries(session, by, list(session.scalars(query.order_by(*_NEWEST_FIRST))))


def campaign_list_page(
    session: Session, by: Actor, work_filter: WorkFilter, *, after: str | None = None
) -> tuple[list[CampaignSummary], int, str | None]:
    """A page of the campaigns a person sees (as :func:`campaigns_for`), newest first, narrowed by
    the filter's ``unit`` (the campaign's unit code), ``state`` (``running`` or ``closed``) and
    ``q`` (words of the title); with the count for the filter and the next page's key."""
    query = _campaigns_seen(by)
    if query is None:
        return [], 0, None
    if work_filter.unit:
        query = query.join(Unit, Unit.id == Campaign.unit_id).where(Unit.code == work_filter.unit)
    if work_filter.state == "running":
        query = query.where(Campaign.state != CLOSED)
    elif work_filter.state:
        query = query.where(Campaign.state == work_filter.state)
    for word in words(work_filter.q or ""):
        query = query.where(Campaign.title.contains(word, autoescape=True))
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    keys = [
        SortKey(Campaign.starts_on, descending=True, kind=DAY),
        SortKey(Campaign.id, descending=True),
    ]
    if after:
        query = query.where(keyset.after_key(keys, keyset.decode(after, keys)))
    limit = limits.PAGE_SIZE
    campaigns = list(session.scalars(query.order_by(*_NEWEST_FIRST).limit(limit + 1)))
    next_after = None
    if len(campaigns) > limit:
        campaigns = campaigns[:limit]
        next_after = keyset.encode((campaigns[-1].starts_on, campaigns[-1].id))
    return _summaries(session, by, campaigns), count, next_after


def campaign_standing(
    session: Session, campaign_id: int, *, by: Actor, clock: Clock, calendar: WorkingCalendar
) -> CampaignStanding:
    """Each unit's colour and counts; for the campaign's leading group only (others: not found)."""
    campaign = campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
    now = clock.now()
    soon_until = soon_ends(now, campaign.timezone, calendar)
    units = {campaign.unit_id: UnitStanding(campaign.unit_id, campaign.unit.name)}
    for unit in session.scalars(
        select(Unit)
        .join(CampaignUnit, CampaignUnit.unit_id == Unit.id)
        .where(CampaignUnit.campaign_id == campaign.id)
        .order_by(Unit.name, Unit.code)
    ):
        units[unit.id] = UnitStanding(unit.id, unit.name)

    is_open = Task.state == "open"
    task_counts = session.execute(
        select(
            Task.unit_id,
            *due_counts(Task.due_at, is_open, now, soon_until),
            func.count().filter(is_open),
            func.count().filter(Task.state.in_(("done", "verified"))),
        )
        .where(Task.campaign_id == campaign.id)
        .group_by(Task.unit_id)
    )
    waiting = Rectification.state == "open"
    rectification_counts = session.execute(
        select(
            Rectification.unit_id,
            *due_counts(Rectification.deadline_at, waiting, now, soon_until),
            func.count().filter(Rectification.state != "closed"),
            func.count().filter(Rectification.state == "closed"),
        )
        .where(Rectification.campaign_id == campaign.id)
        .group_by(Rectification.unit_id)
    )
    for unit_id, overdue, soon, still_open, settled in [*task_counts, *rectification_counts]:
        # items of no sub-unit are the leading group's own (the campaign's unit)
        standing = units.get(unit_id if unit_id is not None else campaign.unit_id)
        if standing is None:
            continue
        standing.overdue += overdue
        standing.due_soon += soon
        standing.open += still_open
        standing.settled += settled
    return CampaignStanding(
        campaign.id,
        campaign.title,
        list(units.values()),
        english_twin(campaign.title, stored_definition(campaign.definition)),
    )


def soon_ends(now: datetime, timezone: str, calendar: WorkingCalendar) -> datetime:
    """The end of the last day counted as due soon (amber): 3 working days from today."""
    return end_of_day(
        calendar.add_working_days(local_date(now, timezone), SOON_WORKING_DAYS), timezone
    )


def due_counts(deadline: Any, waiting: Any, now: datetime, soon_until: datetime) -> tuple[Any, Any]:
    """The red and amber counts of a grouped statement: items ``waiting`` past ``deadline`` by
    ``now``, and due by ``soon_until``."""
    return (
        func.count().filter(and_(waiting, deadline <= now)),
        func.count().filter(and_(waiting, deadline > now, deadline <= soon_until)),
    )


def escalated_to(
    session: Session, person_id: int, *, clock: Clock, calendar: WorkingCalendar
) -> EscalatedToMe:
    """Items still open that an escalation level (not a reminder) reached this person about, by
    level and age."""
    person = session.get(Person, person_id)
    if person is None:
        return EscalatedToMe()
    now = clock.now()
    # recipients is a comma-separated list: LIKE narrows, the exact split below decides
    rows = session.execute(
        select(Escalation)
        .where(Escalation.level > 0, Escalation.recipients.contains(person.email))
        .order_by(Escalation.deadline_round, Escalation.level)
    ).scalars()
    latest: dict[tuple[str, int], Escalation] = {}
    for row in rows:
        if person.email in row.recipients.split(","):
            # ordered: the last one is the highest level of the newest round
            latest[(row.item_kind, row.item_id)] = row
    still_open = item_titles(session, list(latest), still_open=True)
    facts = campaign_facts(session, {row.campaign_id for row in latest.values()})
    twins = campaign_twins(session, facts)
    estimated = estimated_dates(session, list(latest))
    by_level: dict[int, list[EscalatedItem]] = defaultdict(list)
    for key, row in latest.items():
        if key not in still_open or row.campaign_id not in facts:
            continue
        campaign = facts[row.campaign_id]
        today = local_date(now, campaign.timezone)
        by_level[row.level].append(
            EscalatedItem(
                kind=row.item_kind,
                id=row.item_id,
                title=still_open[key],
                campaign_id=row.campaign_id,
                campaign_title=campaign.title,
                level=row.level,
                colour=row.colour,
                deadline=row.deadline,
                reached_at=row.reached_at,
                days_since=(today - local_date(row.reached_at, campaign.timezone)).days,
                working_days_overdue=max(calendar.working_days_between(row.deadline, today), 0),
                title_en=twins[row.campaign_id].get(still_open[key]) if key[0] == "task" else None,
                campaign_title_en=twins[row.campaign_id].get(campaign.title),
                deadline_estimated=estimated.get(key) == row.deadline,
            )
        )
    result = EscalatedToMe()
    for level in sorted(by_level, reverse=True):
        result.levels[level] = sorted(by_level[level], key=lambda item: (item.reached_at, item.id))
    return result


def items_held(session: Session, campaign_id: int, *, by: Actor) -> list[HeldItem]:
    """The viewer's own tasks, rectifications, letters and visits and responsibility letters to sign
    in the campaign, still open ones first,
    each soonest due first: what the campaign's page shows someone who holds no role in it."""
    campaign = campaign_for(session, campaign_id, by, Need.OWN_ITEMS)
    person = by.person_id
    rows = [
        *session.execute(
            select(
                literal("task"), Task.id, Task.title, Task.state, Task.due_on, Task.due_estimated
            )
            .where(Task.campaign_id == campaign.id, Task.assignee_id == person)
            .limit(HELD_LIST_LIMIT)
        ),
        *session.execute(
            select(
                literal("rectification"),
                Rectification.id,
                Rectification.description,
                Rectification.state,
                Rectification.deadline,
                Rectification.deadline_estimated,
            )
            .where(Rectification.campaign_id == campaign.id, Rectification.responsible_id == person)
            .limit(HELD_LIST_LIMIT)
        ),
        *session.execute(
            select(
                literal("petition"),
                Petition.id,
                Petition.subject,
                Petition.state,
                Petition.deadline,
                Petition.deadline_estimated,
            )
            .where(Petition.campaign_id == campaign.id, Petition.responsible_id == person)
            .limit(HELD_LIST_LIMIT)
        ),
        *session.execute(
            select(
                literal("letter"),
                Letter.id,
                Letter.title,
                Letter.state,
                Letter.due_on,
                Letter.due_estimated,
            )
            .where(Letter.campaign_id == campaign.id, Letter.signer_id == person)
            .limit(HELD_LIST_LIMIT)
        ),
    ]
    twins = english_twins(stored_definition(campaign.definition))
    items = [
        HeldItem(
            kind,
            item_id,
            title,
            twins.get(title) if kind in ("task", "letter") else None,
            state,
            due,
            estimated,
        )
        for kind, item_id, title, state, due, estimated in rows
    ]
    items.sort(
        key=lambda item: (
            item.state not in ("open", "issued"),
            item.due_on or date.max,
            item.kind,
            item.id,
        )
    )
    return items[:HELD_LIST_LIMIT]


def estimated_dates(
    session: Session, items: set[tuple[str, int]] | list[tuple[str, int]]
) -> dict[tuple[str, int], date]:
    """(kind, id) → the current due date or deadline of those tasks, rectifications and petitions
    whose date is an estimate (counted over a year without the official calendar). An escalation
    row keeps the deadline of its round: it is an estimate only while it is still this date."""
    found: dict[tuple[str, int], date] = {}
    for kind, model, day, flag in (
        ("task", Task, Task.due_on, Task.due_estimated),
        ("rectification", Rectification, Rectification.deadline, Rectification.deadline_estimated),
        ("petition", Petition, Petition.deadline, Petition.deadline_estimated),
    ):
        ids = [item_id for item_kind, item_id in items if item_kind == kind]
        if ids:
            query = select(model.id, day).where(model.id.in_(ids), flag.is_(True))
            found.update(((kind, item_id), due) for item_id, due in session.execute(query))
    return found


def item_titles(
    session: Session, items: set[tuple[str, int]] | list[tuple[str, int]], still_open: bool = False
) -> dict[tuple[str, int], str]:
    """(kind, id) → title of tasks and rectifications (only those not yet settled, when asked)."""
    task_ids = [item_id for kind, item_id in items if kind == "task"]
    rectification_ids = [item_id for kind, item_id in items if kind == "rectification"]
    found: dict[tuple[str, int], str] = {}
    if task_ids:
        query = select(Task.id, Task.title).where(Task.id.in_(task_ids))
        for item_id, title in session.execute(
            query.where(Task.state == "open") if still_open else query
        ):
            found[("task", item_id)] = title
    if rectification_ids:
        query = select(Rectification.id, Rectification.description).where(
            Rectification.id.in_(rectification_ids)
        )
        for item_id, title in session.execute(
            query.where(Rectification.state != "closed") if still_open else query
        ):
            found[("rectification", item_id)] = title
    incident_ids = [item_id for kind, item_id in items if kind == "incident"]
    if incident_ids:
        found.update(_unreported_titles(session, incident_ids, still_open))
    return found


def _unreported_titles(
    session: Session, incident_ids: list[int], still_open: bool
) -> dict[tuple[str, int], str]:
    """An incident escalated for not being reported in time, by what happened; still open while a
    body its kind names is untold (report_status.py says which)."""
    by_campaign: dict[Campaign, list[Incident]] = defaultdict(list)
    for incident, campaign in session.execute(
        select(Incident, Campaign)
        .join(Campaign, Campaign.id == Incident.campaign_id)
        .where(Incident.id.in_(incident_ids))
    ):
        by_campaign[campaign].append(incident)
    found = {}
    for campaign, incidents in by_campaign.items():
        kinds = {kind.id: kind for kind in stored_definition(campaign.definition).incidents}
        statuses = report_statuses(session, incidents, kinds)
        for incident in incidents:
            untold = statuses[incident.id].untold if incident.id in statuses else ()
            if still_open and not untold:
                continue
            bodies = f"（{'、'.join(untold)}）" if untold else ""
            found[("incident", incident.id)] = f"事件未按时上报{bodies}：{incident.description}"
    return found


def _summaries(session: Session, by: Actor, campaigns: list[Campaign]) -> list[CampaignSummary]:
    facts = campaign_facts(session, {c.id for c in campaigns}, include_closed=True)
    summaries = []
    for campaign in campaigns:
        phase_title, phase_title_en = facts[campaign.id].phase_titles.get(
            campaign.state, (None, None)
        )
        summaries.append(
            CampaignSummary(
                campaign.id,
                campaign.title,
                campaign.state,
                phase_title,
                phase_title_en,
                campaign.unit.name,
                campaign_access(session, campaign, by),
                english_twin(campaign.title, stored_definition(campaign.definition)),
            )
        )
    return summaries


def _campaigns_seen(by: Actor) -> Any:
    """The campaigns ``by`` sees in the list (None: nobody's)."""
    query = select(Campaign)
    if by.is_operator:
        return query
    if by.person_id is None:
        return None
    return query.where(Campaign.id.in_(campaigns_held(by.person_id)))


_NEWEST_FIRST = (Campaign.starts_on.desc(), Campaign.id.desc())
