"""An XLSX roster's first sheet read into a ``Roster`` with every value at its row and column; or a
``RosterError`` listing every problem found at its place.

Offices keep their people in a spreadsheet whose header row names the columns in Chinese (姓名,
职务, 单位, 手机, 邮箱, 角色) or English, in any order, with columns of their own beside them. What
can be checked without the directory is checked here (a missing name, a phone that is no mobile
number, the same e-mail twice); whether a unit is inside the roster's scope is ``org_changes``'
question.

An upload is hostile until read: the file's size, the zip's declared sizes and ratios (a zip bomb
declares gigabytes) and the rows read (a million-row sheet stops at ``MAX_ROSTER_ROWS``) are
bounded before or while it is read, a formula is refused rather than evaluated (openpyxl never
evaluates one; we do not take its cached result either), and XML entities are refused by
defusedxml, which openpyxl uses when it is installed.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

from openpyxl.reader.excel import ExcelReader
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse  # defusedxml's, when it is installed

from workflow.limits import (
    MAX_ROSTER_COLUMNS,
    MAX_ROSTER_PROBLEMS,
    MAX_ROSTER_ROWS,
    MAX_ROW_CELLS,
    MAX_XLSX_MEMBERS,
    MAX_XLSX_RATIO,
    MAX_XLSX_SHARED_STRINGS_BYTES,
    MAX_XLSX_UNPACKED_BYTES,
)
from workflow.organisation.org_file import PHONE_PROBLEM, normal_phone
from workflow.organisation.roster import (
    COLUMN_NAMES,
    HEADERS,
    Place,
    Roster,
    RosterError,
    RosterPerson,
    RosterProblem,
)

REQUIRED = ("name", "unit", "email")
# a header row is looked for in the first rows: offices put a title (「铁路镇花名册」) above it
HEADER_SEARCH_ROWS = 10
ROLE_SEPARATORS = re.compile(r"[,，、;；\s]+")
ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ROW, _CELL = f"{{{SHEET_MAIN_NS}}}row", f"{{{SHEET_MAIN_NS}}}c"
TEXT_LIMIT = 200  # a name, a title or a unit's name: the columns' width


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
    # end before the first row is read (37 MB of rows: 8 s), and builds a row's every cell before
    # it yields the row (one row of a million cells: a gigabyte). So the sheet is streamed here,
    # row by row, a row's cells counted as they come, and each row is read by openpyxl's own row
    # parser, which keeps a formula a formula (data_only=False: never the value Excel cached)
    try:
        with reader.archive.open(targets[0]) as source:
            parser = WorkSheetParser(source, reader.shared_strings, data_only=False)
            return _read_sheet(_sheet_rows(source, parser))
    except RosterError:
        raise
    except Exception as error:  # a damaged sheet fails part way
        _unreadable(error)
    finally:
        reader.archive.close()
    raise AssertionError  # unreachable


# --- helpers ------------------------------------------------------------------------------------


def _refuse(code: str, message: str, **values: str) -> None:
    raise RosterError.of_file(code, message, **values)


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


def _sheet_rows(
    source: Any, parser: WorkSheetParser
) -> Iterator[tuple[int, dict[int, dict[str, Any]]]]:
    """Each row's number and its cells by position (0 is column A), the first
    ``MAX_ROSTER_COLUMNS`` columns only. Every element is let go once it is read, and a row of
    more than ``MAX_ROW_CELLS`` cells is refused before it is built: memory stays that of a row."""
    open_elements: list[Any] = []
    cells = nodes = 0
    for event, element in iterparse(source, events=("start", "end")):
        if event == "start":
            open_elements.append(element)
            if element.tag == _ROW:
                cells = nodes = 0
            continue
        open_elements.pop()
        in_row = any(e.tag == _ROW for e in open_elements)
        if in_row:  # kept for the row's parser: counted
            nodes += 1
            cells += element.tag == _CELL
            if cells > MAX_ROW_CELLS or nodes > 8 * MAX_ROW_CELLS:
                _refuse(
                    "too_wide",
                    f"a row has more than {MAX_ROW_CELLS} cells: refused unread",
                    limit=str(MAX_ROW_CELLS),
                )
            continue
        if element.tag == _ROW:
            number, parsed = parser.parse_row(element)
            yield (
                number,
                {c["column"] - 1: c for c in parsed if c["column"] <= MAX_ROSTER_COLUMNS},
            )
        if open_elements:  # read: let it go (its earlier siblings went before it)
            open_elements[-1].remove(element)


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
