"""A sweep catching up three weeks of 10 weekly and monthly duties for 2,000 units; compare with
a Core insert of the same task rows.

The database holds a town of ``--units`` villages and one campaign started on a
Monday morning (2026-06-15, 09:00 Beijing time) whose phase runs 10 recurring
per-village duties with an ``escalation:`` block: 5 weekly (on Monday … Friday,
due in 3 days) and 5 monthly (on the 1st, 5th, 10th, 15th and 20th, due in 10
working days). Starting it created the periods begun that morning. Then the
scheduler was stopped for three weeks: the sweep at 2026-07-06 09:00 finds every
period begun since and creates each, once, with its first escalation step
queued.

Printed per back end: the set-up seconds (not a figure), the floor (one
SQLAlchemy Core ``insert()`` executemany of the same task rows, every column the
sweep writes, into a fresh copy of the same database, in one transaction), and
``workflow.campaigns.recurring.create_due_occurrences`` (the part of
``run_sweep`` that catches up: cursors, fan-out, due dates, insert-or-skip,
escalation schedule, cursor moves) in one transaction with its commit, on
another fresh copy. Each figure is the best of ``--trials``. The last line is the
worse ratio sweep / floor of the two back ends (target ≤ 2).

    .venv/bin/python benchmarks/catch_up.py [--units 2000] [--trials 3] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, insert, select, text

from scenario import Copies, populate_town, postgres_database, sqlite_database
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.campaigns.recurring import create_due_occurrences
from workflow.clock import FixedClock
from workflow.db import create_db_engine, session_factory
from workflow.definitions.reader import parse_definition
from workflow.models import EscalationQueueEntry, Task

SHANGHAI = ZoneInfo("Asia/Shanghai")
STARTS_ON = date(2026, 6, 15)  # a Monday
STARTED = datetime(2026, 6, 15, 9, tzinfo=SHANGHAI).astimezone(timezone.utc)
# three weeks later, the scheduler back: weekly periods of 3 weeks, monthly ones of 2 months
NOW = datetime(2026, 7, 6, 9, tzinfo=SHANGHAI).astimezone(timezone.utc)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
MONTH_DAYS = (1, 5, 10, 15, 20)


def definition_text() -> str:
    weekly = "\n".join(
        f"      - {{id: weekly-{day}, title: 每周{n}安全巡查, assignee: village_head, per: unit,\n"
        f'         every: week, "on": {day}, due: 3d}}'
        for n, day in enumerate(WEEKDAYS, start=1)
    )
    monthly = "\n".join(
        f"      - {{id: monthly-{day}, title: 每月{day}日安全教育, assignee: village_head, "
        f'per: unit,\n         every: month, "on": {day}, due: 10wd}}'
        for day in MONTH_DAYS
    )
    return f"""id: bench-catch-up
version: 1
title: 日常巡查
roles:
  - {{id: leader, title: 组长}}
  - {{id: office_director, title: 办公室主任}}
  - {{id: village_head, title: 村负责人, scope: unit}}
phases:
  - id: implementation
    title: 组织实施阶段
    recurring:
{weekly}
{monthly}
escalation:
  remind_before: 2wd
  levels:
    - {{after: 0d, notify: [responsible, office_director]}}
    - {{after: 3wd, notify: [leader]}}
