"""The mail that tells a person a coordinator sent their work back (a task checked off, a hazard
reported fixed): the reason, a rectification's new deadline, the link. Queued in the move's own
transaction, keyed by the move's audit event, so one sending back is one mail (and one copy for a
stand-in, workflow/people/stand_ins.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.audit import Actor
from workflow.clock import local_date
from workflow.mail.texts import sent_back_mail
from workflow.models import AuditEvent, Campaign, Person
from workflow.people import stand_ins


def tell_sent_back(
    session: Session,
    *,
    kind: str,
    item_id: int,
    title: str,
    person: Person,
    campaign: Campaign,
    by: Actor,
    reason: str,
    deadline: date | None,
    now: datetime,
    base_url: str,
) -> None:
    """Queue the mail to ``person`` whose ``kind`` ``item_id`` was just sent back (after its audit
    event is flushed)."""
    event_id = session.scalar(
        select(func.max(AuditEvent.id)).where(
            AuditEvent.entity == kind, AuditEvent.entity_id == item_id
        )
    )
    subject, body = sent_back_mail(
        person, campaign.title, kind, item_id, title, by.label, reason, deadline, base_url
    )
    # to them, and to whoever stands in for them while they are away
    stand_ins.enqueue_to_person(
        session,
        person,
        local_date(now, campaign.timezone),
        key=f"sent-back-{kind}-{item_id}-{event_id}",
        subject=subject,
        body=body,
        now=now,
        campaign_id=campaign.id,
    )
