"""A phase entered late loses no period; campaign-wide duties run across phases to the close."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from tests.support.actions import OPERATOR
from tests.support.clock import shanghai
from tests.support.paths import SHIPPED
from workflow.campaigns.lifecycle import advance_campaign, start_campaign
from workflow.clock import FixedClock
from workflow.definitions.reader import DefinitionError, load_definition_file, parse_definition
from workflow.escalation.sweep import run_sweep
from workflow.models import Letter, Task
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import load_organisation_file, parse_organisation

ORG = """
units:
  - id: town
    name: 新中镇
    children:
      - {id: east-village, name: 东村}
      - {id: west-village, name: 西村}
people:
  - {email: leader@example.org, name: 张组长, unit: town, roles: [leader]}
  - {email: federation@example.org, name: 刘主席, unit: town, roles: [chair]}
  - {email: east@example.org, name: 李村长, unit: east-village, roles: [village_head]}
  - {email: west@example.org, name: 周村长, unit: west-village, roles: [village_head]}
"""

STANDING = """
id: standing-test
version: 1
title: 平安家庭创建活动
roles:
  - {id: leader, title: 组长}
  - {id: chair, title: 妇联主席}
  - {id: village_head, title: 村负责人, scope: unit}
phases:
  - {id: mobilization, title: 宣传发动阶段, duration: 31d}
  - id: implementation
    title: 组织实施阶段
    duration: 181d
    recurring:
      - {id: analysis, title: 信访分析, assignee: chair, every: month, due: 10d, required: false}
  - {id: inspection, title: 检查验收阶段, duration: 61d}
  - {id: summary, title: 总结表彰阶段, duration: 92d}
recurring:
  - {id: reception, title: 主席接待日, assignee: chair, every: week, "on": wednesday, due: 1wd}
  - id: screening
    title: 隐患排查
    assignee: village_head
    per: unit
    every: month
    due: 10d
    phases: [implementation, inspection]
"""


def sweep(sessions, when):
    return run_sweep(sessions, clock=FixedClock(when), mailer=None, base_url="http://pingan.test")


def advance(sessions, campaign_id, when, calendar):
    with sessions.begin() as session:
        for task in session.scalars(
            select(Task).where(Task.campaign_id == campaign_id, Task.state == "open")
        ):
            task.state = "done"
        for letter in session.scalars(
            select(Letter).where(Letter.campaign_id == campaign_id, Letter.state != "signed")
        ):
            letter.state = (
                "signed"  # the phase's letters too (tests/engine/test_letters.py moves them)
            )
    with sessions.begin() as session:
        return advance_campaign(
            session, campaign_id, by=OPERATOR, clock=FixedClock(when), calendar=calendar
        )


def start_seed(sessions, calendar, slug: str, org: str, unit: str, starts: date) -> int:
    with sessions.begin() as session:
        import_organisation(session, load_organisation_file(SHIPPED / "org" / org))
    with sessions.begin() as session:
        return start_campaign(
            session,
            load_definition_file(SHIPPED / f"{slug}.yaml"),
            unit,
            starts,
            by=OPERATOR,
            clock=FixedClock(datetime.combine(starts, time(9), tzinfo=shanghai(2000, 1, 1).tzinfo)),
            calendar=calendar,
        ).id


def tasks(sessions, campaign_id) -> list[tuple[str, str | None, str, date | None]]:
    """(duty, period, phase, due date) of every recurring occurrence of the campaign."""
    with sessions() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(Task.spec_key, Task.period, Task.phase_key, Task.due_on)
                .where(Task.campaign_id == campaign_id, Task.period.is_not(None))
                .order_by(Task.spec_key, Task.period, Task.id)
            )
        ]


def test_a_railway_implementation_entered_on_4_june_still_gets_its_june_duties_once(
    sessions, calendar
):
    # implementation is planned from 1 June 2012 (全面实施阶段 6月1日至9月底)
    campaign_id = start_seed(
        sessions, calendar, "safe-railway", "railway-town.yaml", "liuhe-town", date(2012, 5, 20)
    )
    move = advance(sessions, campaign_id, shanghai(2012, 6, 4, 10), calendar)
    made = tasks(sessions, campaign_id)
    june = {(duty, period) for duty, period, _, _ in made}
    assert {
        ("hazard-screening", "2012-06-01T09:00"),
        ("supervised-visit", "2012-06-01T09:00"),
        ("scrap-dealers", "2012-06-01T09:00"),
        ("supervised-education", "2012-06"),
        ("section-patrol", "2012-06"),
        ("crossing-keepers", "2012-06"),
    } <= june
    assert move.tasks_created >= len(made), "created on entry, without waiting for a sweep"
    # due 20d from the period's first day (1 June), not from the click on 4 June (23 June on)
    [scrap_due] = {due for duty, _, _, due in made if duty == "scrap-dealers"}
    assert date(2012, 6, 20) <= scrap_due <= date(2012, 6, 21)

    assert sweep(sessions, shanghai(2012, 6, 4, 11)).occurrences == 0
    assert sweep(sessions, shanghai(2012, 6, 4, 11)).occurrences == 0
    assert tasks(sessions, campaign_id) == made, "once each"


def test_the_8_march_rights_week_is_created_when_implementation_is_entered_on_2_march(
    sessions, calendar
):
    # implementation is planned from 1 March 2011; the cron fires 1 March 09:00
    campaign_id = start_seed(
        sessions,
        calendar,
        "safe-family",
        "women-federation-town.yaml",
        "xinzhong-women",
        date(2011, 2, 1),
    )
    sweep(sessions, shanghai(2011, 3, 1, 12))
    advance(sessions, campaign_id, shanghai(2011, 3, 2, 10), calendar)
    rights = [m for m in tasks(sessions, campaign_id) if m[0] == "rights-week"]
    assert [(period, phase) for _, period, phase, _ in rights] == [
        ("2011-03-01T09:00", "implementation")
    ]
    assert sweep(sessions, shanghai(2011, 11, 1, 12)).occurrences > 0
    rights = [m for m in tasks(sessions, campaign_id) if m[0] == "rights-week"]
    assert len(rights) == 1, "once a year"


@pytest.fixture
def standing(sessions, calendar):
    """The standing-test campaign run through 2026, entering each phase on its planned day and
    sweeping each Monday and Saturday and on New Year's Eve."""
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(ORG, "org.yaml"))
        campaign_id = start_campaign(
            session,
            parse_definition(STANDING, "standing.yaml"),
            "town",
            date(2026, 1, 1),
            by=OPERATOR,
            clock=FixedClock(shanghai(2026, 1, 1, 9)),
            calendar=calendar,
        ).id
    # planned: mobilization from 1 Jan, implementation 1 Feb, inspection 1 Aug, summary 1 Oct
    entries = {date(2026, 2, 1), date(2026, 8, 1), date(2026, 10, 1)}
    day = date(2026, 1, 1)
    while day <= date(2026, 12, 31):
        if day in entries:
            advance(sessions, campaign_id, shanghai(day.year, day.month, day.day, 8), calendar)
        if day.weekday() in (0, 5):
            sweep(sessions, shanghai(day.year, day.month, day.day, 20))
        day += timedelta(days=1)
    sweep(sessions, shanghai(2026, 12, 31, 20))
    return campaign_id


