"""The audit trail: every state change, with who did it, written in the change's own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import AuditEvent, Person


@dataclass(frozen=True)
class Actor:
    """Who is acting: a person of the organisation, or an operator at the command line."""

    label: str
    person_id: int | None = None
    # an operator (the `pingan` command run on the server) may do anything a coordinator may
    is_operator: bool = False

    @classmethod
    def person(cls, person: Person) -> Actor:
        return cls(label=person.email, person_id=person.id)

    @classmethod
    def operator(cls, label: str) -> Actor:
        return cls(label=label, is_operator=True)


SYSTEM = Actor.operator("system")


def record(
    session: Session,
    *,
    at: datetime,
    by: Actor,
    entity: str,
    entity_id: int,
    event: str,
    from_state: str | None,
    to_state: str | None,
    campaign_id: int | None,
    note: str | None = None,
) -> AuditEvent:
    """Add one audit event to the session (flushed with the change it records)."""
    audit_event = AuditEvent(
        at=at,
        campaign_id=campaign_id,
        entity=entity,
        entity_id=entity_id,
        event=event,
        from_state=from_state,
        to_state=to_state,
        actor_id=by.person_id,
        actor=by.label,
        note=note,
    )
    session.add(audit_event)
    return audit_event


def trail(
    session: Session, campaign_id: int, entity: str | None = None, entity_id: int | None = None
) -> list[AuditEvent]:
    """The audit events of a campaign (optionally of one entity), oldest first."""
    query = select(AuditEvent).where(AuditEvent.campaign_id == campaign_id)
    if entity is not None:
        query = query.where(AuditEvent.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    return list(session.scalars(query.order_by(AuditEvent.id)))
