"""Escalation (督办): a blue reminder before the deadline, then each level of the definition after it.

An item's steps are fixed by its deadline: step 0 is the reminder
(``remind_before`` the deadline), step *n* is level *n* (``after`` the deadline,
in calendar or working days). A level "N working days after" comes due at the
start of the N-th working day after the deadline day, when the item has been
overdue for N working days (a deadline of 2026-09-29 reaches a 3-working-day
level on 2026-10-09, after the National Day holiday). ``next_escalation_at`` on
the item is the due time of its next step, so a sweep touches only items with
work due, through one index. Each (item, deadline round, level) is recorded
once under a unique key, in the same transaction as the mails it causes.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from workflow import mailtext
from workflow.assignment import in_leading_group
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.catalogue import stored_definition
from workflow.clock import end_of_day, local_date
from workflow.definitions import Definition, EscalationSpec
from workflow.errors import NotFound
from workflow.models import Campaign, DefinitionRow, Escalation, Person, Rectification, RoleBinding, Site, Task, Unit
from workflow.outbox import enqueue_many, mail_row

REMINDER = 0
EVER_BEFORE = datetime(1970, 1, 1, tzinfo=timezone.utc)
DEFAULT_COLOURS = {0: "blue", 1: "yellow"}
RESPONSIBLE = "responsible"
BATCH_SIZE = 5000
# a step recorded more than this after it came due is reported as late (the sweep was not running)
LATE_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Step:
    level: int
    colour: str
    due_at: datetime
    notify: tuple[str, ...]


def steps_for(spec: EscalationSpec | None, deadline: date, tz: str, calendar: WorkingCalendar,
              created_at: datetime) -> list[Step]:
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
        steps.append(Step(number, level.colour or DEFAULT_COLOURS.get(number, "red"),
                          end_of_day(day - timedelta(days=1), tz), level.notify))
    return sorted(steps, key=lambda s: (s.due_at, s.level))


def next_step_at(steps: list[Step], after: datetime) -> datetime | None:
    """When the first step due later than ``after`` comes due (None: no more steps)."""
    return next((s.due_at for s in steps if s.due_at > after), None)


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


@dataclass
class _Item:
    kind: str
    id: int
    campaign_id: int
    unit_id: int | None
    responsible_id: int
    title: str
    deadline: date
    deadline_round: int
    next_at: datetime
    created_at: datetime
    site: str | None = None
    unit: str | None = None
    temporary_measures: str | None = None
    severity: str | None = None


def escalate_due(session: Session, now: datetime, calendar: WorkingCalendar, *, base_url: str,
                 limit: int = BATCH_SIZE, contexts: dict[int, Any] | None = None) -> EscalationSummary:
    """Record the reminders and levels that came due by ``now`` for one batch of items, and queue their mails.

    Returns what was done; an empty summary means nothing more is due. Rows are
    claimed with FOR UPDATE SKIP LOCKED, so several sweepers share the work.
    ``contexts`` may carry campaigns already loaded by an earlier batch of the same sweep.
    """
    items = _due_rectifications(session, now, limit)
    if len(items) < limit:
        items += _due_tasks(session, now, limit - len(items))
    if not items:
        return EscalationSummary()

    campaigns = _campaign_context(session, {item.campaign_id for item in items}, {} if contexts is None else contexts)
    reached: list[tuple[_Item, Step]] = []
    next_at: dict[tuple[str, int], datetime | None] = {}
    schedules: dict[tuple[int, date], list[Step]] = {}  # thousands of items share a few deadlines
    for item in items:
        context = campaigns[item.campaign_id]
        if (item.campaign_id, item.deadline) not in schedules:
            schedules[(item.campaign_id, item.deadline)] = steps_for(
                context.definition.escalation, item.deadline, context.timezone, calendar, EVER_BEFORE)
        # registered after its reminder day: the registration mail already told them
        steps = [s for s in schedules[(item.campaign_id, item.deadline)]
                 if not (s.level == REMINDER and s.due_at <= item.created_at)]
        overdue = now >= end_of_day(item.deadline, context.timezone)
        for step in steps:
            if item.next_at <= step.due_at <= now and not (step.level == REMINDER and overdue):
                reached.append((item, step))
        next_at[(item.kind, item.id)] = next_step_at(steps, now)

    campaign_people = _people(session, items, reached, campaigns)
    notified = {(item.kind, item.id, step.level): _resolve(step.notify, item, campaigns[item.campaign_id])
                for item, step in reached}
    inserted = _record(session, reached, notified, campaign_people, now)
    summary = _notify(session, [(item, step) for item, step in reached if (item.kind, item.id, step.level) in inserted],
                      notified, campaign_people, campaigns, now, calendar, base_url)
    _reschedule(session, next_at)
    summary.items = len(items)
    return summary


def campaign_escalations(session: Session, campaign_id: int, by: Actor) -> list[Escalation]:
    """What was escalated in a campaign, newest first; for its leading group only (others: not found)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or not in_leading_group(session, campaign.id, campaign.unit_id, by):
        raise NotFound(f"no campaign {campaign_id}")
    return list(session.scalars(select(Escalation).where(Escalation.campaign_id == campaign_id)
                                .order_by(Escalation.reached_at.desc(), Escalation.id.desc())))


