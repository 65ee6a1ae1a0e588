"""Visits per period: for each occurrence of a key site's recurring duty (a monthly patrol, a
quarterly inspection), how many check-ins the site had while it was due, and which sites had none
where one was due.

A check-in counts for an occurrence when it fulfilled it, or when it happened (``visited_at``:
the phone's time for one that waited on the phone) between the occurrence's start and the end of
its due day. An occurrence whose due day has passed with no visit is *missed*; one still running
with none is *waiting*.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import Person, Site, SiteVisit, Task, Unit

VISITED, MISSED, WAITING = "visited", "missed", "waiting"
# a phone's clock this close to the server's is the same time: not worth a second column
SAME_TIME = timedelta(minutes=2)
# a check-in waits on the phone at most this long before it is sent; a phone time further back, or
# ahead of the server, is a wrong clock, kept only to be shown
PLAUSIBLY_WAITED = timedelta(days=7)


@dataclass(frozen=True)
class OccurrenceVisits:
    task_id: int
    campaign_id: int
    site_id: int
    site: str
    unit: str
    title: str
    period: str
    due_on: date | None
    state: str  # the task's
    assignee_id: int
    assignee: str
    started: bool
    visits: int
    standing: str  # visited | missed | waiting


def visited_at(visit: SiteVisit) -> datetime:
    """When the visit happened: the phone's time for a check-in that waited on the phone (at most
    a week, never ahead of the server), else the server's."""
    phone = visit.phone_at
    if phone is not None and visit.at - PLAUSIBLY_WAITED <= phone <= visit.at + SAME_TIME:
        return phone
    return visit.at


def occurrence_visits(
    session: Session,
    *,
    now: datetime,
    campaign_ids: list[int] | None = None,
    site_id: int | None = None,
) -> list[OccurrenceVisits]:
    """The occurrences of key sites' recurring duties (of the campaigns, or at the site), newest
    period first, each with its visits."""
    statement = (
        select(Task, Site.name, Unit.name, Person.name)
        .join(Site, Site.id == Task.site_id)
        .join(Unit, Unit.id == Site.unit_id)
        .join(Person, Person.id == Task.assignee_id)
        .where(Task.site_id.is_not(None), Task.period.is_not(None), Task.state != "cancelled")
        .order_by(Task.due_at.desc(), Unit.id, Site.id, Task.id)
    )
    if campaign_ids is not None:
        statement = statement.where(Task.campaign_id.in_(campaign_ids))
    if site_id is not None:
        statement = statement.where(Task.site_id == site_id)
    rows = session.execute(statement).all()
    times = _visit_times(session, [task for task, *_ in rows])
    result = []
    for task, site, unit, assignee in rows:
        count = sum(
            1
            for visit_id, at in times.get(task.site_id, ())
            if visit_id == task.visit_id
            or (task.due_at is not None and task.created_at <= at <= task.due_at)
        )
        result.append(
            OccurrenceVisits(
                task_id=task.id,
                campaign_id=task.campaign_id,
                site_id=task.site_id,
                site=site,
                unit=unit,
                title=task.title,
                period=task.period,
                due_on=task.due_on,
                state=task.state,
                assignee_id=task.assignee_id,
                assignee=assignee,
                started=task.created_at <= now,
                visits=count,
                standing=_standing(count, task, now),
            )
        )
    return result


# --- helpers -------------------------------------------------------------------------------------


def _visit_times(session: Session, tasks: list[Task]) -> dict[int, list[tuple[int, datetime]]]:
    """The visits (id, when it happened) of the occurrences' sites over their span, by site."""
    if not tasks:
        return {}
    earliest = min(task.created_at for task in tasks) - PLAUSIBLY_WAITED
    site_ids = {task.site_id for task in tasks}
    times: dict[int, list[tuple[int, datetime]]] = {}
    for visit in session.scalars(
        select(SiteVisit).where(SiteVisit.site_id.in_(site_ids), SiteVisit.at >= earliest)
    ):
        times.setdefault(visit.site_id, []).append((visit.id, visited_at(visit)))
    return times


def _standing(visits: int, task: Task, now: datetime) -> str:
    if visits:
        return VISITED
    if task.due_at is not None and task.due_at < now:
        return MISSED
    return WAITING
