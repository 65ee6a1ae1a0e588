"""Production settings: the statement timeout on PostgreSQL, and JSON logs that never carry a secret."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from tests.support.clock import shanghai
from tests.support.databases import POSTGRES_URL
from tests.support.paths import ROOT
from tests.support.processes import free_port
from webapp import create_app
from webapp.cli.main import cli
from webapp.config import Settings
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import FixedClock
from workflow.db import create_db_engine, session_factory, upgrade_schema
from workflow.definitions.reader import parse_definition
from workflow.errors import InvalidInput
from workflow.models import Task
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation
from workflow.organisation.tokens import issue_token

PASSWORD = "Village-Head-Passw0rd-7f3a"
WRONG_PASSWORD = "Not-The-Passw0rd-91c2"
ORG = f"""
units:
  - id: town
    name: 平安镇
    children:
      - {{id: east, name: 东村}}
people:
  - {{email: leader@example.org, name: 张组长, unit: town, roles: [leader]}}
  - {{email: head@example.org, name: 李村长, unit: east, roles: [village_head], password: {PASSWORD}}}
"""
DEFINITION = """
id: settings
version: 1
title: 平安创建活动
roles:
  - {id: leader, title: 组长}
  - {id: village_head, title: 村负责人, scope: unit}
phases:
  - id: mobilization
    title: 宣传发动阶段
    tasks:
      - {id: plan, title: 制定方案, assignee: village_head, per: unit, due: 14d}
  - id: implementation
    title: 全面实施阶段
