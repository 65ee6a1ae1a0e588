"""Rosters (花名册, issue #18 item 4) in the engine: read an XLSX or YAML roster with every problem at
its place, preview what it changes in a unit's scope without writing, apply it once, export a scope
so that importing the export changes nothing, and refuse hostile files in bounded time."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.support.actions import BASE_URL, OPERATOR, actor
from tests.support.databases import every_row
from tests.support.rosters import (
    billion_laughs,
    million_rows,
    wide_row,
    xlsx,
    xml_entity_bomb,
    zip_bomb,
)
from workflow.form_keys import AlreadySubmitted
from workflow.models import AuditEvent, Person, PersonRole, Unit
from workflow.organisation.org_changes import plan_roster
from workflow.organisation.org_export import export_xlsx, export_yaml
from workflow.organisation.roster import RosterError
from workflow.organisation.roster_files import read_roster
from workflow.people.administrators import grant_administrator
from workflow.people.rosters import StaleRoster, apply_roster

EAST_HEAD = ("李村长", "", "east-village", "", "east@example.org", "village_head")
KEEPER = ("陈道口看守", "", "东村", "", "keeper@example.org", "")


def unit_id(sessions, code: str) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(Unit.id).where(Unit.code == code))


def preview(sessions, code: str, raw: bytes, name: str = "roster.xlsx", by=OPERATOR):  # type: ignore[no-untyped-def]
    with sessions() as session:
        return plan_roster(session, unit_id(sessions, code), read_roster(raw, name), by=by)


def apply(
    sessions, clock, code: str, raw: bytes, fingerprint: str, *, name="roster.xlsx", key=None
):  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        return apply_roster(
            session,
            unit_id(sessions, code),
            read_roster(raw, name),
            fingerprint=fingerprint,
            by=actor(sessions, "office@example.org"),
            clock=clock,
            base_url=BASE_URL,
            form_key=key,
        )


def test_a_preview_says_what_is_added_changed_and_deactivated_and_writes_nothing(
    sessions, clock, campaign
):
    raw = xlsx(
        ("李村长", "村支书", "东村", 13900139000, "East@example.org", "village_head"),
        ("孙新人", None, "east-village", 13800138000.0, "new@example.org", "member、helper"),
    )
    before = every_row(sessions)
    plan = preview(sessions, "east-village", raw)
    assert every_row(sessions) == before
    assert plan.problems == []
    lines = {line.email: line for line in plan.people}
    assert lines["new@example.org"].kind == "added"
    assert lines["new@example.org"].phone == "13800138000"  # a float cell read as its 11 digits
    assert lines["new@example.org"].roles == "member、helper"
    east = lines["east@example.org"]
    assert east.kind == "changed"
    assert {(c.field, c.before, c.after) for c in east.changes} == {
        ("title", "", "村支书"),
        ("phone", "", "13900139000"),
    }
    assert [(x.email, x.kept) for x in plan.leaving] == [("keeper@example.org", False)]


def test_apply_writes_the_preview_once_audited_and_refuses_a_stale_or_repeated_one(
    sessions, clock, campaign
):
    raw = xlsx(
        ("李村长", "村支书", "东村", 13900139000, "east@example.org", "village_head"),
        ("孙新人", None, "east-village", "138 0013 8000", "new@example.org", "member"),
    )
    plan = preview(sessions, "east-village", raw)
    applied = apply(sessions, clock, "east-village", raw, plan.fingerprint, key="k1")
    assert (applied.added, applied.changed, applied.deactivated) == (1, 1, 1)
    with sessions() as session:
        people = {p.email: p for p in session.scalars(select(Person))}
        assert people["new@example.org"].phone == "13800138000"
        assert people["east@example.org"].title == "村支书"
        assert not people["keeper@example.org"].active
        roles = set(
            session.scalars(
                select(PersonRole.role).where(PersonRole.person_id == people["new@example.org"].id)
            )
        )
        assert roles == {"member"}
        events = {
            (e.entity, e.event, e.entity_id)
            for e in session.scalars(select(AuditEvent).where(AuditEvent.entity == "person"))
        }
        assert ("person", "add", people["new@example.org"].id) in events
        assert ("person", "edit", people["east@example.org"].id) in events
        assert ("person", "deactivate", people["keeper@example.org"].id) in events
    after = every_row(sessions)
    with pytest.raises(AlreadySubmitted):  # the same form posted again
        apply(sessions, clock, "east-village", raw, plan.fingerprint, key="k1")
    with pytest.raises(StaleRoster):  # the preview no longer holds
        apply(sessions, clock, "east-village", raw, plan.fingerprint, key="k2")
    assert every_row(sessions) == after


def test_someone_holding_open_work_is_kept_and_the_preview_says_why(sessions, clock, campaign):
    raw = xlsx(KEEPER)
    plan = preview(sessions, "east-village", raw)
    kept = {x.email: x for x in plan.leaving}
    assert kept["east@example.org"].kept
    assert ("site", "crossing-3 (3号道口)") in {
        (item.kind, item.title) for item in kept["east@example.org"].held
    }
    apply(sessions, clock, "east-village", raw, plan.fingerprint)
    with sessions() as session:
        assert session.scalar(select(Person.active).where(Person.email == "east@example.org"))


def test_a_roster_cannot_reach_outside_its_scope_and_every_problem_has_its_row_and_column(
    sessions, clock, campaign
):
    with sessions.begin() as session:
        session.scalar(
            select(Person).where(Person.email == "west@example.org")
        ).phone = "13700137000"
    raw = xlsx(
        EAST_HEAD,
        ("镇里人", "", "town", "", "x@example.org", ""),  # the town above the scope
        ("赵主任", "", "东村", "", "office@example.org", ""),  # a person of the town
        ("新人", "", "东村", "13700137000", "y@example.org", ""),  # west's phone
        ("无名", "", "no-such-unit", "", "z@example.org", ""),
    )
    before = every_row(sessions)
    plan = preview(sessions, "east-village", raw)
    found = {(p.place.line, p.place.column, p.place.letter, p.code) for p in plan.problems}
    assert found == {
        (3, "单位", "C", "unit_outside_scope"),
        (4, "邮箱", "E", "person_outside_scope"),
        (5, "手机", "D", "phone_taken"),
        (6, "单位", "C", "unknown_unit"),
    }
    with pytest.raises(RosterError):
        apply(sessions, clock, "east-village", raw, plan.fingerprint)
    assert every_row(sessions) == before


def test_problems_found_in_the_file_itself_are_all_listed_by_row_and_column():
    raw = xlsx(
        ("李村长", "", "东村", "1380013800", "east@example.org", "Village Head"),
        ("", "", "东村", 13800138000, "bad-address", ""),
        ("周村长", "", "东村", 13800138000, "west@example.org", ""),
        ("吴村长", "", "东村", "13800138000", "WEST@example.org", ""),
        ("钱", "", "=A1", "", "q@example.org", ""),
    )
    with pytest.raises(RosterError) as refused:
        read_roster(raw, "roster.xlsx")
    found = [(p.place.line, p.place.letter, p.code) for p in refused.value.problems]
    assert found == [
        (2, "D", "bad_phone"),
        (2, "F", "bad_role"),
        (2, "F", "bad_role"),
        (3, "A", "required"),
        (3, "E", "bad_email"),
        (5, "D", "duplicate_phone"),
        (5, "E", "duplicate_email"),
        (6, "C", "formula"),
    ]
    duplicate = next(p for p in refused.value.problems if p.code == "duplicate_email")
    assert dict(duplicate.values)["first"] == "4"


def test_english_headers_in_any_order_with_extra_columns_and_a_title_row_above():
    raw = xlsx(
        ("", "x", "Li", "east-village", "east@example.org"),
        header=("roles", "notes", "name", "unit", "email"),
    )
    roster = read_roster(raw, "roster.xlsx")
    assert [(p.name, p.unit, p.roles, p.title) for p in roster.people] == [
        ("Li", "east-village", (), None)
    ]


def test_a_yaml_roster_names_line_and_key():
    raw = b"units:\n  - {id: town, name: T}\npeople:\n  - {email: a@example.org, name: A, unit: town, phone: '12'}\n"
    with pytest.raises(RosterError) as refused:
        read_roster(raw, "org.yaml")
    assert [(p.place.line, p.place.column) for p in refused.value.problems] == [
        (4, "people[0].phone")
    ]


@pytest.mark.parametrize("form", ["xlsx", "yaml"])
@pytest.mark.parametrize("scope, people", [("town", 6), ("east-village", 2)])
def test_importing_an_export_changes_nothing(sessions, clock, campaign, form, scope, people):
    with sessions.begin() as session:
        grant_administrator(
            session, "east@example.org", "east-village", by=OPERATOR, now=clock.now()
        )
        east = session.scalar(select(Person).where(Person.email == "east@example.org"))
        east.phone, east.title = "13900139000", "=1+1"  # a title Excel would run, kept as text
    with sessions() as session:
        unit = unit_id(sessions, scope)
        raw = export_xlsx(session, unit) if form == "xlsx" else export_yaml(session, unit).encode()
    name = f"export.{form}"
    if form == "xlsx":
        sheet = load_workbook(io.BytesIO(raw)).active
        cells = {cell.value: cell.data_type for row in sheet.iter_rows() for cell in row}
        assert cells["=1+1"] == "s"
    else:
        assert "administers:\n  - east-village" in raw.decode()
        assert "crossing-3" in raw.decode()
    plan = preview(sessions, scope, raw, name)
    assert plan.problems == []
    assert {line.kind for line in plan.people} == {"unchanged"}
    assert len(plan.people) == people
    assert plan.leaving == [] and plan.other == []
    before = every_row(sessions)
    apply(sessions, clock, scope, raw, plan.fingerprint, name=name, key="export")
    assert every_row(sessions) == before


@pytest.mark.parametrize(
    "make, name, code",
    [
        (zip_bomb, "bomb.xlsx", "zip_bomb"),
        (million_rows, "million.xlsx", "too_many_rows"),
        (billion_laughs, "laughs.yaml", "yaml"),
        (xml_entity_bomb, "entities.xlsx", "xml_entities"),  # defusedxml refuses them
        (wide_row, "wide.xlsx", "too_wide"),
        (lambda: b"PK\x03\x04 not really", "broken.xlsx", "not_xlsx"),
        (lambda: b"x" * (5 * 1024 * 1024), "big.xlsx", "too_big"),
    ],
)
@pytest.mark.timeout(60)  # a hang fails; how fast is benchmarks/hostile_uploads.py's figure
def test_a_hostile_file_is_refused_with_a_reason(make, name, code):
    with pytest.raises(RosterError) as refused:
        read_roster(make(), name)
    assert [p.code for p in refused.value.problems] == [code]


def test_an_organisation_file_adds_and_renames_units_inside_its_scope_only(
    sessions, clock, campaign
):
    with sessions() as session:
        exported = export_yaml(session, unit_id(sessions, "town"))
    renamed = exported.replace("name: 西村", "name: 西庄").replace(
        "  - id: west-village", "  - id: south-village\n    name: 南村\n  - id: west-village"
    )
    plan = preview(sessions, "town", renamed.encode(), "org.yaml")
    assert plan.problems == []
    assert {(c.kind, c.code, c.added) for c in plan.other} == {
        ("unit", "south-village", True),
        ("unit", "west-village", False),
    }
    apply(sessions, clock, "town", renamed.encode(), plan.fingerprint, name="org.yaml")
    with sessions() as session:
        names = dict(session.execute(select(Unit.code, Unit.name)).all())
        assert (names["south-village"], names["west-village"]) == ("南村", "西庄")
        events = {
            (e.entity, e.event)
            for e in session.scalars(select(AuditEvent).where(AuditEvent.entity == "unit"))
        }
        assert events == {("unit", "add"), ("unit", "edit")}
    # a village's file cannot reach the town above it
    village = exported.replace("- id: town\n  name: 铁路镇", "- id: town\n  name: 铁路乡")
    plan = preview(sessions, "east-village", village.encode(), "org.yaml")
    assert "unit_outside_scope" in {p.code for p in plan.problems}
