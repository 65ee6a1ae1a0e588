"""Campaigns at every level: a county's campaign cascades to its towns and their villages, the
levels are bound by phase, escalations climb, and each level reads only what is below it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.support.actions import OPERATOR, actor, sweep
from tests.support.clock import shanghai
from tests.support.levels import COUNTY_ORG, start_county, write_level_definitions
from workflow.access import Need, campaign_for
from workflow.audit import Actor
from workflow.campaigns.lifecycle import advance_campaign, start_late_child
from workflow.campaigns.tasks import complete_task
from workflow.clock import FixedClock
from workflow.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    StartRefused,
    TransitionRefused,
)
from workflow.hazards.rectifications import HazardReport, register_hazard
from workflow.models import AuditEvent, Campaign, Escalation, Person, RoleBinding, Task, Unit
from workflow.organisation.directory import import_organisation, person_by_email
from workflow.organisation.org_file import parse_organisation

CLOCK = FixedClock(shanghai(2026, 5, 4, 9))


@pytest.fixture
def folders(tmp_path: Path) -> list[Path]:
    """The town's and the village's definitions, as shipped files."""
    return write_level_definitions(tmp_path / "definitions")


@pytest.fixture
def county(sessions, calendar, folders) -> int:  # type: ignore[no-untyped-def]
    """The county's campaign, started 2026-05-04: its towns' and villages' started with it."""
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(COUNTY_ORG, "org.yaml"))
    with sessions.begin() as session:
        return start_county(session, CLOCK, calendar, folders)


def campaign_of(sessions, unit_code: str) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(
            select(Campaign.id)
            .join(Unit, Unit.id == Campaign.unit_id)
            .where(Unit.code == unit_code)
        )


def finish(sessions, calendar, unit_code: str, phase: str) -> None:  # type: ignore[no-untyped-def]
    """The unit's campaign's tasks of ``phase`` checked off by their assignees."""
    campaign_id = campaign_of(sessions, unit_code)
    with sessions() as session:
        tasks = session.execute(
            select(Task.id, Task.assignee_id).where(
                Task.campaign_id == campaign_id, Task.phase_key == phase
            )
        ).all()
    for task_id, assignee_id in tasks:
        with sessions.begin() as session:
            by = Actor.person(session.get(Person, assignee_id))
            complete_task(session, task_id, by=by, clock=CLOCK)


def advance(sessions, calendar, unit_code: str, by=OPERATOR):  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        return advance_campaign(
            session, campaign_of(sessions, unit_code), by=by, clock=CLOCK, calendar=calendar
        )


def test_a_three_level_cascade_starts_each_campaign_with_its_own_leading_group(sessions, county):
    with sessions() as session:
        rows = session.execute(
            select(Unit.code, Campaign.title, Campaign.state, Campaign.parent_id, Campaign.id)
            .join(Unit, Unit.id == Campaign.unit_id)
            .order_by(Campaign.id)
        ).all()
        by_unit = {code: (title, state, parent) for code, title, state, parent, _id in rows}
        ids = {code: cid for code, *_rest, cid in rows}
        assert set(by_unit) == {"county", "east-town", "west-town", "e1", "e2", "w1"}
        assert by_unit["county"][2] is None
        assert by_unit["east-town"] == ("东风镇平安铁路创建活动", "mobilization", ids["county"])
        assert by_unit["e2"][2] == ids["east-town"] and by_unit["w1"][2] == ids["west-town"]

        # each campaign's office director is the one of its own unit (谁主管谁负责 at each level)
        offices = dict(
            session.execute(
                select(Unit.code, RoleBinding.person_id)
                .join(Campaign, Campaign.id == RoleBinding.campaign_id)
                .join(Unit, Unit.id == Campaign.unit_id)
                .where(RoleBinding.role == "office_director")
            ).all()
        )
        assert offices["e1"] == person_by_email(session, "e1-office@example.org").id
        assert offices["west-town"] == person_by_email(session, "west-office@example.org").id
        # and its own tasks land on them
        plan = session.scalar(select(Task).where(Task.campaign_id == ids["e1"]))
        assert plan.title == "制定实施方案" and plan.assignee_id == offices["e1"]
        notes = session.scalars(
            select(AuditEvent.note).where(
                AuditEvent.event == "start", AuditEvent.campaign_id == ids["e1"]
            )
        ).all()
        assert notes == [
            f"lv-village v1 for e1; cascaded from campaign {ids['east-town']}; 1 tasks created"
        ]


