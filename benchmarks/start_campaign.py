"""Start a campaign over 2,000 villages × 25 per-unit tasks (50,000 tasks); compare with a Core
insert.

Prints the seconds of `start_campaign` (role resolution, phases, bindings, tasks,
audit, commit) and of the floor: one SQLAlchemy Core ``insert()`` of the same
50,000 task rows into the same table, measured in the same run. The last line
is the SQLite ratio (target ≤ 2.0; peak memory < 300 MB). With ``--escalation``
the definition has an ``escalation:`` block, so each required task's first
reminder is queued too (the floor stays the bare task insert).

    .venv/bin/python benchmarks/start_campaign.py [--units 2000] [--tasks 25] [--escalation]
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from sqlalchemy import delete, insert, select

from scenario import definition_text, peak_rss_mb, populate_town, postgres_database, sqlite_database
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import SystemClock
from workflow.db import create_db_engine, session_factory
from workflow.definitions.reader import parse_definition
from workflow.models import Task

ESCALATION = """escalation:
  remind_before: 2wd
  levels:
    - {after: 0d, notify: [responsible, office_director]}
    - {after: 3wd, notify: [leader]}
"""


def measure(
    url: str, units: int, tasks_per_unit: int, escalation: bool
) -> tuple[float, float, int]:
    engine = create_db_engine(url)
    populate_town(engine, units)
    text = definition_text(tasks_per_unit) + (ESCALATION if escalation else "")
    definition = parse_definition(text, "bench.yaml")
    sessions = session_factory(engine)

    began = time.perf_counter()
    with sessions.begin() as session:
        campaign = start_campaign(
            session,
            definition,
            "town",
            date(2026, 5, 1),
            by=Actor.operator("bench"),
            clock=SystemClock(),
            calendar=WorkingCalendar(),
        )
    engine_seconds = time.perf_counter() - began

    # the floor: the same rows, one Core insert, one commit
    columns = [c for c in Task.__table__.columns if c.name != "id"]
    with engine.begin() as connection:
        rows = [
            dict(row._mapping)
            for row in connection.execute(select(*columns).where(Task.campaign_id == campaign.id))
        ]
        connection.execute(delete(Task.__table__).where(Task.campaign_id == campaign.id))
    began = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(insert(Task.__table__), rows)
    floor_seconds = time.perf_counter() - began
    engine.dispose()
    return engine_seconds, floor_seconds, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=25)
    parser.add_argument(
        "--escalation", action="store_true", help="queue each task's first reminder too"
    )
    args = parser.parse_args()

    with sqlite_database() as url:
        seconds, floor, rows = measure(url, args.units, args.tasks, args.escalation)
    print(
        f"sqlite: start_campaign {rows} tasks {seconds:.3f} s; core insert {floor:.3f} s; "
        f"ratio {seconds / floor:.2f}"
    )
    print(f"peak memory of the process after the SQLite run: {peak_rss_mb():.0f} MB")
    with postgres_database() as pg_url:
        if pg_url is None:
            print("postgresql: not reachable, skipped")
        else:
            pg_seconds, pg_floor, pg_rows = measure(pg_url, args.units, args.tasks, args.escalation)
            print(
                f"postgresql: start_campaign {pg_rows} tasks {pg_seconds:.3f} s; core insert "
                f"{pg_floor:.3f} s; "
                f"ratio {pg_seconds / pg_floor:.2f}"
            )
    print(f"ratio={seconds / floor:.2f}")


if __name__ == "__main__":
    main()
