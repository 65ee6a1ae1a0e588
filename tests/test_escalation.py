"""Hazards, their rectification, and escalation mail read from a real SMTP server."""
from __future__ import annotations

import os
from datetime import date

import pytest
from sqlalchemy import func, select

from conftest import shanghai
from test_campaigns import OPERATOR, row_counts
from webapp.mail import mailer_from_env
from workflow.audit import Actor, trail
from workflow.campaigns.lifecycle import advance_campaign, start_campaign
from workflow.clock import FixedClock
from workflow.definitions.reader import parse_definition
from workflow.organisation.directory import import_organisation, person_by_email
from workflow.errors import Forbidden, InvalidInput, NotFound, TransitionRefused
from workflow.hazards.rectifications import (
    HazardReport,
    decide_extension,
    register_hazard,
    reject_rectification,
    reopen_rectification,
    request_extension,
    submit_rectification,
    verify_rectification,
)
from workflow.models import Escalation, OutboxMail, Rectification
from workflow.organisation.org_file import parse_organisation
from workflow.escalation.sweep import run_sweep

BASE_URL = "http://pingan.test"

ORG = """
units:
  - id: town
    name: 铁路镇
    children:
      - id: east-village
        name: 东村
        sites:
          - {id: crossing-3, name: 3号道口, responsible: keeper@example.org}
      - {id: west-village, name: 西村}
people:
  - {email: leader@example.org, name: 张组长, unit: town, roles: [leader]}
  - {email: deputy@example.org, name: 王副组长, unit: town, roles: [deputy]}
  - {email: office@example.org, name: 赵主任, unit: town, roles: [office_director]}
  - {email: east@example.org, name: 李村长, unit: east-village, roles: [village_head]}
  - {email: keeper@example.org, name: 陈道口看守, unit: east-village, roles: []}
  - {email: west@example.org, name: 周村长, unit: west-village, roles: [village_head]}
"""

DEFINITION = """
id: safe-railway-escalation
version: 1
title: 平安铁路创建活动
roles:
  - {id: leader, title: 组长}
  - {id: deputy, title: 副组长}
  - {id: office_director, title: 办公室主任}
  - {id: village_head, title: 村负责人, scope: unit}
phases:
  - id: implementation
    title: 全面实施阶段
    tasks:
      - {id: screening, title: 隐患排查, assignee: village_head, per: unit, due: 100d}
  - id: inspection
    title: 检查验收阶段
escalation:
  deadline_by_severity: {major: 5wd, minor: 15wd}
  remind_before: 2wd
  levels:
    - {after: 0d, notify: [responsible, office_director]}
    - {after: 3wd, notify: [deputy]}
    - {after: 7wd, notify: [leader]}
"""


@pytest.fixture
def campaign(sessions, calendar):
    clock = FixedClock(shanghai(2026, 9, 10, 9, 0))
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(ORG, "org.yaml"))
        return start_campaign(session, parse_definition(DEFINITION, "def.yaml"), "town", date(2026, 9, 10),
                              by=OPERATOR, clock=clock, calendar=calendar).id


def register(sessions, campaign, calendar, when, **fields):
    fields.setdefault("description", "道口护栏损坏")
    fields.setdefault("site", "crossing-3")
    with sessions.begin() as session:
        return register_hazard(session, campaign, HazardReport(**fields), by=OPERATOR, clock=FixedClock(when),
                               calendar=calendar, base_url=BASE_URL).id


def sweep(sessions, when):
    return run_sweep(sessions, clock=FixedClock(when), mailer=mailer_from_env(dict(os.environ)), base_url=BASE_URL)


def actor(sessions, email):
    with sessions() as session:
        return Actor.person(person_by_email(session, email))


