"""Migrations walked on a database that holds data, on SQLite and PostgreSQL.

From head, down to each older revision in turn (down to base) and back up to head: what the downgrade does
not drop (its tables, their remaining columns) is still there, row for row, both at the older revision and
back at head; head's schema is then the same as a freshly migrated database's; and the engine carries on.
The walk follows whatever revisions exist in workflow/migrations/versions.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, inspect, select
from sqlalchemy.pool import NullPool

from tests.support.actions import BASE_URL, OPERATOR, register
from tests.support.clock import shanghai
from tests.support.databases import revisions, scratch_postgres
from tests.support.texts import SCREENING, TOWN_WITH_KEEPER
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar, import_calendar
from workflow.calendar_files import parse_calendar_file
from workflow.campaigns.lifecycle import start_campaign
from workflow.campaigns.tasks import complete_task
from workflow.clock import FixedClock
from workflow.db import create_db_engine, current_revision, migrate, session_factory, upgrade_schema
from workflow.definitions.reader import parse_definition
from workflow.escalation.sweep import run_sweep
from workflow.hazards.evidence import AcceptedUpload, attach_evidence
from workflow.hazards.rectifications import submit_rectification
from workflow.models import Campaign, Task
from workflow.organisation.directory import import_organisation, person_by_email
from workflow.organisation.org_file import parse_organisation
from workflow.organisation.tokens import issue_token
from workflow.worklists.search import SEARCH_INDEX_TABLES

Rows = dict[str, dict[tuple, dict[str, Any]]]


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (walking migrations must not disturb the one other tests share)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'walk.sqlite'}"
        return
    request.getfixturevalue("postgres_database")  # skips when there is no server
    with scratch_postgres("walk") as url:
        yield url


def populate(url: str) -> None:
    """A campaign with hazards (one reported fixed), a task done with evidence, a token, and a sweep's escalations
    and queued mail: rows in most tables."""
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    calendar = WorkingCalendar()
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_KEEPER, "org.yaml"))
        campaign = start_campaign(
            session,
            parse_definition(SCREENING, "def.yaml"),
            "town",
            date(2026, 9, 10),
            by=OPERATOR,
            clock=FixedClock(shanghai(2026, 9, 10, 9)),
            calendar=calendar,
        ).id
        issue_token(session, "east@example.org", shanghai(2026, 9, 10, 9))
    with sessions() as session:
        east = Actor.person(person_by_email(session, "east@example.org"))
        task = session.scalar(
            select(Task.id).where(Task.campaign_id == campaign, Task.assignee_id == east.person_id)
        )
    # one hazard found during the screening task: the rectification refers to the task
    hazards = [
        register(
            sessions,
            campaign,
            calendar,
            shanghai(2026, 9, 21, 10),
            deadline=date(2026, 9, 29),
            description=f"隐患{n}",
            task_id=task if n == 1 else None,
        )
        for n in range(4)
    ]
    with sessions.begin() as session:
        keeper = Actor.person(person_by_email(session, "keeper@example.org"))
        submit_rectification(
            session, hazards[0], by=keeper, clock=FixedClock(shanghai(2026, 9, 22)), note="已修复"
        )
        complete_task(
            session, task, by=east, clock=FixedClock(shanghai(2026, 9, 24)), note="已排查"
        )
        attach_evidence(
            session,
            "task",
            task,
            [AcceptedUpload("照片.png", "image/png", "0" * 32 + ".png", 200)],
            by=east,
            now=shanghai(2026, 9, 24),
        )
    run_sweep(sessions, clock=FixedClock(shanghai(2026, 10, 20, 9)), mailer=None, base_url=BASE_URL)
    with sessions.begin() as session:  # a made-up year's days, entered from a file
        import_calendar(
            session,
            parse_calendar_file("2031-02-10,off,测试\n2031-02-08,work,测试\n", "2031.csv", "csv"),
            by=OPERATOR,
            now=shanghai(2026, 10, 21, 9),
        )
    engine.dispose()


def rows_of(url: str) -> Rows:
    """Every row of every table (alembic's own and the search index aside), by primary key, as
    column → value."""
    engine = create_engine(url, poolclass=NullPool)
    found: Rows = {}
    with engine.connect() as connection:
        metadata = MetaData()
        metadata.reflect(bind=connection)
        for name, table in metadata.tables.items():
            if name == "alembic_version" or name.startswith(SEARCH_INDEX_TABLES):
                continue
            key = list(table.primary_key.columns) or list(table.columns)
            found[name] = {
                tuple(row._mapping[c.name] for c in key): dict(row._mapping)
                for row in connection.execute(table.select())
            }
    engine.dispose()
    return found


def columns_of(url: str) -> dict[str, set[str]]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        inspector = inspect(connection)
        columns = {
            name: {c["name"] for c in inspector.get_columns(name)}
            for name in inspector.get_table_names()
        }
    engine.dispose()
    columns.pop("alembic_version", None)
    return columns


def schema_of(url: str) -> dict[str, Any]:
    """Tables with their columns (type, nullability), indexes, unique constraints and foreign keys."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        inspector = inspect(connection)
        schema = {}
        for name in sorted(inspector.get_table_names()):
            schema[name] = {
                "columns": {
                    c["name"]: (str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)
                },
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in inspector.get_indexes(name)
                ),
                "unique": sorted(
                    tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)
                ),
                "foreign_keys": sorted(
                    (
                        tuple(f["constrained_columns"]),
                        f["referred_table"],
                        tuple(f["referred_columns"]),
                    )
                    for f in inspector.get_foreign_keys(name)
                ),
            }
    engine.dispose()
    return schema


