"""One sweep that creates the quarterly occurrences of 3 recurring duties for 2,000 units (6,000
tasks).

Prints the seconds of `create_due_occurrences` (cursors, fan-out, due dates,
escalation schedule, insert-or-skip, commit) and of the floor: one SQLAlchemy
Core ``insert()`` of the same 6,000 rows into the same table, measured in the
same run. The last line is the SQLite ratio (target ≤ 2).

    .venv/bin/python benchmarks/recurring.py [--units 2000]
"""

from __future__ import annotations

import argparse
import time
from datetime import date, datetime, timezone

from sqlalchemy import delete, insert, select

from scenario import populate_town, postgres_database, sqlite_database
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.campaigns.recurring import create_due_occurrences
from workflow.clock import FixedClock
from workflow.db import create_db_engine, session_factory
from workflow.definitions.reader import parse_definition
from workflow.models import Task

DEFINITION = """id: bench-recurring
version: 1
title: 三个一
roles:
  - {id: leader, title: 组长}
  - {id: office_director, title: 办公室主任}
  - {id: village_head, title: 村负责人, scope: unit}
phases:
  - id: implementation
    title: 组织实施阶段
    recurring:
      - {id: meeting, title: 召开一次安全工作会议, assignee: village_head,
         per: unit, every: quarter, due: 15d}
      - {id: education, title: 开展一次安全教育, assignee: village_head,
         per: unit, every: quarter, due: 20d}
      - {id: inspection, title: 进行一次安全检查, assignee: village_head,
         per: unit, every: quarter, due: 10wd}
escalation:
  remind_before: 2wd
  levels:
    - {after: 0d, notify: [responsible, office_director]}
    - {after: 3wd, notify: [leader]}
"""


def measure(url: str, units: int) -> tuple[float, float, int]:
    engine = create_db_engine(url)
    populate_town(engine, units)
    sessions = session_factory(engine)
    definition = parse_definition(DEFINITION, "bench.yaml")
    with sessions.begin() as session:
        campaign = start_campaign(
            session,
            definition,
            "town",
            date(2026, 6, 15),
            by=Actor.operator("bench"),
            clock=FixedClock(datetime(2026, 6, 15, 1, tzinfo=timezone.utc)),
            calendar=WorkingCalendar(),
        )
    # 09:00 Beijing time on the first day of Q3
    quarter_day = datetime(2026, 7, 1, 1, tzinfo=timezone.utc)
    began = time.perf_counter()
    with sessions.begin() as session:
        created = create_due_occurrences(session, quarter_day, WorkingCalendar())
    engine_seconds = time.perf_counter() - began

    columns = [c for c in Task.__table__.columns if c.name != "id"]
    with engine.begin() as connection:
        rows = [
            dict(r._mapping)
            for r in connection.execute(select(*columns).where(Task.campaign_id == campaign.id))
        ]
        connection.execute(delete(Task.__table__).where(Task.campaign_id == campaign.id))
    began = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(insert(Task.__table__), rows)
    floor_seconds = time.perf_counter() - began
    engine.dispose()
    assert created == len(rows) == units * 3, (created, len(rows))
    return engine_seconds, floor_seconds, created


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with postgres_database() as pg_url:
        if pg_url is None or args.skip_postgres:
            print("postgresql: skipped")
        else:
            seconds, floor, rows = measure(pg_url, args.units)
            print(
                f"postgresql: sweep created {rows} occurrences in {seconds:.3f} s; core insert "
                f"{floor:.3f} s; "
                f"ratio {seconds / floor:.2f}"
            )
    with sqlite_database() as url:
        seconds, floor, rows = measure(url, args.units)
    print(
        f"sqlite: sweep created {rows} occurrences in {seconds:.3f} s; core insert {floor:.3f} s; "
        f"ratio {seconds / floor:.2f}"
    )
    print(f"ratio={seconds / floor:.2f}")


if __name__ == "__main__":
    main()
