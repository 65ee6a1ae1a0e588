"""API tokens: issued once, stored only as their SHA-256 digest, refused at once when revoked.

A token is 32 random bytes (``secrets.token_urlsafe``), so a plain SHA-256 is
enough: there is nothing to guess that a slow hash would protect. The database
never sees the token itself, so a leaked backup grants no access.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session

from workflow import audit
from workflow.audit import Actor
from workflow.calendar import imports_stamp
from workflow.errors import InvalidInput
from workflow.models import ApiToken, Person
from workflow.organisation.directory import person_by_email
from workflow.people import stand_ins

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


class TokenHolder(NamedTuple):
    """The person a token belongs to, as the engine's Actor, with what an API request reads next,
    read in the same statement: the calendar's imported years (``load_calendar(imports=…)``) and
    the stand-ins in force on the request's day (``stand_ins.absent_for(edges=…)``)."""

    actor: Actor
    calendar_imports: str
    stand_ins: dict[int, int]


def actor_for_token(session: Session, token: str) -> Actor | None:
    """The engine's Actor for the active person a token belongs to; None when it is unknown,
    revoked, or its person inactive."""
    holder = _live_holder(session, token)
    if holder is None:
        return None
    person_id, email = holder
    # labelled by e-mail, as Actor.person labels a person
    return Actor(label=email, person_id=person_id)


def holder_of_token(session: Session, token: str, on: date) -> TokenHolder | None:
    """:func:`actor_for_token`, with the calendar's imports and the stand-ins in force on ``on``
    (the request's local date) carried by the same statement. Asked on every API request: one
    round trip where there were three, four columns and two texts, no ORM object."""
    row = _holder_row(session, _HOLDER_AND_CONTEXT, token, {stand_ins.EDGES_ON: on})
    if row is None:
        return None
    return TokenHolder(
        Actor(label=row.email, person_id=row.id),
        row.calendar_imports or "",
        stand_ins.edges_from(row.stand_ins),
    )


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
    row = _holder_row(session, _HOLDER, token, {})
    return (row.id, row.email) if row is not None else None


def _holder_row(session: Session, statement: Any, token: str, values: dict[str, Any]) -> Any:
    """The row ``statement`` reads for a live token of an active person, or None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    digest = token_digest(token)
    # Looking up by digest leaks nothing useful through timing: a caller controls the
    # token, not its digest. The compare below guards against a collation that matches loosely.
    # a Core statement skips the ORM's autoflush: a token issued in this session counts
    session.flush()
    row = session.connection().execute(statement, {"digest": digest, **values}).first()
    if row is None or not hmac.compare_digest(row.digest, digest) or not row.active:
        return None
    return row


def _holder_statement() -> Select[Any]:
    tokens, people = ApiToken.__table__, Person.__table__
    return (
        select(tokens.c.digest, people.c.id, people.c.email, people.c.active)
        .join(people, people.c.id == tokens.c.person_id)
        .where(tokens.c.digest == bindparam("digest"), tokens.c.revoked_at.is_(None))
    )


# built once: Core statements, compiled once and cached, whose rows are plain tuples
_HOLDER = _holder_statement()
_HOLDER_AND_CONTEXT = _HOLDER.add_columns(
    imports_stamp().label("calendar_imports"), stand_ins.edges_column().label("stand_ins")
)
