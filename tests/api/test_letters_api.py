"""Responsibility letters through the API (issue 17, item 1): the leader issues 3号道口's letter, its signer (李村长)
signs it; refusals take the JSON error shape and change nothing; the routes are in the OpenAPI document. SQLite:
the engine's rules are tested on both databases in tests/engine/test_letters.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.api import assert_error
from tests.support.clock import shanghai
from tests.support.databases import row_counts
from tests.support.texts import LETTERS
from tests.support.web import started_site
from webapp import wiring_of
from workflow.models import Letter
from workflow.organisation.tokens import issue_token


@pytest.fixture
def db_url(sqlite_url):
    return sqlite_url


@pytest.fixture
def api(db_url, sessions, clock, tmp_path):
    app = started_site(db_url, sessions, clock, tmp_path, LETTERS, opens_at=shanghai(2026, 5, 6))
    client = app.test_client()
    with sessions.begin() as session:
        tokens = {
            who: issue_token(session, f"{who}@example.org", clock.now())
            for who in ("leader", "office", "east", "west")
        }

    def call(who, method, path):
        return client.open(
            f"/api/v1{path}", method=method, headers={"Authorization": f"Bearer {tokens[who]}"}
        )

    with sessions() as session:
        letter = session.scalar(select(Letter.id))
    yield call, app.campaign_id, letter
    wiring_of(app).engine.dispose()


def test_the_leader_issues_and_the_signer_signs_through_the_api(api):
    call, campaign, letter = api
    listed = call("office", "GET", f"/campaigns/{campaign}/letters")
    assert [(r["id"], r["state"], r["issuer"], r["signer"]) for r in listed.json] == [
        (letter, "drafted", "张组长", "李村长")
    ]
    assert call("west", "GET", f"/campaigns/{campaign}/letters").json == [], "none of his own"
    issued = call("leader", "POST", f"/letters/{letter}/issue")
    assert (issued.status_code, issued.json["state"], issued.json["signer"]["email"]) == (
        200,
        "issued",
        "east@example.org",
    )
    assert issued.json["link"].endswith(f"/campaigns/{campaign}/letters/{letter}")
    signed = call("east", "POST", f"/letters/{letter}/sign")
    assert (signed.status_code, signed.json["state"]) == (200, "signed")
    assert signed.json["signed_at"].startswith("2026-05-06")
    document = call("east", "GET", "/openapi.json").json
    assert {
        "/campaigns/{campaign_id}/letters",
        "/letters/{letter_id}/issue",
        "/letters/{letter_id}/sign",
    } <= set(document["paths"])
    assert document["components"]["schemas"]["Letter"]["properties"]["state"]["enum"] == [
        "drafted",
        "issued",
        "signed",
    ]


def test_refusals_take_the_error_shape_and_change_nothing(api, sessions):
    call, campaign, letter = api
    before = row_counts(sessions)
    refused = call("east", "POST", f"/letters/{letter}/sign")
    assert_error(refused, 409, "conflict")
    assert (
        refused.json["message"] == f"letter {letter} is not issued yet: its issuer issues it first"
    )
    assert_error(call("office", "POST", f"/letters/{letter}/issue"), 403, "forbidden")
    assert_error(call("west", "POST", f"/letters/{letter}/issue"), 404, "not_found")
    assert_error(call("west", "GET", "/campaigns/999/letters"), 404, "not_found")
    assert row_counts(sessions) == before
    call("leader", "POST", f"/letters/{letter}/issue")
    assert_error(call("leader", "POST", f"/letters/{letter}/issue"), 409, "conflict")
    assert_error(call("office", "POST", f"/letters/{letter}/sign"), 403, "forbidden")
    with sessions() as session:
        assert session.get(Letter, letter).state == "issued"
