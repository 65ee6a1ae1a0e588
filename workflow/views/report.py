"""A campaign's report: what coordinators print for the summary phase and leaders read at a glance.

Sections: the phase timeline planned against actual; completion per phase
and per unit; the hazard ledger (台账, one row per hazard); the rates people
quote (整改率, 按期整改率 against the original deadline, 逾期未整改数), ageing
and days to close; escalations by level; target status; the assessment table
with ranks, vetoes and grades; the commendation and criticism lists.

Rows are plain dicts whose keys are listed in the ``*_COLUMNS`` tuples, so the
JSON, the CSV and the XLSX are the same table: ``report_files`` only adds the
headers. Everything is counted in a few grouped queries; the ledger is the only
section read row by row (DESIGN.md: 20,000 rectifications in well under 2 s).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from workflow.access import Need, campaign_for
from workflow.assessment.scores import assessment_as_of, compute_assessment
from workflow.assessment.targets import evaluate_targets, incident_rows, missed_by_unit
from workflow.assessment.unit_counts import (
    RECTIFICATION_FACTS,
    UnitCounts,
    count_units,
    participating_units,
    percent,
    scored_subjects,
)
from workflow.audit import Actor
from workflow.campaigns.cascade import descendants
from workflow.campaigns.inspections import inspections_done
from workflow.clock import Clock, local_date
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.texts import english_twins
from workflow.durations import last_day
from workflow.field.visits import occurrence_visits
from workflow.models import (
    Campaign,
    CampaignPhase,
    Escalation,
    Person,
    Rectification,
    Site,
    Task,
    Unit,
)
from workflow.views.letters import leading_group_letters

# open rectifications by days since they were registered
AGEING_BUCKETS = ((0, 7, "0–7"), (8, 30, "8–30"), (31, 90, "31–90"), (91, None, "90+"))
CHECK_RESULTS = {
    "closed": "验收合格 accepted",
    "submitted": "待验收 awaiting check",
    "open": "整改中 in progress",
}
PHASE_COLUMNS = (
    "phase",
    "title",
    "planned_start",
    "planned_last_day",
    "started_on",
    "ended_on",
    "status",
    "days_late",
    "tasks",
    "tasks_done",
    "completion",
)
UNIT_COLUMNS = (
    "code",
    "name",
    "tasks",
    "tasks_done",
    "completion",
    "tasks_overdue",
    "rectifications",
    "rectifications_closed",
    "rectification_rate",
    "on_time_rate",
    "overdue_open",
    "petitions",
    "petitions_processed",
    "incidents",
    "escalations",
    "targets_missed",
    "score",
    "rank",
    "grade",
    "vetoed",
    "veto_reasons",
)
LEDGER_COLUMNS = (
    "id",
    "unit",
    "site",
    "location",
    "description",
    "severity",
    "registered_on",
    "found_by",
    "responsible",
    "original_deadline",
    "deadline",
    "extensions",
    "temporary_measures",
    "state",
    "check_result",
    "fixed_on",
    "closed_on",
    "days_to_close",
    "days_overdue",
    # added at the end, so the columns before keep their places (a ledger's formulas in Excel): the
    # deadline counted over a year without the official calendar (Monday–Friday), recomputed when
    # that year's schedule is imported
    "deadline_estimated",
    # the inspection (task) that found it, e.g. 要害部位安全检查 #12
    "inspection",
    # the unit whose campaign holds it: a county's ledger lists its towns' and villages' hazards
    # after its own (workflow/campaigns/cascade.py)
    "campaign_unit",
)
PHASE_DATES = ("planned_start", "planned_last_day", "started_on", "ended_on")
LEDGER_DATES = ("registered_on", "original_deadline", "deadline", "fixed_on", "closed_on")
ESCALATION_COLUMNS = ("level", "colour", "item_kind", "count")
TARGET_COLUMNS = (
    "target",
    "title",
    "kind",
    "bundle",
    "unit",
    "status",
    "actual",
    "expected",
    "detail",
)
LIST_COLUMNS = ("rank", "code", "name", "score", "grade", "reasons", "accountability")
# responsibility letters (责任书): both parties and where each letter stands
LETTER_COLUMNS = (
    "id",
    "title",
    "unit",
    "site",
    "issuer",
    "signer",
    "state",
    "due_on",
    "issued_on",
    "signed_on",
)
LETTER_DATES = ("due_on", "issued_on", "signed_on")


@dataclass
class CampaignReport:
    campaign: dict[str, Any]
    as_of: datetime
    phases: list[dict[str, Any]]
    units: list[dict[str, Any]]
    rectifications: dict[str, Any]
    ledger: list[dict[str, Any]]
    escalations: list[dict[str, Any]]
    targets: list[dict[str, Any]]
    assessment: dict[str, Any]
    commended: list[dict[str, Any]]
    criticised: list[dict[str, Any]]
    # the inspections checked off, each with its findings (none, or the hazards it registered)
    inspections: list[dict[str, Any]] = field(default_factory=list)
    # the responsibility letters (责任书), each with its two parties and where it stands
    letters: list[dict[str, Any]] = field(default_factory=list)
    # each key site's patrols and inspections by period, with the check-ins while they were due
    # (巡查打卡): the sites with none where one was due stand out
    site_visits: list[dict[str, Any]] = field(default_factory=list)
    # the definition's texts → their English twins, for the page in English (not in the JSON, the
    # CSV or the XLSX: those are bilingual documents of their own)
    english: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates and instants as ISO text."""
        return {
            "campaign": self.campaign,
            "as_of": self.as_of.isoformat(),
            "phases": _iso(self.phases, PHASE_DATES),
            "units": self.units,
            "rectifications": self.rectifications,
            "ledger": _iso(self.ledger, LEDGER_DATES),
            "escalations": self.escalations,
            "targets": self.targets,
            "assessment": {**self.assessment, "as_of": self.assessment["as_of"].isoformat()},
            "commended": self.commended,
            "criticised": self.criticised,
            "inspections": _iso(self.inspections, ("completed_on",)),
            "letters": _iso(self.letters, LETTER_DATES),
            "site_visits": _iso(self.site_visits, ("due_on",)),
        }


