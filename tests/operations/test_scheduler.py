"""`pingan scheduler`: one leader among several processes, a handover that does nothing twice, a clean stop."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from tests.support.actions import register
from tests.support.clock import shanghai
from tests.support.databases import scratch_postgres
from tests.support.processes import PINGAN
from workflow.escalation.scheduler import FileLeaderLock, run_scheduler
from workflow.models import Escalation, OutboxMail

PINNED_NOW = "2026-10-20T09:00"  # every level of a hazard due on 2026-09-29 has come due
INTERVAL = 1
# seconds for a process to start and report, generous: two shared cores, other test runs
STARTUP = 20


class SchedulerProcess:
    """A real `pingan scheduler` process whose log (stderr) goes to a file we can read while it runs."""

    def __init__(self, log_path: Path, environ: dict[str, str]) -> None:
        self.log_path = log_path
        self._log_file = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [*PINGAN, "scheduler", "--interval", str(INTERVAL)],
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=self._log_file,
            text=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def count(self, marker: str) -> int:
        return self.log().count(marker)

    def decided(self) -> bool:
        return "became leader" in self.log() or "standby" in self.log()

    def leads(self) -> bool:
        return "became leader" in self.log()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._log_file.close()


@pytest.fixture
def launch(db_url: str, tmp_path: Path, smtp) -> Iterator[Callable[[], SchedulerProcess]]:  # noqa: ANN001
    """Start scheduler processes on this test's database (clock pinned); every one is killed afterwards."""
    environ = {
        **os.environ,
        "PINGAN_DATABASE_URL": db_url,
        "PINGAN_NOW": PINNED_NOW,
        "PINGAN_BASE_URL": "http://pingan.test",
    }
    environ.pop("PINGAN_SCHEDULER_INTERVAL", None)
    started: list[SchedulerProcess] = []

    def start() -> SchedulerProcess:
        started.append(SchedulerProcess(tmp_path / f"scheduler-{len(started) + 1}.log", environ))
        return started[-1]

    try:
        yield start
    finally:
        for process in started:
            process.stop()


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_of_two_schedulers_on_one_database_one_leads_and_the_other_stands_by(launch):
    first, second = launch(), launch()
    assert wait_until(lambda: first.decided() and second.decided(), STARTUP), (
        first.log() + second.log()
    )
    assert first.leads() != second.leads(), first.log() + second.log()
    leader, standby = (first, second) if first.leads() else (second, first)

    assert wait_until(lambda: leader.count("pass: ") >= 2, 10), leader.log()
    assert leader.count("became leader") == 1 and "standby" not in leader.log()
    assert "standby: another scheduler is leader" in standby.log()
    assert not standby.leads() and "pass: " not in standby.log(), standby.log()


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_when_the_leader_is_killed_the_standby_takes_over_and_nothing_is_done_twice(
    launch, sessions, hazard_campaign, calendar, smtp
):
    before = [
        register(
            sessions,
            hazard_campaign,
            calendar,
            shanghai(2026, 9, 21, 10),
            deadline=date(2026, 9, 29),
            description=f"隐患A{n:02d}",
        )
        for n in range(20)
    ]
    first, second = launch(), launch()
    assert wait_until(lambda: first.decided() and second.decided(), STARTUP), (
        first.log() + second.log()
    )
    leader, standby = (first, second) if first.leads() else (second, first)
    assert wait_until(lambda: leader.count("pass: ") >= 1, 15), leader.log()
    assert _escalations(sessions) == 20 * 3 and _unsent(sessions) == 0, (
        "the leader's first pass did it all"
    )

    leader.process.send_signal(signal.SIGKILL)
    leader.process.wait(timeout=10)
    # work that comes due after the handover: only the new leader can do it
    after = [
        register(
            sessions,
            hazard_campaign,
            calendar,
            shanghai(2026, 9, 21, 10),
            deadline=date(2026, 9, 29),
            description=f"隐患B{n:02d}",
        )
        for n in range(20)
    ]
    assert wait_until(standby.leads, 2 * INTERVAL + 3), standby.log()
    assert wait_until(lambda: _escalations(sessions) == 40 * 3 and _unsent(sessions) == 0, 15), (
        standby.log()
    )
    passes = standby.count("pass: ")
    assert wait_until(lambda: standby.count("pass: ") >= passes + 2, 10), (
        "later passes find nothing more to do"
    )

    with sessions() as session:
        levels = session.execute(select(Escalation.item_id, Escalation.level)).all()
        outbox = session.scalar(select(func.count()).select_from(OutboxMail))
    assert len(levels) == len(set(levels)) == 40 * 3
    assert len(smtp.messages) == outbox, "each outbox mail delivered once"
    assert len({m["message_id"] for m in smtp.messages}) == outbox, "no message delivered twice"
    for address, level_mark in (
        ("office@example.org", "第1级"),
        ("deputy@example.org", "第2级"),
        ("leader@example.org", "第3级"),
    ):
        links = [
            int(link)
            for m in smtp.to(address)
            if level_mark in m["subject"]
            for link in re.findall(r"/rectifications/(\d+)", m["body"])
        ]
        assert sorted(links) == sorted(before + after), (
            f"{address}: every item once, across the handover"
        )


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_sigterm_stops_the_leader_promptly_and_frees_the_lock_for_the_next_one(launch):
    first = launch()
    assert wait_until(lambda: first.count("pass: ") >= 1, STARTUP), first.log()

    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(timeout=5) == 0, first.log()
    assert (
        "SIGTERM: stopping" in first.log()
        and "scheduler stopped; leader lock released" in first.log()
    )

    second = launch()
    assert wait_until(second.decided, STARTUP), second.log()
    assert second.leads() and "standby" not in second.log(), "the lock was free at once"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that exists but has no schema (nobody ran `pingan init`)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    request.getfixturevalue("postgres_database")  # skips when there is no server
    with scratch_postgres("empty") as url:
        yield url


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_scheduler_on_a_database_without_schema_exits_1_with_one_line(empty_db_url):
    environ = {**os.environ, "PINGAN_DATABASE_URL": empty_db_url}
    result = subprocess.run(
        [*PINGAN, "scheduler", "--interval", "1"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.strip().endswith("has no schema: run `pingan init`")


@pytest.mark.slow
@pytest.mark.timeout(60)
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_leader_whose_lock_connection_dies_stands_by_then_leads_again(launch, db_url):
    scheduler = launch()
    assert wait_until(lambda: scheduler.count("pass: ") >= 1, STARTUP), scheduler.log()

    engine = create_engine(db_url)
    with engine.begin() as connection:
        killed = connection.scalar(
            text(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity "
                "where application_name = 'pingan-scheduler' "
                "and datname = current_database()"
            )
        )
    engine.dispose()
    assert killed == 1
    assert wait_until(lambda: "lost leadership; standby" in scheduler.log(), 2 * INTERVAL + 3), (
        scheduler.log()
    )
    assert wait_until(lambda: scheduler.count("became leader") == 2, 2 * INTERVAL + 3), (
        scheduler.log()
    )
    assert scheduler.process.poll() is None


@pytest.mark.parametrize(
    ("args", "interval_env", "message"),
    [
        (
            ["--interval", "0"],
            None,
            "error: --interval must be a positive number of seconds, not 0",
        ),
        ([], "soon", "error: PINGAN_SCHEDULER_INTERVAL must be a number of seconds, not 'soon'"),
    ],
)
def test_a_bad_interval_is_refused_in_one_line(pingan, monkeypatch, args, interval_env, message):
    if interval_env:
        monkeypatch.setenv("PINGAN_SCHEDULER_INTERVAL", interval_env)
    result = pingan("scheduler", *args)
    assert (result.exit_code, result.stderr.strip()) == (1, message)


# --- the loop itself, in this process: no database needed ---------------------------------------


def test_the_first_pass_runs_at_start_and_a_stop_returns_with_the_lock_released(tmp_path):
    lock_path = tmp_path / "db.sqlite.scheduler.lock"
    ran, stop = threading.Event(), threading.Event()

    def one_pass() -> str:
        ran.set()
        return "done"

    loop = threading.Thread(
        target=run_scheduler,
        args=(one_pass,),
        daemon=True,
        kwargs={
            "lock": FileLeaderLock(lock_path),
            "interval_seconds": 3600,
            "stop": stop,
            "logger": logging.getLogger("test.scheduler"),
        },
    )
    loop.start()
    try:
        assert ran.wait(5), "the first pass does not wait an interval"
        assert not FileLeaderLock(lock_path).try_acquire(), "held while running"
    finally:
        stop.set()
        loop.join(5)
    assert not loop.is_alive()
    assert FileLeaderLock(lock_path).try_acquire(), "released on stop"


def test_a_stop_during_a_pass_lets_it_finish_before_the_lock_is_released(tmp_path):
    lock_path = tmp_path / "db.sqlite.scheduler.lock"
    started, stop, held_to_the_end = threading.Event(), threading.Event(), []

    def slow_pass() -> str:
        started.set()
        time.sleep(0.5)
        held_to_the_end.append(not FileLeaderLock(lock_path).try_acquire())
        return "slow"

    loop = threading.Thread(
        target=run_scheduler,
        args=(slow_pass,),
        daemon=True,
        kwargs={
            "lock": FileLeaderLock(lock_path),
            "interval_seconds": 3600,
            "stop": stop,
            "logger": logging.getLogger("test.scheduler"),
        },
    )
    loop.start()
    assert started.wait(5)
    stop.set()
    loop.join(5)
    assert not loop.is_alive()
    assert held_to_the_end == [True], "the pass finished while still leader"
    assert FileLeaderLock(lock_path).try_acquire()


def test_a_failing_pass_is_logged_and_the_next_one_runs(tmp_path, caplog):
    calls, stop = [], threading.Event()

    def one_pass() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away\nsecond line")
        if len(calls) >= 3:
            stop.set()
        return "fine"

    caplog.set_level(logging.INFO, logger="test.scheduler")
    loop = threading.Thread(
        target=run_scheduler,
        args=(one_pass,),
        daemon=True,
        kwargs={
            "lock": FileLeaderLock(tmp_path / "x.lock"),
            "interval_seconds": 0.1,
            "stop": stop,
            "logger": logging.getLogger("test.scheduler"),
        },
    )
    loop.start()
    loop.join(10)
    assert not loop.is_alive()
    messages = [r.getMessage() for r in caplog.records if r.name == "test.scheduler"]
    assert "pass failed: RuntimeError: the database went away" in messages
    assert "pass: fine" in messages
    assert messages[-1] == "scheduler stopped; leader lock released"


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _escalations(sessions) -> int:  # noqa: ANN001
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Escalation)) or 0


def _unsent(sessions) -> int:  # noqa: ANN001
    with sessions() as session:
        return (
            session.scalar(
                select(func.count()).select_from(OutboxMail).where(OutboxMail.sent_at.is_(None))
            )
            or 0
        )
