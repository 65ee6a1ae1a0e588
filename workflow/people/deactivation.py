"""Deactivating a person who leaves, and reactivating one who returns.

A deactivated person cannot sign in, their sessions and API tokens end at
once, and they hold no role in any running campaign. Deactivation is refused
while they still hold open work (tasks, rectifications, petitions) or are the
responsible person of a key site or list entry, naming each: otherwise the
work, and the duties generated later for that site, would land on nobody who
can act. ``hand_over_to`` moves all of it to a successor first, campaign by
campaign, with the same hand-over (audit, mail) a coordinator uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.audit import Actor
from workflow.campaigns.reassign import hand_over
from workflow.clock import Clock
from workflow.errors import Conflict, InvalidInput
from workflow.machines import PETITION_MACHINE, RECTIFICATION_MACHINE, TASK_MACHINE, states_allowing
from workflow.models import ListEntry, Person, PersonRole, Petition, Rectification, Site, Task
from workflow.organisation.directory import RoleChange, person_by_email
from workflow.people.passwords import end_access
from workflow.people.rebinding import bound_roles, follow_role_changes

# how many open items a refusal names before "… and N more"
NAMED_ITEMS = 10


@dataclass
class Deactivation:
    email: str
    handed_over_to: str | None = None
    moved: list[str] = field(default_factory=list)  # "campaign 3: 2 task(s), 1 rectification(s)"
    tokens_revoked: int = 0
    roles_withdrawn: int = 0
    vacant: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"{self.email} deactivated: signed out everywhere, {self.tokens_revoked} token(s) "
            f"revoked, {self.roles_withdrawn} campaign role(s) withdrawn"
        ]
        if self.handed_over_to:
            lines += [f"handed over to {self.handed_over_to}: {line}" for line in self.moved]
        lines += [f"warning: {line}" for line in self.vacant]
        return "\n".join(lines)


@dataclass(frozen=True)
class HeldItem:
    """One thing still in a person's hands: a task, rectification or petition of a campaign, or a
    key site or list entry they are responsible for; its line is the command line's wording."""

    kind: str  # task | rectification | petition | site | entry
    id: int
    campaign_id: int | None
    title: str | None

    def __str__(self) -> str:
        if self.kind == "site":
            return f"key site {self.title}"
        if self.kind == "entry":
            return f"list entry {self.title}"
        line = f"{self.kind} {self.id} (campaign {self.campaign_id})"
        return f"{line}: {self.title}" if self.title else line


def open_items(session: Session, person_id: int) -> list[HeldItem]:
    """Everything still in the person's hands: what deactivation would orphan."""
    found = [
        HeldItem("task", task_id, campaign_id, title)
        for task_id, campaign_id, title in session.execute(
            select(Task.id, Task.campaign_id, Task.title)
            .where(*_open_tasks_of(person_id))
            .order_by(Task.id)
        )
    ]
    found += [
        HeldItem("rectification", item_id, campaign_id, description.splitlines()[0][:60])
        for item_id, campaign_id, description in session.execute(
            select(Rectification.id, Rectification.campaign_id, Rectification.description)
            .where(*_open_rectifications_of(person_id))
            .order_by(Rectification.id)
        )
    ]
    found += [
        HeldItem("petition", item_id, campaign_id, None)
        for item_id, campaign_id in session.execute(
            select(Petition.id, Petition.campaign_id)
            .where(*_open_petitions_of(person_id))
            .order_by(Petition.id)
        )
    ]
    found += [
        HeldItem("site", site_id, None, f"{code} ({name})")
        for site_id, code, name in session.execute(
            select(Site.id, Site.code, Site.name)
            .where(Site.responsible_id == person_id)
            .order_by(Site.code)
        )
    ]
    found += [
        HeldItem("entry", entry_id, None, f"{code} of {list_key} ({name})")
        for entry_id, list_key, code, name in session.execute(
            select(ListEntry.id, ListEntry.list_key, ListEntry.code, ListEntry.name)
            .where(ListEntry.responsible_id == person_id)
            .order_by(ListEntry.list_key, ListEntry.code)
        )
    ]
    return found