def test_a_cascade_that_cannot_start_everywhere_starts_nowhere(sessions, calendar, folders):
    with sessions.begin() as session:
        # 西一村 has nobody for its office director
        import_organisation(
            session,
            parse_organisation(
                COUNTY_ORG.replace(
                    "  - {email: w1-office@example.org, name: 西一村治保主任, unit: w1, roles: [office_director]}\n",
                    "",
                ),
                "org.yaml",
            ),
        )
    with pytest.raises(StartRefused) as refused, sessions.begin() as session:
        start_county(session, CLOCK, calendar, folders)
    assert "role 'office_director' has nobody in unit 'w1' (西一村)" in str(refused.value)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_cascade_to_a_definition_nobody_has_is_refused_at_the_top(sessions, calendar, tmp_path):
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(COUNTY_ORG, "org.yaml"))
    with pytest.raises(InvalidInput) as refused, sessions.begin() as session:
        start_county(session, CLOCK, calendar, [tmp_path])
    assert str(refused.value) == (
        "definition 'lv-county' cascades to 'lv-town', which is neither stored nor shipped"
    )
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_the_levels_move_through_their_phases_in_order(sessions, calendar, county):
    finish(sessions, calendar, "e1", "mobilization")
    # a village may not enter a phase its town has not entered
    with pytest.raises(TransitionRefused) as refused:
        advance(sessions, calendar, "e1")
    town = campaign_of(sessions, "east-town")
    assert str(refused.value) == (
        "cannot enter phase 'implementation' before the campaign above it: campaign "
        f"{town} (东风镇平安铁路创建活动) has not entered it yet"
    )

    # the county may not leave a phase while a town is blocked in it, and says which and why
    for unit in ("county", "east-town", "west-town", "w1"):
        finish(sessions, calendar, unit, "mobilization")
    with pytest.raises(TransitionRefused) as refused:
        advance(sessions, calendar, "county")
    assert str(refused.value) == (
        "cannot leave phase 'mobilization': 1 sub-unit campaign(s) not done with it: 东风镇 (1)"
    )
    assert [(b.kind, b.id, b.unit, b.open_items) for b in refused.value.blockers] == [
        ("campaign", town, "东风镇", 1)
    ]
    # the town is blocked by its village 东二村, which its own refusal names
    with pytest.raises(TransitionRefused) as refused:
        advance(sessions, calendar, "east-town")
    assert "东二村 (1)" in str(refused.value)

    finish(sessions, calendar, "e2", "mobilization")
    assert advance(sessions, calendar, "county").to_state == "implementation"
    # a town behind its county is named as behind, by its phase
    finish(sessions, calendar, "county", "implementation")
    with pytest.raises(TransitionRefused) as refused:
        advance(sessions, calendar, "county")
    assert "东风镇 (mobilization); 西岭镇 (mobilization)" in str(refused.value)

    assert advance(sessions, calendar, "east-town").to_state == "implementation"
    assert advance(sessions, calendar, "e1").to_state == "implementation"


def test_a_village_rectification_climbs_to_the_town_then_the_county_exactly_once_each(
    sessions, calendar, county, smtp
):
    village = campaign_of(sessions, "e1")
    with sessions.begin() as session:
        register_hazard(
            session,
            village,
            HazardReport(
                "护路段护栏损坏", responsible="e1-patrol@example.org", deadline=date(2026, 5, 11)
            ),
            by=OPERATOR,
            clock=CLOCK,
            calendar=calendar,
            base_url="http://pingan.test",
        )
    sweep(sessions, shanghai(2026, 5, 4, 9, 1))  # the registration mail to the patrol
    smtp.messages.clear()
    timeline = [
        (shanghai(2026, 5, 12, 8), ["e1-office@example.org", "e1-patrol@example.org"]),
        (shanghai(2026, 5, 15, 23), []),  # the 4th working day past the deadline
        (shanghai(2026, 5, 18, 8), ["east-office@example.org"]),  # the 5th: the town office
        (shanghai(2026, 5, 22, 23), []),
        (shanghai(2026, 5, 25, 8), ["county-office@example.org"]),  # the 10th: the county's
        (shanghai(2026, 6, 30, 8), []),  # never again
    ]
    for when, expected in timeline:
        before = len(smtp.messages)
        sweep(sessions, when)
        arrived = sorted(r for m in smtp.messages[before:] for r in m["to"])
        assert arrived == expected, when
    with sessions() as session:
        levels = session.execute(
            select(Escalation.level, Escalation.recipients).order_by(Escalation.level)
        ).all()
    assert levels == [
        (1, "e1-patrol@example.org,e1-office@example.org"),
        (2, "east-office@example.org"),
        (3, "county-office@example.org"),
    ]


