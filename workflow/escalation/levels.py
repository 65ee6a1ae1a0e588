"""Escalation (督办): a blue reminder before the deadline, then each level of the definition after
it.

An item's steps are fixed by its deadline: step 0 is the reminder
(``remind_before`` the deadline), step *n* is level *n* (``after`` the deadline,
in calendar or working days). A level "N working days after" comes due at the
start of the N-th working day after the deadline day, when the item has been
overdue for N working days (a deadline of 2026-09-29 reaches a 3-working-day
level on 2026-10-09, after the National Day holiday). The escalation queue
(``escalation_queue.py``) holds the due time of each item's next step, so a
sweep reads only items with work due, and rewrites a few pages of the queue
rather than the items. Each (item, deadline round, level) is recorded once
under a unique key, in the same transaction as the mails it causes.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    Select,
    String,
    any_,
    bindparam,
    delete,
    func,
    literal,
    literal_column,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from workflow.access import Need, campaign_for
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.clock import end_of_day, local_date
from workflow.db import indexed
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.reader import Definition, EscalationSpec, ancestor_role
from workflow.escalation import queue
from workflow.limits import MAIL_ITEMS_LISTED
from workflow.mail import texts as mailtext
from workflow.mail.outbox import enqueue_many, mail_row
from workflow.models import (
    Campaign,
    DefinitionRow,
    Escalation,
    EscalationQueueEntry,
    Person,
    Petition,
    Rectification,
    RoleBinding,
    Site,
    Task,
    Unit,
)
from workflow.people import stand_ins

REMINDER = 0
EVER_BEFORE = datetime(1970, 1, 1, tzinfo=timezone.utc)
DEFAULT_COLOURS = {0: "blue", 1: "yellow"}
RESPONSIBLE = "responsible"
BATCH_SIZE = 10000
# a step recorded more than this after it came due is reported as late (the sweep was not running)
LATE_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Step:
    level: int
    colour: str
    due_at: datetime
    notify: tuple[str, ...]


def steps_for(
    spec: EscalationSpec | None,
    deadline: date,
    tz: str,
    calendar: WorkingCalendar,
    created_at: datetime,
) -> list[Step]:
    """The reminder and levels of an item with this deadline, in order of due time."""
    if spec is None:
        return []
    steps: list[Step] = []
    if spec.remind_before is not None:
        remind_on = spec.remind_before.before(deadline, calendar)
        remind_at = end_of_day(remind_on - timedelta(days=1), tz)
        # registered after its reminder day: the registration mail already told them
        if remind_at > created_at:
            steps.append(Step(REMINDER, "blue", remind_at, (RESPONSIBLE,)))
    for number, level in enumerate(spec.levels, start=1):
        day = max(level.after.after(deadline, calendar), deadline + timedelta(days=1))
        steps.append(
            Step(
                number,
                level.colour or DEFAULT_COLOURS.get(number, "red"),
                end_of_day(day - timedelta(days=1), tz),
                level.notify,
            )
        )
    return sorted(steps, key=lambda s: (s.due_at, s.level))


def first_step_at(steps: list[Step]) -> datetime | None:
    return steps[0].due_at if steps else None


@dataclass
class EscalationSummary:
    items: int = 0  # items looked at (each rescheduled to its next step)
    reminders: int = 0
    levels: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    mails: int = 0

    def add(self, other: EscalationSummary) -> None:
        self.items += other.items
        self.reminders += other.reminders
        for level, count in other.levels.items():
            self.levels[level] += count
        self.mails += other.mails


def escalate_due(
    session: Session,
    now: datetime,
    calendar: WorkingCalendar,
    *,
    base_url: str,
    limit: int = BATCH_SIZE,
    contexts: dict[int, Any] | None = None,
) -> EscalationSummary:
    """Record the reminders and levels that came due by ``now`` for one batch of queued items, and
    queue their mails.

    Returns what was done; an empty summary means nothing more is due. Queue
    entries and their items are claimed with FOR UPDATE SKIP LOCKED, so several
    sweepers share the work. ``contexts`` may carry campaigns already loaded by
    an earlier batch of the same sweep.
    """
    items: list[_Item] = []
    restore = _join_by_key(session)
    for source in SOURCES:
        if len(items) < limit:
            items += source(session, now, limit - len(items))
    if session.get_bind().dialect.name == "sqlite":
        # their queue entries go in one range per kind; PostgreSQL's read deleted them (_taking)
        for kind in {item.kind for item in items}:
            queue.take(session, [item.entry for item in items if item.kind == kind])
    restore()
    if not items:
        return EscalationSummary()
    current = [item for item in items if item.current]

    campaigns = _campaign_context(
        session, {item.campaign_id for item in current}, {} if contexts is None else contexts
    )
    reached: list[tuple[_Item, Step]] = []
    next_entries: list[tuple[datetime, str, int, int]] = []
    # thousands of items share a few deadlines
    plans: dict[tuple[int, date], tuple[list[Step], datetime]] = {}
    # one object per instant: the UTC columns' bind memo (models.UTCDateTime) then converts each
    # due time once, not once per row
    instants: dict[datetime, datetime] = {}
    for item in current:
        plan = plans.get((item.campaign_id, item.deadline))
        if plan is None:
            context = campaigns[item.campaign_id]
            plan = plans[(item.campaign_id, item.deadline)] = (
                [
                    replace(step, due_at=instants.setdefault(step.due_at, step.due_at))
                    for step in steps_for(
                        context.definition.escalation,
                        item.deadline,
                        context.timezone,
                        calendar,
                        EVER_BEFORE,
                    )
                ],
                end_of_day(item.deadline, context.timezone),
            )
        steps, deadline_end = plan
        if steps and steps[0].level == REMINDER and steps[0].due_at <= item.created_at:
            # registered after its reminder day: the registration mail already told them
            steps = steps[1:]
        overdue = now >= deadline_end
        following = None
        for step in steps:
            if step.due_at > now:
                following = step.due_at
                break
            if item.entry_at <= step.due_at and not (step.level == REMINDER and overdue):
                reached.append((item, step))
        if following is not None:
            next_entries.append((following, item.kind, item.id, item.deadline_round))

    # thousands of items share a campaign, a unit and a responsible person: resolve each once
    resolved: dict[tuple[int, tuple[str, ...], int | None, int], tuple[int, ...]] = {}
    notified: list[_Reached] = []
    for item, step in reached:
        whom = (item.campaign_id, step.notify, item.unit_id, item.responsible_id)
        people = resolved.get(whom)
        if people is None:
            people = resolved[whom] = tuple(_resolve(step.notify, item, campaigns))
        notified.append((item, step, people))
    campaign_people = _people(session, current, resolved.values())
    inserted = _record(session, notified, campaign_people, now)
    if inserted is not None:  # a concurrent sweep won some: tell only of those this one recorded
        notified = [
            entry for entry in notified if (entry[0].kind, entry[0].id, entry[1].level) in inserted
        ]
    summary = _notify(
        session,
        notified,
        campaign_people,
        campaigns,
        now,
        calendar,
        base_url,
    )
    # in the queue's key order: equal due times side by side (one conversion each), and the
    # index pages written in order
    next_entries.sort()
    queue.schedule_many(session, next_entries)
    summary.items = len(items)
    return summary


def campaign_escalations(session: Session, campaign_id: int, by: Actor) -> list[Escalation]:
    """What was escalated in a campaign, newest first; for its leading group only (others: not
    found)."""
    campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
    return list(
        session.scalars(
            select(Escalation)
            .where(Escalation.campaign_id == campaign_id)
            .order_by(Escalation.reached_at.desc(), Escalation.id.desc())
        )
    )


@dataclass(slots=True)
class _Item:
    kind: str
    id: int
    campaign_id: int
    unit_id: int | None
    responsible_id: int
    deadline: date
    deadline_round: int
    state: str
    created_at: datetime
    severity: str | None = None
    # the deadline was counted over a year without the official calendar: the mails say 「预计」
    estimated: bool = False
    # the queue entry that brought the item up: its due time and the deadline round it was queued
    # for
    entry_at: datetime = EVER_BEFORE
    entry_round: int = 0

    @property
    def entry(self) -> tuple[datetime, str, int, int]:
        return (self.entry_at, self.kind, self.id, self.entry_round)

    @property
    def current(self) -> bool:
        """Still open at the deadline it was queued for (else the entry is stale: dropped, nothing
        sent)."""
        return self.state == "open" and self.entry_round == self.deadline_round


# an item, the step it reached and the people that step tells (ids, in order)
_Reached = tuple[_Item, Step, tuple[int, ...]]


# --- what is due: one source per kind of item, each read through the queue ----------------------


def _queued(
    session: Session, kind: str, item: Any, columns: tuple[Any, ...], now: datetime, limit: int
) -> Select[Any]:
    """The queue entries of ``kind`` due by ``now``, earliest first, joined to their items, both
    rows claimed."""
    entry = EscalationQueueEntry
    due: Any = entry.due_at <= now
    of_kind: Any = entry.item_kind == kind
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no histogram of due_at: it guesses that a quarter of the queue is due and,
        # for a kind with a small table (a thousand tasks beside a million queued hazards),
        # scans that table and probes the queue once per row (40 ms a sweep, with nothing
        # due). Few entries are ever due: say so, and the queue's key range leads.
        due = func.unlikely(due)
        # Given item_kind = constant, SQLite drops the kind from the key's order and no longer
        # sees that the key yields (due_at, item_id, round) in order: it sorted the ten
        # thousand rows in a temporary B-tree. Compared as an expression, the kind stays a
        # column of the key's order (it is never a bound of the key's range anyway).
        of_kind = entry.item_kind.concat("") == kind
    query = (
        select(type_coerce(entry.due_at, _RAW), entry.deadline_round, *columns)
        .join(item, item.id == entry.item_id)
        .where(of_kind, due)
        # the primary key's order (the kind is fixed)
        .order_by(entry.due_at, entry.item_kind, entry.item_id, entry.deadline_round)
        .limit(limit)
        .with_for_update(of=[entry.__table__, item.__table__], skip_locked=True)
    )
    if session.get_bind().dialect.name == "sqlite":
        return query  # escalate_due deletes the entries read in one range (queue.take)
    return _taking(query)


def _taking(query: Select[Any]) -> Select[Any]:
    """PostgreSQL: the read of due entries as one statement that also deletes the entries it
    returns.

    The read claims the rows (FOR UPDATE SKIP LOCKED, so other sweepers pass them
    by); a data-modifying WITH deletes those same rows by their ctid, which a locked
    row keeps until this transaction ends: one TID scan, where a second statement
    deleting by key probed the queue's primary key ten thousand times. The rows
    come out in the queue's key order, as the read took them.
    """
    queue_table = EscalationQueueEntry.__table__
    read = query.add_columns(literal_column(f"{queue_table.name}.ctid").label("entry_tid")).cte(
        "due"
    )
    taken = (
        delete(queue_table)
        .where(
            literal_column("ctid") == any_(func.array(select(read.c.entry_tid).scalar_subquery()))
        )
        .cte("taken")
    )
    # the read's columns: the entry's due time and round, then the item's, its id first
    due_at, deadline_round, item_id = list(read.c)[:3]
    return (
        select(*(column for column in read.c if column.name != "entry_tid"))
        .add_cte(taken)
        .order_by(due_at, item_id, deadline_round)
    )


def _due_rectifications(session: Session, now: datetime, limit: int) -> list[_Item]:
    query = _queued(
        session,
        "rectification",
        Rectification,
        (
            Rectification.id,
            Rectification.campaign_id,
            Rectification.unit_id,
            Rectification.responsible_id,
            type_coerce(Rectification.deadline, _RAW),
            Rectification.deadline_round,
            Rectification.state,
            type_coerce(Rectification.registered_at, _RAW),
            Rectification.severity,
            Rectification.deadline_estimated,
        ),
        now,
        limit,
    )
    # Core rows: the ORM's result machinery costs a third more
    rows = session.connection().execute(query).all()
    instant = _converter(session, EscalationQueueEntry.due_at)
    day = _converter(session, Rectification.deadline)
    registered = _converter(session, Rectification.registered_at)
    return [
        _Item(
            "rectification",
            item_id,
            campaign_id,
            unit_id,
            responsible_id,
            day(deadline),
            deadline_round,
            state,
            registered(registered_at),
            severity,
            estimated,
            entry_at=instant(at),
            entry_round=rnd,
        )
        for (
            at,
            rnd,
            item_id,
            campaign_id,
            unit_id,
            responsible_id,
            deadline,
            deadline_round,
            state,
            registered_at,
            severity,
            estimated,
        ) in rows
    ]


def _due_tasks(session: Session, now: datetime, limit: int) -> list[_Item]:
    query = _queued(
        session,
        "task",
        Task,
        (
            Task.id,
            Task.campaign_id,
            Task.unit_id,
            Task.assignee_id,
            Task.due_on,
            Task.state,
            Task.created_at,
            Task.due_estimated,
        ),
        now,
        limit,
    )
    rows = session.connection().execute(query).all()
    instant = _converter(session, EscalationQueueEntry.due_at)
    return [
        _Item(
            "task",
            tid,
            cid,
            uid,
            who,
            due,
            0,
            state,
            created,
            estimated=estimated,
            entry_at=instant(at),
            entry_round=rnd,
        )
        for at, rnd, tid, cid, uid, who, due, state, created, estimated in rows
    ]


def _due_petitions(session: Session, now: datetime, limit: int) -> list[_Item]:
    query = _queued(
        session,
        "petition",
        Petition,
        (
            Petition.id,
            Petition.campaign_id,
            Petition.unit_id,
            Petition.responsible_id,
            Petition.deadline,
            Petition.state,
            Petition.recorded_at,
            Petition.deadline_estimated,
        ),
        now,
        limit,
    )
    rows = session.connection().execute(query).all()
    instant = _converter(session, EscalationQueueEntry.due_at)
    return [
        _Item(
            "petition",
            pid,
            cid,
            uid,
            who,
            deadline,
            0,
            state,
            recorded,
            estimated=estimated,
            entry_at=instant(at),
            entry_round=rnd,
        )
        for at, rnd, pid, cid, uid, who, deadline, state, recorded, estimated in rows
    ]


@dataclass(frozen=True, slots=True)
class _Details:
    """What a mail shows of an item it lists: read only for the items listed (MAIL_ITEMS_LISTED
    a mail), not for the thousands a sweep after a holiday counts."""

    title: str
    unit: str | None
    site: str | None = None
    temporary_measures: str | None = None


# per kind: what a mail shows of the items it lists, by id (title, unit, site, temporary measures);
# given what makes "the id is one of those wanted" of an id column (_among)
_DETAILS_OF: dict[str, Callable[[Callable[[Any], Any]], Select[Any]]] = {
    "rectification": lambda among: (
        select(
            Rectification.id,
            Rectification.description,
            Unit.name,
            Site.name,
            Rectification.temporary_measures,
        )
        .outerjoin(Site, Site.id == Rectification.site_id)
        .outerjoin(Unit, Unit.id == Rectification.unit_id)
        .where(among(Rectification.id))
    ),
    "task": lambda among: (
        select(Task.id, Task.title, Unit.name)
        .outerjoin(Unit, Unit.id == Task.unit_id)
        .where(among(Task.id))
    ),
    "petition": lambda among: (
        select(Petition.id, literal("信访 letter/visit: ") + Petition.subject, Unit.name)
        .outerjoin(Unit, Unit.id == Petition.unit_id)
        .where(among(Petition.id))
    ),
}


def _details(session: Session, wanted: dict[str, set[int]]) -> dict[tuple[str, int], _Details]:
    found: dict[tuple[str, int], _Details] = {}
    for kind, ids in wanted.items():
        statement = _DETAILS_OF[kind](lambda column, ids=ids: _among(session, column, ids))
        for item_id, *shown in session.connection().execute(statement):
            found[(kind, item_id)] = _Details(*shown)
    return found


def _among(session: Session, column: Any, ids: Iterable[int]) -> Any:
    """``column`` is one of ``ids``, the ids bound as one value (PostgreSQL: an array's text;
    SQLite: a JSON array).

    A sweep asks for a couple of thousand people and listed items: bound one
    parameter each, SQLAlchemy rendered and converted every one of them, in
    chunks under the back ends' limits on parameters.
    """
    ordered = sorted(ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(queue.integers(ordered))
    return column.in_(select(func.json_each(json.dumps(ordered)).table_valued("value").c.value))


def _join_by_key(session: Session) -> Callable[[], None]:
    """On PostgreSQL, have the planner fetch each due entry's item by its primary key; return what
    restores its settings.

    With ten thousand entries due among a million hazards, its cost estimates
    (random_page_cost 4) favour reading the whole table into a hash join, and
    FOR UPDATE rules out the parallel plan that makes the floor's select cheap:
    0.9 s instead of 0.5 s. The settings are transaction-local: an error that
    aborts the transaction also undoes them.
    """
    if session.get_bind().dialect.name != "postgresql":
        return lambda: None
    connection = session.connection()
    hashjoin, mergejoin = connection.execute(
        text("SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin')")
    ).one()
    connection.execute(
        text(
            "SELECT set_config('enable_hashjoin', 'off', true), "
            "set_config('enable_mergejoin', 'off', true)"
        )
    )

    def restore() -> None:
        connection.execute(
            text(
                "SELECT set_config('enable_hashjoin', :hashjoin, true), "
                "set_config('enable_mergejoin', :mergejoin, true)"
            ),
            {"hashjoin": hashjoin, "mergejoin": mergejoin},
        )

    return restore


# a column read as the driver gives it, converted by _converter
_RAW = String()


def _converter(session: Session, column: Any) -> Callable[[Any], Any]:
    """The conversion of ``column``'s type for values read raw (``type_coerce(column, _RAW)``),
    each distinct value converted once.

    Ten thousand due rows share a few due times and deadlines: SQLAlchemy's
    processors parsed SQLite's text (and gave PostgreSQL's instants their zone)
    once per row, a third of the client's time on the sweep's select.
    """
    dialect = session.get_bind().dialect
    convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
    if convert is None:
        return lambda value: value
    memo: dict[Any, Any] = {}

    def converted(value: Any) -> Any:
        found = memo.get(value)
        if found is None:
            found = memo[value] = convert(value)
        return found

    return converted


# the order in which a batch is filled when more is due than one batch holds
SOURCES: tuple[Callable[[Session, datetime, int], list[_Item]], ...] = (
    _due_rectifications,
    _due_tasks,
    _due_petitions,
)


@dataclass
class _CampaignContext:
    definition: Definition
    timezone: str
    title: str
    unit_id: int
    holders: dict[tuple[str, int], list[int]]  # (role, unit id) → person ids, in binding order
    parent_id: int | None = None  # the campaign whose cascade started it: parent.… roles


def _campaign_context(
    session: Session, campaign_ids: set[int], contexts: dict[int, _CampaignContext]
) -> dict[int, _CampaignContext]:
    """The campaigns' definitions and role holders, their ancestors' too (an escalation may
    climb to them)."""
    campaign_ids = campaign_ids - contexts.keys()
    if not campaign_ids:
        return contexts
    loaded: set[int] = set()
    wanted = campaign_ids
    while wanted:
        for campaign, definition_row in session.execute(
            select(Campaign, DefinitionRow)
            .join(DefinitionRow, DefinitionRow.id == Campaign.definition_id)
            .where(Campaign.id.in_(wanted))
        ):
            contexts[campaign.id] = _CampaignContext(
                stored_definition(definition_row),
                campaign.timezone,
                campaign.title,
                campaign.unit_id,
                defaultdict(list),
                campaign.parent_id,
            )
        loaded |= wanted
        parents = {contexts[c].parent_id for c in wanted if c in contexts}
        wanted = {p for p in parents if p is not None} - contexts.keys()
    campaign_ids = loaded
    for campaign_id, role, unit_id, person_id in session.execute(
        select(
            RoleBinding.campaign_id, RoleBinding.role, RoleBinding.unit_id, RoleBinding.person_id
        )
        .where(RoleBinding.campaign_id.in_(campaign_ids))
        .order_by(RoleBinding.id)
    ):
        contexts[campaign_id].holders[(role, unit_id)].append(person_id)
    return contexts


# --- recording and telling ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Recipient:
    id: int
    email: str
    name: str


def _people(
    session: Session, items: list[_Item], notified: Iterable[tuple[int, ...]]
) -> dict[int, _Recipient]:
    ids = {item.responsible_id for item in items}
    for person_ids in notified:
        ids.update(person_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Person.id, Person.email, Person.name).where(_among(session, Person.id, ids))
    )
    return {row.id: _Recipient(row.id, row.email, row.name) for row in rows}


def _record(
    session: Session, reached: list[_Reached], people: dict[int, _Recipient], now: datetime
) -> set[tuple[str, int, int]] | None:
    """Insert the escalation rows; return None when all went in, else the (kind, item id, level)
    of those this sweep inserted (a concurrent one may have won some)."""
    if not reached:
        return None
    # the same few lists of people over and over: join each once
    joined: dict[tuple[int, ...], str] = {}
    for _item, _step, person_ids in reached:
        if person_ids not in joined:
            joined[person_ids] = ",".join(people[p].email for p in person_ids)
    # one tuple per row, in _COLUMNS' order
    rows = [
        (
            item.campaign_id,
            item.kind,
            item.id,
            item.deadline_round,
            step.level,
            step.colour,
            item.deadline,
            step.due_at,
            now,
            joined[person_ids],
        )
        for item, step, person_ids in reached
    ]
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        return _record_sqlite(connection, rows)
    # PostgreSQL: one INSERT … SELECT over arrays (an executemany with RETURNING goes out as one
    # statement per row, four times the cost). The columns with few distinct values go as those
    # values and an index per row (workflow.db.indexed; 0.21 -> 0.12 s for 10,000 rows), and the
    # integer arrays as their text (queue.int_array: psycopg's list adapter is a Python loop).
    columns = dict(zip(_COLUMNS, zip(*rows)))
    values: dict[str, object] = {"now": now}
    for name in ("campaign_id", "item_id", "deadline_round", "level"):
        values[name] = queue.int_array(columns[name])
    for name, distinct in _DISTINCT.items():
        values[distinct], index = indexed(list(columns[name]))
        values[name] = queue.int_array(index)
    inserted = {
        (kind, item_id, level) for kind, item_id, level in connection.execute(_INSERT_STEPS, values)
    }
    return None if len(inserted) == len(rows) else inserted


# the columns _record sends as distinct values and an index per row, and the names of the former
_DISTINCT = {
    "item_kind": "kinds",
    "colour": "colours",
    "deadline": "deadlines",
    "due_at": "due_times",
    "recipients": "recipient_lists",
}
_COLUMNS = (
    "campaign_id",
    "item_kind",
    "item_id",
    "deadline_round",
    "level",
    "colour",
    "deadline",
    "due_at",
    "reached_at",
    "recipients",
)


def _insert_steps(table: Any) -> Any:
    """PostgreSQL's INSERT … SELECT of a batch's steps over the arrays _record binds."""
    per_row = ("campaign_id", "item_id", "deadline_round", "level", *_DISTINCT)
    looked_up = {name: f"(:{distinct})[u.{name}]" for name, distinct in _DISTINCT.items()}
    chosen = [
        ":now" if name == "reached_at" else looked_up.get(name, f"u.{name}") for name in _COLUMNS
    ]
    arrays = ", ".join(f"CAST(:{name} AS integer[])" for name in per_row)
    statement = text(
        f"INSERT INTO {table.name} ({', '.join(_COLUMNS)}) "
        f"SELECT {', '.join(chosen)} "
        f"FROM unnest({arrays}) AS u({', '.join(per_row)}) "
        "ON CONFLICT DO NOTHING RETURNING item_kind, item_id, level"
    )
    return statement.bindparams(
        *(bindparam(name, type_=queue.UNTYPED) for name in per_row),
        *(
            bindparam(distinct, type_=ARRAY(table.c[name].type))
            for name, distinct in _DISTINCT.items()
        ),
        bindparam("now", type_=table.c.reached_at.type),
    )


_INSERT_STEPS = _insert_steps(Escalation.__table__)

# SQLite: the rows as one JSON array of arrays, unpacked by json_each in one INSERT … SELECT (a
# WHERE before ON CONFLICT: its parser's ambiguity)
_INSERT_STEPS_SQLITE = text(
    f"INSERT INTO {Escalation.__tablename__} ({', '.join(_COLUMNS)}) SELECT "
    + ", ".join(f"json_extract(value, '$[{n}]')" for n in range(len(_COLUMNS)))
    + " FROM json_each(:rows) WHERE true ON CONFLICT DO NOTHING"
)


def _record_sqlite(
    connection: Any, rows: list[tuple[Any, ...]]
) -> set[tuple[str, int, int]] | None:
    """SQLite's half of _record: one statement over the rows as JSON, not an executemany.

    Binding ten thousand rows of ten parameters through SQLAlchemy and sqlite3 was
    most of the insert; json.dumps writes them in C and json_each reads them in C.
    Dates and instants go as the text SQLAlchemy's own types would store (each
    distinct value converted once). The sweep holds SQLite's write lock (BEGIN
    IMMEDIATE): nobody else inserts meanwhile, so the rows this statement made
    are those numbered after the highest id before it. The count says whether
    every row went in; only when some did not are the new ones read back.
    """
    table = Escalation.__table__
    # the text each distinct date and instant is stored as (a sweep's rows share a few)
    deadline, due_at, reached_at = (
        table.c[name].type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
        for name in ("deadline", "due_at", "reached_at")
    )
    deadlines = {value: deadline(value) for value in {row[6] for row in rows}}
    due_times = {value: due_at(value) for value in {row[7] for row in rows}}
    now = reached_at(rows[0][8])
    payload = json.dumps(
        [(*row[:6], deadlines[row[6]], due_times[row[7]], now, row[9]) for row in rows],
        ensure_ascii=False,
    )
    before = connection.scalar(select(func.max(table.c.id))) or 0
    result = connection.execute(_INSERT_STEPS_SQLITE, {"rows": payload})
    if result.rowcount == len(rows):
        return None
    return {
        (kind, item_id, level)
        for kind, item_id, level in connection.execute(
            select(table.c.item_kind, table.c.item_id, table.c.level).where(table.c.id > before)
        )
    }


def _notify(
    session: Session,
    reached: list[_Reached],
    people: dict[int, _Recipient],
    campaigns: dict[int, _CampaignContext],
    now: datetime,
    calendar: WorkingCalendar,
    base_url: str,
) -> EscalationSummary:
    """Queue one mail per recipient and level for this batch: the worst of its items listed, all
    counted."""
    summary = EscalationSummary()
    today_in = {
        tz: local_date(now, tz) for tz in {context.timezone for context in campaigns.values()}
    }
    # a few campaigns and deadlines among thousands of items: each one's days overdue counted once
    overdue_days: dict[tuple[int, date], int] = {}
    late_before = now - LATE_AFTER
    # (person, level) → the first item and step of the group, and all its (item, step, days
    # overdue)
    groups: dict[tuple[int, int], tuple[_Item, Step, list[tuple[_Item, Step, int]]]] = {}
    for item, step, person_ids in reached:
        days = overdue_days.get((item.campaign_id, item.deadline))
        if days is None:
            today = today_in[campaigns[item.campaign_id].timezone]
            days = overdue_days[(item.campaign_id, item.deadline)] = max(
                calendar.working_days_between(item.deadline, today), 0
            )
        entry = (item, step, days)
        level = step.level
        for person_id in person_ids:
            group = groups.get((person_id, level))
            if group is None:
                groups[(person_id, level)] = (item, step, [entry])
            else:
                group[2].append(entry)
    for level, count in Counter(step.level for _item, step, _people in reached).items():
        if level == REMINDER:
            summary.reminders += count
        else:
            summary.levels[level] += count
    listed: dict[tuple[int, int], list[tuple[_Item, Step, int]]] = {}
    wanted: dict[str, set[int]] = defaultdict(set)
    for key, (_item, _step, entries) in groups.items():
        worst = sorted(entries, key=lambda entry: mailtext.worst_key(entry[0].severity, entry[2]))
        listed[key] = worst[:MAIL_ITEMS_LISTED]
        for item, _step, _days in listed[key]:
            wanted[item.kind].add(item.id)
    details = _details(session, wanted)
    mails: list[dict[str, object]] = []
    addressed: list[tuple[int, date, dict[str, object]]] = []
    for (person_id, level), (first_item, first_step, entries) in groups.items():
        person = people[person_id]
        lines = [
            _line(item, details[(item.kind, item.id)], days, people, step.due_at < late_before)
            for item, step, days in listed[(person_id, level)]
        ]
        subject, body = mailtext.escalation_mail(
            level=level,
            colour=first_step.colour,
            recipient=person,
            items=lines,
            campaign_title=campaigns[first_item.campaign_id].title,
            base_url=base_url,
            counted=mailtext.count_of(
                (item.kind, item.severity, step.due_at < late_before)
                for item, step, _days in entries
            ),
        )
        # stable and unique: the first item of the group identifies this sweep's mail to this person
        first = f"{first_item.kind}{first_item.id}-r{first_item.deadline_round}"
        key = f"esc-L{level}-{first}-p{person_id}"
        mails.append(
            mail_row(
                key=key,
                recipient=person.email,
                subject=subject,
                body=body,
                now=now,
                campaign_id=first_item.campaign_id,
            )
        )
        addressed.append(
            (person_id, today_in[campaigns[first_item.campaign_id].timezone], mails[-1])
        )
    # whoever stands in for a recipient away today gets a copy, marked 「代 张三」
    mails += stand_ins.copy_rows(session, addressed)
    enqueue_many(session, mails)
    summary.mails = len(mails)
    return summary


def _line(
    item: _Item, shown: _Details, days: int, people: dict[int, _Recipient], late: bool
) -> mailtext.ItemLine:
    return mailtext.ItemLine(
        kind=item.kind,
        id=item.id,
        title=shown.title,
        site=shown.site,
        unit=shown.unit,
        deadline=item.deadline,
        severity=item.severity,
        overdue_working_days=days,
        responsible=people[item.responsible_id].name,
        temporary_measures=shown.temporary_measures,
        late=late,
        estimated=item.estimated,
    )


def _resolve(
    notify: tuple[str, ...], item: _Item, campaigns: dict[int, _CampaignContext]
) -> list[int]:
    """The people a level notifies: the responsible person, and each role's holders for the item's
    unit (:func:`_holders`)."""
    people: list[int] = []
    for notified in notify:
        found = (
            [item.responsible_id]
            if notified == RESPONSIBLE
            else _holders(notified, item, campaigns)
        )
        people.extend(p for p in found if p not in people)
    return people


def _holders(notified: str, item: _Item, campaigns: dict[int, _CampaignContext]) -> list[int]:
    """A role's holders for the item; a ``parent.`` role's in the campaign above, where a unit role
    is the one of the unit the campaign below runs in."""
    depth, role = ancestor_role(notified)
    context, unit_id = campaigns[item.campaign_id], item.unit_id
    for _level in range(depth):
        parent = campaigns.get(context.parent_id) if context.parent_id is not None else None
        if parent is None:  # a top campaign's parent.… roles reach nobody
            return []
        context, unit_id = parent, context.unit_id
    try:
        scope = context.definition.role(role).scope
    except KeyError:  # refused when the campaign started (cascade.ancestor_problems)
        return []
    return context.holders.get((role, unit_id if scope == "unit" else context.unit_id), [])
