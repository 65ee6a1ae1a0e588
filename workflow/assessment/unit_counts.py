"""What targets, the assessment and the report count per unit, from the engine's own rows, as of one
instant.

Counting "as of" an instant rather than "now" is what lets the assessment
freeze: once the campaign leaves its scoring phase, the automatic deductions
are counted as of the moment it left, so a rectification closed a week later
does not move a score that has been published. Timestamps decide (completed,
submitted, closed, processed by then); a state change that left no timestamp
(a rejection after that moment) cannot be seen, which is why the frozen
figures are read from the timestamps alone.

The rates follow the formulas coordinators quote: 整改率 = closed / registered;
按期整改率 = fixed by the ORIGINAL deadline / those whose original deadline has
passed (or that are closed), an extension never makes a late fix punctual;
处理率 = processed / received; 按期办结率 = processed by the deadline / due.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from workflow.campaigns.cascade import branches, descendants
from workflow.clock import end_of_day, local_date
from workflow.db import in_batches
from workflow.definitions.reader import Definition
from workflow.models import (
    Campaign,
    CampaignUnit,
    Escalation,
    Incident,
    Petition,
    Rectification,
    Site,
    Task,
    Unit,
)

DONE_STATES = ("done", "verified")
# what counting needs of each rectification; the report's ledger reads these along with the rest,
# and passes them on
RECTIFICATION_FACTS = (
    Rectification.unit_id,
    Rectification.original_deadline,
    Rectification.deadline_at,
    Rectification.registered_at,
    Rectification.submitted_at,
    Rectification.closed_at,
    Rectification.state,
    Rectification.site_id,
)


@dataclass
class UnitCounts:
    """One unit's (or the whole campaign's) counts as of an instant."""

    tasks: int = 0  # not cancelled
    tasks_done: int = 0
    tasks_due: int = 0  # required tasks with a due date that passed, or done
    tasks_on_time: int = 0  # required tasks done by their due time
    tasks_overdue: int = 0  # required tasks done late, or still open past their due time
    rectifications: int = 0
    rectifications_closed: int = 0
    rectifications_due: int = 0  # original deadline passed, or closed
    rectifications_on_time: int = 0  # fixed (the accepted report) by the original deadline
    rectifications_late: int = 0  # due and not fixed on time: what the assessment deducts for
    # 逾期未整改: not reported fixed, past the current deadline
    rectifications_overdue_open: int = 0
    petitions: int = 0
    petitions_processed: int = 0
    petitions_due: int = 0
    petitions_on_time: int = 0
    # level (0 = the reminder) → times reached
    escalations: Counter[int] = field(default_factory=Counter)
    incidents: Counter[str] = field(default_factory=Counter)  # kind → incidents during the campaign

    def add(self, other: UnitCounts) -> None:
        for name, value in vars(other).items():
            if isinstance(value, Counter):
                getattr(self, name).update(value)
            else:
                setattr(self, name, getattr(self, name) + value)

    def rate(self, measure: str) -> tuple[int, int]:
        """(numerator, denominator) of a rate target's ``measure``."""
        return {
            "petitions_processed": (self.petitions_processed, self.petitions),
            "petitions_processed_on_time": (self.petitions_on_time, self.petitions_due),
            "rectifications_closed": (self.rectifications_closed, self.rectifications),
            "rectifications_closed_on_time": (self.rectifications_on_time, self.rectifications_due),
            "tasks_done_on_time": (self.tasks_on_time, self.tasks_due),
        }[measure]


@dataclass(frozen=True)
class UnitRef:
    """A scored subject: a participating unit, or (with ``assessment.sites``) a key site, whose
    ``id`` is then minus its site id so that one mapping of counts holds both."""

    id: int
    code: str
    name: str
    site_of: str | None = None  # a key site: the name of the unit it belongs to

    @property
    def is_site(self) -> bool:
        return self.site_of is not None


def subject_key(unit_id: int | None, site_id: int | None = None) -> int | None:
    """The key a site's counts are kept under (minus its id); a unit's is its id."""
    return -site_id if site_id is not None else unit_id


