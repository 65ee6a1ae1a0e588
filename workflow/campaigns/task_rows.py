"""The rows a phase's tasks and a duty's occurrences become, and the first escalation step of each.

Shared by starting and advancing a campaign (``lifecycle``) and by recurring
duties (``recurring``): both create tasks, and neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, literal, select
from sqlalchemy.orm import Session

from workflow.calendar import WorkingCalendar
from workflow.campaigns.fanout import Scope, load_scope, targets
from workflow.db import in_batches
from workflow.definitions.reader import Definition, RecurringSpec, TaskSpec
from workflow.durations import Counted
from workflow.escalation.levels import first_step_at, steps_for
from workflow.escalation.queue import schedule_selected
from workflow.models import Campaign, CampaignUnit, RoleBinding, Task, Unit, UTCDateTime
from workflow.organisation.roles import Resolution

NO_DUE = {
    "due_on": None,
    "due_estimated": False,
    "due_basis": None,
    "due_rule": None,
    "due_at": None,
}


def task_rows(
    campaign: Campaign,
    definition: Definition,
    spec: TaskSpec | RecurringSpec,
    scope: Scope,
    phase_key: str,
    due: Counted | None,
    period: str | None,
    now: datetime,
) -> list[dict[str, object]]:
    """Task rows for one spec (a one-off task, or one period of a recurring duty) over its
    fan-out, due on ``due``."""
    dates = due.columns("due", campaign.timezone) if due else NO_DUE
    # checked at start; a site added since without one is skipped
    found, _nobody = targets(spec, definition, scope)
    return [
        {
            "campaign_id": campaign.id,
            "phase_key": phase_key,
            "spec_key": spec.id,
            "occurrence_key": f"{phase_key}:{spec.id}:{target.key}"
            + (f":{period}" if period else ""),
            "unit_id": target.unit_id,
            "site_id": target.site_id,
            "entry_id": target.entry_id,
            "period": period,
            "assignee_id": target.assignee_id,
            "title": spec.title,
            "required": spec.required,
            "state": "open",
            **dates,
            "created_at": now,
        }
        for target in found
    ]


def queue_task_escalations(
    session: Session,
    campaign: Campaign,
    definition: Definition,
    rows: list[dict[str, object]],
    now: datetime,
    calendar: WorkingCalendar,
) -> None:
    """Queue the first reminder or level of the required tasks with a due date just created from
    ``rows`` (:class:`DeferredWrites`, of this one campaign)."""
    batch = DeferredWrites()
    batch.add(campaign, definition, rows, now, calendar)
    batch.write(session)


@dataclass
class DeferredWrites:
    """The rows one move writes per campaign (its phases, sub-units, role bindings and tasks) and
    its tasks' first escalation steps, written together at its end (:meth:`write`).

    A cascade starts a thousand campaigns in one move: their rows go in by one executemany per
    table (each executemany costs about a millisecond on PostgreSQL before its first row, in
    psycopg's pipeline), then their required tasks' first reminders or levels by one INSERT …
    SELECT per (phase, due date, first step) over all of them. Overdue required tasks escalate like
    rectifications (DESIGN.md, escalation). Queued per campaign instead, a dozen statements each,
    PostgreSQL planned them over statistics that still called the tasks table empty, and each
    scanned the tasks of every campaign started before it (47 of a province's 82 seconds). The
    task rows go in without RETURNING, which on PostgreSQL costs three times the insert itself.
    """

    # (phase, due date, first step's instant, created at) → the campaigns with such tasks
    groups: dict[tuple[str, date, datetime, datetime], list[int]] = field(default_factory=dict)
    # model → rows to insert, in the order the models were first given (their dependencies')
    rows: dict[Any, list[dict[str, object]]] = field(default_factory=dict)

    def insert(self, model: Any, rows: list[dict[str, object]]) -> None:
        """Rows of ``model`` to insert, before the queue's statements (which read the tasks)."""
        if rows:
            self.rows.setdefault(model, []).extend(rows)

    def add(
        self,
        campaign: Campaign,
        definition: Definition,
        rows: list[dict[str, object]],
        now: datetime,
        calendar: WorkingCalendar,
    ) -> None:
        if definition.escalation is None:
            return
        days = {
            (row["phase_key"], row["due_on"])
            for row in rows
            if row["required"] and row["due_on"] is not None
        }
        for phase_key, due_on in days:
            first_at = first_step_at(
                steps_for(definition.escalation, due_on, campaign.timezone, calendar, now)  # type: ignore[arg-type]
            )
            if first_at is not None:
                key = (phase_key, due_on, first_at, now)
                self.groups.setdefault(key, []).append(campaign.id)  # type: ignore[arg-type]

    def write(self, session: Session) -> None:
        for model, rows in self.rows.items():
            # ORM bulk insert: 50,000 rows as fast as Core (ORM add_all is 12x slower)
            session.execute(insert(model), rows)
        self.rows.clear()
        for (phase_key, due_on, first_at, now), campaign_ids in sorted(self.groups.items()):
            for chosen in in_batches(campaign_ids):
                created = select(
                    literal(first_at, UTCDateTime()), literal("task"), Task.id, literal(0)
                ).where(
                    Task.campaign_id == chosen[0]
                    if len(chosen) == 1
                    else Task.campaign_id.in_(chosen),
                    Task.phase_key == phase_key,
                    Task.state == "open",
                    Task.due_on == due_on,
                    Task.required.is_(True),
                    Task.created_at == now,
                )
                schedule_selected(session, created)
        self.groups.clear()


def stored_scope(session: Session, campaign: Campaign) -> Scope:
    """What the campaign fans out over: the role bindings fixed when it started, today's sites and
    lists."""
    units = list(
        session.scalars(
            select(Unit)
            .join(CampaignUnit, CampaignUnit.unit_id == Unit.id)
            .where(CampaignUnit.campaign_id == campaign.id)
            .order_by(Unit.name, Unit.code)
        )
    )
    resolution = Resolution(units=units)
    rows = session.execute(
        select(RoleBinding.role, RoleBinding.unit_id, RoleBinding.person_id)
        .where(RoleBinding.campaign_id == campaign.id)
        .order_by(RoleBinding.id)
    )
    for role, unit_id, person_id in rows:
        resolution.holders.setdefault((role, unit_id), []).append(person_id)
    return load_scope(session, campaign.unit, resolution)
