"""API tokens: issued once, stored only as a digest, refused at once when revoked; SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from workflow.errors import NotFound
from workflow.models import ApiToken
from workflow.organisation.directory import person_by_email
from workflow.organisation.tokens import issue_token, person_for_token, revoke_tokens


def issue(sessions, clock, email="east@example.org"):
    with sessions.begin() as session:
        return issue_token(session, email, clock.now())


def holder(sessions, token):
    with sessions() as session:
        person = person_for_token(session, token)
        return person.email if person else None


def test_a_token_finds_the_person_it_was_issued_to(sessions, town, clock):
    token = issue(sessions, clock)
    assert holder(sessions, token) == "east@example.org"
    assert len(token) >= 40, "32 random bytes"


def test_only_the_digest_of_a_token_is_stored(sessions, town, clock):
    token = issue(sessions, clock)
    with sessions() as session:
        rows = session.execute(
            select(ApiToken.digest, ApiToken.created_at, ApiToken.revoked_at)
        ).all()
    assert rows == [(hashlib.sha256(token.encode()).hexdigest(), clock.now(), None)]
    assert all(token not in str(value) for row in rows for value in row)


def test_every_token_issued_is_different(sessions, town, clock):
    assert len({issue(sessions, clock) for _ in range(5)}) == 5


def test_an_unknown_email_gets_no_token_and_nothing_is_written(sessions, town, clock):
    with pytest.raises(NotFound, match="nobody@example.org"), sessions.begin() as session:
        issue_token(session, "nobody@example.org", clock.now())
    with sessions() as session:
        assert session.scalars(select(ApiToken)).all() == []


def test_an_email_is_matched_whatever_its_case(sessions, town, clock):
    token = issue(sessions, clock, " East@Example.org ")
    assert holder(sessions, token) == "east@example.org"


def test_a_revoked_token_is_refused_at_once(sessions, town, clock):
    first, second = issue(sessions, clock), issue(sessions, clock)
    other = issue(sessions, clock, "west@example.org")

    with sessions.begin() as session:
        assert revoke_tokens(session, "east@example.org", clock.now()) == 2

    assert holder(sessions, first) is None and holder(sessions, second) is None
    assert holder(sessions, other) == "west@example.org", "only that person's tokens are revoked"
    with sessions.begin() as session:
        assert revoke_tokens(session, "east@example.org", clock.now()) == 0, "already revoked"


def test_a_new_token_after_revocation_works(sessions, town, clock):
    issue(sessions, clock)
    with sessions.begin() as session:
        revoke_tokens(session, "east@example.org", clock.now())
    assert holder(sessions, issue(sessions, clock)) == "east@example.org"


def test_the_token_of_a_deactivated_person_is_refused(sessions, town, clock):
    token = issue(sessions, clock)
    with sessions.begin() as session:
        person_by_email(session, "east@example.org").active = False
    assert holder(sessions, token) is None


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 10_000, "令牌", "\x00"])
def test_unknown_or_garbage_tokens_find_nobody(sessions, town, clock, token):
    issue(sessions, clock)
    assert holder(sessions, token) is None


def test_revoking_the_tokens_of_an_unknown_email_is_refused(sessions, town, clock):
    with pytest.raises(NotFound), sessions.begin() as session:
        revoke_tokens(session, "nobody@example.org", clock.now())
