"""A campaign's escalation log as its page shows it: each reminder and level reached, the item it
was about by its title, and the people told by their names.

The escalation rows keep the addresses the mail went to (the record of what was sent); people
know each other by name, so each address is shown as its person's name, with the address beside
it for whoever needs it. An address nobody has any more (changed since) is shown as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow import limits
from workflow.access import Need, campaign_for
from workflow.audit import Actor
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.texts import english_twins
from workflow.escalation.levels import campaign_escalations
from workflow.models import Campaign, Escalation, Person, Petition
from workflow.views.standing import estimated_dates, item_titles
from workflow.worklists import keyset
from workflow.worklists.filters import WorkFilter
from workflow.worklists.keyset import INSTANT, SortKey


@dataclass(frozen=True)
class Told:
    """Someone an escalation was sent to: their name, where the address is a person's."""

    email: str
    name: str | None


@dataclass(frozen=True)
class LogEntry:
    """One reminder (level 0) or escalation level reached by an item."""

    id: int
    level: int
    colour: str
    item_kind: str  # task | rectification | petition
    item_id: int
    title: str | None  # None: the item is gone
    title_en: str | None  # a task's English title, where its definition gives one
    deadline: date
    reached_at: datetime
    told: list[Told]
    deadline_estimated: bool = False  # counted over a year without the official calendar: 「预计」


@dataclass(frozen=True)
class LogPage:
    """One page of a campaign's escalation log as filtered, with the count for the whole filter."""

    entries: list[LogEntry]
    count: int
    next_after: str | None
    rows: list[Escalation]  # the page's rows as stored (the API answers them)


def escalation_entries(session: Session, campaign_id: int, by: Actor) -> list[LogEntry]:
    """What was escalated in a campaign, newest first, with titles and names; for its leading group
    only (others: not found)."""
    return _entries(session, campaign_id, campaign_escalations(session, campaign_id, by))


def escalation_page(
    session: Session,
    campaign_id: int,
    work_filter: WorkFilter,
    *,
    after: str | None = None,
    by: Actor,
    limit: int | None = None,
) -> LogPage:
    """A page of the campaign's escalation log, newest first, narrowed by the filter's ``kind`` and
    ``level`` (this level or higher); for its leading group only (others: not found)."""
    campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
    limit = limit or limits.PAGE_SIZE
    conditions = [Escalation.campaign_id == campaign_id]
    if work_filter.kind is not None:
        conditions.append(Escalation.item_kind == work_filter.kind)
    if work_filter.level is not None:
        conditions.append(Escalation.level >= work_filter.level)
    keys = [
        SortKey(Escalation.reached_at, descending=True, kind=INSTANT),
        SortKey(Escalation.id, descending=True),
    ]
    query = select(Escalation).where(*conditions)
    if after:
        query = query.where(keyset.after_key(keys, keyset.decode(after, keys)))
    rows = list(session.scalars(query.order_by(*(key.ordering() for key in keys)).limit(limit + 1)))
    count = session.scalar(select(func.count()).select_from(Escalation).where(*conditions)) or 0
    next_after = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_after = keyset.encode((rows[-1].reached_at, rows[-1].id))
    return LogPage(_entries(session, campaign_id, rows), count, next_after, rows)


# --- helpers ------------------------------------------------------------------------------------


def _entries(session: Session, campaign_id: int, rows: list[Escalation]) -> list[LogEntry]:
    keys = {(row.item_kind, row.item_id) for row in rows}
    titles = item_titles(session, keys)
    petitions = [item_id for kind, item_id in keys if kind == "petition"]
    if petitions:
        titles.update(
            (("petition", item_id), subject)
            for item_id, subject in session.execute(
                select(Petition.id, Petition.subject).where(Petition.id.in_(petitions))
            )
        )
    addresses = {email for row in rows for email in _addresses(row.recipients)}
    names: dict[str, str] = {}
    if addresses:
        query = select(Person.email, Person.name).where(Person.email.in_(addresses))
        names.update((email, name) for email, name in session.execute(query))
    estimated = estimated_dates(session, keys)
    campaign = session.get(Campaign, campaign_id)
    twins = english_twins(stored_definition(campaign.definition)) if campaign else {}
    entries = []
    for row in rows:
        title = titles.get((row.item_kind, row.item_id))
        entries.append(
            LogEntry(
                id=row.id,
                level=row.level,
                colour=row.colour,
                item_kind=row.item_kind,
                item_id=row.item_id,
                title=title,
                title_en=twins.get(title) if title and row.item_kind == "task" else None,
                deadline=row.deadline,
                reached_at=row.reached_at,
                told=[Told(email, names.get(email)) for email in _addresses(row.recipients)],
                deadline_estimated=estimated.get((row.item_kind, row.item_id)) == row.deadline,
            )
        )
    return entries


def _addresses(recipients: str) -> list[str]:
    return [email for email in recipients.split(",") if email]
