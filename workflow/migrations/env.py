"""Alembic environment: runs on the connection ``pingan init`` hands over (or on
``sqlalchemy.url``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from workflow.db import create_db_engine
from workflow.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_db_engine(_url(), poolclass=pool.NullPool)
        with engine.begin() as connection:
            _run(connection)
        return
    _run(connection)


def _url() -> str:
    # the engine reads no environment: the caller names the database in the configuration
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "no database: run `pingan init`, or set sqlalchemy.url in the Alembic configuration"
        )
    return url


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    # batch mode: SQLite cannot ALTER most things in place
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
