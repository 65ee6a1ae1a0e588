"""What awaits a person's decision (待我审核): rectifications reported fixed, tasks checked off,
deadline extension requests, and letters and visits, in the campaigns where the person decides.

Who decides is the engine's rule (``workflow/access.py``, the use cases): a coordinator of the
campaign, of its leading group (the item pages are theirs to open), verifies a rectification (销号)
or a task, approves or refuses an extension request, and may process any letter or visit. Only
what somebody else did is listed: nobody is asked to verify their own check-off or decide their own
request, and a letter a coordinator is responsible for is already under their own letters and
visits, never twice.

The inbox, the most read page, and the daily digest read it: one statement for the campaigns (a
person's through ``ix_role_bindings_person``), then at most one per kind over those campaigns'
rows (``ix_rectifications_campaign``, ``ix_tasks_phase``, ``ix_petitions_campaign``; extension
requests through their rectification), each returning only the oldest items and, in the same
statement (a window count), how many there are in all.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, literal_column, null, or_, select
from sqlalchemy.orm import Session

from workflow.calendar import WorkingCalendar
from workflow.clock import Clock, local_date
from workflow.definitions.catalogue import stored_definition
from workflow.machines import CLOSED, DRAFT
from workflow.models import (
    Campaign,
    DeadlineExtension,
    DefinitionRow,
    Person,
    Petition,
    Rectification,
    RoleBinding,
    Site,
    Task,
    Unit,
)
from workflow.views.inbox import definition_titles

# the kinds, in the order items of the same moment are listed
KINDS = ("rectification", "task", "extension", "petition")
# the inbox lists the oldest 50 and says how many there are; the digest names the oldest 5
INBOX_LIMIT = 50
DIGEST_LIMIT = 5


@dataclass(frozen=True)
class AwaitingItem:
    kind: str  # rectification (reported fixed) | task (checked off) | extension | petition
    id: int  # the rectification's, task's, extension request's or petition's own id
    # a rectification's own id, or the rectification an extension request would extend (its page
    # holds the decision); None for tasks and petitions
    rectification_id: int | None
    title: str
    title_en: str | None
    campaign_id: int
    campaign_title: str
    unit: str | None
    site: str | None
    variant: str | None  # rectifications and extensions: the severity; petitions: the channel
    # who reported it fixed, checked it off or asked; a letter's or visit's responsible person
    by: str | None
    since: datetime  # reported fixed, checked off, asked, recorded
    waiting_days: int  # calendar days since, in the campaign's time zone
    waiting_working_days: int
    until: date | None  # an extension request: the deadline asked for; a petition: its deadline
    # the definition's English title, unless the campaign's title was given by hand
    campaign_title_en: str | None = None
    # a petition's deadline counted over a year without the official calendar: shown as 「预计」
    until_estimated: bool = False


@dataclass
class Awaiting:
    """What awaits one person's decision: the oldest first, at most the limit, and how many in
    all."""

    items: list[AwaitingItem] = field(default_factory=list)
    total: int = 0


def awaiting_decision(
    session: Session,
    person_id: int,
    *,
    clock: Clock,
    calendar: WorkingCalendar,
    limit: int = INBOX_LIMIT,
) -> Awaiting:
    """What awaits ``person_id``'s decision in the campaigns not closed where they decide, the
    oldest first."""
    campaigns = _deciding(session, person_id)[0]
    if not campaigns:  # most people (village heads, keepers) decide nothing: one statement
        return Awaiting()
    parameters = {"campaign_ids": list(campaigns), "person_id": person_id, "limit": limit}
    rows, total = [], 0
    for kind in KINDS:
        found = session.execute(_FOR_ONE[kind], parameters).all()
        rows += found
        total += found[0].total if found else 0  # every row of a kind carries the kind's count
    return Awaiting(_items(rows, campaigns, clock.now(), calendar)[:limit], total)


def awaiting_by_person(
    session: Session, *, now: datetime, calendar: WorkingCalendar, limit: int = DIGEST_LIMIT
) -> dict[int, Awaiting]:
    """What awaits each person's decision, for the daily digest: person id → the oldest ``limit``
    items and how many in all."""
    campaigns, deciders = _deciding(session, None)
    if not campaigns:
        return {}
    # per kind, campaign and person who did the work: how many, and the oldest of them
    groups: dict[tuple[str, int, int | None], tuple[int, list[Any]]] = {}
    for kind in KINDS:
        for row in session.execute(
            _FOR_ALL[kind], {"campaign_ids": list(campaigns), "limit": limit}
        ):
            groups.setdefault((kind, row.campaign_id, row.actor_id), (row.total, []))[1].append(row)
    of_campaign: dict[int, list[tuple[int | None, int, list[Any]]]] = defaultdict(list)
    for (_kind, campaign_id, actor_id), (count, rows) in groups.items():
        of_campaign[campaign_id].append((actor_id, count, rows))
    totals: dict[int, int] = defaultdict(int)
    oldest: dict[int, list[Any]] = defaultdict(list)
    for campaign_id, people in deciders.items():
        for person_id in people:
            for actor_id, count, rows in of_campaign.get(campaign_id, ()):
                if actor_id != person_id:  # what they did themself is the others' to decide
                    totals[person_id] += count
                    oldest[person_id] += rows
    return {
        person_id: Awaiting(_items(oldest[person_id], campaigns, now, calendar)[:limit], total)
        for person_id, total in totals.items()
    }


def extension_awaiting_decision(
    session: Session, rectification_id: int
) -> DeadlineExtension | None:
    """The rectification's extension request still waiting for a coordinator, if any (there is at
    most one: ``request_extension`` refuses a second)."""
    return session.scalar(
        select(DeadlineExtension)
        .where(
            DeadlineExtension.rectification_id == rectification_id,
            DeadlineExtension.state == "requested",
        )
        .order_by(DeadlineExtension.id)
        .limit(1)
    )


# --- helpers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Campaign:
    id: int
    title: str
    timezone: str
    spec_titles_en: dict[str, str]
    title_en: str | None


def _deciding(
    session: Session, person_id: int | None
) -> tuple[dict[int, _Campaign], dict[int, set[int]]]:
    """The running campaigns where ``person_id`` (or anybody: None) decides, and who decides in
    each (campaign id → person ids)."""
    binding, campaign, definition = (
        model.__table__ for model in (RoleBinding, Campaign, DefinitionRow)
    )
    query = (
        select(
            binding.c.person_id,
            binding.c.role,
            campaign.c.id,
            campaign.c.title,
            campaign.c.timezone,
            campaign.c.definition_id,
            definition.c.content_hash,
        )
        .select_from(binding)
        .join(campaign, campaign.c.id == binding.c.campaign_id)
        .join(definition, definition.c.id == campaign.c.definition_id)
        # a coordinator's role bound to the campaign's own unit: its leading group, who open the
        # item pages where the decisions are made
        .where(binding.c.unit_id == campaign.c.unit_id, campaign.c.state.not_in((DRAFT, CLOSED)))
    )
    if person_id is not None:
        query = query.where(binding.c.person_id == person_id)
    campaigns: dict[int, _Campaign] = {}
    deciders: dict[int, set[int]] = defaultdict(set)
    for person, role, campaign_id, title, zone, definition_id, content_hash in session.execute(
        query
    ):
        if role not in _coordinators(session, definition_id, content_hash):
            continue
        deciders[campaign_id].add(person)
        if campaign_id not in campaigns:
            titles = definition_titles(session, definition_id, content_hash)
            campaigns[campaign_id] = _Campaign(
                campaign_id, title, zone, titles.spec_titles_en, titles.english.get(title)
            )
    return campaigns, dict(deciders)


def _coordinators(session: Session, definition_id: int, content_hash: str) -> frozenset[str]:
    cached = _COORDINATORS.get(content_hash)
    if cached is None:
        row = session.get(DefinitionRow, definition_id)
        cached = frozenset(stored_definition(row).coordinators) if row is not None else frozenset()
        _COORDINATORS[content_hash] = cached
    return cached


# content hash → the definition's coordinator roles (access.is_coordinator's rule); a stored
# definition's text never changes, and reading it back is what the inbox must not do per request
_COORDINATORS: dict[str, frozenset[str]] = {}


def _items(
    rows: list[Any], campaigns: dict[int, _Campaign], now: datetime, calendar: WorkingCalendar
) -> list[AwaitingItem]:
    today: dict[str, date] = {}
    items = []
    for row in rows:
        facts = campaigns[row.campaign_id]
        day = today.get(facts.timezone) or today.setdefault(
            facts.timezone, local_date(now, facts.timezone)
        )
        since_day = local_date(row.since, facts.timezone)
        items.append(
            AwaitingItem(
                kind=row.kind,
                id=row.id,
                rectification_id=row.rectification_id,
                title=row.title,
                title_en=facts.spec_titles_en.get(row.spec_key) if row.spec_key else None,
                campaign_id=facts.id,
                campaign_title=facts.title,
                unit=row.unit,
                site=row.site,
                variant=row.variant,
                by=row.done_by,
                since=row.since,
                waiting_days=max((day - since_day).days, 0),
                waiting_working_days=max(calendar.working_days_between(since_day, day), 0),
                until=row.until,
                campaign_title_en=facts.title_en,
                until_estimated=bool(row.until_estimated),
            )
        )
    order = {kind: position for position, kind in enumerate(KINDS)}
    items.sort(key=lambda item: (item.since, order[item.kind], item.id))
    return items


def _kind_statements() -> dict[str, tuple[Select[Any], Any, Any, Any, Any]]:
    """Each kind's rows awaiting a decision in the campaigns ``campaign_ids`` (an expanding
    parameter), with its campaign, the person who did the work, the moment it began to wait and the
    row's id."""
    task, rectification, extension, petition, unit, site, person = (
        model.__table__
        for model in (Task, Rectification, DeadlineExtension, Petition, Unit, Site, Person)
    )
    campaign_ids = bindparam("campaign_ids", expanding=True)

    def columns(kind: str, item_id: Any, rectification_id: Any, title: Any, **more: Any) -> list:
        return [
            literal_column(f"'{kind}'").label("kind"),
            item_id.label("id"),
            rectification_id.label("rectification_id"),
            title.label("title"),
            more.get("spec_key", null()).label("spec_key"),
            more.get("variant", null()).label("variant"),
            more.get("unit", unit.c.name).label("unit"),
            more.get("site", site.c.name).label("site"),
            person.c.name.label("done_by"),
            more["actor"].label("actor_id"),
            more["since"].label("since"),
            more.get("until", null()).label("until"),
            more.get("until_estimated", null()).label("until_estimated"),
            more["campaign_id"].label("campaign_id"),
        ]

    # reported fixed (待验收): the responsible person reported it; a coordinator verifies or rejects
    submitted_since = func.coalesce(rectification.c.submitted_at, rectification.c.registered_at)
    rectifications = (
        select(
            *columns(
                "rectification",
                rectification.c.id,
                rectification.c.id,
                rectification.c.description,
                variant=rectification.c.severity,
                actor=rectification.c.responsible_id,
                since=submitted_since,
                campaign_id=rectification.c.campaign_id,
            )
        )
        .select_from(rectification)
        .outerjoin(unit, unit.c.id == rectification.c.unit_id)
        .outerjoin(site, site.c.id == rectification.c.site_id)
        .join(person, person.c.id == rectification.c.responsible_id)
        .where(rectification.c.campaign_id.in_(campaign_ids), rectification.c.state == "submitted")
    )
    # checked off: done is not final, a coordinator verifies it or sends it back (machines.py)
    done_since = func.coalesce(task.c.completed_at, task.c.created_at)
    tasks = (
        select(
            *columns(
                "task",
                task.c.id,
                null(),
                task.c.title,
                spec_key=task.c.spec_key,
                actor=task.c.completed_by_id,
                since=done_since,
                campaign_id=task.c.campaign_id,
            )
        )
        .select_from(task)
        .outerjoin(unit, unit.c.id == task.c.unit_id)
        .outerjoin(site, site.c.id == task.c.site_id)
        # who checked it off; the assignee when the operator did
        .outerjoin(person, person.c.id == func.coalesce(task.c.completed_by_id, task.c.assignee_id))
        .where(task.c.campaign_id.in_(campaign_ids), task.c.state == "done")
    )
    # asked for more time: read through the campaign's rectifications not closed (a request left on
    # a closed one has nothing left to extend)
    extensions = (
        select(
            *columns(
                "extension",
                extension.c.id,
                extension.c.rectification_id,
                rectification.c.description,
                variant=rectification.c.severity,
                actor=extension.c.requested_by_id,
                since=extension.c.requested_at,
                until=extension.c.requested_deadline,
                campaign_id=rectification.c.campaign_id,
            )
        )
        .select_from(rectification)
        .join(extension, extension.c.rectification_id == rectification.c.id)
        .outerjoin(unit, unit.c.id == rectification.c.unit_id)
        .outerjoin(site, site.c.id == rectification.c.site_id)
        .outerjoin(person, person.c.id == extension.c.requested_by_id)
        .where(
            rectification.c.campaign_id.in_(campaign_ids),
            rectification.c.state.in_(("open", "submitted")),
            extension.c.state == "requested",
        )
    )
    # letters and visits to process: their responsible person, or a coordinator
    petitions = (
        select(
            *columns(
                "petition",
                petition.c.id,
                null(),
                petition.c.subject,
                variant=petition.c.channel,
                site=null(),
                actor=petition.c.responsible_id,
                since=petition.c.recorded_at,
                until=petition.c.deadline,
                until_estimated=petition.c.deadline_estimated,
                campaign_id=petition.c.campaign_id,
            )
        )
        .select_from(petition)
        .outerjoin(unit, unit.c.id == petition.c.unit_id)
        .join(person, person.c.id == petition.c.responsible_id)
        .where(petition.c.campaign_id.in_(campaign_ids), petition.c.state == "open")
    )
    return {
        "rectification": (
            rectifications,
            rectification.c.campaign_id,
            rectification.c.responsible_id,
            submitted_since,
            rectification.c.id,
        ),
        "task": (tasks, task.c.campaign_id, task.c.completed_by_id, done_since, task.c.id),
        "extension": (
            extensions,
            rectification.c.campaign_id,
            extension.c.requested_by_id,
            extension.c.requested_at,
            extension.c.id,
        ),
        "petition": (
            petitions,
            petition.c.campaign_id,
            petition.c.responsible_id,
            petition.c.recorded_at,
            petition.c.id,
        ),
    }


