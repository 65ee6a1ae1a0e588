"""Recurring duties through a campaign year, with the clock moved by the sweep."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.support.actions import OPERATOR
from tests.support.clock import shanghai
from workflow.audit import Actor
from workflow.campaigns.lifecycle import advance_campaign, start_campaign
from workflow.clock import FixedClock
from workflow.definitions.reader import parse_definition
from workflow.errors import StartRefused
from workflow.escalation.sweep import run_sweep
from workflow.models import OutboxMail, Task
from workflow.organisation.directory import import_organisation, person_by_email
from workflow.organisation.org_file import parse_organisation

ORG = """
units:
  - id: town
    name: 铁路镇
    children:
      - id: east-village
        name: 东村
        sites:
          - {id: section-east, name: 东段责任区段, responsible: patrol-east@example.org}
      - id: west-village
        name: 西村
        sites:
          - {id: section-west, name: 西段责任区段, responsible: patrol-west@example.org}
people:
  - {email: leader@example.org, name: 张组长, unit: town, roles: [leader]}
  - {email: office@example.org, name: 赵主任, unit: town, roles: [office_director]}
  - {email: federation@example.org, name: 刘主席, unit: town, roles: [chair]}
  - {email: east@example.org, name: 李村长, unit: east-village, roles: [village_head]}
  - {email: west@example.org, name: 周村长, unit: west-village, roles: [village_head]}
  - {email: patrol-east@example.org, name: 东段巡防员, unit: east-village}
  - {email: patrol-west@example.org, name: 西段巡防员, unit: west-village}
  - {email: helper-wang@example.org, name: 王帮教, unit: east-village}
lists:
  supervised:
    - {id: p1, name: 重点人员甲, unit: east-village, responsible: helper-wang@example.org}
    - {id: p2, name: 重点人员乙, unit: east-village, responsible: helper-wang@example.org}
"""

DEFINITION = """
id: recurring-test
version: 1
title: 平安铁路创建活动
roles:
  - {id: leader, title: 组长}
  - {id: office_director, title: 办公室主任}
  - {id: chair, title: 妇联主席}
  - {id: village_head, title: 村负责人, scope: unit}
phases:
  - id: mobilization
    title: 宣传发动阶段
    duration: 30d
    tasks:
      - {id: plan, title: 制定方案, assignee: village_head, per: unit, due: 14d}
  - id: implementation
    title: 全面实施阶段
    duration: 200d
    tasks:
      - {id: letter, title: 签订责任书, assignee: responsible, per: site, due: 10d}
    recurring:
      - {id: screening, title: 隐患排查, assignee: village_head, per: unit, every: quarter, due: 10d}
      - {id: reception, title: 信访接待, assignee: chair, every: week, on: wednesday, due: 0d}
      - {id: education, title: 帮教谈话, assignee: responsible, per: list, list: supervised, every: month, due: 10d}
      - {id: patrol, title: 区段巡查, assignee: responsible, per: site, every: "0 9 1,15 * *", due: 3d, required: false}
  - id: inspection
    title: 检查验收阶段
    duration: 30d
escalation:
  levels:
    - {after: 0d, notify: [responsible, office_director]}
