"""Database engines and sessions; SQLite made safe for several writers; migrations.

SQLite (the embedded default) needs care: pysqlite's legacy transaction handling
emits no BEGIN before a SELECT, so read-modify-write transactions in several
processes lose updates, and a deferred transaction that upgrades to a write gets
SQLITE_BUSY at once despite the busy timeout (../shared/PITFALLS.md). We switch
the driver's own handling off and begin every transaction IMMEDIATE, so writers
queue on the busy timeout instead of failing or overwriting each other.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000


def instance_path() -> Path:
    """The instance folder (SQLite file, uploads): ``PINGAN_INSTANCE_PATH`` or ``<prefix>/var/pingan-instance``."""
    configured = os.environ.get("PINGAN_INSTANCE_PATH", "").strip()
    # Flask's convention for an installed package: the folder lives under the
    # environment's prefix, so each virtual environment has its own database.
    return Path(configured) if configured else Path(sys.prefix) / "var" / "pingan-instance"


def database_url() -> str:
    """``PINGAN_DATABASE_URL``, or a SQLite file in the instance folder."""
    configured = os.environ.get("PINGAN_DATABASE_URL", "").strip()
    if configured:
        return configured
    folder = instance_path()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'pingan.sqlite'}"


def create_db_engine(url: str | None = None, **options: Any) -> Engine:
    """An engine for ``url`` (default :func:`database_url`), with the SQLite safety settings."""
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, **options)
        _make_sqlite_safe(engine)
        return engine
    options.setdefault("pool_pre_ping", True)
    return create_engine(url, **options)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: results of a use case stay readable after the
    # transaction that produced them (the CLI prints them).
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any exception."""
    with sessions() as session, session.begin():
        yield session


def upgrade_schema(engine: Engine) -> str:
    """Create or upgrade the schema to the newest migration; return the revision reached."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() or ""


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None: not initialised)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def alembic_config() -> Any:
    """Alembic's configuration pointing at the migrations shipped inside the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config


def _make_sqlite_safe(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            # 32 MiB of page cache per connection instead of 2: a sweep touches thousands of scattered rows
            cursor.execute("PRAGMA cache_size = -32768")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A read-only connection may ask for a deferred transaction so readers
        # do not queue behind writers: .execution_options(sqlite_deferred=True)
        if connection.get_execution_options().get("sqlite_deferred"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
