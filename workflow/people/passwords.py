"""Passwords: a one-time password set by an operator, a person changing their own, and the rules.

Both end every browser session and revoke every API token of the person in
the same transaction (``end_access``): whoever knew the old password, or held
a token or a cookie, is out on their very next request. A one-time password
must be changed at the next sign-in before anything else opens (the web app
enforces it from ``must_change_password``).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import Enum

from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from workflow import audit
from workflow.audit import Actor
from workflow.errors import InvalidInput, NotFound
from workflow.limits import MIN_PASSWORD_LENGTH, PASSWORD_LIMIT
from workflow.models import Person
from workflow.organisation.directory import person_by_email
from workflow.organisation.tokens import revoke_tokens

# 10 characters from 56 unambiguous letters and digits (no 0/O, 1/l/I): ~58 bits, typed by hand
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ONE_TIME_LENGTH = 12


class PasswordProblem(Enum):
    """Why a new password is refused; the web page words each one in the reader's language."""

    WRONG_CURRENT = "the current password is wrong"
    TOO_SHORT = f"a password has at least {MIN_PASSWORD_LENGTH} characters"
    TOO_LONG = f"a password has at most {PASSWORD_LIMIT} characters"
    IS_EMAIL = "a password must not be your e-mail address"
    UNCHANGED = "the new password must differ from the current one"


class PasswordRefused(InvalidInput):
    def __init__(self, problem: PasswordProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def set_one_time_password(session: Session, email: str, *, now: datetime, by: Actor) -> str:
    """Give the person a new random password to be changed at the next sign-in; return it.

    Every session and token of theirs ends now. NotFound for an unknown e-mail.
    """
    person = person_by_email(session, email)
    password = "".join(secrets.choice(_ALPHABET) for _ in range(ONE_TIME_LENGTH))
    _replace_password(
        session, person, password, one_time=True, event="password_reset", now=now, by=by
    )
    return password


def change_password(
    session: Session, person_id: int, current: str, new: str, *, now: datetime
) -> Person:
    """The person's own change: the current password first, then the rules; ends every session
    and token (the caller signs the person in again on the page they used)."""
    person = session.get(Person, person_id)
    if person is None or not person.active:
        raise NotFound(f"no person {person_id}")
    if not (person.password_hash and check_password_hash(person.password_hash, current)):
        raise PasswordRefused(PasswordProblem.WRONG_CURRENT)
    problem = password_problem(new, person.email, current)
    if problem is not None:
        raise PasswordRefused(problem)
    _replace_password(
        session,
        person,
        new,
        one_time=False,
        event="password_change",
        now=now,
        by=Actor.person(person),
    )
    return person


def password_problem(new: str, email: str, current: str | None = None) -> PasswordProblem | None:
    """What is wrong with ``new`` as a password, or None."""
    if len(new) < MIN_PASSWORD_LENGTH:
        return PasswordProblem.TOO_SHORT
    if len(new) > PASSWORD_LIMIT:
        return PasswordProblem.TOO_LONG
    folded = new.strip().casefold()
    if folded in {email.casefold(), email.partition("@")[0].casefold()}:
        return PasswordProblem.IS_EMAIL
    if current is not None and new == current:
        return PasswordProblem.UNCHANGED
    return None


def end_access(session: Session, person: Person, *, now: datetime, by: Actor) -> int:
    """End every browser session (a new session token) and revoke every API token of the person;
    return how many tokens were revoked."""
    # the session id carries a fingerprint of this token (webapp/auth/identity.py): a new one
    # invalidates every cookie issued before, copies included
    person.session_token = secrets.token_hex(16)
    return revoke_tokens(session, person.email, now, by=by)


# --- helpers ------------------------------------------------------------------------------------


def _replace_password(
    session: Session,
    person: Person,
    password: str,
    *,
    one_time: bool,
    event: str,
    now: datetime,
    by: Actor,
) -> None:
    """The new hash, whether it must be changed at the next sign-in, every session and token
    ended, and the audit event saying so: one step for a reset and for a person's own change."""
    person.password_hash = generate_password_hash(password)
    person.must_change_password = one_time
    ended = end_access(session, person, now=now, by=by)
    what = "one-time password set" if one_time else "password changed"
    audit.record(
        session,
        at=now,
        by=by,
        entity="person",
        entity_id=person.id,
        event=event,
        from_state=None,
        to_state=None,
        campaign_id=None,
        note=f"{person.email}: {what}; {ended} token(s) revoked",
    )
