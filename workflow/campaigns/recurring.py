"""Recurring duties: each period's occurrence becomes a task while the campaign is in the duty's
phase.

The seeds run on them: the quarterly "three ones", monthly education and a
quarterly return visit of each supervised person, quarterly hazard screening,
the Wednesday reception duty. A cursor per (campaign, duty) records how far
occurrences were created; a sweep creates every period that started since,
once each, however long the clock was stopped (catch-up), and the occurrence
key (campaign, duty, target, period) is unique, so two sweeps never make one
twice. Leaving the phase stops the duty (its cursor no longer matches the
campaign's state); open occurrences stay with their assignees.

Entering a phase late loses no period: its duties start from the phase's planned
start (when that is earlier), and the periods begun by the entry are created at
once, each due from its own start. A campaign-wide duty (top-level ``recurring:``)
keeps one cursor, moved along to each phase it covers, so it runs unbroken from
its first phase to the close.
"""

from __future__ import annotations

import calendar as month_lengths
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.calendar import WorkingCalendar
from workflow.campaigns.fanout import Scope
from workflow.campaigns.task_rows import queue_task_escalations, stored_scope, task_rows
from workflow.clock import as_utc
from workflow.db import dialect_insert
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.cron import crontab_trigger
from workflow.definitions.reader import Definition, PhaseSpec, RecurringSpec
from workflow.durations import count
from workflow.models import Campaign, RecurringCursor, Task

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# a cron duty firing every minute after a long stop would otherwise create without bound in one pass
MAX_PERIODS_PER_PASS = 400


def start_duties(
    session: Session,
    campaign: Campaign,
    definition: Definition,
    phase: PhaseSpec,
    window_start: date,
    scope: Scope,
    now: datetime,
    calendar: WorkingCalendar,
) -> int:
    """Start the recurring duties running in ``phase`` from ``window_start`` (the earlier of its
    planned start and the entry) and create the occurrences begun by ``now``; return tasks
    created.

    A campaign-wide duty already running in the phase before keeps its cursor (moved to this
    phase); one that resumes after a gap restarts from ``window_start``.
    """
    if not definition.recurring and not any(p.recurring for p in definition.phases):
        return 0  # no duty ever runs: no cursor to read (a cascade starts a thousand campaigns)
    before_start = as_utc(
        datetime.combine(window_start, time.min, tzinfo=ZoneInfo(campaign.timezone))
        - timedelta(seconds=1)
    )
    ids = definition.phase_ids()
    position = ids.index(phase.id)
    previous = ids[position - 1] if position else None
    running = {
        cursor.duty_key: cursor
        for cursor in session.scalars(
            # locked: a sweep creating this campaign's occurrences meanwhile finishes first
            select(RecurringCursor)
            .where(RecurringCursor.campaign_id == campaign.id)
            .with_for_update()
        )
    }
    started = []
    for duty in definition.duties(phase.id):
        cursor = running.get(duty.id)
        if cursor is None:
            cursor = RecurringCursor(
                campaign_id=campaign.id,
                phase_key=phase.id,
                duty_key=duty.id,
                generated_until=before_start,
            )
            session.add(cursor)
        else:
            ran_before = previous is not None and (duty.phases is None or previous in duty.phases)
            if not ran_before:
                cursor.generated_until = max(as_utc(cursor.generated_until), before_start)
            cursor.phase_key = phase.id
        started.append((cursor, duty))
    session.flush()
    return _create_occurrences(session, campaign, definition, scope, started, now, calendar)


def create_due_occurrences(session: Session, now: datetime, calendar: WorkingCalendar) -> int:
    """Create the occurrences of every running duty whose period started by ``now``; return tasks
    created."""
    cursors = session.execute(
        select(RecurringCursor, Campaign)
        .join(Campaign, Campaign.id == RecurringCursor.campaign_id)
        .where(Campaign.state == RecurringCursor.phase_key, RecurringCursor.generated_until < now)
        .order_by(RecurringCursor.id)
        .with_for_update(of=RecurringCursor, skip_locked=True)
    ).all()
    created = 0
    # one fan-out scope per campaign and pass: sites, lists, bindings
    scopes: dict[int, _LazyScope] = {}
    for cursor, campaign in cursors:
        definition = stored_definition(campaign.definition)
        duty = next(
            (d for d in definition.duties(cursor.phase_key) if d.id == cursor.duty_key),
            None,
        )
        if duty is None:
            continue
        if campaign.id not in scopes:
            scopes[campaign.id] = _LazyScope(session, campaign)
        created += _create_occurrences(
            session, campaign, definition, scopes[campaign.id], [(cursor, duty)], now, calendar
        )
    session.flush()
    return created