def build_report(
    session: Session, campaign_id: int, *, by: Actor, clock: Clock, with_ledger: bool = True
) -> CampaignReport:
    """The campaign's report as of now; for its leading group only (others: not found).

    ``with_ledger=False`` leaves the ledger's rows out (the per-unit CSV needs none; 20,000 rows are
    half the work).
    """
    campaign = campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
    now = clock.now()
    definition = stored_definition(campaign.definition)
    units = participating_units(session, campaign)
    local = LocalDays(campaign.timezone)
    # the campaign's own hazards (counted by count_units), then those of every campaign below
    # (counted there too, as their sub-unit's: the rates of the report cover them all)
    below_facts: list[tuple[Any, ...]] = []
    if with_ledger:
        ledger, facts = _ledger(session, campaign, now, local)
        for row in ledger:
            row["campaign_unit"] = campaign.unit.name
        for below, unit_name in descendants(session, campaign):
            rows, their_facts = _ledger(session, below, now, LocalDays(below.timezone))
            ledger += [{**row, "campaign_unit": unit_name} for row in rows]
            below_facts += their_facts
    else:
        ledger, facts = [], _facts_of(session, [campaign.id])
        below = [below.id for below, _name in descendants(session, campaign)]
        below_facts = _facts_of(session, below) if below else []
    subjects = scored_subjects(session, campaign, definition, units)
    counts = count_units(session, campaign, subjects, now, facts)
    targets = evaluate_targets(
        definition, campaign, subjects, counts, incident_rows(session, campaign.id, now)
    )
    # a frozen assessment is counted as of the end of its phase; while it is open, from the same
    # figures
    scored_as_of = assessment_as_of(session, definition, campaign, now)
    if scored_as_of == now:
        scored = compute_assessment(session, definition, campaign, subjects, counts, targets)
    else:
        frozen_counts = count_units(session, campaign, subjects, scored_as_of, facts)
        frozen_targets = evaluate_targets(
            definition,
            campaign,
            subjects,
            frozen_counts,
            incident_rows(session, campaign.id, scored_as_of),
        )
        scored = compute_assessment(
            session, definition, campaign, subjects, frozen_counts, frozen_targets
        )
    results = {row.unit_id: row for row in scored.units}
    codes = {unit.id: unit.code for unit in subjects}
    missed = missed_by_unit(targets)
    proposed = {spec.id: spec.proposal for spec in definition.targets if spec.proposal}

    unit_rows = []
    for unit in units:
        held, result = counts.units[unit.id], results.get(unit.id)
        unit_rows.append(
            {
                "code": unit.code,
                "name": unit.name,
                "tasks": held.tasks,
                "tasks_done": held.tasks_done,
                "completion": percent(held.tasks_done, held.tasks),
                "tasks_overdue": held.tasks_overdue,
                "rectifications": held.rectifications,
                "rectifications_closed": held.rectifications_closed,
                "rectification_rate": percent(held.rectifications_closed, held.rectifications),
                "on_time_rate": percent(held.rectifications_on_time, held.rectifications_due),
                "overdue_open": held.rectifications_overdue_open,
                "petitions": held.petitions,
                "petitions_processed": held.petitions_processed,
                "incidents": sum(held.incidents.values()),
                "escalations": sum(n for level, n in held.escalations.items() if level),
                "targets_missed": len(missed.get(unit.id, [])),
                "score": result.score if result else None,
                "rank": result.rank if result else None,
                "grade": result.grade if result else None,
                "vetoed": result.vetoed if result else False,
                "veto_reasons": "; ".join(f"{m.title}: {m.reason}" for m in result.vetoes)
                if result
                else "",
            }
        )
    return CampaignReport(
        campaign={
            "id": campaign.id,
            "title": campaign.title,
            "state": campaign.state,
            "unit": campaign.unit.name,
            "definition": definition.id,
            "version": definition.version,
            "starts_on": campaign.starts_on.isoformat(),
            "timezone": campaign.timezone,
        },
        as_of=now,
        phases=_phases(session, campaign, definition, counts.phases, now),
        units=unit_rows,
        rectifications=_rates(counts.total, facts + below_facts, local, local(now)),
        ledger=ledger,
        escalations=_escalations(session, campaign.id),
        targets=[
            {
                "target": t.target,
                "title": t.title,
                "kind": t.kind,
                "bundle": t.bundle,
                "unit": codes.get(t.unit_id) if t.unit_id is not None else None,
                "status": "judged" if t.met is None else "met" if t.met else "missed",
                "actual": t.actual,
                "expected": t.expected,
                "detail": t.detail,
                "proposal": proposed.get(t.target),
            }
            for t in targets
        ],
        assessment={
            **scored.to_dict(),
            "as_of": scored.as_of,
            "items": [
                {"id": i.id, "title": i.title, "points": i.points, "proposal": i.proposal}
                for i in (definition.assessment.items if definition.assessment else ())
            ],
            # 建议值: the points, deductions and grades where the text gives none
            "proposal": definition.assessment.proposal if definition.assessment else None,
        },
        commended=[_listed(row) for row in scored.commended],
        criticised=[_listed(row) for row in scored.criticised],
        inspections=[
            {
                "task_id": done.task_id,
                "title": done.title,
                "unit": done.unit,
                "site": done.site,
                "completed_on": local(done.completed_at),
                "findings": done.findings,
                "hazards": done.hazards,
            }
            for done in inspections_done(session, campaign.id)
        ],
        letters=[
            {column: getattr(row, column) for column in LETTER_COLUMNS}
            for row in leading_group_letters(session, campaign)
        ],
        site_visits=[
            {
                "task_id": o.task_id,
                "period": o.period,
                "site": o.site,
                "site_id": o.site_id,
                "unit": o.unit,
                "title": o.title,
                "assignee": o.assignee,
                "due_on": o.due_on,
                "visits": o.visits,
                "standing": o.standing,
                # a patrol checked off in the inbox, with no check-in at its site, is done all the
                # same: both are shown
                "task_state": o.state,
            }
            for o in occurrence_visits(
                session,
                now=now,
                campaign_ids=[campaign.id, *(b.id for b, _ in descendants(session, campaign))],
            )
        ],
        english=english_twins(definition),
    )


