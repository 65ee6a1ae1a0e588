"""A coordinator's desk: the town's campaign with tasks checked off and hazards reported fixed, all
awaiting a decision (the bulk decision tests of the engine, the API, the pages and the browser)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.actions import BASE_URL, OPERATOR, actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.tasks import complete_task
from workflow.clock import FixedClock
from workflow.hazards.rectifications import HazardReport, register_hazard, submit_rectification
from workflow.models import Task


@dataclass(frozen=True)
class Desk:
    campaign: int
    done_tasks: list[int]  # the village heads' plans and banners, checked off
    submitted: list[int]  # hazards at 3号道口, reported fixed by east@
    open_tasks: list[int]  # the office's meeting, still open


def laid_out(
    sessions: sessionmaker[Session],
    campaign: int,
    clock: FixedClock,
    calendar: WorkingCalendar,
    hazards: int = 2,
) -> Desk:
    """Check off the village heads' tasks of ``campaign`` (TOWN_WITH_CROSSING, RAILWAY) and register
    ``hazards`` hazards at 3号道口, each reported fixed by east@."""
    with sessions() as session:
        emails = {
            t.id: t.assignee.email
            for t in session.scalars(select(Task).where(Task.campaign_id == campaign))
        }
    assignees = {task: actor(sessions, email) for task, email in emails.items()}
    east = actor(sessions, "east@example.org")
    with sessions.begin() as session:
        rows = session.scalars(
            select(Task).where(Task.campaign_id == campaign).order_by(Task.id)
        ).all()
        heads = [t for t in rows if t.spec_key in ("plan", "banner")]
        meeting = [t.id for t in rows if t.spec_key == "meeting"]
        for task in heads:
            complete_task(session, task.id, by=assignees[task.id], clock=clock, note="已完成")
        done = [t.id for t in heads]
    submitted = []
    for number in range(hazards):
        with sessions.begin() as session:
            rect = register_hazard(
                session,
                campaign,
                HazardReport(
                    site="crossing-3",
                    description=f"道口护栏损坏 {number + 1}",
                    severity="minor",
                    responsible="east@example.org",
                    deadline_working_days=5,
                ),
                by=OPERATOR,
                clock=clock,
                calendar=calendar,
                base_url=BASE_URL,
            )
            submit_rectification(session, rect.id, by=east, clock=clock, note="已修复")
            submitted.append(rect.id)
    return Desk(campaign, done, submitted, meeting)
