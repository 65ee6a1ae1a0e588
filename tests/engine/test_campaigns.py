"""Campaigns through the engine's use cases, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from tests.support.actions import OPERATOR, start
from tests.support.clock import shanghai
from tests.support.databases import row_counts
from tests.support.texts import RAILWAY, RAILWAY_FILE, TOWN, TOWN_FILE
from workflow.audit import Actor, trail
from workflow.campaigns.lifecycle import advance_campaign, start_campaign
from workflow.campaigns.tasks import complete_task, reject_task, verify_task
from workflow.definitions.reader import load_definition_file, parse_definition
from workflow.errors import Conflict, Forbidden, NotFound, StartRefused, TransitionRefused
from workflow.models import Campaign, CampaignPhase, RoleBinding, Task, Unit
from workflow.organisation.directory import import_organisation, person_by_email
from workflow.organisation.org_file import load_organisation_file, parse_organisation
from workflow.views.progress import campaign_status


def tasks_of(sessions, campaign_id, phase=None):
    with sessions() as session:
        query = select(Task).where(Task.campaign_id == campaign_id).order_by(Task.id)
        if phase:
            query = query.where(Task.phase_key == phase)
        return [
            (t.spec_key, t.unit.code if t.unit else None, t.assignee.email, t.state, t.due_on)
            for t in session.scalars(query)
        ]


def test_start_creates_one_plan_task_per_village_assigned_to_its_head(
    sessions, town, railway, clock, calendar
):
    campaign_id = start(sessions, railway, clock, calendar)

    tasks = tasks_of(sessions, campaign_id, "mobilization")
    plans = sorted((unit, who, due) for spec, unit, who, _, due in tasks if spec == "plan")
    assert plans == [
        ("east-village", "east@example.org", date(2026, 5, 15)),
        ("north-village", "north@example.org", date(2026, 5, 15)),
        ("west-village", "west@example.org", date(2026, 5, 15)),
    ]
    meeting = [(unit, who, due) for spec, unit, who, _, due in tasks if spec == "meeting"]
    assert meeting == [(None, "office@example.org", date(2026, 5, 8))]
    assert len(tasks) == 3 + 1 + 3
    assert not tasks_of(sessions, campaign_id, "implementation"), (
        "later phases' tasks wait for their phase"
    )
    with sessions() as session:
        assert session.get(Campaign, campaign_id).state == "mobilization"


def test_phases_are_planned_back_to_back_from_the_start_date(
    sessions, town, railway, clock, calendar
):
    campaign_id = start(sessions, railway, clock, calendar)
    with sessions() as session:
        phases = session.scalars(
            select(CampaignPhase)
            .where(CampaignPhase.campaign_id == campaign_id)
            .order_by(CampaignPhase.position)
        ).all()
        windows = [(p.phase_key, p.planned_start, p.planned_end) for p in phases]
    assert windows == [
        ("mobilization", date(2026, 5, 1), date(2026, 5, 31)),
        ("implementation", date(2026, 5, 31), date(2026, 9, 28)),
        ("inspection", date(2026, 9, 28), date(2026, 10, 28)),
    ]


def test_a_role_nobody_holds_refuses_the_start_and_writes_nothing(
    sessions, railway, clock, calendar
):
    org = TOWN.replace("roles: [village_head]}\n  - {email: north", "roles: []}\n  - {email: north")
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(org, "town.yaml"))
    before = row_counts(sessions)

    with pytest.raises(StartRefused) as refused:
        start(sessions, railway, clock, calendar)

    assert "role 'village_head' has nobody in unit 'west-village' (西村)" in str(refused.value)
    assert row_counts(sessions) == before


def test_a_unit_that_does_not_exist_is_named(sessions, town, railway, clock, calendar):
    with pytest.raises(NotFound, match="no unit 'nowhere'"):
        start(sessions, railway, clock, calendar, unit="nowhere")


def test_advance_is_refused_while_required_tasks_are_open_and_lists_them(
    sessions, town, railway, clock, calendar
):
    campaign_id = start(sessions, railway, clock, calendar)

    with pytest.raises(TransitionRefused) as refused, sessions.begin() as session:
        advance_campaign(session, campaign_id, by=OPERATOR, clock=clock, calendar=calendar)

    blockers = refused.value.blockers
    assert sorted((b.title, b.unit, b.assignee) for b in blockers) == [
        ("制定创建活动计划", "东村", "李村长"),
        ("制定创建活动计划", "北村", "吴村长"),
        ("制定创建活动计划", "西村", "周村长"),
        ("召开动员大会", None, "赵主任"),
    ], "the optional banner tasks do not block"
    with sessions() as session:
        assert session.get(Campaign, campaign_id).state == "mobilization"


def test_advance_is_allowed_once_the_required_work_is_done(
    sessions, town, railway, clock, calendar
):
    campaign_id = start(sessions, railway, clock, calendar)
    complete_required(sessions, campaign_id, "mobilization", clock)
    clock.instant = shanghai(2026, 9, 29, 10, 0).astimezone(clock.instant.tzinfo)

    with sessions.begin() as session:
        move = advance_campaign(session, campaign_id, by=OPERATOR, clock=clock, calendar=calendar)

    assert (move.from_state, move.to_state, move.tasks_created) == (
        "mobilization",
        "implementation",
        3,
    )
    # advanced four months late, the tasks keep their planned due date: 3 working days after
    # the implementation's planned start (30 days after 1 May: Sunday 31 May)
    due = {due for spec, _, _, _, due in tasks_of(sessions, campaign_id, "implementation")}
    assert due == {date(2026, 6, 3)}


def test_a_task_due_from_actual_counts_from_the_day_its_phase_was_entered(
    sessions, town, clock, calendar
):
    counted_from_entry = parse_definition(
        RAILWAY.replace("id: safe-railway-test", "id: safe-railway-actual").replace(
            "due: 3wd}", "due: 3wd, due_from: actual}"
        ),
        "railway.yaml",
    )
    campaign_id = start(sessions, counted_from_entry, clock, calendar)
    complete_required(sessions, campaign_id, "mobilization", clock)
    clock.instant = shanghai(2026, 9, 29, 10, 0).astimezone(clock.instant.tzinfo)

    with sessions.begin() as session:
        advance_campaign(session, campaign_id, by=OPERATOR, clock=clock, calendar=calendar)

    # 3 working days after 2026-09-29 skips China's National Day holiday
    due = {due for spec, _, _, _, due in tasks_of(sessions, campaign_id, "implementation")}
    assert due == {date(2026, 10, 9)}


def test_a_campaign_runs_from_its_first_phase_to_closed(sessions, town, railway, clock, calendar):
    campaign_id = start(sessions, railway, clock, calendar)
    visited = ["mobilization"]
    for _ in range(3):
        with sessions() as session:
            phase = session.get(Campaign, campaign_id).state
        complete_required(sessions, campaign_id, phase, clock)
        with sessions.begin() as session:
            visited.append(
                advance_campaign(
                    session, campaign_id, by=OPERATOR, clock=clock, calendar=calendar
                ).to_state
            )
    assert visited == ["mobilization", "implementation", "inspection", "closed"]
    with pytest.raises(TransitionRefused, match="closed"), sessions.begin() as session:
        advance_campaign(session, campaign_id, by=OPERATOR, clock=clock, calendar=calendar)


def test_every_state_change_is_in_the_audit_trail(sessions, town, railway, clock, calendar):
    campaign_id = start(sessions, railway, clock, calendar)
    with sessions() as session:
        east = Actor.person(person_by_email(session, "east@example.org"))
        office = Actor.person(person_by_email(session, "office@example.org"))
        task_id = session.scalar(
            select(Task.id).where(Task.assignee_id == east.person_id, Task.spec_key == "plan")
        )
    with sessions.begin() as session:
        complete_task(session, task_id, by=east, clock=clock, note="计划已制定")
    with sessions.begin() as session:
        reject_task(session, task_id, by=office, clock=clock, note="缺少责任分工")

    with sessions() as session:
        events = [
            (e.entity, e.event, e.from_state, e.to_state, e.actor, e.note)
            for e in trail(session, campaign_id)
        ]
        at = {e.at for e in trail(session, campaign_id)}
    assert events == [
        ("campaign", "start", "draft", "mobilization", "cli:test", events[0][5]),
        ("task", "complete", "open", "done", "east@example.org", "计划已制定"),
        ("task", "reject", "done", "open", "office@example.org", "缺少责任分工"),
    ]
    assert "7 tasks created" in events[0][5]
    assert at == {clock.now()}


def test_an_assignee_checks_off_only_their_own_task(sessions, town, railway, clock, calendar):
    campaign_id = start(sessions, railway, clock, calendar)
    with sessions() as session:
        west = Actor.person(person_by_email(session, "west@example.org"))
        east_id = person_by_email(session, "east@example.org").id
        task_id = session.scalar(
            select(Task.id).where(Task.assignee_id == east_id, Task.spec_key == "plan")
        )
    with pytest.raises(NotFound), sessions.begin() as session:
        complete_task(session, task_id, by=west, clock=clock)
    assert tasks_of(sessions, campaign_id)[0][3] == "open"


def test_a_check_off_reads_the_definition_s_text_no_more_once_it_was_parsed(
    sessions, engine, town, railway, clock, calendar
):
    """A real definition is 10–15 KB of YAML: a check-off reads the campaign's row and the text's
    hash, and parses the text once per process (catalogue.stored_definition)."""
    start(sessions, railway, clock, calendar)
    with sessions() as session:
        east = Actor.person(person_by_email(session, "east@example.org"))
        first, second = session.scalars(
            select(Task.id).where(Task.assignee_id == east.person_id).order_by(Task.id).limit(2)
        )
    with sessions.begin() as session:
        complete_task(session, first, by=east, clock=clock)
    sent: list[str] = []

    def capture(_conn, _cursor, statement, *_rest):  # type: ignore[no-untyped-def]
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with sessions.begin() as session:
            task = complete_task(session, second, by=east, clock=clock, note="已完成")
            assert task.state == "done"
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert any("definitions" in statement and "content_hash" in statement for statement in sent)
    # joined eagerly, the table is aliased: definitions_1.text
    assert not [
        statement for statement in sent if re.search(r"definitions(_\d+)?\.text", statement)
    ]


def test_only_a_coordinator_rejects_or_verifies(sessions, town, railway, clock, calendar):
    start(sessions, railway, clock, calendar)
    with sessions() as session:
        east = Actor.person(person_by_email(session, "east@example.org"))
        leader = Actor.person(person_by_email(session, "leader@example.org"))
        task_id = session.scalar(
            select(Task.id).where(Task.assignee_id == east.person_id, Task.spec_key == "plan")
        )
    with sessions.begin() as session:
        complete_task(session, task_id, by=east, clock=clock)
    with pytest.raises(Forbidden), sessions.begin() as session:
        verify_task(session, task_id, by=east, clock=clock)
    with sessions.begin() as session:
        assert verify_task(session, task_id, by=leader, clock=clock).state == "verified"


def test_a_move_the_task_machine_does_not_allow_is_refused(
    sessions, town, railway, clock, calendar
):
    campaign_id = start(sessions, railway, clock, calendar)
    task_id = first_task_id(sessions, campaign_id)
    with (
        pytest.raises(TransitionRefused, match="cannot verify task .*: it is open"),
        sessions.begin() as session,
    ):
        verify_task(session, task_id, by=OPERATOR, clock=clock)
    with sessions() as session:
        assert session.get(Task, task_id).state == "open"
        assert len(trail(session, campaign_id)) == 1


def test_a_rejection_needs_a_reason(sessions, town, railway, clock, calendar):
    campaign_id = start(sessions, railway, clock, calendar)
    task_id = first_task_id(sessions, campaign_id)
    with sessions.begin() as session:
        complete_task(session, task_id, by=OPERATOR, clock=clock)
    with pytest.raises(Exception, match="needs a reason"), sessions.begin() as session:
        reject_task(session, task_id, by=OPERATOR, clock=clock, note="  ")


def test_working_days_beyond_the_calendar_data_fall_back_to_weekdays(
    sessions, town, clock, calendar, caplog
):
    definition = parse_definition(
        RAILWAY.replace("due: 14d", "due: 3wd").replace("-test", "-2027"), "r.yaml"
    )
    with caplog.at_level(logging.WARNING, logger="pingan.calendar"):
        campaign_id = start(sessions, definition, clock, calendar, starts=date(2027, 9, 29))
    plan_due = {due for spec, _, _, _, due in tasks_of(sessions, campaign_id) if spec == "plan"}
    assert plan_due == {date(2027, 10, 4)}  # Wed 9/29 + 3 weekdays, no holiday data for 2027
    assert "2027" in caplog.text


def test_different_text_under_the_same_version_is_refused(sessions, town, railway, clock, calendar):
    start(sessions, railway, clock, calendar)
    changed = parse_definition(RAILWAY.replace("召开动员大会", "召开动员会"), "railway.yaml")
    with pytest.raises(Conflict, match="bump the version to 2"):
        start(sessions, changed, clock, calendar)


def test_a_running_campaign_stays_on_the_version_it_started_with(
    sessions, town, railway, clock, calendar
):
    first = start(sessions, railway, clock, calendar)
    v2 = parse_definition(
        RAILWAY.replace("version: 1", "version: 2").replace("制定巡防方案", "制定巡防方案（新）"),
        "r.yaml",
    )
    second = start(sessions, v2, clock, calendar)
    for campaign_id in (first, second):
        complete_required(sessions, campaign_id, "mobilization", clock)
        with sessions.begin() as session:
            advance_campaign(session, campaign_id, by=OPERATOR, clock=clock, calendar=calendar)
    titles = {}
    with sessions() as session:
        for campaign_id in (first, second):
            titles[campaign_id] = set(
                session.scalars(
                    select(Task.title).where(
                        Task.campaign_id == campaign_id, Task.phase_key == "implementation"
                    )
                )
            )
    assert titles == {first: {"制定巡防方案"}, second: {"制定巡防方案（新）"}}


def test_bindings_record_every_holder_of_each_role(sessions, town, railway, clock, calendar):
    campaign_id = start(sessions, railway, clock, calendar)
    with sessions() as session:
        rows = session.execute(
            select(RoleBinding.role, Unit.code)
            .join(Unit, Unit.id == RoleBinding.unit_id)
            .where(RoleBinding.campaign_id == campaign_id)
        ).all()
    assert sorted(rows) == sorted(
        [
            ("leader", "town"),
            ("deputy", "town"),
            ("office_director", "town"),
            ("village_head", "east-village"),
            ("village_head", "west-village"),
            ("village_head", "north-village"),
        ]
    )


def test_status_counts_progress_and_lists_overdue_tasks(sessions, town, railway, clock, calendar):
    campaign_id = start(sessions, railway, clock, calendar)
    complete_required(sessions, campaign_id, "mobilization", clock, only_unit="east-village")
    clock.advance(timedelta(days=20))  # 2026-05-21: the plans were due 5-15, the meeting 5-08

    with sessions() as session:
        report = campaign_status(session, campaign_id, clock=clock)

    assert report.state == "mobilization" and report.allowed_moves == ["advance"]
    assert report.phases[0].tasks == {"open": 6, "done": 1}
    assert report.blocking == 3
    overdue = sorted((item.title, item.unit, item.days_overdue) for item in report.overdue)
    assert overdue == [
        ("制定创建活动计划", "北村", 6),
        ("制定创建活动计划", "西村", 6),
        ("召开动员大会", None, 13),
    ]
    assert report.overdue_count == 3


def test_importing_the_organisation_twice_changes_nothing(sessions):
    with sessions.begin() as session:
        first = import_organisation(session, parse_organisation(TOWN, "town.yaml"))
    before = row_counts(sessions)
    with sessions.begin() as session:
        second = import_organisation(session, parse_organisation(TOWN, "town.yaml"))
    assert (first.units_created, first.people_created) == (4, 6)
    assert str(second) == (
        "units: 0 created, 0 updated; people: 0 created, 0 updated; sites: 0 created, 0 updated"
    )
    assert row_counts(sessions) == before


def test_reimporting_updates_names_and_roles_and_keeps_a_changed_password(sessions):
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN, "town.yaml"))
    with sessions.begin() as session:
        person_by_email(session, "east@example.org").password_hash = "changed-by-its-owner"
    renamed = TOWN.replace("李村长", "李新村长").replace(
        "{email: west@example.org, name: 周村长, unit: west-village, roles: [village_head]}",
        "{email: west@example.org, name: 周村长, unit: west-village, roles: [village_head, deputy]}",
    )
    with sessions.begin() as session:
        summary = import_organisation(session, parse_organisation(renamed, "town.yaml"))
    assert summary.people_updated == 2 and summary.people_created == 0
    with sessions() as session:
        east = person_by_email(session, "east@example.org")
        assert (east.name, east.password_hash) == ("李新村长", "changed-by-its-owner")


def test_passwords_are_stored_only_as_salted_hashes(sessions):
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN, "town.yaml"))
        import_organisation(
            session,
            parse_organisation(
                TOWN.replace("east@", "east2@").replace(
                    "{email: leader",
                    "{email: leader2@example.org, name: x, unit: town, roles: [], password: change-me}\n"
                    "  - {email: leader",
                ),
                "town2.yaml",
            ),
        )
    from werkzeug.security import check_password_hash

    with sessions() as session:
        first = person_by_email(session, "east@example.org").password_hash
        second = person_by_email(session, "leader2@example.org").password_hash
    assert "change-me" not in first and first != second, "same password, different salt"
    assert check_password_hash(first, "change-me")


def test_the_shipped_fixture_files_load(sessions, clock, calendar):
    """The DESIGN.md example definition runs on the sample town organisation."""
    organisation = load_organisation_file(TOWN_FILE)
    definition = load_definition_file(RAILWAY_FILE)
    with sessions.begin() as session:
        import_organisation(session, organisation)
        campaign = start_campaign(
            session,
            definition,
            organisation.units[0].id,
            date(2026, 5, 1),
            by=OPERATOR,
            clock=clock,
            calendar=calendar,
        )
        assert (
            session.scalar(
                select(func.count()).select_from(Task).where(Task.campaign_id == campaign.id)
            )
            == len(organisation.units) - 1
        )


# --- helpers ------------------------------------------------------------------------------------


def complete_required(sessions, campaign_id, phase, clock, only_unit=None):
    with sessions.begin() as session:
        query = select(Task).where(
            Task.campaign_id == campaign_id,
            Task.phase_key == phase,
            Task.required.is_(True),
            Task.state == "open",
        )
        for task in session.scalars(query).all():
            if only_unit and (task.unit is None or task.unit.code != only_unit):
                continue
            complete_task(session, task.id, by=OPERATOR, clock=clock)


def first_task_id(sessions, campaign_id):
    with sessions() as session:
        return session.scalar(select(func.min(Task.id)).where(Task.campaign_id == campaign_id))
