"""The organisation file: units (a tree), their key sites, people and their roles, validated with
file:line errors.

The format is DESIGN.md's "Organisation file (contract)", published as the
JSON schema ``definitions/org-schema.json``. People are known by e-mail,
which is compared without regard to case (people type it both ways).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflow.sourcefile import (
    Problem,
    SourceError,
    SourceLines,
    read_document,
    validated_document,
)

PathKey = tuple[str | int, ...]

PHONE_PROBLEM = "a mobile number has 11 digits and starts with 1 (e.g. 13800138000)"


@dataclass(frozen=True)
class SiteSpec:
    """A key site (重点部位) of a unit, with the e-mail (lower-case) of its responsible person."""

    id: str
    name: str
    unit: str
    responsible: str | None


@dataclass(frozen=True)
class UnitSpec:
    """A unit of the tree, with its parent's id (None for a top unit) and its key sites."""

    id: str
    name: str
    parent: str | None
    sites: tuple[SiteSpec, ...]


@dataclass(frozen=True)
class PersonSpec:
    """A person: e-mail (lower-case, the identity), unit, roles held there, an optional initial
    password."""

    email: str
    name: str
    unit: str
    roles: tuple[str, ...]
    password: str | None
    title: str | None
    phone: str | None = None  # 11 digits (``normal_phone``)
    administers: tuple[str, ...] = ()  # unit ids granted to them (never revoked by a file)


@dataclass(frozen=True)
class EntrySpec:
    """An entry of a named list (e.g. a supervised person), with its unit and responsible person's
    e-mail."""

    list: str
    id: str
    name: str
    unit: str
    responsible: str | None
    note: str | None


@dataclass(frozen=True)
class Organisation:
    """A validated organisation file: units with parents before children, then people, then named
    lists."""

    units: tuple[UnitSpec, ...]
    people: tuple[PersonSpec, ...]
    source: str
    entries: tuple[EntrySpec, ...] = ()


class OrganisationError(SourceError):
    """An organisation file that cannot be imported; ``problems`` says where and why."""


def parse_organisation(text: str | bytes, source: str = "<organisation>") -> Organisation:
    """Parse and validate an organisation file; raise :class:`OrganisationError` listing every
    problem."""
    _text, data = validated_document(text, source, "org-schema.json", (_check,), OrganisationError)
    return _organisation(data, source)


def load_organisation_file(path: str | Path) -> Organisation:
    """Read and validate the organisation file at ``path`` (problems name the path as given)."""
    return parse_organisation(read_document(path, OrganisationError), str(path))


def normal_phone(text: str) -> str | None:
    """A mainland mobile number as 11 bare digits (spaces, dashes and a +86 / 0086 prefix dropped),
    or None when it is not one."""
    digits = re.sub(r"[\s\-()]", "", text.strip())
    digits = re.sub(r"^(\+86|0086)", "", digits)
    return digits if re.fullmatch(r"1[3-9]\d{9}", digits) else None


# --- checks the schema cannot make --------------------------------------------------------------


