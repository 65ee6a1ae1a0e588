"""The escalation queue: when each open item's next reminder or level comes due.

Whoever gives an item a deadline (registering a hazard, moving its deadline,
creating tasks, recording a letter or visit) puts its first step here; the
sweep takes the entries that came due and puts back each item's next step.
Nothing is ever taken out on an item's behalf: an entry for an item that has
since been closed, or whose deadline moved to a later round, is dropped by the
sweep when it comes due (``escalation.escalate_due``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    bindparam,
    cast,
    delete,
    func,
    literal,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from workflow.db import dialect_insert
from workflow.models import EscalationQueueEntry, UTCDateTime

QUEUE = EscalationQueueEntry.__table__
# schedule_many writes one INSERT … SELECT per (due time, kind, round) when its groups hold at
# least this many entries on average, else one row per entry
GROUP_AT_LEAST = 20
INTEGERS = ARRAY(Integer)
# a parameter SQLAlchemy binds without a cast of its own (int_array)
UNTYPED = NullType()


def schedule(
    session: Session, kind: str, item_id: int, deadline_round: int, due_at: datetime | None
) -> None:
    """Look at this item again at ``due_at`` (None: it has no further step)."""
    if due_at is not None:
        schedule_many(session, [(due_at, kind, item_id, deadline_round)])


def schedule_many(session: Session, entries: Iterable[tuple[datetime, str, int, int]]) -> None:
    """Queue (due_at, item kind, item id, deadline round) entries; an entry already queued is kept
    once.

    A sweep reschedules thousands of items to a handful of due times: those go in as one
    INSERT … SELECT per due time over an array of item ids, a third of the cost of binding
    and converting every row.
    """
    groups: dict[tuple[datetime, str, int], list[int]] = {}
    count = 0
    for due_at, kind, item_id, deadline_round in entries:
        groups.setdefault((due_at, kind, deadline_round), []).append(item_id)
        count += 1
    if not groups:
        return
    if count < GROUP_AT_LEAST * len(groups):
        rows = [
            {"due_at": due_at, "item_kind": kind, "item_id": item_id, "deadline_round": rnd}
            for (due_at, kind, rnd), ids in groups.items()
            for item_id in ids
        ]
        session.connection().execute(dialect_insert(session, QUEUE).on_conflict_do_nothing(), rows)
        return
    postgresql = session.get_bind().dialect.name == "postgresql"
    for (due_at, kind, deadline_round), ids in groups.items():
        if postgresql:
            item_ids: Any = func.unnest(integers(ids))
            entries_selected = select(
                literal(due_at, UTCDateTime()), literal(kind), item_ids, literal(deadline_round)
            )
        else:
            each = func.json_each(json.dumps(ids)).table_valued("value")
            entries_selected = select(
                literal(due_at, UTCDateTime()), literal(kind), each.c.value, literal(deadline_round)
            )
        # SQLite needs a WHERE before ON CONFLICT in an INSERT … SELECT (its parser's ambiguity)
        schedule_selected(session, entries_selected.where(true()))


def schedule_selected(session: Session, entries: Select[Any]) -> None:
    """Queue the (due_at, item kind, item id, deadline round) rows a select yields, in one INSERT …
    SELECT."""
    columns = [QUEUE.c.due_at, QUEUE.c.item_kind, QUEUE.c.item_id, QUEUE.c.deadline_round]
    session.connection().execute(
        dialect_insert(session, QUEUE).from_select(columns, entries).on_conflict_do_nothing()
    )


def integers(values: Iterable[int]) -> Any:
    """PostgreSQL: ``CAST(:param AS integer[])`` over :func:`int_array`'s text of ``values``."""
    return cast(bindparam(None, int_array(values), UNTYPED), INTEGERS)


def int_array(values: Iterable[int]) -> str:
    """Integers as the text of a PostgreSQL array, to bind as ``UNTYPED`` and cast (``CAST(:ids
    AS integer[])``).

    psycopg adapts a list element by element in Python: for a sweep's arrays of ten
    thousand ids that was most of the time the client spent on a statement. The
    parameter goes untyped (SQLAlchemy would add ``::VARCHAR``), so PostgreSQL
    takes it as an integer[] itself: a VARCHAR cast to integer[] is parsed again
    for every row of a sequential scan it filters (1,000 people: 170 ms).
    """
    return "{" + ",".join(map(str, values)) + "}"


def take(session: Session, entries: list[tuple[datetime, str, int, int]]) -> None:
    """SQLite: remove the entries of one kind a sweep has read, given in primary-key order.

    The sweep holds the database's write lock from its BEGIN IMMEDIATE, so nobody
    can have queued anything between its read and this delete: the entries read
    are exactly those of their kind up to the last one, and one range delete
    removes them. (On PostgreSQL, where other sweepers skip the rows this one
    locked and writers may queue new entries meanwhile, the statement that reads
    the entries deletes them: ``escalation.levels``.)
    """
    if not entries:
        return
    last_at, kind, last_id, last_round = entries[-1]
    session.connection().execute(
        delete(QUEUE).where(
            QUEUE.c.item_kind == kind,
            tuple_(QUEUE.c.due_at, QUEUE.c.item_id, QUEUE.c.deadline_round)
            <= tuple_(literal(last_at, UTCDateTime()), literal(last_id), literal(last_round)),
        )
    )
