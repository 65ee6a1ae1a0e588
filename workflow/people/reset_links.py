"""Password reset links: an administrator (or the operator) asks for one, the person follows it once
within 24 hours and chooses a new password.

The link carries 32 random bytes; the database keeps only their SHA-256 digest (as for API tokens,
``workflow/organisation/tokens.py``), so neither a backup nor a log line opens an account. Asking
for a new link retires the person's earlier ones; using a link retires it and ends every session
and API token of theirs, as any password change does. The mail that carries the link is written to
the outbox in the same transaction as the link (``workflow/mail``); with no mail server the caller
shows the link once instead.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow import audit
from workflow.audit import Actor
from workflow.clock import DEFAULT_TIMEZONE
from workflow.errors import InvalidInput, NotFound
from workflow.mail.outbox import enqueue
from workflow.mail.texts import reset_link_mail
from workflow.models import PasswordReset, Person
from workflow.organisation.tokens import MAX_TOKEN_LENGTH, token_digest
from workflow.people.passwords import PasswordRefused, password_problem, replace_password

VALID_FOR = timedelta(hours=24)
RESET_PATH = "/reset?token="  # a query string: the access log names the path only (webapp/logs.py)


class ResetLinkInvalid(InvalidInput):
    """A link that is unknown, used already, replaced by a newer one, or past its 24 hours: one
    refusal for all, so a guess learns nothing."""

    def __init__(self) -> None:
        super().__init__("this password reset link is used, replaced or expired: ask for a new one")


@dataclass(frozen=True)
class ResetLink:
    person_id: int
    email: str
    name: str
    url: str
    expires_at: datetime


def issue_reset_link(
    session: Session, person_id: int, *, by: Actor, now: datetime, base_url: str
) -> ResetLink:
    """A new single-use link for an active person, valid 24 hours; earlier links of theirs stop
    working. The caller mails it (or shows it once)."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person {person_id}")
    if not person.active:
        raise InvalidInput(f"{person.email} is deactivated: reactivate them first")
    _retire(session, person.id, now)
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordReset(
            person_id=person.id,
            digest=token_digest(token),
            created_at=now,
            expires_at=now + VALID_FOR,
            created_by=by.label[:254],
        )
    )
    audit.record(
        session,
        at=now,
        by=by,
        entity="person",
        entity_id=person.id,
        event="reset_link",
        from_state=None,
        to_state=None,
        campaign_id=None,
        note=f"{person.email}: password reset link, valid 24 hours",
    )
    session.flush()
    return ResetLink(
        person.id,
        person.email,
        person.name,
        base_url.rstrip("/") + RESET_PATH + token,
        now + VALID_FOR,
    )


def mail_reset_link(
    session: Session, link: ResetLink, *, by_name: str, now: datetime, new_account: bool = False
) -> None:
    """Put the link's mail into the outbox (delivered after the transaction, like every mail)."""
    expires = link.expires_at.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).strftime("%Y-%m-%d %H:%M")
    subject, body = reset_link_mail(
        name=link.name, by_name=by_name, link=link.url, expires=expires, new_account=new_account
    )
    enqueue(
        session,
        key=f"reset-{link.person_id}-{link.expires_at.isoformat()}",
        recipient=link.email,
        subject=subject,
        body=body,
        now=now,
    )


def reset_link_holder(session: Session, token: str, *, now: datetime) -> Person:
    """The active person a live link is for; ResetLinkInvalid otherwise."""
    return _live(session, token, now)[1]


def reset_password_with_link(session: Session, token: str, new: str, *, now: datetime) -> Person:
    """Set the person's new password from a live link and retire the link; the rules are those of
    any new password (PasswordRefused names what is wrong, and the link stays usable)."""
    reset, person = _live(session, token, now)
    problem = password_problem(new, person.email, phone=person.phone)
    if problem is not None:
        raise PasswordRefused(problem)
    reset.used_at = now
    replace_password(
        session,
        person,
        new,
        one_time=False,
        event="password_reset_by_link",
        now=now,
        by=Actor.person(person),
    )
    session.flush()
    return person


# --- helpers ------------------------------------------------------------------------------------


def _live(session: Session, token: str, now: datetime) -> tuple[PasswordReset, Person]:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise ResetLinkInvalid()
    found = session.execute(
        select(PasswordReset, Person)
        .join(Person, Person.id == PasswordReset.person_id)
        .where(PasswordReset.digest == token_digest(token))
        .with_for_update(of=PasswordReset)
    ).first()
    if found is None:
        raise ResetLinkInvalid()
    reset, person = found
    if reset.used_at is not None or reset.expires_at <= now or not person.active:
        raise ResetLinkInvalid()
    return reset, person


def _retire(session: Session, person_id: int, now: datetime) -> None:
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.person_id == person_id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
