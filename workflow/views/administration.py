"""The administration home's figures (「管理」): what an administrator looks after, counted.

One read for the page an administrator opens first: the units they administer (each granted unit
and every unit under it), the people of those units (active and deactivated), their key sites, the
campaigns started for those units (running and closed), and the definitions on record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from workflow.access import administered_unit_ids, keeps_calendar
from workflow.audit import Actor
from workflow.machines import CLOSED
from workflow.models import Campaign, DefinitionRow, Person, Site, Unit


@dataclass(frozen=True)
class AdministeredUnit:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class AdministrationOverview:
    """What the 「管理」 page counts; ``granted`` are the units granted (the tops of the trees)."""

    granted: list[AdministeredUnit]
    units: int
    people_active: int
    people_inactive: int
    sites: int
    campaigns_running: int
    campaigns_closed: int
    definitions: int
    keeps_calendar: bool


def administration_overview(session: Session, actor: Actor) -> AdministrationOverview:
    """The counts of the actor's administration (every unit for the operator)."""
    ids = administered_unit_ids(session, actor)

    def within(column: Any) -> Any:
        return true() if ids is None else column.in_(ids)

    units = list(session.execute(select(Unit.id, Unit.code, Unit.name, Unit.parent_id)))
    if ids is None:
        granted = [u for u in units if u.parent_id is None]
    else:
        # the tops of the administered trees: a unit whose parent is not administered too
        granted = [u for u in units if u.id in ids and u.parent_id not in ids]
    people: dict[bool, int] = {
        active: count
        for active, count in session.execute(
            select(Person.active, func.count())
            .where(within(Person.unit_id))
            .group_by(Person.active)
        )
    }
    closed = Campaign.state == CLOSED
    campaigns: dict[bool, int] = {
        is_closed: count
        for is_closed, count in session.execute(
            select(closed, func.count()).where(within(Campaign.unit_id)).group_by(closed)
        )
    }
    return AdministrationOverview(
        granted=[AdministeredUnit(u.id, u.code, u.name) for u in granted],
        units=len(units) if ids is None else len(ids),
        people_active=people.get(True, 0),
        people_inactive=people.get(False, 0),
        sites=session.scalar(select(func.count()).select_from(Site).where(within(Site.unit_id)))
        or 0,
        campaigns_running=campaigns.get(False, 0),
        campaigns_closed=campaigns.get(True, 0),
        definitions=session.scalar(select(func.count(func.distinct(DefinitionRow.slug)))) or 0,
        keeps_calendar=keeps_calendar(session, actor),
    )
