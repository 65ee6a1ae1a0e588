"""Durable outgoing mail: written in the transaction that causes it, delivered afterwards.

A message is never lost (it stays in the table until a server accepted it) and
never sent twice by us: a sender claims a batch by leasing it (``next_attempt_at``
moved ``LEASE`` ahead, committed, so other senders pass it by) and marks each
message sent in its own short transaction as soon as the server accepted it. A
crash between the server's 250 and that commit could resend that one message,
so its Message-ID is built from the outbox key: a resend is recognisable as the
same message. A sender that died leaves the rest of its batch to be taken again
when the lease runs out. Delivery goes through the small
:class:`Mailer` protocol; ``webapp/mail.py`` implements it with Flask-Mail.
"""

from __future__ import annotations

import logging
import smtplib
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from workflow.clock import Clock
from workflow.limits import SUBJECT_LIMIT
from workflow.models import OutboxMail

log = logging.getLogger("pingan.outbox")

BATCH_SIZE = 50
# how long a sender holds a batch it claimed; one that died leaves it to be taken again after this
LEASE = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=6)
FIRST_BACKOFF = timedelta(minutes=1)
MESSAGE_ID_DOMAIN = "pingan.local"


class Undeliverable(Exception):
    """Raised by a :class:`Mailer` for a message that can never be sent as it is (no header could be
    written): it is marked failed, not retried."""


@dataclass(frozen=True)
class OutgoingMail:
    message_id: str
    recipient: str
    subject: str
    body: str


class MailConnection(Protocol):
    def send(self, mail: OutgoingMail) -> None:
        """Hand one message to the server; raise on any refusal."""


class Mailer(Protocol):
    def connect(self) -> AbstractContextManager[MailConnection]:
        """One server connection for a batch of messages."""


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    waiting: int = 0


def enqueue(
    session: Session,
    *,
    key: str,
    recipient: str,
    subject: str,
    body: str,
    now: datetime,
    campaign_id: int | None = None,
) -> OutboxMail:
    """Add a message to the outbox (one recipient per message: Flask-Mail drops refused ones
    silently)."""
    mail = OutboxMail(
        key=key,
        campaign_id=campaign_id,
        recipient=recipient,
        subject=one_line(subject),
        body=body,
        created_at=now,
        attempts=0,
        next_attempt_at=now,
    )
    session.add(mail)
    return mail


def mail_row(
    *,
    key: str,
    recipient: str,
    subject: str,
    body: str,
    now: datetime,
    campaign_id: int | None = None,
) -> dict[str, object]:
    """An outbox row for :func:`enqueue_many`."""
    return {
        "key": key,
        "campaign_id": campaign_id,
        "recipient": recipient,
        "subject": one_line(subject),
        "body": body,
        "created_at": now,
        "attempts": 0,
        "next_attempt_at": now,
    }


def enqueue_many(session: Session, rows: list[dict[str, object]]) -> None:
    """Add many messages at once (Core insert: a sweep after a holiday writes thousands)."""
    if rows:
        session.connection().execute(insert(OutboxMail.__table__), rows)


def one_line(subject: str) -> str:
    """A subject as a mail header takes it: one line (a hazard typed on two lines stopped its mail),
    white space folded, at most ``SUBJECT_LIMIT`` characters."""
    folded = " ".join(subject.split())
    if len(folded) <= SUBJECT_LIMIT:
        return folded
    return folded[: SUBJECT_LIMIT - 1].rstrip() + "…"


def message_id(key: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-._" else "." for ch in key)
    return f"<{safe}@{MESSAGE_ID_DOMAIN}>"


def deliver(
    sessions: sessionmaker[Session], mailer: Mailer, clock: Clock, *, limit: int | None = None
) -> DeliveryReport:
    """Send what is due in the outbox, batch by batch, over one connection per batch."""
    report = DeliveryReport()
    delivered = 0
    while limit is None or delivered < limit:
        with sessions.begin() as session:
            batch = _lease(
                session,
                clock.now(),
                BATCH_SIZE if limit is None else min(BATCH_SIZE, limit - delivered),
            )
        if not batch:
            break
        sent, failed, connection_failed = _send_batch(sessions, batch, mailer, clock)
        report.sent += sent
        report.failed += failed
        delivered += len(batch)
        if connection_failed:
            break  # the server is unwell: leave the rest for the next pass, after the backoff
        # one message refused (or never deliverable) does not hold up the ones behind it
    with sessions() as session:
        report.waiting = pending_count(session)
    return report


def pending_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(OutboxMail)
            .where(OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None))
        )
        or 0
    )