# --- what is due ----------------------------------------------------------------------------------------------------

def _due_rectifications(session: Session, now: datetime, limit: int) -> list[_Item]:
    query = (
        select(Rectification.id, Rectification.campaign_id, Rectification.unit_id, Rectification.responsible_id,
               Rectification.description, Rectification.deadline, Rectification.deadline_round,
               Rectification.next_escalation_at, Rectification.registered_at, Site.name, Unit.name,
               Rectification.temporary_measures, Rectification.severity)
        .outerjoin(Site, Site.id == Rectification.site_id)
        .outerjoin(Unit, Unit.id == Rectification.unit_id)
        .where(Rectification.next_escalation_at <= now, Rectification.state == "open")
        .order_by(Rectification.next_escalation_at)
        .limit(limit)
        .with_for_update(of=Rectification, skip_locked=True)
    )
    return [_Item("rectification", *row) for row in session.execute(query)]


def _due_tasks(session: Session, now: datetime, limit: int) -> list[_Item]:
    query = (
        select(Task.id, Task.campaign_id, Task.unit_id, Task.assignee_id, Task.title, Task.due_on,
               Task.next_escalation_at, Task.created_at, Unit.name)
        .outerjoin(Unit, Unit.id == Task.unit_id)
        .where(Task.next_escalation_at <= now, Task.state == "open")
        .order_by(Task.next_escalation_at)
        .limit(limit)
        .with_for_update(of=Task, skip_locked=True)
    )
    return [_Item("task", tid, cid, uid, who, title, due, 0, next_at, created, unit=unit)
            for tid, cid, uid, who, title, due, next_at, created, unit in session.execute(query)]


@dataclass
class _CampaignContext:
    definition: Definition
    timezone: str
    title: str
    unit_id: int
    holders: dict[str, list[tuple[int, int]]]  # role → (unit id, person id)


def _campaign_context(session: Session, campaign_ids: set[int],
                      contexts: dict[int, _CampaignContext]) -> dict[int, _CampaignContext]:
    campaign_ids = campaign_ids - contexts.keys()
    if not campaign_ids:
        return contexts
    for campaign, definition_row in session.execute(
        select(Campaign, DefinitionRow).join(DefinitionRow, DefinitionRow.id == Campaign.definition_id)
        .where(Campaign.id.in_(campaign_ids))
    ):
        contexts[campaign.id] = _CampaignContext(stored_definition(definition_row), campaign.timezone,
                                                 campaign.title, campaign.unit_id, defaultdict(list))
    for campaign_id, role, unit_id, person_id in session.execute(
        select(RoleBinding.campaign_id, RoleBinding.role, RoleBinding.unit_id, RoleBinding.person_id)
        .where(RoleBinding.campaign_id.in_(campaign_ids)).order_by(RoleBinding.id)
    ):
        contexts[campaign_id].holders[role].append((unit_id, person_id))
    return contexts


# --- recording and telling ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Recipient:
    id: int
    email: str
    name: str


def _people(session: Session, items: list[_Item], reached: list[tuple[_Item, Step]],
            campaigns: dict[int, _CampaignContext]) -> dict[int, _Recipient]:
    ids = {item.responsible_id for item in items}
    for item, step in reached:
        ids.update(_resolve(step.notify, item, campaigns[item.campaign_id]))
    if not ids:
        return {}
    rows = session.execute(select(Person.id, Person.email, Person.name).where(Person.id.in_(ids)))
    return {row.id: _Recipient(row.id, row.email, row.name) for row in rows}


