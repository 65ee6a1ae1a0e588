"""Campaigns at every level (各级创建组织): a county's campaign runs in each town, each town's in
its villages.

A definition with ``cascade`` starts, when its campaign enters the phase ``when``, one campaign
in each participating sub-unit, of the definition it names (or its own). What those children
run on is fixed when the parent starts (``Campaign.child_definition_id``), and the whole chain
below is found and stored then: a village definition missing refuses the county's start, not the
towns' months later.

The levels are bound by phase id: a child enters no phase its parent has not entered
(:func:`parent_not_entered`), and the parent leaves a phase only when no child is still in it
with work open or behind it (:class:`Levels`, counting each child's own children).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.definitions.catalogue import (
    catalogued_definition,
    latest_version,
    register_definition,
    stored_definition,
)
from workflow.definitions.reader import Definition, ancestor_role, definition_files
from workflow.errors import Blocker, InvalidInput, NotFound, StartProblem
from workflow.limits import MAX_LEVELS
from workflow.machines import CLOSED
from workflow.models import (
    Campaign,
    CampaignPhase,
    DefinitionRow,
    Unit,
)


@dataclass(frozen=True)
class BlockedChild:
    """A sub-unit's campaign that keeps its parent in a phase."""

    campaign_id: int
    title: str
    unit: str
    state: str
    open_items: int  # required items open in its phase, its own children's included
    behind: bool  # still in an earlier phase than the parent's

    def part(self) -> str:
        """How the refusal names it: 东风镇 (3), or 东风镇 (mobilization) while behind."""
        return f"{self.unit} ({self.state if self.behind else self.open_items})"

    def blocker(self) -> Blocker:
        return Blocker(
            "campaign", self.campaign_id, self.title, self.unit, None, self.state, self.open_items
        )


def child_definition_row(
    session: Session,
    definition: Definition,
    now: datetime,
    folders: Sequence[Path] | None,
) -> DefinitionRow | None:
    """The stored definition the sub-units' campaigns of a ``definition`` campaign run on (None
    without ``cascade``), with every level below it found and stored.

    ``folders``: where shipped definitions are looked up besides the stored ones (None: the
    stored ones only, as when a campaign started by a cascade starts its own children).
    """
    first: DefinitionRow | None = None
    current, seen = definition, {(definition.id, definition.version)}
    for _level in range(MAX_LEVELS):
        if current.cascade is None:
            return first
        child = _child_definition(session, current, folders)
        row = register_definition(session, child, now)
        first = first or row
        if (child.id, child.version) in seen:
            return first  # a definition cascading to itself: the organisation's depth ends it
        seen.add((child.id, child.version))
        current = child
    raise InvalidInput(
        f"definition '{definition.id}' cascades through more than {MAX_LEVELS} levels"
    )


def ancestor_problems(
    session: Session, definition: Definition, parent: Campaign | None
) -> list[StartProblem]:
    """The escalation roles of ``definition`` named ``parent.…`` that the ancestor campaign's
    definition does not declare (a top campaign's ``parent.`` roles reach nobody)."""
    problems: list[StartProblem] = []
    if definition.escalation is None or parent is None:
        return problems
    for level in definition.escalation.levels:
        for notified in level.notify:
            depth, role = ancestor_role(notified)
            if depth == 0:
                continue
            ancestor = _ancestor(session, parent, depth - 1)
            if ancestor is None:
                continue
            declared = {r.id for r in stored_definition(ancestor.definition).roles}
            if role not in declared:
                problems.append(
                    StartProblem(
                        notified,
                        ancestor.title,
                        f"escalation notifies '{notified}', a role campaign "
                        f"{ancestor.id} ({ancestor.title}) does not have",
                    )
                )
    return problems


def parent_not_entered(session: Session, campaign: Campaign, phase: str) -> Campaign | None:
    """The parent campaign, when it has not yet entered ``phase`` (a phase of its definition):
    the child may not enter it before."""
    if campaign.parent_id is None:
        return None
    parent = session.get(Campaign, campaign.parent_id)
    if parent is None or phase not in stored_definition(parent.definition).phase_ids():
        return None
    return None if has_entered(session, parent.id, phase) else parent


def has_entered(session: Session, campaign_id: int, phase: str) -> bool:
    """Whether the campaign has entered ``phase`` (it may have left it since)."""
    started = session.scalar(
        select(CampaignPhase.started_at).where(
            CampaignPhase.campaign_id == campaign_id, CampaignPhase.phase_key == phase
        )
    )
    return started is not None


