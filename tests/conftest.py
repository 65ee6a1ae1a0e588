"""Fixtures every folder uses: a fresh database per test on SQLite *and* PostgreSQL, a movable clock, the CLI, a
real SMTP server, the campaigns most tests start from, and the app over them (the API's callers, the pages'
signed-in visitors). A folder's own fixtures are in its conftest.py; helpers are in ``tests/support``."""

from __future__ import annotations

import functools
import logging
import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import generate_password_hash

from tests.support.actions import BASE_URL, OPERATOR, start
from tests.support.api import Caller
from tests.support.clock import shanghai
from tests.support.databases import POSTGRES_URL, scratch_postgres
from tests.support.mail import SmtpSink
from tests.support.scenarios import Scenario
from tests.support.texts import (
    RAILWAY_WITH_ESCALATION,
    SCREENING,
    TOWN_WITH_CROSSING,
    TOWN_WITH_KEEPER,
)
from tests.support.web import Visitor, started_site
from webapp import create_app, wiring_of
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import FixedClock
from workflow.db import create_db_engine, session_factory, upgrade_schema
from workflow.definitions.reader import parse_definition
from workflow.models import Base
from workflow.organisation import directory
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation
from workflow.organisation.tokens import issue_token

# --- databases -----------------------------------------------------------------------------------


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


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated, empty database: a SQLite file, or the PostgreSQL test database truncated."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    url = request.getfixturevalue("postgres_database")
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A freshly migrated SQLite file. A module whose subject does not depend on the database runs on SQLite only
    by overriding ``db_url`` with it."""
    path = tmp_path / "pingan.sqlite"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture(autouse=True)
def cheap_imported_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords an organisation file carries are hashed with a cheap method in tests: the site's
    scrypt takes some 170 ms a hash here, and every sample organisation gives each of its people
    the demo password. Signing in checks any method; a `pingan` run as a process keeps scrypt."""
    monkeypatch.setattr(
        directory,
        "generate_password_hash",
        functools.partial(generate_password_hash, method="pbkdf2:sha256:1000"),
    )


# --- time ---------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(shanghai(2026, 5, 1, 9, 0))


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


# --- the command line, mail ---------------------------------------------------------------------


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


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    """A real SMTP server the app and the commands send to (MAIL_* of the environment); ``smtp.messages``."""
    sink = SmtpSink()
    sink.start()
    monkeypatch.setenv("MAIL_SERVER", "127.0.0.1")
    monkeypatch.setenv("MAIL_PORT", str(sink.port))
    monkeypatch.setenv("MAIL_DEFAULT_SENDER", "pingan@example.org")
    monkeypatch.setenv("MAIL_TIMEOUT", "5")
    yield sink
    sink.stop()


@pytest.fixture
def json_logging(monkeypatch):  # type: ignore[no-untyped-def]
    """PINGAN_LOG_FORMAT=json for this test; the root logger as it was afterwards (other tests read stderr)."""
    from webapp.logs import configure_logging

    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    monkeypatch.setenv("PINGAN_LOG_FORMAT", "json")
    yield
    monkeypatch.delenv("PINGAN_LOG_FORMAT")
    configure_logging({})  # removes our handler; pytest's own keep the root logger configured
    root.setLevel(level)
    assert root.handlers == handlers


@pytest.fixture(autouse=True)
def no_daily_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands and schedulers started by tests send no daily digest unless a test asks for one."""
    monkeypatch.setenv("PINGAN_DIGEST_HOUR", "off")


# --- campaigns ----------------------------------------------------------------------------------


@pytest.fixture
def campaign(sessions, clock, calendar) -> int:  # type: ignore[no-untyped-def]
    """The town's campaign (``TOWN_WITH_CROSSING``, ``RAILWAY_WITH_ESCALATION``) in its mobilization phase, started
    2026-05-01 (the clock's day)."""
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_CROSSING, "org.yaml"))
    return start(sessions, parse_definition(RAILWAY_WITH_ESCALATION, "def.yaml"), clock, calendar)


@pytest.fixture
def hazard_campaign(sessions, calendar) -> int:  # type: ignore[no-untyped-def]
    """The town's screening campaign (``TOWN_WITH_KEEPER``, ``SCREENING``) in its implementation phase, started
    2026-09-10: hazards at 3号道口 go to its keeper, and escalate in three levels."""
    clock = FixedClock(shanghai(2026, 9, 10, 9, 0))
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_KEEPER, "org.yaml"))
        return start_campaign(
            session,
            parse_definition(SCREENING, "def.yaml"),
            "town",
            date(2026, 9, 10),
            by=OPERATOR,
            clock=clock,
            calendar=calendar,
        ).id


@pytest.fixture
def scenario(sessions, calendar) -> Scenario:  # type: ignore[no-untyped-def]
    """The assessed railway campaign, started 2026-05-04; a module moves it on by overriding this fixture."""
    return Scenario(sessions, calendar)


# --- the app: the API and the pages -------------------------------------------------------------


@pytest.fixture
def app(db_url, clock):  # type: ignore[no-untyped-def]
    """The app on this test's database and clock."""
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "CLOCK": clock,
            "TESTING": True,
            "SECRET_KEY": "test",
            "BASE_URL": BASE_URL,
        }
    )
    yield app
    wiring_of(app).engine.dispose()


@pytest.fixture
def as_person(app, sessions, clock, campaign):  # type: ignore[no-untyped-def]
    """An API caller with a fresh token of the given person, on ``campaign``."""

    def caller(email: str) -> Caller:
        with sessions.begin() as session:
            return Caller(app.test_client(), issue_token(session, email, clock.now()))

    return caller


@pytest.fixture
def site(db_url, sessions, clock, tmp_path):  # type: ignore[no-untyped-def]
    """The app over the town's campaign (as ``campaign``), everyone with a password; the clock stands at
    2026-05-12. ``site.campaign_id`` is the campaign's id."""
    app = started_site(
        db_url,
        sessions,
        clock,
        tmp_path,
        RAILWAY_WITH_ESCALATION,
        opens_at=shanghai(2026, 5, 12, 9),
    )
    yield app
    wiring_of(app).engine.dispose()


@pytest.fixture
def visitor(site):  # type: ignore[no-untyped-def]
    """A browser of the given person, signed in through the sign-in form (nobody's with no e-mail)."""

    def signed_in(email: str | None = None) -> Visitor:
        person = Visitor(site.test_client())
        if email:
            answer = person.sign_in(email)
            assert answer.status_code == 302, answer.get_data(as_text=True)
        return person

    return signed_in
