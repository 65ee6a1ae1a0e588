"""What the pages and the API offer is what the engine allows: forms show a move only where the state machine
allows it, and a form's bounds are the engine's limits (workflow/limits.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.support.api import Caller
from tests.support.web import task_id, text
from workflow.errors import TransitionRefused
from workflow.limits import MAX_WORKING_DAYS, NOTE_LIMIT, TEXT_LIMIT
from workflow.models import AuditEvent, Task
from workflow.organisation.tokens import issue_token


def caller(site, sessions, clock, email: str) -> Caller:
    with sessions.begin() as session:
        return Caller(site.test_client(), issue_token(session, email, clock.now()))


def maxlength(page: str, element_id: str) -> int:
    found = re.search(rf'<(?:textarea|input)[^>]*id="{element_id}"[^>]*>', page)
    assert found, element_id
    return int(re.search(r'maxlength="(\d+)"', found.group(0)).group(1))


def test_a_note_one_character_over_the_limit_is_refused_by_the_api_and_by_the_page(
    site, sessions, clock, visitor
):
    plan = task_id(site, "east@example.org", "plan")
    east_api, east_page = (
        caller(site, sessions, clock, "east@example.org"),
        visitor("east@example.org"),
    )

    refused = east_api.post(f"/tasks/{plan}/complete", {"note": "注" * (NOTE_LIMIT + 1)})
    assert refused.status_code == 422 and f"at most {NOTE_LIMIT}" in refused.json["message"]
    page = east_page.page(f"/tasks/{plan}")
    assert maxlength(page, "note") == NOTE_LIMIT, "the browser stops where the engine would"
    answer = east_page.post(
        f"/tasks/{plan}/complete", {"note": "注" * (NOTE_LIMIT + 1), "next": f"/tasks/{plan}"}
    )
    assert answer.status_code == 302
    assert str(NOTE_LIMIT) in text(east_page.page(f"/tasks/{plan}")), "the form says which limit"
    with sessions() as session:
        assert session.get(Task, plan).state == "open"

    done = east_api.post(f"/tasks/{plan}/complete", {"note": "注" * NOTE_LIMIT})
    assert done.status_code == 200 and done.json["state"] == "done"


def test_the_openapi_document_states_the_engine_s_limits(site):
    schemas = site.test_client().get("/api/v1/openapi.json").json["components"]["schemas"]
    assert schemas["Note"]["properties"]["note"]["maxLength"] == NOTE_LIMIT
    assert schemas["HazardReport"]["properties"]["description"]["maxLength"] == TEXT_LIMIT
    assert (
        schemas["NewDeadline"]["properties"]["deadline_working_days"]["maximum"] == MAX_WORKING_DAYS
    )


def test_a_task_page_offers_the_moves_its_state_allows(site, sessions, clock, visitor):
    plan = task_id(site, "east@example.org", "plan")
    office = visitor("office@example.org")
    before = office.page(f"/tasks/{plan}")
    assert f"/tasks/{plan}/complete" in before and f"/tasks/{plan}/verify" not in before
    assert f"/tasks/{plan}/reassign" in before

    assert (
        caller(site, sessions, clock, "east@example.org")
        .post(f"/tasks/{plan}/complete", {})
        .status_code
        == 200
    )
    after = office.page(f"/tasks/{plan}")
    assert f"/tasks/{plan}/complete" not in after, "done: nothing to check off"
    assert f"/tasks/{plan}/verify" in after and f"/tasks/{plan}/reject" in after
    assert f"/tasks/{plan}/reassign" not in after, "done work stays with whoever did it"
    assert maxlength(after, "reject-note") == NOTE_LIMIT


def test_a_letter_is_processed_once_and_the_second_time_is_refused_as_before(scenario, sessions):
    petition = scenario.petition("east")
    scenario.process(petition)
    with pytest.raises(TransitionRefused, match=rf"^petition {petition} is already processed$"):
        scenario.process(petition)
    with sessions() as session:
        moves = session.execute(
            select(AuditEvent.event, AuditEvent.from_state, AuditEvent.to_state)
            .where(AuditEvent.entity == "petition", AuditEvent.entity_id == petition)
            .order_by(AuditEvent.id)
        ).all()
    assert [tuple(move) for move in moves] == [
        ("record", None, "open"),
        ("process", "open", "processed"),
    ]