"""


@pytest.fixture
def campaign(sessions, calendar):
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(ORG, "org.yaml"))
        campaign = start_campaign(
            session,
            parse_definition(DEFINITION, "def.yaml"),
            "town",
            date(2026, 5, 1),
            by=OPERATOR,
            clock=FixedClock(shanghai(2026, 5, 1, 9)),
            calendar=calendar,
        )
        return campaign.id


def sweep(sessions, when):
    return run_sweep(sessions, clock=FixedClock(when), mailer=None, base_url="http://pingan.test")


def advance(sessions, campaign, when, calendar):
    with sessions.begin() as session:
        for task in session.scalars(
            select(Task).where(Task.campaign_id == campaign, Task.state == "open")
        ):
            task.state = "done"
    with sessions.begin() as session:
        return advance_campaign(
            session, campaign, by=OPERATOR, clock=FixedClock(when), calendar=calendar
        )


def occurrences(sessions, campaign, duty):
    with sessions() as session:
        rows = session.execute(
            select(Task.period, Task.created_at, Task.due_on, Task.assignee_id)
            .where(Task.campaign_id == campaign, Task.spec_key == duty)
            .order_by(Task.period, Task.assignee_id)
        ).all()
    return rows


def test_nothing_recurs_outside_its_phase(sessions, campaign, calendar):
    for day in range(1, 31, 3):
        summary = sweep(sessions, shanghai(2026, 5, day, 12))
        assert summary.occurrences == 0
    with sessions() as session:
        assert set(session.scalars(select(Task.spec_key).where(Task.campaign_id == campaign))) == {
            "plan"
        }


def test_a_campaign_year_of_sweeps_makes_each_period_once_on_its_day(sessions, campaign, calendar):
    # implementation from Wed 2026-06-03
    advance(sessions, campaign, shanghai(2026, 6, 3, 10), calendar)
    day = date(2026, 6, 3)
    while day <= date(2026, 12, 31):  # a sweep each evening, Beijing time, and a second one at once
        sweep(sessions, shanghai(day.year, day.month, day.day, 20))
        assert sweep(sessions, shanghai(day.year, day.month, day.day, 20)).occurrences == 0, day
        day += timedelta(days=1)

    screening = occurrences(sessions, campaign, "screening")
    # Q2 began before the phase
    assert sorted(
        {(p, c.astimezone(shanghai(2026, 1, 1).tzinfo).date()) for p, c, _, _ in screening}
    ) == [
        ("2026-Q3", date(2026, 7, 1)),
        ("2026-Q4", date(2026, 10, 1)),
    ]
    assert len(screening) == 2 * 2, "one per village per quarter"
    assert {due for _, _, due, _ in screening} == {date(2026, 7, 11), date(2026, 10, 11)}

    reception = occurrences(sessions, campaign, "reception")
    starts = [due for _, _, due, _ in reception]  # due the day it starts
    assert all(d.weekday() == 2 for d in starts), "Wednesdays only"
    assert starts[0] == date(2026, 6, 3) and starts[-1] == date(2026, 12, 30)
    assert len(starts) == len(set(starts)) == 31

    education = occurrences(sessions, campaign, "education")
    # the phase was planned from 31 May: June had begun when it was entered on 3 June
    assert [p for p, _, _, _ in education][::2] == [
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
        "2026-12",
    ]
    with sessions() as session:
        helper = person_by_email(session, "helper-wang@example.org").id
    assert {a for _, _, _, a in education} == {helper}, (
        "the supervised persons' help-and-education leader"
    )

    patrol = occurrences(sessions, campaign, "patrol")
    assert len(patrol) == 2 * 14, (
        "cron: on the 1st and 15th, per responsibility section (6-01 inside the planned window, "
        "6-15, then 7-01 … 12-15)"
    )


def test_after_three_months_of_downtime_each_missed_period_is_made_once(
    sessions, campaign, calendar
):
    advance(sessions, campaign, shanghai(2026, 6, 3, 10), calendar)
    sweep(sessions, shanghai(2026, 6, 3, 11))
    before = {
        duty: len(occurrences(sessions, campaign, duty))
        for duty in ("screening", "reception", "education")
    }
    # nothing ran from June 3rd to September 3rd
    summary = sweep(sessions, shanghai(2026, 9, 3, 11))
    after = {
        duty: len(occurrences(sessions, campaign, duty))
        for duty in ("screening", "reception", "education")
    }
    assert (after["screening"] - before["screening"]) == 2, "Q3 once per village"
    assert (after["reception"] - before["reception"]) == 13, "every missed Wednesday once"
    assert (after["education"] - before["education"]) == 3 * 2, (
        "July, August, September for two persons"
    )
    assert sweep(sessions, shanghai(2026, 9, 3, 11)).occurrences == 0
    assert summary.escalation.levels[1] > 0, "what came due meanwhile is escalated, once, late"


def test_leaving_the_phase_stops_its_duties_and_keeps_open_occurrences(
    sessions, campaign, calendar
):
    advance(sessions, campaign, shanghai(2026, 6, 3, 10), calendar)
    sweep(sessions, shanghai(2026, 6, 10, 8))
    with sessions.begin() as session:
        open_reception = session.scalars(select(Task).where(Task.spec_key == "reception")).all()
        for task in open_reception:
            task.required = False  # so the phase can be left with them open
    with sessions() as session:
        kept = {
            t.id
            for t in session.scalars(
                select(Task).where(Task.spec_key == "reception", Task.state == "open")
            )
        }
    with sessions.begin() as session:
        for task in session.scalars(
            select(Task).where(Task.state == "open", Task.spec_key != "reception")
        ):
            task.state = "done"
    with sessions.begin() as session:
        advance_campaign(
            session,
            campaign,
            by=OPERATOR,
            clock=FixedClock(shanghai(2026, 6, 11, 9)),
            calendar=calendar,
        )
    assert sweep(sessions, shanghai(2026, 12, 1, 9)).occurrences == 0
    with sessions() as session:
        still_open = {
            t.id
            for t in session.scalars(
                select(Task).where(Task.spec_key == "reception", Task.state == "open")
            )
        }
        phases = set(session.scalars(select(Task.phase_key).where(Task.id.in_(kept))))
    assert kept and still_open == kept and phases == {"implementation"}


def test_one_off_tasks_fan_out_per_key_site_to_its_responsible_person(sessions, campaign, calendar):
    advance(sessions, campaign, shanghai(2026, 6, 3, 10), calendar)
    with sessions() as session:
        letters = session.execute(
            select(Task.site_id, Task.assignee_id).where(Task.spec_key == "letter")
        ).all()
        keepers = {
            person_by_email(session, f"patrol-{side}@example.org").id for side in ("east", "west")
        }
    assert len(letters) == 2 and {a for _, a in letters} == keepers


def test_a_key_site_without_a_responsible_person_refuses_the_start(sessions, calendar):
    org = ORG.replace(
        "{id: section-west, name: 西段责任区段, responsible: patrol-west@example.org}",
        "{id: section-west, name: 西段责任区段}",
    )
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(org, "org.yaml"))
    with (
        pytest.raises(
            StartRefused,
            match=r"cannot start: key site 'section-west' \(西段责任区段\) has no responsible person",
        ),
        sessions.begin() as session,
    ):
        start_campaign(
            session,
            parse_definition(DEFINITION, "def.yaml"),
            "town",
            date(2026, 5, 1),
            by=OPERATOR,
            clock=FixedClock(shanghai(2026, 5, 1, 9)),
            calendar=calendar,
        )


def test_a_phase_past_its_planned_end_with_work_open_is_reported_once(sessions, campaign, calendar):
    # mobilization (30d) was planned 2026-05-01 – 2026-05-30, its last day; the village plans are
    # still open: late from the day after
    assert sweep(sessions, shanghai(2026, 5, 30, 23)).late_phases == 0
    late = sweep(sessions, shanghai(2026, 5, 31, 9))
    again = sweep(sessions, shanghai(2026, 6, 1, 9))
    assert (late.late_phases, again.late_phases) == (1, 0)
    with sessions() as session:
        mails = session.execute(
            select(OutboxMail.recipient, OutboxMail.subject).where(
                OutboxMail.key.like("late-phase-%")
            )
        ).all()
    assert [r for r, _ in mails] == ["office@example.org"]
    assert "宣传发动阶段" in mails[0][1]


def test_the_weekly_duty_lands_on_the_federation_chair(sessions, campaign, calendar):
    advance(sessions, campaign, shanghai(2026, 6, 3, 10), calendar)
    sweep(sessions, shanghai(2026, 6, 17, 8))
    with sessions() as session:
        chair = person_by_email(session, "federation@example.org").id
        count = session.scalar(
            select(func.count())
            .select_from(Task)
            .where(Task.spec_key == "reception", Task.assignee_id == chair)
        )
    assert count == 3  # 6-03, 6-10, 6-17


def test_a_person_with_a_duty_is_an_actor_who_can_check_it_off(sessions, campaign, calendar):
    from workflow.campaigns.tasks import complete_task

    advance(sessions, campaign, shanghai(2026, 6, 3, 10), calendar)
    sweep(sessions, shanghai(2026, 6, 3, 10, 30))
    with sessions() as session:
        chair = Actor.person(person_by_email(session, "federation@example.org"))
        task_id = session.scalar(select(Task.id).where(Task.spec_key == "reception"))
    with sessions.begin() as session:
        assert (
            complete_task(
                session,
                task_id,
                by=chair,
                clock=FixedClock(shanghai(2026, 6, 3, 17)),
                note="接待来访群众2人",
            ).state
            == "done"
        )


def test_the_daily_digest_goes_once_a_working_day_to_each_person_with_work_due(
    sessions, campaign, calendar
):
    from workflow.escalation.digest import send_digests

    def digests(when):
        with sessions.begin() as session:
            return send_digests(
                session, when, calendar, tz="Asia/Shanghai", hour=8, base_url="http://pingan.test"
            )

    # the village plans are due 2026-05-15 (a Friday): within 3 working days from Tuesday 5-12
    assert digests(shanghai(2026, 5, 12, 7, 59)) == 0, "before the hour"
    assert digests(shanghai(2026, 5, 12, 8, 0)) == 2
    assert digests(shanghai(2026, 5, 12, 15, 0)) == 0, "once a day"
    assert digests(shanghai(2026, 5, 16, 9, 0)) == 0, "Saturday is not a working day"
    assert digests(shanghai(2026, 5, 18, 9, 0)) == 2, "overdue on Monday"
    with sessions() as session:
        body = session.scalar(
            select(OutboxMail.body).where(
                OutboxMail.recipient == "east@example.org",
                OutboxMail.key.like("digest-2026-05-18-%"),
            )
        )
    assert "制定方案" in body and "已逾期 3 天 / 3 day(s) overdue" in body


def test_a_cron_duty_on_weekday_one_makes_its_occurrences_on_mondays(sessions, calendar):
    # crontab's 1 is Monday; APScheduler's own from_crontab read it as Tuesday
    monday_reception = DEFINITION.replace(
        "every: week, on: wednesday, due: 0d", 'every: "0 9 * * 1", due: 0d'
    )
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(ORG, "org.yaml"))
        campaign = start_campaign(
            session,
            parse_definition(monday_reception, "def.yaml"),
            "town",
            date(2026, 5, 1),
            by=OPERATOR,
            clock=FixedClock(shanghai(2026, 5, 1, 9)),
            calendar=calendar,
        ).id
    advance(sessions, campaign, shanghai(2026, 6, 3, 10), calendar)  # a Wednesday
    sweep(sessions, shanghai(2026, 6, 30, 20))

    reception = occurrences(sessions, campaign, "reception")
    # the phase's window opens at its planned start, Sunday 31 May
    assert [(period, due) for period, _, due, _ in reception] == [
        ("2026-06-01T09:00", date(2026, 6, 1)),
        ("2026-06-08T09:00", date(2026, 6, 8)),
        ("2026-06-15T09:00", date(2026, 6, 15)),
        ("2026-06-22T09:00", date(2026, 6, 22)),
        ("2026-06-29T09:00", date(2026, 6, 29)),
    ]
    assert {due.strftime("%A") for _, _, due, _ in reception} == {"Monday"}
