"""A roster (花名册) and what it would change: the people an uploaded XLSX or organisation YAML file
lists, each value with its place (row and column, or line and key), the problems found at their
places, and the plan of a roster for a unit's scope (``org_changes``) that the preview shows.

A problem keeps its place and a ``code`` with ``values``, so a page can say it in its reader's
language; ``message`` is the English. ``roster_files`` (and ``roster_xlsx``) read the files,
``org_changes`` and ``unit_changes`` make the plan, ``people/rosters`` applies it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from workflow.organisation.org_file import Organisation

if TYPE_CHECKING:  # its type only: deactivation reads the directory this package keeps
    from workflow.people.deactivation import HeldItem

# the roster's fields, and the headers that name each (compared without case and spaces)
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "name"),
    "title": ("职务", "title"),
    "unit": ("单位", "unit"),
    "phone": ("手机", "手机号", "手机号码", "phone", "mobile"),
    "email": ("邮箱", "电子邮箱", "email", "e-mail"),
    "roles": ("角色", "roles", "role"),
}
# the header each field is written under (the export's, and the name a problem gives a column
# that is missing)
COLUMN_NAMES = {
    "name": "姓名",
    "title": "职务",
    "unit": "单位",
    "phone": "手机",
    "email": "邮箱",
    "roles": "角色",
}


@dataclass(frozen=True)
class Place:
    """Where a value is: an XLSX row as Excel shows it with the column's header and letter, or a
    YAML line with its key. ``line`` 0 is the file as a whole."""

    line: int
    column: str = ""
    letter: str = ""


@dataclass(frozen=True)
class RosterProblem:
    """One thing wrong with a roster, at its place; ``code`` and ``values`` let a page word it."""

    place: Place
    code: str
    message: str  # English
    values: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        where = f"row {self.place.line}" if self.place.letter else f"line {self.place.line}"
        if self.place.column:
            where += f", {self.place.column}"
        return f"{where}: {self.message}" if self.place.line else self.message


class RosterError(Exception):
    """A roster that cannot be used: ``problems`` lists everything found (the first
    ``MAX_ROSTER_PROBLEMS``), in order."""

    def __init__(self, problems: list[RosterProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.place.line, p.place.letter))
        first = str(self.problems[0]) if self.problems else "invalid roster"
        super().__init__(first)

    @classmethod
    def of_file(cls, code: str, message: str, **values: str) -> RosterError:
        """A roster refused as a whole (its size, its kind, a zip bomb)."""
        return cls([RosterProblem(Place(0), code, message, tuple(values.items()))])


@dataclass(frozen=True)
class RosterPerson:
    """A person as the roster lists them. ``unit`` is as written (an XLSX cell may hold a unit's id
    or its name); a field the roster has no column for is None and keeps its current value."""

    email: str
    name: str
    unit: str
    title: str | None
    phone: str | None
    roles: tuple[str, ...] | None
    places: Mapping[str, Place]
    password: str | None = None
    administers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Roster:
    """A roster read whole: its people, and for a YAML file the organisation it describes (units,
    key sites, lists) with the place of each unit, site and entry by id."""

    kind: str  # "xlsx" | "yaml"
    people: tuple[RosterPerson, ...]
    organisation: Organisation | None = None
    places: Mapping[str, Place] = field(default_factory=dict)  # "unit:east", "site:x", "entry:l/x"

    def place_of(self, what: str) -> Place:
        return self.places.get(what, Place(0))


@dataclass(frozen=True)
class FieldChange:
    """One field of a person, unit or site that the roster changes: ``name``, ``title``, ``unit``,
    ``phone``, ``roles``, ``administers``, ``password``, ``parent``, ``responsible``, ``note``."""

    field: str
    before: str
    after: str


@dataclass(frozen=True)
class PersonLine:
    """A person the roster lists: ``added``, ``changed`` or ``unchanged``, with the row as it will
    be (``unit`` is the unit's name) and the line or row it came from."""

    kind: str
    email: str
    name: str
    title: str
    unit: str
    phone: str
    roles: str
    line: int
    changes: tuple[FieldChange, ...] = ()
    inactive: bool = False  # a deactivated person stays so (reactivation is a page of its own)


@dataclass(frozen=True)
class Leaving:
    """An active person of the scope the roster does not list: deactivated on apply, or ``kept``
    because of ``held`` (their open items: ``deactivation.HeldItem``) or because it is the
    administrator themselves."""

    person_id: int
    email: str
    name: str
    unit: str
    kept: bool
    held: tuple[HeldItem, ...] = ()
    more: int = 0  # open items beyond those named
    is_you: bool = False


@dataclass(frozen=True)
class OtherChange:
    """A unit, key site or list entry an organisation file adds or changes."""

    kind: str  # unit | site | entry
    code: str
    name: str
    added: bool
    changes: tuple[FieldChange, ...] = ()


@dataclass
class RosterPlan:
    scope_id: int
    scope_code: str
    scope_name: str
    people: list[PersonLine] = field(default_factory=list)
    leaving: list[Leaving] = field(default_factory=list)
    other: list[OtherChange] = field(default_factory=list)
    problems: list[RosterProblem] = field(default_factory=list)
    organisation: Organisation | None = None

    def count(self, kind: str) -> int:
        return sum(1 for person in self.people if person.kind == kind)

    @property
    def deactivated(self) -> list[Leaving]:
        return [leaving for leaving in self.leaving if not leaving.kept]

    @property
    def kept(self) -> list[Leaving]:
        return [leaving for leaving in self.leaving if leaving.kept]

    @property
    def has_changes(self) -> bool:
        return bool(self.count("added") or self.count("changed") or self.deactivated or self.other)

    def problem(self, place: Place, code: str, message: str, **values: str) -> None:
        self.problems.append(RosterProblem(place, code, message, tuple(values.items())))

    @property
    def fingerprint(self) -> str:
        """A digest of everything the preview shows: an apply made for another state is refused."""
        shown = {
            "scope": self.scope_id,
            "people": [asdict(line) for line in self.people],
            "leaving": [asdict(leaving) for leaving in self.leaving],
            "other": [asdict(change) for change in self.other],
        }
        text = json.dumps(shown, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()