def deactivate_person(
    session: Session,
    email: str,
    *,
    by: Actor,
    clock: Clock,
    base_url: str,
    hand_over_to: str | None = None,
) -> Deactivation:
    """Deactivate the person with ``email``, after handing their open work over if asked.

    Refused (Conflict, naming the items) while they hold open work and no successor is named.
    """
    now = clock.now()
    person = _locked_person(session, email)
    if not person.active:
        raise InvalidInput(f"{person.email} is already inactive")
    result = Deactivation(person.email)
    if hand_over_to:
        successor = person_by_email(session, hand_over_to) if hand_over_to.strip() else None
        if successor is None or successor.id == person.id or not successor.active:
            raise InvalidInput("name an active person other than the one leaving (--hand-over-to)")
        result.handed_over_to = successor.email
        _hand_everything_over(session, person, successor, by, clock, base_url, result)
    left = open_items(session, person.id)
    if left:
        shown = [str(item) for item in left[:NAMED_ITEMS]] + (
            [f"… and {len(left) - NAMED_ITEMS} more"] if len(left) > NAMED_ITEMS else []
        )
        raise Conflict(
            f"{person.email} still holds {len(left)} open item(s): "
            + "; ".join(shown)
            + " — hand them over first (--hand-over-to EMAIL)"
        )
    rebinding = follow_role_changes(session, bound_roles(session, person.id), now=now, by=by)
    result.roles_withdrawn, result.vacant = rebinding.withdrawn, rebinding.vacant
    person.active = False
    result.tokens_revoked = end_access(session, person, now=now, by=by)
    _record(session, person, "deactivate", now, by, str(result).splitlines()[0])
    session.flush()
    return result


def reactivate_person(session: Session, email: str, *, by: Actor, clock: Clock) -> str:
    """Let a deactivated person sign in again, with the roles the organisation gives them bound
    again in the running campaigns; return a one-line summary."""
    now = clock.now()
    person = _locked_person(session, email)
    if person.active:
        raise InvalidInput(f"{person.email} is already active")
    person.active = True
    session.flush()
    roles = session.scalars(select(PersonRole.role).where(PersonRole.person_id == person.id))
    rebinding = follow_role_changes(
        session,
        [RoleChange(person.id, role, person.unit_id, held=True) for role in sorted(roles)],
        now=now,
        by=by,
    )
    summary = f"{person.email} reactivated: {rebinding.granted} campaign role(s) bound again"
    _record(session, person, "reactivate", now, by, summary)
    return summary


# --- helpers ------------------------------------------------------------------------------------


def _open_tasks_of(person_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        Task.assignee_id == person_id,
        Task.state.in_(states_allowing(TASK_MACHINE, "reassign")),
    )


def _open_rectifications_of(person_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        Rectification.responsible_id == person_id,
        Rectification.state.in_(states_allowing(RECTIFICATION_MACHINE, "reassign")),
    )


def _open_petitions_of(person_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        Petition.responsible_id == person_id,
        Petition.state.in_(states_allowing(PETITION_MACHINE, "process")),
    )


def _locked_person(session: Session, email: str) -> Person:
    found = person_by_email(session, email)
    # two operators at once: the second sees the first one's decision, not a stale copy
    return session.scalars(
        select(Person)
        .where(Person.id == found.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _hand_everything_over(
    session: Session,
    person: Person,
    successor: Person,
    by: Actor,
    clock: Clock,
    base_url: str,
    result: Deactivation,
) -> None:
    now = clock.now()
    campaigns = sorted(
        {
            *session.scalars(select(Task.campaign_id).where(*_open_tasks_of(person.id))),
            *session.scalars(
                select(Rectification.campaign_id).where(*_open_rectifications_of(person.id))
            ),
        }
    )
    for campaign_id in campaigns:
        moved = hand_over(
            session,
            campaign_id,
            person.email,
            successor.email,
            by=by,
            clock=clock,
            base_url=base_url,
            note="deactivation",
        )
        result.moved.append(
            f"campaign {campaign_id}: {len(moved.tasks)} task(s), "
            f"{len(moved.rectifications)} rectification(s)"
        )
    for petition in session.scalars(
        select(Petition).where(*_open_petitions_of(person.id)).with_for_update()
    ):
        petition.responsible_id = successor.id
        audit.record(
            session,
            at=now,
            by=by,
            entity="petition",
            entity_id=petition.id,
            event="reassign",
            from_state=None,
            to_state=None,
            campaign_id=petition.campaign_id,
            note=f"hand-over {person.email} → {successor.email} (deactivation)",
        )
        result.moved.append(f"petition {petition.id}")
    for row in (
        *session.scalars(select(Site).where(Site.responsible_id == person.id)),
        *session.scalars(select(ListEntry).where(ListEntry.responsible_id == person.id)),
    ):
        # the organisation file should say so too, or its next import names the old person again
        row.responsible_id = successor.id
        result.moved.append(
            f"responsible for {row.code} ({row.name}): update the organisation file"
        )


def _record(
    session: Session, person: Person, event: str, now: datetime, by: Actor, note: str
) -> None:
    audit.record(
        session,
        at=now,
        by=by,
        entity="person",
        entity_id=person.id,
        event=event,
        from_state="active" if event == "deactivate" else "inactive",
        to_state="inactive" if event == "deactivate" else "active",
        campaign_id=None,
        note=note,
    )
