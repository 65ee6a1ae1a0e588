"""What an organisation file uploaded as a roster changes in a unit's scope beside its people: units
added, renamed or moved, key sites and list entries added or changed.

The file's top units hang where they already hang (a village's file does not cut the village from
its town); a unit, key site or entry that belongs outside the scope, a new unit with no parent in
the file, the scope's own unit moved, or a unit under itself is a problem at its line.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import ListEntry, Person, Site, Unit
from workflow.organisation.org_file import UnitSpec
from workflow.organisation.roster import FieldChange, OtherChange, Roster, RosterPlan


def plan_file_units(
    session: Session,
    roster: Roster,
    scope: Unit,
    units: dict[int, Unit],
    by_code: dict[str, Unit],
    in_scope: set[int],
    plan: RosterPlan,
) -> tuple[UnitSpec, ...]:
    """The file's units, each top one hung where it already hangs; problems for what the file
    cannot do in this scope (a unit, site or entry outside it, a new top unit, a loop)."""
    assert roster.organisation is not None
    specs: list[UnitSpec] = []
    parents = {unit.code: units[unit.parent_id].code for unit in units.values() if unit.parent_id}
    for spec in roster.organisation.units:
        place = roster.place_of(f"unit:{spec.id}")
        existing = by_code.get(spec.id)
        parent = spec.parent
        if existing is not None and existing.id not in in_scope:
            plan.problem(
                place,
                "unit_outside_scope",
                f"'{spec.id}' is not {scope.name} or a unit under it",
                value=spec.id,
            )
            continue
        if existing is None and parent is None:
            plan.problem(
                place,
                "new_top_unit",
                f"a new unit '{spec.id}' must be placed under a unit of {scope.name}",
                value=spec.id,
            )
            continue
        if parent is None and existing is not None:
            parent = parents.get(existing.code)  # where it hangs already
        elif existing is not None and existing.id == scope.id and parent != parents.get(scope.code):
            plan.problem(
                place,
                "scope_moved",
                f"{scope.name} itself cannot be moved by its own roster",
                value=spec.id,
            )
            continue
        parents[spec.id] = parent  # type: ignore[assignment]
        specs.append(UnitSpec(spec.id, spec.name, parent, spec.sites))
        if existing is None:
            plan.other.append(OtherChange("unit", spec.id, spec.name, True))
        else:
            changes = []
            if existing.name != spec.name:
                changes.append(FieldChange("name", existing.name, spec.name))
            old_parent = units[existing.parent_id].code if existing.parent_id else ""
            if (parent or "") != old_parent:
                changes.append(FieldChange("parent", old_parent, parent or ""))
            if changes:
                plan.other.append(OtherChange("unit", spec.id, spec.name, False, tuple(changes)))
    for spec in specs:  # a unit under its own child would hang nowhere
        seen, code = set(), spec.id
        while code and code not in seen:
            seen.add(code)
            code = parents.get(code)  # type: ignore[assignment]
        if code:
            plan.problem(
                roster.place_of(f"unit:{spec.id}"),
                "unit_loop",
                f"'{spec.id}' would be under itself",
                value=spec.id,
            )
    _file_sites_and_entries(session, roster, scope, in_scope, plan, specs)
    return tuple(specs)


# --- helpers ------------------------------------------------------------------------------------


def _file_sites_and_entries(
    session: Session,
    roster: Roster,
    scope: Unit,
    in_scope: set[int],
    plan: RosterPlan,
    specs: list[UnitSpec],
) -> None:
    assert roster.organisation is not None
    emails = dict(session.execute(select(Person.id, Person.email)).all())
    codes = dict(session.execute(select(Unit.id, Unit.code)).all())
    sites = {site.code: site for site in session.scalars(select(Site))}
    for unit in specs:
        for spec in unit.sites:
            site = sites.get(spec.id)
            if site is not None and site.unit_id not in in_scope:
                plan.problem(
                    roster.place_of(f"site:{spec.id}"),
                    "site_outside_scope",
                    f"the key site '{spec.id}' belongs to a unit outside {scope.name}",
                    value=spec.id,
                )
                continue
            before = (
                (site.name, codes[site.unit_id], emails.get(site.responsible_id) or "")
                if site
                else None
            )
            after = (spec.name, spec.unit, spec.responsible or "")
            _other(plan, "site", spec.id, spec.name, before, after, ("name", "unit", "responsible"))
    entries = {(e.list_key, e.code): e for e in session.scalars(select(ListEntry))}
    for spec in roster.organisation.entries:
        entry = entries.get((spec.list, spec.id))
        if entry is not None and entry.unit_id not in in_scope:
            plan.problem(
                roster.place_of(f"entry:{spec.list}/{spec.id}"),
                "entry_outside_scope",
                f"the entry '{spec.id}' of list '{spec.list}' belongs to a unit outside "
                f"{scope.name}",
                value=spec.id,
            )
            continue
        before = (
            (
                entry.name,
                codes[entry.unit_id],
                emails.get(entry.responsible_id) or "",
                entry.note or "",
            )
            if entry
            else None
        )
        after = (spec.name, spec.unit, spec.responsible or "", spec.note or "")
        _other(
            plan,
            "entry",
            f"{spec.list}/{spec.id}",
            spec.name,
            before,
            after,
            ("name", "unit", "responsible", "note"),
        )


def _other(
    plan: RosterPlan,
    kind: str,
    code: str,
    name: str,
    before: tuple[str, ...] | None,
    after: tuple[str, ...],
    fields: tuple[str, ...],
) -> None:
    if before is None:
        plan.other.append(OtherChange(kind, code, name, True))
        return
    changes = tuple(
        FieldChange(key, old, new)
        for key, old, new in zip(fields, before, after, strict=True)
        if old != new
    )
    if changes:
        plan.other.append(OtherChange(kind, code, name, False, changes))