class LocalDays:
    """Instants → local dates in one time zone, each distinct instant converted once (20,000 rows, 3
    instants each)."""

    def __init__(self, tz: str) -> None:
        self.tz = tz
        self.days: dict[datetime, date] = {}

    def __call__(self, instant: datetime | None) -> date | None:
        if instant is None:
            return None
        day = self.days.get(instant)
        if day is None:
            day = self.days[instant] = local_date(instant, self.tz)
        return day


# --- sections -----------------------------------------------------------------------------------


def _facts_of(session: Session, campaign_ids: list[int]) -> list[tuple[Any, ...]]:
    """The rows of ``RECTIFICATION_FACTS`` of these campaigns' hazards."""
    return [
        tuple(row)
        for row in session.execute(
            select(*RECTIFICATION_FACTS).where(Rectification.campaign_id.in_(campaign_ids))
        )
    ]


def _rates(
    total: UnitCounts, facts: list[tuple[Any, ...]], local: LocalDays, today: date
) -> dict[str, Any]:
    """整改率, 按期整改率, 逾期未整改数 (from the counts); states, ageing of the open, days to close
    (from the rows)."""
    states: Counter[str] = Counter()
    closing_days, ages = [], []
    for _unit, _original, _deadline_at, registered_at, _submitted_at, closed_at, state, _ in facts:
        states[state] += 1
        if state == "closed":
            closing_days.append((local(closed_at) - local(registered_at)).days)  # type: ignore[operator]
        else:
            ages.append((today - local(registered_at)).days)  # type: ignore[operator]
    return {
        "total": len(facts),
        "open": states["open"],
        "submitted": states["submitted"],
        "closed": states["closed"],
        "rectification_rate": percent(total.rectifications_closed, total.rectifications),
        "on_time_rate": percent(total.rectifications_on_time, total.rectifications_due),
        "overdue_open": total.rectifications_overdue_open,
        "ageing": {
            label: sum(1 for age in ages if age >= low and (high is None or age <= high))
            for low, high, label in AGEING_BUCKETS
        },
        "mean_days_to_close": round(sum(closing_days) / len(closing_days), 1)
        if closing_days
        else None,
        "p90_days_to_close": _percentile(closing_days, 90),
    }


