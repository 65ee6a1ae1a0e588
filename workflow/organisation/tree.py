"""The unit tree kept by hand: add a unit under one an administrator looks after, rename it, add a
key site with its responsible person, rename it or change who is responsible, and the tree as the
pages show it. Nothing with history is deleted. Each change is an audit event of its unit or site.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.audit import Actor
from workflow.errors import InvalidInput, NotFound
from workflow.models import Person, Site, Unit
from workflow.organisation.fields import checked_code, checked_name, record_change, unit_row
from workflow.people.administrators import forget_administered


def add_unit(
    session: Session, *, parent_id: int, code: str, name: str, by: Actor, now: datetime
) -> Unit:
    """A new unit under ``parent_id`` (a village under a town)."""
    parent = unit_row(session, parent_id)
    code = checked_code(code)
    if session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise InvalidInput(f"a unit with the id {code} exists already")
    unit = Unit(code=code, name=checked_name(name), parent_id=parent.id)
    session.add(unit)
    session.flush()
    forget_administered(session)  # an administrator of the parent administers it now
    record_change(
        session, "unit", unit.id, "add", by, now, f"{code} ({unit.name}) under {parent.code}"
    )
    return unit


def rename_unit(session: Session, unit_id: int, name: str, *, by: Actor, now: datetime) -> None:
    unit = unit_row(session, unit_id)
    name = checked_name(name)
    if unit.name != name:
        record_change(session, "unit", unit.id, "rename", by, now, f"{unit.name} → {name}")
        unit.name = name
        session.flush()


def add_site(
    session: Session,
    *,
    unit_id: int,
    code: str,
    name: str,
    responsible_id: int | None,
    by: Actor,
    now: datetime,
) -> Site:
    """A new key site of a unit, with its responsible person (an active person of that unit)."""
    unit = unit_row(session, unit_id)
    code = checked_code(code)
    if session.scalar(select(Site.id).where(Site.code == code)) is not None:
        raise InvalidInput(f"a key site with the id {code} exists already")
    site = Site(
        code=code,
        name=checked_name(name),
        unit_id=unit.id,
        responsible_id=_responsible(session, responsible_id, unit.id),
    )
    session.add(site)
    session.flush()
    record_change(session, "site", site.id, "add", by, now, f"{code} ({site.name}) of {unit.code}")
    return site


def edit_site(
    session: Session,
    site_id: int,
    *,
    name: str,
    responsible_id: int | None,
    by: Actor,
    now: datetime,
) -> None:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(f"no key site {site_id}")
    values = (checked_name(name), _responsible(session, responsible_id, site.unit_id))
    if (site.name, site.responsible_id) != values:
        note = f"{site.name} → {values[0]}; responsible {site.responsible_id} → {values[1]}"
        site.name, site.responsible_id = values
        record_change(session, "site", site.id, "edit", by, now, note)
        session.flush()


def unit_tree(session: Session, unit_ids: set[int] | None) -> list[tuple[Unit, int, int]]:
    """The units of ``unit_ids`` (every one for None), each after its parent, with its depth and
    number of active people."""
    units = list(session.scalars(select(Unit).order_by(Unit.name)))
    people: dict[int, int] = {
        unit_id: count
        for unit_id, count in session.execute(
            select(Person.unit_id, func.count())
            .where(Person.active.is_(True))
            .group_by(Person.unit_id)
        )
    }
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    shown = [u for u in units if unit_ids is None or u.id in unit_ids]
    tops = [u for u in shown if u.parent_id is None or (unit_ids and u.parent_id not in unit_ids)]
    found: list[tuple[Unit, int, int]] = []
    waiting = [(u, 0) for u in reversed(tops)]
    while waiting:
        unit, depth = waiting.pop()
        found.append((unit, depth, people.get(unit.id, 0)))
        waiting += [(child, depth + 1) for child in reversed(children.get(unit.id, []))]
    return found


# --- helpers ------------------------------------------------------------------------------------


def _responsible(session: Session, person_id: int | None, unit_id: int) -> int | None:
    if person_id is None:
        return None
    person = session.get(Person, person_id)
    if person is None or not person.active or person.unit_id != unit_id:
        raise InvalidInput("the responsible person is an active person of the site's unit")
    return person.id