@dataclass
class CampaignCounts:
    """Per participating unit, the campaign as a whole, and task completion per phase."""

    as_of: datetime
    # participating unit id → counts (items of no sub-unit are only in ``total``)
    units: dict[int, UnitCounts]
    total: UnitCounts
    phases: dict[str, tuple[int, int]]  # phase id → (tasks, done)


def percent(numerator: int, denominator: int) -> float | None:
    """A share in percent, one decimal; None when there is nothing to count."""
    return round(100.0 * numerator / denominator, 1) if denominator else None


def participating_units(session: Session, campaign: Campaign) -> list[UnitRef]:
    """The sub-units taking part, by name; a campaign of a unit without sub-units is held by that
    unit itself."""
    rows = session.execute(
        select(Unit.id, Unit.code, Unit.name)
        .join(CampaignUnit, CampaignUnit.unit_id == Unit.id)
        .where(CampaignUnit.campaign_id == campaign.id)
        .order_by(Unit.name, Unit.code)
    ).all()
    if not rows:
        return [UnitRef(campaign.unit.id, campaign.unit.code, campaign.unit.name)]
    return [UnitRef(*row) for row in rows]


def participating_sites(session: Session, campaign: Campaign) -> list[UnitRef]:
    """The key sites of the campaign's unit and of its participating sub-units, by unit then site
    name, each as a scored subject (``UnitRef.id`` is minus the site's id)."""
    unit_ids = [campaign.unit_id] + list(
        session.scalars(select(CampaignUnit.unit_id).where(CampaignUnit.campaign_id == campaign.id))
    )
    rows = session.execute(
        select(Site.id, Site.code, Site.name, Unit.name)
        .join(Unit, Unit.id == Site.unit_id)
        .where(Site.unit_id.in_(unit_ids))
        .order_by(Unit.name, Site.name, Site.code)
    ).all()
    return [UnitRef(-site_id, code, name, unit) for site_id, code, name, unit in rows]


def scored_subjects(
    session: Session, campaign: Campaign, definition: Definition, units: list[UnitRef]
) -> list[UnitRef]:
    """Who the assessment scores: the participating units, then, when the definition says
    ``assessment.sites``, every key site."""
    if definition.assessment is None or not definition.assessment.sites:
        return units
    return units + participating_sites(session, campaign)


def campaign_window(campaign: Campaign, as_of: datetime) -> tuple[date, date]:
    """The days the campaign has run by ``as_of``: from its start to its close (or to ``as_of``)."""
    end = (
        campaign.closed_at
        if campaign.closed_at is not None and campaign.closed_at < as_of
        else as_of
    )
    return campaign.starts_on, local_date(end, campaign.timezone)


def count_units(
    session: Session,
    campaign: Campaign,
    units: list[UnitRef],
    as_of: datetime,
    rectifications: list[tuple[Any, ...]] | None = None,
    *,
    levels_below: bool = True,
) -> CampaignCounts:
    """Every count of the campaign's tasks, rectifications, petitions, escalations and incidents, as
    of ``as_of``.

    ``rectifications``: the campaign's rows of ``RECTIFICATION_FACTS`` when the caller has read them
    already. ``levels_below``: a campaign with sub-units' campaigns (a cascade) counts each of them,
    with everything under it, as that sub-unit's own and in the total: a county scores its towns on
    their own results plus its items, and its targets, rates and report cover the levels below.
    """
    counts: dict[int, UnitCounts] = {unit.id: UnitCounts() for unit in units}
    total = UnitCounts()
    phases: dict[str, tuple[int, int]] = {}

    def of(unit_id: int | None, site_id: int | None = None) -> list[UnitCounts]:
        """The campaign's counts, the unit's, and the key site's (when it is scored)."""
        found = [total]
        for key in (unit_id, subject_key(None, site_id)):
            if key is not None and key in counts:
                found.append(counts[key])
        return found

    _count_into(
        session,
        [campaign],
        as_of,
        lambda _c, unit, site=None: of(unit, site),
        phases,
        rectifications,
    )
    if levels_below and campaign.child_definition_id is not None:
        below = descendants(session, campaign)
        branch = branches(campaign.id, below)
        _count_into(
            session,
            [c for c, _name in below],
            as_of,
            lambda c, _unit, _site=None: of(branch[c].unit_id),
        )
    return CampaignCounts(as_of, counts, total, phases)