def test_levels_reach_exactly_the_right_people_on_the_right_working_days(sessions, campaign, calendar, smtp):
    register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10, 0), deadline=date(2026, 9, 29),
             temporary_measures="设置警示牌，专人看守")
    sweep(sessions, shanghai(2026, 9, 21, 10, 0))  # the scheduler's next pass, within a minute
    assert smtp.to("keeper@example.org")[0]["subject"].startswith("【隐患整改通知】"), "the responsible person is told at once"
    smtp.messages.clear()

    timeline = [
        # (Beijing time of the sweep, who gets a mail)
        (shanghai(2026, 9, 23, 12), []),
        # blue reminder: 2 working days before 9-29 (9-25 is the Mid-Autumn Festival holiday in 2026)
        (shanghai(2026, 9, 24, 8), ["keeper@example.org"]),
        (shanghai(2026, 9, 29, 20), []),  # due today, not overdue
        (shanghai(2026, 9, 30, 0, 30), ["keeper@example.org", "office@example.org"]),  # level 1 once overdue
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
    assert subjects[1].startswith("【黄色催办·第1级】") and subjects[3].startswith("【红色督办·第2级】")
    with sessions() as session:
        levels = session.execute(select(Escalation.level, Escalation.recipients).order_by(Escalation.level)).all()
    assert levels == [(0, "keeper@example.org"), (1, "keeper@example.org,office@example.org"),
                      (2, "deputy@example.org"), (3, "leader@example.org")]


def test_the_mail_says_what_where_when_who_and_links_to_the_item(sessions, campaign, calendar, smtp):
    rect = register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29),
                    severity="major", temporary_measures="设置警示牌，专人看守")
    sweep(sessions, shanghai(2026, 10, 9, 9))
    body = smtp.to("deputy@example.org")[0]["body"]
    for fact in ("以下事项已逾期", "The following items are overdue", "道口护栏损坏", "东村 / 3号道口",
                 "重大隐患 / major", "期限 deadline: 2026-09-29", "已逾期 3 个工作日 / 3 working day(s) overdue",
                 "责任人 responsible: 陈道口看守", "临时措施 temporary measures: 设置警示牌，专人看守",
                 f"{BASE_URL}/rectifications/{rect}"):
        assert fact in body, fact


def test_a_second_sweep_at_the_same_time_sends_nothing(sessions, campaign, calendar, smtp):
    register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29))
    first = sweep(sessions, shanghai(2026, 10, 20, 9))
    count = len(smtp.messages)
    second = sweep(sessions, shanghai(2026, 10, 20, 9))
    assert str(second) == "occurrences 0; reminders 0; escalations none; escalation mails queued 0; mails sent 0, failed 0, waiting 0"
    assert len(smtp.messages) == count
    assert first.escalation.levels == {1: 1, 2: 1, 3: 1}, "after downtime each level is reached once"
    assert first.escalation.reminders == 0, "no reminder for what is already overdue"
    assert "sent late" in smtp.to("leader@example.org")[0]["body"]


def test_items_for_the_same_person_and_level_come_in_one_mail(sessions, campaign, calendar, smtp):
    for text in ("护栏损坏", "警示灯不亮", "栏杆松动"):
        register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29), description=text)
    sweep(sessions, shanghai(2026, 9, 30, 9))
    office = smtp.to("office@example.org")
    assert len(office) == 1 and "3 overdue item(s)" in office[0]["subject"]
    assert all(text in office[0]["body"] for text in ("护栏损坏", "警示灯不亮", "栏杆松动"))


def test_mail_waits_while_the_server_is_down_and_arrives_once_when_it_is_back(sessions, campaign, calendar, smtp):
    smtp.stop()
    register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29))
    down = sweep(sessions, shanghai(2026, 9, 30, 9))
    assert (down.delivery.sent, down.delivery.waiting) == (0, 3)
    with sessions() as session:
        attempts = session.execute(select(OutboxMail.attempts, OutboxMail.next_attempt_at)).all()
    assert {a for a, _ in attempts} == {1} and all(n > shanghai(2026, 9, 30, 9) for _, n in attempts), "backoff"

    smtp.start()
    early = sweep(sessions, shanghai(2026, 9, 30, 9, 0, 30))  # within the backoff: not yet
    assert early.delivery.sent == 0
    back = sweep(sessions, shanghai(2026, 9, 30, 9, 5))
    again = sweep(sessions, shanghai(2026, 9, 30, 9, 10))
    assert (back.delivery.sent, back.delivery.waiting, again.delivery.sent) == (3, 0, 0)
    ids = [m["message_id"] for m in smtp.messages]
    assert len(ids) == len(set(ids)) == 3
    assert sorted(r for m in smtp.messages for r in m["to"]) == ["keeper@example.org", "keeper@example.org",
                                                                  "office@example.org"]


def test_a_temporary_refusal_is_retried_with_backoff(sessions, campaign, calendar, smtp):
    smtp.reply = "451 4.3.0 try again later"
    register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29))
    refused = sweep(sessions, shanghai(2026, 9, 21, 10, 1))
    with sessions() as session:
        error = session.scalar(select(OutboxMail.last_error))
    assert refused.delivery.failed == 1 and "451" in error
    smtp.reply = None
    assert sweep(sessions, shanghai(2026, 9, 21, 10, 5)).delivery.sent == 1
    assert len(smtp.to("keeper@example.org")) == 1


