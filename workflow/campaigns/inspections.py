"""Inspections (检查) that find hazards.

A task or duty the definition marks ``inspection: true`` is an inspection: of a
key site, a unit, a section. Its findings are part of its work, so it is
checked off only once they are recorded: "no problems found", or the hazards
registered from it (each rectification links back to it through ``task_id``).
The tobacco text's chain 经常检查 → 逐件登记 → 提出整改意见 → 临时措施 →
限期解决 is then one flow: the inspection's page registers what it found, each
with its temporary measures and deadline, and the ledger shows which
inspection found each hazard and which found nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.definitions.reader import Definition
from workflow.errors import InvalidInput
from workflow.models import Rectification, Site, Task, Unit

NO_PROBLEMS = "none"
FOUND_HAZARDS = "hazards"


@dataclass(frozen=True)
class InspectionDone:
    """An inspection checked off, with what it found: a row of the report's inspection list."""

    task_id: int
    title: str
    unit: str | None  # names
    site: str | None
    completed_at: datetime | None
    findings: str  # none | hazards
    hazards: int


def is_inspection(definition: Definition, task: Task) -> bool:
    """Whether the task's spec (a phase's task or duty, or a campaign-wide duty) is an
    inspection."""
    if task.phase_key not in definition.phase_ids():
        return False
    specs = (*definition.phase(task.phase_key).tasks, *definition.duties(task.phase_key))
    return any(spec.id == task.spec_key and spec.inspection for spec in specs)


def findings_on_check_off(session: Session, task: Task, no_problems: bool) -> str:
    """What an inspection found, as it is checked off; refused while nothing is recorded."""
    found = session.scalar(
        select(func.count()).select_from(Rectification).where(Rectification.task_id == task.id)
    )
    if found:
        return FOUND_HAZARDS
    if no_problems:
        return NO_PROBLEMS
    raise InvalidInput(
        f"task {task.id} is an inspection: record what it found before checking it off — "
        "no problems, or the hazards it found (register them from the task)"
    )


@dataclass(frozen=True)
class FoundHazard:
    id: int
    description: str
    severity: str
    state: str


def hazards_found_in(session: Session, task_id: int) -> list[FoundHazard]:
    """The hazards registered from this task (an inspection's findings), in order."""
    rows = session.execute(
        select(
            Rectification.id,
            Rectification.description,
            Rectification.severity,
            Rectification.state,
        )
        .where(Rectification.task_id == task_id)
        .order_by(Rectification.id)
    )
    return [FoundHazard(*row) for row in rows]


def inspections_done(session: Session, campaign_id: int) -> list[InspectionDone]:
    """The campaign's inspections checked off, with their findings, oldest first."""
    hazards = (
        select(Rectification.task_id, func.count().label("found"))
        .where(Rectification.campaign_id == campaign_id, Rectification.task_id.is_not(None))
        .group_by(Rectification.task_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Task.id,
            Task.title,
            Unit.name,
            Site.name,
            Task.completed_at,
            Task.findings,
            func.coalesce(hazards.c.found, 0),
        )
        .outerjoin(Unit, Unit.id == Task.unit_id)
        .outerjoin(Site, Site.id == Task.site_id)
        .outerjoin(hazards, hazards.c.task_id == Task.id)
        .where(Task.campaign_id == campaign_id, Task.findings.is_not(None))
        .order_by(Task.completed_at, Task.id)
    )
    return [InspectionDone(*row) for row in rows]
