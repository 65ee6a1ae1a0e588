"""`pingan backup FILE` and `pingan restore FILE` on SQLite and PostgreSQL.

A database built through the engine (campaigns, tasks, rectifications, escalations, outbox mail, audit events)
comes back row for row; a SQLite backup taken while another process writes is one consistent moment; a restore
refuses a database holding data unless forced, and every refusal is one line with a non-zero exit.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import MetaData, create_engine, func, inspect, select
from sqlalchemy.pool import NullPool

from tests.support.actions import OPERATOR, actor, register, sweep
from tests.support.clock import shanghai
from tests.support.databases import revisions, scratch_postgres
from tests.support.processes import PINGAN
from tests.support.texts import SCREENING
from workflow.campaigns.lifecycle import start_campaign
from workflow.campaigns.tasks import complete_task
from workflow.clock import FixedClock
from workflow.db import create_db_engine, migrate, session_factory
from workflow.definitions.reader import parse_definition
from workflow.hazards.rectifications import (
    HazardReport,
    register_hazard,
    submit_rectification,
    verify_rectification,
)
from workflow.models import AuditEvent, Campaign, Escalation, OutboxMail, Rectification, Task
from workflow.worklists.search import SEARCH_INDEX_TABLES


@pytest.fixture
def fresh_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the same kind with nothing in it, not even a schema: where a backup is restored."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite'}"
        return
    with scratch_postgres("restored") as url:
        yield url


def pingan_on(url: str, *args: str) -> Result:
    """Run a `pingan` command against the database at ``url``."""
    from webapp.cli.main import cli

    return CliRunner().invoke(
        cli, list(args), env={"PINGAN_DATABASE_URL": url}, catch_exceptions=False
    )


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table the database holds (schema revision included, SQLite's search index
    aside), in primary-key order."""
    engine = create_engine(url, poolclass=NullPool)
    rows: dict[str, list[tuple]] = {}
    with engine.connect() as connection:
        metadata = MetaData()
        metadata.reflect(bind=connection)
        for name, table in sorted(metadata.tables.items()):
            if name.startswith(SEARCH_INDEX_TABLES):  # derived: its pages differ as writes go on
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            rows[name] = [tuple(row) for row in connection.execute(table.select().order_by(*order))]
    engine.dispose()
    return rows


def populate(sessions, campaign_id: int, calendar) -> None:  # noqa: ANN001
    """A second campaign, six hazards (one fixed and verified), a task done, and a sweep three weeks after the
    deadline: escalation steps recorded, their mails sent."""
    with sessions.begin() as session:
        second = parse_definition(
            SCREENING.replace("id: safe-railway-escalation", "id: safe-railway-second"),
            "second.yaml",
        )
        start_campaign(
            session,
            second,
            "town",
            date(2026, 9, 14),
            by=OPERATOR,
            clock=FixedClock(shanghai(2026, 9, 14, 9)),
            calendar=calendar,
        )
    hazards = [
        register(
            sessions,
            campaign_id,
            calendar,
            shanghai(2026, 9, 21, 10),
            deadline=date(2026, 9, 29),
            description=f"隐患{n}",
        )
        for n in range(6)
    ]
    keeper, office, east = (
        actor(sessions, f"{who}@example.org") for who in ("keeper", "office", "east")
    )
    with sessions.begin() as session:
        submit_rectification(
            session, hazards[0], by=keeper, clock=FixedClock(shanghai(2026, 9, 22)), note="已修复"
        )
        verify_rectification(
            session, hazards[0], by=office, clock=FixedClock(shanghai(2026, 9, 23))
        )
        screening = session.scalar(
            select(Task.id).where(
                Task.campaign_id == campaign_id, Task.assignee_id == east.person_id
            )
        )
        complete_task(
            session, screening, by=east, clock=FixedClock(shanghai(2026, 9, 24)), note="已排查"
        )
    sweep(sessions, shanghai(2026, 10, 20, 9))


