"""API tokens: issued once, stored only as their SHA-256 digest, refused at once when revoked.

A token is 32 random bytes (``secrets.token_urlsafe``), so a plain SHA-256 is
enough: there is nothing to guess that a slow hash would protect. The database
never sees the token itself, so a leaked backup grants no access.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session

from workflow import audit
from workflow.audit import Actor
from workflow.errors import InvalidInput
from workflow.models import ApiToken, Person
from workflow.organisation.directory import person_by_email

# who issues and revokes tokens: the operator at the server's command line (`pingan token`)
TOKEN_ISSUER = Actor.operator("operator")
TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters; anything far longer is not ours and is not worth hashing
MAX_TOKEN_LENGTH = 200


def issue_token(session: Session, email: str, now: datetime, *, by: Actor = TOKEN_ISSUER) -> str:
    """A new token for the person with ``email``; only its digest is stored, and the audit trail
    says who issued it. NotFound for an unknown e-mail."""
    person = person_by_email(session, email)
    if not person.active:
        raise InvalidInput(f"{person.email} is inactive: no token is issued")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = ApiToken(person_id=person.id, digest=token_digest(token), created_at=now)
    session.add(row)
    session.flush()
    audit.record(
        session,
        at=now,
        by=by,
        entity="token",
        entity_id=row.id,
        event="issue",
        from_state=None,
        to_state="live",
        campaign_id=None,
        note=f"for {person.email}",
    )
    return token


def actor_for_token(session: Session, token: str) -> Actor | None:
    """The engine's Actor for the active person a token belongs to; None when it is unknown,
    revoked, or its person inactive. Asked on every API request, so it reads four columns and loads
    no ORM object."""
    holder = _live_holder(session, token)
    if holder is None:
        return None
    person_id, email = holder
    # labelled by e-mail, as Actor.person labels a person
    return Actor(label=email, person_id=person_id)


def person_for_token(session: Session, token: str) -> Person | None:
    """The active person a token belongs to; None when it is unknown, revoked, or its person
    inactive."""
    holder = _live_holder(session, token)
    return session.get(Person, holder[0]) if holder is not None else None


def revoke_tokens(session: Session, email: str, now: datetime, *, by: Actor = TOKEN_ISSUER) -> int:
    """Revoke every live token of the person with ``email``, each revocation in the audit trail;
    return how many. NotFound for an unknown e-mail."""
    person = person_by_email(session, email)
    revoked = session.scalars(
        update(ApiToken)
        .where(ApiToken.person_id == person.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(ApiToken.id)
    ).all()
    for token_id in revoked:
        audit.record(
            session,
            at=now,
            by=by,
            entity="token",
            entity_id=token_id,
            event="revoke",
            from_state="live",
            to_state="revoked",
            campaign_id=None,
            note=f"of {person.email}",
        )
    return len(revoked)


def token_digest(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8", errors="surrogatepass")).hexdigest()


def _live_holder(session: Session, token: str) -> tuple[int, str] | None:
    """The id and e-mail of the active person a live token belongs to."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    digest = token_digest(token)
    # Looking up by digest leaks nothing useful through timing: a caller controls the
    # token, not its digest. The compare below guards against a collation that matches loosely.
    # a Core statement skips the ORM's autoflush: a token issued in this session counts
    session.flush()
    row = session.connection().execute(_HOLDER, {"digest": digest}).first()
    if row is None or not hmac.compare_digest(row.digest, digest) or not row.active:
        return None
    return row.id, row.email


def _holder_statement() -> Select[Any]:
    tokens, people = ApiToken.__table__, Person.__table__
    return (
        select(tokens.c.digest, people.c.id, people.c.email, people.c.active)
        .join(people, people.c.id == tokens.c.person_id)
        .where(tokens.c.digest == bindparam("digest"), tokens.c.revoked_at.is_(None))
    )


# built once: a Core statement, compiled once and cached, whose rows are plain tuples
_HOLDER = _holder_statement()