def count_totals(
    session: Session, campaigns: list[Campaign], as_of: datetime
) -> dict[int, UnitCounts]:
    """Each campaign's own counts as a whole (:func:`count_units`' total, without the levels
    below), in a few statements for all of them: a province's roll-up counts 1,300 campaigns."""
    totals = {campaign.id: UnitCounts() for campaign in campaigns}
    _count_into(session, campaigns, as_of, lambda c, _unit, _site=None: [totals[c]])
    return totals


# --- the queries --------------------------------------------------------------------------------


Of = Callable[..., list[UnitCounts]]  # (campaign id, unit id, site id) → the counts to add to


def _count_into(
    session: Session,
    campaigns: list[Campaign],
    as_of: datetime,
    of: Of,
    phases: dict[str, tuple[int, int]] | None = None,
    rectifications: list[tuple[Any, ...]] | None = None,
) -> None:
    """Count the campaigns' tasks, rectifications, petitions, escalations and incidents as of
    ``as_of`` into what ``of`` names; ``rectifications``: the rows of one campaign, read
    already."""
    by_id = {campaign.id: campaign for campaign in campaigns}
    for chosen in in_batches(list(by_id)):
        for campaign_id, unit_id, site_id, phase, *row in _task_rows(session, chosen, as_of):
            tasks, done, due, on_time, overdue = row
            if phases is not None:
                before = phases.get(phase, (0, 0))
                phases[phase] = (before[0] + tasks, before[1] + done)
            for target in of(campaign_id, unit_id, site_id):
                target.tasks += tasks
                target.tasks_done += done
                target.tasks_due += due
                target.tasks_on_time += on_time
                target.tasks_overdue += overdue
        facts: dict[int, list[tuple[Any, ...]]] = {}
        if rectifications is not None:
            facts[chosen[0]] = rectifications
        else:
            for campaign_id, *fact in session.execute(
                select(Rectification.campaign_id, *RECTIFICATION_FACTS).where(
                    _among(Rectification.campaign_id, chosen)
                )
            ):
                facts.setdefault(campaign_id, []).append(tuple(fact))
        for campaign_id, rows in facts.items():
            _count_rectifications(
                by_id[campaign_id], as_of, rows, lambda u, s=None, c=campaign_id: of(c, u, s)
            )
        for campaign_id, unit_id, deadline_at, processed_at in session.execute(
            select(
                Petition.campaign_id, Petition.unit_id, Petition.deadline_at, Petition.processed_at
            ).where(_among(Petition.campaign_id, chosen), Petition.recorded_at <= as_of)
        ):
            processed = processed_at is not None and processed_at <= as_of
            for target in of(campaign_id, unit_id):
                target.petitions += 1
                target.petitions_processed += processed
                target.petitions_due += processed or deadline_at <= as_of
                target.petitions_on_time += processed and processed_at <= deadline_at
        for campaign_id, unit_id, site_id, level, times in _escalation_rows(session, chosen, as_of):
            for target in of(campaign_id, unit_id, site_id):
                target.escalations[level] += times
        windows = {c: campaign_window(by_id[c], as_of) for c in chosen}
        for campaign_id, unit_id, site_id, kind, occurred_on, times in session.execute(
            select(
                Incident.campaign_id,
                Incident.unit_id,
                Incident.site_id,
                Incident.kind,
                Incident.occurred_on,
                func.count(),
            )
            .where(_among(Incident.campaign_id, chosen), Incident.recorded_at <= as_of)
            .group_by(
                Incident.campaign_id,
                Incident.unit_id,
                Incident.site_id,
                Incident.kind,
                Incident.occurred_on,
            )
        ):
            first, last = windows[campaign_id]
            if first <= occurred_on <= last:
                for target in of(campaign_id, unit_id, site_id):
                    target.incidents[kind] += times