def test_each_level_reads_what_is_below_it_and_acts_only_where_it_holds_a_role(
    sessions, calendar, county
):
    e1, w1 = campaign_of(sessions, "e1"), campaign_of(sessions, "w1")
    east, west = campaign_of(sessions, "east-town"), campaign_of(sessions, "west-town")
    county_office = actor(sessions, "county-office@example.org")
    east_office = actor(sessions, "east-office@example.org")
    e1_head = actor(sessions, "e1-head@example.org")
    with sessions() as session:
        # the county office reads every campaign below it, the whole register included
        assert campaign_for(session, e1, county_office, Need.LEADING_GROUP).id == e1
        # the town office reads its own villages, not the other town's
        assert campaign_for(session, e1, east_office, Need.LEADING_GROUP).id == e1
        with pytest.raises(NotFound):
            campaign_for(session, w1, east_office, Need.OWN_ITEMS)
        # a village head sees nothing of the neighbouring town, nor of the campaigns above
        for other in (w1, east, west, county):
            with pytest.raises(NotFound):
                campaign_for(session, other, e1_head, Need.OWN_ITEMS)
    # reading is not acting: advancing a village's campaign needs a role in it
    finish(sessions, calendar, "e1", "mobilization")
    with pytest.raises(Forbidden):
        advance(sessions, calendar, "e1", by=county_office)


def test_a_town_that_joins_late_starts_its_campaign_audited(sessions, calendar, county):
    with sessions.begin() as session:
        east_town = session.scalar(select(Unit).where(Unit.code == "east-town"))
        session.add(Unit(code="e3", name="东三村", parent_id=east_town.id))
    with sessions.begin() as session:
        import_organisation(
            session,
            parse_organisation(
                COUNTY_ORG.replace(
                    "          - {id: e2, name: 东二村}\n",
                    "          - {id: e2, name: 东二村}\n          - {id: e3, name: 东三村}\n",
                )
                + "  - {email: e3-head@example.org, name: 东三村书记, unit: e3, roles: [leader]}\n"
                "  - {email: e3-office@example.org, name: 东三村治保主任, unit: e3, roles: [office_director]}\n",
                "org.yaml",
            ),
        )
    east = campaign_of(sessions, "east-town")
    by = actor(sessions, "east-office@example.org")
    with sessions.begin() as session:
        child = start_late_child(session, east, "e3", by=by, clock=CLOCK, calendar=calendar)
        child_id = child.id
    with sessions() as session:
        assert session.get(Campaign, child_id).parent_id == east
        events = session.execute(
            select(AuditEvent.campaign_id, AuditEvent.event, AuditEvent.note).where(
                AuditEvent.event.in_(["late child", "start"]),
                AuditEvent.campaign_id.in_([east, child_id]),
            )
        ).all()
    assert (east, "late child", f"campaign {child_id} started late for e3") in events
    assert (
        child_id,
        "start",
        f"lv-village v1 for e3; started late under campaign {east}; 1 tasks created",
    ) in events
    with pytest.raises(Conflict), sessions.begin() as session:
        start_late_child(session, east, "e3", by=by, clock=CLOCK, calendar=calendar)
    with pytest.raises(InvalidInput), sessions.begin() as session:
        start_late_child(session, east, "w1", by=by, clock=CLOCK, calendar=calendar)


