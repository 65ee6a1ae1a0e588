"""A campaign's progress: its phase, allowed moves, progress per phase, overdue items."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.access import campaign_for, is_coordinator, load_campaign
from workflow.audit import Actor
from workflow.campaigns.lifecycle import count_phase_blockers
from workflow.clock import Clock, local_date
from workflow.definitions.catalogue import stored_definition
from workflow.machines import CLOSED, DRAFT, TASK_SETTLED_STATES, allowed_events, campaign_machine
from workflow.models import CampaignPhase, Person, Task, Unit

OVERDUE_LIST_LIMIT = 50


@dataclass
class PhaseProgress:
    id: str
    title: str
    status: str  # done | current | pending
    planned_start: date | None
    planned_end: date | None
    started_on: date | None
    ended_at: datetime | None
    late: bool
    tasks: dict[str, int] = field(default_factory=dict)  # state → count

    @property
    def settled(self) -> int:
        """Tasks of the phase that no longer block it (not in the API's JSON: it has the counts per
        state)."""
        return sum(count for state, count in self.tasks.items() if state in TASK_SETTLED_STATES)


@dataclass
class OverdueItem:
    kind: str
    id: int
    title: str
    unit: str | None
    assignee: str
    due_on: date
    days_overdue: int


@dataclass
class CampaignStatus:
    id: int
    title: str
    definition: str
    version: int
    unit: str
    state: str
    state_title: str
    allowed_moves: list[str]
    blocking: int
    phases: list[PhaseProgress]
    overdue_count: int
    overdue: list[OverdueItem]

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def campaign_status(
    session: Session, campaign_id: int, *, clock: Clock, by: Actor | None = None
) -> CampaignStatus:
    """The standing of one campaign as of the clock's now; ``by``, when given, must take part in
    it."""
    now = clock.now()
    campaign = (
        load_campaign(session, campaign_id)
        if by is None
        else campaign_for(session, campaign_id, by)
    )
    definition = stored_definition(campaign.definition)
    today = local_date(now, campaign.timezone)

    counts: dict[str, dict[str, int]] = {}
    for phase_key, state, count in session.execute(
        select(Task.phase_key, Task.state, func.count())
        .where(Task.campaign_id == campaign.id)
        .group_by(Task.phase_key, Task.state)
    ):
        counts.setdefault(phase_key, {})[state] = count

    phase_rows = {
        row.phase_key: row
        for row in session.scalars(
            select(CampaignPhase).where(CampaignPhase.campaign_id == campaign.id)
        )
    }
    order = definition.phase_ids()
    current = (
        order.index(campaign.state)
        if campaign.state in order
        else (len(order) if campaign.state == CLOSED else -1)
    )
    phases = []
    for position, spec in enumerate(definition.phases):
        row = phase_rows.get(spec.id)
        status = "done" if position < current else "current" if position == current else "pending"
        late = bool(status == "current" and row and row.planned_end and today > row.planned_end)
        phases.append(
            PhaseProgress(
                id=spec.id,
                title=spec.title,
                status=status,
                planned_start=row.planned_start if row else None,
                planned_end=row.planned_end if row else None,
                started_on=row.started_on if row else None,
                ended_at=row.ended_at if row else None,
                late=late,
                tasks=counts.get(spec.id, {}),
            )
        )

    overdue_query = (
        select(Task.id, Task.title, Unit.name, Person.name, Task.due_on)
        .join(Person, Person.id == Task.assignee_id)
        .outerjoin(Unit, Unit.id == Task.unit_id)
        .where(Task.campaign_id == campaign.id, Task.state == "open", Task.due_at <= now)
    )
    overdue_count = session.scalar(select(func.count()).select_from(overdue_query.subquery())) or 0
    overdue = [
        OverdueItem("task", tid, title, unit, assignee, due_on, (today - due_on).days)
        for tid, title, unit, assignee, due_on in session.execute(
            overdue_query.order_by(Task.due_at, Task.id).limit(OVERDUE_LIST_LIMIT)
        )
    ]
    in_phase = campaign.state not in (DRAFT, CLOSED)
    blocking = count_phase_blockers(session, campaign) if in_phase else 0
    moves = allowed_events(campaign_machine(order), campaign.state)
    if by is not None and not is_coordinator(session, definition, campaign.id, by):
        moves = []  # starting and advancing are a coordinator's: nobody else is offered them
    return CampaignStatus(
        id=campaign.id,
        title=campaign.title,
        definition=definition.id,
        version=definition.version,
        unit=campaign.unit.name,
        state=campaign.state,
        state_title=definition.phase(campaign.state).title if in_phase else campaign.state,
        allowed_moves=moves,
        blocking=blocking,
        phases=phases,
        overdue_count=overdue_count,
        overdue=overdue,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
