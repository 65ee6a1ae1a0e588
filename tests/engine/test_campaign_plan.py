"""Campaign time as the texts write it: the text's own phase dates, due dates counted from the plan
(after the phase starts, before it ends, on a date), and `Nd` counted as the Civil Code counts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.support.actions import OPERATOR, start
from tests.support.clock import shanghai
from tests.support.texts import RAILWAY
from workflow.campaigns.lifecycle import advance_campaign
from workflow.campaigns.tasks import complete_task
from workflow.definitions.plan import plan_notice
from workflow.definitions.reader import DefinitionError, parse_definition
from workflow.models import CampaignPhase, Task

# a made-up text of 2026: mobilization 4 – 15 May, implementation June – September, a summary
# following it for 20 days; one task of each kind of due
DATED = """
id: dated-plan
version: 1
title: 平安创建（测试用）
roles:
  - {id: office_director, title: 办公室主任}
  - {id: village_head, title: 村负责人, scope: unit}
phases:
  - id: mobilization
    starts: 2026-05-04
    ends: 2026-05-15
    tasks:
      - {id: plan, title: 制定计划, assignee: village_head, per: unit, due: 14d}
      - {id: meeting, title: 召开动员会, assignee: office_director, due: -5d}
      - {id: report, title: 上报方案, assignee: office_director, due: -2wd}
  - id: implementation
    starts: 2026-06-01
    ends: 2026-09-30
    tasks:
      - {id: register, title: 建立台账, assignee: office_director, due: 2026-06-30}
      - {id: visit, title: 走访, assignee: office_director, due: 5d, due_from: actual}
      - {id: patrol-plan, title: 巡防方案, assignee: office_director, due: 10d}
  - id: summary
    duration: 20d
"""


def windows(sessions, campaign_id: int) -> list[tuple[str, date | None, date | None]]:
    """Each phase's planned window as a person reads it: first and last day."""
    with sessions() as session:
        rows = session.scalars(
            select(CampaignPhase)
            .where(CampaignPhase.campaign_id == campaign_id)
            .order_by(CampaignPhase.position)
        ).all()
        return [
            (
                row.phase_key,
                row.planned_start,
                row.planned_end and date.fromordinal(row.planned_end.toordinal() - 1),
            )
            for row in rows
        ]


def dues(sessions, campaign_id: int, phase: str) -> dict[str, date]:
    with sessions() as session:
        return {
            task.spec_key: task.due_on
            for task in session.scalars(
                select(Task).where(Task.campaign_id == campaign_id, Task.phase_key == phase)
            )
        }


def finish_phase(sessions, campaign_id: int, phase: str, clock) -> None:
    with sessions.begin() as session:
        for task in session.scalars(
            select(Task).where(Task.campaign_id == campaign_id, Task.phase_key == phase)
        ):
            complete_task(session, task.id, by=OPERATOR, clock=clock)


def advance(sessions, campaign_id: int, clock, calendar, day: date) -> None:
    clock.instant = shanghai(day.year, day.month, day.day, 10).astimezone(clock.instant.tzinfo)
    with sessions.begin() as session:
        advance_campaign(session, campaign_id, by=OPERATOR, clock=clock, calendar=calendar)


@pytest.fixture
def dated():  # type: ignore[no-untyped-def]
    return parse_definition(DATED, "dated.yaml")


def test_14d_from_1_may_is_due_on_15_may_as_the_civil_code_counts(sessions, town, clock, calendar):
    """民法典 第二百零一条: the day counted from is not one of the 14 (README, "Counting Nd")."""
    campaign_id = start(sessions, parse_definition(RAILWAY, "r.yaml"), clock, calendar)

    assert dues(sessions, campaign_id, "mobilization")["plan"] == date(2026, 5, 15)
    # the phase's 30d is its length instead: 1 – 30 May
    assert windows(sessions, campaign_id)[0] == (
        "mobilization",
        date(2026, 5, 1),
        date(2026, 5, 30),
    )


def test_the_texts_dates_make_the_plan_and_each_kind_of_due_falls_on_its_day(
    sessions, town, clock, calendar, dated
):
    campaign_id = start(sessions, dated, clock, calendar, starts=date(2026, 5, 4))

    assert windows(sessions, campaign_id) == [
        ("mobilization", date(2026, 5, 4), date(2026, 5, 15)),
        ("implementation", date(2026, 6, 1), date(2026, 9, 30)),
        ("summary", date(2026, 10, 1), date(2026, 10, 20)),  # follows for its 20 days
    ]
    assert dues(sessions, campaign_id, "mobilization") == {
        "plan": date(2026, 5, 18),  # 14d after 4 May, past the phase's last day: as written
        "meeting": date(2026, 5, 10),  # 5 days before the phase's last day, 15 May
        "report": date(2026, 5, 13),  # 2 working days before Friday 15 May
    }


