"""The meeting a major letter or visit calls for (重大信访会制度).

The women's federation text sets up 重大信访会制度 beside the Wednesday
reception: a major letter or visit is not only processed by the person
responsible, it is taken up by the leading group at a meeting. A definition
says who calls it and how soon (``petitions.major_meeting``); recording a letter
or visit as major creates that task, due counted from the day it was received,
required in the phase it falls in (so the phase is not left with the meeting
not held), escalated like any overdue task, and mails its assignee at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from workflow.calendar import WorkingCalendar
from workflow.campaigns.task_rows import queue_task_escalations, stored_scope, task_rows
from workflow.definitions.reader import Definition
from workflow.durations import count
from workflow.mail.outbox import enqueue
from workflow.models import Campaign, Person, Petition, Task

# the meeting's title names the letter it is about, up to this many characters of its subject
SUBJECT_SHOWN = 60


def call_major_meeting(
    session: Session,
    campaign: Campaign,
    definition: Definition,
    petition: Petition,
    *,
    calendar: WorkingCalendar,
    now: datetime,
    base_url: str,
) -> Task | None:
    """Create the meeting task for a major letter or visit and tell its assignee; None when the
    definition declares no meeting (the letter is still marked major)."""
    rules = definition.petitions
    if rules is None or rules.major_meeting is None or rules.major_meeting_within is None:
        return None
    spec = rules.major_meeting
    due = count(rules.major_meeting_within, petition.received_on, calendar)
    rows = task_rows(
        campaign, definition, spec, stored_scope(session, campaign), campaign.state, due, None, now
    )
    if not rows:  # nobody holds the role (checked when the campaign started)
        return None
    subject = petition.subject.replace("\n", " ")
    shown = subject if len(subject) <= SUBJECT_SHOWN else subject[: SUBJECT_SHOWN - 1] + "…"
    for row in rows:
        # one meeting per letter: a second call (there is none) could not duplicate it
        row["occurrence_key"] = f"petition-{petition.id}:{spec.id}"
        row["title"] = f"{spec.title}：{shown}"
    session.execute(insert(Task), rows)
    queue_task_escalations(session, campaign, definition, rows, now, calendar)
    task = session.scalar(
        select(Task).where(
            Task.campaign_id == campaign.id, Task.occurrence_key == rows[0]["occurrence_key"]
        )
    )
    assignee = session.get(Person, task.assignee_id) if task else None
    if task is not None and assignee is not None:
        channel = "来信" if petition.channel == "letter" else "来访"
        enqueue(
            session,
            key=f"petition-{petition.id}-meeting",
            recipient=assignee.email,
            subject=(
                f"【重大信访】请于 {due.day.isoformat()} 前召开重大信访会：{shown} / "
                f"major petition: hold the meeting by {due.day.isoformat()} — {campaign.title}"
            ),
            body="\n".join(
                [
                    f"{assignee.name}：",
                    "",
                    f"收到一件重大{channel}（{petition.received_on.isoformat()}），"
                    f"按重大信访会制度须于 {due.day.isoformat()} 前召开重大信访会研究处理。",
                    f"A major {petition.channel} was received on "
                    f"{petition.received_on.isoformat()}: the leading group meets on it by "
                    f"{due.day.isoformat()}.",
                    "",
                    f"   事由 subject: {petition.subject}",
                    f"   任务 task: {base_url.rstrip('/')}/tasks/{task.id}",
                    f"   信访 petition: {base_url.rstrip('/')}/petitions/{petition.id}",
                    "",
                    "——平安创建活动领导小组办公室 / pingan",
                ]
            ),
            now=now,
            campaign_id=campaign.id,
        )
    return task
