"""Fixtures: a fresh database per test on SQLite *and* PostgreSQL, a movable clock, the CLI."""
from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from workflow.calendar import WorkingCalendar
from workflow.clock import FixedClock
from workflow.db import create_db_engine, session_factory, upgrade_schema
from workflow.models import Base

FIXTURES = Path(__file__).parent / "fixtures"
POSTGRES_URL = os.environ.get("PINGAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(*args: int) -> datetime:
    """A Beijing-time instant, as people in the campaigns speak of time."""
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy (a migration per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade_schema(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file we copy
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of our own on the PostgreSQL server, migrated once, dropped at the end."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:  # noqa: BLE001 - any connection failure means "no server"
        admin.dispose()
        if os.environ.get("PINGAN_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL required but not reachable at {POSTGRES_URL}: {error}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    admin.dispose()
    with scratch_postgres("test") as url:
        engine = create_db_engine(url)
        upgrade_schema(engine)
        engine.dispose()
        yield url


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


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated, empty database: a SQLite file, or the PostgreSQL test database truncated."""
    if request.param == "sqlite":
        path = tmp_path / "pingan.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_database")
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(shanghai(2026, 5, 1, 9, 0))


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """The environment a `pingan` command sees: this test's database, a pinned clock."""
    monkeypatch.setenv("PINGAN_DATABASE_URL", db_url)
    monkeypatch.setenv("PINGAN_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("PINGAN_NOW", "2026-05-01T09:00")
    monkeypatch.delenv("PINGAN_DEFINITIONS_PATH", raising=False)
    return {"PINGAN_DATABASE_URL": db_url}


@pytest.fixture
def pingan(cli_env: dict[str, str]):  # type: ignore[no-untyped-def]
    """Run a `pingan` command in-process; returns click's Result (exit_code, stdout, stderr)."""
    from webapp.cli.main import cli

    runner = CliRunner()

    def run(*args: str, now: str | None = None) -> Result:
        env = {"PINGAN_NOW": now} if now else None
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    return run


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what arrives; it can be stopped and restarted."""

    def __init__(self) -> None:
        import socket

        with socket.socket() as probe:  # aiosmtpd's start() connects to itself: port 0 won't do
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.messages: list[dict[str, object]] = []
        self.controller = None
        self.reply: str | None = None  # e.g. "451 try again later" to refuse every message

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001 - aiosmtpd's hook name
                if sink.reply:
                    return sink.reply
                import email

                message = email.message_from_bytes(envelope.content)
                sink.messages.append({"to": list(envelope.rcpt_tos), "subject": _decoded(message["Subject"]),
                                      "message_id": message["Message-ID"],
                                      "body": message.get_payload(decode=True).decode("utf-8")})
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[dict[str, object]]:
        return [m for m in self.messages if address in m["to"]]


def _decoded(header: str | None) -> str:
    from email.header import decode_header, make_header

    return str(make_header(decode_header(header or "")))


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    monkeypatch.setenv("MAIL_SERVER", "127.0.0.1")
    monkeypatch.setenv("MAIL_PORT", str(sink.port))
    monkeypatch.setenv("MAIL_DEFAULT_SENDER", "pingan@example.org")
    monkeypatch.setenv("MAIL_TIMEOUT", "5")
    yield sink
    sink.stop()


@pytest.fixture(autouse=True)
def no_daily_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands and schedulers started by tests send no daily digest unless a test asks for one."""
    monkeypatch.setenv("PINGAN_DIGEST_HOUR", "off")