def units_without_campaign(session: Session, campaign: Campaign) -> list[Unit]:
    """The sub-units of the campaign's unit that run no campaign under it though its cascade has
    started (a town added since, one refused then): each may be started late."""
    spec = stored_definition(campaign.definition).cascade
    if spec is None or campaign.state == CLOSED or not has_entered(session, campaign.id, spec.when):
        return []
    running = select(Campaign.unit_id).where(Campaign.parent_id == campaign.id)
    return list(
        session.scalars(
            select(Unit)
            .where(Unit.parent_id == campaign.unit_id, Unit.id.not_in(running))
            .order_by(Unit.name, Unit.code)
        )
    )


def branches(campaign_id: int, below: list[tuple[Campaign, str]]) -> dict[int, Campaign]:
    """Each campaign of ``below`` (:func:`descendants` of ``campaign_id``) → the sub-unit's
    campaign it is under: a village's → its town's, a town's → itself."""
    found: dict[int, Campaign] = {}
    for campaign, _name in below:  # level by level: a parent comes before its children
        parent = campaign.parent_id
        found[campaign.id] = campaign if parent == campaign_id else found[parent]  # type: ignore[index]
    return found


def descendants(session: Session, campaign: Campaign) -> list[tuple[Campaign, str]]:
    """Every campaign below ``campaign`` with its unit's name, level by level, each level in the
    order of its units' names: a county's towns, then their villages. None below a campaign that
    does not cascade, without a statement (every advance and report asks)."""
    found: list[tuple[Campaign, str]] = []
    if campaign.child_definition_id is None:
        return found
    level = [campaign.id]
    for _depth in range(MAX_LEVELS):
        rows = session.execute(
            select(Campaign, Unit.name)
            .join(Unit, Unit.id == Campaign.unit_id)
            .where(Campaign.parent_id.in_(level))
            .order_by(Unit.name, Campaign.id)
        ).all()
        if not rows:
            break
        found += [(below, name) for below, name in rows]
        level = [below.id for below, _name in rows]
    return found


class Levels:
    """The campaigns below one (``below``: :func:`descendants`) with the items keeping each in its
    own phase (``own``: ``lifecycle.open_items``): the rule of what keeps a campaign in its phase
    from below, worked out in Python over counts read at once."""

    def __init__(self, below: list[tuple[Campaign, str]], own: dict[int, int]) -> None:
        self.below = below
        self.own = own
        self._open: dict[int, int] = {}  # open_in_phase, each campaign's worked out once
        self.children: dict[int | None, list[tuple[Campaign, str]]] = {}
        for campaign, name in below:
            self.children.setdefault(campaign.parent_id, []).append((campaign, name))

    def blocked(self, campaign: Campaign) -> list[BlockedChild]:
        order = stored_definition(campaign.definition).phase_ids()
        if campaign.state not in order:
            return []
        position = order.index(campaign.state)
        found = []
        for child, unit_name in self.children.get(campaign.id, []):
            if child.state == CLOSED:
                continue
            at = order.index(child.state) if child.state in order else -1
            if at > position:
                continue
            items = self.open_in_phase(child)
            if at < position or items:
                found.append(
                    BlockedChild(
                        child.id, child.title, unit_name, child.state, items, at < position
                    )
                )
        return found

    def open_in_phase(self, campaign: Campaign) -> int:
        found = self._open.get(campaign.id)
        if found is None:
            # a child behind counts as one item at least: its phase is all still to do
            found = self._open[campaign.id] = self.own.get(campaign.id, 0) + sum(
                max(child.open_items, int(child.behind)) for child in self.blocked(campaign)
            )
        return found


# --- helpers ---------------------------------------------------------------------------------


def _child_definition(
    session: Session, definition: Definition, folders: Sequence[Path] | None
) -> Definition:
    spec = definition.cascade
    assert spec is not None
    slug = spec.definition or definition.id
    version = spec.version
    if slug == definition.id and version in (None, definition.version):
        return definition
    if version is None:
        shipped = (
            [file.version for file in definition_files(folders) if file.id == slug]
            if folders is not None
            else []
        )
        version = max([latest_version(session, slug), *shipped])
    try:
        return catalogued_definition(session, slug, version, folders or ())
    except NotFound:
        named = f"'{slug}' version {spec.version}" if spec.version else f"'{slug}'"
        raise InvalidInput(
            f"definition '{definition.id}' cascades to {named}, which is neither stored nor shipped"
        ) from None


def _ancestor(session: Session, parent: Campaign, steps: int) -> Campaign | None:
    current: Campaign | None = parent
    for _step in range(steps):
        if current is None or current.parent_id is None:
            return None
        current = session.get(Campaign, current.parent_id)
    return current
