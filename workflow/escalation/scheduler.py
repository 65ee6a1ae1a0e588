"""The long-running clock: one leader among any number of scheduler processes runs a pass every
interval.

APScheduler's job stores cannot be shared between processes (../shared/PITFALLS.md),
so each `pingan scheduler` keeps its one job in memory, defined here in code, and
only the process holding the leader lock runs it: a PostgreSQL advisory lock on
a dedicated connection, or ``flock`` on a file next to the SQLite database. The
lock saves work, it is not the guarantee: every pass derives what is due from
the domain tables (deadlines, the escalation queue, the outbox), never from
"the job last ran at X", and its changes are unique-keyed and row-locked, so a
pass missed, repeated, or run twice at once during a handover changes nothing
more.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from apscheduler.events import EVENT_SCHEDULER_STARTED, SchedulerEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

from workflow.errors import InvalidInput

# "pingan" in ASCII: the advisory lock key of the scheduler leader (advisory locks are per
# database).
SCHEDULER_LOCK_KEY = 0x70696E67616E


class LeaderLock(Protocol):
    def try_acquire(self) -> bool:
        """Whether this process is the leader now: takes the lock if free, re-checks it if already
        held."""

    def release(self) -> None:
        """Give leadership up (idempotent)."""


def leader_lock_for(url: str) -> LeaderLock:
    """The leader lock that fits the database at ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return PostgresLeaderLock(url, SCHEDULER_LOCK_KEY)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory":
            raise InvalidInput(
                "the scheduler needs a SQLite database file or PostgreSQL, not an in-memory "
                "database"
            )
        return FileLeaderLock(Path(f"{parsed.database}.scheduler.lock"))
    raise InvalidInput(
        f"the scheduler supports SQLite and PostgreSQL, not {parsed.get_backend_name()}"
    )


class PostgresLeaderLock:
    """``pg_try_advisory_lock`` held on a connection of its own for the life of the process.

    Never a pooled connection: returned to a pool, the lock would stay with whichever
    code borrows the connection next (and behind PgBouncer in transaction mode it does
    not work at all). The connection runs in autocommit, so it never sits idle in a
    transaction. If it dies, the server has released the lock: leadership is lost.
    """

    def __init__(self, url: str, key: int = SCHEDULER_LOCK_KEY) -> None:
        self.key = key
        self._engine: Engine = create_engine(
            url,
            poolclass=NullPool,
            # keepalives: a leader cut off from the server notices, instead of hanging on a dead
            # socket
            connect_args={
                "application_name": "pingan-scheduler",
                "keepalives": 1,
                "keepalives_idle": 30,
                "keepalives_interval": 10,
                "keepalives_count": 3,
            },
        )
        self._connection: Connection | None = None

    def try_acquire(self) -> bool:
        if self._connection is not None:
            try:
                self._connection.execute(text("select 1"))
                return True
            except Exception:  # noqa: BLE001 - any failure: the session, and the lock with it, is gone
                self._drop_connection()
                return False
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            acquired = bool(
                connection.scalar(text("select pg_try_advisory_lock(:key)"), {"key": self.key})
            )
        except BaseException:
            connection.close()
            raise
        if acquired:
            self._connection = connection
        else:
            connection.close()
        return acquired

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("select pg_advisory_unlock(:key)"), {"key": self.key})
            except Exception:  # noqa: BLE001 - closing the session below releases it anyway
                pass
            self._drop_connection()
        self._engine.dispose()

    def __str__(self) -> str:
        return f"PostgreSQL advisory lock {self.key}"

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - already broken
                pass


class FileLeaderLock:
    """``flock(LOCK_EX | LOCK_NB)`` on a lock file; the kernel releases it when the process dies,
    even by SIGKILL."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            if self._still_our_file():
                return True
            # someone removed or replaced the file: another process can lock the new one
            self._close()
            return False
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # for operators: who leads
        return True

    def release(self) -> None:
        # The file stays: deleting it would let a newcomer lock a fresh file while a waiter holds
        # the old one.
        self._close()

    def __str__(self) -> str:
        return f"lock file {self.path}"

    def _still_our_file(self) -> bool:
        try:
            return os.stat(self.path).st_ino == os.fstat(self._fd).st_ino  # type: ignore[arg-type]
        except OSError:
            return False

    def _close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


def run_scheduler(
    pass_fn: Callable[[], str],
    *,
    lock: LeaderLock,
    interval_seconds: float,
    stop: threading.Event | None = None,
    logger: logging.Logger,
) -> None:
    """Every interval, starting now: the leader runs ``pass_fn`` and logs its one-line result;
    others stand by.

    Returns when ``stop`` is set, after the pass in progress has finished, with the
    lock released. A pass that raises is logged and the next one runs as usual.
    """
    if interval_seconds <= 0:
        raise InvalidInput(f"the interval must be positive, not {interval_seconds}")
    stop = stop if stop is not None else threading.Event()
    tick = _Tick(pass_fn, lock, stop, logger)
    scheduler = BlockingScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        timezone=timezone.utc,
    )
    # misfire_grace_time=None: a late pass still runs (the default grace of 1 s skips it);
    # coalesce: passes missed meanwhile collapse into one — any pass does all that is due.
    scheduler.add_job(
        tick,
        IntervalTrigger(seconds=interval_seconds),
        id="sweep",
        name="sweep",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(timezone.utc),
    )
    stopper = threading.Thread(
        target=_shutdown_when_set, args=(scheduler, stop), name="scheduler-stop", daemon=True
    )

    def started(_event: SchedulerEvent) -> None:
        # shutdown() must not run before start(): the stopper starts once the scheduler is running
        stopper.start()

    scheduler.add_listener(started, EVENT_SCHEDULER_STARTED)
    logger.info("scheduler started: a pass every %g s; leader lock: %s", interval_seconds, lock)
    try:
        scheduler.start()
    finally:
        stop.set()
        if stopper.ident is not None:
            stopper.join()  # shutdown(wait=True): the pass in progress has finished
        lock.release()
        logger.info("scheduler stopped; leader lock released")


def _shutdown_when_set(scheduler: BlockingScheduler, stop: threading.Event) -> None:
    stop.wait()
    scheduler.shutdown(wait=True)


class _Tick:
    """The one job: become (or stay) leader, then run a pass; never lets an exception end the
    scheduler."""

    def __init__(
        self,
        pass_fn: Callable[[], str],
        lock: LeaderLock,
        stop: threading.Event,
        logger: logging.Logger,
    ) -> None:
        self.pass_fn, self.lock, self.stop, self.logger = pass_fn, lock, stop, logger
        self.leader: bool | None = None  # None: not known yet (nothing logged)

    def __call__(self) -> None:
        if self.stop.is_set():
            return
        if not self._lead():
            return
        try:
            result = self.pass_fn()
        except Exception as error:  # noqa: BLE001 - one failed pass must not stop the clock
            self.logger.error("pass failed: %s", _one_line(error))
            self.logger.debug("pass failed", exc_info=True)
        else:
            self.logger.info("pass: %s", result)

    def _lead(self) -> bool:
        try:
            leader = self.lock.try_acquire()
        except Exception as error:  # noqa: BLE001 - e.g. the database is unreachable: stand by, retry next time
            self.logger.warning("leader lock unavailable (%s); standby", _one_line(error))
            self.leader = False
            return False
        if leader and not self.leader:
            self.logger.info("became leader")
        elif not leader and self.leader:
            self.logger.warning("lost leadership; standby")
        elif not leader and self.leader is None:
            self.logger.info("standby: another scheduler is leader")
        self.leader = leader
        return leader


def _one_line(error: BaseException) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
