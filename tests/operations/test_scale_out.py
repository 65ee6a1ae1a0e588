"""The scale-out deployment without containers: PostgreSQL, gunicorn with 4 workers, two schedulers, SMTP.

A campaign of 200 villages is driven through the API by 20 concurrent clients;
every task is completed exactly once, nothing answers 5xx, every escalation
mail arrives exactly once, and the standby scheduler takes over when the
leader is killed.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from tests.support.clock import shanghai
from tests.support.databases import POSTGRES_URL
from tests.support.processes import free_port
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import FixedClock
from workflow.db import create_db_engine, session_factory, upgrade_schema
from workflow.definitions.reader import parse_definition
from workflow.hazards.rectifications import HazardReport, register_hazard
from workflow.models import AuditEvent, Escalation, OutboxMail, Person, Task
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation
from workflow.organisation.tokens import issue_token

UNITS, CLIENTS = 200, 20
DEFINITION = """
id: scale-out
version: 1
title: 平安铁路创建活动
roles:
  - {id: leader, title: 组长}
  - {id: office_director, title: 办公室主任}
  - {id: village_head, title: 村负责人, scope: unit}
phases:
  - id: mobilization
    title: 宣传发动阶段
    tasks:
      - {id: plan, title: 制定方案, assignee: village_head, per: unit, due: 60d}
      - {id: meeting, title: 召开动员会, assignee: village_head, per: unit, due: 60d}
  - id: implementation
    title: 全面实施阶段
escalation:
  levels:
    - {after: 0d, notify: [responsible, office_director]}
    - {after: 3wd, notify: [leader]}
