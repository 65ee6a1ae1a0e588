"""The daily digest: once a working day, each person with work due within 3 working days or overdue
gets one mail."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.calendar import WorkingCalendar
from workflow.db import dialect_insert
from workflow.mail.outbox import mail_row
from workflow.mail.texts import item_link
from workflow.models import Campaign, DigestDay, OutboxMail, Person, Rectification, Task

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
    lines: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for task_id, title, due_on, person_id, campaign_title in session.execute(
        select(Task.id, Task.title, Task.due_on, Task.assignee_id, Campaign.title)
        .join(Campaign, Campaign.id == Task.campaign_id)
        .where(Task.state == "open", Task.due_on.is_not(None), Task.due_on <= horizon)
    ):
        lines[person_id].append(
            (
                due_on,
                _line(due_on, today, title, campaign_title, item_link(base_url, "task", task_id)),
            )
        )
    for rect_id, text, deadline, person_id, campaign_title in session.execute(
        select(
            Rectification.id,
            Rectification.description,
            Rectification.deadline,
            Rectification.responsible_id,
            Campaign.title,
        )
        .join(Campaign, Campaign.id == Rectification.campaign_id)
        .where(Rectification.state == "open", Rectification.deadline <= horizon)
    ):
        lines[person_id].append(
            (
                deadline,
                _line(
                    deadline,
                    today,
                    f"【整改】{text[:60]}",
                    campaign_title,
                    item_link(base_url, "rectification", rect_id),
                ),
            )
        )
    if not lines:
        return 0
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(lines)))}
    rows = []
    for person_id, items in lines.items():
        person = people[person_id]
        items.sort()
        body = "\n".join(
            [
                f"{person.name}：",
                "",
                f"您有 {len(items)} 项工作已逾期或将在 {DUE_SOON_WORKING_DAYS} 个工作日内到期：",
                f"You have {len(items)} item(s) overdue or due within {DUE_SOON_WORKING_DAYS} "
                "working days:",
                "",
                *[text for _, text in items],
                "",
                "——pingan",
            ]
        )
        rows.append(
            mail_row(
                key=f"digest-{today.isoformat()}-p{person_id}",
                recipient=person.email,
                subject=f"【每日待办】{len(items)} 项待办 / daily digest: {len(items)} item(s) — {today.isoformat()}",  # noqa: E501
                body=body,
                now=now,
            )
        )
    # the day's claim makes it once a day; the key keeps a person's digest once even so
    result = session.connection().execute(
        dialect_insert(session, OutboxMail.__table__).on_conflict_do_nothing(), rows
    )
    return result.rowcount if result.rowcount >= 0 else len(rows)


def _line(due: date, today: date, title: str, campaign: str, link: str) -> str:
    days = (today - due).days
    when = (
        f"已逾期 {days} 天 / {days} day(s) overdue"
        if days > 0
        else "今天到期 / due today"
        if days == 0
        else f"{due.isoformat()} 到期 / due {due.isoformat()}"
    )
    return f"- {title}（{campaign}）{when}\n  {link}"
