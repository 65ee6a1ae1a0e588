"""`pingan person deactivate|reactivate|password` and `pingan import-org` taking roles away, as an
operator runs them: one line when refused, nothing half-done."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from tests.support.texts import RAILWAY, TOWN
from workflow.models import Person, RoleBinding, Task

NEWCOMER = "  - {email: north2@example.org, name: 郑新村长, unit: north-village, roles: []}\n"


@pytest.fixture
def started(pingan, tmp_path):
    (tmp_path / "town.yaml").write_text(TOWN + NEWCOMER, encoding="utf-8")
    (tmp_path / "railway.yaml").write_text(RAILWAY, encoding="utf-8")
    assert pingan("import-org", str(tmp_path / "town.yaml")).exit_code == 0
    result = pingan(
        "start", str(tmp_path / "railway.yaml"), "--org", "town", "--starts", "2026-05-01"
    )
    assert result.exit_code == 0, result.output
    return int(result.stdout.strip())


def person(db_url: str, email: str) -> tuple[Person, set[str], int]:
    """The person's row, their roles in the campaigns, and their open tasks."""
    engine = create_engine(db_url)
    with Session(engine) as session:
        row = session.scalars(select(Person).where(Person.email == email)).one()
        roles = set(
            session.scalars(select(RoleBinding.role).where(RoleBinding.person_id == row.id))
        )
        tasks = len(
            session.scalars(
                select(Task.id).where(Task.assignee_id == row.id, Task.state == "open")
            ).all()
        )
    engine.dispose()
    return row, roles, tasks


def test_deactivation_is_refused_in_one_line_while_work_is_open(pingan, started, db_url):
    result = pingan("person", "deactivate", "north@example.org")

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: north@example.org still holds")
    assert "--hand-over-to" in result.stderr
    row, roles, tasks = person(db_url, "north@example.org")
    assert row.active and roles == {"village_head"} and tasks > 0


def test_deactivation_hands_over_and_reactivation_binds_again(pingan, started, db_url):
    _row, _roles, open_before = person(db_url, "north@example.org")

    left = pingan(
        "person", "deactivate", "north@example.org", "--hand-over-to", "north2@example.org"
    )

    assert left.exit_code == 0, left.output
    assert "north@example.org deactivated" in left.stdout
    assert f"{open_before} task(s)" in left.stdout
    row, roles, tasks = person(db_url, "north@example.org")
    assert (row.active, roles, tasks) == (False, set(), 0)
    assert person(db_url, "north2@example.org")[1:] == ({"village_head"}, open_before)

    back = pingan("person", "reactivate", "north@example.org")
    assert back.exit_code == 0, back.output
    row, roles, _tasks = person(db_url, "north@example.org")
    assert row.active and roles == {"village_head"}
    again = pingan("person", "reactivate", "north@example.org")
    assert again.exit_code == 1 and again.stderr == "error: north@example.org is already active\n"


def test_a_one_time_password_is_printed_and_must_be_changed(pingan, started, db_url):
    result = pingan("person", "password", "office@example.org")

    assert result.exit_code == 0, result.output
    one_time = result.stdout.strip()
    row, _roles, _tasks = person(db_url, "office@example.org")
    assert row.must_change_password and check_password_hash(row.password_hash, one_time)
    unknown = pingan("person", "password", "nobody@example.org")
    assert unknown.exit_code == 1
    assert unknown.stderr == "error: no person with e-mail 'nobody@example.org'\n"


def test_import_org_takes_a_removed_role_away_from_the_running_campaign(
    pingan, started, db_url, tmp_path
):
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        (TOWN + NEWCOMER).replace("roles: [office_director]", "roles: []"), encoding="utf-8"
    )

    result = pingan("import-org", str(changed))

    assert result.exit_code == 0, result.output
    assert "1 withdrawn" in result.stdout
    assert "role 'office_director' of town (铁路镇) is now held by nobody" in result.stdout
    assert person(db_url, "office@example.org")[1] == set()
