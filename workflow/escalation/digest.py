"""The daily digest: once a working day, each person with work due within 3 working days or overdue,
or with items awaiting their decision (a coordinator's), gets one mail (its words:
``mail/texts.py``). While the official calendar lacks this year, or from 1 November next year, every
coordinator of a running campaign gets one and is told so (``people/administrators.py``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.calendar import WorkingCalendar, missing_schedule
from workflow.db import dialect_insert
from workflow.definitions.catalogue import stored_definition
from workflow.machines import CLOSED, DRAFT
from workflow.mail.outbox import mail_row
from workflow.mail.texts import AwaitingLine, DueLine, digest_mail, item_link
from workflow.models import (
    Campaign,
    DigestDay,
    OutboxMail,
    Person,
    Rectification,
    RoleBinding,
    Task,
)
from workflow.people import stand_ins
from workflow.views.awaiting import AwaitingItem, awaiting_by_person

DUE_SOON_WORKING_DAYS = 3


def send_digests(
    session: Session, now: datetime, calendar: WorkingCalendar, *, tz: str, hour: int, base_url: str
) -> int:
    """Queue today's digests if it is a working day past ``hour`` in ``tz``; return how many were
    new."""
    local = now.astimezone(ZoneInfo(tz))
    today = local.date()
    if local.hour < hour or not calendar.is_workday(today):
        return 0
    claimed = session.execute(
        dialect_insert(session, DigestDay)
        .values(day=today, written_at=now)
        .on_conflict_do_nothing()
        .returning(DigestDay.day)
    ).first()
    if claimed is None:
        # today's digests were written (in one transaction with this claim) by an earlier sweep
        return 0
    horizon = calendar.add_working_days(today, DUE_SOON_WORKING_DAYS)
    due: dict[int, list[DueLine]] = defaultdict(list)
    for task_id, title, due_on, person_id, campaign_title, estimated in session.execute(
        select(
            Task.id, Task.title, Task.due_on, Task.assignee_id, Campaign.title, Task.due_estimated
        )
        .join(Campaign, Campaign.id == Task.campaign_id)
        .where(Task.state == "open", Task.due_on.is_not(None), Task.due_on <= horizon)
    ):
        due[person_id].append(
            DueLine(due_on, title, campaign_title, item_link(base_url, "task", task_id), estimated)
        )
    for rect_id, text, deadline, person_id, campaign_title, estimated in session.execute(
        select(
            Rectification.id,
            Rectification.description,
            Rectification.deadline,
            Rectification.responsible_id,
            Campaign.title,
            Rectification.deadline_estimated,
        )
        .join(Campaign, Campaign.id == Rectification.campaign_id)
        .where(Rectification.state == "open", Rectification.deadline <= horizon)
    ):
        due[person_id].append(
            DueLine(
                deadline,
                f"【整改】{text[:60]}",
                campaign_title,
                item_link(base_url, "rectification", rect_id),
                estimated,
            )
        )
    # a coordinator's part: what waits for their decision (verify, extend, process)
    awaiting = awaiting_by_person(session, now=now, calendar=calendar)
    # from 1 November, until next year's official schedule is known: every coordinator is told
    missing_year = missing_schedule(calendar, today)
    told = _running_coordinators(session) if missing_year else set()
    recipients = set(due) | set(awaiting) | told
    if not recipients:
        return 0
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(recipients)))}
    rows = []
    for person_id in sorted(recipients):
        person = people[person_id]
        waiting = awaiting.get(person_id)
        subject, body = digest_mail(
            recipient=person,
            today=today,
            due=sorted(due.get(person_id, [])),
            due_within=DUE_SOON_WORKING_DAYS,
            awaiting=[_awaiting_line(item, base_url) for item in waiting.items] if waiting else [],
            awaiting_total=waiting.total if waiting else 0,
            missing_year=missing_year if person_id in told else None,
        )
        rows.append(
            mail_row(
                key=f"digest-{today.isoformat()}-p{person_id}",
                recipient=person.email,
                subject=subject,
                body=body,
                now=now,
            )
        )
    # whoever stands in for a person away today reads their digest too, marked 「代 张三」
    rows += stand_ins.copy_rows(
        session, [(person_id, today, row) for person_id, row in zip(sorted(recipients), rows)]
    )
    # the day's claim makes it once a day; the key keeps a person's digest once even so
    result = session.connection().execute(
        dialect_insert(session, OutboxMail.__table__).on_conflict_do_nothing(), rows
    )
    return result.rowcount if result.rowcount >= 0 else len(rows)


def _running_coordinators(session: Session) -> set[int]:
    """The active people holding a coordinator's role (access.is_coordinator's rule) in a campaign
    under way."""
    campaigns = session.scalars(select(Campaign).where(Campaign.state.not_in((DRAFT, CLOSED))))
    people: set[int] = set()
    for campaign in campaigns:
        roles = stored_definition(campaign.definition).coordinators
        people.update(
            session.scalars(
                select(RoleBinding.person_id)
                .join(Person, Person.id == RoleBinding.person_id)
                .where(
                    RoleBinding.campaign_id == campaign.id,
                    RoleBinding.role.in_(roles),
                    Person.active.is_(True),
                )
            )
        )
    return people


def _awaiting_line(item: AwaitingItem, base_url: str) -> AwaitingLine:
    # an extension request is decided on its rectification's page
    kind, item_id = (
        ("rectification", item.rectification_id)
        if item.kind == "extension" and item.rectification_id is not None
        else (item.kind, item.id)
    )
    return AwaitingLine(
        item.kind,
        item.title[:60],
        item.campaign_title,
        item.waiting_days,
        item.waiting_working_days,
        item_link(base_url, kind, item_id),
    )
