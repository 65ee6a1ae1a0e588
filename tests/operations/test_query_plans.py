"""The engine's hot queries read their indexes, not the whole table, on SQLite and PostgreSQL.

A database the size of a county's few years of campaigns (100 campaigns,
100,000 tasks, 20,000 hazards, 50,000 sent mails, a queue of 30,000 pending
escalation steps), bulk-inserted and ANALYZEd so the planners decide on real
statistics. Each test calls the engine function a user's request or the sweep
calls, captures every statement it sends (``before_cursor_execute``), asks the
database for the plan of each with the same parameters (and the planner settings the
use case set for its transaction), and checks that the
big tables are reached through the expected index. The plans are printed (run
with ``-s``) and are in every failure message.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, select, text
from sqlalchemy.orm import Session

from tests.support.databases import scratch_postgres
from webapp.mail import mailer_from_env
from workflow import limits
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.campaigns.tasks import complete_task
from workflow.clock import FixedClock, end_of_day
from workflow.db import create_db_engine, session_factory, upgrade_schema
from workflow.definitions.reader import parse_definition
from workflow.escalation.digest import send_digests
from workflow.escalation.sweep import run_sweep
from workflow.models import (
    ApiToken,
    Campaign,
    Escalation,
    EscalationQueueEntry,
    OutboxMail,
    Person,
    PersonRole,
    Rectification,
    Task,
    Unit,
)
from workflow.organisation.tokens import holder_of_token, token_digest
from workflow.views.inbox import done_page, inbox_page
from workflow.views.report import build_report
from workflow.worklists.filters import WorkFilter
from workflow.worklists.items import Scope, window_for, work_page

VILLAGES, PEOPLE_PER_VILLAGE = 200, 10  # 2,000 assignees
CAMPAIGNS, TASKS, RECTIFICATIONS, ESCALATIONS, SENT_MAILS, QUEUED = (
    100,
    100_000,
    20_000,
    30_000,
    50_000,
    30_000,
)
NOW = datetime(2026, 6, 15, 1, 0, tzinfo=timezone.utc)  # 09:00 in Beijing
TZ = "Asia/Shanghai"
# the tables that grow with every campaign: reading one of them whole is what must not happen
BIG_TABLES = frozenset(
    {
        "tasks",
        "rectifications",
        "escalations",
        "outbox",
        "escalation_queue",
        "audit_events",
        "api_tokens",
    }
)
DEFINITION = """
id: plans
version: 1
title: 平安创建活动
roles:
  - {id: leader, title: 组长}
  - {id: office_director, title: 办公室主任}
  - {id: village_head, title: 村负责人, scope: unit}
phases:
  - id: implementation
    title: 全面实施阶段
    duration: 60d
    tasks:
      - {id: plan, title: 制定方案, assignee: village_head, per: unit, due: 10d}
    recurring:
      - {id: patrol, title: 巡查, assignee: village_head, per: unit, every: week, due: 5d}
  - id: summary
    title: 总结阶段
escalation:
  remind_before: 2wd
  levels:
    - {after: 0d, notify: [responsible, office_director]}
    - {after: 3wd, notify: [leader]}
