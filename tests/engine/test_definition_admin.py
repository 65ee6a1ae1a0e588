"""The engine behind the definitions' and the start's administration pages: a dry run of a start writes nothing and
says what the start would do; who may start; a definition's preview dates are the sweep's; what changed between two
versions; a YAML bomb is refused quickly."""

from __future__ import annotations

import time
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from tests.support.actions import OPERATOR, start
from tests.support.texts import RAILWAY, TOWN, TOWN_WITH_CROSSING
from workflow.audit import Actor
from workflow.campaigns.lifecycle import start_campaign
from workflow.campaigns.trial import trial_start
from workflow.definitions.catalogue import VersionTaken, register_definition
from workflow.definitions.changes import ADDED, CHANGED, REMOVED, definition_changes, text_diff
from workflow.definitions.reader import DefinitionError, parse_definition
from workflow.errors import Forbidden, InvalidInput
from workflow.models import Base, Person
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation
from workflow.people.administrators import grant_administrator
from workflow.views.definition_preview import preview_definition

MONTHLY = (
    RAILWAY.replace("id: safe-railway-test", "id: monthly-test")
    + """
recurring:
  - {id: talk, title: 月度安全教育, assignee: village_head, per: unit, every: month, on: 5, due: 3wd}
"""
)


def counts(sessions) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
def town(sessions):  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_CROSSING, "org.yaml"))


def test_a_dry_run_shows_the_first_tasks_with_names_and_dates_and_writes_nothing(
    sessions, clock, calendar, town
):
    before = counts(sessions)
    with sessions.begin() as session:
        trial = trial_start(
            session,
            parse_definition(RAILWAY, "def.yaml"),
            "town",
            date(2026, 5, 1),
            by=OPERATOR,
            clock=clock,
            calendar=calendar,
        )
    assert counts(sessions) == before
    assert not trial.refused
    plans = {
        (i.title, i.assignee, i.unit, i.due_on)
        for i in trial.items
        if i.title == "制定创建活动计划"
    }
    assert plans == {
        ("制定创建活动计划", "李村长", "东村", date(2026, 5, 15)),
        ("制定创建活动计划", "周村长", "西村", date(2026, 5, 15)),
    }
    assert {name for name, _items in trial.per_person()} == {"赵主任", "李村长", "周村长"}
    later = [(s.phase, s.title, s.holders) for s in trial.later]
    assert ("implementation", "制定巡防方案", ("东村: 李村长", "西村: 周村长")) in later


def test_a_dry_run_names_every_role_nobody_holds_with_its_unit(sessions, clock, calendar):
    with sessions.begin() as session:
        import_organisation(
            session, parse_organisation(TOWN.replace(", roles: [deputy]", ", roles: []"), "o.yaml")
        )
    definition = parse_definition(
        RAILWAY + "escalation:\n  levels:\n    - {after: 3wd, notify: [deputy]}\n", "d.yaml"
    )
    before = counts(sessions)
    with sessions.begin() as session:
        trial = trial_start(
            session,
            definition,
            "town",
            date(2026, 5, 1),
            by=OPERATOR,
            clock=clock,
            calendar=calendar,
        )
    assert counts(sessions) == before
    assert [(p.role, p.unit) for p in trial.problems] == [("deputy", "'town' (铁路镇)")]
    assert trial.items == []


def test_an_administrator_of_the_unit_may_start_a_village_administrator_may_not(
    sessions, clock, calendar, town
):
    with sessions.begin() as session:
        for email, unit in (
            ("admin@example.org", "town"),
            ("east-admin@example.org", "east-village"),
        ):
            session.add(Person(email=email, name=email[:5], unit_id=1, active=True))
            session.flush()
            grant_administrator(session, email, unit, by=OPERATOR, now=clock.now())
        ids = {p.email: p.id for p in session.scalars(select(Person))}
    definition = parse_definition(RAILWAY, "def.yaml")
    campaign = start(
        sessions,
        definition,
        clock,
        calendar,
        by=Actor("admin@example.org", ids["admin@example.org"]),
    )
    assert campaign
    with pytest.raises(Forbidden), sessions.begin() as session:
        trial_start(
            session,
            definition,
            "town",
            date(2026, 5, 1),
            by=Actor("east-admin@example.org", ids["east-admin@example.org"]),
            clock=clock,
            calendar=calendar,
        )
    # a coordinator of the new campaign still may (today's rule), a village head may not
    assert start(
        sessions,
        definition,
        clock,
        calendar,
        by=Actor("office@example.org", ids["office@example.org"]),
    )
    with pytest.raises(Forbidden):
        start(
            sessions,
            definition,
            clock,
            calendar,
            by=Actor("east@example.org", ids["east@example.org"]),
        )


