"""The inbox (engine and GET /api/v1/inbox) and the leader's standing, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.support.actions import OPERATOR, person_id
from tests.support.api import register
from tests.support.clock import shanghai
from workflow.audit import Actor
from workflow.calendar import import_calendar
from workflow.calendar_files import CalendarFile
from workflow.campaigns.lifecycle import advance_campaign
from workflow.campaigns.tasks import complete_task
from workflow.clock import FixedClock
from workflow.errors import NotFound
from workflow.escalation.sweep import run_sweep
from workflow.models import Task
from workflow.people.stand_ins import name_stand_in
from workflow.views.inbox import done_page, inbox_page
from workflow.views.standing import campaign_standing, escalated_to
from workflow.worklists.filters import WorkFilter


def inbox_of(sessions, email, when, calendar):
    who = person_id(sessions, email)
    with sessions() as session:
        return inbox_page(
            session, who, WorkFilter(), clock=FixedClock(when), calendar=calendar
        ).inbox


def shown(found):
    return {
        group: [(item.kind, item.title, item.due_on) for item in getattr(found, group)]
        for group in ("overdue", "soon", "later")
    }


def test_a_new_campaign_puts_each_village_head_s_plan_and_banner_in_their_inbox(
    sessions, campaign, calendar
):
    found = inbox_of(sessions, "east@example.org", shanghai(2026, 5, 1, 9), calendar)

    assert shown(found) == {
        "overdue": [],
        "soon": [],
        "later": [("task", "制定创建活动计划", date(2026, 5, 15)), ("task", "悬挂宣传标语", None)],
    }
    plan = found.later[0]
    assert (plan.campaign_id, plan.campaign_title, plan.phase, plan.phase_title, plan.unit) == (
        campaign,
        "平安铁路创建活动",
        "mobilization",
        "宣传发动阶段",
        "东村",
    )
    assert plan.from_previous_phase is False


def test_items_are_grouped_overdue_due_within_three_working_days_and_later(
    as_person, sessions, campaign, calendar
):
    # deadline 2026-05-08 (3 working days after the Labour Day holiday)
    register(as_person, campaign)

    # on 5-12 the hazard is 4 days late, 3 working days (5-09 is a Saturday made a workday, 调休);
    # the plan, due 5-15, is the third working day from 5-12: due soon
    found = inbox_of(sessions, "east@example.org", shanghai(2026, 5, 12, 9), calendar)

    assert shown(found) == {
        "overdue": [("rectification", "道口护栏损坏", date(2026, 5, 8))],
        "soon": [("task", "制定创建活动计划", date(2026, 5, 15))],
        "later": [("task", "悬挂宣传标语", None)],
    }
    hazard = found.overdue[0]
    assert (hazard.days_late, hazard.working_days_late, hazard.site, hazard.severity) == (
        4,
        3,
        "3号道口",
        "minor",
    )
    assert [item.group for item in found.items()] == ["overdue", "soon", "later"]


def test_a_task_checked_off_leaves_the_inbox_and_is_listed_as_done(
    sessions, campaign, clock, calendar
):
    east = person_id(sessions, "east@example.org")
    plan = inbox_of(sessions, "east@example.org", clock.now(), calendar).later[0]
    with sessions.begin() as session:
        complete_task(
            session, plan.id, by=Actor("east@example.org", east), clock=clock, note="计划已上报"
        )

    assert [
        item.title for item in inbox_of(sessions, "east@example.org", clock.now(), calendar).items()
    ] == ["悬挂宣传标语"]
    with sessions() as session:
        done = done_page(session, east, WorkFilter(), clock=clock, calendar=calendar).items
    assert [(d.kind, d.id, d.state, d.note) for d in done] == [
        ("task", plan.id, "done", "计划已上报")
    ]


def test_work_left_from_the_previous_phase_says_so(sessions, campaign, clock, calendar):
    with sessions.begin() as session:
        for task in session.scalars(
            select(Task).where(Task.campaign_id == campaign, Task.required.is_(True))
        ):
            complete_task(session, task.id, by=OPERATOR, clock=clock)
        advance_campaign(session, campaign, by=OPERATOR, clock=clock, calendar=calendar)

    found = inbox_of(sessions, "east@example.org", clock.now(), calendar)

    by_title = {item.title: item for item in found.items()}
    assert by_title["悬挂宣传标语"].from_previous_phase is True
    assert by_title["悬挂宣传标语"].phase_title == "宣传发动阶段"
    assert by_title["制定巡防方案"].from_previous_phase is False


def test_nobody_sees_another_person_s_work(sessions, campaign, calendar):
    assert inbox_of(sessions, "keeper@example.org", shanghai(2026, 5, 12), calendar).items() == []
    west = inbox_of(sessions, "west@example.org", shanghai(2026, 5, 12), calendar)
    assert {item.unit for item in west.items()} == {"西村"}


def test_the_standing_colours_each_unit_with_the_counts_behind_it(
    as_person, sessions, campaign, calendar
):
    register(as_person, campaign)  # east's hazard, due 5-08
    leader = Actor("leader@example.org", person_id(sessions, "leader@example.org"))
    east = Actor("east@example.org", person_id(sessions, "east@example.org"))
    with sessions() as session:
        standing = campaign_standing(
            session,
            campaign,
            by=leader,
            clock=FixedClock(shanghai(2026, 5, 12, 9)),
            calendar=calendar,
        )
        units = {
            u.name: (u.colour, u.overdue, u.due_soon, u.open, u.settled) for u in standing.units
        }
        # the town's own task (the meeting, due 5-08) is overdue; each village's plan (5-15) is due soon
        assert units == {
            "铁路镇": ("red", 1, 0, 1, 0),
            "东村": ("red", 1, 1, 3, 0),
            "西村": ("amber", 0, 1, 2, 0),
        }
        assert (standing.count("red"), standing.count("amber"), standing.count("green")) == (
            2,
            1,
            0,
        )

        with pytest.raises(NotFound):
            campaign_standing(
                session,
                campaign,
                by=east,
                clock=FixedClock(shanghai(2026, 5, 12, 9)),
                calendar=calendar,
            )


def test_a_leader_sees_what_was_escalated_to_them_by_level_and_age(
    as_person, sessions, campaign, calendar
):
    rect = register(as_person, campaign)
    for when in (shanghai(2026, 5, 9, 9), shanghai(2026, 5, 13, 9)):
        run_sweep(sessions, clock=FixedClock(when), mailer=None, base_url="http://pingan.test")

    ids = {
        email: person_id(sessions, f"{email}@example.org") for email in ("deputy", "office", "east")
    }
    with sessions() as session:
        deputy, office, east = (
            escalated_to(
                session, ids[who], clock=FixedClock(shanghai(2026, 5, 15, 9)), calendar=calendar
            )
            for who in ("deputy", "office", "east")
        )

    assert list(deputy.levels) == [2]
    item = next(i for i in deputy.levels[2] if i.kind == "rectification")
    assert (item.id, item.title, item.colour, item.deadline, item.days_since) == (
        rect["id"],
        "道口护栏损坏",
        "red",
        date(2026, 5, 8),
        2,
    )
    assert 1 in office.levels and all(i.level == 1 for i in office.levels[1])
    assert len(east) >= 1, "the responsible person is on level 1 too"


# --- GET /api/v1/inbox --------------------------------------------------------------------------


def test_the_api_inbox_lists_my_work_soonest_due_first(as_person, campaign, clock):
    register(as_person, campaign)
    clock.instant = shanghai(2026, 5, 12, 9)

    answer = as_person("east@example.org").get("/inbox")

    assert answer.status_code == 200
    assert answer.json["counts"] == {"overdue": 1, "soon": 1, "later": 1}
    items = answer.json["items"]
    assert [(i["kind"], i["group"], i["due_on"]) for i in items] == [
        ("rectification", "overdue", "2026-05-08"),
        ("task", "soon", "2026-05-15"),
        ("task", "later", None),
    ]
    first = items[0]
    assert (first["days_late"], first["working_days_late"], first["site"], first["unit"]) == (
        4,
        3,
        "3号道口",
        "东村",
    )
    assert first["campaign"] == {"id": campaign, "title": "平安铁路创建活动"}
    assert first["phase"] == {
        "id": "mobilization",
        "title": "宣传发动阶段",
        "title_en": None,
        "from_previous_phase": False,
    }
    assert first["link"] == f"http://pingan.test/rectifications/{first['id']}"


def test_the_api_inbox_of_someone_with_no_work_is_empty(as_person, campaign):
    answer = as_person("keeper@example.org").get("/inbox")
    assert answer.json == {
        "counts": {"overdue": 0, "soon": 0, "later": 0},
        "count": 0,
        "count_capped": False,
        "next_after": None,
        "items": [],
    }


def test_a_stand_in_s_api_inbox_lists_the_absent_person_s_work_during_the_range_only(
    as_person, campaign, sessions, clock
):
    """The API reads today's stand-ins with the token (one statement): they count as in the pages."""
    hazard = register(as_person, campaign)
    west = as_person("west@example.org")
    with sessions.begin() as session:
        name_stand_in(
            session,
            person_id(sessions, "east@example.org"),
            person_id(sessions, "west@example.org"),
            date(2026, 5, 12),
            date(2026, 5, 13),
            by=OPERATOR,
            clock=clock,
        )

    def listed(when) -> set[tuple[str, int]]:  # type: ignore[no-untyped-def]
        clock.instant = when
        answer = west.get("/inbox")
        assert answer.status_code == 200
        return {(item["kind"], item["id"]) for item in answer.json["items"]}

    assert ("rectification", hazard["id"]) not in listed(shanghai(2026, 5, 11, 23, 59))
    assert ("rectification", hazard["id"]) in listed(shanghai(2026, 5, 12, 0, 1))
    assert ("rectification", hazard["id"]) in listed(shanghai(2026, 5, 13, 18))
    assert ("rectification", hazard["id"]) not in listed(shanghai(2026, 5, 14, 0, 1))


def test_a_year_imported_between_two_api_requests_counts_from_the_next_one(
    as_person, campaign, sessions, clock
):
    """The token's look-up carries the calendar's imports: a year imported meanwhile is used at
    once, in every worker, with no restart."""
    register(as_person, campaign)
    clock.instant = shanghai(2026, 5, 12, 9)
    east = as_person("east@example.org")

    def working_days_late() -> int:
        answer = east.get("/inbox")
        assert answer.status_code == 200
        return answer.json["items"][0]["working_days_late"]

    assert working_days_late() == 3, "Sat 9 May 2026 is a workday (调休 for May Day)"
    with sessions.begin() as session:  # 2026 entered by hand with no adjusted day: Monday–Friday
        import_calendar(session, CalendarFile("2026.csv", 2026, ()), by=OPERATOR, now=clock.now())
    assert working_days_late() == 2, "9 May is a Saturday off now: 11 and 12 May are left"