"""


@dataclass
class Scenario:
    url: str
    engine: Engine
    campaign_id: int  # started through the engine; the other 99 are history in the same tables
    person_id: int
    token: str
    open_task_id: int


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def scenario(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("plans") / "plans.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        with _built(f"sqlite:///{path}") as built:
            yield built
        return
    # skips when there is no server (fails when CI requires one)
    request.getfixturevalue("postgres_database")
    with scratch_postgres("plans") as url:
        engine = create_db_engine(url)
        upgrade_schema(engine)
        engine.dispose()
        with _built(url) as built:
            yield built


# --- the tests ----------------------------------------------------------------------------------


def test_the_inbox_reads_one_persons_rows_through_their_indexes(scenario):
    plans = _plans(
        scenario,
        lambda session: (
            holder_of_token(session, scenario.token, NOW.date()),
            inbox_page(
                session,
                scenario.person_id,
                WorkFilter(),
                clock=FixedClock(NOW),
                calendar=WorkingCalendar(),
            ),
            done_page(
                session,
                scenario.person_id,
                WorkFilter(),
                clock=FixedClock(NOW),
                calendar=WorkingCalendar(),
            ),
        ),
    )
    _assert_no_full_scan(plans)
    _assert_uses(plans, "tasks", "ix_tasks_inbox")
    _assert_uses(plans, "rectifications", "ix_rectifications_responsible")
    _assert_uses(plans, "api_tokens", "uq_api_tokens_digest")


def test_checking_a_task_off_reads_it_by_its_key(scenario):
    def complete(session: Session) -> None:
        person = session.get(Person, scenario.person_id)
        complete_task(
            session,
            scenario.open_task_id,
            by=Actor.person(person),
            clock=FixedClock(NOW),
            note="完成",
        )

    plans = _plans(scenario, complete)
    _assert_no_full_scan(plans)
    _assert_uses(plans, "tasks", "pk_tasks")


def test_the_campaign_report_reads_only_its_campaigns_rows(scenario):
    plans = _plans(scenario, _report(scenario))
    _assert_no_full_scan([plan for plan in plans if not _escalation_count(plan)])
    _assert_uses(plans, "tasks", "ix_tasks_phase")
    # either of the campaign's indexes of its hazards (by state, or by due date whatever the state)
    _assert_uses(
        plans, "rectifications", "ix_rectifications_campaign", "ix_rectifications_campaign_due"
    )
    _assert_uses(plans, "escalations", "ix_escalations_campaign")


def test_the_reports_escalation_counts_read_only_the_campaigns_items(scenario):
    plans = _plans(scenario, _report(scenario))
    counts = [plan for plan in plans if _escalation_count(plan)]
    assert counts, "the report counts escalations per unit"
    _assert_no_full_scan(counts)


def test_a_sweep_reaches_due_work_through_the_queue_and_the_outbox_index(scenario, smtp):
    plans = _plans(
        scenario,
        lambda _session: run_sweep(
            session_factory(scenario.engine),
            clock=FixedClock(NOW),
            base_url="http://pingan.test",
            mailer=mailer_from_env(dict(os.environ)),
        ),
    )
    _assert_no_full_scan(plans)
    _assert_uses(plans, "escalation_queue", "pk_escalation_queue")
    # the due entries come in the queue key's order: no sort of them (SQLite sorted ten thousand
    # rows in a temporary B-tree while item_kind = constant hid that order from it)
    reads = [plan for plan in plans if "FROM escalation_queue JOIN" in plan.statement]
    assert reads, "the sweep reads the due entries joined to their items"
    sorted_reads = [plan for plan in reads if any("TEMP B-TREE" in line for line in plan.lines)]
    assert not sorted_reads, "\n".join(str(plan) for plan in sorted_reads)
    _assert_uses(plans, "outbox", "ix_outbox_pending")
    # the items the queue names, and recurring occurrences' look-ups
    _assert_uses(plans, "tasks", "pk_tasks")
    assert smtp.messages, "the sweep did its work: escalation mails were sent"


def test_the_daily_digest_reads_only_open_items_due_soon(scenario):
    plans = _plans(
        scenario,
        lambda session: send_digests(
            session, NOW, WorkingCalendar(), tz=TZ, hour=8, base_url="http://pingan.test"
        ),
    )
    _assert_no_full_scan(plans)


def test_a_campaign_wide_search_starts_at_the_word(scenario):
    campaign_id = _first_hazards_campaign(scenario)
    plans = _plans(scenario, _register_search(campaign_id, "隐患1"))
    _assert_no_full_scan(plans)
    if scenario.engine.dialect.name == "sqlite":
        # the FTS5 table is the outer loop, streamed, each hazard looked up by its key; never the
        # list of every match gathered first (LIST SUBQUERY), nor a probe of it per hazard
        counted = next(plan for plan in plans if "count(*)" in plan.statement)
        assert counted.lines.index(
            next(line for line in counted.lines if "rectification_search VIRTUAL TABLE" in line)
        ) < counted.lines.index(
            next(line for line in counted.lines if line.startswith("SEARCH rectifications"))
        ), counted
        assert not any("LIST SUBQUERY" in line for plan in plans for line in plan.lines), plans
        _assert_uses(plans, "rectifications", "pk_rectifications")


def test_a_common_words_matches_past_the_rank_limit_are_walked_by_due_date(scenario, monkeypatch):
    monkeypatch.setattr(limits, "SEARCH_RANK_LIMIT", 20)  # the campaign's 111 matches: past it
    campaign_id = _first_hazards_campaign(scenario)
    plans = _plans(scenario, _register_search(campaign_id, "隐患1"))
    _assert_no_full_scan(plans)
    if scenario.engine.dialect.name == "sqlite":
        _assert_uses(plans, "rectifications", "ix_rectifications_campaign_due")


def _first_hazards_campaign(scenario: Scenario) -> int:
    with scenario.engine.connect() as connection:
        return connection.execute(
            text("SELECT campaign_id FROM rectifications ORDER BY id LIMIT 1")
        ).scalar_one()


def _register_search(campaign_id: int, words: str) -> Callable[[Session], Any]:
    window = window_for(NOW, TZ, WorkingCalendar(), 3)
    return lambda session: work_page(
        session,
        Scope("register", campaign_id=campaign_id),
        WorkFilter(q=words),
        window,
        levels=True,
    )


def _report(scenario: Scenario) -> Callable[[Session], Any]:
    return lambda session: build_report(
        session, scenario.campaign_id, by=Actor.operator("test"), clock=FixedClock(NOW)
    )


def _escalation_count(plan: Plan) -> bool:
    """The report's escalations per unit: escalations joined to their items (tasks, rectifications, petitions)."""
    return (
        re.search(r"FROM escalations JOIN (tasks|rectifications|petitions) ON", plan.statement)
        is not None
    )


