"""The escalation queue: pending steps survive the migration that introduced it, stale entries send nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.support.actions import OPERATOR, actor, register, sweep
from tests.support.clock import shanghai
from workflow.clock import FixedClock
from workflow.db import migrate
from workflow.hazards.rectifications import (
    decide_extension,
    request_extension,
    submit_rectification,
)
from workflow.models import Escalation, EscalationQueueEntry


def queued(sessions, kind: str | None = None) -> list[tuple]:
    entry = EscalationQueueEntry
    query = select(entry.due_at, entry.item_kind, entry.item_id, entry.deadline_round)
    with sessions() as session:
        return sorted(
            session.execute(query.where(entry.item_kind == kind) if kind else query).all()
        )


def test_pending_steps_go_back_to_the_items_and_return_to_the_queue_across_the_migration(
    engine, sessions, hazard_campaign, calendar, smtp
):
    hazard = register(
        sessions,
        hazard_campaign,
        calendar,
        shanghai(2026, 9, 21, 10, 0),
        deadline=date(2026, 9, 29),
    )
    sweep(sessions, shanghai(2026, 9, 24, 8))  # the reminder: its next step (level 1) is queued
    before = queued(sessions)
    assert ("rectification", hazard) in {(kind, item) for _at, kind, item, _round in before}

    migrate(engine, "downgrade", "0005")  # the schema before the queue: the step is back on the row
    migrate(engine, "upgrade", "head")
    assert queued(sessions) == before

    smtp.messages.clear()
    sweep(sessions, shanghai(2026, 9, 30, 0, 30))
    assert sorted(r for m in smtp.messages for r in m["to"]) == [
        "keeper@example.org",
        "office@example.org",
    ]


def test_a_moved_deadline_and_a_submitted_rectification_leave_stale_entries_that_send_nothing(
    sessions, hazard_campaign, calendar, smtp
):
    hazard = register(
        sessions,
        hazard_campaign,
        calendar,
        shanghai(2026, 9, 21, 10, 0),
        deadline=date(2026, 9, 29),
    )
    sweep(sessions, shanghai(2026, 9, 21, 10, 0))  # delivers the registration mail
    keeper = actor(sessions, "keeper@example.org")
    at = FixedClock(shanghai(2026, 9, 22, 9, 0))
    with sessions.begin() as session:
        extension = request_extension(
            session,
            hazard,
            by=keeper,
            clock=at,
            calendar=calendar,
            reason="等材料",
            until=date(2026, 10, 30),
        ).id
    with sessions.begin() as session:
        decide_extension(
            session, extension, by=OPERATOR, clock=at, calendar=calendar, approve=True, note=None
        )
    rounds = {round_ for _at, _kind, _item, round_ in queued(sessions, "rectification")}
    assert rounds == {0, 1}, "the first deadline's entry stays queued until it comes due"

    smtp.messages.clear()
    # the first deadline's level 1 would have been due now
    sweep(sessions, shanghai(2026, 9, 30, 0, 30))
    assert smtp.messages == [], "the old deadline no longer counts"
    assert {round_ for _at, _kind, _item, round_ in queued(sessions, "rectification")} == {1}

    with sessions.begin() as session:
        submit_rectification(session, hazard, by=keeper, clock=at, note="已修复")
    sweep(sessions, shanghai(2026, 11, 30, 8))  # long after the new deadline
    assert smtp.messages == [], "submitted: it waits for a coordinator, nobody is chased"
    assert queued(sessions, "rectification") == []
    with sessions() as session:
        assert session.scalars(select(Escalation.level)).all() == []