"""


# --- set-up -------------------------------------------------------------------------------------


def set_up(engine: Engine, units: int) -> int:
    """The town and the campaign, started on STARTS_ON; return its id."""
    populate_town(engine, units)
    definition = parse_definition(definition_text(), "catch-up.yaml")
    with session_factory(engine).begin() as session:
        campaign_id = start_campaign(
            session,
            definition,
            "town",
            STARTS_ON,
            by=Actor.operator("bench"),
            clock=FixedClock(STARTED),
            calendar=WorkingCalendar(),
        ).id
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return campaign_id


def sweep(url: str) -> tuple[float, int]:
    """The catch-up as ``run_sweep`` does it first: one transaction, committed; seconds and tasks
    created."""
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    began = time.perf_counter()
    with sessions.begin() as session:
        created = create_due_occurrences(session, NOW, WorkingCalendar())
    seconds = time.perf_counter() - began
    engine.dispose()
    return seconds, created


def created_rows(url: str, campaign_id: int) -> list[dict[str, object]]:
    """The task rows the sweep wrote, every column but the id (not timed)."""
    engine = create_db_engine(url)
    columns = [c for c in Task.__table__.columns if c.name != "id"]
    with engine.connect() as connection:
        rows = [
            dict(row._mapping)
            for row in connection.execute(
                select(*columns)
                .where(Task.campaign_id == campaign_id, Task.created_at == NOW)
                .order_by(Task.id)
            )
        ]
    engine.dispose()
    return rows


def floor(url: str, rows: list[dict[str, object]]) -> float:
    """One Core insert (executemany) of the same rows, in one transaction."""
    engine = create_db_engine(url)
    began = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(insert(Task.__table__), rows)
    seconds = time.perf_counter() - began
    engine.dispose()
    return seconds


def check(url: str, expected: int, label: str, failures: list[str]) -> None:
    """Every begun period made once, each task's first escalation step queued, and a second
    sweep at the same time makes nothing (not timed)."""
    engine = create_db_engine(url)
    with engine.connect() as connection:
        tasks = connection.scalar(
            select(func.count()).select_from(Task).where(Task.created_at == NOW)
        )
        queued = connection.scalar(
            select(func.count())
            .select_from(EscalationQueueEntry)
            .join(Task, Task.id == EscalationQueueEntry.item_id)
            .where(EscalationQueueEntry.item_kind == "task", Task.created_at == NOW)
        )
    with session_factory(engine).begin() as session:
        again = create_due_occurrences(session, NOW, WorkingCalendar())
    engine.dispose()
    if tasks != expected or queued != expected or again:
        failures.append(
            f"{label}: {tasks} tasks created, {queued} queued, {again} more on a second sweep; "
            f"expected {expected}, {expected}, 0"
        )


def measure(
    label: str, url: str, units: int, trials: int, failures: list[str]
) -> tuple[float, float]:
    began = time.perf_counter()
    engine = create_db_engine(url)
    campaign_id = set_up(engine, units)
    with engine.connect() as connection:
        at_start = connection.scalar(select(func.count()).select_from(Task))
    engine.dispose()
    floors, sweeps = [], []
    with Copies(url) as copies:
        # the rows to insert for the floor: those a sweep makes (on a copy of its own, not timed)
        scratch = copies.fresh()
        _seconds, expected = sweep(scratch)
        rows = created_rows(scratch, campaign_id)
        print(
            f"{label}: set-up {units} units, campaign started with {at_start} tasks; "
            f"{expected} occurrences due at {NOW:%Y-%m-%d %H:%M} UTC "
            f"{time.perf_counter() - began:.1f} s (not a figure)"
        )
        if len(rows) != expected:
            failures.append(f"{label}: {len(rows)} rows read back, {expected} created")
        for trial in range(1, trials + 1):
            floor_seconds = floor(copies.fresh(), rows)
            target = copies.fresh()
            sweep_seconds, created = sweep(target)
            check(target, expected, f"{label} #{trial}", failures)
            print(
                f"{label} #{trial}: floor (Core insert of {len(rows)} task rows) "
                f"{floor_seconds:.3f} s; sweep created {created} occurrences in "
                f"{sweep_seconds:.3f} s; ratio {sweep_seconds / floor_seconds:.2f}"
            )
            floors.append(floor_seconds)
            sweeps.append(sweep_seconds)
    floor_best, sweep_best = min(floors), min(sweeps)
    print(
        f"{label}: best of {trials}: floor {floor_best:.3f} s, sweep {sweep_best:.3f} s "
        f"({len(rows)} rows each), ratio sweep / floor {sweep_best / floor_best:.2f}"
    )
    return sweep_best, floor_best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument(
        "--trials", type=int, default=3, help="fresh copies; the best of each figure counts"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    if args.units < 1:
        parser.error("--units must be at least 1")

    failures: list[str] = []
    ratios = []
    with sqlite_database() as url:
        sweep_seconds, floor_seconds = measure("sqlite", url, args.units, args.trials, failures)
        ratios.append(sweep_seconds / floor_seconds)
    if args.skip_postgres:
        print("postgresql: skipped (--skip-postgres)")
    else:
        with postgres_database() as pg_url:
            if pg_url is None:
                print("postgresql: not reachable, skipped")
            else:
                sweep_seconds, floor_seconds = measure(
                    "postgresql", pg_url, args.units, args.trials, failures
                )
                ratios.append(sweep_seconds / floor_seconds)
    for failure in failures:
        print(f"CHECK FAILED: {failure}")
    print(f"ratio={max(ratios):.2f}")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