def _phases(
    session: Session,
    campaign: Campaign,
    definition: Any,
    tasks: dict[str, tuple[int, int]],
    now: datetime,
) -> list[dict[str, Any]]:
    today = local_date(now, campaign.timezone)
    rows = []
    for phase in session.scalars(
        select(CampaignPhase)
        .where(CampaignPhase.campaign_id == campaign.id)
        .order_by(CampaignPhase.position)
    ):
        ended_on = local_date(phase.ended_at, campaign.timezone) if phase.ended_at else None
        status = "done" if ended_on else "current" if phase.started_on else "pending"
        reference = ended_on or (today if status == "current" else None)
        last = last_day(phase.planned_end)
        late = (reference - last).days if reference and last else 0
        count, done = tasks.get(phase.phase_key, (0, 0))
        title = (
            definition.phase(phase.phase_key).title
            if phase.phase_key in definition.phase_ids()
            else phase.phase_key
        )
        rows.append(
            {
                "phase": phase.phase_key,
                "title": title,
                "planned_start": phase.planned_start,
                "planned_last_day": last,
                "started_on": phase.started_on,
                "ended_on": ended_on,
                "status": status,
                "days_late": max(late, 0),
                "tasks": count,
                "tasks_done": done,
                "completion": percent(done, count),
            }
        )
    return rows