def test_a_closed_rectification_is_never_escalated(sessions, campaign, calendar, smtp):
    rect = register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29))
    keeper = actor(sessions, "keeper@example.org")
    office = actor(sessions, "office@example.org")
    with sessions.begin() as session:
        submit_rectification(session, rect, by=keeper, clock=FixedClock(shanghai(2026, 9, 22)), note="护栏已修复")
    with sessions.begin() as session:
        verify_rectification(session, rect, by=office, clock=FixedClock(shanghai(2026, 9, 23)))
    summary = sweep(sessions, shanghai(2026, 11, 1))
    assert summary.escalation.levels == {} and summary.escalation.reminders == 0
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 0


def test_a_rejection_needs_a_reason_and_a_new_deadline_and_restarts_escalation(sessions, campaign, calendar, smtp):
    rect = register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29))
    keeper, office = actor(sessions, "keeper@example.org"), actor(sessions, "office@example.org")
    sweep(sessions, shanghai(2026, 9, 30, 9))  # level 1 reached
    clock = FixedClock(shanghai(2026, 10, 9, 9))
    with sessions.begin() as session:
        submit_rectification(session, rect, by=keeper, clock=clock, note="已修复")
    with pytest.raises(InvalidInput, match="new deadline"), sessions.begin() as session:
        reject_rectification(session, rect, by=office, clock=clock, calendar=calendar, reason="仍有缺口")
    with sessions.begin() as session:
        reject_rectification(session, rect, by=office, clock=clock, calendar=calendar, reason="仍有缺口",
                             deadline_working_days=2)
    with sessions() as session:
        row = session.get(Rectification, rect)
        assert (row.state, row.deadline, row.original_deadline) == ("open", date(2026, 10, 12), date(2026, 9, 29))
    smtp.messages.clear()
    sweep(sessions, shanghai(2026, 10, 13, 9))
    assert sorted(r for m in smtp.messages for r in m["to"]) == ["keeper@example.org", "office@example.org"]


def test_the_responsible_person_asks_for_an_extension_and_a_coordinator_decides(sessions, campaign, calendar, smtp):
    rect = register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29))
    keeper, office = actor(sessions, "keeper@example.org"), actor(sessions, "office@example.org")
    clock = FixedClock(shanghai(2026, 9, 24, 9))
    with pytest.raises(Forbidden), sessions.begin() as session:
        request_extension(session, rect, by=office, clock=clock, reason="x", until=date(2026, 10, 20))
    with sessions.begin() as session:
        extension = request_extension(session, rect, by=keeper, clock=clock, reason="需采购材料", until=date(2026, 10, 20))
    with pytest.raises(Forbidden), sessions.begin() as session:
        decide_extension(session, extension.id, by=keeper, clock=clock, calendar=calendar, approve=True)
    with sessions.begin() as session:
        decide_extension(session, extension.id, by=office, clock=clock, calendar=calendar, approve=True, note="同意")
    with sessions() as session:
        row = session.get(Rectification, rect)
        assert (row.deadline, row.original_deadline, row.extensions) == (date(2026, 10, 20), date(2026, 9, 29), 1)
        events = [e.event for e in trail(session, campaign, "rectification", rect)]
    assert events == ["register", "request_extension", "approve_extension"]
    sweep(sessions, shanghai(2026, 10, 1, 9))
    assert [m["subject"][:8] for m in smtp.messages] == ["【隐患整改通知】"], "the new deadline counts for escalation"


def test_a_look_back_reopens_a_closed_rectification(sessions, campaign, calendar, smtp):
    rect = register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29))
    keeper, office = actor(sessions, "keeper@example.org"), actor(sessions, "office@example.org")
    clock = FixedClock(shanghai(2026, 9, 22))
    with sessions.begin() as session:
        submit_rectification(session, rect, by=keeper, clock=clock, note="已修复")
        verify_rectification(session, rect, by=office, clock=clock)
    with sessions.begin() as session:
        reopen_rectification(session, rect, by=office, clock=FixedClock(shanghai(2026, 11, 2)), calendar=calendar,
                             reason="回头看发现护栏再次损坏", deadline=date(2026, 11, 6))
    with sessions() as session:
        assert session.get(Rectification, rect).state == "open"
        assert [e.event for e in trail(session, campaign, "rectification", rect)][-1] == "reopen"


def test_moves_the_machine_does_not_allow_are_refused_and_change_nothing(sessions, campaign, calendar, smtp):
    rect = register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29))
    before = row_counts(sessions)
    with pytest.raises(TransitionRefused, match="cannot verify rectification .*: it is open"), sessions.begin() as s:
        verify_rectification(s, rect, by=OPERATOR, clock=FixedClock(shanghai(2026, 9, 22)))
    assert row_counts(sessions) == before


