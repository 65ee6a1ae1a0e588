"""Reassignment: a coordinator gives a task or a rectification to someone else, or hands over all
open work of a person who leaves the post to their successor.

Every change is an audit event, and the new assignee is told by mail through
the outbox in the same transaction. A hand-over also moves the person's role
bindings in the campaign, so the work the campaign creates later (recurring
duties, escalation notices) reaches the successor too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.access import (
    assignable_person,
    in_leading_group,
    is_coordinator,
    load_campaign,
    require_coordinator,
    require_higher_standing,
)
from workflow.audit import Actor
from workflow.clock import Clock, local_date
from workflow.definitions.catalogue import stored_definition
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.limits import NOTE_LIMIT
from workflow.machines import RECTIFICATION_MACHINE, TASK_MACHINE, can, states_allowing
from workflow.mail.outbox import enqueue
from workflow.mail.texts import item_link
from workflow.models import Campaign, Person, Rectification, RoleBinding, Task
from workflow.organisation.directory import person_by_email
from workflow.people import stand_ins


@dataclass
class HandOver:
    campaign_id: int
    tasks: list[int] = field(default_factory=list)
    rectifications: list[int] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)


def reassign_task(
    session: Session,
    task_id: int,
    to_email: str,
    *,
    by: Actor,
    clock: Clock,
    base_url: str,
    note: str | None = None,
) -> Task:
    """Give an open task to another person; audit-logged, and the new assignee is mailed."""
    row = session.execute(
        select(Task, Campaign)
        .join(Campaign, Campaign.id == Task.campaign_id)
        .where(Task.id == task_id)
        .with_for_update(of=Task)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound(f"no task {task_id}")
    task, campaign = row
    _require_coordinator(
        session, campaign, by, seen=by.person_id == task.assignee_id, what=f"task {task_id}"
    )
    if not can(TASK_MACHINE, task.state, "reassign"):
        raise Conflict(f"task {task.id} is {task.state}: only open tasks are reassigned")
    successor = _successor(session, to_email, task.assignee_id, campaign)
    before = task.assignee.email
    task.assignee_id = successor.id
    _record_and_tell(
        session,
        campaign,
        by,
        clock,
        base_url,
        "task",
        [(task.id, task.title)],
        before,
        successor,
        _clean(note),
    )
    session.expire(task, ["assignee"])  # loaded before the change
    return task


def reassign_rectification(
    session: Session,
    rectification_id: int,
    to_email: str,
    *,
    by: Actor,
    clock: Clock,
    base_url: str,
    note: str | None = None,
) -> Rectification:
    """Make another person responsible for a rectification not yet closed; audit-logged, the new one
    is mailed."""
    row = session.execute(
        select(Rectification, Campaign)
        .join(Campaign, Campaign.id == Rectification.campaign_id)
        .where(Rectification.id == rectification_id)
        .with_for_update(of=Rectification)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound(f"no rectification {rectification_id}")
    rectification, campaign = row
    _require_coordinator(
        session,
        campaign,
        by,
        seen=by.person_id == rectification.responsible_id,
        what=f"rectification {rectification_id}",
    )
    if not can(RECTIFICATION_MACHINE, rectification.state, "reassign"):
        raise Conflict(f"rectification {rectification.id} is closed: reopen it first")
    successor = _successor(session, to_email, rectification.responsible_id, campaign)
    before = rectification.responsible.email
    rectification.responsible_id = successor.id
    _record_and_tell(
        session,
        campaign,
        by,
        clock,
        base_url,
        "rectification",
        [(rectification.id, rectification.description)],
        before,
        successor,
        _clean(note),
    )
    session.expire(rectification, ["responsible"])  # loaded before the change
    return rectification


def hand_over(
    session: Session,
    campaign_id: int,
    from_email: str,
    to_email: str,
    *,
    by: Actor,
    clock: Clock,
    base_url: str,
    note: str | None = None,
) -> HandOver:
    """Move all open work and the role bindings of one person in a campaign to their successor."""
    campaign = load_campaign(session, campaign_id)
    _require_coordinator(session, campaign, by, seen=False, what=f"campaign {campaign_id}")
    try:
        leaving: Person | None = person_by_email(session, from_email)
    except NotFound:
        leaving = None
    successor = _successor(session, to_email, leaving.id if leaving else None, campaign)
    if leaving is None:
        # the answer for a person with nothing here: it does not tell which addresses exist
        raise InvalidInput(
            f"{from_email.strip().lower()} has no open work and no role in this campaign"
        )
    definition = stored_definition(campaign.definition)
    leading = sorted(
        set(
            session.scalars(
                select(RoleBinding.role).where(
                    RoleBinding.campaign_id == campaign.id,
                    RoleBinding.person_id == leaving.id,
                    RoleBinding.unit_id == campaign.unit_id,
                )
            )
        ),
        key=[role.id for role in definition.roles].index,
    )
    require_higher_standing(session, definition, campaign.id, by, leading)
    result = HandOver(campaign.id)
    moved: list[tuple[str, int, str]] = []
    for task in session.scalars(
        select(Task)
        .where(
            Task.campaign_id == campaign.id,
            Task.assignee_id == leaving.id,
            Task.state.in_(states_allowing(TASK_MACHINE, "reassign")),
        )
        .order_by(Task.id)
        .with_for_update()
    ):
        task.assignee_id = successor.id
        result.tasks.append(task.id)
        moved.append(("task", task.id, task.title))
    for rectification in session.scalars(
        select(Rectification)
        .where(
            Rectification.campaign_id == campaign.id,
            Rectification.responsible_id == leaving.id,
            Rectification.state.in_(states_allowing(RECTIFICATION_MACHINE, "reassign")),
        )
        .order_by(Rectification.id)
        .with_for_update()
    ):
        rectification.responsible_id = successor.id
        result.rectifications.append(rectification.id)
        moved.append(("rectification", rectification.id, rectification.description))
    held = {
        (b.role, b.unit_id)
        for b in session.scalars(
            select(RoleBinding).where(
                RoleBinding.campaign_id == campaign.id, RoleBinding.person_id == successor.id
            )
        )
    }
    for binding in session.scalars(
        select(RoleBinding).where(
            RoleBinding.campaign_id == campaign.id, RoleBinding.person_id == leaving.id
        )
    ):
        result.roles.append(binding.role)
        # the successor already holds it there: one binding is enough
        if (
            binding.role,
            binding.unit_id,
        ) in held:
            session.delete(binding)
        else:
            binding.person_id = successor.id
    if not (moved or result.roles):
        raise InvalidInput(f"{leaving.email} has no open work and no role in this campaign")

    now = clock.now()
    text = _clean(note)
    for kind, item_id, _title in moved:
        audit.record(
            session,
            at=now,
            by=by,
            entity=kind,
            entity_id=item_id,
            event="reassign",
            from_state=None,
            to_state=None,
            campaign_id=campaign.id,
            note=f"hand-over {leaving.email} → {successor.email}",
        )
    event = audit.record(
        session,
        at=now,
        by=by,
        entity="campaign",
        entity_id=campaign.id,
        event="hand_over",
        from_state=None,
        to_state=None,
        campaign_id=campaign.id,
        note=(
            f"{leaving.email} → {successor.email}: {len(result.tasks)} task(s), "
            f"{len(result.rectifications)} rectification(s), roles {', '.join(result.roles) or '-'}"
            + (f"; {text}" if text else "")
        ),
    )
    session.flush()
    if moved:
        subject, body = handover_mail(
            successor, campaign.title, leaving.name, by.label, moved, base_url, text
        )
        # to them, and to whoever stands in for them while they are away
        stand_ins.enqueue_to_person(
            session,
            successor,
            local_date(now, campaign.timezone),
            key=f"handover-{event.id}",
            subject=subject,
            body=body,
            now=now,
            campaign_id=campaign.id,
        )
    if leading:
        # a post in the leading group changes hands: both people hear of it, not only the successor
        titles = [definition.role(role).title for role in leading]
        for recipient in (leaving, successor):
            subject, body = role_handover_mail(
                recipient, campaign.title, titles, leaving, successor, by.label, text
            )
            enqueue(
                session,
                key=f"handover-roles-{event.id}-{recipient.id}",
                recipient=recipient.email,
                subject=subject,
                body=body,
                now=now,
                campaign_id=campaign.id,
            )
    return result


def role_handover_mail(
    recipient: Person,
    campaign_title: str,
    titles: list[str],
    leaving: Person,
    successor: Person,
    by: str,
    note: str | None,
) -> tuple[str, str]:
    """Subject and body of the mail telling the leaving person and the successor that leading-group
    roles changed hands."""
    posts = "、".join(titles)
    subject = f"【职务移交】{posts}：{leaving.name} → {successor.name} — {campaign_title}"
    lines = [
        f"{recipient.name}：",
        "",
        f"{by} 已将 {leaving.name}（{leaving.email}）在领导小组中的职务「{posts}」移交给 "
        f"{successor.name}（{successor.email}）。",
        f"{by} has handed the leading-group post(s) {posts} over from {leaving.email} to "
        f"{successor.email}.",
        "",
    ]
    if recipient.id == leaving.id:
        lines += [
            "如非本人知情的安排，请立即与领导小组联系。",
            "If you did not expect this, tell the leading group at once.",
            "",
        ]
    if note:
        lines += [f"说明 note: {note}", ""]
    lines += ["——平安创建活动领导小组办公室 / pingan"]
    return subject, "\n".join(lines)


def handover_mail(
    recipient: Person,
    campaign_title: str,
    previous: str,
    by: str,
    items: list[tuple[str, int, str]],
    base_url: str,
    note: str | None,
) -> tuple[str, str]:
    """Subject and body of the mail telling a person the listed items are now theirs."""
    subject = f"【工作移交】{len(items)} 项工作已转交给您 / {len(items)} item(s) now yours — {campaign_title}"  # noqa: E501
    lines = [
        f"{recipient.name}：",
        "",
        f"{by} 已将原由 {previous} 负责的以下工作转交给您。",
        f"{by} has handed the following work, until now {previous}'s, over to you.",
        "",
    ]
    kinds = {"task": "任务 task", "rectification": "隐患整改 rectification"}
    for number, (kind, item_id, title) in enumerate(items, start=1):
        lines += [
            f"{number}. [{kinds[kind]}] {title}",
            f"   链接 link: {item_link(base_url, kind, item_id)}",
            "",
        ]
    if note:
        lines += [f"说明 note: {note}", ""]
    lines += ["——平安创建活动领导小组办公室 / pingan"]
    return subject, "\n".join(lines)


# --- helpers ------------------------------------------------------------------------------------


def _require_coordinator(
    session: Session, campaign: Campaign, by: Actor, *, seen: bool, what: str
) -> None:
    if not (seen or in_leading_group(session, campaign.id, campaign.unit_id, by)):
        if not is_coordinator(session, stored_definition(campaign.definition), campaign.id, by):
            raise NotFound(f"no {what}")  # its existence is private
    require_coordinator(session, campaign, by, doing=f"reassign {what}")


def _successor(session: Session, email: str, current_id: int | None, campaign: Campaign) -> Person:
    if not (email or "").strip():
        raise InvalidInput("name the person who takes the work over (e-mail)")
    # work stays inside the campaign; one refusal for whoever is not of it (access.py)
    person = assignable_person(session, campaign, email, what="the successor")
    if person.id == current_id:
        raise InvalidInput(f"{person.email} already has this work")
    return person


def _record_and_tell(
    session: Session,
    campaign: Campaign,
    by: Actor,
    clock: Clock,
    base_url: str,
    kind: str,
    items: list[tuple[int, str]],
    before: str,
    successor: Person,
    note: str | None,
) -> None:
    now = clock.now()
    item_id, title = items[0]
    event = audit.record(
        session,
        at=now,
        by=by,
        entity=kind,
        entity_id=item_id,
        event="reassign",
        from_state=None,
        to_state=None,
        campaign_id=campaign.id,
        note=f"{before} → {successor.email}" + (f": {note}" if note else ""),
    )
    session.flush()
    subject, body = handover_mail(
        successor, campaign.title, before, by.label, [(kind, item_id, title)], base_url, note
    )
    # to them, and to whoever stands in for them while they are away
    stand_ins.enqueue_to_person(
        session,
        successor,
        local_date(now, campaign.timezone),
        key=f"reassign-{kind}-{item_id}-{event.id}",
        subject=subject,
        body=body,
        now=now,
        campaign_id=campaign.id,
    )
    session.flush()


def _clean(note: str | None) -> str | None:
    if len(note or "") > NOTE_LIMIT:  # as given (workflow/limits.py): what the forms count
        raise InvalidInput(
            f"the note is too long ({len(note or '')} characters; at most {NOTE_LIMIT})"
        )
    return (note or "").replace("\x00", "").strip() or None
