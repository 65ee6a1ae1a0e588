"""Several processes writing at once lose nothing (SQLite: BEGIN IMMEDIATE; PostgreSQL: row locks)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_campaigns import OPERATOR, railway, start, town  # noqa: F401 - fixtures

from workflow.audit import trail
from workflow.models import Task

WORKER = Path(__file__).with_name("race_worker.py")
PROCESSES, ROUNDS = 4, 60


@pytest.mark.slow
def test_four_processes_moving_one_task_lose_no_update(db_url, sessions, town, railway, clock, calendar):  # noqa: F811
    campaign_id = start(sessions, railway, clock, calendar)
    with sessions() as session:
        task_id = session.scalar(select(func.min(Task.id)).where(Task.campaign_id == campaign_id))

    workers = [subprocess.Popen([sys.executable, str(WORKER), db_url, str(task_id), str(ROUNDS), f"w{n}"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for n in range(PROCESSES)]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err
        results.append(json.loads(out))

    moved = sum(r["moved"] for r in results)
    assert sum(r["moved"] + r["refused"] for r in results) == PROCESSES * ROUNDS
    with sessions() as session:
        moves = [e for e in trail(session, campaign_id, "task", task_id)]
        final = session.get(Task, task_id).state
    assert len(moves) == moved, "every successful move left exactly one audit event"
    # a lost update shows as two moves from the same state in a row
    chain = [(e.from_state, e.to_state) for e in moves]
    assert all(prev[1] == nxt[0] for prev, nxt in zip(chain, chain[1:])), chain
    assert chain[0][0] == "open" and final == chain[-1][1]