# --- capturing and explaining -------------------------------------------------------------------


@dataclass
class Plan:
    statement: str
    lines: list[str]
    full_scans: set[str]  # big tables read whole
    indexes: dict[str, set[str]]  # table → indexes it is read through

    def __str__(self) -> str:
        return "\n".join([_short(self.statement), *[f"    {line}" for line in self.lines]])


def _plans(scenario: Scenario, use_case: Callable[[Session], Any]) -> list[Plan]:
    """The plan of every statement ``use_case`` sends (inserts aside), printed; what it changed in the session it is
    given is rolled back (a sweep commits through sessions of its own)."""
    captured: list[tuple[str, Any, tuple[tuple[str, Any], ...]]] = []
    # planner settings the use case changed for its transaction (set_config(..., true)): each
    # statement is explained under the settings in force when it was sent
    settings: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, executemany):  # type: ignore[no-untyped-def]
        if "set_config(" in statement:
            settings.append((statement, parameters))
        elif not executemany and re.match(
            r"\s*(SELECT|UPDATE|DELETE|WITH)\b", statement, re.IGNORECASE
        ):
            captured.append((statement, parameters, tuple(settings)))

    event.listen(scenario.engine, "before_cursor_execute", capture)
    try:
        with session_factory(scenario.engine)() as session:
            use_case(session)
            session.rollback()
    finally:
        event.remove(scenario.engine, "before_cursor_execute", capture)
    assert captured, "the use case sent statements"
    plans = [_explain(scenario.engine, *sent) for sent in captured]
    print(
        f"\n=== {os.environ.get('PYTEST_CURRENT_TEST', '').split(' ')[0]}: {len(plans)} statements ==="
    )
    for plan in plans:
        print(plan)
    return plans