def period_starts(
    duty: RecurringSpec, tz: str, after: datetime, until: datetime
) -> Iterator[tuple[str, date, datetime]]:
    """(period key, first day, start instant in UTC) of each period starting in (after, until],
    oldest first."""
    zone = ZoneInfo(tz)
    produced = 0
    if duty.every in ("week", "month", "quarter", "year"):
        day = as_utc(after).astimezone(zone).date()
        while produced < MAX_PERIODS_PER_PASS:
            key, starts_on = _calendar_period(duty, day)
            starts_at = datetime.combine(starts_on, time.min, tzinfo=zone).astimezone(after.tzinfo)
            if starts_at > until:
                return
            if starts_at > after:
                produced += 1
                yield key, starts_on, starts_at
            day = _next_period_day(duty.every, starts_on)
        return
    trigger = crontab_trigger(duty.every, zone)
    fire = trigger.get_next_fire_time(None, as_utc(after).astimezone(zone) + timedelta(seconds=1))
    while fire is not None and fire <= until and produced < MAX_PERIODS_PER_PASS:
        produced += 1
        yield fire.strftime("%Y-%m-%dT%H:%M"), fire.date(), as_utc(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))


def _create_occurrences(
    session: Session,
    campaign: Campaign,
    definition: Definition,
    scope: Scope | _LazyScope,
    cursors: list[tuple[RecurringCursor, RecurringSpec]],
    now: datetime,
    calendar: WorkingCalendar,
) -> int:
    """Create the occurrences of each duty whose period started after its cursor and by ``now``;
    move the cursors on; return tasks created."""
    created = 0
    for cursor, duty in cursors:
        periods = list(period_starts(duty, campaign.timezone, cursor.generated_until, now))
        if not periods:
            continue
        if isinstance(scope, _LazyScope):
            scope = scope.load()
        rows = []
        for period, starts_on, starts_at in periods:
            due = count(duty.due, starts_on, calendar) if duty.due else None
            rows += task_rows(campaign, definition, duty, scope, cursor.phase_key, due, period, now)
        created += _insert_new(session, rows)
        queue_task_escalations(session, campaign, definition, rows, now, calendar)
        cursor.generated_until = periods[-1][2]
    return created


class _LazyScope:
    """A campaign's fan-out scope, loaded the first time a duty of it has a period to create."""

    def __init__(self, session: Session, campaign: Campaign) -> None:
        self.session, self.campaign = session, campaign
        self.scope: Scope | None = None

    def load(self) -> Scope:
        if self.scope is None:
            self.scope = stored_scope(self.session, self.campaign)
        return self.scope


def _calendar_period(duty: RecurringSpec, day: date) -> tuple[str, date]:
    """The period containing ``day`` and the day its occurrence starts (``on``: a weekday or a day
    of month)."""
    if duty.every == "week":
        monday = day - timedelta(days=day.weekday())
        offset = WEEKDAYS.index(duty.on) if isinstance(duty.on, str) else 0
        year, week, _ = monday.isocalendar()
        return f"{year}-W{week:02d}", monday + timedelta(days=offset)
    if duty.every == "month":
        first = day.replace(day=1)
        return f"{day.year}-{day.month:02d}", _day_of_month(first, duty.on)
    if duty.every == "quarter":
        quarter = (day.month - 1) // 3
        first = date(day.year, quarter * 3 + 1, 1)
        return f"{day.year}-Q{quarter + 1}", _day_of_month(first, duty.on)
    first = date(day.year, 1, 1)
    return f"{day.year}", _day_of_month(first, duty.on)


def _next_period_day(every: str, starts_on: date) -> date:
    """A day inside the period after the one that starts on ``starts_on``."""
    if every == "week":
        return starts_on + timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[every]
    month_index = starts_on.year * 12 + starts_on.month - 1 + months
    return date(month_index // 12, month_index % 12 + 1, 1)


def _day_of_month(first: date, on: str | int | None) -> date:
    # `on: 31` in a 30-day month means its last day
    wanted = on if isinstance(on, int) else 1
    return first.replace(day=min(wanted, month_lengths.monthrange(first.year, first.month)[1]))


def _insert_new(session: Session, rows: list[dict[str, object]]) -> int:
    """Insert occurrences not there yet (a concurrent sweep may have made some); return how many
    were new."""
    if not rows:
        return 0
    # Core, not the ORM's bulk path: this runs thousands of rows per quarter, and rowcount
    # already says how many were new (the unique occurrence key skips the rest)
    result = session.connection().execute(
        dialect_insert(session, Task.__table__).on_conflict_do_nothing(), rows
    )
    return result.rowcount if result.rowcount >= 0 else len(rows)