def test_a_late_advance_keeps_the_planned_dues_and_due_from_actual_counts_from_entry(
    sessions, town, clock, calendar, dated
):
    campaign_id = start(sessions, dated, clock, calendar, starts=date(2026, 5, 4))
    finish_phase(sessions, campaign_id, "mobilization", clock)

    advance(sessions, campaign_id, clock, calendar, date(2026, 6, 4))  # four days late

    assert dues(sessions, campaign_id, "implementation") == {
        "register": date(2026, 6, 30),  # the text's date
        "patrol-plan": date(2026, 6, 11),  # 10d from the planned 1 June, not from 4 June
        "visit": date(2026, 6, 9),  # due_from: actual: 5d from 4 June
    }
    assert windows(sessions, campaign_id)[1] == (
        "implementation",
        date(2026, 6, 1),
        date(2026, 9, 30),
    ), "the plan does not move"


def test_an_early_advance_does_not_shorten_anybodys_time(sessions, town, clock, calendar, dated):
    campaign_id = start(sessions, dated, clock, calendar, starts=date(2026, 5, 4))
    finish_phase(sessions, campaign_id, "mobilization", clock)

    advance(sessions, campaign_id, clock, calendar, date(2026, 5, 12))

    assert dues(sessions, campaign_id, "implementation")["patrol-plan"] == date(2026, 6, 11)


def test_started_late_within_the_first_phase_the_texts_dates_stand_and_it_is_said(
    sessions, town, clock, calendar, dated
):
    campaign_id = start(sessions, dated, clock, calendar, starts=date(2026, 5, 7))

    assert windows(sessions, campaign_id)[0] == (
        "mobilization",
        date(2026, 5, 4),
        date(2026, 5, 15),
    )
    assert plan_notice(dated, date(2026, 5, 7)).describe() == (
        "started on 2026-05-07, after the text's first day 2026-05-04: the text's dates stand "
        "(mobilization 2026-05-04 – 2026-05-15; implementation 2026-06-01 – 2026-09-30)"
    )
    assert plan_notice(dated, date(2026, 5, 4)) is None, "on the text's day there is nothing to say"


def test_started_on_another_day_the_whole_plan_moves_and_the_texts_dates_are_named(
    sessions, town, clock, calendar, dated
):
    campaign_id = start(sessions, dated, clock, calendar, starts=date(2026, 5, 25))

    assert windows(sessions, campaign_id) == [
        ("mobilization", date(2026, 5, 25), date(2026, 6, 5)),
        ("implementation", date(2026, 6, 22), date(2026, 10, 21)),
        ("summary", date(2026, 10, 22), date(2026, 11, 10)),
    ]
    assert plan_notice(dated, date(2026, 5, 25)).describe() == (
        "the text's dates are mobilization 2026-05-04 – 2026-05-15; implementation 2026-06-01 – "
        "2026-09-30; started on 2026-05-25, every date of the plan moves by 21 day(s)"
    )
    finish_phase(sessions, campaign_id, "mobilization", clock)
    advance(sessions, campaign_id, clock, calendar, date(2026, 6, 22))
    assert dues(sessions, campaign_id, "implementation")["register"] == date(2026, 7, 21)


@pytest.mark.parametrize(
    "change, problem",
    [
        (
            ("ends: 2026-05-15", "ends: 2026-05-01"),
            "dated.yaml:11: phases[0].ends: the phase ends (2026-05-01) before it starts "
            "(2026-05-04)",
        ),
        (
            ("starts: 2026-06-01", "starts: 2026-05-10"),
            "dated.yaml:17: phases[1].starts: the phase starts (2026-05-10) before the one "
            "before it ends (2026-05-15)",
        ),
        (
            ("starts: 2026-05-04", "starts: 2026-02-30"),
            "dated.yaml:10: phases[0].starts: bad date '2026-02-30': there is no such day",
        ),
        (
            ("due: 2026-06-30", "due: 2026-13-01"),
            "dated.yaml:20: phases[1].tasks[0].due: bad date '2026-13-01': there is no such day",
        ),
        (
            ("    starts: 2026-05-04\n    ends: 2026-05-15\n", ""),
            "dated.yaml:9: phases[0].id: later phases carry the text's dates: give the first "
            "phase its 'starts' too",
        ),
        (
            (
                "    duration: 20d\n",
                "    tasks:\n      - {id: close, title: 总结, "
                "assignee: office_director, due: -3d}\n",
            ),
            "dated.yaml:25: phases[2].tasks[0].due: '-3d' counts back from the phase's end, but "
            "the phase has no planned end: give it 'ends' or 'duration'",
        ),
    ],
)
def test_the_texts_dates_are_checked_with_their_line(change, problem):
    with pytest.raises(DefinitionError) as refused:
        parse_definition(DATED.replace(*change), "dated.yaml")
    assert problem in [str(p) for p in refused.value.problems]
    assert len(refused.value.problems) == (3 if "first phase" in problem else 1)
