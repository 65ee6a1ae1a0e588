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

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow.directory import person_by_email
from workflow.errors import InvalidInput
from workflow.models import ApiToken, Person

TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters; anything far longer is not ours and is not worth hashing
MAX_TOKEN_LENGTH = 200


def issue_token(session: Session, email: str, now: datetime) -> str:
    """A new token for the person with ``email``; only its digest is stored. NotFound for an unknown e-mail."""
    person = person_by_email(session, email)
    if not person.active:
        raise InvalidInput(f"{person.email} is inactive: no token is issued")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(ApiToken(person_id=person.id, digest=token_digest(token), created_at=now))
    session.flush()
    return token


def person_for_token(session: Session, token: str) -> Person | None:
    """The active person a token belongs to; None when it is unknown, revoked, or its person inactive."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    digest = token_digest(token)
    # Looking up by digest leaks nothing useful through timing: a caller controls the
    # token, not its digest. The compare below guards against a collation that matches loosely.
    row = session.execute(
        select(ApiToken.digest, Person).join(Person, Person.id == ApiToken.person_id)
        .where(ApiToken.digest == digest, ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or not hmac.compare_digest(row[0], digest):
        return None
    person: Person = row[1]
    return person if person.active else None


def revoke_tokens(session: Session, email: str, now: datetime) -> int:
    """Revoke every live token of the person with ``email``; return how many. NotFound for an unknown e-mail."""
    person = person_by_email(session, email)
    result = session.execute(
        update(ApiToken).where(ApiToken.person_id == person.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def token_digest(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8", errors="surrogatepass")).hexdigest()