def _among(column: Any, ids: list[int]) -> Any:
    """``column = id`` for one campaign (the plans measured), ``IN`` for many."""
    return column == ids[0] if len(ids) == 1 else column.in_(ids)


def _task_rows(session: Session, campaign_ids: list[int], as_of: datetime) -> list[tuple]:
    """Per (campaign, unit, site, phase): tasks, done, due, done on time, overdue; counted in the
    database (100,000 tasks)."""
    done = and_(Task.state.in_(DONE_STATES), Task.completed_at <= as_of)
    required_dated = and_(Task.required.is_(True), Task.due_at.is_not(None))
    on_time = and_(required_dated, done, Task.completed_at <= Task.due_at)
    passed = and_(required_dated, Task.due_at <= as_of)
    query = (
        select(
            Task.campaign_id,
            Task.unit_id,
            Task.site_id,
            Task.phase_key,
            func.count(),
            func.count().filter(done),
            func.count().filter(and_(required_dated, (Task.due_at <= as_of) | done)),
            func.count().filter(on_time),
            func.count().filter(and_(passed, ~on_time)),
        )
        .where(
            _among(Task.campaign_id, campaign_ids),
            Task.state != "cancelled",
            Task.created_at <= as_of,
        )
        .group_by(Task.campaign_id, Task.unit_id, Task.site_id, Task.phase_key)
    )
    return [tuple(row) for row in session.execute(query)]


def _count_rectifications(
    campaign: Campaign, as_of: datetime, rows: list[tuple[Any, ...]], of
) -> None:  # type: ignore[no-untyped-def]
    """In Python: "fixed by the original deadline" compares a local date, which SQL cannot do
    portably."""
    ends: dict[date, datetime] = {}
    for unit_id, original, deadline_at, registered_at, submitted_at, closed_at, _, site_id in rows:
        if registered_at > as_of:
            continue
        closed = closed_at is not None and closed_at <= as_of
        if original not in ends:
            ends[original] = end_of_day(original, campaign.timezone)
        due = closed or ends[original] <= as_of
        # the fix counts from when it was reported (the report the coordinator then accepted), not
        # from the check
        on_time = closed and (submitted_at or closed_at) < ends[original]
        reported = submitted_at is not None and submitted_at <= as_of
        for target in of(unit_id, site_id):
            target.rectifications += 1
            target.rectifications_closed += closed
            target.rectifications_due += due
            target.rectifications_on_time += on_time
            target.rectifications_late += due and not on_time
            target.rectifications_overdue_open += (
                not closed and not reported and deadline_at <= as_of
            )


def _escalation_rows(
    session: Session, campaign_ids: list[int], as_of: datetime
) -> list[tuple[int, int | None, int | None, int, int]]:
    """(campaign, unit, site, level, times) over the escalations of tasks, rectifications and
    petitions (a letter or visit is at no site)."""
    rows: list[tuple[int, int | None, int | None, int, int]] = []
    for kind, table in (("task", Task), ("rectification", Rectification), ("petition", Petition)):
        places = (table.unit_id,) if table is Petition else (table.unit_id, table.site_id)
        found = session.execute(
            select(Escalation.campaign_id, *places, Escalation.level, func.count())
            # the campaign in the join too: PostgreSQL then reads only this campaign's items
            .join(
                table,
                and_(table.id == Escalation.item_id, table.campaign_id == Escalation.campaign_id),
            )
            .where(
                _among(Escalation.campaign_id, campaign_ids),
                Escalation.item_kind == kind,
                Escalation.reached_at <= as_of,
            )
            .group_by(Escalation.campaign_id, *places, Escalation.level)
        )
        if table is Petition:
            rows += [(c, unit_id, None, level, times) for c, unit_id, level, times in found]
        else:
            rows += [tuple(row) for row in found]  # type: ignore[misc]
    return rows
