"""The cost of checking one task off through the engine, in a campaign of 1,000 and of 10,000 units.

Each sample is one transaction: load the task (with its campaign), fire the task
machine, write the audit event, commit. Prints the median milliseconds for each
campaign size and, last, their ratio (target ≤ 1.5: the cost must not grow with
the campaign; median under 5 ms on SQLite).

    .venv/bin/python benchmarks/complete_task.py [--samples 400] [--tasks 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date

from sqlalchemy import select

from scenario import definition_text, populate_town, postgres_database, sqlite_database
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.campaigns.tasks import complete_task
from workflow.clock import SystemClock
from workflow.db import create_db_engine, session_factory
from workflow.definitions.reader import parse_definition
from workflow.models import Task


def median_ms(url: str, units: int, tasks_per_unit: int, samples: int) -> float:
    engine = create_db_engine(url)
    code = f"town{units}"
    populate_town(engine, units, code)
    definition = parse_definition(definition_text(tasks_per_unit, f"bench-{units}"), "bench.yaml")
    sessions = session_factory(engine)
    clock, by = SystemClock(), Actor.operator("bench")
    with sessions.begin() as session:
        campaign_id = start_campaign(
            session,
            definition,
            code,
            date(2026, 5, 1),
            by=by,
            clock=clock,
            calendar=WorkingCalendar(),
        ).id
    with sessions() as session:
        ids = list(session.scalars(select(Task.id).where(Task.campaign_id == campaign_id)))
    random.Random(units).shuffle(ids)
    timings = []
    for task_id in ids[:samples]:
        began = time.perf_counter()
        with sessions.begin() as session:
            complete_task(session, task_id, by=by, clock=clock, note="完成")
        timings.append(time.perf_counter() - began)
    engine.dispose()
    return statistics.median(timings[samples // 10 :]) * 1000  # the first tenth warms caches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--tasks", type=int, default=5, help="per-unit tasks in the campaign")
    args = parser.parse_args()

    with postgres_database() as pg_url:
        if pg_url is None:
            print("postgresql: not reachable, skipped")
        else:
            small = median_ms(pg_url, 1000, args.tasks, args.samples)
            large = median_ms(pg_url, 10000, args.tasks, args.samples)
            print(
                f"postgresql: median {small:.2f} ms (1,000 units) vs {large:.2f} ms (10,000 "
                "units); "
                f"ratio {large / small:.2f}"
            )
    with sqlite_database() as url:
        small = median_ms(url, 1000, args.tasks, args.samples)
        large = median_ms(url, 10000, args.tasks, args.samples)
    print(f"sqlite: median {small:.2f} ms (1,000 units) vs {large:.2f} ms (10,000 units)")
    print(f"ratio={large / small:.2f}")


if __name__ == "__main__":
    main()
