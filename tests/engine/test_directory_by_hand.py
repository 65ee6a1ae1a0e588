"""The directory between two imports (issue #18): mobile numbers and administrators in the organisation file, the
one-at-a-time changes an administrator makes (``workflow/people/records.py``), initial passwords, and reset links —
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.actions import BASE_URL, OPERATOR
from tests.support.databases import row_counts
from tests.support.texts import TOWN_WITH_CROSSING
from workflow.access import administers
from workflow.audit import Actor
from workflow.errors import InvalidInput
from workflow.models import AuditEvent, Person, Task, Unit
from workflow.organisation.directory import person_by_email, person_for_sign_in
from workflow.organisation.org_file import OrganisationError, parse_organisation
from workflow.organisation.tree import add_unit, rename_unit
from workflow.people.passwords import PasswordRefused
from workflow.people.posts import (
    give_role,
    hand_over_role,
    open_work_of_role,
)
from workflow.people.rebinding import import_and_rebind
from workflow.people.records import add_person
from workflow.people.reset_links import (
    ResetLinkInvalid,
    issue_reset_link,
    reset_password_with_link,
)

WITH_PHONES = TOWN_WITH_CROSSING.replace(
    "name: 李村长, unit: east-village,",
    "name: 李村长, phone: '+86 137 0013 7000', unit: east-village,",
).replace(
    "name: 赵主任, unit: town,",
    "name: 赵主任, phone: 13800138000, administers: [town], unit: town,",
)


def imported(sessions, clock, text: str):  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        return import_and_rebind(
            session, parse_organisation(text, "org.yaml"), now=clock.now(), by=OPERATOR
        )


def test_an_organisation_file_gives_phones_and_administrators_and_a_second_import_changes_nothing(
    sessions, clock, campaign
):
    imported(sessions, clock, WITH_PHONES)
    with sessions() as session:
        assert person_for_sign_in(session, "137-0013-7000").email == "east@example.org"
        assert person_for_sign_in(session, "13800138000").email == "office@example.org"
        office = Actor.person(person_by_email(session, "office@example.org"))
        east = session.scalar(select(Unit.id).where(Unit.code == "east-village"))
        assert administers(session, office, east), (
            "the town's administrator administers its villages"
        )
    before = row_counts(sessions)
    summary, rebinding = imported(sessions, clock, WITH_PHONES)
    assert (summary.people_updated, rebinding.granted) == (0, 0)
    assert row_counts(sessions) == before


def test_two_people_may_swap_numbers_in_one_file_but_a_number_kept_by_someone_else_is_refused(
    sessions, clock, campaign
):
    imported(sessions, clock, WITH_PHONES)
    swapped = WITH_PHONES.replace("'+86 137 0013 7000'", "13800138000").replace(
        "phone: 13800138000, administers", "phone: 13700137000, administers"
    )
    imported(sessions, clock, swapped)
    with sessions() as session:
        assert person_for_sign_in(session, "13800138000").email == "east@example.org"
    kept = TOWN_WITH_CROSSING.replace(
        "name: 周村长, unit: west-village,", "name: 周村长, phone: 13800138000, unit: west-village,"
    )
    before = row_counts(sessions)
    with pytest.raises(
        InvalidInput, match="13800138000 given to west@example.org is east@example.org's"
    ):
        imported(sessions, clock, kept)
    assert row_counts(sessions) == before


@pytest.mark.parametrize(
    "change, where",
    [
        ("phone: 12345", "phone"),
        ("administers: [nowhere]", "administers"),
    ],
)
def test_a_bad_phone_or_administered_unit_is_named_with_its_line_and_key(change, where):
    text = TOWN_WITH_CROSSING.replace("name: 周村长, unit:", f"name: 周村长, {change}, unit:")
    with pytest.raises(OrganisationError) as refused:
        parse_organisation(text, "org.yaml")
    (problem,) = refused.value.problems
    assert problem.line == 16 and where in str(problem), str(problem)


def test_a_duplicate_phone_names_both_lines():
    text = TOWN_WITH_CROSSING.replace(
        "name: 周村长, unit:", "name: 周村长, phone: 13700137000, unit:"
    ).replace("name: 李村长, unit:", "name: 李村长, phone: 137 0013 7000, unit:")
    with pytest.raises(
        OrganisationError, match=r"duplicate phone '13700137000' \(first at line 15\)"
    ):
        parse_organisation(text, "org.yaml")


def test_a_password_in_the_file_is_an_initial_one_to_be_changed_at_the_first_sign_in(
    sessions, clock, campaign
):
    with sessions() as session:
        east = person_by_email(session, "east@example.org")
        assert east.password_hash and east.must_change_password


def test_a_new_holder_takes_the_post_and_the_old_holder_s_open_work_of_it(
    sessions, clock, campaign
):
    with sessions.begin() as session:
        east_unit = session.scalar(select(Unit.id).where(Unit.code == "east-village"))
        newcomer = add_person(
            session,
            email="Sun@example.org",
            name=" 孙 新村长 ",
            unit_id=east_unit,
            by=OPERATOR,
            now=clock.now(),
        )
        given = give_role(session, newcomer.id, "village_head", by=OPERATOR, now=clock.now())
        east = person_by_email(session, "east@example.org")
        assert [p.email for p in given.other_holders] == ["east@example.org"]
        work = open_work_of_role(session, east.id, "village_head")
        assert work and given.rebinding.granted == 1
        moved = hand_over_role(
            session,
            "village_head",
            east.id,
            newcomer.id,
            by=OPERATOR,
            clock=clock,
            base_url=BASE_URL,
        )
        assert sorted(moved) == sorted(task for task, _c, _t in work)
        assert {session.get(Task, t).assignee_id for t in moved} == {newcomer.id}
        assert newcomer.email == "sun@example.org" and newcomer.name == "孙 新村长"
        events = session.scalars(
            select(AuditEvent.event).where(
                AuditEvent.entity == "person", AuditEvent.entity_id.in_([east.id, newcomer.id])
            )
        ).all()
        assert {"add", "role_give", "role_take"} <= set(events)


def test_units_are_added_under_a_parent_and_renamed_never_with_a_taken_id(
    sessions, clock, campaign
):
    with sessions.begin() as session:
        town = session.scalar(select(Unit.id).where(Unit.code == "town"))
        group = add_unit(
            session, parent_id=town, code="South-Village", name="南村", by=OPERATOR, now=clock.now()
        )
        rename_unit(session, group.id, "南庄村", by=OPERATOR, now=clock.now())
        assert (group.code, group.name, group.parent_id) == ("south-village", "南庄村", town)
    with sessions.begin() as session, pytest.raises(InvalidInput, match="exists already"):
        add_unit(
            session,
            parent_id=town,
            code="east-village",
            name="又一个东村",
            by=OPERATOR,
            now=clock.now(),
        )


def test_a_reset_link_is_single_use_expires_after_24_hours_and_a_newer_one_replaces_it(
    sessions, clock, campaign
):
    with sessions.begin() as session:
        east = person_by_email(session, "east@example.org").id
        first = issue_reset_link(session, east, by=OPERATOR, now=clock.now(), base_url=BASE_URL)
        second = issue_reset_link(session, east, by=OPERATOR, now=clock.now(), base_url=BASE_URL)
    token = second.url.split("token=")[1]
    with sessions.begin() as session, pytest.raises(ResetLinkInvalid):
        reset_password_with_link(
            session, first.url.split("token=")[1], "晨光道口2026安全", now=clock.now()
        )
    with sessions.begin() as session, pytest.raises(PasswordRefused):
        reset_password_with_link(session, token, "password123", now=clock.now())
    with sessions.begin() as session:
        person = reset_password_with_link(session, token, "晨光道口2026安全", now=clock.now())
        assert person.password_hash.startswith("scrypt:") and not person.must_change_password
    with sessions.begin() as session, pytest.raises(ResetLinkInvalid):
        reset_password_with_link(session, token, "另一个安全的密码2026", now=clock.now())
    with sessions.begin() as session:
        late = issue_reset_link(session, east, by=OPERATOR, now=clock.now(), base_url=BASE_URL)
    with sessions.begin() as session, pytest.raises(ResetLinkInvalid):
        reset_password_with_link(
            session,
            late.url.split("token=")[1],
            "晨光道口2026安全x",
            now=clock.now() + timedelta(hours=24),
        )
    with sessions() as session:
        assert session.scalar(select(Person.active).where(Person.id == east))
