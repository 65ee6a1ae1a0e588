"""Moves made at the same instant: each in a thread of its own, all let go together.

``at_once`` first holds the row the moves lock (a third transaction, ``hold``), starts the moves,
waits until each is queued behind that lock, then lets go. Every move has then read what it read
before its lock, as two people clicking at once do: a move that checks a state on a copy read
before its lock passes the check twice, every time, instead of once in a while.

On PostgreSQL the moves queue on the row lock (``pg_stat_activity`` shows them waiting); on SQLite
the holder's first statement takes the one write lock (BEGIN IMMEDIATE, workflow/db.py) and each
move waits for it at its own first statement.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

# a move that has not finished by then has hung: the test fails instead of waiting for ever
TIMEOUT_SECONDS = 30.0
WAITING = text(
    "select count(*) from pg_stat_activity"
    " where datname = current_database() and wait_event_type = 'Lock'"
)


@dataclass
class Outcome:
    """What one move ended with: its result, or the exception it raised."""

    result: Any = None
    error: BaseException | None = None


def at_once(
    sessions: sessionmaker[Session],
    hold: Callable[[Session], object],
    *moves: Callable[[], Any],
) -> list[Outcome]:
    """Run ``moves`` (each opens its own transaction) at the same instant, queued behind ``hold``
    (a statement that locks the row they lock); their outcomes in the order given."""
    outcomes = [Outcome() for _ in moves]
    started = threading.Barrier(len(moves) + 1, timeout=TIMEOUT_SECONDS)

    def run(index: int, move: Callable[[], Any]) -> None:
        started.wait()
        try:
            outcomes[index].result = move()
        except BaseException as error:  # noqa: BLE001 - the test looks at what each move raised
            outcomes[index].error = error

    threads = [
        threading.Thread(target=run, args=(n, move), daemon=True) for n, move in enumerate(moves)
    ]
    with sessions.begin() as holder:
        hold(holder)
        for thread in threads:
            thread.start()
        started.wait()
        _until_queued(sessions, threads)
    for thread in threads:
        thread.join(TIMEOUT_SECONDS)
        assert not thread.is_alive(), "a move did not finish"
    return outcomes


def succeeded(outcomes: list[Outcome]) -> list[Any]:
    """The results of the moves that succeeded."""
    return [o.result for o in outcomes if o.error is None]


def refused(outcomes: list[Outcome]) -> list[BaseException]:
    """The exceptions of the moves that were refused."""
    return [o.error for o in outcomes if o.error is not None]


# --- helpers -----------------------------------------------------------------------------------


def _until_queued(sessions: sessionmaker[Session], threads: list[threading.Thread]) -> None:
    """Return once every move still running waits for a lock (PostgreSQL), or after a moment
    (SQLite, where a wait for the write lock cannot be seen from outside)."""
    if sessions.kw["bind"].dialect.name != "postgresql":
        time.sleep(0.5)
        return
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        with sessions() as session:
            waiting = session.scalar(WAITING)
        if waiting >= sum(thread.is_alive() for thread in threads):
            return
        time.sleep(0.02)
    raise AssertionError("the moves never queued behind the held lock")
