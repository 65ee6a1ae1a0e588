"""What an incident's reports to outside bodies say: which body was told, when, by whom, late or
not, and the time limit (read by the incident log, the API and the report)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.definitions.reader import IncidentKind
from workflow.models import Incident, OutsideReport, Person


@dataclass(frozen=True)
class BodyReport:
    """One outside body of an incident: told (when, by whom, how, whether late) or not yet."""

    body: str
    reported_at: datetime | None = None
    reported_by: str | None = None  # the person's name
    note: str | None = None
    late: bool = False  # told after the kind's time limit


@dataclass(frozen=True)
class ReportStatus:
    """An incident's reports to the bodies its kind names, and its time limit."""

    bodies: tuple[BodyReport, ...]
    due_at: datetime | None  # recorded + report_within; None: no limit

    @property
    def untold(self) -> tuple[str, ...]:
        return tuple(body.body for body in self.bodies if body.reported_at is None)

    def overdue(self, now: datetime) -> bool:
        """Some body is still untold and the time limit has passed."""
        return bool(self.untold) and self.due_at is not None and now > self.due_at


def report_statuses(
    session: Session, incidents: list[Incident], kinds: dict[str, IncidentKind]
) -> dict[int, ReportStatus]:
    """incident id → its reports, for those whose kind names bodies to report to."""
    wanted = [incident for incident in incidents if kinds.get(incident.kind, None) is not None]
    wanted = [incident for incident in wanted if kinds[incident.kind].report_to]
    if not wanted:
        return {}
    rows = session.execute(
        select(OutsideReport, Person.name)
        .outerjoin(Person, Person.id == OutsideReport.reported_by_id)
        .where(OutsideReport.incident_id.in_([incident.id for incident in wanted]))
    ).all()
    recorded = {(row.incident_id, row.body): (row, name) for row, name in rows}
    statuses = {}
    for incident in wanted:
        kind = kinds[incident.kind]
        due_at = incident.recorded_at + kind.report_within if kind.report_within else None
        bodies = []
        for body in kind.report_to:
            found = recorded.get((incident.id, body))
            if found is None:
                bodies.append(BodyReport(body))
                continue
            row, name = found
            late = due_at is not None and row.reported_at > due_at
            bodies.append(BodyReport(body, row.reported_at, name, row.note, late))
        statuses[incident.id] = ReportStatus(tuple(bodies), due_at)
    return statuses
