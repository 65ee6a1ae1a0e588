"""Escalation: reminders and levels reached on the right working days, the mail read from a real SMTP server, and
the outbox's retries. The hazards' own rules (register, submit, verify, reject, extend, reopen) are in
test_hazards.py."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from tests.support.actions import BASE_URL, actor, register, sweep
from tests.support.clock import shanghai
from workflow.clock import FixedClock
from workflow.hazards.rectifications import submit_rectification, verify_rectification
from workflow.models import Escalation, OutboxMail


def test_levels_reach_exactly_the_right_people_on_the_right_working_days(
    sessions, hazard_campaign, calendar, smtp
):
    register(
        sessions,
        hazard_campaign,
        calendar,
        shanghai(2026, 9, 21, 10, 0),
        deadline=date(2026, 9, 29),
        temporary_measures="设置警示牌，专人看守",
    )
    sweep(sessions, shanghai(2026, 9, 21, 10, 0))  # the scheduler's next pass, within a minute
    assert smtp.to("keeper@example.org")[0]["subject"].startswith("【隐患整改通知】"), (
        "the responsible person is told at once"
    )
    smtp.messages.clear()

    timeline = [
        # (Beijing time of the sweep, who gets a mail)
        (shanghai(2026, 9, 23, 12), []),
        # blue reminder: 2 working days before 9-29 (9-25 is the Mid-Autumn Festival holiday in 2026)
        (shanghai(2026, 9, 24, 8), ["keeper@example.org"]),
        (shanghai(2026, 9, 29, 20), []),  # due today, not overdue
        # level 1 once overdue
        (
            shanghai(2026, 9, 30, 0, 30),
            ["keeper@example.org", "office@example.org"],
        ),
        (shanghai(2026, 10, 8, 18), []),  # National Day: 9-30 and 10-08 are only two working days
        (shanghai(2026, 10, 9, 8), ["deputy@example.org"]),  # level 2: 3 working days
        (shanghai(2026, 10, 13, 23), []),  # 10-10 (an adjusted Saturday workday), 10-12, 10-13: six
        (shanghai(2026, 10, 14, 8), ["leader@example.org"]),  # level 3: 7 working days
        (shanghai(2026, 11, 30, 8), []),  # nothing more, ever
    ]
    for when, expected in timeline:
        before = len(smtp.messages)
        sweep(sessions, when)
        arrived = sorted(r for m in smtp.messages[before:] for r in m["to"])
        assert arrived == sorted(expected), when

    subjects = [m["subject"] for m in smtp.messages]
    assert subjects[0].startswith("【蓝色提醒】")
    assert subjects[1].startswith("【黄色催办·第1级】") and subjects[3].startswith(
        "【红色督办·第2级】"
    )
    with sessions() as session:
        levels = session.execute(
            select(Escalation.level, Escalation.recipients).order_by(Escalation.level)
        ).all()
    assert levels == [
        (0, "keeper@example.org"),
        (1, "keeper@example.org,office@example.org"),
        (2, "deputy@example.org"),
        (3, "leader@example.org"),
    ]


def test_the_mail_says_what_where_when_who_and_links_to_the_item(
    sessions, hazard_campaign, calendar, smtp
):
    rect = register(
        sessions,
        hazard_campaign,
        calendar,
        shanghai(2026, 9, 21, 10),
        deadline=date(2026, 9, 29),
        severity="major",
        temporary_measures="设置警示牌，专人看守",
    )
    sweep(sessions, shanghai(2026, 10, 9, 9))
    body = smtp.to("deputy@example.org")[0]["body"]
    for fact in (
        "以下事项已逾期",
        "The following items are overdue",
        "道口护栏损坏",
        "东村 / 3号道口",
        "重大隐患 / major",
        "期限 deadline: 2026-09-29",
        "已逾期 3 个工作日 / 3 working day(s) overdue",
        "责任人 responsible: 陈道口看守",
        "临时措施 temporary measures: 设置警示牌，专人看守",
        f"{BASE_URL}/rectifications/{rect}",
    ):
        assert fact in body, fact


def test_a_second_sweep_at_the_same_time_sends_nothing(sessions, hazard_campaign, calendar, smtp):
    register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    first = sweep(sessions, shanghai(2026, 10, 20, 9))
    count = len(smtp.messages)
    second = sweep(sessions, shanghai(2026, 10, 20, 9))
    assert (
        str(second)
        == "occurrences 0; reminders 0; escalations none; escalation mails queued 0; mails sent 0, failed 0, waiting 0"
    )
    assert len(smtp.messages) == count
    assert first.escalation.levels == {1: 1, 2: 1, 3: 1}, (
        "after downtime each level is reached once"
    )
    assert first.escalation.reminders == 0, "no reminder for what is already overdue"
    assert "sent late" in smtp.to("leader@example.org")[0]["body"]


def test_items_for_the_same_person_and_level_come_in_one_mail(
    sessions, hazard_campaign, calendar, smtp
):
    for text in ("护栏损坏", "警示灯不亮", "栏杆松动"):
        register(
            sessions,
            hazard_campaign,
            calendar,
            shanghai(2026, 9, 21, 10),
            deadline=date(2026, 9, 29),
            description=text,
        )
    sweep(sessions, shanghai(2026, 9, 30, 9))
    office = smtp.to("office@example.org")
    assert len(office) == 1 and "3 overdue item(s)" in office[0]["subject"]
    assert all(text in office[0]["body"] for text in ("护栏损坏", "警示灯不亮", "栏杆松动"))


def test_a_mail_of_many_items_lists_the_worst_twenty_and_links_to_all_of_them(
    sessions, hazard_campaign, calendar, smtp
):
    # 24 minor hazards, then 2 major ones, all due 9-29: the major ones are listed first
    for n in range(24):
        register(
            sessions,
            hazard_campaign,
            calendar,
            shanghai(2026, 9, 21, 10),
            deadline=date(2026, 9, 29),
            description=f"护栏损坏{n:02d}",
        )
    for n in range(2):
        register(
            sessions,
            hazard_campaign,
            calendar,
            shanghai(2026, 9, 21, 10),
            deadline=date(2026, 9, 29),
            description=f"道口信号失灵{n}",
            severity="major",
        )
    sweep(sessions, shanghai(2026, 9, 30, 9))
    office = smtp.to("office@example.org")
    assert len(office) == 1 and "26 overdue item(s)" in office[0]["subject"]
    body = office[0]["body"]
    assert body.count("链接 link:") == 20, "twenty listed line by line"
    assert body.index("道口信号失灵0") < body.index("护栏损坏00"), "the major hazards first"
    assert "另有 6 项未逐条列出（本通知共 26 项，其中重大隐患 2 项）" in body
    assert "and 6 more not listed here (26 in all, 2 of them major hazards)" in body
    assert f"{BASE_URL}/leader" in body, "the leader view lists every item escalated to them"
    with sessions() as session:
        recorded = session.scalar(
            select(func.count()).select_from(Escalation).where(Escalation.level == 1)
        )
    assert recorded == 26, "each item's step is recorded, listed or not"


def test_mail_waits_while_the_server_is_down_and_arrives_once_when_it_is_back(
    sessions, hazard_campaign, calendar, smtp
):
    smtp.stop()
    register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    down = sweep(sessions, shanghai(2026, 9, 30, 9))
    assert (down.delivery.sent, down.delivery.waiting) == (0, 3)
    with sessions() as session:
        attempts = session.execute(select(OutboxMail.attempts, OutboxMail.next_attempt_at)).all()
    assert {a for a, _ in attempts} == {1} and all(
        n > shanghai(2026, 9, 30, 9) for _, n in attempts
    ), "backoff"

    smtp.start()
    early = sweep(sessions, shanghai(2026, 9, 30, 9, 0, 30))  # within the backoff: not yet
    assert early.delivery.sent == 0
    back = sweep(sessions, shanghai(2026, 9, 30, 9, 5))
    again = sweep(sessions, shanghai(2026, 9, 30, 9, 10))
    assert (back.delivery.sent, back.delivery.waiting, again.delivery.sent) == (3, 0, 0)
    ids = [m["message_id"] for m in smtp.messages]
    assert len(ids) == len(set(ids)) == 3
    assert sorted(r for m in smtp.messages for r in m["to"]) == [
        "keeper@example.org",
        "keeper@example.org",
        "office@example.org",
    ]


def test_a_temporary_refusal_is_retried_with_backoff(sessions, hazard_campaign, calendar, smtp):
    smtp.reply = "451 4.3.0 try again later"
    register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    refused = sweep(sessions, shanghai(2026, 9, 21, 10, 1))
    with sessions() as session:
        error = session.scalar(select(OutboxMail.last_error))
    assert refused.delivery.failed == 1 and "451" in error
    smtp.reply = None
    assert sweep(sessions, shanghai(2026, 9, 21, 10, 5)).delivery.sent == 1
    assert len(smtp.to("keeper@example.org")) == 1


def test_a_closed_rectification_is_never_escalated(sessions, hazard_campaign, calendar, smtp):
    rect = register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    keeper = actor(sessions, "keeper@example.org")
    office = actor(sessions, "office@example.org")
    with sessions.begin() as session:
        submit_rectification(
            session, rect, by=keeper, clock=FixedClock(shanghai(2026, 9, 22)), note="护栏已修复"
        )
    with sessions.begin() as session:
        verify_rectification(session, rect, by=office, clock=FixedClock(shanghai(2026, 9, 23)))
    summary = sweep(sessions, shanghai(2026, 11, 1))
    assert summary.escalation.levels == {} and summary.escalation.reminders == 0
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 0


def test_overdue_required_tasks_escalate_like_rectifications(
    sessions, hazard_campaign, calendar, smtp
):
    # the screening tasks are due 100 days after 2026-09-10: on 2026-12-19
    sweep(sessions, shanghai(2026, 12, 19, 23))
    assert sorted(r for m in smtp.messages for r in m["to"]) == [
        "east@example.org",
        "west@example.org",
    ]
    assert all(m["subject"].startswith("【蓝色提醒】") for m in smtp.messages), (
        "due today: reminded, not overdue"
    )
    smtp.messages.clear()
    sweep(sessions, shanghai(2026, 12, 20, 9))
    assert sorted(r for m in smtp.messages for r in m["to"]) == [
        "east@example.org",
        "office@example.org",
        "west@example.org",
    ]
    assert "隐患排查" in smtp.to("office@example.org")[0]["body"]