def test_the_preview_dates_of_a_duty_are_the_ones_the_sweep_creates(
    sessions, clock, calendar, town
):
    definition = parse_definition(MONTHLY, "def.yaml")
    preview = preview_definition(definition, date(2026, 5, 1), calendar)
    talk = preview.campaign_duties[0]
    assert [o.starts_on for o in talk.next] == [date(2026, m, 5) for m in (5, 6, 7, 8, 9)]
    # 3 working days after Saturday 5 September 2026 … from the calendar, as the sweep counts them
    assert talk.next[0].due_on == calendar.add_working_days(date(2026, 5, 5), 3)
    campaign = start(sessions, definition, clock, calendar)
    from workflow.campaigns.recurring import create_due_occurrences
    from workflow.models import Task

    with sessions.begin() as session:
        create_due_occurrences(session, datetime(2026, 9, 30, tzinfo=clock.now().tzinfo), calendar)
    with sessions() as session:
        made = sorted(
            {
                (t.due_on)
                for t in session.scalars(
                    select(Task).where(Task.campaign_id == campaign, Task.spec_key == "talk")
                )
            }
        )
    assert made == [o.due_on for o in talk.next]
    plan = preview.phases[0].tasks[0]
    assert (plan.id, plan.due, plan.due_on) == ("plan", "14d", date(2026, 5, 15))
    assert preview.phases[1].window.start == date(2026, 5, 31)


def test_changes_between_versions_name_phases_tasks_duties_and_levels():
    old = parse_definition(
        RAILWAY
        + "escalation:\n  levels:\n    - {after: 0d, notify: [responsible]}\n    - {after: 3wd, notify: [deputy]}\n",
        "v1.yaml",
    )
    new_text = (
        MONTHLY.replace("version: 1", "version: 2")
        .replace("id: monthly-test", "id: safe-railway-test")
        .replace(
            "召开动员大会, assignee: office_director, due: 7d",
            "召开动员大会, assignee: office_director, due: 10d",
        )
        .replace(
            "      - {id: banner, title: 悬挂宣传标语, assignee: village_head, per: unit, required: false}\n",
            "",
        )
        .replace("  - id: inspection\n    title: 检查验收阶段\n    duration: 30d\n", "")
        + "escalation:\n  levels:\n    - {after: 0d, notify: [responsible]}\n    - {after: 5wd, notify: [deputy]}\n"
        + "    - {after: 7wd, notify: [leader]}\n"
    )
    new = parse_definition(new_text, "v2.yaml")
    changes = {(c.kind, c.what, c.id) for c in definition_changes(old, new)}
    assert changes == {
        (CHANGED, "task", "meeting"),
        (REMOVED, "task", "banner"),
        (REMOVED, "phase", "inspection"),
        (ADDED, "duty", "talk"),
        (CHANGED, "level", "2"),
        (ADDED, "level", "3"),
    }
    meeting = next(c for c in definition_changes(old, new) if c.id == "meeting")
    assert [(f.name, f.before, f.after) for f in meeting.fields] == [("due", "7d", "10d")]
    assert any(line.startswith("-") and "7d" in line for line in text_diff(old, new))


def test_the_same_id_and_version_with_other_text_is_refused_with_the_version_to_use(
    sessions, clock
):
    with sessions.begin() as session:
        register_definition(session, parse_definition(RAILWAY, "a.yaml"), clock.now())
    with pytest.raises(VersionTaken) as refused, sessions.begin() as session:
        register_definition(
            session, parse_definition(RAILWAY.replace("30d", "31d", 1), "b.yaml"), clock.now()
        )
    assert refused.value.next_version == 2
    assert "bump the version to 2" in refused.value.message


def test_a_yaml_bomb_is_refused_quickly():
    levels = ["lol: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    bomb = "id: bomb\nversion: 1\n" + "\n".join(levels) + "\n"
    started = time.perf_counter()
    with pytest.raises(DefinitionError) as refused:
        parse_definition(bomb, "bomb.yaml")
    assert time.perf_counter() - started < 2
    assert "aliases expand to more than" in str(refused.value)


def test_a_title_longer_than_the_column_is_refused_before_anything_is_written(
    sessions, clock, calendar, town
):
    before = counts(sessions)
    with pytest.raises(InvalidInput, match="at most 300"), sessions.begin() as session:
        start_campaign(
            session,
            parse_definition(RAILWAY, "def.yaml"),
            "town",
            date(2026, 5, 1),
            by=OPERATOR,
            clock=clock,
            calendar=calendar,
            title="长" * 301,
        )
    assert counts(sessions) == before