def count(sessions, model) -> int:  # noqa: ANN001
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_backup_restored_into_an_empty_database_gives_back_every_row(
    db_url, fresh_url, sessions, hazard_campaign, calendar, smtp, tmp_path
):
    populate(sessions, hazard_campaign, calendar)
    for model, at_least in (
        (Campaign, 2),
        (Task, 3),
        (Rectification, 6),
        (Escalation, 10),
        (OutboxMail, 10),
        (AuditEvent, 10),
    ):
        assert count(sessions, model) >= at_least, model.__name__
    before = snapshot(db_url)
    file = tmp_path / "pingan.backup"

    made = pingan_on(db_url, "backup", str(file))
    assert made.exit_code == 0, made.output
    assert f"written to {file}" in made.stdout and file.stat().st_size > 0
    restored = pingan_on(fresh_url, "restore", str(file))
    assert restored.exit_code == 0, restored.output
    assert restored.stdout.startswith(f"restored {file} into ")

    assert snapshot(fresh_url) == before, (
        "every campaign, task, rectification, escalation, mail and audit event"
    )
    # the restored database carries on: new rows get new ids (PostgreSQL's sequences came back too)
    engine = create_db_engine(fresh_url)
    try:
        restored_sessions = session_factory(engine)
        newest = max(row[0] for row in before["rectifications"])
        added = register(
            restored_sessions,
            hazard_campaign,
            calendar,
            shanghai(2026, 10, 21, 9),
            deadline=date(2026, 11, 2),
            description="恢复后登记",
        )
        assert added == newest + 1
    finally:
        engine.dispose()
    assert pingan_on(fresh_url, "status", str(hazard_campaign)).exit_code == 0


def test_restore_refuses_a_database_that_holds_data_unless_forced_and_then_replaces_it(
    db_url, sessions, hazard_campaign, calendar, tmp_path
):
    register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    file = tmp_path / "pingan.backup"
    assert pingan_on(db_url, "backup", str(file)).exit_code == 0
    at_backup = snapshot(db_url)
    register(
        sessions,
        hazard_campaign,
        calendar,
        shanghai(2026, 9, 22, 10),
        deadline=date(2026, 9, 30),
        description="备份之后登记",
    )
    after = snapshot(db_url)

    refused = pingan_on(db_url, "restore", str(file))
    assert refused.exit_code == 1
    assert (
        refused.stderr.count("\n") == 1
        and "holds data" in refused.stderr
        and "--force" in refused.stderr
    )
    assert snapshot(db_url) == after, "nothing replaced"

    forced = pingan_on(db_url, "restore", "--force", str(file))
    assert forced.exit_code == 0, forced.output
    assert snapshot(db_url) == at_backup, (
        "the database is the backup again: the later hazard is gone"
    )


def test_what_is_not_a_backup_of_this_kind_is_refused_in_one_line_and_changes_nothing(
    db_url, fresh_url, tmp_path
):
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("not a backup\n")
    other_kind = tmp_path / "other.backup"
    if db_url.startswith("sqlite"):
        other_kind.write_bytes(b"PGDMP" + b"\x00" * 100)  # a pg_dump archive's first bytes
        foreign = tmp_path / "foreign.sqlite"  # a SQLite database, but not one of ours
        with closing(sqlite3.connect(foreign)) as connection:
            connection.execute("CREATE TABLE things (id INTEGER PRIMARY KEY)")
        cases = [(foreign, "not a pingan backup")]
    else:
        with closing(sqlite3.connect(other_kind)) as connection:
            connection.execute("CREATE TABLE alembic_version (version_num TEXT)")
        cases = []
    cases += [
        (not_a_backup, "is not a pingan backup"),
        (tmp_path / "missing.backup", "no backup file at"),
        (other_kind, "restore it into the kind of database it came from"),
    ]

    for file, reason in cases:
        refused = pingan_on(fresh_url, "restore", str(file))
        assert refused.exit_code == 1, (file, refused.output)
        assert refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1, (
            refused.stderr
        )
        assert reason in refused.stderr
    engine = create_engine(fresh_url, poolclass=NullPool)
    with engine.connect() as connection:
        assert inspect(connection).get_table_names() == [], "the target was not touched"
    engine.dispose()