"""


@pytest.fixture
def pg_url():
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("select 1"))
    except Exception:  # noqa: BLE001
        if os.environ.get("PINGAN_REQUIRE_POSTGRES"):
            raise
        pytest.skip("PostgreSQL not reachable")
    name = f"pingan_scale_{os.getpid()}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _organisation() -> str:
    lines = ["units:", "  - id: town", "    name: 大镇", "    children:"]
    lines += [f"      - {{id: v{i:03d}, name: 村{i:03d}}}" for i in range(UNITS)]
    lines += [
        "people:",
        "  - {email: leader@example.org, name: 组长, unit: town, roles: [leader]}",
        "  - {email: office@example.org, name: 主任, unit: town, roles: [office_director]}",
    ]
    lines += [
        f"  - {{email: head{i:03d}@example.org, name: 村长{i:03d}, unit: v{i:03d}, roles: [village_head]}}"
        for i in range(UNITS)
    ]
    return "\n".join(lines)


@pytest.mark.slow
def test_many_workers_and_two_schedulers_do_everything_exactly_once(pg_url, smtp, tmp_path):
    engine = create_db_engine(pg_url)
    upgrade_schema(engine)
    sessions = session_factory(engine)
    started = shanghai(2026, 9, 1, 9)
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(_organisation(), "org.yaml"))
        campaign = start_campaign(
            session,
            parse_definition(DEFINITION, "def.yaml"),
            "town",
            date(2026, 9, 1),
            by=Actor.operator("test"),
            clock=FixedClock(started),
            calendar=WorkingCalendar(),
        ).id
        for i in range(40):  # overdue hazards for the schedulers to escalate
            register_hazard(
                session,
                campaign,
                HazardReport(description=f"隐患{i}", unit=f"v{i:03d}", deadline=date(2026, 9, 10)),
                by=Actor.operator("test"),
                clock=FixedClock(started),
                calendar=WorkingCalendar(),
                base_url="http://pingan.test",
            )
        heads = {
            p.email: p.id for p in session.scalars(select(Person).where(Person.email.like("head%")))
        }
        tokens = {email: issue_token(session, email, started) for email in heads}
        tasks = {
            email: list(session.scalars(select(Task.id).where(Task.assignee_id == pid)))
            for email, pid in heads.items()
        }

    port = free_port()
    env = {
        **os.environ,
        "PINGAN_DATABASE_URL": pg_url,
        "PINGAN_NOW": "2026-09-20T09:00",
        "PINGAN_SECRET_KEY": "scale-out-test",
        "PINGAN_BASE_URL": f"http://127.0.0.1:{port}",
    }
    logs = {
        name: open(tmp_path / f"{name}.log", "w") for name in ("web", "scheduler-a", "scheduler-b")
    }
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "5",
            "webapp.wsgi:app",
        ],
        env=env,
        stdout=logs["web"],
        stderr=subprocess.STDOUT,
    )
    scheduler = [
        sys.executable,
        "-c",
        "from webapp.cli.main import main; main()",
        "scheduler",
        "--interval",
        "1",
    ]
    leader = subprocess.Popen(
        scheduler, env=env, stdout=logs["scheduler-a"], stderr=subprocess.STDOUT
    )
    time.sleep(2)
    standby = subprocess.Popen(
        scheduler, env=env, stdout=logs["scheduler-b"], stderr=subprocess.STDOUT
    )
    try:
        _wait_until_up(port)
        statuses: list[int] = []

        def work(emails: list[str]) -> None:
            for email in emails:
                for task_id in tasks[email]:
                    statuses.append(
                        _post(
                            port,
                            f"/api/v1/tasks/{task_id}/complete",
                            tokens[email],
                            {"note": "完成"},
                        )
                    )
                    # a second click of the same button: refused, never done twice
                    statuses.append(
                        _post(
                            port,
                            f"/api/v1/tasks/{task_id}/complete",
                            tokens[email],
                            {"note": "再次"},
                        )
                    )

        emails = sorted(tasks)
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(work, [emails[i::CLIENTS] for i in range(CLIENTS)]))

        assert not [s for s in statuses if s >= 500], "no 5xx"
        assert statuses.count(200) == UNITS * 2 and statuses.count(409) == UNITS * 2

        time.sleep(3)  # the leader has swept by now
        leader.send_signal(signal.SIGKILL)
        leader.wait(timeout=10)
        with sessions.begin() as session:  # more overdue work after the leader died
            for i in range(40, 60):
                register_hazard(
                    session,
                    campaign,
                    HazardReport(
                        description=f"隐患{i}", unit=f"v{i:03d}", deadline=date(2026, 9, 10)
                    ),
                    by=Actor.operator("test"),
                    clock=FixedClock(started),
                    calendar=WorkingCalendar(),
                    base_url="http://pingan.test",
                )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with Session(engine) as session:
                reached = session.scalar(select(func.count()).select_from(Escalation))
                unsent = session.scalar(
                    select(func.count()).select_from(OutboxMail).where(OutboxMail.sent_at.is_(None))
                )
            if reached == 60 * 2 and unsent == 0:
                break
            time.sleep(1)
    finally:
        for process in (web, leader, standby):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (web, leader, standby):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        for handle in logs.values():
            handle.close()

    standby_log = (tmp_path / "scheduler-b.log").read_text(encoding="utf-8")
    assert "leader" in standby_log and re.search(r"became leader", standby_log), standby_log[-2000:]
    with Session(engine) as session:
        completions = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity == "task", AuditEvent.event == "complete")
        )
        done = session.scalar(select(func.count()).select_from(Task).where(Task.state == "done"))
        escalations = session.execute(select(Escalation.item_id, Escalation.level)).all()
        outbox = session.scalar(select(func.count()).select_from(OutboxMail))
    engine.dispose()
    assert completions == done == UNITS * 2, "every task completed exactly once"
    assert len(escalations) == len(set(escalations)) == 60 * 2
    assert (
        len(smtp.messages) == outbox and len({m["message_id"] for m in smtp.messages}) == outbox
    ), "every mail delivered exactly once"


def _wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10)
            return
        # refused while it binds, or a read timeout while its workers boot on a busy machine
        except OSError:
            time.sleep(0.5)
    raise AssertionError("gunicorn did not come up")


def _post(port: int, path: str, token: str, body: dict[str, str]) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
