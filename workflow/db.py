"""Database engines and sessions; SQLite made safe for several writers; migrations.

SQLite (the embedded default) needs care: pysqlite's legacy transaction handling
emits no BEGIN before a SELECT, so read-modify-write transactions in several
processes lose updates, and a deferred transaction that upgrades to a write gets
SQLITE_BUSY at once despite the busy timeout (../shared/PITFALLS.md). We switch
the driver's own handling off and begin every transaction IMMEDIATE, so writers
queue on the busy timeout instead of failing or overwriting each other.

PostgreSQL: every connection gets ``statement_timeout`` (the caller's
``statement_timeout_ms``: ``PINGAN_STATEMENT_TIMEOUT_MS``, read by
webapp/config.py; default 30 s, ``0`` for none). A query stuck
behind a lock or gone wrong is cancelled by the server instead of holding a web
worker (and its row locks) for ever; the caller sees an ``OperationalError``
(the web app answers 503, a command one line) and the connection stays usable.
Waiting for a lock counts. Migrations run without the limit: building an index
on a large table may take minutes and must not be cut off half-way. SQLite has
no statement timeout; there only the busy timeout bounds the wait for the write
lock (10 s), and a slow query runs to its end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, String, Table, create_engine, event, exc, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.functions import FunctionElement

from workflow.limits import CAMPAIGNS_PER_STATEMENT

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 10_000
# a web request waits no longer than this for any one statement; the scheduler's compose service
# sets more (docker-compose.yml): a sweep that always timed out would stop every escalation, where a
# web request that times out fails for one person once
DEFAULT_STATEMENT_TIMEOUT_MS = 30_000
# a pooled connection unused for this long is pinged before it is handed out (PostgreSQL and other
# servers; SQLite has no connection to lose)
PING_IDLE_SECONDS = 10.0


def create_db_engine(
    url: str, *, statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS, **options: Any
) -> Engine:
    """An engine for ``url``, with the SQLite safety settings, or on PostgreSQL the statement
    timeout (``statement_timeout_ms``; 0: none)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, **options)
        _make_sqlite_safe(engine)
        return engine
    # pool_pre_ping=True (SQLAlchemy's) pings on every checkout; by default we ping only a
    # connection that sat idle in the pool for PING_IDLE_SECONDS or more (see _ping_when_idle)
    ping_every_checkout = options.pop("pool_pre_ping", False)
    engine = create_engine(url, pool_pre_ping=ping_every_checkout, **options)
    if not ping_every_checkout:
        _ping_when_idle(engine, PING_IDLE_SECONDS)
    if make_url(url).get_backend_name() == "postgresql":
        _add_statement_timeout(engine, statement_timeout_ms)
    return engine


def dialect_insert(session: Session, table: Table | type[Any]) -> Any:
    """An ``INSERT`` that knows ``ON CONFLICT`` for the session's back end: PostgreSQL's or
    SQLite's."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(table)


def in_batches(ids: Sequence[T], size: int = CAMPAIGNS_PER_STATEMENT) -> Iterator[list[T]]:
    """``ids`` in lists of at most ``size``, each for one statement's ``IN``: SQLite binds at most
    32,766 parameters, and a county's cascade names thousands of campaigns."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def indexed(column: list[Any]) -> tuple[list[Any], list[int]]:
    """A column of many rows as its distinct values and, per row, the 1-based index of its value
    among them: bound as PostgreSQL arrays, ``(:values)[u.index]`` gives the row's value back.
    psycopg adapts ten thousand integers several times faster than as many dates, instants or
    strings, and a sweep's rows share a few of each."""
    position: dict[Any, int] = {}
    indexes = [position.setdefault(value, len(position) + 1) for value in column]
    return list(position), indexes


class joined_text(FunctionElement[str]):  # noqa: N801 - used as SQL functions are, lower case
    """The texts of a group joined by a separator (an aggregate): ``string_agg`` on PostgreSQL,
    ``group_concat`` on SQLite. SQLAlchemy's own ``aggregate_strings`` renders its separator into
    the SQL at every execution; here it is an ordinary argument, so a statement made once stays
    compiled once. NULL for an empty group."""

    type = String()
    name = "joined_text"
    inherit_cache = True


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
    from alembic.runtime.migration import MigrationContext

    migrate(engine, "upgrade", "head")
    with engine.connect() as connection, connection.begin():
        if engine.dialect.name != "sqlite":
            # part of the migration, so exempt like it: a catalog lookup may take more than the
            # requests' few milliseconds on a busy server
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        return MigrationContext.configure(connection).get_current_revision() or ""


def migrate(engine: Engine, action: str, target: str) -> None:
    """Alembic's ``upgrade`` or ``downgrade`` to ``target``, in one transaction.

    SQLite rebuilds a table to drop a column or add a foreign key (copy, DROP
    TABLE, rename). With foreign keys enforced, that DROP TABLE fails, or
    cascades and deletes the rows other tables refer to; Alembic's batch
    documentation says to switch enforcement off around the migration and check
    the references before committing. The pragma only takes effect outside a
    transaction, hence on the driver's connection before BEGIN. On PostgreSQL
    the statement timeout is lifted for the migration's transaction: an index
    built over a million rows may take minutes.
    """
    from alembic import command

    from workflow.errors import InvalidInput

    config = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                if not sqlite:
                    connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
                config.attributes["connection"] = connection
                getattr(command, action)(config, target)
                if sqlite:
                    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if dangling:  # raising rolls the whole migration back
                        raise InvalidInput(
                            f"{action} to {target} would leave rows referring to nothing: "
                            f"{dangling[:5]}"
                        )
        finally:
            if sqlite:
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]


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


def _add_statement_timeout(engine: Engine, milliseconds: int) -> None:
    if milliseconds <= 0:
        return

    # SET on each new connection, committed so that the pool's rollback-on-return keeps it. Not a
    # startup option (libpq's "options"): SQLAlchemy's first connect reads type information before
    # any listener runs, and under a short timeout on a busy machine that read was itself cancelled.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(milliseconds)}")
        dbapi_connection.commit()


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection before handing it out only if it sat unused for ``idle_seconds``.

    SQLAlchemy's ``pool_pre_ping`` costs a round trip (``SELECT 1``) on every checkout, that is on
    every web request: a sixth of an inbox request's round trips. A connection in use a moment ago
    is almost always alive; one left idle (overnight, across a database restart or a failover) is
    the one worth checking, and is checked here. One that breaks between two busy requests anyway
    fails that request with a disconnect error: it is answered 503 with ``Retry-After``
    (webapp/errors.py), SQLAlchemy invalidates the pool's other connections opened before the
    error, and the next request gets a fresh connection, so at most one request per worker fails
    per database restart and no restart of the app is needed. A failed ping raises
    ``DisconnectionError``, on which the pool discards the connection and checks out another
    (SQLAlchemy's documented "pessimistic" handling with a custom event).
    """
    idle_since = "pingan_idle_since"

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[idle_since] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(idle_since)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(f"a pooled connection is gone: {error}") from error


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
            # 32 MiB of page cache per connection instead of 2: a sweep touches thousands of
            # scattered rows
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


@compiles(joined_text)
def _string_agg(element: joined_text, compiler: Any, **options: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **options)})"


@compiles(joined_text, "sqlite")
def _group_concat(element: joined_text, compiler: Any, **options: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **options)})"
