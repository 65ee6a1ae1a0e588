"""Reassigning a task or a rectification, and handing over a person's work, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.actions import BASE_URL, OPERATOR, actor, start
from tests.support.api import HAZARD
from tests.support.databases import row_counts
from tests.support.texts import RAILWAY_WITH_ESCALATION, TOWN_WITH_CROSSING
from workflow.audit import trail
from workflow.campaigns.reassign import hand_over, reassign_rectification, reassign_task
from workflow.campaigns.tasks import complete_task
from workflow.definitions.reader import parse_definition
from workflow.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflow.hazards.rectifications import HazardReport, register_hazard
from workflow.models import OutboxMail, Rectification, RoleBinding, Task
from workflow.organisation.directory import import_organisation, person_by_email
from workflow.organisation.org_file import parse_organisation

SUCCESSOR = """
  - {email: east2@example.org, name: 钱新村长, unit: east-village, roles: []}
  - {email: gone@example.org, name: 离职者, unit: east-village, roles: []}
  - {email: stranger@example.org, name: 外镇干部, unit: other-town, roles: []}
"""
NOT_OF_THE_CAMPAIGN = "no active person of this campaign's units has the e-mail address"
# a town the campaign does not cover, beside the campaign's own
OTHER_TOWN = "units:\n  - {id: other-town, name: 别镇}\n"


@pytest.fixture
def campaign(sessions, clock, calendar):
    with sessions.begin() as session:
        import_organisation(
            session,
            parse_organisation(
                TOWN_WITH_CROSSING.replace("units:\n", OTHER_TOWN, 1) + SUCCESSOR, "org.yaml"
            ),
        )
        person_by_email(session, "gone@example.org").active = False
    return start(sessions, parse_definition(RAILWAY_WITH_ESCALATION, "def.yaml"), clock, calendar)


def east_plan(sessions):
    with sessions() as session:
        east = person_by_email(session, "east@example.org").id
        return session.scalar(
            select(Task.id).where(Task.assignee_id == east, Task.spec_key == "plan")
        )


def hazard(sessions, campaign, clock, calendar):
    report = HazardReport(**{k: v for k, v in HAZARD.items()})
    with sessions.begin() as session:
        return register_hazard(
            session,
            campaign,
            report,
            by=OPERATOR,
            clock=clock,
            calendar=calendar,
            base_url=BASE_URL,
        ).id


def mails_to(sessions, email):
    with sessions() as session:
        return [
            (m.subject, m.body)
            for m in session.scalars(select(OutboxMail).where(OutboxMail.recipient == email))
        ]


def test_a_coordinator_reassigns_a_task_and_the_new_assignee_is_mailed(sessions, campaign, clock):
    task_id = east_plan(sessions)
    office = actor(sessions, "office@example.org")
    with sessions.begin() as session:
        task = reassign_task(
            session,
            task_id,
            "east2@example.org",
            by=office,
            clock=clock,
            base_url=BASE_URL,
            note="李村长调任",
        )
        assert task.assignee.email == "east2@example.org"

    [(subject, body)] = mails_to(sessions, "east2@example.org")
    assert (
        "转交给您" in subject
        and "制定创建活动计划" in body
        and f"{BASE_URL}/tasks/{task_id}" in body
    )
    assert "李村长调任" in body
    with sessions() as session:
        [event] = [e for e in trail(session, campaign, "task", task_id) if e.event == "reassign"]
        assert (event.actor, event.note) == (
            "office@example.org",
            "east@example.org → east2@example.org: 李村长调任",
        )


def test_the_assignee_may_not_reassign_their_own_task_and_others_do_not_see_it(
    sessions, campaign, clock
):
    task_id = east_plan(sessions)
    before = row_counts(sessions)
    for email, error in (("east@example.org", Forbidden), ("west@example.org", NotFound)):
        with sessions.begin() as session:
            with pytest.raises(error):
                reassign_task(
                    session,
                    task_id,
                    "east2@example.org",
                    by=actor(sessions, email),
                    clock=clock,
                    base_url=BASE_URL,
                )
    assert row_counts(sessions) == before


@pytest.mark.parametrize(
    "to, message",
    [
        # unknown, inactive, of another town: one answer, which tells no address exists
        ("nobody@example.org", NOT_OF_THE_CAMPAIGN),
        ("gone@example.org", NOT_OF_THE_CAMPAIGN),
        ("east@example.org", "east@example.org already has this work"),
        ("  ", "name the person"),
        ("stranger@example.org", NOT_OF_THE_CAMPAIGN),
    ],
)
def test_a_bad_successor_is_refused(sessions, campaign, clock, to, message):
    with sessions.begin() as session, pytest.raises(InvalidInput, match=message):
        reassign_task(session, east_plan(sessions), to, by=OPERATOR, clock=clock, base_url=BASE_URL)


def test_a_done_task_is_not_reassigned(sessions, campaign, clock):
    task_id = east_plan(sessions)
    with sessions.begin() as session:
        complete_task(session, task_id, by=OPERATOR, clock=clock)
    with sessions.begin() as session, pytest.raises(Conflict):
        reassign_task(
            session, task_id, "east2@example.org", by=OPERATOR, clock=clock, base_url=BASE_URL
        )


def test_a_rectification_changes_hands_and_its_new_responsible_person_sees_it(
    sessions, campaign, clock, calendar
):
    rect_id = hazard(sessions, campaign, clock, calendar)
    with sessions.begin() as session:
        reassign_rectification(
            session,
            rect_id,
            "east2@example.org",
            by=actor(sessions, "office@example.org"),
            clock=clock,
            base_url=BASE_URL,
        )
    with sessions() as session:
        assert session.get(Rectification, rect_id).responsible.email == "east2@example.org"
    [(subject, body)] = mails_to(sessions, "east2@example.org")
    assert "道口护栏损坏" in body and f"/rectifications/{rect_id}" in body


def test_a_hand_over_moves_open_work_and_roles_to_the_successor(
    sessions, campaign, clock, calendar
):
    rect_id = hazard(sessions, campaign, clock, calendar)
    office = actor(sessions, "office@example.org")
    with sessions.begin() as session:
        result = hand_over(
            session,
            campaign,
            "east@example.org",
            "east2@example.org",
            by=office,
            clock=clock,
            base_url=BASE_URL,
            note="工作调动",
        )

    assert (len(result.tasks), result.rectifications, result.roles) == (
        2,
        [rect_id],
        ["village_head"],
    )
    with sessions() as session:
        east, east2 = (
            person_by_email(session, e).id for e in ("east@example.org", "east2@example.org")
        )
        assert (
            session.scalars(
                select(Task.id).where(Task.assignee_id == east, Task.state == "open")
            ).all()
            == []
        )
        assert (
            session.scalar(
                select(RoleBinding.person_id).where(
                    RoleBinding.campaign_id == campaign,
                    RoleBinding.role == "village_head",
                    RoleBinding.person_id.in_((east, east2)),
                )
            )
            == east2
        )
        [event] = [e for e in trail(session, campaign, "campaign") if e.event == "hand_over"]
        assert "east@example.org → east2@example.org: 2 task(s), 1 rectification(s)" in event.note
    [(subject, body)] = mails_to(sessions, "east2@example.org")
    assert "3 项工作" in subject and "工作调动" in body


def test_handing_over_someone_with_nothing_is_refused(sessions, campaign, clock):
    with sessions.begin() as session, pytest.raises(InvalidInput, match="no open work"):
        hand_over(
            session,
            campaign,
            "keeper@example.org",
            "east2@example.org",
            by=OPERATOR,
            clock=clock,
            base_url=BASE_URL,
        )


def test_a_village_head_may_not_hand_over_work(sessions, campaign, clock):
    with sessions.begin() as session, pytest.raises(NotFound):
        hand_over(
            session,
            campaign,
            "west@example.org",
            "east2@example.org",
            by=actor(sessions, "east@example.org"),
            clock=clock,
            base_url=BASE_URL,
        )
