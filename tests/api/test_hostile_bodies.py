"""Requests that used to end in a 500: a body nested a thousand levels deep, and what a village head
was offered. Each is now a 4xx in the error shape, the database unchanged (issue 14, item 6)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.api import assert_error
from tests.support.databases import row_counts
from workflow.models import Task
from workflow.organisation.directory import person_by_email


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_a_body_nested_too_deep_is_a_400_in_the_error_shape(as_person, campaign, sessions, depth):
    office = as_person("office@example.org")
    before = row_counts(sessions)
    for path in (f"/campaigns/{campaign}/hazards", f"/campaigns/{campaign}/advance"):
        answer = office.post(path, raw="[" * depth + "]" * depth)
        assert_error(answer, 400, "bad_request")
    assert row_counts(sessions) == before


def test_only_a_coordinator_is_offered_the_advance(as_person, campaign):
    village_head = as_person("east@example.org").get(f"/campaigns/{campaign}")
    office_director = as_person("office@example.org").get(f"/campaigns/{campaign}")
    assert village_head.json["allowed_moves"] == []
    assert office_director.json["allowed_moves"] == ["advance"]


@pytest.mark.parametrize("blank", ["\r", " ", "\n\t"])
def test_a_body_of_white_space_only_is_malformed_json_not_an_empty_request(
    as_person, campaign, sessions, blank
):
    # schemathesis sent "\r" to /tasks/1/complete and the task was completed: white space is not
    # JSON, and a client that sends it has lost what it meant to send
    east = as_person("east@example.org")
    with sessions() as session:
        east_id = person_by_email(session, "east@example.org").id
        task_id = session.scalar(
            select(Task.id).where(Task.assignee_id == east_id, Task.spec_key == "plan")
        )
    before = row_counts(sessions)
    assert_error(east.post(f"/tasks/{task_id}/complete", raw=blank), 400, "bad_request")
    assert row_counts(sessions) == before
    assert east.post(f"/tasks/{task_id}/complete", raw="").status_code == 200
