"""Mail given up on: what a campaign's leading group must tell people another way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.access import Need, campaign_for
from workflow.audit import Actor
from workflow.mail.outbox import one_line
from workflow.models import OutboxMail


@dataclass(frozen=True)
class UndeliverableMail:
    """A mail marked failed for good: whom it was for, what it said, and why it cannot go."""

    recipient: str
    subject: str
    failed_at: datetime
    reason: str


def undeliverable_mails(session: Session, campaign_id: int, by: Actor) -> list[UndeliverableMail]:
    """The campaign's mails that can never be sent, newest first; for its leading group (others:
    not found), who can tell the person another way."""
    campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
    rows = session.execute(
        select(
            OutboxMail.recipient, OutboxMail.subject, OutboxMail.failed_at, OutboxMail.last_error
        )
        .where(OutboxMail.campaign_id == campaign_id, OutboxMail.failed_at.is_not(None))
        .order_by(OutboxMail.failed_at.desc(), OutboxMail.id.desc())
    )
    return [
        UndeliverableMail(recipient, one_line(subject), failed_at, error or "")
        for recipient, subject, failed_at, error in rows
    ]
