"""Passwords: a one-time password set by an operator, a person changing their own, and the rules.

Both end every browser session and revoke every API token of the person in
the same transaction (``end_access``): whoever knew the old password, or held
a token or a cookie, is out on their very next request. A one-time password
must be changed at the next sign-in before anything else opens (the web app
enforces it from ``must_change_password``).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from enum import Enum
from functools import lru_cache

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
    IS_PHONE = "a password must not be your mobile number"
    COMMON = "this password is one of the most commonly used ones"
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
    replace_password(
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
    problem = password_problem(new, person.email, current, phone=person.phone)
    if problem is not None:
        raise PasswordRefused(problem)
    replace_password(
        session,
        person,
        new,
        one_time=False,
        event="password_change",
        now=now,
        by=Actor.person(person),
    )
    return person


def password_problem(
    new: str, email: str, current: str | None = None, *, phone: str | None = None
) -> PasswordProblem | None:
    """What is wrong with ``new`` as a password, or None.

    Commonly used passwords are zxcvbn's list (about 30,000, from leaked password sets, kept with
    the maintained ``zxcvbn`` package); the Chinese favourites a leak list of English sites misses
    (5201314, woaini…) are checked once their digits and letters are stripped of repetition.
    """
    if len(new) < MIN_PASSWORD_LENGTH:
        return PasswordProblem.TOO_SHORT
    if len(new) > PASSWORD_LIMIT:
        return PasswordProblem.TOO_LONG
    folded = new.strip().casefold()
    if folded in {email.casefold(), email.partition("@")[0].casefold()}:
        return PasswordProblem.IS_EMAIL
    if phone and phone in re.sub(r"\D", "", folded) and len(re.sub(r"\d", "", folded)) < 4:
        return PasswordProblem.IS_PHONE
    if _is_common(folded):
        return PasswordProblem.COMMON
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


def replace_password(
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


# --- helpers ------------------------------------------------------------------------------------

# passwords Chinese users choose that an English leak list ranks low or misses
_CHINESE_FAVOURITES = ("woaini", "5201314", "1314520", "iloveyou", "aini1314", "qq123456")


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _is_common(folded: str) -> bool:
    """Whether the password is a common one, one character or two repeated, a run of digits, or a
    common one with a year or a few digits added (``password2026``, ``woaini1314``)."""
    if folded in _common_passwords():
        return True
    stem = re.sub(r"(19|20)\d\d$|[!@#.]+$", "", folded)
    if stem in _common_passwords() or len(set(folded)) <= 2:
        return True
    if re.fullmatch(r"\d+", folded) and folded in "01234567890123456789" + "98765432109876543210":
        return True
    rest = folded
    for favourite in _CHINESE_FAVOURITES:
        rest = rest.replace(favourite, "")
    # what is left beside a favourite is a year, a 1314 or a few keys
    return rest != folded and (len(rest) < 4 or (rest.isdigit() and len(rest) <= 4))
