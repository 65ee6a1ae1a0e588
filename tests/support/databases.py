"""The test databases: the PostgreSQL server's address, scratch databases of a test's own, counting rows."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from workflow.db import alembic_config
from workflow.models import Base

POSTGRES_URL = os.environ.get(
    "PINGAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def scratch_postgres(purpose: str) -> Iterator[str]:
    """A new, empty database (no schema) on the test server, dropped afterwards: for a test that must not
    disturb the database the other tests share (walking migrations, restoring a backup, a reference run)."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"pingan_{purpose}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def row_counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    """The number of rows of every table: equal before and after, a refused move changed nothing."""
    with sessions() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


def every_row(sessions: sessionmaker[Session]) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in key order: a refused request changes no count and no state.

    Not the sign-in throttle's rows: a refused sign-in is counted there by design.
    """
    with sessions() as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
            if table.name != "login_failures"
        }


def revisions() -> list[str]:
    """Every schema revision, oldest first (the history is linear)."""
    script = ScriptDirectory.from_config(alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]
