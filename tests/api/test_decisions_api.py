"""POST /api/v1/decisions: many items decided at once, each item's outcome in the answer. SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.api import assert_error
from tests.support.databases import row_counts
from tests.support.desk import laid_out
from workflow.models import OutboxMail, Rectification, Task


@pytest.fixture
def desk(sessions, campaign, clock, calendar):
    return laid_out(sessions, campaign, clock, calendar)


def selection(desk):
    return [{"kind": "task", "id": t, "state": "done"} for t in desk.done_tasks] + [
        {"kind": "rectification", "id": r, "state": "submitted"} for r in desk.submitted
    ]


def test_a_coordinator_verifies_many_and_is_told_each_outcome(as_person, sessions, desk):
    office, leader = as_person("office@example.org"), as_person("leader@example.org")
    moved = desk.done_tasks[0]
    sent_back = leader.post(f"/tasks/{moved}/reject", {"note": "不全"})
    assert sent_back.status_code == 200, sent_back.json

    answer = office.post("/decisions", {"items": selection(desk), "decision": "verify"})

    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["decided"], body["moved"], body["refused"]) == (len(selection(desk)) - 1, 1, 0)
    [was] = [o for o in body["outcomes"] if o["result"] == "moved"]
    assert (was["id"], was["seen"], was["state"]) == (moved, "done", "open")
    assert was["link"].endswith(f"/tasks/{moved}")
    with sessions() as session:
        assert session.get(Task, moved).state == "open"
        assert {session.get(Rectification, r).state for r in desk.submitted} == {"closed"}


def test_a_rejection_of_many_mails_each_assignee(as_person, sessions, desk):
    answer = as_person("office@example.org").post(
        "/decisions",
        {
            "items": selection(desk),
            "decision": "reject",
            "note": "请补充照片",
            "deadline_working_days": 2,
        },
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["decided"] == len(selection(desk))
    with sessions() as session:
        mails = session.scalars(select(OutboxMail).where(OutboxMail.subject.contains("【退回】")))
        assert len(list(mails)) == len(selection(desk))


def test_a_village_head_is_refused_every_item_and_nothing_changes(as_person, sessions, desk):
    east = as_person("east@example.org")
    before = row_counts(sessions)
    answer = east.post("/decisions", {"items": selection(desk), "decision": "verify"})
    assert answer.status_code == 200, answer.json
    assert answer.json["refused"] == len(selection(desk))
    assert {o["title"] for o in answer.json["outcomes"]} == {None}
    assert {o["link"] for o in answer.json["outcomes"]} == {None}
    assert row_counts(sessions) == before


@pytest.mark.parametrize(
    "body",
    [
        {"items": "all", "decision": "verify"},
        {"items": [{"kind": "task", "id": 1}], "decision": "verify"},
        {"items": [{"kind": "petition", "id": 1, "state": "open"}], "decision": "verify"},
        {"items": [{"kind": "task", "id": 2**40, "state": "done"}], "decision": "verify"},
        {"items": [{"kind": "task", "id": 1, "state": "gone"}], "decision": "verify"},
        {"items": [{"kind": "task", "id": 1, "state": "done"}], "decision": "approve"},
        {"items": [], "decision": "verify"},
        {"items": [{"kind": "task", "id": 1, "state": "done"}], "decision": "reject"},
    ],
)
def test_a_batch_that_cannot_be_read_is_refused_whole(as_person, sessions, desk, body):
    office = as_person("office@example.org")
    before = row_counts(sessions)
    assert_error(office.post("/decisions", body), 422, "invalid")
    assert row_counts(sessions) == before


def test_a_single_rejection_mails_the_assignee_as_a_bulk_one_does(as_person, sessions, desk):
    office = as_person("office@example.org")
    task, rect = desk.done_tasks[0], desk.submitted[0]
    assert office.post(f"/tasks/{task}/reject", {"note": "缺少分工"}).status_code == 200
    answer = office.post(
        f"/rectifications/{rect}/reject", {"reason": "仍松动", "deadline_working_days": 2}
    )
    assert answer.status_code == 200, answer.json
    with sessions() as session:
        mails = session.scalars(
            select(OutboxMail)
            .where(OutboxMail.subject.contains("【退回】"))
            .order_by(OutboxMail.id)
        ).all()
        assignee = session.get(Task, task).assignee.email
    assert [m.recipient for m in mails] == [assignee, "east@example.org"]
    assert "缺少分工" in mails[0].body and f"/tasks/{task}" in mails[0].body
    assert "仍松动" in mails[1].body and "新的整改期限" in mails[1].body
