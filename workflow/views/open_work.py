"""Open work a coordinator may give to someone else: a campaign's tasks still open and its
rectifications not yet closed, soonest due first, for the page that reassigns many at once
(``workflow/campaigns/bulk.py``). Which states may be reassigned is the machines' rule
(``reassign``), not this module's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.access import Need, campaign_for, is_coordinator
from workflow.audit import Actor
from workflow.definitions.catalogue import stored_definition
from workflow.limits import MAX_DECIDED_AT_ONCE
from workflow.machines import CLOSED, DRAFT, RECTIFICATION_MACHINE, TASK_MACHINE, states_allowing
from workflow.models import Campaign, Person, Rectification, RoleBinding, Task


@dataclass(frozen=True)
class OpenItem:
    kind: str  # task | rectification
    id: int
    title: str
    state: str
    assignee: str  # the name of the person it is with
    assignee_email: str
    due: date | None  # a task's due date, a rectification's deadline


@dataclass
class OpenWork:
    """A campaign's open work, soonest due first: at most the limit, and how many in all."""

    campaign_id: int
    campaign_title: str
    items: list[OpenItem] = field(default_factory=list)
    total: int = 0


def coordinated_campaigns(session: Session, by: Actor) -> list[tuple[int, str]]:
    """The campaigns not closed (nor drafts) that ``by`` coordinates: (id, title), newest first."""
    if by.person_id is None:
        return []
    campaigns = session.scalars(
        select(Campaign)
        .where(
            Campaign.id.in_(
                select(RoleBinding.campaign_id).where(RoleBinding.person_id == by.person_id)
            ),
            Campaign.state.not_in((DRAFT, CLOSED)),
        )
        .order_by(Campaign.id.desc())
    )
    return [
        (campaign.id, campaign.title)
        for campaign in campaigns
        if is_coordinator(session, stored_definition(campaign.definition), campaign.id, by)
    ]


def open_work(
    session: Session, campaign_id: int, *, by: Actor, limit: int = MAX_DECIDED_AT_ONCE
) -> OpenWork:
    """The campaign's open tasks and rectifications not closed, for a coordinator of it (anyone
    else: refused as ``campaign_for`` refuses)."""
    campaign = campaign_for(session, campaign_id, by, Need.COORDINATOR, doing="reassign work")
    work = OpenWork(campaign.id, campaign.title)
    task_states = states_allowing(TASK_MACHINE, "reassign")
    rect_states = states_allowing(RECTIFICATION_MACHINE, "reassign")
    for row in session.execute(
        select(Task.id, Task.title, Task.state, Person.name, Person.email, Task.due_on)
        .join(Person, Person.id == Task.assignee_id)
        .where(Task.campaign_id == campaign.id, Task.state.in_(task_states))
        .order_by(Task.due_on.is_(None), Task.due_on, Task.id)
        .limit(limit)
    ):
        work.items.append(OpenItem("task", *row))
    for row in session.execute(
        select(
            Rectification.id,
            Rectification.description,
            Rectification.state,
            Person.name,
            Person.email,
            Rectification.deadline,
        )
        .join(Person, Person.id == Rectification.responsible_id)
        .where(Rectification.campaign_id == campaign.id, Rectification.state.in_(rect_states))
        .order_by(Rectification.deadline, Rectification.id)
        .limit(limit)
    ):
        work.items.append(OpenItem("rectification", *row))
    work.items.sort(key=lambda item: (item.due is None, item.due or date.max, item.kind, item.id))
    del work.items[limit:]
    work.total = sum(
        session.scalar(
            select(func.count())
            .select_from(model)
            .where(model.campaign_id == campaign.id, model.state.in_(states))
        )  # type: ignore[attr-defined]
        or 0
        for model, states in ((Task, task_states), (Rectification, rect_states))
    )
    return work
