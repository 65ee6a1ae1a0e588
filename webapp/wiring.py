"""Where the parts meet: database, clock and calendar, configured from the environment in one place."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from workflow.calendar import WorkingCalendar, load_calendar
from workflow.clock import Clock, clock_from_env
from workflow.db import create_db_engine, current_revision, database_url, session_factory, upgrade_schema
from workflow.errors import PingAnError


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

    def session(self, readonly: bool = False) -> Session:
        """A new session for one transaction; ``readonly`` begins it now, so that it does not queue behind writers.

        ``transaction(session=…)`` ends it; the API opens it first to look its token up in, so that a request
        checks out one connection and runs one transaction (``webapp/api/routes.py``).
        """
        session = self.sessions()
        if readonly:
            try:
                session.connection(execution_options={"sqlite_deferred": True})
            except BaseException:
                session.close()
                raise
        return session

    @contextmanager
    def transaction(self, readonly: bool = False, session: Session | None = None) -> Iterator[Session]:
        """One session in one transaction; rolled back on any error. ``readonly`` does not queue behind writers.

        ``session``: one from :meth:`session` to carry on with (its transaction may have begun) and end here.
        """
        with (session or self.session(readonly)) as session:
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


def wiring(require_schema: bool = True) -> Wiring:
    """The parts for this process, from ``PINGAN_DATABASE_URL`` and ``PINGAN_NOW``."""
    url = database_url()
    engine = _engine(url)
    if require_schema:
        revision = current_revision(engine)
        if revision is None:
            raise SchemaMissing(f"the database {engine.url.render_as_string(hide_password=True)} has no schema: "
                                f"run `pingan init`")
    return Wiring(engine=engine, sessions=session_factory(engine), clock=clock_from_env())


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    return create_db_engine(url)
