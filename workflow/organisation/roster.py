"""A roster (花名册) read from an uploaded XLSX spreadsheet or organisation YAML file: the people it
lists, each field with its place (row and column, or line and key), or every problem found.

Offices keep their people in a spreadsheet whose header row names the columns in Chinese (姓名,
职务, 单位, 手机, 邮箱, 角色) or English, in any order, with columns of their own beside them. What
can be checked without the directory is checked here (a missing name, a phone that is no mobile
number, the same e-mail twice); whether a unit is inside the roster's scope is
``org_changes.plan_roster``'s question. A problem keeps its place and a ``code`` with ``values``,
so the page can say it in the reader's language; ``message`` is the English.

An upload is hostile until read: the file's size, the zip's declared sizes and ratios (a zip bomb
declares gigabytes) and the rows read (openpyxl's read-only mode streams them; a million-row sheet
stops at ``MAX_ROSTER_ROWS``) are bounded before or while it is read, a formula is refused rather
than evaluated (openpyxl never evaluates one; we do not take its cached result either), and XML
entities are left to defusedxml, which openpyxl uses when it is installed. A YAML file is read by
``sourcefile``, whose alias count stops a billion laughs.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from openpyxl.reader.excel import ExcelReader
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._reader import WorkSheetParser

from workflow.limits import (
    MAX_ROSTER_COLUMNS,
    MAX_ROSTER_FILE_BYTES,
    MAX_ROSTER_PROBLEMS,
    MAX_ROSTER_ROWS,
    MAX_XLSX_MEMBERS,
    MAX_XLSX_RATIO,
    MAX_XLSX_SHARED_STRINGS_BYTES,
    MAX_XLSX_UNPACKED_BYTES,
)
from workflow.organisation.org_file import (
    PHONE_PROBLEM,
    Organisation,
    OrganisationError,
    normal_phone,
    parse_organisation,
)
from workflow.sourcefile import SourceError, format_path, load_yaml

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
REQUIRED = ("name", "unit", "email")
# a header row is looked for in the first rows: offices put a title (「铁路镇花名册」) above it
HEADER_SEARCH_ROWS = 10
ROLE_SEPARATORS = re.compile(r"[,，、;；\s]+")
ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TEXT_LIMIT = 200  # a name, a title or a unit's name: the columns' width


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


def read_roster(raw: bytes, filename: str) -> Roster:
    """Read an uploaded roster by its name's ending (.xlsx, .yaml or .yml); else RosterError."""
    if len(raw) > MAX_ROSTER_FILE_BYTES:
        _refuse(
            "too_big",
            f"the file is larger than {MAX_ROSTER_FILE_BYTES // (1024 * 1024)} MB",
            limit=str(MAX_ROSTER_FILE_BYTES // (1024 * 1024)),
        )
    ending = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if ending == "xlsx":
        return read_xlsx_roster(raw)
    if ending in ("yaml", "yml"):
        return read_yaml_roster(raw, filename)
    _refuse("not_roster", "not an XLSX or YAML file (name it .xlsx, .yaml or .yml)")
    raise AssertionError  # unreachable: _refuse raises


def read_xlsx_roster(raw: bytes) -> Roster:
    """The people of the first sheet of an XLSX workbook; RosterError listing every problem."""
    _check_zip(raw)
    try:
        reader = ExcelReader(io.BytesIO(raw), read_only=True, data_only=False)
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        targets = [
            rel.target
            for _sheet, rel in reader.parser.find_sheets()
            if rel.Type.endswith("/worksheet") and rel.target in reader.valid_files
        ]
    except Exception as error:  # openpyxl raises a dozen kinds for a damaged or foreign file
        _unreadable(error)
    if not targets:
        _refuse("no_header", "the workbook has no sheet")
    # openpyxl's load_workbook(read_only=True) parses a sheet without a <dimension> element to its
    # end before the first row is read (37 MB of rows: 8 s); its row parser alone streams, and keeps
    # a formula a formula (data_only=False: never the value Excel cached for it)
    with reader.archive.open(targets[0]) as source:
        parser = WorkSheetParser(source, reader.shared_strings, data_only=False)
        rows = (
            (
                number,
                {
                    cell["column"] - 1: cell
                    for cell in cells
                    if cell["column"] <= MAX_ROSTER_COLUMNS
                },
            )
            for number, cells in parser.parse()
        )
        try:
            return _read_sheet(rows)
        except RosterError:
            raise
        except Exception as error:  # a damaged sheet fails part way
            _unreadable(error)
    raise AssertionError  # unreachable


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


def _refuse(code: str, message: str, **values: str) -> None:
    raise RosterError([RosterProblem(Place(0), code, message, tuple(values.items()))])


def _unreadable(error: Exception) -> None:
    name = type(error).__name__
    if name in ("EntitiesForbidden", "DTDForbidden", "ExternalReferenceForbidden"):  # defusedxml's
        _refuse("xml_entities", "the workbook declares XML entities (an entity bomb?): refused")
    _refuse("not_xlsx", f"not a readable XLSX workbook ({name})")


def _check_zip(raw: bytes) -> None:
    """Refuse what is no zip, or declares more than we will unpack, before openpyxl opens it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError, OSError):
        _refuse("not_xlsx", "not an XLSX workbook (an XLSX file is a zip archive)")
    members = archive.infolist()
    if len(members) > MAX_XLSX_MEMBERS:
        _refuse("zip_bomb", f"the workbook has more than {MAX_XLSX_MEMBERS} parts")
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        too_dense = member.file_size > 1024 * 1024 and ratio > MAX_XLSX_RATIO
        strings_too_big = (
            member.filename.lower().endswith("sharedstrings.xml")
            and member.file_size > MAX_XLSX_SHARED_STRINGS_BYTES
        )
        if too_dense or strings_too_big or total > MAX_XLSX_UNPACKED_BYTES:
            _refuse(
                "zip_bomb",
                f"the workbook unpacks to more than a roster can hold (a part of "
                f"{member.file_size // (1024 * 1024)} MB packed {ratio:.0f} times): refused unread",
            )


def _read_sheet(rows: Iterator[tuple[int, dict[int, dict[str, Any]]]]) -> Roster:
    problems: list[RosterProblem] = []
    header_row, columns = _find_header(rows, problems)
    if columns is None:
        raise RosterError(problems)
    people: list[RosterPerson] = []
    first_email: dict[str, int] = {}
    first_phone: dict[str, int] = {}
    for number, cells in rows:
        if number - header_row > MAX_ROSTER_ROWS:
            raise RosterError(
                [
                    RosterProblem(
                        Place(number),
                        "too_many_rows",
                        f"more than {MAX_ROSTER_ROWS} rows below the header: split the roster",
                        (("limit", str(MAX_ROSTER_ROWS)),),
                    )
                ]
            )
        if len(problems) >= MAX_ROSTER_PROBLEMS:
            continue  # enough to show; the rows are still counted
        values: dict[str, Any] = {}
        before = len(problems)
        for key, (position, header) in columns.items():
            cell = cells.get(position)
            place = Place(number, header, _letter(position))
            if cell is not None and cell["data_type"] == "f":
                problems.append(
                    RosterProblem(
                        place, "formula", "a formula: type the value itself (formulas are not run)"
                    )
                )
                values[key] = None
                continue
            values[key] = None if cell is None else cell["value"]
        if all(_blank(value) for value in values.values()):
            continue
        formulas = {p.place for p in problems[before:] if p.place.line == number}
        person = _person(number, values, columns, problems)
        # a formula's cell is said once: not also "empty"
        problems[before:] = [
            p for p in problems[before:] if p.code != "required" or p.place not in formulas
        ]
        if person is None:
            continue
        _first_or_problem(
            first_email, person.email, person.places["email"], "duplicate_email", problems
        )
        if person.phone:
            _first_or_problem(
                first_phone, person.phone, person.places["phone"], "duplicate_phone", problems
            )
        people.append(person)
    if problems:
        raise RosterError(problems[:MAX_ROSTER_PROBLEMS])
    return Roster("xlsx", tuple(people))


def _find_header(
    rows: Iterator[tuple[int, dict[int, dict[str, Any]]]], problems: list[RosterProblem]
) -> tuple[int, dict[str, tuple[int, str]] | None]:
    """The header row's number and each field's column (position, header as written)."""
    known = {_normal_header(h): key for key, headers in HEADERS.items() for h in headers}
    for number, cells in rows:
        if number > HEADER_SEARCH_ROWS:
            break
        columns: dict[str, tuple[int, str]] = {}
        duplicates = []
        for position, cell in sorted(cells.items()):
            value = cell["value"] if cell["data_type"] != "f" else None
            key = known.get(_normal_header(value)) if isinstance(value, str) else None
            if key is None:
                continue
            if key in columns:
                duplicates.append(
                    RosterProblem(
                        Place(number, value.strip(), _letter(position)),
                        "duplicate_column",
                        f"a second {COLUMN_NAMES[key]} column (the first is column "
                        f"{_letter(columns[key][0])})",
                        (("first", _letter(columns[key][0])),),
                    )
                )
                continue
            columns[key] = (position, value.strip())
        if "name" in columns and len(columns) >= 2:
            missing = [key for key in REQUIRED if key not in columns]
            problems.extend(duplicates)
            problems.extend(
                RosterProblem(
                    Place(number, COLUMN_NAMES[key]),
                    "missing_column",
                    f"the header row has no {COLUMN_NAMES[key]} ({key}) column",
                    (("column", COLUMN_NAMES[key]),),
                )
                for key in missing
            )
            return number, None if missing or duplicates else columns
    problems.append(
        RosterProblem(
            Place(0),
            "no_header",
            "no header row found in the first rows: it names the columns 姓名, 职务, 单位, 手机, "
            "邮箱, 角色 (or name, title, unit, phone, email, roles)",
        )
    )
    return 0, None


def _person(
    number: int,
    values: dict[str, Any],
    columns: dict[str, tuple[int, str]],
    problems: list[RosterProblem],
) -> RosterPerson | None:
    places = {
        key: Place(number, header, _letter(position)) for key, (position, header) in columns.items()
    }
    before = len(problems)

    def problem(key: str, code: str, message: str, **extra: str) -> None:
        problems.append(RosterProblem(places[key], code, message, tuple(extra.items())))

    texts: dict[str, str | None] = {}
    for key in ("name", "title", "unit", "email"):
        if key not in columns:
            continue
        text = _text(values.get(key))
        if text is None and key in REQUIRED:
            problem(key, "required", "empty: every row needs a value here")
        elif text is not None and len(text) > TEXT_LIMIT:
            problem(key, "too_long", f"longer than {TEXT_LIMIT} characters", limit=str(TEXT_LIMIT))
        texts[key] = text
    email = (texts.get("email") or "").lower()
    if email and not EMAIL.match(email):
        problem("email", "bad_email", f"'{email}' is no e-mail address", value=email)
    phone: str | None = None
    if "phone" in columns and not _blank(values.get("phone")):
        written = _phone_text(values["phone"])
        phone = normal_phone(written)
        if phone is None:
            problem("phone", "bad_phone", f"'{written}': {PHONE_PROBLEM}", value=written)
    roles: tuple[str, ...] | None = None
    if "roles" in columns:
        written = _text(values.get("roles")) or ""
        roles = tuple(dict.fromkeys(r for r in ROLE_SEPARATORS.split(written) if r))
        for role in roles:
            if not ROLE.match(role):
                problem(
                    "roles",
                    "bad_role",
                    f"'{role}' is no role id: lower-case letters, digits, '-' or '_' "
                    f"(e.g. village_head)",
                    value=role,
                )
    if len(problems) > before:
        return None
    return RosterPerson(
        email=email,
        name=texts["name"] or "",
        unit=texts["unit"] or "",
        title=texts.get("title") if "title" in columns else None,
        phone=phone,
        roles=roles,
        places=places,
    )


def _first_or_problem(
    seen: dict[str, int], value: str, place: Place, code: str, problems: list[RosterProblem]
) -> None:
    if value in seen:
        what = "e-mail" if code == "duplicate_email" else "mobile number"
        problems.append(
            RosterProblem(
                place,
                code,
                f"the same {what} as row {seen[value]}",
                (("value", value), ("first", str(seen[value]))),
            )
        )
    else:
        seen[value] = place.line


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(str(value).split())
    return text or None


def _phone_text(value: Any) -> str:
    # Excel keeps 13800138000 typed into a number cell as a number, often a float
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _normal_header(value: object) -> str:
    return re.sub(r"[\s*＊:：()（）]", "", str(value)).lower() if value is not None else ""


def _letter(position: int) -> str:
    return get_column_letter(position + 1)


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
