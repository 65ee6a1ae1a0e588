"""The levels below a campaign, rolled up: each sub-unit's campaign with everything under it.

A county's page shows each town with its villages' work summed in: completion, red / amber /
green, 整改率 / 按期整改率 / 逾期未整改数, escalations by level, and what still keeps it in
its phase; the total is the sum of the towns'. The counts are the report's
(``assessment.unit_counts``), so a town's row here equals the town's own report plus its
villages'.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from workflow.access import Need, campaign_for
from workflow.assessment.unit_counts import UnitCounts, count_totals, percent
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.cascade import descendants, open_in_phases
from workflow.clock import Clock, end_of_day, local_date
from workflow.definitions.catalogue import stored_definition
from workflow.limits import CAMPAIGNS_PER_STATEMENT
from workflow.models import Campaign, Rectification, Task, Unit
from workflow.views.inbox import SOON_WORKING_DAYS


@dataclass
class LevelFigures:
    """A sub-unit's campaign and every campaign under it, counted together."""

    counts: UnitCounts = field(default_factory=UnitCounts)
    campaigns: int = 0
    overdue: int = 0  # open tasks and rectifications past their deadline
    due_soon: int = 0  # … due within 3 working days

    @property
    def colour(self) -> str:
        return "red" if self.overdue else "amber" if self.due_soon else "green"

    @property
    def completion(self) -> float | None:
        return percent(self.counts.tasks_done, self.counts.tasks)

    @property
    def rectification_rate(self) -> float | None:
        return percent(self.counts.rectifications_closed, self.counts.rectifications)

    @property
    def on_time_rate(self) -> float | None:
        return percent(self.counts.rectifications_on_time, self.counts.rectifications_due)

    @property
    def escalations(self) -> list[tuple[int, int]]:
        """(level, times reached), the levels in order, reminders left out."""
        return sorted((level, n) for level, n in self.counts.escalations.items() if level > 0)

    def add(self, other: LevelFigures) -> None:
        self.counts.add(other.counts)
        self.campaigns += other.campaigns
        self.overdue += other.overdue
        self.due_soon += other.due_soon


@dataclass
class SubCampaign:
    campaign_id: int
    title: str
    unit: str
    state: str
    phase_title: str
    open_in_phase: int  # required items keeping it in its phase, its own sub-units' included
    figures: LevelFigures


@dataclass
class SubCampaigns:
    campaign_id: int
    rows: list[SubCampaign]
    total: LevelFigures


def sub_campaigns(
    session: Session, campaign_id: int, *, by: Actor, clock: Clock, calendar: WorkingCalendar
) -> SubCampaigns:
    """The campaigns of the sub-units under ``campaign_id``, each with its own sub-units' figures
    summed in; for the campaign's leading group (and those above it)."""
    campaign = campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
    now = clock.now()
    children = list(
        session.execute(
            select(Campaign, Unit.name)
            .join(Unit, Unit.id == Campaign.unit_id)
            .where(Campaign.parent_id == campaign.id)
            .order_by(Unit.name, Campaign.id)
        )
    )
    # every campaign below, known by the child it is under, counted in a few statements
    below_all = [below for below, _name in descendants(session, campaign)]
    under: dict[int, int] = {}
    for below in below_all:
        under[below.id] = below.id if below.parent_id == campaign.id else under[below.parent_id]  # type: ignore[index]
    figures = {child.id: LevelFigures() for child, _name in children}
    for below_id, own in count_totals(session, below_all, now).items():
        figures[under[below_id]].counts.add(own)
        figures[under[below_id]].campaigns += 1
    soon = end_of_day(
        calendar.add_working_days(local_date(now, campaign.timezone), SOON_WORKING_DAYS),
        campaign.timezone,
    )
    ids = list(under)
    for start in range(0, len(ids), CAMPAIGNS_PER_STATEMENT):
        chosen = ids[start : start + CAMPAIGNS_PER_STATEMENT]
        for model, deadline, waiting in (
            (Task, Task.due_at, Task.state == "open"),
            (Rectification, Rectification.deadline_at, Rectification.state == "open"),
        ):
            for below, overdue, due_soon in session.execute(
                select(
                    model.campaign_id,
                    func.count().filter(and_(waiting, deadline <= now)),
                    func.count().filter(and_(waiting, deadline > now, deadline <= soon)),
                )
                .where(model.campaign_id.in_(chosen))
                .group_by(model.campaign_id)
            ):
                figures[under[below]].overdue += overdue
                figures[under[below]].due_soon += due_soon
    opened = open_in_phases(session, [child for child, _name in children])

    rows, total = [], LevelFigures()
    for child, unit_name in children:
        definition = stored_definition(child.definition)
        rows.append(
            SubCampaign(
                child.id,
                child.title,
                unit_name,
                child.state,
                definition.phase(child.state).title
                if child.state in definition.phase_ids()
                else child.state,
                opened[child.id],
                figures[child.id],
            )
        )
        total.add(figures[child.id])
    return SubCampaigns(campaign.id, rows, total)
