"""Several processes writing at once lose nothing (SQLite: BEGIN IMMEDIATE; PostgreSQL: row locks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.support import race_worker
from tests.support.actions import register, start
from tests.support.clock import shanghai
from workflow.audit import trail
from workflow.models import Escalation, OutboxMail, Task

WORKER = race_worker.__file__
PROCESSES, ROUNDS = 4, 60


@pytest.mark.slow
def test_four_processes_moving_one_task_lose_no_update(
    db_url, sessions, town, railway, clock, calendar
):
    campaign_id = start(sessions, railway, clock, calendar)
    with sessions() as session:
        task_id = session.scalar(select(func.min(Task.id)).where(Task.campaign_id == campaign_id))

    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), db_url, str(task_id), str(ROUNDS), f"w{n}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
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


@pytest.mark.slow
def test_two_sweeps_at_once_escalate_and_mail_each_item_exactly_once(
    db_url, sessions, hazard_campaign, calendar, smtp, monkeypatch
):
    import re

    campaign_id = hazard_campaign
    for n in range(150):
        register(
            sessions,
            campaign_id,
            calendar,
            shanghai(2026, 9, 21, 10),
            deadline=date(2026, 9, 29),
            description=f"隐患{n:03d}",
        )
    monkeypatch.setenv("PINGAN_DATABASE_URL", db_url)
    command = [
        sys.executable,
        "-c",
        "from webapp.cli.main import main; main()",
        "sweep",
        "--now",
        "2026-10-20T09:00",
    ]
    sweeps = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
        )
        for _ in range(2)
    ]
    for process in sweeps:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err

    with sessions() as session:
        levels = session.execute(select(Escalation.item_id, Escalation.level)).all()
        outbox = session.scalar(select(func.count()).select_from(OutboxMail))
        unsent = session.scalar(
            select(func.count()).select_from(OutboxMail).where(OutboxMail.sent_at.is_(None))
        )
    assert len(levels) == len(set(levels)) == 150 * 3
    assert unsent == 0 and len(smtp.messages) == outbox
    assert len({m["message_id"] for m in smtp.messages}) == outbox, "no message delivered twice"
    # every item is counted once per level in what each recipient of that level received (a mail
    # lists the worst of its items and counts them all in its subject)
    for address, level_mark in (("deputy@example.org", "第2级"), ("leader@example.org", "第3级")):
        mails = [m for m in smtp.to(address) if level_mark in m["subject"]]
        counted = sum(int(re.search(r"】(\d+) 项", m["subject"]).group(1)) for m in mails)
        links = [int(i) for m in mails for i in re.findall(r"/rectifications/(\d+)", m["body"])]
        assert counted == 150, address
        assert len(links) == len(set(links)) and set(links) <= set(range(1, 151)), address
