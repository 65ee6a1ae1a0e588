"""The inbox: a person's open tasks and rectifications across campaigns, overdue first, then due
soon, then later.

This is the home page of every assignee (village heads, site managers,
department heads), so it is read far more often than anything is written: a page
of ``workflow/worklists/items.py`` (two index range scans, ``ix_tasks_inbox`` and
``ix_rectifications_responsible``, and the count), with the definitions' titles
cached by content hash (a stored definition never changes). The done list is a
page of the same kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from workflow.access import campaigns_held
from workflow.calendar import WorkingCalendar
from workflow.clock import DEFAULT_TIMEZONE, Clock, local_date
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.reader import Definition
from workflow.definitions.texts import english_twins
from workflow.machines import CLOSED
from workflow.models import Campaign, DefinitionRow, Person, Site, Unit
from workflow.organisation.directory import units_under
from workflow.people import stand_ins
from workflow.worklists.filters import SOON_WORKING_DAYS, WorkFilter
from workflow.worklists.items import Scope, WorkPage, window_for, work_page

GROUPS = ("overdue", "soon", "later")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class CampaignFacts:
    """What the inbox shows of a campaign: its title, current phase and the titles of its phases and
    tasks."""

    id: int
    title: str
    state: str
    timezone: str
    phase_titles: dict[str, tuple[str, str | None]]  # phase id → (title, English title)
    # task or duty id → English title, where the definition gives one
    spec_titles_en: dict[str, str]
    # the definition's English title, unless the campaign's title was given by hand
    title_en: str | None = None


class DefinitionTitles(NamedTuple):
    """The titles of a stored definition that the inbox and its neighbours show."""

    phases: dict[str, tuple[str, str | None]]  # phase id → (title, English title)
    spec_titles_en: dict[str, str]  # task or duty id → English title, where there is one
    english: Mapping[str, str]  # every text with an English twin → the twin (definitions.texts)


@dataclass(frozen=True)
class InboxItem:
    kind: str  # task | rectification
    id: int
    title: str
    title_en: str | None
    campaign_id: int
    campaign_title: str
    phase: str
    phase_title: str
    phase_title_en: str | None
    # the item belongs to an earlier phase than the campaign's current one: it was left behind
    from_previous_phase: bool
    unit: str | None
    site: str | None
    due_on: date | None
    group: str  # overdue | soon | later
    days_late: int  # calendar days past the due date (0 unless overdue)
    working_days_late: int
    severity: str | None = None  # rectifications: minor | major
    campaign_title_en: str | None = None
    # due_on was counted over a year without the official calendar: shown as 「预计」
    due_estimated: bool = False


@dataclass
class Inbox:
    overdue: list[InboxItem] = field(default_factory=list)
    soon: list[InboxItem] = field(default_factory=list)
    later: list[InboxItem] = field(default_factory=list)

    def items(self) -> list[InboxItem]:
        """Every item, soonest due first (undated last)."""
        return [*self.overdue, *self.soon, *self.later]

    def __len__(self) -> int:
        return len(self.overdue) + len(self.soon) + len(self.later)

    @property
    def has_tasks(self) -> bool:
        """Whether any item is a task: only tasks are checked off together (the bulk form)."""
        return any(item.kind == "task" for item in self.items())


@dataclass(frozen=True)
class DoneItem:
    kind: str
    id: int
    title: str
    campaign_id: int
    campaign_title: str
    state: str  # done | verified (tasks); submitted | closed (rectifications)
    finished_at: datetime | None
    note: str | None
    title_en: str | None = None  # a task's English title, where its definition gives one
    campaign_title_en: str | None = None


@dataclass(frozen=True)
class InboxPage:
    """One page of a person's inbox as filtered: its items grouped, the count of each group for the
    whole filter, the next page's key and the searched words (to highlight)."""

    inbox: Inbox
    counts: dict[str, int]
    next_after: str | None
    terms: list[str]
    sort: str
    levels: dict[tuple[str, int], int]
    count_capped: bool = False  # a search's count stopped past limits.SEARCH_RANK_LIMIT

    @property
    def count(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class DonePage:
    """One page of a person's done list as filtered, with the count for the whole filter."""

    items: list[DoneItem]
    count: int
    next_after: str | None
    terms: list[str]
    count_capped: bool = False  # a search's count stopped past limits.SEARCH_RANK_LIMIT


def inbox_page(
    session: Session,
    person_id: int,
    work_filter: WorkFilter,
    *,
    after: str | None = None,
    clock: Clock,
    calendar: WorkingCalendar,
    limit: int | None = None,
    stand_in_edges: Mapping[int, int] | None = None,
) -> InboxPage:
    """A page of the open tasks and rectifications of ``person_id`` in campaigns not closed,
    filtered, in the filter's order (soonest due first unless it says otherwise).
    ``stand_in_edges``: today's stand-ins (``stand_ins.edges_from``), when the caller has them."""
    now = clock.now()
    window = window_for(now, DEFAULT_TIMEZONE, calendar, work_filter.within)
    absent = tuple(_holders(session, person_id, now, stand_in_edges)[1:])
    scope = Scope("inbox", person_id=person_id, absent=absent)
    found = work_page(session, scope, work_filter, window, after=after, limit=limit)
    campaigns = _listed_facts(session, found, include_closed=False)
    horizons: dict[str, tuple[date, date]] = {}
    grouped = Inbox()
    for row in found.rows:
        facts = campaigns.get(row.campaign_id)
        if facts is None:  # closed between the two statements
            continue
        horizon = horizons.get(facts.timezone)
        if horizon is None:
            today = local_date(now, facts.timezone)
            horizon = horizons[facts.timezone] = (
                today,
                calendar.add_working_days(today, SOON_WORKING_DAYS),
            )
        title_en = facts.spec_titles_en.get(row.spec_key or "") if row.kind == "task" else None
        item = _item(
            facts,
            row.kind,
            row.id,
            row.title,
            title_en,
            row.phase_key,
            row.unit,
            row.site,
            row.due_on,
            row.severity,
            horizon,
            calendar,
            bool(row.due_estimated),
        )
        getattr(grouped, item.group).append(item)
    return InboxPage(
        grouped,
        found.counts,
        found.next_after,
        found.terms,
        found.sort,
        found.levels,
        found.count_capped,
    )


def done_page(
    session: Session,
    person_id: int,
    work_filter: WorkFilter,
    *,
    after: str | None = None,
    clock: Clock,
    calendar: WorkingCalendar,
    limit: int | None = None,
) -> DonePage:
    """A page of what the person has finished, newest first unless the filter says otherwise."""
    window = window_for(clock.now(), DEFAULT_TIMEZONE, calendar, work_filter.within)
    found = work_page(
        session, Scope("done", person_id=person_id), work_filter, window, after=after, limit=limit
    )
    campaigns = _listed_facts(session, found, include_closed=True)
    items = [
        DoneItem(
            row.kind,
            row.id,
            row.title,
            row.campaign_id,
            campaigns[row.campaign_id].title,
            row.state,
            row.finished_at,
            row.note,
            campaigns[row.campaign_id].spec_titles_en.get(row.spec_key) if row.spec_key else None,
            campaigns[row.campaign_id].title_en,
        )
        for row in found.rows
        if row.campaign_id in campaigns
    ]
    return DonePage(items, found.count, found.next_after, found.terms, found.count_capped)


def campaign_choices(session: Session, person_id: int) -> list[tuple[int, str, str | None]]:
    """The campaigns a person's lists may be narrowed to (those they hold a role or items in): id,
    title and its English twin, by title."""
    ids = set(
        session.scalars(select(Campaign.id).where(Campaign.id.in_(campaigns_held(person_id))))
    )
    facts = campaign_facts(session, ids, include_closed=True)
    return sorted(
        ((fact.id, fact.title, fact.title_en) for fact in facts.values()),
        key=lambda choice: (choice[1], choice[0]),
    )


def place_choices(
    session: Session, person_id: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The units and key sites a person's inbox may be narrowed to: their own unit and the units
    under it, and those units' key sites (code and name of each, by name), where their items are.
    Not read from the items: a distinct over a busy person's 5,000 open items took 12-45 ms of
    every home page (benchmarks/worklists.py's database); the unit tree is tens of rows."""
    own = session.scalar(select(Person.unit_id).where(Person.id == person_id))
    under = units_under(session, [own]) if own is not None else set()
    units = session.execute(
        select(Unit.code, Unit.name).where(Unit.id.in_(under)).order_by(Unit.name, Unit.code)
    )
    sites = session.execute(
        select(Site.code, Site.name).where(Site.unit_id.in_(under)).order_by(Site.name, Site.code)
    )
    return [(code, name) for code, name in units], [(code, name) for code, name in sites]


def campaign_facts(
    session: Session, campaign_ids: set[int], *, include_closed: bool = False
) -> dict[int, CampaignFacts]:
    """The campaigns named (without the closed ones unless asked), with their definition's
    titles."""
    if not campaign_ids:
        return {}
    session.flush()  # a Core statement skips the ORM's autoflush
    rows = session.connection().execute(
        _FACTS[include_closed], {"campaign_ids": sorted(campaign_ids)}
    )
    return _facts_of(session, rows)


def definition_titles(session: Session, definition_id: int, content_hash: str) -> DefinitionTitles:
    """The titles of a stored definition's phases (with their English titles), the English titles
    of its tasks and duties, and the English twins of all its texts, read once per definition text
    (a stored definition never changes)."""
    cached = _TITLES.get(content_hash)
    if cached is None:
        row = session.get(DefinitionRow, definition_id)
        cached = _titles(stored_definition(row)) if row is not None else _NO_TITLES
        _TITLES[content_hash] = cached
    return cached


# --- helpers ------------------------------------------------------------------------------------


def _listed_facts(
    session: Session, found: WorkPage, *, include_closed: bool
) -> dict[int, CampaignFacts]:
    """:func:`campaign_facts` of the campaigns of a page's rows, as the page's statement read them
    (``WorkPage.campaigns``)."""
    return _facts_of(
        session,
        (row for row in found.campaigns.values() if include_closed or row.state != CLOSED),
    )


def _facts_of(session: Session, rows: Iterable[Any]) -> dict[int, CampaignFacts]:
    """The facts of campaigns read as (id, title, state, time zone, definition id, its text's
    hash): by ``_FACTS`` or with a page's rows (``items.CampaignRow``)."""
    facts: dict[int, CampaignFacts] = {}
    for campaign_id, title, state, zone, definition_id, content_hash in rows:
        titles = definition_titles(session, definition_id, content_hash)
        facts[campaign_id] = _facts(campaign_id, title, state, zone, titles)
    return facts


def _holders(
    session: Session, person_id: int, now: datetime, edges: Mapping[int, int] | None = None
) -> list[int]:
    """The person, and the people away today whose open items they carry as stand-in
    (workflow/people/stand_ins.py): usually the person alone, at the cost of one small query
    unless the day's ``edges`` are given."""
    today = local_date(now, DEFAULT_TIMEZONE)
    return [person_id, *stand_ins.absent_for(session, person_id, today, edges=edges)]


def _item(
    facts: CampaignFacts,
    kind: str,
    item_id: int,
    title: str,
    title_en: str | None,
    phase: str,
    unit: str | None,
    site: str | None,
    due_on: date | None,
    severity: str | None,
    horizon: tuple[date, date],
    calendar: WorkingCalendar,
    due_estimated: bool = False,
) -> InboxItem:
    today, soon_until = horizon
    days_late = working_days_late = 0
    if due_on is None:
        group = "later"
    elif due_on < today:  # a due date means the whole day: late from the next day on
        group = "overdue"
        days_late = (today - due_on).days
        working_days_late = max(calendar.working_days_between(due_on, today), 0)
    elif due_on <= soon_until:
        group = "soon"
    else:
        group = "later"
    phase_title, phase_title_en = facts.phase_titles.get(phase, (phase, None))
    return InboxItem(
        kind=kind,
        id=item_id,
        title=title,
        title_en=title_en,
        campaign_id=facts.id,
        campaign_title=facts.title,
        phase=phase,
        phase_title=phase_title,
        phase_title_en=phase_title_en,
        from_previous_phase=phase != facts.state,
        unit=unit,
        site=site,
        due_on=due_on,
        group=group,
        days_late=days_late,
        working_days_late=working_days_late,
        severity=severity,
        campaign_title_en=facts.title_en,
        due_estimated=due_estimated,
    )


def _facts(
    campaign_id: int, title: str, state: str, zone: str, titles: DefinitionTitles
) -> CampaignFacts:
    # a title given by hand (``--title``) is no text of the definition: it has no twin
    return CampaignFacts(
        campaign_id,
        title,
        state,
        zone,
        titles.phases,
        titles.spec_titles_en,
        titles.english.get(title),
    )


def _titles(definition: Definition) -> DefinitionTitles:
    phases = {phase.id: (phase.title, phase.title_en) for phase in definition.phases}
    specs = {
        spec.id: spec.title_en
        for phase in definition.phases
        for spec in (*phase.tasks, *phase.recurring)
        if spec.title_en
    }
    specs.update((duty.id, duty.title_en) for duty in definition.recurring if duty.title_en)
    return DefinitionTitles(phases, specs, english_twins(definition))


def _facts_statements() -> dict[bool, Any]:
    everyone = (
        select(
            Campaign.id,
            Campaign.title,
            Campaign.state,
            Campaign.timezone,
            Campaign.definition_id,
            DefinitionRow.content_hash,
        )
        .join(DefinitionRow, DefinitionRow.id == Campaign.definition_id)
        .where(Campaign.id.in_(bindparam("campaign_ids", expanding=True)))
    )
    return {True: everyone, False: everyone.where(Campaign.state != CLOSED)}


_NO_TITLES = DefinitionTitles({}, {}, {})
# include closed campaigns → the campaigns' facts, the ids bound: built once, not per inbox read
_FACTS = _facts_statements()
# content hash → titles; a stored definition's text never changes, so this never goes stale
_TITLES: dict[str, DefinitionTitles] = {}