def test_a_campaign_wide_wednesday_duty_runs_every_wednesday_of_the_year_holiday_or_not(
    sessions, standing, calendar
):
    made = tasks(sessions, standing)
    reception = [(period, phase, due) for duty, period, phase, due in made if duty == "reception"]
    weeks = {period: (phase, due) for period, phase, due in reception}
    assert len(weeks) == len(reception), "one a week"

    def week_of(day: date) -> str:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"

    for month in (2, 7, 12):
        day = date(2026, month, 1)
        while day.month == month:
            if day.weekday() == 2:
                assert week_of(day) in weeks, day
                assert weeks[week_of(day)][1] == calendar.add_working_days(day, 1), day
            day += timedelta(days=1)
    # 18 Feb 2026 is a Wednesday of the Spring Festival holiday: the reception still falls due
    # (the chair's duty is by weekday), on the first working day after it, 24 Feb
    assert not calendar.is_workday(date(2026, 2, 18))
    assert weeks[week_of(date(2026, 2, 18))][1] == date(2026, 2, 24)
    # 14 and 28 Feb are 调休 working Saturdays: a Wednesday duty does not move to them
    assert calendar.is_workday(date(2026, 2, 14)) and calendar.is_workday(date(2026, 2, 28))
    assert all(due.weekday() != 5 for _, _, due in reception)
    assert len(reception) == 52, "every week of 2026, from the first phase to the last"
    assert {phase for phase, _ in weeks.values()} == {
        "mobilization",
        "implementation",
        "inspection",
        "summary",
    }


def test_a_duty_for_two_phases_runs_through_both_and_stops_at_summary(sessions, standing):
    made = tasks(sessions, standing)
    screening = sorted({(period, phase) for duty, period, phase, _ in made if duty == "screening"})
    assert screening == [
        *((f"2026-{month:02d}", "implementation") for month in range(2, 8)),
        ("2026-08", "inspection"),
        ("2026-09", "inspection"),
    ]
    assert sum(1 for m in made if m[0] == "screening") == 8 * 2, "one per village"
    analysis = sorted({period for duty, period, _, _ in made if duty == "analysis"})
    assert analysis == [f"2026-{month:02d}" for month in range(2, 8)], "a phase's own duty"


def test_a_campaign_wide_duty_naming_an_unknown_phase_is_refused_at_its_line():
    text = STANDING.replace(
        "phases: [implementation, inspection]", "phases: [implementation, audit]"
    )
    with pytest.raises(DefinitionError) as refused:
        parse_definition(text, "standing.yaml")
    assert any(
        problem.line == text.splitlines().index("    phases: [implementation, audit]") + 1
        and "unknown phase 'audit'" in problem.message
        for problem in refused.value.problems
    ), refused.value.problems


def test_phases_on_a_duty_inside_a_phase_is_refused():
    text = STANDING.replace(
        "every: month, due: 10d, required: false}",
        "every: month, due: 10d, required: false, phases: [inspection]}",
    )
    with pytest.raises(DefinitionError, match="only used on a duty declared at the top level"):
        parse_definition(text, "standing.yaml")
