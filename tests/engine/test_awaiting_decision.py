"""What awaits a coordinator's decision (待我审核): rectifications reported fixed, tasks checked off, extension
requests and letters, each until it is decided; and the daily digest's part of it. SQLite and PostgreSQL.

The town's railway campaign (``campaign``): the leader, the deputy and the office director coordinate it; east's
head is responsible for the hazards at 3号道口.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.support.actions import actor, person_id, register
from tests.support.clock import shanghai
from workflow.campaigns.tasks import complete_task, reject_task, verify_task
from workflow.clock import FixedClock
from workflow.escalation.digest import send_digests
from workflow.hazards.rectifications import (
    decide_extension,
    request_extension,
    submit_rectification,
    verify_rectification,
)
from workflow.models import OutboxMail, Task
from workflow.petitions.handling import PetitionReport, process_petition, record_petition
from workflow.views.awaiting import awaiting_decision

COORDINATORS = ("office@example.org", "leader@example.org", "deputy@example.org")
VILLAGE_HEADS = ("east@example.org", "west@example.org")


def awaiting_of(sessions, email, when, calendar, **options):
    who = person_id(sessions, email)
    with sessions() as session:
        return awaiting_decision(session, who, clock=FixedClock(when), calendar=calendar, **options)


def listed(found):
    return [(item.kind, item.id, item.title, item.by) for item in found.items]


def report_fixed(sessions, rect, when, email="east@example.org"):
    by = actor(sessions, email)
    with sessions.begin() as session:
        submit_rectification(session, rect, by=by, clock=FixedClock(when), note="护栏已更换")


def check_off(sessions, email, spec, when):
    by = actor(sessions, email)
    with sessions.begin() as session:
        task = session.scalar(
            select(Task.id).where(Task.assignee_id == by.person_id, Task.spec_key == spec)
        )
        complete_task(session, task, by=by, clock=FixedClock(when), note="已完成")
    return task


def record_letter(sessions, campaign, calendar, when, subject, **fields):
    office = actor(sessions, "office@example.org")
    with sessions.begin() as session:
        return record_petition(
            session,
            campaign,
            PetitionReport(subject=subject, **fields),
            by=office,
            clock=FixedClock(when),
            calendar=calendar,
            base_url="http://pingan.test",
        ).id


def test_a_rectification_reported_fixed_awaits_the_coordinators_until_one_verifies_it(
    sessions, campaign, calendar
):
    rect = register(sessions, campaign, calendar, shanghai(2026, 5, 6, 9))
    report_fixed(sessions, rect, shanghai(2026, 5, 6, 10))
    on_12th = shanghai(2026, 5, 12, 9)

    for coordinator in COORDINATORS:
        found = awaiting_of(sessions, coordinator, on_12th, calendar)
        assert (found.total, listed(found)) == (
            1,
            [("rectification", rect, "道口护栏损坏", "李村长")],
        ), coordinator
    item = found.items[0]
    # 6 days; 5 working days, 5-09 being a Saturday made a workday (调休)
    assert (item.waiting_days, item.waiting_working_days) == (6, 5)
    assert (item.site, item.unit, item.variant, item.rectification_id) == (
        "3号道口",
        "东村",
        "minor",
        rect,
    )
    assert (item.campaign_id, item.campaign_title) == (campaign, "平安铁路创建活动")
    for head in VILLAGE_HEADS:  # the one who fixed it and the other village: nothing to decide
        assert awaiting_of(sessions, head, on_12th, calendar).total == 0, head

    office = actor(sessions, "office@example.org")
    with sessions.begin() as session:
        verify_rectification(session, rect, by=office, clock=FixedClock(on_12th), note="合格")

    for coordinator in COORDINATORS:
        assert awaiting_of(sessions, coordinator, on_12th, calendar).items == [], coordinator


def test_a_task_checked_off_awaits_the_other_coordinators_until_verified_or_sent_back(
    sessions, campaign, calendar
):
    plan = check_off(sessions, "east@example.org", "plan", shanghai(2026, 5, 7, 10))
    # the office director's own task: theirs to do, the leader's and the deputy's to verify
    meeting = check_off(sessions, "office@example.org", "meeting", shanghai(2026, 5, 8, 10))
    on_11th = shanghai(2026, 5, 11, 9)

    office = awaiting_of(sessions, "office@example.org", on_11th, calendar)
    assert listed(office) == [("task", plan, "制定创建活动计划", "李村长")]
    leader = awaiting_of(sessions, "leader@example.org", on_11th, calendar)
    assert listed(leader) == [
        ("task", plan, "制定创建活动计划", "李村长"),
        ("task", meeting, "召开动员大会", "赵主任"),
    ], "oldest first"
    assert [(i.waiting_days, i.waiting_working_days) for i in leader.items] == [(4, 3), (3, 2)]
    assert awaiting_of(sessions, "east@example.org", on_11th, calendar).total == 0

    # looked up first: SQLite has one writer, and that is the transaction below
    office_director, leader_of_group = (
        actor(sessions, "office@example.org"),
        actor(sessions, "leader@example.org"),
    )
    with sessions.begin() as session:
        verify_task(session, plan, by=office_director, clock=FixedClock(on_11th))
        reject_task(
            session, meeting, by=leader_of_group, clock=FixedClock(on_11th), note="缺少会议记录"
        )

    for coordinator in COORDINATORS:
        assert awaiting_of(sessions, coordinator, on_11th, calendar).total == 0, coordinator


def test_an_extension_request_awaits_a_decision_and_leaves_once_decided(
    sessions, campaign, calendar
):
    rect = register(sessions, campaign, calendar, shanghai(2026, 5, 6, 9))
    east = actor(sessions, "east@example.org")
    with sessions.begin() as session:
        asked = request_extension(
            session,
            rect,
            by=east,
            clock=FixedClock(shanghai(2026, 5, 8, 15)),
            calendar=calendar,
            reason="护栏需厂家定制",
            until=date(2026, 6, 30),
        ).id
    on_11th = shanghai(2026, 5, 11, 9)

    found = awaiting_of(sessions, "office@example.org", on_11th, calendar)
    assert listed(found) == [("extension", asked, "道口护栏损坏", "李村长")]
    item = found.items[0]
    # decided on the rectification's page
    assert (item.rectification_id, item.until, item.waiting_days) == (rect, date(2026, 6, 30), 3)
    assert awaiting_of(sessions, "east@example.org", on_11th, calendar).total == 0

    deputy = actor(sessions, "deputy@example.org")
    with sessions.begin() as session:
        decide_extension(
            session,
            asked,
            by=deputy,
            clock=FixedClock(on_11th),
            calendar=calendar,
            approve=True,
        )
    for coordinator in COORDINATORS:
        assert awaiting_of(sessions, coordinator, on_11th, calendar).total == 0, coordinator


def test_a_letter_awaits_the_coordinators_who_are_not_already_responsible_for_it(
    sessions, campaign, calendar
):
    when = shanghai(2026, 5, 11, 9)
    east_letter = record_letter(
        sessions, campaign, calendar, when, "反映道口夜间无人看守", unit="east-village"
    )
    office_letter = record_letter(
        sessions, campaign, calendar, when, "来访反映占道施工", responsible="office@example.org"
    )

    office = awaiting_of(sessions, "office@example.org", when, calendar)
    # the office director's own letter is under their letters and visits to process, not here too
    assert listed(office) == [("petition", east_letter, "反映道口夜间无人看守", "李村长")]
    assert office.items[0].variant == "letter" and office.items[0].waiting_days == 0
    leader = awaiting_of(sessions, "leader@example.org", when, calendar)
    assert [item.id for item in leader.items] == [east_letter, office_letter]
    # east has the letter in their own inbox (letters and visits to process)
    assert awaiting_of(sessions, "east@example.org", when, calendar).total == 0

    east = actor(sessions, "east@example.org")
    with sessions.begin() as session:
        process_petition(
            session,
            east_letter,
            by=east,
            clock=FixedClock(when),
            outcome="已安排专人看守",
        )
    assert [i.id for i in awaiting_of(sessions, "leader@example.org", when, calendar).items] == [
        office_letter
    ]


def test_the_inbox_lists_the_oldest_and_counts_them_all(sessions, campaign, calendar):
    plan = check_off(sessions, "east@example.org", "plan", shanghai(2026, 5, 6, 10))
    banner = check_off(sessions, "east@example.org", "banner", shanghai(2026, 5, 7, 10))
    check_off(sessions, "west@example.org", "plan", shanghai(2026, 5, 8, 10))

    found = awaiting_of(sessions, "office@example.org", shanghai(2026, 5, 11, 9), calendar, limit=2)

    assert found.total == 3
    assert [item.id for item in found.items] == [plan, banner]


def test_the_daily_digest_tells_a_coordinator_how_many_items_await_them_and_the_oldest(
    sessions, campaign, calendar
):
    rect = register(sessions, campaign, calendar, shanghai(2026, 5, 6, 9))
    report_fixed(sessions, rect, shanghai(2026, 5, 6, 10))
    check_off(sessions, "east@example.org", "banner", shanghai(2026, 5, 7, 10))
    check_off(sessions, "west@example.org", "plan", shanghai(2026, 5, 8, 10))
    check_off(sessions, "west@example.org", "banner", shanghai(2026, 5, 9, 10))
    west_rect = register(
        sessions,
        campaign,
        calendar,
        shanghai(2026, 5, 6, 9),
        description="线路旁堆放杂物",
        site=None,
        unit="west-village",
    )
    report_fixed(sessions, west_rect, shanghai(2026, 5, 11, 10), "west@example.org")
    # the sixth, the newest: counted, not named
    record_letter(
        sessions,
        campaign,
        calendar,
        shanghai(2026, 5, 11, 11),
        "反映K9道口积水",
        unit="west-village",
    )

    with sessions.begin() as session:
        sent = send_digests(
            session,
            shanghai(2026, 5, 12, 8),
            calendar,
            tz="Asia/Shanghai",
            hour=8,
            base_url="http://pingan.test",
        )
    with sessions() as session:
        mails = {
            recipient: (subject, body)
            for recipient, subject, body in session.execute(
                select(OutboxMail.recipient, OutboxMail.subject, OutboxMail.body).where(
                    OutboxMail.key.like("digest-2026-05-12-%")
                )
            )
        }

    # the leader and the deputy have no work of their own due: the digest comes for the decisions
    assert sent == len(mails) and set(COORDINATORS) <= set(mails)
    subject, body = mails["leader@example.org"]
    assert subject.startswith("【每日待办】6 项待审核 / daily digest: 6 awaiting your decision")
    assert "待您审核 6 项，以下是等待最久的 5 项：" in body
    assert (
        "- 【待验收 / reported fixed】道口护栏损坏（平安铁路创建活动）已等待 6 天（5 个工作日）"
        f"/ waiting 6 day(s) (5 working day(s))\n  http://pingan.test/rectifications/{rect}"
    ) in body
    assert body.count("【待核验 / checked off】制定创建活动计划") == 1
    assert body.count("【待核验 / checked off】悬挂宣传标语") == 2
    assert "【待验收 / reported fixed】线路旁堆放杂物" in body
    assert "反映K9道口积水" not in body, "only the oldest five are named"
    assert body.index("道口护栏损坏") < body.index("悬挂宣传标语") < body.index("线路旁堆放杂物"), (
        "oldest first"
    )
    # the office director has work of their own too (the meeting, overdue): both parts
    office_subject, office_body = mails["office@example.org"]
    assert "项待办" in office_subject and "6 项待审核" in office_subject
    assert "召开动员大会" in office_body and "待您审核 6 项" in office_body
    # a village head decides nothing: their digest (east's plan is due on 5-15) has no such part
    assert "制定创建活动计划" in mails["east@example.org"][1]
    assert "待您审核" not in mails["east@example.org"][1]