def _record(session: Session, reached: list[tuple[_Item, Step]], notified: dict[tuple[str, int, int], list[int]],
            people: dict[int, _Recipient], now: datetime) -> set[tuple[str, int, int]]:
    """Insert the escalation rows; return those this sweep inserted (a concurrent one may have won some)."""
    if not reached:
        return set()
    rows = [{"campaign_id": item.campaign_id, "item_kind": item.kind, "item_id": item.id,
             "deadline_round": item.deadline_round, "level": step.level, "colour": step.colour,
             "deadline": item.deadline, "due_at": step.due_at, "reached_at": now,
             "recipients": ",".join(people[p].email for p in notified[(item.kind, item.id, step.level)])}
            for item, step in reached]
    table = Escalation.__table__
    insert_for = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # Core, not the ORM bulk path: ten thousand rows a sweep after a holiday
    statement = insert_for(table).on_conflict_do_nothing().returning(table.c.item_kind, table.c.item_id,
                                                                     table.c.level)
    return {(kind, item_id, level) for kind, item_id, level in session.connection().execute(statement, rows)}


def _notify(session: Session, reached: list[tuple[_Item, Step]], notified: dict[tuple[str, int, int], list[int]],
            people: dict[int, _Recipient], campaigns: dict[int, _CampaignContext], now: datetime,
            calendar: WorkingCalendar, base_url: str) -> EscalationSummary:
    """Queue one mail per recipient and level for this batch, listing all their items."""
    summary = EscalationSummary()
    groups: dict[tuple[int, int], list[tuple[_Item, Step]]] = defaultdict(list)
    for item, step in reached:
        if step.level == REMINDER:
            summary.reminders += 1
        else:
            summary.levels[step.level] += 1
        for person_id in notified[(item.kind, item.id, step.level)]:
            groups[(person_id, step.level)].append((item, step))

    today_in = {tz: local_date(now, tz) for tz in {context.timezone for context in campaigns.values()}}
    mails: list[dict[str, object]] = []
    for (person_id, level), pairs in groups.items():
        person = people[person_id]
        first_item, first_step = pairs[0]
        lines = []
        for item, step in pairs:
            today = today_in[campaigns[item.campaign_id].timezone]
            lines.append(mailtext.ItemLine(
                kind=item.kind, id=item.id, title=item.title, site=item.site, unit=item.unit,
                deadline=item.deadline, severity=item.severity,
                overdue_working_days=max(calendar.working_days_between(item.deadline, today), 0),
                responsible=people[item.responsible_id].name, temporary_measures=item.temporary_measures,
                late=step.due_at < now - LATE_AFTER))
        subject, body = mailtext.escalation_mail(level=level, colour=first_step.colour, recipient=person,
                                                 items=lines, campaign_title=campaigns[first_item.campaign_id].title,
                                                 base_url=base_url)
        # stable and unique: the first item of the group identifies this sweep's mail to this person
        key = f"esc-L{level}-{first_item.kind}{first_item.id}-r{first_item.deadline_round}-p{person_id}"
        mails.append(mail_row(key=key, recipient=person.email, subject=subject, body=body, now=now,
                              campaign_id=first_item.campaign_id))
    enqueue_many(session, mails)
    summary.mails = len(mails)
    return summary


def _resolve(notify: tuple[str, ...], item: _Item, context: _CampaignContext) -> list[int]:
    """The people a level notifies: the responsible person, and each role's holders for the item's unit."""
    people: list[int] = []
    for role in notify:
        if role == RESPONSIBLE:
            found = [item.responsible_id]
        else:
            scope_unit = item.unit_id if context.definition.role(role).scope == "unit" else context.unit_id
            found = [person for unit_id, person in context.holders.get(role, []) if unit_id == scope_unit]
        people.extend(p for p in found if p not in people)
    return people


def _reschedule(session: Session, next_at: dict[tuple[str, int], datetime | None]) -> None:
    """Store each item's next due step: one UPDATE per distinct time (items share a few deadlines)."""
    for kind, table in (("rectification", Rectification.__table__), ("task", Task.__table__)):
        by_time: dict[datetime | None, list[int]] = defaultdict(list)
        for (item_kind, item_id), when in next_at.items():
            if item_kind == kind:
                by_time[when].append(item_id)
        for when, ids in by_time.items():
            for start in range(0, len(ids), 900):
                session.connection().execute(
                    update(table).where(table.c.id.in_(ids[start:start + 900])).values(next_escalation_at=when))
