"""Who and what a task or duty fans out over: the campaign, each sub-unit, each key site, each list
entry.

``per: unit`` gives one item per participating sub-unit; ``per: site`` one per
key site of the campaign's units; ``per: list`` one per entry of a named list
of the organisation file (e.g. each supervised person, 重点列管人员). The
assignee is a role's holder (in the item's unit for a unit-scoped role, in the
campaign's unit otherwise) or, with ``assignee: responsible``, the site's or
entry's own responsible person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.definitions.checks import RESPONSIBLE
from workflow.definitions.reader import Definition, RecurringSpec, TaskSpec
from workflow.errors import StartProblem
from workflow.models import ListEntry, Site, Unit
from workflow.organisation.roles import Resolution


@dataclass(frozen=True)
class Target:
    """One item of a fan-out: where it lands and who is responsible."""

    key: str  # stable within the spec: part of the occurrence key
    unit_id: int | None
    site_id: int | None
    entry_id: int | None
    assignee_id: int


@dataclass
class Scope:
    """Everything a campaign's items can fan out over, loaded once per phase entry or sweep."""

    campaign_unit: Unit
    resolution: Resolution
    sites: list[Site] = field(default_factory=list)
    entries: dict[str, list[ListEntry]] = field(default_factory=dict)


def load_scope(
    session: Session, campaign_unit: Unit, resolution: Resolution, *, places: bool = True
) -> Scope:
    """The sites and list entries of the campaign's unit and its participating sub-units
    (``places=False``: none, for a definition that fans out to none, :func:`fans_out_to_places`:
    a cascade starts a thousand campaigns)."""
    if not places:
        return Scope(campaign_unit, resolution)
    unit_ids = [campaign_unit.id, *(unit.id for unit in resolution.units)]
    sites = list(session.scalars(select(Site).where(Site.unit_id.in_(unit_ids)).order_by(Site.id)))
    entries: dict[str, list[ListEntry]] = {}
    for entry in session.scalars(
        select(ListEntry).where(ListEntry.unit_id.in_(unit_ids)).order_by(ListEntry.id)
    ):
        entries.setdefault(entry.list_key, []).append(entry)
    return Scope(campaign_unit, resolution, sites, entries)


def fans_out_to_places(definition: Definition) -> bool:
    """Whether a task, duty or letter of ``definition`` goes to each key site or list entry."""
    specs = [
        *definition.recurring,
        *(spec for phase in definition.phases for spec in (*phase.tasks, *phase.recurring)),
    ]
    return bool(any(phase.letters for phase in definition.phases)) or any(
        spec.per in ("site", "list") for spec in specs
    )


def targets(
    spec: TaskSpec | RecurringSpec, definition: Definition, scope: Scope
) -> tuple[list[Target], list[StartProblem]]:
    """The items ``spec`` fans out to, and a problem for each that has nobody responsible."""
    found: list[Target] = []
    problems: list[StartProblem] = []

    def add(
        key: str,
        unit_id: int | None,
        site_id: int | None,
        entry_id: int | None,
        own_responsible: int | None,
        where: str,
    ) -> None:
        assignee = (
            own_responsible
            if spec.assignee == RESPONSIBLE
            else _holder(spec.assignee, unit_id, definition, scope)
        )
        if assignee is None:
            text = f"{where} has no responsible person" if spec.assignee == RESPONSIBLE else None
            problems.append(StartProblem(spec.assignee, where, text))
        else:
            found.append(Target(key, unit_id, site_id, entry_id, assignee))

    if spec.per == "campaign":
        add("0", None, None, None, None, f"'{scope.campaign_unit.code}'")
    elif spec.per == "unit":
        for unit in scope.resolution.units:
            add(f"u{unit.id}", unit.id, None, None, None, f"'{unit.code}' ({unit.name})")
    elif spec.per == "site":
        for site in scope.sites:
            add(
                f"s{site.id}",
                site.unit_id,
                site.id,
                None,
                site.responsible_id,
                f"key site '{site.code}' ({site.name})",
            )
    else:
        for entry in scope.entries.get(spec.list or "", []):
            add(
                f"e{entry.id}",
                entry.unit_id,
                None,
                entry.id,
                entry.responsible_id,
                f"'{entry.code}' of list '{entry.list_key}' ({entry.name})",
            )
    return found, problems


def _holder(role_id: str, unit_id: int | None, definition: Definition, scope: Scope) -> int | None:
    unit_scoped = definition.role(role_id).scope == "unit"
    holder_unit = unit_id if (unit_scoped and unit_id is not None) else scope.campaign_unit.id
    people = scope.resolution.holders.get((role_id, holder_unit))
    return people[0] if people else None