def test_a_backup_that_cannot_be_written_fails_in_one_line_and_leaves_no_file(db_url, tmp_path):
    missing = tmp_path / "no-such-folder" / "pingan.backup"
    failed = pingan_on(db_url, "backup", str(missing))
    assert failed.exit_code == 1 and failed.stderr.count("\n") == 1
    assert "does not exist" in failed.stderr and not missing.parent.exists()

    made = pingan_on(db_url, "backup", str(tmp_path))  # a folder, not a file
    assert made.exit_code == 1 and "is a folder" in made.stderr and made.stderr.count("\n") == 1
    if db_url.startswith("sqlite"):
        itself = pingan_on(db_url, "backup", db_url.removeprefix("sqlite:///"))
        assert itself.exit_code == 1 and "is the database itself" in itself.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [], (
        "no partial file left"
    )


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_backup_taken_while_another_process_writes_is_one_consistent_moment(
    db_url, fresh_url, sessions, hazard_campaign, calendar, tmp_path
):
    """A writer registers hazards one transaction each (the rectification, its audit event and its mail) while
    `pingan backup` runs in its own process: the backup holds the hazards up to some moment, each complete, none
    after a gap, and everything that was there before. SQLite: the online backup API's single step; PostgreSQL:
    pg_dump's snapshot."""
    before = snapshot(db_url)
    written: list[int] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        clock = FixedClock(shanghai(2026, 9, 21, 10))
        try:
            while not stop.is_set():
                with sessions.begin() as session:
                    report = HazardReport(
                        description=f"并发{len(written):04d}",
                        site="crossing-3",
                        deadline=date(2026, 9, 29),
                    )
                    written.append(
                        register_hazard(
                            session,
                            hazard_campaign,
                            report,
                            by=OPERATOR,
                            clock=clock,
                            calendar=calendar,
                            base_url="http://pingan.test",
                        ).id
                    )
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: len(written) >= 20, 60), "the writer got going"
        file = tmp_path / "busy.backup"
        environ = {**os.environ, "PINGAN_DATABASE_URL": db_url}
        at_backup_start = len(written)
        made = subprocess.run(
            [*PINGAN, "backup", str(file)], env=environ, capture_output=True, text=True, timeout=120
        )
        assert made.returncode == 0, made.stderr
        at_backup_end = len(written)
        assert at_backup_end > at_backup_start, "the writer was busy while the backup ran"
        assert wait_for(lambda: len(written) >= at_backup_end + 20, 60), (
            "the writer went on after the backup"
        )
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not failures, failures
    if db_url.startswith("sqlite"):
        with closing(sqlite3.connect(file)) as check:
            assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert pingan_on(fresh_url, "restore", str(file)).exit_code == 0

    restored = snapshot(fresh_url)
    for table, rows in before.items():
        assert set(rows) <= set(restored[table]), (
            f"{table}: everything from before the writer started"
        )
    engine = create_engine(fresh_url, poolclass=NullPool)
    with engine.connect() as connection:
        ids = list(
            connection.scalars(
                select(Rectification.id)
                .where(Rectification.description.like("并发%"))
                .order_by(Rectification.id)
            )
        )
        assert ids == written[: len(ids)], "the hazards up to one moment, none missing in between"
        assert 20 <= len(ids) <= at_backup_end
        audited = set(
            connection.scalars(
                select(AuditEvent.entity_id).where(AuditEvent.entity == "rectification")
            )
        )
        mailed = set(
            connection.scalars(select(OutboxMail.key).where(OutboxMail.key.like("hazard-%")))
        )
    engine.dispose()
    assert all(rect in audited and f"hazard-{rect}" in mailed for rect in ids), (
        "each with its audit event and mail"
    )
    newer = set(written[len(ids) :])
    assert not any(row[0] in newer for row in restored["rectifications"])


def wait_for(condition, seconds: float) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_an_older_backup_restores_into_a_freshly_initialised_database_and_pingan_init_brings_it_up(
    db_url, fresh_url, sessions, hazard_campaign, calendar, smtp, tmp_path
):
    """The usual way back after a disaster: `pingan init` on a new database, `pingan restore` of last month's
    backup (an older schema revision), `pingan init` again. Tables the newer schema added are not left behind."""

    populate(sessions, hazard_campaign, calendar)
    counts = {
        model: count(sessions, model)
        for model in (Campaign, Task, Rectification, Escalation, OutboxMail, AuditEvent)
    }
    older = revisions()[-3]
    engine = create_db_engine(db_url)
    try:
        migrate(engine, "downgrade", older)
        file = tmp_path / "older.backup"
        assert pingan_on(db_url, "backup", str(file)).exit_code == 0
    finally:  # on PostgreSQL db_url is the session's database: the next tests need it at head
        migrate(engine, "upgrade", "head")
        engine.dispose()

    assert pingan_on(fresh_url, "init").exit_code == 0
    restored = pingan_on(fresh_url, "restore", str(file))
    assert restored.exit_code == 0, restored.output
    assert f"schema revision {older}; run `pingan init`" in restored.stdout
    upgraded = pingan_on(fresh_url, "init")
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.stdout.strip().endswith(f"at schema revision {revisions()[-1]}")

    engine = create_db_engine(fresh_url)
    try:
        restored_sessions = session_factory(engine)
        assert {model: count(restored_sessions, model) for model in counts} == counts
    finally:
        engine.dispose()
    assert pingan_on(fresh_url, "status", str(hazard_campaign)).exit_code == 0
