"""Role → person resolution: 谁主管谁负责, whoever is in charge is responsible.

A leading-group role (scope ``group``) resolves to the people holding it in the
campaign's own unit; a role with ``scope: unit`` resolves, for each child unit,
to the people holding it there. The first holder (in import order) is the
responsible person a task lands on; every holder is bound, so escalations reach
all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.db import in_batches
from workflow.definitions.reader import Definition
from workflow.errors import StartProblem
from workflow.models import Campaign, Person, PersonRole, RoleBinding, Unit


@dataclass
class Resolution:
    """The outcome of resolving a definition's roles for a campaign unit."""

    units: list[Unit]  # the participating child units, in name order
    # (role, unit id) → person ids
    holders: dict[tuple[str, int], list[int]] = field(default_factory=dict)
    missing: list[StartProblem] = field(default_factory=list)

    def responsible(self, role: str, unit_id: int) -> int:
        return self.holders[(role, unit_id)][0]


def resolve_roles(session: Session, definition: Definition, unit: Unit) -> Resolution:
    """Bind every role of ``definition`` for a campaign of ``unit``; list the required ones nobody
    holds."""
    return resolve_roles_many(session, definition, [unit])[unit.id]


def resolve_roles_many(
    session: Session, definition: Definition, units: Sequence[Unit]
) -> dict[int, Resolution]:
    """:func:`resolve_roles` for campaigns of each of ``units`` at once (a cascade starts one in
    each sub-unit): two statements for all of them."""
    found: dict[int, Resolution] = {}
    for chosen in in_batches(units):
        children: dict[int, list[Unit]] = {unit.id: [] for unit in chosen}
        for child in session.scalars(
            select(Unit).where(Unit.parent_id.in_(list(children))).order_by(Unit.name, Unit.code)
        ):
            children[child.parent_id].append(child)  # type: ignore[index]
        unit_ids = [*children, *(c.id for kids in children.values() for c in kids)]
        held: dict[tuple[str, int], list[int]] = {}
        for role, unit_id, person_id in session.execute(
            select(PersonRole.role, Person.unit_id, Person.id)
            .join(Person, Person.id == PersonRole.person_id)
            .where(Person.unit_id.in_(unit_ids), Person.active.is_(True))
            .order_by(Person.id)
        ):
            held.setdefault((role, unit_id), []).append(person_id)
        for unit in chosen:
            found[unit.id] = _resolution(definition, unit, children[unit.id], held)
    return found


def holders_of(
    session: Session,
    campaign: Campaign,
    definition: Definition,
    roles: Sequence[str],
    unit: Unit | None,
) -> list[Person]:
    """The active people bound to each of ``roles`` in a campaign, in role order, each once: a
    leading-group role's holders in the campaign's unit, a unit role's in ``unit`` (none without
    one). Whom an incident, a hazard at a key site … is told."""
    wanted: list[int] = []
    for role_id in roles:
        if definition.role(role_id).scope == "unit":
            if unit is None:
                continue
            scope_unit = unit.id
        else:
            scope_unit = campaign.unit_id
        for person_id in session.scalars(
            select(RoleBinding.person_id)
            .where(
                RoleBinding.campaign_id == campaign.id,
                RoleBinding.role == role_id,
                RoleBinding.unit_id == scope_unit,
            )
            .order_by(RoleBinding.id)
        ):
            if person_id not in wanted:
                wanted.append(person_id)
    people = {
        person.id: person for person in session.scalars(select(Person).where(Person.id.in_(wanted)))
    }
    return [
        people[person_id]
        for person_id in wanted
        if person_id in people and people[person_id].active
    ]


def binding_rows(campaign_id: int, resolution: Resolution) -> list[dict[str, object]]:
    """Rows for :class:`RoleBinding`, one per (role, unit, person)."""
    return [
        {"campaign_id": campaign_id, "role": role, "unit_id": unit_id, "person_id": person_id}
        for (role, unit_id), people in resolution.holders.items()
        for person_id in people
    ]


# --- helpers ---------------------------------------------------------------------------------


def _resolution(
    definition: Definition,
    unit: Unit,
    children: list[Unit],
    held: dict[tuple[str, int], list[int]],
) -> Resolution:
    resolution = Resolution(units=children)
    needed = definition.referenced_roles() | {role.id for role in definition.roles if role.required}
    for role in definition.roles:
        scope_units = children if role.scope == "unit" else [unit]
        for scope_unit in scope_units:
            people = held.get((role.id, scope_unit.id), [])
            if people:
                resolution.holders[(role.id, scope_unit.id)] = people
            elif role.id in needed:
                resolution.missing.append(
                    StartProblem(role.id, f"'{scope_unit.code}' ({scope_unit.name})")
                )
        if role.scope == "unit" and role.id in needed and not children:
            resolution.missing.append(
                StartProblem(role.id, f"'{unit.code}' ({unit.name}): it has no sub-units")
            )
    return resolution