def test_the_roll_up_of_each_town_is_its_own_figures_plus_its_villages(sessions, calendar, county):
    from workflow.assessment.unit_counts import count_units
    from workflow.hazards.rectifications import submit_rectification, verify_rectification
    from workflow.views.levels import sub_campaigns
    from workflow.views.report import build_report

    registered = {}
    for unit, responsible in (("e1", "e1-patrol@example.org"), ("w1", "w1-office@example.org")):
        for description in ("护栏损坏", "警示牌缺失"):
            with sessions.begin() as session:
                registered[(unit, description)] = register_hazard(
                    session,
                    campaign_of(sessions, unit),
                    HazardReport(description, responsible=responsible, deadline=date(2026, 5, 8)),
                    by=OPERATOR,
                    clock=CLOCK,
                    calendar=calendar,
                    base_url="http://pingan.test",
                ).id
    fixed = registered[("e1", "护栏损坏")]
    with sessions.begin() as session:
        submit_rectification(
            session,
            fixed,
            by=actor(sessions, "e1-patrol@example.org"),
            clock=CLOCK,
            note="已修复",
        )
    with sessions.begin() as session:
        verify_rectification(
            session, fixed, by=actor(sessions, "e1-office@example.org"), clock=CLOCK
        )
    later = FixedClock(shanghai(2026, 5, 20, 9))
    with sessions() as session:
        rolled = sub_campaigns(
            session,
            county,
            by=actor(sessions, "county-office@example.org"),
            clock=later,
            calendar=calendar,
        )
        own = {
            c.unit.code: count_units(session, c, [], later.now(), levels_below=False).total
            for c in session.scalars(select(Campaign))
        }
    rows = {row.unit: row.figures for row in rolled.rows}
    assert list(rows) == ["东风镇", "西岭镇"]
    east, west = rows["东风镇"], rows["西岭镇"]
    for figures, units in ((east, ("east-town", "e1", "e2")), (west, ("west-town", "w1"))):
        assert figures.campaigns == len(units)
        assert figures.counts.rectifications == sum(own[u].rectifications for u in units)
        assert figures.counts.tasks == sum(own[u].tasks for u in units)
    assert (east.counts.rectifications, east.counts.rectifications_closed) == (2, 1)
    assert east.rectification_rate == 50.0 and east.on_time_rate == 50.0
    assert (
        east.counts.rectifications_overdue_open == 1
        and west.counts.rectifications_overdue_open == 2
    )
    assert east.colour == west.colour == "red"
    assert rolled.total.counts.rectifications == 4
    assert rolled.total.rectification_rate == 25.0
    assert rolled.total.counts.rectifications_overdue_open == 3
    assert rolled.total.campaigns == 5

    # the county's report counts each town with its villages as that town's own, and in its rates
    with sessions() as session:
        report = build_report(
            session, county, by=actor(sessions, "county-office@example.org"), clock=later
        )
    units = {row["name"]: row for row in report.units}
    assert (units["东风镇"]["rectifications"], units["东风镇"]["rectification_rate"]) == (2, 50.0)
    assert (units["西岭镇"]["rectifications"], units["西岭镇"]["overdue_open"]) == (2, 2)
    rates = report.rectifications
    assert (rates["total"], rates["closed"], rates["rectification_rate"]) == (4, 1, 25.0)
    assert rates["overdue_open"] == 3
    assert [row["campaign_unit"] for row in report.ledger] == [
        "东一村",
        "东一村",
        "西一村",
        "西一村",
    ]
    # and assesses each town on its own results: 东一村's late fix costs 东风镇, 西一村's two 西岭镇
    deducted = {row["name"]: row for row in report.assessment["units"]}
    assert [d["times"] for d in deducted["东风镇"]["deductions"]] == [1]
    assert [d["times"] for d in deducted["西岭镇"]["deductions"]] == [2]


def test_a_county_target_counts_the_incidents_of_its_towns_and_villages(sessions, calendar, county):
    from workflow.assessment.incidents import IncidentReport, record_incident
    from workflow.assessment.targets import target_status

    with sessions.begin() as session:
        record_incident(
            session,
            campaign_of(sessions, "e2"),
            IncidentReport("train-accident", "e2", date(2026, 6, 2), "行人横穿铁路被撞"),
            by=OPERATOR,
            clock=FixedClock(shanghai(2026, 6, 3, 9)),
            base_url="http://pingan.test",
        )
    later = FixedClock(shanghai(2026, 6, 10, 9))
    county_office, east_office = (
        actor(sessions, "county-office@example.org"),
        actor(sessions, "east-office@example.org"),
    )
    east = campaign_of(sessions, "east-town")
    with sessions() as session:
        names = dict(session.execute(select(Unit.id, Unit.name)).all())
        county_results = target_status(session, county, by=county_office, clock=later)
        town_results = target_status(session, east, by=east_office, clock=later)
    # 东二村's accident is 东风镇's in the county's target, by year; 西岭镇 met it
    assert {names[r.unit_id]: (r.met, r.actual) for r in county_results} == {
        "东风镇": (False, 1),
        "西岭镇": (True, 0),
    }
    assert {names[r.unit_id]: r.met for r in town_results} == {"东一村": True, "东二村": False}


def test_a_level_that_notifies_a_role_its_parent_lacks_is_refused_at_the_start(
    sessions, calendar, tmp_path
):
    from tests.support.levels import TOWN, VILLAGE

    folder = tmp_path / "definitions"
    folder.mkdir()
    (folder / "town.yaml").write_text(
        TOWN.replace("notify: [parent.office_director]", "notify: [parent.deputy]"),
        encoding="utf-8",
    )
    (folder / "village.yaml").write_text(VILLAGE, encoding="utf-8")
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(COUNTY_ORG, "org.yaml"))
    with pytest.raises(StartRefused) as refused, sessions.begin() as session:
        start_county(session, CLOCK, calendar, [folder])
    assert "escalation notifies 'parent.deputy', a role campaign" in str(refused.value)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0