def backoff(attempts: int) -> timedelta:
    """1 min, 2, 4, … doubling up to 6 hours between attempts."""
    return min(FIRST_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


@dataclass(frozen=True)
class _Leased:
    id: int
    key: str
    recipient: str
    subject: str
    body: str
    attempts: int


def _lease(session: Session, now: datetime, size: int) -> list[_Leased]:
    """Take up to ``size`` due messages for ``LEASE``: other senders pass them by until it runs
    out."""
    # SKIP LOCKED: several senders on PostgreSQL share the queue without taking the
    # same row; on SQLite the IMMEDIATE transaction already makes us the only writer.
    query = (
        select(OutboxMail)
        .where(
            OutboxMail.sent_at.is_(None),
            OutboxMail.failed_at.is_(None),
            OutboxMail.next_attempt_at <= now,
        )
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    batch = []
    for mail in session.scalars(query):
        mail.next_attempt_at = now + LEASE
        batch.append(
            # one_line again: a mail queued before subjects were folded is sent all the same
            _Leased(
                mail.id, mail.key, mail.recipient, one_line(mail.subject), mail.body, mail.attempts
            )
        )
    return batch


def _send_batch(
    sessions: sessionmaker[Session], batch: list[_Leased], mailer: Mailer, clock: Clock
) -> tuple[int, int, bool]:
    """Send a leased batch over one connection, recording each outcome as it happens; (sent,
    failed, whether the connection failed)."""
    sent = failed = 0
    connection_failed = False
    pending = list(batch)
    began = time.monotonic()
    try:
        with mailer.connect() as connection:
            while pending and time.monotonic() - began < LEASE.total_seconds() / 2:
                mail = pending[0]
                try:
                    connection.send(
                        OutgoingMail(message_id(mail.key), mail.recipient, mail.subject, mail.body)
                    )
                except Exception as error:  # noqa: BLE001 - a refusal of this message: keep it, retry later
                    if _connection_lost(error):
                        raise
                    pending.pop(0)
                    if _never_deliverable(error):
                        _record_given_up(sessions, mail, error, clock.now())
                    else:
                        _record_failures(sessions, [mail], error, clock.now())
                    failed += 1
                else:
                    pending.pop(0)
                    _record_sent(sessions, mail, clock.now())
                    sent += 1
    except Exception as error:  # noqa: BLE001 - could not connect, or the connection broke
        _record_failures(sessions, pending, error, clock.now())
        failed += len(pending)
        pending = []
        connection_failed = True
    # a slow server used half the lease: give the rest back before another sender may take it
    if pending:
        with sessions.begin() as session:
            session.execute(
                update(OutboxMail)
                .where(OutboxMail.id.in_([mail.id for mail in pending]))
                .values(next_attempt_at=clock.now())
            )
    return sent, failed, connection_failed


def _record_sent(sessions: sessionmaker[Session], mail: _Leased, now: datetime) -> None:
    # its own transaction, right after the server's 250: a crash now can resend this message only
    with sessions.begin() as session:
        session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail.id)
            .values(sent_at=now, last_error=None, attempts=mail.attempts + 1)
        )


def _record_failures(
    sessions: sessionmaker[Session], mails: list[_Leased], error: BaseException, now: datetime
) -> None:
    if not mails:
        return
    last_error = _error_text(error)
    with sessions.begin() as session:
        for mail in mails:
            attempts = mail.attempts + 1
            next_attempt_at = now + backoff(attempts)
            session.execute(
                update(OutboxMail)
                .where(OutboxMail.id == mail.id)
                .values(attempts=attempts, last_error=last_error, next_attempt_at=next_attempt_at)
            )
            log.warning(
                "mail %s to %s not delivered (attempt %d, next at %s): %s",
                mail.key,
                mail.recipient,
                attempts,
                next_attempt_at.isoformat(),
                last_error,
            )


def _record_given_up(
    sessions: sessionmaker[Session], mail: _Leased, error: BaseException, now: datetime
) -> None:
    last_error = _error_text(error)
    with sessions.begin() as session:
        session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail.id)
            .values(attempts=mail.attempts + 1, last_error=last_error, failed_at=now)
        )
    log.error("mail %s to %s can never be delivered: %s", mail.key, mail.recipient, last_error)


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:1000]


def _never_deliverable(error: BaseException) -> bool:
    """Whether the message itself can never be sent: not writable, or refused for good (5xx) for
    its recipient or its content. A refused sender or a 4xx is our configuration or a moment:
    those are retried."""
    if isinstance(error, Undeliverable):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


def _connection_lost(error: BaseException) -> bool:
    """Whether the connection itself failed (stop the batch) rather than one message being
    refused."""
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    # a refusal of this message; the connection still works
    if isinstance(error, smtplib.SMTPException):
        return False
    return isinstance(error, OSError)
