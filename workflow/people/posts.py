"""Posts changing hands: a role given to a person in their unit or taken from them, reaching every
running campaign at once (``rebinding.follow_role_changes``), and the previous holder's open work
of the role handed to the new one (audited and mailed as any reassignment). Each change is an audit
event of the person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workflow.audit import Actor
from workflow.clock import Clock
from workflow.definitions.catalogue import stored_definition
from workflow.errors import InvalidInput
from workflow.machines import TASK_MACHINE, states_allowing
from workflow.models import Campaign, PersonRole, Task
from workflow.organisation.directory import RoleChange
from workflow.organisation.fields import checked_role, person_row, record_change
from workflow.people.rebinding import Rebinding, follow_role_changes
from workflow.people.records import PersonFound, held_roles, search_people


@dataclass
class RoleGiven:
    """A role given: who else holds it in the unit (their open work of it may be handed over)."""

    person_id: int
    role: str
    unit_id: int
    other_holders: list[PersonFound] = field(default_factory=list)
    rebinding: Rebinding = field(default_factory=Rebinding)


def give_role(
    session: Session, person_id: int, role: str, *, by: Actor, now: datetime
) -> RoleGiven:
    """The person holds ``role`` in their unit from now on, in every running campaign that has the
    role for that unit; the unit's other holders of the role are named for a hand-over."""
    person = person_row(session, person_id)
    role = checked_role(role)
    if not person.active:
        raise InvalidInput(f"{person.email} is deactivated: reactivate them first")
    result = RoleGiven(person.id, role, person.unit_id)
    result.other_holders = [
        holder
        for holder in search_people(session, None, unit_id=person.unit_id, role=role)
        if holder.id != person.id and holder.active
    ]
    if role in held_roles(session, person.id):
        return result
    session.add(PersonRole(person_id=person.id, role=role))
    session.flush()
    record_change(session, "person", person.id, "role_give", by, now, f"{person.email}: {role}")
    result.rebinding = follow_role_changes(
        session, [RoleChange(person.id, role, person.unit_id, held=True)], now=now, by=by
    )
    return result


def take_role(
    session: Session, person_id: int, role: str, *, by: Actor, now: datetime
) -> Rebinding:
    """The person no longer holds ``role``: withdrawn from every running campaign (their open
    work stays theirs until handed over)."""
    person = person_row(session, person_id)
    if role not in held_roles(session, person.id):
        raise InvalidInput(f"{person.email} does not hold the role {role}")
    session.execute(
        delete(PersonRole).where(PersonRole.person_id == person.id, PersonRole.role == role)
    )
    record_change(session, "person", person.id, "role_take", by, now, f"{person.email}: {role}")
    return follow_role_changes(
        session, [RoleChange(person.id, role, person.unit_id, held=False)], now=now, by=by
    )


def open_work_of_role(session: Session, person_id: int, role: str) -> list[tuple[int, int, str]]:
    """The person's open tasks, in running campaigns, of the specs the definition gives to
    ``role``: (task id, campaign id, title)."""
    found = []
    campaigns = session.scalars(
        select(Campaign)
        .where(
            Campaign.closed_at.is_(None),
            Campaign.id.in_(select(Task.campaign_id).where(Task.assignee_id == person_id)),
        )
        .order_by(Campaign.id)
    )
    for campaign in campaigns:
        definition = stored_definition(campaign.definition)
        specs = [
            spec.id
            for phase in definition.phases
            for spec in (*phase.tasks, *definition.duties(phase.id))
            if spec.assignee == role
        ]
        if not specs:
            continue
        found += [
            (task_id, campaign_id, title)
            for task_id, campaign_id, title in session.execute(
                select(Task.id, Task.campaign_id, Task.title)
                .where(
                    Task.campaign_id == campaign.id,
                    Task.assignee_id == person_id,
                    Task.spec_key.in_(specs),
                    Task.state.in_(states_allowing(TASK_MACHINE, "reassign")),
                )
                .order_by(Task.id)
            )
        ]
    return found


def hand_over_role(
    session: Session,
    role: str,
    from_id: int,
    to_id: int,
    *,
    by: Actor,
    clock: Clock,
    base_url: str,
) -> list[int]:
    """The post changes hands: the previous holder gives up ``role`` (withdrawn from the running
    campaigns) and their open tasks of it go to the new holder, each audited and mailed as any
    reassignment. Returns the ids of the tasks moved."""
    from workflow.campaigns.reassign import reassign_task

    leaving, taking = person_row(session, from_id), person_row(session, to_id)
    if leaving.unit_id != taking.unit_id:
        raise InvalidInput("a post is handed over inside one unit")
    if role not in held_roles(session, taking.id):
        raise InvalidInput(f"{taking.email} does not hold the role {role}")
    moved = []
    for task_id, _campaign_id, _title in open_work_of_role(session, leaving.id, role):
        reassign_task(
            session,
            task_id,
            taking.email,
            by=by,
            clock=clock,
            base_url=base_url,
            note=f"{role}: {leaving.name} → {taking.name}",
        )
        moved.append(task_id)
    if role in held_roles(session, leaving.id):
        take_role(session, leaving.id, role, by=by, now=clock.now())
    return moved
