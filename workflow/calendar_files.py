"""A year of the official calendar read from a file: holiday-cn's JSON, or a plain YAML or CSV list.

The State Council publishes next year's holidays and adjusted workdays (调休) in October–December;
an operator enters them with ``pingan calendar import FILE`` before any chinesecalendar release
carries them. Accepted forms:

- holiday-cn's JSON: ``{"year": 2027, "papers": [URL, …], "days": [{"name": "元旦",
  "date": "2027-01-01", "isOffDay": true}, …]}``;
- YAML: a list (or ``days:`` holding one) of ``{date: 2027-01-01, kind: off, name: 元旦}``;
- CSV: rows ``date,kind,name`` (a header row of those words may come first).

``kind`` is ``off`` (a day off) or ``work`` (a weekend day made a workday). A file is one year.
Every problem is a :class:`~workflow.sourcefile.Problem` naming the file and the line (YAML, CSV)
or the JSON path (``days[3].date``); a file with any is refused as a whole.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from workflow.sourcefile import (
    Problem,
    SourceError,
    format_path,
    kind_of,
    load_yaml,
    read_source_file,
)

KINDS = {"off": False, "work": True}  # kind → is a workday
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class EnteredDay:
    """One day of a calendar file: a day off, or a weekend day made a workday."""

    day: date
    workday: bool
    name: str


@dataclass(frozen=True)
class CalendarFile:
    """A year's official days as a file gives them, checked."""

    source: str
    year: int
    days: tuple[EnteredDay, ...]

    @property
    def days_off(self) -> int:
        return sum(1 for d in self.days if not d.workday)

    @property
    def days_work(self) -> int:
        return sum(1 for d in self.days if d.workday)


def load_calendar_file(path: str | Path) -> CalendarFile:
    """Read and check a calendar file; :class:`SourceError` listing every problem, by location."""
    source = str(path)
    suffix = Path(path).suffix.lower()
    if suffix not in (".json", ".yaml", ".yml", ".csv"):
        raise SourceError(
            [Problem(source, 0, "", "not a JSON, YAML or CSV file (name it .json, .yaml or .csv)")]
        )
    return parse_calendar_file(read_source_file(path), source, suffix.lstrip("."))


def parse_calendar_file(text: str, source: str, form: str) -> CalendarFile:
    """Check the text of a calendar file in ``form`` (json, yaml/yml or csv)."""
    if form == "json":
        return _from_json(text, source)
    if form in ("yaml", "yml"):
        return _from_yaml(text, source)
    if form == "csv":
        return _from_csv(text, source)
    raise SourceError([Problem(source, 0, "", f"not a JSON, YAML or CSV file: {form!r}")])


# --- the forms ----------------------------------------------------------------------------------


class _Days:
    """Collects a file's days with their problems: bad dates, another year, a day twice."""

    def __init__(self, source: str, year: int | None) -> None:
        self.source = source
        self.year = year
        self.problems: list[Problem] = []
        self.days: dict[date, EnteredDay] = {}
        self._where: dict[date, str] = {}

    def problem(self, line: int, key: str, message: str) -> None:
        self.problems.append(Problem(self.source, line, key, message))

    def add(self, line: int, key: str, text: object, workday: bool | None, name: str) -> None:
        """One day, located at ``line`` (0 for JSON) and ``key`` (its path, or the column)."""
        day = self._date(line, key, text)
        if day is None or workday is None:
            return
        if self.year is None:
            self.year = day.year  # a list's year is its first day's
        if day.year != self.year:
            self.problem(line, key, f"{day} is not in {self.year}, the year of this file")
            return
        if day in self.days:
            self.problem(line, key, f"{day} is listed twice (first at {self._where[day]})")
            return
        self.days[day] = EnteredDay(day, workday, name)
        self._where[day] = f"line {line}" if line else key.rsplit(".", 1)[0]

    def _date(self, line: int, key: str, text: object) -> date | None:
        if not isinstance(text, str) or not _DATE.fullmatch(text.strip()):
            shown = repr(text) if isinstance(text, str) else kind_of(text)
            self.problem(line, key, f"not a date: {shown} (write YYYY-MM-DD)")
            return None
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            self.problem(line, key, f"not a date: {text!r} (no such day)")
            return None

    def result(self) -> CalendarFile:
        if not self.problems and not self.days:
            self.problem(0, "", "the file lists no days")
        if self.problems:
            raise SourceError(self.problems)
        assert self.year is not None
        return CalendarFile(self.source, self.year, tuple(sorted(self.days.values(), key=_day)))


