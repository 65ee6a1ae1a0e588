"""The levels below a campaign, rolled up: each sub-unit's campaign with everything under it.

A county's page shows each town with its villages' work summed in: completion, red / amber /
green, 整改率 / 按期整改率 / 逾期未整改数, escalations by level, and what still keeps it in
its phase; the total is the sum of the towns'. The counts are the report's
(``assessment.unit_counts``), so a town's row here equals the town's own report plus its
villages'.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.access import Need, campaign_for
from workflow.assessment.unit_counts import UnitCounts, count_totals, percent
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.cascade import BlockedChild, branches
from workflow.campaigns.lifecycle import levels_below
from workflow.clock import Clock
from workflow.db import in_batches
from workflow.definitions.catalogue import stored_definition
from workflow.models import Rectification, Task
from workflow.views.standing import due_counts, soon_ends


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
    blocked: list[BlockedChild]  # the sub-units keeping it in its phase (the campaign page's list)


def sub_campaigns(
    session: Session, campaign_id: int, *, by: Actor, clock: Clock, calendar: WorkingCalendar
) -> SubCampaigns:
    """The campaigns of the sub-units under ``campaign_id``, each with its own sub-units' figures
    summed in; for the campaign's leading group (and those above it)."""
    campaign = campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
    now = clock.now()
    # every campaign below, known by the child it is under, counted in a few statements
    levels = levels_below(session, campaign)
    children = [(c, name) for c, name in levels.below if c.parent_id == campaign.id]
    branch = branches(campaign.id, levels.below)
    figures = {child.id: LevelFigures() for child, _name in children}
    for below_id, own in count_totals(session, [c for c, _n in levels.below], now).items():
        figures[branch[below_id].id].counts.add(own)
        figures[branch[below_id].id].campaigns += 1
    soon_until = soon_ends(now, campaign.timezone, calendar)
    for chosen in in_batches(list(branch)):
        for model, deadline in ((Task, Task.due_at), (Rectification, Rectification.deadline_at)):
            for below, overdue, due_soon in session.execute(
                select(
                    model.campaign_id,
                    *due_counts(deadline, model.state == "open", now, soon_until),
                )
                .where(model.campaign_id.in_(chosen))
                .group_by(model.campaign_id)
            ):
                figures[branch[below].id].overdue += overdue
                figures[branch[below].id].due_soon += due_soon

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
                levels.open_in_phase(child),
                figures[child.id],
            )
        )
        total.add(figures[child.id])
    return SubCampaigns(campaign.id, rows, total, levels.blocked(campaign))
