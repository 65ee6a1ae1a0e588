"""The escalation queue: when each open item's next reminder or level comes due.

Whoever gives an item a deadline (registering a hazard, moving its deadline,
creating tasks, recording a letter or visit) puts its first step here; the
sweep takes the entries that came due and puts back each item's next step.
Nothing is ever taken out on an item's behalf: an entry for an item that has
since been closed, or whose deadline moved to a later round, is dropped by the
sweep when it comes due (``escalation.escalate_due``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, literal, tuple_
from sqlalchemy.orm import Session

from workflow.db import dialect_insert
from workflow.models import EscalationQueueEntry, UTCDateTime

QUEUE = EscalationQueueEntry.__table__


def schedule(
    session: Session, kind: str, item_id: int, deadline_round: int, due_at: datetime | None
) -> None:
    """Look at this item again at ``due_at`` (None: it has no further step)."""
    if due_at is not None:
        schedule_many(session, [(due_at, kind, item_id, deadline_round)])


def schedule_many(session: Session, entries: Iterable[tuple[datetime, str, int, int]]) -> None:
    """Queue (due_at, item kind, item id, deadline round) entries; an entry already queued is kept
    once."""
    rows = [
        {"due_at": due_at, "item_kind": kind, "item_id": item_id, "deadline_round": deadline_round}
        for due_at, kind, item_id, deadline_round in entries
    ]
    if not rows:
        return
    session.connection().execute(dialect_insert(session, QUEUE).on_conflict_do_nothing(), rows)


def schedule_selected(session: Session, entries: Select[Any]) -> None:
    """Queue the (due_at, item kind, item id, deadline round) rows a select yields, in one INSERT …
    SELECT."""
    columns = [QUEUE.c.due_at, QUEUE.c.item_kind, QUEUE.c.item_id, QUEUE.c.deadline_round]
    session.connection().execute(
        dialect_insert(session, QUEUE).from_select(columns, entries).on_conflict_do_nothing()
    )


def take(session: Session, entries: list[tuple[datetime, str, int, int]]) -> None:
    """Remove the entries of one kind a sweep has read, given in primary-key order, under their row
    locks.

    On SQLite the sweep holds the database's write lock from its BEGIN IMMEDIATE,
    so nobody can have queued anything between its read and this delete: the
    entries read are exactly those of their kind up to the last one, and one range
    delete removes them. On PostgreSQL, where other sweepers skip the rows this
    one locked and writers may queue new entries meanwhile, each is deleted by key.
    """
    if not entries:
        return
    if session.get_bind().dialect.name == "sqlite":
        last_at, kind, last_id, last_round = entries[-1]
        session.connection().execute(
            delete(QUEUE).where(
                QUEUE.c.item_kind == kind,
                tuple_(QUEUE.c.due_at, QUEUE.c.item_id, QUEUE.c.deadline_round)
                <= tuple_(literal(last_at, UTCDateTime()), literal(last_id), literal(last_round)),
            )
        )
        return
    statement = delete(QUEUE).where(
        QUEUE.c.due_at == bindparam("d"),
        QUEUE.c.item_kind == bindparam("k"),
        QUEUE.c.item_id == bindparam("i"),
        QUEUE.c.deadline_round == bindparam("r"),
    )
    session.connection().execute(
        statement, [{"d": d, "k": k, "i": i, "r": r} for d, k, i, r in entries]
    )