@pytest.mark.parametrize("fields, message", [
    ({"description": "  "}, "description is required"),
    ({"severity": "catastrophic"}, "severity must be one of minor, major"),
    ({"responsible": "nobody@example.org"}, "no person with e-mail 'nobody@example.org'"),
    ({"deadline": date(2026, 9, 1)}, "is in the past"),
    ({"deadline": date(2026, 10, 1), "deadline_working_days": 3}, "either deadline or deadline_working_days"),
    ({"deadline_working_days": 0}, "from 1 to 366"),
    ({"site": "crossing-99"}, "no key site 'crossing-99'"),
    ({"site": None, "unit": None}, "name the responsible person"),
    ({"location": "东" * 301}, r"location is too long \(301 characters; at most 300\)"),
])
def test_bad_hazard_input_is_refused_and_writes_nothing(sessions, campaign, calendar, smtp, fields, message):
    before = row_counts(sessions)
    with pytest.raises(InvalidInput, match=message):
        register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10), **fields)
    assert row_counts(sessions) == before


def test_the_default_deadline_follows_the_severity_in_working_days(sessions, campaign, calendar, smtp):
    rect = register(sessions, campaign, calendar, shanghai(2026, 9, 28, 10), severity="major")
    with sessions() as session:
        # 5wd: 9-29, 9-30, then the National Day holiday, 10-08, 10-09, and 10-10, a Saturday made a workday (调休)
        assert session.get(Rectification, rect).deadline == date(2026, 10, 10)


def test_only_the_responsible_person_submits_and_others_do_not_see_it(sessions, campaign, calendar, smtp):
    rect = register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29))
    clock = FixedClock(shanghai(2026, 9, 22))
    with pytest.raises(NotFound), sessions.begin() as session:
        submit_rectification(session, rect, by=actor(sessions, "west@example.org"), clock=clock, note="x")
    with pytest.raises(Forbidden), sessions.begin() as session:
        submit_rectification(session, rect, by=actor(sessions, "office@example.org"), clock=clock, note="x")


def test_an_open_major_hazard_blocks_leaving_the_phase(sessions, campaign, calendar, smtp):
    rect = register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10), severity="major")
    with sessions.begin() as session:
        from workflow.models import Task
        for task in session.scalars(select(Task)).all():
            task.state = "done"
    with pytest.raises(TransitionRefused) as refused, sessions.begin() as session:
        advance_campaign(session, campaign, by=OPERATOR, clock=FixedClock(shanghai(2026, 9, 22)), calendar=calendar)
    assert [(b.kind, b.id) for b in refused.value.blockers] == [("rectification", rect)]


def test_overdue_required_tasks_escalate_like_rectifications(sessions, campaign, calendar, smtp):
    # the screening tasks are due 100 days after 2026-09-10: on 2026-12-19
    sweep(sessions, shanghai(2026, 12, 19, 23))
    assert sorted(r for m in smtp.messages for r in m["to"]) == ["east@example.org", "west@example.org"]
    assert all(m["subject"].startswith("【蓝色提醒】") for m in smtp.messages), "due today: reminded, not overdue"
    smtp.messages.clear()
    sweep(sessions, shanghai(2026, 12, 20, 9))
    assert sorted(r for m in smtp.messages for r in m["to"]) == ["east@example.org", "office@example.org",
                                                                  "west@example.org"]
    assert "隐患排查" in smtp.to("office@example.org")[0]["body"]


def test_a_hazard_may_name_only_an_inspection_task_of_its_own_campaign(sessions, campaign, calendar, smtp):
    before = row_counts(sessions)
    with pytest.raises(InvalidInput, match="no task 999 in this campaign"):
        register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10), task_id=999)
    assert row_counts(sessions) == before
    rect = register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10), task_id=1)
    with sessions() as session:
        assert session.get(Rectification, rect).task_id == 1


def test_an_outsider_learns_nothing_from_an_extension_id(sessions, campaign, calendar, smtp):
    rect = register(sessions, campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29))
    clock = FixedClock(shanghai(2026, 9, 22))
    with sessions.begin() as session:
        extension = request_extension(session, rect, by=actor(sessions, "keeper@example.org"), clock=clock,
                                      reason="需采购材料", until=date(2026, 10, 20))
    west = actor(sessions, "west@example.org")
    messages = []
    for extension_id in (extension.id, extension.id + 100):
        with pytest.raises(NotFound) as missing, sessions.begin() as session:
            decide_extension(session, extension_id, by=west, clock=clock, calendar=calendar, approve=True)
        messages.append(str(missing.value).replace(str(extension_id), "N"))
    assert messages == ["no extension request N", "no extension request N"]
