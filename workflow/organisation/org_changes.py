"""What a roster would change in a scope of the directory (the preview), worked out without writing
anything: people added, changed (each field old → new), unchanged, and deactivated or kept.

A roster is the list of a unit's people and of every unit under it (the *scope*, chosen by an
administrator of it). Whoever is active in the scope and missing from the roster would be
deactivated, unless they still hold open work (``deactivation.open_items``): then they are kept,
with the items named. A roster may not reach outside its scope: a row naming a unit outside it, or
the e-mail of someone who belongs outside it, or a mobile number held by someone the roster does
not list, is a problem at its place, and a roster with a problem changes nothing. The plan carries
the organisation that ``import_and_rebind`` is given on apply, and a ``fingerprint`` of what it
shows, so an apply can tell that the directory changed since its preview. An organisation file's
units, key sites and lists are ``unit_changes``' part of the plan.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.audit import Actor
from workflow.models import Administrator, Person, PersonRole, Unit
from workflow.organisation.org_file import Organisation, PersonSpec, UnitSpec
from workflow.organisation.roster import (
    FieldChange,
    Leaving,
    PersonLine,
    Roster,
    RosterPerson,
    RosterPlan,
)
from workflow.organisation.unit_changes import plan_file_units
from workflow.people.deactivation import open_items

# the open items a kept person's line names (the page counts the rest)
KEPT_ITEMS_NAMED = 5


def scope_unit_ids(session: Session, unit_id: int) -> set[int]:
    """The unit and every unit under it."""
    children: dict[int, list[int]] = {}
    for child, parent in session.execute(select(Unit.id, Unit.parent_id)):
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found: set[int] = set()
    waiting = [unit_id]
    while waiting:
        current = waiting.pop()
        if current not in found:
            found.add(current)
            waiting.extend(children.get(current, ()))
    return found


def plan_roster(session: Session, scope_id: int, roster: Roster, *, by: Actor) -> RosterPlan:
    """What applying ``roster`` to the scope of unit ``scope_id`` would change; reads only."""
    units = {unit.id: unit for unit in session.scalars(select(Unit))}
    scope = units[scope_id]
    plan = RosterPlan(scope.id, scope.code, scope.name)
    in_scope = scope_unit_ids(session, scope_id)
    by_code = {unit.code: unit for unit in units.values()}
    people = {person.email: person for person in session.scalars(select(Person))}
    roles_of: dict[int, set[str]] = {}
    for person_id, role in session.execute(select(PersonRole.person_id, PersonRole.role)):
        roles_of.setdefault(person_id, set()).add(role)
    grants = set(session.execute(select(Administrator.person_id, Administrator.unit_id)))

    unit_specs: tuple[UnitSpec, ...] = ()
    unit_names = {unit.code: unit.name for unit in units.values()}
    if roster.organisation is not None:
        unit_specs = plan_file_units(session, roster, scope, units, by_code, in_scope, plan)
        unit_names.update({spec.id: spec.name for spec in unit_specs})

    listed = {person.email for person in roster.people}
    given_phones = {person.email: person.phone for person in roster.people if person.phone}
    phone_holders = {person.phone: person for person in people.values() if person.phone}
    specs: list[PersonSpec] = []
    for entry in roster.people:
        unit_code = _unit_code(entry, roster, units, by_code, in_scope, plan)
        current = people.get(entry.email)
        if current is not None and current.unit_id not in in_scope:
            plan.problem(
                entry.places["email"],
                "person_outside_scope",
                f"{entry.email} belongs to a unit outside {scope.name}: not this roster's",
                value=entry.email,
            )
            continue
        if entry.phone:
            holder = phone_holders.get(entry.phone)
            if (
                holder is not None
                and holder.email != entry.email
                and given_phones.get(holder.email, entry.phone) == entry.phone
            ):
                plan.problem(
                    entry.places["phone"],
                    "phone_taken",
                    f"the mobile number {entry.phone} is someone else's (not given another "
                    f"number in this roster)",
                    value=entry.phone,
                )
                continue
        if unit_code is None:
            continue
        held = roles_of.get(current.id, set()) if current else set()
        spec = PersonSpec(
            email=entry.email,
            name=entry.name,
            unit=unit_code,
            roles=entry.roles if entry.roles is not None else tuple(sorted(held)),
            password=entry.password,
            title=entry.title if "title" in entry.places else (current.title if current else None),
            phone=entry.phone,
            administers=entry.administers,
        )
        specs.append(spec)
        plan.people.append(_person_line(spec, entry, current, held, grants, by_code, unit_names))

    for person in sorted(people.values(), key=lambda p: (p.unit_id, p.name, p.email)):
        if person.active and person.unit_id in in_scope and person.email not in listed:
            plan.leaving.append(_leaving(session, person, units, by))
    plan.organisation = Organisation(
        units=unit_specs,
        people=tuple(specs),
        source=roster.kind,
        entries=roster.organisation.entries if roster.organisation else (),
    )
    return plan


# --- helpers ------------------------------------------------------------------------------------


def _unit_code(
    entry: RosterPerson,
    roster: Roster,
    units: dict[int, Unit],
    by_code: dict[str, Unit],
    in_scope: set[int],
    plan: RosterPlan,
) -> str | None:
    """The code of the unit a row names (by id, else by its exact name, inside the scope)."""
    written = entry.unit
    if roster.organisation is not None:
        return written  # checked with the file's units (_file_units)
    unit = by_code.get(written)
    if unit is not None and unit.id in in_scope:
        return unit.code
    named = [u for u in units.values() if u.name == written and u.id in in_scope]
    if len(named) == 1:
        return named[0].code
    place = entry.places["unit"]
    if len(named) > 1:
        codes = ", ".join(sorted(u.code for u in named))
        plan.problem(
            place,
            "ambiguous_unit",
            f"several units are named '{written}' ({codes}): write the unit's id",
            value=written,
            codes=codes,
        )
    elif unit is not None or any(u.name == written for u in units.values()):
        plan.problem(
            place,
            "unit_outside_scope",
            f"'{written}' is not {plan.scope_name} or a unit under it",
            value=written,
        )
    else:
        plan.problem(place, "unknown_unit", f"no unit '{written}'", value=written)
    return None


def _person_line(
    spec: PersonSpec,
    entry: RosterPerson,
    current: Person | None,
    held: set[str],
    grants: set[tuple[int, int]],
    by_code: dict[str, Unit],
    unit_names: dict[str, str],
) -> PersonLine:
    unit_name = unit_names.get(spec.unit, spec.unit)
    row = dict(
        email=spec.email,
        name=spec.name,
        title=spec.title or "",
        unit=unit_name,
        phone=spec.phone or (current.phone if current and current.phone else ""),
        roles="、".join(spec.roles),
        line=min((place.line for place in entry.places.values()), default=0),
    )
    if current is None:
        return PersonLine(kind="added", **row)  # type: ignore[arg-type]
    old_unit = next((u for u in by_code.values() if u.id == current.unit_id), None)
    changes = []
    for key, before, after in (
        ("name", current.name, spec.name),
        ("title", current.title or "", spec.title or ""),
        ("unit", old_unit.name if old_unit else "", unit_name),
    ):
        if before != after:
            changes.append(FieldChange(key, before, after))
    if (
        old_unit is not None
        and old_unit.code != spec.unit
        and not any(c.field == "unit" for c in changes)
    ):  # two units of one name
        changes.append(FieldChange("unit", old_unit.code, spec.unit))
    if spec.phone is not None and spec.phone != current.phone:
        changes.append(FieldChange("phone", current.phone or "", spec.phone))
    if set(spec.roles) != held:
        changes.append(FieldChange("roles", "、".join(sorted(held)), "、".join(sorted(spec.roles))))
    granted = [
        code
        for code in spec.administers
        if code not in by_code or (current.id, by_code[code].id) not in grants
    ]
    if granted and current.active:
        changes.append(FieldChange("administers", "", "、".join(granted)))
    if spec.password and not current.password_hash:
        changes.append(FieldChange("password", "", "initial"))
    kind = "changed" if changes else "unchanged"
    return PersonLine(
        kind=kind,
        changes=tuple(changes),
        inactive=not current.active,
        **row,  # type: ignore[arg-type]
    )


def _leaving(session: Session, person: Person, units: dict[int, Unit], by: Actor) -> Leaving:
    unit = units[person.unit_id].name
    if by.person_id == person.id:
        return Leaving(person.id, person.email, person.name, unit, kept=True, is_you=True)
    items = open_items(session, person.id)
    if items:
        return Leaving(
            person.id,
            person.email,
            person.name,
            unit,
            kept=True,
            held=tuple(items[:KEPT_ITEMS_NAMED]),
            more=max(len(items) - KEPT_ITEMS_NAMED, 0),
        )
    return Leaving(person.id, person.email, person.name, unit, kept=False)
