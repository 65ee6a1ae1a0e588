"""A scope of the directory (a unit and every unit under it) written out: as an XLSX roster with
the upload's columns, and as an organisation YAML file. Uploading either back changes nothing.

Only the active people are written (a roster lists who is there; the deactivated stay in the
directory with their history). The XLSX's 单位 column holds the unit's id, which no two units
share; the YAML has the units (the scope's unit at the top), key sites, people with their roles,
titles, phones and the administrations granted inside the scope, and the named lists; never a
password. A cell that starts with ``=``, ``+``, ``-`` or ``@`` is written typed as text, so Excel
shows it and never runs it as a formula (OWASP's CSV injection; ``views/report_files``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import yaml
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import Administrator, ListEntry, Person, PersonRole, Site, Unit
from workflow.organisation.org_changes import scope_unit_ids
from workflow.organisation.roster import COLUMN_NAMES

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_COLUMNS = ("name", "title", "unit", "phone", "email", "roles")


@dataclass(frozen=True)
class ScopeExport:
    """What an export holds, read once."""

    units: list[Unit]  # parents before children
    people: list[Person]
    roles: dict[int, list[str]]
    administers: dict[int, list[str]]
    sites: list[Site]
    entries: list[ListEntry]
    codes: dict[int, str]
    emails: dict[int, str]


def read_scope(session: Session, scope_id: int) -> ScopeExport:
    """The scope's units, active people, roles, administrations, key sites and list entries."""
    in_scope = scope_unit_ids(session, scope_id)
    all_units = {unit.id: unit for unit in session.scalars(select(Unit))}
    units: list[Unit] = []
    waiting = [scope_id]
    children: dict[int, list[Unit]] = {}
    for unit in all_units.values():
        if unit.parent_id in in_scope:
            children.setdefault(unit.parent_id, []).append(unit)  # type: ignore[arg-type]
    while waiting:  # depth first, children in the order of their ids
        unit = all_units[waiting.pop()]
        units.append(unit)
        waiting.extend(
            child.id for child in sorted(children.get(unit.id, []), key=_id, reverse=True)
        )
    people = list(
        session.scalars(
            select(Person)
            .where(Person.unit_id.in_(in_scope), Person.active.is_(True))
            .order_by(Person.unit_id, Person.id)
        )
    )
    ids = [person.id for person in people]
    roles: dict[int, list[str]] = {}
    for person_id, role in session.execute(
        select(PersonRole.person_id, PersonRole.role)
        .where(PersonRole.person_id.in_(ids))
        .order_by(PersonRole.role)
    ):
        roles.setdefault(person_id, []).append(role)
    administers: dict[int, list[str]] = {}
    for person_id, unit_id in session.execute(
        select(Administrator.person_id, Administrator.unit_id)
        .where(Administrator.person_id.in_(ids), Administrator.unit_id.in_(in_scope))
        .order_by(Administrator.unit_id)
    ):
        administers.setdefault(person_id, []).append(all_units[unit_id].code)
    emails = dict(session.execute(select(Person.id, Person.email)).all())
    return ScopeExport(
        units=units,
        people=people,
        roles=roles,
        administers=administers,
        sites=list(
            session.scalars(select(Site).where(Site.unit_id.in_(in_scope)).order_by(Site.id))
        ),
        entries=list(
            session.scalars(
                select(ListEntry)
                .where(ListEntry.unit_id.in_(in_scope))
                .order_by(ListEntry.list_key, ListEntry.id)
            )
        ),
        codes={unit.id: unit.code for unit in all_units.values()},
        emails=emails,
    )


def export_xlsx(session: Session, scope_id: int) -> bytes:
    """The scope's active people as an XLSX roster: 姓名, 职务, 单位 (the unit's id), 手机, 邮箱,
    角色; the header bold and frozen."""
    scope = read_scope(session, scope_id)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("花名册")
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEF", (14, 16, 18, 15, 30, 28), strict=True):
        sheet.column_dimensions[letter].width = width
    bold = Font(bold=True)
    header = []
    for key in XLSX_COLUMNS:
        cell = _cell(sheet, COLUMN_NAMES[key])
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for person in scope.people:
        values = (
            person.name,
            person.title or "",
            scope.codes[person.unit_id],
            person.phone or "",
            person.email,
            "、".join(scope.roles.get(person.id, [])),
        )
        sheet.append([_cell(sheet, value) for value in values])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_yaml(session: Session, scope_id: int) -> str:
    """The scope as an organisation file (``definitions/org-schema.json``)."""
    scope = read_scope(session, scope_id)
    sites: dict[int, list[dict[str, Any]]] = {}
    for site in scope.sites:
        item: dict[str, Any] = {"id": site.code, "name": site.name}
        if site.responsible_id is not None:
            item["responsible"] = scope.emails[site.responsible_id]
        sites.setdefault(site.unit_id, []).append(item)
    nodes: dict[int, dict[str, Any]] = {}
    top: list[dict[str, Any]] = []
    for unit in scope.units:  # parents come first
        node: dict[str, Any] = {"id": unit.code, "name": unit.name}
        if unit.id in sites:
            node["sites"] = sites[unit.id]
        nodes[unit.id] = node
        if unit.parent_id in nodes:
            nodes[unit.parent_id].setdefault("children", []).append(node)
        else:
            top.append(node)
    people = []
    for person in scope.people:
        item = {"email": person.email, "name": person.name, "unit": scope.codes[person.unit_id]}
        if person.title:
            item["title"] = person.title
        if person.phone:
            item["phone"] = person.phone
        item["roles"] = scope.roles.get(person.id, [])
        if person.id in scope.administers:
            item["administers"] = scope.administers[person.id]
        people.append(item)
    document: dict[str, Any] = {"units": top, "people": people}
    lists: dict[str, list[dict[str, Any]]] = {}
    for entry in scope.entries:
        item = {"id": entry.code, "name": entry.name, "unit": scope.codes[entry.unit_id]}
        if entry.responsible_id is not None:
            item["responsible"] = scope.emails[entry.responsible_id]
        if entry.note:
            item["note"] = entry.note
        lists.setdefault(entry.list_key, []).append(item)
    if lists:
        document["lists"] = lists
    header = "# yaml-language-server: $schema=./org-schema.json\n"
    return header + yaml.safe_dump(
        document, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100
    )


# --- helpers ------------------------------------------------------------------------------------


def _id(unit: Unit) -> int:
    return unit.id


def _cell(sheet: Any, value: str) -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    if value.startswith(FORMULA_STARTS):  # text, never a formula Excel would run
        cell.data_type = "s"
    return cell