"""

postgres_only = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


# --- statement timeout --------------------------------------------------------------------------


@postgres_only
def test_a_statement_over_the_limit_is_cancelled_and_the_connection_stays_usable(
    db_url, monkeypatch
):
    monkeypatch.setenv("PINGAN_STATEMENT_TIMEOUT_MS", "300")
    # one connection: the cancelled one is reused
    engine = create_db_engine(
        db_url,
        statement_timeout_ms=Settings.from_env().statement_timeout_ms,
        pool_size=1,
        max_overflow=0,
    )
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "300ms"
        began = time.monotonic()
        with (
            pytest.raises(OperationalError, match="statement timeout"),
            engine.connect() as connection,
        ):
            connection.execute(text("SELECT pg_sleep(5)"))
        assert time.monotonic() - began < 3, "cancelled at the limit, not after the query's 5 s"
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


@postgres_only
def test_the_statement_timeout_is_30_seconds_unless_configured_and_0_lifts_it(db_url, monkeypatch):
    monkeypatch.delenv("PINGAN_STATEMENT_TIMEOUT_MS", raising=False)
    assert _statement_timeout(db_url) == "30s"
    monkeypatch.setenv("PINGAN_STATEMENT_TIMEOUT_MS", "0")
    assert _statement_timeout(db_url) == "0"
    monkeypatch.setenv("PINGAN_STATEMENT_TIMEOUT_MS", "2500")
    assert _statement_timeout(db_url) == "2500ms"
    monkeypatch.setenv("PINGAN_STATEMENT_TIMEOUT_MS", "30s")
    with pytest.raises(InvalidInput, match="PINGAN_STATEMENT_TIMEOUT_MS"):
        create_db_engine(db_url, statement_timeout_ms=Settings.from_env().statement_timeout_ms)


def test_migrations_run_to_the_end_however_short_the_statement_timeout(monkeypatch):
    # every CREATE TABLE and CREATE INDEX of the migrations takes longer than a millisecond
    monkeypatch.setenv("PINGAN_STATEMENT_TIMEOUT_MS", "1")
    admin = _postgres_admin()
    name = f"pingan_settings_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_db_engine(
        admin.url.set(database=name).render_as_string(hide_password=False),
        statement_timeout_ms=Settings.from_env().statement_timeout_ms,
    )
    try:
        assert upgrade_schema(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "1ms", (
                "only the migration is exempt"
            )
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@postgres_only
def test_a_request_stuck_behind_a_lock_answers_503_in_the_error_shape_and_the_next_one_works(
    db_url, monkeypatch
):
    task_id, token = _campaign_with_a_task(db_url)
    monkeypatch.setenv("PINGAN_STATEMENT_TIMEOUT_MS", "500")
    app = create_app(
        {"DATABASE_URL": db_url, "SECRET_KEY": "test", "CLOCK": FixedClock(shanghai(2026, 5, 2, 9))}
    )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    holder = create_engine(db_url)
    try:
        with holder.begin() as connection:  # a long transaction elsewhere holds the task's row
            connection.execute(select(Task.id).where(Task.id == task_id).with_for_update())
            began = time.monotonic()
            stuck = client.post(
                f"/api/v1/tasks/{task_id}/complete", json={"note": "完成"}, headers=headers
            )
            waited = time.monotonic() - began
        assert stuck.status_code == 503, (stuck.status_code, stuck.get_data(as_text=True))
        body = stuck.get_json()
        assert body["error"] == "unavailable" and body["message"]
        assert "pg_sleep" not in body["message"] and "SELECT" not in body["message"], (
            "no SQL reaches the caller"
        )
        assert waited < 5, (
            f"answered at the limit, not after the lock was released ({waited:.1f} s)"
        )
        done = client.post(
            f"/api/v1/tasks/{task_id}/complete", json={"note": "完成"}, headers=headers
        )
        assert done.status_code == 200 and done.get_json()["state"] == "done"
    finally:
        holder.dispose()
        app.extensions["pingan"].engine.dispose()


def test_sqlite_has_no_statement_timeout_and_ignores_the_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("PINGAN_STATEMENT_TIMEOUT_MS", "1")
    engine = create_db_engine(f"sqlite:///{tmp_path / 'laptop.sqlite'}")
    try:
        with engine.connect() as connection:
            began = time.monotonic()
            counted = connection.execute(
                text(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) "
                    "SELECT count(*) FROM n"
                )
            ).scalar()
            assert counted == 300000 and time.monotonic() - began > 0.001, (
                "a query longer than the setting runs"
            )
    finally:
        engine.dispose()


# --- structured logs ----------------------------------------------------------------------------


def test_json_logs_are_one_object_per_line_and_never_carry_a_password_or_a_token(
    db_url, cli_env, json_logging, capsys, tmp_path
):
    runner = CliRunner()
    org_file = tmp_path / "org.yaml"
    org_file.write_text(ORG, encoding="utf-8")
    imported = runner.invoke(cli, ["import-org", str(org_file)])
    issued = runner.invoke(cli, ["token", "head@example.org"])
    assert imported.exit_code == 0 and issued.exit_code == 0, (imported.stderr, issued.stderr)
    token = issued.stdout.strip()
    log_text = imported.stderr + issued.stderr

    app = create_app(
        {"DATABASE_URL": db_url, "SECRET_KEY": "test", "CLOCK": FixedClock(shanghai(2026, 5, 2, 9))}
    )
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    refused = client.post(
        "/login", data={"email": "head@example.org", "password": WRONG_PASSWORD, "csrf_token": csrf}
    )
    signed_in = client.post(
        "/login", data={"email": "head@example.org", "password": PASSWORD, "csrf_token": csrf}
    )
    # a client that puts the token into the URL as well: the access line names the path only
    mine = client.get(
        f"/api/v1/inbox?access_token={token}",
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-42"},
    )
    forged = client.get("/api/v1/inbox", headers={"Authorization": f"Bearer {token[::-1]}"})
    assert (refused.status_code, signed_in.status_code, mine.status_code, forged.status_code) == (
        401,
        302,
        200,
        401,
    )
    app.extensions["pingan"].engine.dispose()
    log_text += capsys.readouterr().err

    # each line is one JSON object
    lines = [json.loads(line) for line in log_text.splitlines() if line.strip()]
    assert all({"timestamp", "level", "logger", "message"} <= line.keys() for line in lines)
    for secret in (PASSWORD, WRONG_PASSWORD, token, token[::-1]):
        assert secret not in log_text
    access = [line for line in lines if line["logger"] == "pingan.access"]
    assert [(a["method"], a["path"], a["status"]) for a in access] == [
        ("GET", "/login", 200),
        ("POST", "/login", 401),
        ("POST", "/login", 302),
        ("GET", "/api/v1/inbox", 200),
        ("GET", "/api/v1/inbox", 401),
    ]
    assert all(isinstance(a["duration_ms"], float) and a["request_id"] for a in access)
    assert access[3]["request_id"] == "req-42" and mine.headers["X-Request-ID"] == "req-42"


@pytest.mark.slow
def test_the_scheduler_logs_json_lines(tmp_path):
    database = tmp_path / "pingan.sqlite"
    environment = {
        **os.environ,
        "PINGAN_DATABASE_URL": f"sqlite:///{database}",
        "PINGAN_LOG_FORMAT": "json",
        "PINGAN_INSTANCE_PATH": str(tmp_path),
        "PINGAN_NOW": "2026-05-01T09:00",
    }
    command = [sys.executable, "-c", "from webapp.cli.main import main; main()"]
    subprocess.run(
        [*command, "init"], env=environment, check=True, capture_output=True, timeout=120
    )
    scheduler = subprocess.Popen(
        [*command, "scheduler", "--interval", "0.5"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: database.with_name("pingan.sqlite.scheduler.lock").exists(), 60)
        time.sleep(2)
    finally:
        scheduler.send_signal(signal.SIGTERM)
        _, errors = scheduler.communicate(timeout=30)
    lines = [json.loads(line) for line in errors.splitlines() if line.strip()]
    messages = [line["message"] for line in lines if line["logger"] == "pingan.scheduler"]
    assert "became leader" in messages and any(m.startswith("pass: ") for m in messages), errors[
        -2000:
    ]
    assert all(line["process"] == scheduler.pid for line in lines), (
        "the scheduler's own lines, every one JSON"
    )


@pytest.mark.slow
def test_gunicorn_and_its_workers_log_json_lines_with_the_path_but_not_the_query_string(tmp_path):
    database = tmp_path / "pingan.sqlite"
    environment = {
        **os.environ,
        "PINGAN_DATABASE_URL": f"sqlite:///{database}",
        "PINGAN_LOG_FORMAT": "json",
        "PINGAN_INSTANCE_PATH": str(tmp_path),
        "PINGAN_SECRET_KEY": "test",
        "GUNICORN_CMD_ARGS": _image_gunicorn_args(),
    }
    subprocess.run(
        [sys.executable, "-c", "from webapp.cli.main import main; main()", "init"],
        env=environment,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "-",
            "webapp.wsgi:app",
        ],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        answer = _wait_for(
            lambda: urllib.request.urlopen(
                f"http://127.0.0.1:{port}/healthz?token=s3cr3t-in-url", timeout=5
            ),
            60,
        )
        assert answer.status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert any(line["message"].startswith("Starting gunicorn") for line in lines), (
        "the master's lines too"
    )
    assert any(
        line["logger"] == "pingan.access" and line["path"] == "/healthz" and line["status"] == 200
        for line in lines
    )
    assert "s3cr3t-in-url" not in output, (
        "gunicorn's own access line (with the query string) is not written"
    )


# --- helpers ------------------------------------------------------------------------------------


def _statement_timeout(url: str) -> str:
    engine = create_db_engine(url, statement_timeout_ms=Settings.from_env().statement_timeout_ms)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SHOW statement_timeout")).scalar()
    finally:
        engine.dispose()


def _postgres_admin():  # type: ignore[no-untyped-def]
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("select 1"))
    except Exception:  # noqa: BLE001 - no server here
        admin.dispose()
        if os.environ.get("PINGAN_REQUIRE_POSTGRES"):
            raise
        pytest.skip("PostgreSQL not reachable")
    return admin


def _campaign_with_a_task(url: str) -> tuple[int, str]:
    engine = create_db_engine(url)
    clock = FixedClock(shanghai(2026, 5, 1, 9))
    with session_factory(engine).begin() as session:
        import_organisation(session, parse_organisation(ORG, "org.yaml"))
        start_campaign(
            session,
            parse_definition(DEFINITION, "def.yaml"),
            "town",
            date(2026, 5, 1),
            by=Actor.operator("test"),
            clock=clock,
            calendar=WorkingCalendar(),
        )
        task_id = session.scalar(select(Task.id))
        token = issue_token(session, "head@example.org", clock.now())
    engine.dispose()
    return task_id, token


def _image_gunicorn_args() -> str:
    """GUNICORN_CMD_ARGS as the image sets it (Dockerfile)."""
    found = re.search(
        r'GUNICORN_CMD_ARGS="([^"]+)"', (ROOT / "Dockerfile").read_text(encoding="utf-8")
    )
    assert found, "the image names gunicorn's logger class"
    return found.group(1)


def _wait_for(probe, seconds: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = probe()
            if found:
                return found
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"not ready after {seconds} s")
        time.sleep(0.2)