def _day(entered: EnteredDay) -> date:
    return entered.day


def _from_json(text: str, source: str) -> CalendarFile:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(
            [Problem(source, error.lineno, "", f"not valid JSON: {error.msg}")]
        ) from None
    if not isinstance(data, dict):
        raise SourceError(
            [Problem(source, 0, "", f"expected a JSON object, found {kind_of(data)}")]
        )
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2200:
        shown = repr(year) if isinstance(year, int) else kind_of(year)
        raise SourceError([Problem(source, 0, "year", f"expected a year, found {shown}")])
    found = _Days(source, year)
    papers = data.get("papers", [])
    if not isinstance(papers, list) or not all(isinstance(p, str) for p in papers):
        found.problem(0, "papers", "expected a list of addresses (strings)")
    days = data.get("days")
    if not isinstance(days, list):
        found.problem(0, "days", f"expected a list of days, found {kind_of(days)}")
        days = []
    for index, entry in enumerate(days):
        path = format_path(("days", index))
        if not isinstance(entry, dict):
            found.problem(0, path, f"expected an object, found {kind_of(entry)}")
            continue
        off, name = entry.get("isOffDay"), entry.get("name", "")
        if not isinstance(off, bool):
            found.problem(0, f"{path}.isOffDay", f"expected true or false, found {kind_of(off)}")
        if not isinstance(name, str):
            found.problem(0, f"{path}.name", f"expected a string, found {kind_of(name)}")
            name = ""
        workday = (not off) if isinstance(off, bool) else None
        found.add(0, f"{path}.date", entry.get("date"), workday, name)
    return found.result()


def _from_yaml(text: str, source: str) -> CalendarFile:
    try:
        data, lines = load_yaml(text, source)
        offset = 0
    except SourceError as error:
        if not any("found a list" in p.message for p in error.problems):
            raise
        # a plain list: read as the value of `days:` on a line of its own, one line above
        data, lines = load_yaml("days:\n" + text, source)
        offset = 1
    found = _Days(source, None)
    for problem in lines.problems:  # duplicate keys
        found.problem(problem.line - offset, problem.key, problem.message)

    def line(path: tuple[str | int, ...]) -> int:
        return max(lines.line_of(path) - offset, 1)

    unknown = set(data) - {"days"}
    for key in sorted(unknown):
        found.problem(line((key,)), key, f"unknown key '{key}' (allowed: days)")
    days = data.get("days")
    if not isinstance(days, list):
        found.problem(line(("days",)), "days", f"expected a list of days, found {kind_of(days)}")
        days = []
    for index, entry in enumerate(days):
        path: tuple[str | int, ...] = ("days", index)
        shown = format_path(path) if offset == 0 else f"[{index}]"
        if not isinstance(entry, dict):
            found.problem(line(path), shown, f"expected a mapping, found {kind_of(entry)}")
            continue
        kind = entry.get("kind")
        # YAML 1.1 reads an unquoted `off` as false
        kind = "off" if kind is False else kind
        workday = _kind(found, line((*path, "kind")), f"{shown}.kind", kind)
        name = entry.get("name")
        found.add(
            line((*path, "date")),
            f"{shown}.date",
            entry.get("date"),
            workday,
            name if isinstance(name, str) else "",
        )
    return found.result()


def _from_csv(text: str, source: str) -> CalendarFile:
    found = _Days(source, None)
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            cells = [cell.strip() for cell in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if reader.line_num == 1 and cells[0].lower() == "date":
                continue  # the header
            if len(cells) < 2 or len(cells) > 3:
                found.problem(
                    reader.line_num, "", f"expected date,kind,name; found {len(cells)} column(s)"
                )
                continue
            workday = _kind(found, reader.line_num, "kind", cells[1])
            name = cells[2] if len(cells) > 2 else ""
            found.add(reader.line_num, "date", cells[0], workday, name)
    except csv.Error as error:
        found.problem(reader.line_num, "", f"not valid CSV: {error}")
    return found.result()


def _kind(found: _Days, line: int, key: str, value: object) -> bool | None:
    if isinstance(value, str) and value.strip().lower() in KINDS:
        return KINDS[value.strip().lower()]
    shown = repr(value) if isinstance(value, str) else kind_of(value)
    found.problem(line, key, f"unknown kind {shown} (write off or work)")
    return None