def _for_one_person() -> dict[str, Select[Any]]:
    """Per kind: what somebody other than ``person_id`` did, the oldest ``limit`` rows, each with
    the count of all."""
    person, limit = bindparam("person_id", type_=Integer), bindparam("limit", type_=Integer)
    return {
        kind: query.where(or_(actor.is_(None), actor != person))
        .add_columns(func.count().over().label("total"))
        .order_by(since, item_id)
        .limit(limit)
        for kind, (query, _campaign, actor, since, item_id) in _kind_statements().items()
    }


def _for_everyone() -> dict[str, Select[Any]]:
    """Per kind, campaign and person who did the work: the oldest ``limit`` rows, each with the
    count of all (the digest leaves out, for each reader, what they did themself)."""
    limit = bindparam("limit", type_=Integer)
    statements = {}
    for kind, (query, campaign, actor, since, item_id) in _kind_statements().items():
        group = [campaign, actor]
        ranked = query.add_columns(
            func.count().over(partition_by=group).label("total"),
            func.row_number().over(partition_by=group, order_by=[since, item_id]).label("rank"),
        ).subquery()
        statements[kind] = select(ranked).where(ranked.c.rank <= limit)
    return statements


# built once: the inbox asks for them on every visit
_FOR_ONE = _for_one_person()
_FOR_ALL = _for_everyone()
