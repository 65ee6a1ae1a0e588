"""`pingan admin grant|revoke EMAIL --unit CODE`, as an operator runs them: one line each, audited,
a second grant changes nothing, bad input one line with a non-zero exit and nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.support.texts import TOWN
from workflow.models import Administrator, AuditEvent, Person, Unit
from workflow.people.administrators import administered_units

LEAVER = "  - {email: gone@example.org, name: 离职人员, unit: town, roles: []}\n"


@pytest.fixture
def town(pingan, tmp_path, db_url):
    (tmp_path / "town.yaml").write_text(TOWN + LEAVER, encoding="utf-8")
    assert pingan("import-org", str(tmp_path / "town.yaml")).exit_code == 0
    engine = create_engine(db_url)
    with Session(engine) as session, session.begin():
        session.scalars(
            select(Person).where(Person.email == "gone@example.org")
        ).one().active = False
    engine.dispose()


def grants_and_trail(db_url: str) -> tuple[set[tuple[str, str]], list[tuple[str, str, str]]]:
    """Who administers which unit; the administrator audit events (event, actor, note)."""
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            grants = set(
                tuple(row)
                for row in session.execute(
                    select(Person.email, Unit.code)
                    .join(Administrator, Administrator.person_id == Person.id)
                    .join(Unit, Unit.id == Administrator.unit_id)
                )
            )
            trail = list(
                tuple(row)
                for row in session.execute(
                    select(AuditEvent.event, AuditEvent.actor, AuditEvent.note)
                    .where(AuditEvent.entity == "administrator")
                    .order_by(AuditEvent.id)
                )
            )
            return grants, trail
    finally:
        engine.dispose()


def test_grant_then_revoke_each_one_line_and_audited(pingan, town, db_url):
    granted = pingan("admin", "grant", "Office@Example.org", "--unit", "town")
    assert granted.exit_code == 0, granted.output
    assert granted.stdout == "office@example.org administers town and every unit under it\n"
    grants, trail = grants_and_trail(db_url)
    assert grants == {("office@example.org", "town")}
    assert [(event, note) for event, _, note in trail] == [
        ("grant", "office@example.org: administrator of town")
    ]
    assert trail[0][1].startswith("cli:")

    again = pingan("admin", "grant", "office@example.org", "--unit", "town")
    assert again.exit_code == 0
    assert again.stdout == "office@example.org already administers town and every unit under it\n"
    assert grants_and_trail(db_url) == (grants, trail), "a second grant changes nothing"

    revoked = pingan("admin", "revoke", "office@example.org", "--unit", "town")
    assert revoked.exit_code == 0, revoked.output
    assert (
        revoked.stdout == "office@example.org no longer administers town and every unit under it\n"
    )
    grants, trail = grants_and_trail(db_url)
    assert grants == set()
    assert [event for event, _, _ in trail] == ["grant", "revoke"]


def test_a_grant_covers_the_unit_and_every_unit_under_it(pingan, town, db_url):
    assert pingan("admin", "grant", "office@example.org", "--unit", "town").exit_code == 0
    assert pingan("admin", "grant", "east@example.org", "--unit", "east-village").exit_code == 0
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            codes = {i: code for i, code in session.execute(select(Unit.id, Unit.code))}
            people = {email: i for email, i in session.execute(select(Person.email, Person.id))}
            office = {codes[i] for i in administered_units(session, people["office@example.org"])}
            east = {codes[i] for i in administered_units(session, people["east@example.org"])}
            west = administered_units(session, people["west@example.org"])
    finally:
        engine.dispose()
    assert office == {"town", "east-village", "west-village", "north-village"}
    assert east == {"east-village"}
    assert west == set()


@pytest.mark.parametrize(
    "args, reason",
    [
        (("grant", "nobody@example.org", "--unit", "town"), "no person with e-mail"),
        (("grant", "office@example.org", "--unit", "atlantis"), "no unit 'atlantis'"),
        (("grant", "gone@example.org", "--unit", "town"), "gone@example.org is inactive"),
        (("revoke", "west@example.org", "--unit", "town"), "west@example.org does not administer"),
        (("revoke", "office@example.org", "--unit", "atlantis"), "no unit 'atlantis'"),
    ],
)
def test_bad_input_is_one_line_with_a_non_zero_exit_and_writes_nothing(
    pingan, town, db_url, args, reason
):
    before = grants_and_trail(db_url)
    result = pingan("admin", *args)
    assert result.exit_code != 0
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert reason in result.stderr
    assert grants_and_trail(db_url) == before


def test_the_unit_is_required(pingan, town):
    result = pingan("admin", "grant", "office@example.org")
    assert result.exit_code != 0
    assert "--unit" in result.stderr
