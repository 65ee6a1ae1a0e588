"""Every decision is taken once: two people deciding the same item at the same instant get one
success and one Conflict naming the state the item is now in, and the loser writes nothing (no
second audit event, the deadline moved once, the campaign one phase on). On SQLite and PostgreSQL;
``tests.support.races.at_once`` makes the two moves meet every time, not once in a while."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.support.actions import OPERATOR, actor, register
from tests.support.clock import shanghai
from tests.support.races import at_once, refused, succeeded
from workflow.audit import trail
from workflow.campaigns.lifecycle import advance_campaign
from workflow.campaigns.tasks import complete_task, reject_task, verify_task
from workflow.clock import FixedClock
from workflow.errors import Conflict
from workflow.hazards.rectifications import (
    decide_extension,
    request_extension,
    submit_rectification,
    verify_rectification,
)
from workflow.models import (
    Campaign,
    DeadlineExtension,
    OutboxMail,
    Petition,
    Rectification,
    Task,
)
from workflow.petitions.handling import PetitionReport, process_petition, record_petition

CLOCK = FixedClock(shanghai(2026, 9, 24, 9))


@pytest.fixture
def extension(sessions, hazard_campaign, calendar) -> tuple[int, int]:
    """(rectification, extension request): the keeper's hazard, due 2026-09-29, and their request
    to finish by 2026-10-20."""
    rect = register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    with sessions.begin() as session:
        asked = request_extension(
            session,
            rect,
            by=actor(sessions, "keeper@example.org"),
            clock=CLOCK,
            calendar=calendar,
            reason="需采购材料",
            until=date(2026, 10, 20),
        )
        return rect, asked.id


def test_two_approvals_of_one_extension_at_once_approve_it_once(
    sessions, hazard_campaign, calendar, extension
):
    rect, request = extension
    mails = _count(sessions, OutboxMail)
    outcomes = at_once(
        sessions,
        _locking(Rectification, rect),
        _deciding(sessions, calendar, request, "office@example.org", approve=True),
        _deciding(sessions, calendar, request, "leader@example.org", approve=True),
    )

    assert len(succeeded(outcomes)) == 1
    [loser] = refused(outcomes)
    assert isinstance(loser, Conflict) and "already approved" in str(loser)
    with sessions() as session:
        row = session.get(Rectification, rect)
        assert (row.deadline, row.extensions, row.deadline_round) == (date(2026, 10, 20), 1, 1)
        events = [e.event for e in trail(session, hazard_campaign, "rectification", rect)]
    assert events == ["register", "request_extension", "approve_extension"]
    assert _count(sessions, OutboxMail) == mails


def test_an_approval_and_a_refusal_at_once_leave_one_decision(
    sessions, hazard_campaign, calendar, extension
):
    rect, request = extension
    outcomes = at_once(
        sessions,
        _locking(Rectification, rect),
        _deciding(sessions, calendar, request, "office@example.org", approve=True),
        _deciding(sessions, calendar, request, "leader@example.org", approve=False),
    )

    [winner] = succeeded(outcomes)
    [loser] = refused(outcomes)
    assert isinstance(loser, Conflict) and f"already {winner}" in str(loser)
    with sessions() as session:
        assert session.get(DeadlineExtension, request).state == winner
        row = session.get(Rectification, rect)
        moved = {"approved": (date(2026, 10, 20), 1), "refused": (date(2026, 9, 29), 0)}
        assert (row.deadline, row.extensions) == moved[winner]
        decisions = [
            e.event
            for e in trail(session, hazard_campaign, "rectification", rect)
            if e.event.endswith("_extension") and e.event != "request_extension"
        ]
    assert decisions == [{"approved": "approve_extension", "refused": "refuse_extension"}[winner]]


def test_two_verifications_of_one_submitted_rectification_close_it_once(
    sessions, hazard_campaign, calendar
):
    rect = register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    with sessions.begin() as session:
        submit_rectification(
            session, rect, by=actor(sessions, "keeper@example.org"), clock=CLOCK, note="已修复"
        )

    def verifying(email: str):
        by = actor(sessions, email)

        def verify() -> str:
            with sessions.begin() as session:
                return verify_rectification(session, rect, by=by, clock=CLOCK).state

        return verify

    outcomes = at_once(
        sessions,
        _locking(Rectification, rect),
        verifying("office@example.org"),
        verifying("deputy@example.org"),
    )

    assert succeeded(outcomes) == ["closed"]
    [loser] = refused(outcomes)
    assert isinstance(loser, Conflict) and "it is closed" in str(loser)
    with sessions() as session:
        events = [e.event for e in trail(session, hazard_campaign, "rectification", rect)]
    assert events == ["register", "submit", "verify"]


def test_two_advances_at_once_move_the_campaign_one_phase(sessions, hazard_campaign, calendar):
    # the screening tasks done, the campaign may leave implementation; inspection has no required
    # work, so a second advance that passed would close the campaign: a phase skipped
    with sessions() as session:
        tasks = session.scalars(select(Task.id).where(Task.campaign_id == hazard_campaign)).all()
    for task_id in tasks:
        with sessions.begin() as session:
            complete_task(session, task_id, by=OPERATOR, clock=CLOCK)

    def advancing(email: str):
        by = actor(sessions, email)

        def advance() -> str:
            with sessions.begin() as session:
                return advance_campaign(
                    session,
                    hazard_campaign,
                    by=by,
                    clock=CLOCK,
                    calendar=calendar,
                    from_phase="implementation",
                ).to_state

        return advance

    outcomes = at_once(
        sessions,
        _locking(Campaign, hazard_campaign),
        advancing("office@example.org"),
        advancing("leader@example.org"),
    )

    assert succeeded(outcomes) == ["inspection"]
    [loser] = refused(outcomes)
    assert isinstance(loser, Conflict) and "it is inspection" in str(loser)
    with sessions() as session:
        assert session.get(Campaign, hazard_campaign).state == "inspection"
        moves = [
            (e.from_state, e.to_state)
            for e in trail(session, hazard_campaign, "campaign")
            if e.event == "advance"
        ]
    assert moves == [("implementation", "inspection")]


@pytest.mark.parametrize(
    "second", ["verify", "reject"], ids=["verify-twice", "verify-and-send-back"]
)
def test_two_decisions_on_one_done_task_at_once_leave_one(sessions, hazard_campaign, second):
    with sessions() as session:
        task_id = session.scalar(
            select(func.min(Task.id)).where(Task.campaign_id == hazard_campaign)
        )
    with sessions.begin() as session:
        complete_task(session, task_id, by=OPERATOR, clock=CLOCK, note="已排查")
    moves = {
        "verify": lambda session, by: verify_task(session, task_id, by=by, clock=CLOCK),
        "reject": lambda session, by: reject_task(
            session, task_id, by=by, clock=CLOCK, note="不完整"
        ),
    }

    def deciding(event: str, email: str):
        by = actor(sessions, email)

        def decide() -> str:
            with sessions.begin() as session:
                return moves[event](session, by).state

        return decide

    outcomes = at_once(
        sessions,
        _locking(Task, task_id),
        deciding("verify", "office@example.org"),
        deciding(second, "deputy@example.org"),
    )

    [state] = succeeded(outcomes)
    [loser] = refused(outcomes)
    # whichever came first, the other found the task no longer done
    assert isinstance(loser, Conflict) and f"it is {state}" in str(loser)
    with sessions() as session:
        assert session.get(Task, task_id).state == state
        events = [e.event for e in trail(session, hazard_campaign, "task", task_id)]
    assert events == ["complete", {"verified": "verify", "open": "reject"}[state]]


def test_a_letter_processed_twice_at_once_is_processed_once(sessions, hazard_campaign, calendar):
    with sessions.begin() as session:
        petition = record_petition(
            session,
            hazard_campaign,
            PetitionReport(subject="反映道口无人看守", unit="east-village"),
            by=OPERATOR,
            clock=CLOCK,
            calendar=calendar,
            base_url="http://pingan.test",
        ).id

    def processing(email: str, outcome: str):
        by = actor(sessions, email)

        def process() -> str | None:
            with sessions.begin() as session:
                return process_petition(
                    session, petition, by=by, clock=CLOCK, outcome=outcome
                ).outcome

        return process

    outcomes = at_once(
        sessions,
        _locking(Petition, petition),
        processing("east@example.org", "已答复"),
        processing("office@example.org", "已转办"),
    )

    [outcome] = succeeded(outcomes)
    [loser] = refused(outcomes)
    assert isinstance(loser, Conflict) and "already processed" in str(loser)
    with sessions() as session:
        assert session.get(Petition, petition).outcome == outcome
        events = [e.event for e in trail(session, hazard_campaign, "petition", petition)]
    assert events == ["record", "process"]


# --- helpers -----------------------------------------------------------------------------------


def _locking(model, row_id):
    """The holder's statement: the row the moves lock, locked first (on SQLite: the write lock)."""
    return lambda session: session.execute(
        select(model).where(model.id == row_id).with_for_update()
    ).one()


def _deciding(sessions, calendar, request: int, email: str, *, approve: bool):
    by = actor(sessions, email)

    def decide() -> str:
        with sessions.begin() as session:
            return decide_extension(
                session, request, by=by, clock=CLOCK, calendar=calendar, approve=approve
            ).state

    return decide


def _count(sessions, model) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model))