def _ledger(
    session: Session, campaign: Campaign, now: datetime, local: LocalDays
) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    """台账: one row per hazard; and the rows of ``RECTIFICATION_FACTS`` (read once, for the counts
    and the rates)."""
    responsible, finder, inspection = aliased(Person), aliased(Person), aliased(Task)
    query = (
        select(
            inspection.id,
            inspection.title,
            Rectification.id,
            Unit.name,
            Site.name,
            Rectification.location,
            Rectification.description,
            Rectification.severity,
            finder.name,
            responsible.name,
            Rectification.deadline,
            Rectification.extensions,
            Rectification.temporary_measures,
            Rectification.deadline_estimated,
            *RECTIFICATION_FACTS,
        )
        .join(responsible, responsible.id == Rectification.responsible_id)
        .outerjoin(finder, finder.id == Rectification.registered_by_id)
        .outerjoin(Unit, Unit.id == Rectification.unit_id)
        .outerjoin(Site, Site.id == Rectification.site_id)
        .outerjoin(inspection, inspection.id == Rectification.task_id)
        .where(Rectification.campaign_id == campaign.id)
        .order_by(Rectification.id)
    )
    today = local(now)
    rows, facts = [], []
    for (
        inspection_id,
        inspection_title,
        rid,
        unit,
        site,
        location,
        description,
        severity,
        found_by,
        who,
        deadline,
        extensions,
        measures,
        estimated,
        *fact,
    ) in session.execute(query):
        _unit, original, deadline_at, registered_at, submitted_at, closed_at, state, _site = fact
        facts.append(tuple(fact))
        registered_on, closed_on = local(registered_at), local(closed_at)
        overdue = state == "open" and now >= deadline_at
        rows.append(
            {
                "id": rid,
                "unit": unit,
                "site": site,
                "location": location,
                "description": description,
                "severity": severity,
                "registered_on": registered_on,
                "found_by": found_by,
                "responsible": who,
                "original_deadline": original,
                "deadline": deadline,
                "extensions": extensions,
                "temporary_measures": measures,
                "state": state,
                "check_result": "逾期未整改 overdue"
                if overdue
                else CHECK_RESULTS.get(state, state),
                "fixed_on": local(submitted_at),
                "closed_on": closed_on,
                "days_to_close": (closed_on - registered_on).days if closed_on else None,  # type: ignore[operator]
                "days_overdue": (today - deadline).days if overdue else 0,
                "deadline_estimated": bool(estimated),
                "inspection": f"{inspection_title} #{inspection_id}" if inspection_id else None,
            }
        )  # type: ignore[operator]
    return rows, facts


def _escalations(session: Session, campaign_id: int) -> list[dict[str, Any]]:
    return [
        {"level": level, "colour": colour, "item_kind": kind, "count": count}
        for level, colour, kind, count in session.execute(
            select(Escalation.level, Escalation.colour, Escalation.item_kind, func.count())
            .where(Escalation.campaign_id == campaign_id)
            .group_by(Escalation.level, Escalation.colour, Escalation.item_kind)
            .order_by(Escalation.level, Escalation.item_kind)
        )
    ]


def _listed(result: Any) -> dict[str, Any]:
    return {
        "rank": result.rank,
        "code": result.code,
        "name": result.name,
        "score": result.score,
        "grade": result.grade,
        "reasons": "; ".join(f"{m.title}: {m.reason}" for m in result.criticisms),
        "accountability": any(m.accountability for m in result.criticisms),
    }


def _percentile(values: list[int], share: int) -> int | None:
    """Nearest-rank percentile: the smallest value at least ``share`` percent of the values do not
    exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share / 100 * len(ordered)) - 1, 0)]


def _iso(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """The rows with the dates under ``keys`` as ISO text (only those keys are looked at: 20,000
    ledger rows)."""
    shown = []
    for row in rows:
        row = dict(row)
        for key in keys:
            if row[key] is not None:
                row[key] = row[key].isoformat()
        shown.append(row)
    return shown
