"""A process that moves one task back and forth as fast as it can (run as a script by
engine/test_concurrency.py: ``python race_worker.py URL TASK_ID ROUNDS LABEL``)."""

from __future__ import annotations

import json
import sys

from workflow.audit import Actor
from workflow.campaigns.tasks import complete_task, reject_task
from workflow.clock import SystemClock
from workflow.db import create_db_engine, session_factory
from workflow.errors import TransitionRefused
from workflow.models import Task


def main(url: str, task_id: int, rounds: int, label: str) -> None:
    sessions = session_factory(create_db_engine(url))
    by, clock = Actor.operator(label), SystemClock()
    moved = refused = 0
    for i in range(rounds):
        with sessions.begin() as session:
            # read first, decide, then write: the read-modify-write that loses updates without locking
            state = session.get(Task, task_id).state
            try:
                if state == "open":
                    complete_task(session, task_id, by=by, clock=clock, note=f"{label}-{i}")
                else:
                    reject_task(session, task_id, by=by, clock=clock, note=f"{label}-{i}")
                moved += 1
            except TransitionRefused:
                refused += 1
    print(json.dumps({"moved": moved, "refused": refused}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