def assert_kept(expected: Rows, found: Rows, columns: dict[str, set[str]], where: str) -> None:
    """Every table in ``columns`` holds exactly the expected rows, equal on the columns named there."""
    for table, names in columns.items():
        if table not in expected:
            continue
        assert set(found.get(table, {})) == set(expected[table]), f"{where}: rows of {table}"
        for key, row in expected[table].items():
            shared = {name: row[name] for name in names if name in row}
            now = {name: found[table][key][name] for name in shared}
            assert now == shared, f"{where}: {table} {key}"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_each_downgrade_and_the_upgrade_back_keep_the_data_of_every_table_they_do_not_drop(
    new_database,
):
    walk = revisions()
    assert len(walk) >= 5 and walk[0] == "0001"
    engine = create_db_engine(new_database)
    try:
        assert upgrade_schema(engine) == walk[-1]
        fresh_schema = schema_of(new_database)
        populate(new_database)
        at_head = rows_of(new_database)
        filled = sorted(table for table, rows in at_head.items() if rows)
        for table in (
            "campaigns",
            "tasks",
            "rectifications",
            "escalations",
            "outbox",
            "audit_events",
            "evidence_files",
            "api_tokens",
            "people",
        ):
            assert table in filled, f"{table} holds rows before the walk"

        # each older revision in turn: down there, check, and back up to head, check again
        for target in reversed(walk[:-1]):
            migrate(engine, "downgrade", target)
            assert current_revision(engine) == target
            kept = columns_of(new_database)
            assert_kept(at_head, rows_of(new_database), kept, f"down at {target}")
            migrate(engine, "upgrade", "head")
            assert current_revision(engine) == walk[-1]
            assert_kept(at_head, rows_of(new_database), kept, f"back at head from {target}")
        assert schema_of(new_database) == fresh_schema, (
            "head after the walk is the same schema as a fresh head"
        )

        # the engine carries on with the data that came through: a new hazard, a sweep that escalates it
        sessions = session_factory(engine)
        with sessions() as session:
            campaign = session.scalar(select(Campaign.id))
        register(
            sessions,
            campaign,
            WorkingCalendar(),
            shanghai(2026, 10, 21, 10),
            deadline=date(2026, 10, 23),
            description="迁移之后登记",
        )
        swept = run_sweep(
            sessions, clock=FixedClock(shanghai(2026, 11, 20, 9)), mailer=None, base_url=BASE_URL
        )
        assert swept.escalation.levels, "the new hazard escalated"

        # down to base: nothing of ours is left; up again: a working, empty schema
        migrate(engine, "downgrade", "base")
        assert current_revision(engine) is None and columns_of(new_database) == {}
        migrate(engine, "upgrade", "head")
        assert schema_of(new_database) == fresh_schema
        assert all(not rows for rows in rows_of(new_database).values())
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_pingan_init_upgrades_an_old_database_whose_rows_refer_to_each_other(new_database):
    """A database left at 0002 (rectifications, one found during a task) is brought to head by `pingan init`."""
    from click.testing import CliRunner

    from webapp.cli.main import cli

    engine = create_db_engine(new_database)
    try:
        upgrade_schema(engine)
        populate(new_database)
        at_head = rows_of(new_database)
        migrate(engine, "downgrade", "0002")
        kept = columns_of(new_database)
    finally:
        engine.dispose()

    result = CliRunner().invoke(cli, ["init"], env={"PINGAN_DATABASE_URL": new_database})
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(f"is at schema revision {revisions()[-1]}")
    assert_kept(at_head, rows_of(new_database), kept, "after pingan init from 0002")