def _explain(
    engine: Engine, statement: str, parameters: Any, settings: tuple[tuple[str, Any], ...] = ()
) -> Plan:
    # a reader's transaction: on SQLite it must not queue for the write lock (db.py begins IMMEDIATE by default)
    with engine.connect().execution_options(sqlite_deferred=True) as connection:
        for setting, values in settings:  # transaction-local, as in the use case
            connection.exec_driver_sql(setting, values)
        if engine.dialect.name == "postgresql":
            lines = [
                row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            ]
            full, indexes = _postgres_reads(connection, lines)
        else:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            lines = [row[3] for row in rows]
            full, indexes = set(), {}
            for line in lines:
                found = re.match(
                    r"(SCAN|SEARCH) (\w+)(?: USING (?:COVERING )?(INDEX (\w+)|INTEGER PRIMARY KEY"
                    r"|PRIMARY KEY))?",
                    line,
                )
                if not found:
                    continue
                verb, table, how, index = found.groups()
                table = re.sub(r"_\d+$", "", table)  # an alias (people_1) names its table
                if verb == "SCAN":
                    full.add(table)
                elif how and "PRIMARY KEY" in how:
                    indexes.setdefault(table, set()).add(f"pk_{table}")
                elif index:
                    indexes.setdefault(table, set()).add(
                        _sqlite_index_name(connection, table, index)
                    )
    return Plan(statement, lines, full & BIG_TABLES, indexes)


def _postgres_reads(connection: Any, lines: list[str]) -> tuple[set[str], dict[str, set[str]]]:
    """Tables read whole, and the indexes each table is read through, from PostgreSQL's text plan.

    An index scan without an Index Cond (a merge join reading a whole primary key in order) is a full read too.
    """
    full: set[str] = set()
    indexes: dict[str, set[str]] = {}
    for number, line in enumerate(lines):
        details = []
        for following in lines[number + 1 :]:
            if "->" in following:
                break
            details.append(following)
        bounded = any("Index Cond" in detail for detail in details)
        if found := re.search(r"Seq Scan on (\w+)", line):
            full.add(found.group(1))
        elif found := re.search(r"Index (?:Only )?Scan(?: Backward)? using (\w+) on (\w+)", line):
            if bounded:
                indexes.setdefault(found.group(2), set()).add(found.group(1))
            else:
                full.add(found.group(2))
        elif found := re.search(r"Bitmap Index Scan on (\w+)", line):
            indexes.setdefault(_table_of_index(connection, found.group(1)), set()).add(
                found.group(1)
            )
    return full, indexes


def _assert_no_full_scan(plans: list[Plan]) -> None:
    scans = [plan for plan in plans if plan.full_scans]
    assert not scans, "a big table read whole:\n" + "\n".join(str(plan) for plan in scans)


def _assert_uses(plans: list[Plan], table: str, *indexes: str) -> None:
    assert any(set(indexes) & plan.indexes.get(table, set()) for plan in plans), (
        f"{table} never read through {' or '.join(indexes)}:\n"
        + "\n".join(str(plan) for plan in plans)
    )


def _table_of_index(connection: Any, index: str) -> str:
    return connection.execute(
        text("SELECT tablename FROM pg_indexes WHERE indexname = :i"), {"i": index}
    ).scalar()


def _sqlite_index_name(connection: Any, table: str, index: str) -> str:
    """The constraint's name for SQLite's automatic index of a UNIQUE constraint (sqlite_autoindex_api_tokens_1)."""
    if not index.startswith("sqlite_autoindex_"):
        return index
    columns = [row[2] for row in connection.exec_driver_sql(f"PRAGMA index_info('{index}')")]
    return f"uq_{table}_{'_'.join(columns)}"


def _short(statement: str) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= 300 else flat[:297] + "..."


# --- the database -------------------------------------------------------------------------------