def _check(data: dict[str, Any], lines: SourceLines) -> list[Problem]:
    problems: list[Problem] = []
    unit_lines: dict[str, int] = {}
    site_lines: dict[str, int] = {}
    responsible: list[tuple[PathKey, str]] = []
    for path, unit, _parent in _walk_units(data):
        unit_id = unit.get("id")
        if isinstance(unit_id, str):
            _first_or_problem(
                unit_lines, unit_id, (*path, "id"), lines, problems, "duplicate unit id"
            )
        for site_path, site in _mappings(unit.get("sites"), (*path, "sites")):
            site_id = site.get("id")
            if isinstance(site_id, str):
                _first_or_problem(
                    site_lines, site_id, (*site_path, "id"), lines, problems, "duplicate site id"
                )
            if isinstance(site.get("responsible"), str):
                responsible.append(((*site_path, "responsible"), site["responsible"]))

    email_lines: dict[str, int] = {}
    phone_lines: dict[str, int] = {}
    for path, person in _mappings(data.get("people"), ("people",)):
        email = person.get("email")
        if isinstance(email, str):
            _first_or_problem(
                email_lines,
                _normal_email(email),
                (*path, "email"),
                lines,
                problems,
                "duplicate e-mail",
            )
        unit_id = person.get("unit")
        if isinstance(unit_id, str) and unit_id not in unit_lines:
            problems.append(lines.problem((*path, "unit"), f"unknown unit '{unit_id}'"))
        if isinstance(person.get("phone"), str | int):
            phone = normal_phone(str(person["phone"]))
            if phone is None:
                problems.append(lines.problem((*path, "phone"), PHONE_PROBLEM))
            else:
                _first_or_problem(
                    phone_lines, phone, (*path, "phone"), lines, problems, "duplicate phone"
                )
        for index, administered in enumerate(person.get("administers") or []):
            if isinstance(administered, str) and administered not in unit_lines:
                problems.append(
                    lines.problem((*path, "administers", index), f"unknown unit '{administered}'")
                )

    lists = data.get("lists")
    for list_id, entries in lists.items() if isinstance(lists, dict) else []:
        entry_lines: dict[str, int] = {}
        for path, entry in _mappings(entries, ("lists", list_id)):
            if isinstance(entry.get("id"), str):
                _first_or_problem(
                    entry_lines,
                    entry["id"],
                    (*path, "id"),
                    lines,
                    problems,
                    f"duplicate entry id in list '{list_id}'",
                )
            if isinstance(entry.get("unit"), str) and entry["unit"] not in unit_lines:
                problems.append(lines.problem((*path, "unit"), f"unknown unit '{entry['unit']}'"))
            if isinstance(entry.get("responsible"), str):
                responsible.append(((*path, "responsible"), entry["responsible"]))

    for path, email in responsible:
        if _normal_email(email) not in email_lines:
            problems.append(
                lines.problem(path, f"no person with e-mail '{email.strip()}' under people")
            )
    return problems


def _first_or_problem(
    seen: dict[str, int],
    value: str,
    path: PathKey,
    lines: SourceLines,
    problems: list[Problem],
    what: str,
) -> None:
    if value in seen:
        problems.append(lines.problem(path, f"{what} '{value}' (first at line {seen[value]})"))
    else:
        seen[value] = lines.line_of(path)


def _walk_units(data: dict[str, Any]) -> Iterator[tuple[PathKey, dict[str, Any], str | None]]:
    """Every unit mapping of the tree, parents before children, with its path and its parent's
    id."""
    stack: list[tuple[PathKey, dict[str, Any], str | None]] = [
        (path, unit, None) for path, unit in _mappings(data.get("units"), ("units",))
    ]
    stack.reverse()
    while stack:
        path, unit, parent = stack.pop()
        yield path, unit, parent
        unit_id = unit.get("id") if isinstance(unit.get("id"), str) else None
        children = list(_mappings(unit.get("children"), (*path, "children")))
        stack.extend((child_path, child, unit_id) for child_path, child in reversed(children))


def _mappings(items: object, path: PathKey) -> Iterator[tuple[PathKey, dict[str, Any]]]:
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict):
                yield (*path, index), item


def _normal_email(email: str) -> str:
    return email.strip().lower()


# --- building the specs from validated data -----------------------------------------------------


def _organisation(data: dict[str, Any], source: str) -> Organisation:
    units = tuple(
        UnitSpec(
            id=unit["id"],
            name=unit["name"],
            parent=parent,
            sites=tuple(
                SiteSpec(
                    site["id"],
                    site["name"],
                    unit["id"],
                    _normal_email(site["responsible"]) if "responsible" in site else None,
                )
                for site in unit.get("sites", [])
            ),
        )
        for _path, unit, parent in _walk_units(data)
    )
    people = tuple(
        PersonSpec(
            email=_normal_email(person["email"]),
            name=person["name"],
            unit=person["unit"],
            roles=tuple(dict.fromkeys(person.get("roles", []))),
            password=person.get("password"),
            title=person.get("title"),
            phone=normal_phone(str(person["phone"])) if "phone" in person else None,
            administers=tuple(dict.fromkeys(person.get("administers", []))),
        )
        for person in data.get("people", [])
    )
    entries = tuple(
        EntrySpec(
            list=list_id,
            id=entry["id"],
            name=entry["name"],
            unit=entry["unit"],
            responsible=_normal_email(entry["responsible"]) if "responsible" in entry else None,
            note=entry.get("note"),
        )
        for list_id, items in (data.get("lists") or {}).items()
        for entry in items
    )
    return Organisation(units, people, source, entries)
