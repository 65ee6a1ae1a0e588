"""Hazards (隐患) and their rectification, through the engine: registered with a deadline, reported fixed by the
responsible person, verified (销号) or rejected by a coordinator, extended on request, reopened by a look back
(回头看); a move the machine does not allow is refused and changes nothing. Escalation is in test_escalation.py."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.support.actions import OPERATOR, actor, register, sweep
from tests.support.clock import shanghai
from tests.support.databases import row_counts
from workflow.audit import trail
from workflow.campaigns.lifecycle import advance_campaign
from workflow.clock import FixedClock
from workflow.errors import Forbidden, InvalidInput, NotFound, TransitionRefused
from workflow.hazards.rectifications import (
    decide_extension,
    reject_rectification,
    reopen_rectification,
    request_extension,
    submit_rectification,
    verify_rectification,
)
from workflow.models import Rectification


def test_a_rejection_needs_a_reason_and_a_new_deadline_and_restarts_escalation(
    sessions, hazard_campaign, calendar, smtp
):
    rect = register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    keeper, office = actor(sessions, "keeper@example.org"), actor(sessions, "office@example.org")
    sweep(sessions, shanghai(2026, 9, 30, 9))  # level 1 reached
    clock = FixedClock(shanghai(2026, 10, 9, 9))
    with sessions.begin() as session:
        submit_rectification(session, rect, by=keeper, clock=clock, note="已修复")
    with pytest.raises(InvalidInput, match="new deadline"), sessions.begin() as session:
        reject_rectification(
            session, rect, by=office, clock=clock, calendar=calendar, reason="仍有缺口"
        )
    with sessions.begin() as session:
        reject_rectification(
            session,
            rect,
            by=office,
            clock=clock,
            calendar=calendar,
            reason="仍有缺口",
            deadline_working_days=2,
        )
    with sessions() as session:
        row = session.get(Rectification, rect)
        assert (row.state, row.deadline, row.original_deadline) == (
            "open",
            date(2026, 10, 12),
            date(2026, 9, 29),
        )
    smtp.messages.clear()
    sweep(sessions, shanghai(2026, 10, 13, 9))
    assert sorted(r for m in smtp.messages for r in m["to"]) == [
        "keeper@example.org",
        "office@example.org",
    ]


def test_the_responsible_person_asks_for_an_extension_and_a_coordinator_decides(
    sessions, hazard_campaign, calendar, smtp
):
    rect = register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    keeper, office = actor(sessions, "keeper@example.org"), actor(sessions, "office@example.org")
    clock = FixedClock(shanghai(2026, 9, 24, 9))
    with pytest.raises(Forbidden), sessions.begin() as session:
        request_extension(
            session,
            rect,
            by=office,
            clock=clock,
            calendar=calendar,
            reason="x",
            until=date(2026, 10, 20),
        )
    with sessions.begin() as session:
        extension = request_extension(
            session,
            rect,
            by=keeper,
            clock=clock,
            calendar=calendar,
            reason="需采购材料",
            until=date(2026, 10, 20),
        )
    with pytest.raises(Forbidden), sessions.begin() as session:
        decide_extension(
            session, extension.id, by=keeper, clock=clock, calendar=calendar, approve=True
        )
    with sessions.begin() as session:
        decide_extension(
            session,
            extension.id,
            by=office,
            clock=clock,
            calendar=calendar,
            approve=True,
            note="同意",
        )
    with sessions() as session:
        row = session.get(Rectification, rect)
        assert (row.deadline, row.original_deadline, row.extensions) == (
            date(2026, 10, 20),
            date(2026, 9, 29),
            1,
        )
        events = [e.event for e in trail(session, hazard_campaign, "rectification", rect)]
    assert events == ["register", "request_extension", "approve_extension"]
    sweep(sessions, shanghai(2026, 10, 1, 9))
    assert [m["subject"][:8] for m in smtp.messages] == ["【隐患整改通知】"], (
        "the new deadline counts for escalation"
    )


def test_a_look_back_reopens_a_closed_rectification(sessions, hazard_campaign, calendar, smtp):
    rect = register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    keeper, office = actor(sessions, "keeper@example.org"), actor(sessions, "office@example.org")
    clock = FixedClock(shanghai(2026, 9, 22))
    with sessions.begin() as session:
        submit_rectification(session, rect, by=keeper, clock=clock, note="已修复")
        verify_rectification(session, rect, by=office, clock=clock)
    with sessions.begin() as session:
        reopen_rectification(
            session,
            rect,
            by=office,
            clock=FixedClock(shanghai(2026, 11, 2)),
            calendar=calendar,
            reason="回头看发现护栏再次损坏",
            deadline=date(2026, 11, 6),
        )
    with sessions() as session:
        assert session.get(Rectification, rect).state == "open"
        assert [e.event for e in trail(session, hazard_campaign, "rectification", rect)][
            -1
        ] == "reopen"


def test_moves_the_machine_does_not_allow_are_refused_and_change_nothing(
    sessions, hazard_campaign, calendar, smtp
):
    rect = register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    before = row_counts(sessions)
    with (
        pytest.raises(TransitionRefused, match="cannot verify rectification .*: it is open"),
        sessions.begin() as s,
    ):
        verify_rectification(s, rect, by=OPERATOR, clock=FixedClock(shanghai(2026, 9, 22)))
    assert row_counts(sessions) == before


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"description": "  "}, "description is required"),
        ({"severity": "catastrophic"}, "severity must be one of minor, major"),
        (
            {"responsible": "nobody@example.org"},
            "no active person of this campaign's units has the e-mail address",
        ),
        ({"deadline": date(2026, 9, 1)}, "is in the past"),
        (
            {"deadline": date(2026, 10, 1), "deadline_working_days": 3},
            "either deadline or deadline_working_days",
        ),
        ({"deadline_working_days": 0}, "from 1 to 366"),
        ({"site": "crossing-99"}, "no key site 'crossing-99'"),
        ({"site": None, "unit": None}, "name the responsible person"),
        ({"location": "东" * 301}, r"location is too long \(301 characters; at most 300\)"),
    ],
)
def test_bad_hazard_input_is_refused_and_writes_nothing(
    sessions, hazard_campaign, calendar, smtp, fields, message
):
    before = row_counts(sessions)
    with pytest.raises(InvalidInput, match=message):
        register(sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), **fields)
    assert row_counts(sessions) == before


def test_the_default_deadline_follows_the_severity_in_working_days(
    sessions, hazard_campaign, calendar, smtp
):
    rect = register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 28, 10), severity="major"
    )
    with sessions() as session:
        # 5wd: 9-29, 9-30, then the National Day holiday, 10-08, 10-09, and 10-10, a Saturday made a workday (调休)
        assert session.get(Rectification, rect).deadline == date(2026, 10, 10)


def test_only_the_responsible_person_submits_and_others_do_not_see_it(
    sessions, hazard_campaign, calendar, smtp
):
    rect = register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    clock = FixedClock(shanghai(2026, 9, 22))
    with pytest.raises(NotFound), sessions.begin() as session:
        submit_rectification(
            session, rect, by=actor(sessions, "west@example.org"), clock=clock, note="x"
        )
    with pytest.raises(Forbidden), sessions.begin() as session:
        submit_rectification(
            session, rect, by=actor(sessions, "office@example.org"), clock=clock, note="x"
        )


def test_an_open_major_hazard_blocks_leaving_the_phase(sessions, hazard_campaign, calendar, smtp):
    rect = register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), severity="major"
    )
    with sessions.begin() as session:
        from workflow.models import Task

        for task in session.scalars(select(Task)).all():
            task.state = "done"
    with pytest.raises(TransitionRefused) as refused, sessions.begin() as session:
        advance_campaign(
            session,
            hazard_campaign,
            by=OPERATOR,
            clock=FixedClock(shanghai(2026, 9, 22)),
            calendar=calendar,
        )
    assert [(b.kind, b.id) for b in refused.value.blockers] == [("rectification", rect)]


def test_a_hazard_may_name_only_an_inspection_task_of_its_own_campaign(
    sessions, hazard_campaign, calendar, smtp
):
    before = row_counts(sessions)
    with pytest.raises(InvalidInput, match="no task 999 in this campaign"):
        register(sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), task_id=999)
    assert row_counts(sessions) == before
    rect = register(sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), task_id=1)
    with sessions() as session:
        assert session.get(Rectification, rect).task_id == 1


def test_an_outsider_learns_nothing_from_an_extension_id(sessions, hazard_campaign, calendar, smtp):
    rect = register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    clock = FixedClock(shanghai(2026, 9, 22))
    with sessions.begin() as session:
        extension = request_extension(
            session,
            rect,
            by=actor(sessions, "keeper@example.org"),
            clock=clock,
            calendar=calendar,
            reason="需采购材料",
            until=date(2026, 10, 20),
        )
    west = actor(sessions, "west@example.org")
    messages = []
    for extension_id in (extension.id, extension.id + 100):
        with pytest.raises(NotFound) as missing, sessions.begin() as session:
            decide_extension(
                session, extension_id, by=west, clock=clock, calendar=calendar, approve=True
            )
        messages.append(str(missing.value).replace(str(extension_id), "N"))
    assert messages == ["no extension request N", "no extension request N"]
