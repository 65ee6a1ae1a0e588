"""Reading an uploaded roster by its name's ending: an XLSX spreadsheet (``roster_xlsx``) or an
organisation YAML file, into a ``Roster`` with every value placed; or a ``RosterError`` listing
every problem at its place.

A YAML file is the organisation file (``org_file``): its problems keep the line and key
``sourcefile`` gives them, and its alias count stops a billion laughs. Every upload is measured
before it is read (``MAX_ROSTER_FILE_BYTES``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from workflow.limits import MAX_ROSTER_FILE_BYTES, MAX_ROSTER_PROBLEMS
from workflow.organisation.org_file import OrganisationError, parse_organisation
from workflow.organisation.roster import Place, Roster, RosterError, RosterPerson, RosterProblem
from workflow.organisation.roster_xlsx import read_xlsx_roster
from workflow.sourcefile import SourceError, format_path, load_yaml


def read_roster(raw: bytes, filename: str) -> Roster:
    """Read an uploaded roster by its name's ending (.xlsx, .yaml or .yml); else RosterError."""
    if len(raw) > MAX_ROSTER_FILE_BYTES:
        raise RosterError.of_file(
            "too_big",
            f"the file is larger than {MAX_ROSTER_FILE_BYTES // (1024 * 1024)} MB",
            limit=str(MAX_ROSTER_FILE_BYTES // (1024 * 1024)),
        )
    ending = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if ending == "xlsx":
        return read_xlsx_roster(raw)
    if ending in ("yaml", "yml"):
        return read_yaml_roster(raw, filename)
    raise RosterError.of_file(
        "not_roster", "not an XLSX or YAML file (name it .xlsx, .yaml or .yml)"
    )


def read_yaml_roster(raw: bytes, source: str) -> Roster:
    """The organisation YAML file as a roster, every field placed by line and key;
    RosterError with the file's problems (line and key) otherwise."""
    try:
        organisation = parse_organisation(raw, source)
        _data, lines = load_yaml(raw, source)
    except (OrganisationError, SourceError) as error:
        raise RosterError(
            [
                RosterProblem(
                    Place(problem.line, problem.key),
                    "yaml",
                    problem.message,
                    (("message", problem.message),),
                )
                for problem in error.problems[:MAX_ROSTER_PROBLEMS]
            ]
        ) from None
    people = []
    for index, spec in enumerate(organisation.people):
        places = {
            key: Place(lines.line_of(("people", index, key)), f"people[{index}].{key}")
            for key in ("email", "name", "unit", "title", "phone", "roles", "administers")
        }
        people.append(
            RosterPerson(
                email=spec.email,
                name=spec.name,
                unit=spec.unit,
                title=spec.title,
                phone=spec.phone,
                roles=spec.roles,
                places=places,
                password=spec.password,
                administers=spec.administers,
            )
        )
    places: dict[str, Place] = {}
    for path, unit in _unit_paths(_data):
        places[f"unit:{unit.get('id')}"] = Place(lines.line_of((*path, "id")), _key(path, "id"))
        for index, site in enumerate(unit.get("sites") or []):
            if isinstance(site, dict):
                site_path = (*path, "sites", index, "id")
                places[f"site:{site.get('id')}"] = Place(
                    lines.line_of(site_path), _key(site_path[:-1], "id")
                )
    for list_id, entries in (_data.get("lists") or {}).items():
        for index, entry in enumerate(entries or []):
            if isinstance(entry, dict):
                path = ("lists", list_id, index)
                places[f"entry:{list_id}/{entry.get('id')}"] = Place(
                    lines.line_of((*path, "id")), _key(path, "id")
                )
    return Roster("yaml", tuple(people), organisation, places)


# --- helpers ------------------------------------------------------------------------------------


def _key(path: tuple[str | int, ...], last: str) -> str:
    return format_path((*path, last))


def _unit_paths(data: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    waiting: list[tuple[tuple[str | int, ...], Any]] = [(("units",), data.get("units"))]
    while waiting:
        path, items = waiting.pop()
        for index, unit in enumerate(items if isinstance(items, list) else []):
            if isinstance(unit, dict):
                yield (*path, index), unit
                waiting.append(((*path, index, "children"), unit.get("children")))
