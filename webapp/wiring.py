"""Where the parts meet: database, clock and calendar, configured from the settings
(webapp/config.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from webapp.config import Settings
from workflow.calendar import WorkingCalendar, load_calendar
from workflow.clock import Clock
from workflow.db import (
    DEFAULT_STATEMENT_TIMEOUT_MS,
    create_db_engine,
    current_revision,
    session_factory,
    upgrade_schema,
)
from workflow.errors import PingAnError

# Flask only where the web app is set up: the `pingan` command imports this module too
if TYPE_CHECKING:
    from flask import Flask


class SchemaMissing(PingAnError):
    code = "unavailable"
    status = 503


@dataclass
class Wiring:
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def session(self, readonly: bool = False, *, autocommit: bool = False) -> Session:
        """A new session for one transaction; ``readonly`` begins it now, so that it does not queue
        behind writers.

        ``transaction(session=…)`` ends it; the API opens it first to look its token up in, so that
        a request checks out one connection and runs one transaction (``webapp/api/routes.py``).

        ``autocommit`` (with ``readonly``; PostgreSQL only): run the reads without BEGIN and
        COMMIT, two of an API read's round trips. Nothing changes for what they see: at READ
        COMMITTED, PostgreSQL's level and ours, each statement sees its own snapshot inside a
        transaction as well. For callers that only read (SQLite keeps its deferred transaction).
        """
        session = self.sessions()
        if readonly:
            options: dict[str, Any] = {"sqlite_deferred": True}
            if autocommit and self.engine.dialect.name == "postgresql":
                options = {"isolation_level": "AUTOCOMMIT"}
            try:
                session.connection(execution_options=options)
            except BaseException:
                session.close()
                raise
        return session

    @contextmanager
    def transaction(
        self, readonly: bool = False, session: Session | None = None, *, autocommit: bool = False
    ) -> Iterator[Session]:
        """One session in one transaction; rolled back on any error. ``readonly`` does not queue
        behind writers.

        ``session``: one from :meth:`session` to carry on with (its transaction may have begun) and
        end here. ``autocommit``: see :meth:`session`.
        """
        with session or self.session(readonly, autocommit=autocommit) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def calendar(self, session: Session) -> WorkingCalendar:
        return load_calendar(session)

    def upgrade(self) -> str:
        return upgrade_schema(self.engine)


def wiring_for(settings: Settings, require_schema: bool = True) -> Wiring:
    """The parts for this process, from its settings (``PINGAN_DATABASE_URL``, ``PINGAN_NOW`` …)."""
    url = settings.database_url
    engine = _engine(url, _statement_timeout(settings, url))
    if require_schema:
        revision = current_revision(engine)
        if revision is None:
            raise SchemaMissing(
                f"the database {engine.url.render_as_string(hide_password=True)} has no schema: "
                f"run `pingan init`"
            )
    return Wiring(engine=engine, sessions=session_factory(engine), clock=settings.clock())


def wiring_of(app: Flask) -> Wiring:
    """The database, sessions and clock of this app."""
    return app.extensions["pingan"]


def engine_for(settings: Settings, url: str, **options: Any) -> Engine:
    """A new engine for ``url`` with the statement timeout of the settings."""
    return create_db_engine(url, statement_timeout_ms=_statement_timeout(settings, url), **options)


@lru_cache(maxsize=8)
def _engine(url: str, statement_timeout_ms: int) -> Engine:
    return create_db_engine(url, statement_timeout_ms=statement_timeout_ms)


def _statement_timeout(settings: Settings, url: str) -> int:
    # read (and a bad value refused) on PostgreSQL only: SQLite has no statement timeout, so a
    # laptop is never stopped by a setting that does nothing there
    if url.startswith("sqlite") or make_url(url).get_backend_name() != "postgresql":
        return DEFAULT_STATEMENT_TIMEOUT_MS
    return settings.statement_timeout_ms