class _built:
    """The scenario's rows: a town of 200 villages, one campaign started through the engine, history in bulk."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> Scenario:
        engine = create_db_engine(self.url)
        self.engine = engine
        people = _people(engine)
        sessions = session_factory(engine)
        with sessions.begin() as session:
            campaign = start_campaign(
                session,
                parse_definition(DEFINITION, "plans.yaml"),
                "town",
                date(2026, 6, 1),
                by=Actor.operator("test"),
                clock=FixedClock(NOW - timedelta(days=14)),
                calendar=WorkingCalendar(),
            )
            campaign_id = campaign.id
        with engine.begin() as connection:
            template = connection.execute(
                select(Campaign.definition_id, Campaign.unit_id).where(Campaign.id == campaign_id)
            ).one()
            history = [
                {
                    "definition_id": template[0],
                    "unit_id": template[1],
                    "title": f"往年活动{i}",
                    "state": "closed",
                    "timezone": TZ,
                    "starts_on": date(2020 + i % 6, 3, 1),
                    "created_at": NOW - timedelta(days=400),
                    "closed_at": NOW - timedelta(days=30),
                }
                for i in range(CAMPAIGNS - 1)
            ]
            campaign_ids = [
                campaign_id,
                *connection.execute(insert(Campaign).returning(Campaign.id), history).scalars(),
            ]
            _history(connection, campaign_ids, people)
            person_id, unit_id = people[7]
            open_task_id = connection.execute(
                select(Task.id).where(Task.assignee_id == person_id, Task.state == "open").limit(1)
            ).scalar_one()
            token = f"plans-token-{uuid.uuid4().hex}"
            connection.execute(
                insert(ApiToken),
                [
                    {"person_id": p, "digest": token_digest(f"{token}-{p}"), "created_at": NOW}
                    for p, _ in people
                ],
            )
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")  # the planners decide on these statistics
        return Scenario(
            self.url, engine, campaign_id, person_id, f"{token}-{person_id}", open_task_id
        )

    def __exit__(self, *_exc: object) -> None:
        self.engine.dispose()


def _people(engine: Engine) -> list[tuple[int, int]]:
    """The town, its villages, a leader and office director, and 10 people per village (the first is its head)."""
    with engine.begin() as connection:
        town = connection.execute(
            insert(Unit).returning(Unit.id), {"code": "town", "name": "平安镇"}
        ).scalar_one()
        villages = list(
            connection.execute(
                insert(Unit).returning(Unit.id),
                [
                    {"code": f"v{i:03d}", "name": f"村{i:03d}", "parent_id": town}
                    for i in range(VILLAGES)
                ],
            ).scalars()
        )
        rows = [
            {"email": "leader@example.org", "name": "组长", "unit_id": town, "active": True},
            {"email": "office@example.org", "name": "主任", "unit_id": town, "active": True},
        ]
        rows += [
            {
                "email": f"p{v:03d}-{n}@example.org",
                "name": f"村民{v}-{n}",
                "unit_id": unit,
                "active": True,
            }
            for v, unit in enumerate(villages)
            for n in range(PEOPLE_PER_VILLAGE)
        ]
        ids = dict(
            connection.execute(insert(Person).returning(Person.email, Person.id), rows).all()
        )
        roles = [
            {"person_id": ids["leader@example.org"], "role": "leader"},
            {"person_id": ids["office@example.org"], "role": "office_director"},
        ]
        roles += [
            {"person_id": ids[f"p{v:03d}-0@example.org"], "role": "village_head"}
            for v in range(VILLAGES)
        ]
        connection.execute(insert(PersonRole), roles)
        return [
            (ids[f"p{v:03d}-{n}@example.org"], unit)
            for v, unit in enumerate(villages)
            for n in range(PEOPLE_PER_VILLAGE)
        ]


def _history(connection: Any, campaign_ids: list[int], people: list[tuple[int, int]]) -> None:
    """Tasks, hazards, escalations, mails and queued steps of every campaign, inserted in bulk (Core)."""
    rng = random.Random(2026)
    created = NOW - timedelta(days=60)

    def chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        for start in range(0, len(rows), 10_000):
            yield rows[start : start + 10_000]

    tasks = []
    for i in range(TASKS):
        person, unit = people[rng.randrange(len(people))]
        due_on = NOW.date() + timedelta(days=rng.randrange(-90, 60))
        state = rng.choices(("done", "open", "cancelled"), (70, 25, 5))[0]
        tasks.append(
            {
                "campaign_id": campaign_ids[i * len(campaign_ids) // TASKS],
                "phase_key": "implementation",
                "spec_key": "history",
                "occurrence_key": f"history:{i}",
                "unit_id": unit,
                "assignee_id": person,
                "title": f"检查任务{i % 97}",
                "required": True,
                "state": state,
                "due_on": due_on,
                "due_at": end_of_day(due_on, TZ),
                "created_at": created,
                "completed_at": created + timedelta(days=3) if state == "done" else None,
            }
        )
    for rows in chunks(tasks):
        connection.execute(insert(Task), rows)
    rectifications = []
    for i in range(RECTIFICATIONS):
        person, unit = people[rng.randrange(len(people))]
        deadline = NOW.date() + timedelta(days=rng.randrange(-60, 30))
        state = rng.choices(("closed", "submitted", "open"), (70, 10, 20))[0]
        rectifications.append(
            {
                "campaign_id": campaign_ids[i * len(campaign_ids) // RECTIFICATIONS],
                "phase_key": "implementation",
                "unit_id": unit,
                "description": f"隐患{i}",
                "severity": "major" if i % 10 == 0 else "minor",
                "responsible_id": person,
                "state": state,
                "original_deadline": deadline,
                "deadline": deadline,
                "deadline_at": end_of_day(deadline, TZ),
                "deadline_round": 0,
                "extensions": 0,
                "registered_at": created,
                "submitted_at": created + timedelta(days=5) if state != "open" else None,
                "closed_at": created + timedelta(days=6) if state == "closed" else None,
            }
        )
    for rows in chunks(rectifications):
        connection.execute(insert(Rectification), rows)
    first_rectification = connection.execute(
        select(Rectification.id).order_by(Rectification.id).limit(1)
    ).scalar()
    # each escalation of a hazard of its own campaign (hazards were inserted campaign after campaign)
    escalations = [
        {
            "campaign_id": campaign_ids[(i % RECTIFICATIONS) * len(campaign_ids) // RECTIFICATIONS],
            "item_kind": "rectification",
            "item_id": first_rectification + i % RECTIFICATIONS,
            "deadline_round": i // RECTIFICATIONS,
            "level": 1,
            "colour": "yellow",
            "deadline": NOW.date(),
            "due_at": created,
            "reached_at": created,
            "recipients": "leader@example.org",
        }
        for i in range(ESCALATIONS)
    ]
    for rows in chunks(escalations):
        connection.execute(insert(Escalation), rows)
    mails = [
        {
            "key": f"history-{i}",
            "campaign_id": campaign_ids[i % len(campaign_ids)],
            "recipient": "x@example.org",
            "subject": "督办",
            "body": "……",
            "created_at": created,
            "attempts": 1,
            "next_attempt_at": created,
            "sent_at": created,
        }
        for i in range(SENT_MAILS)
    ]
    for rows in chunks(mails):
        connection.execute(insert(OutboxMail), rows)
    # pending steps of open items: most come due over the next two months, a hundred are due now
    open_tasks = (
        connection.execute(select(Task.id).where(Task.state == "open").limit(QUEUED))
        .scalars()
        .all()
    )
    queued = [
        {
            "due_at": NOW
            + timedelta(minutes=rng.randrange(-600, 0) if n < 100 else rng.randrange(60, 86_400)),
            "item_kind": "task",
            "item_id": task_id,
            "deadline_round": 0,
        }
        for n, task_id in enumerate(open_tasks)
    ]
    for rows in chunks(queued):
        connection.execute(insert(EscalationQueueEntry), rows)
