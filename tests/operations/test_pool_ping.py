"""The pool pings a connection only when it sat idle (workflow/db.py ``_ping_when_idle``): a
connection used a moment ago is handed out without a round trip, one left idle and found dead is
replaced before anybody uses it (issue 19)."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from workflow.db import create_db_engine


def _backend(engine) -> int:  # noqa: ANN001
    with engine.connect() as connection:
        return connection.execute(text("select pg_backend_pid()")).scalar_one()


def test_a_busy_connection_is_not_pinged_and_an_idle_dead_one_is_replaced(postgres_database):
    engine = create_db_engine(postgres_database, pool_size=1, max_overflow=0)
    admin = create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    pings = []

    original = engine.dialect.do_ping
    engine.dialect.do_ping = lambda connection: pings.append(1) or original(connection)  # type: ignore[method-assign]
    try:
        first = _backend(engine)
        assert _backend(engine) == first and pings == [], "used a moment ago: no ping"

        with admin.connect() as connection:
            connection.execute(text("select pg_terminate_backend(:pid)"), {"pid": first})
        (record,) = list(engine.pool._pool.queue)  # type: ignore[attr-defined]
        record.info["pingan_idle_since"] -= 3600  # as if it had sat in the pool for an hour

        replacement = _backend(engine)  # no error: the ping found it dead and the pool replaced it
        assert replacement != first and pings == [1]
    finally:
        engine.dispose()
        admin.dispose()
