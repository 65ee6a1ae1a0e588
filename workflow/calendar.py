"""China's working-day calendar: official holidays and 调休, operator overrides, and an estimate
beyond the data.

Answers come from three sources, in this order:

1. an operator-editable override table (True = workday, False = day off), so a
   new year's schedule can be entered (``pingan calendar import``) the day the
   State Council publishes it (October–December), before any library release
   carries it; the other days of an imported year are Monday–Friday;
2. ``chinese_calendar`` (holidays and adjusted workdays, 调休), for the years
   its data covers;
3. a Monday–Friday estimate for every other date, flagged by
   :meth:`WorkingCalendar.is_estimated` and logged once per year, so deadlines
   keep working (approximately) instead of raising when the data runs out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import chinese_calendar
from chinese_calendar import constants as _cc_data
from sqlalchemy import ScalarSelect, Select, String, cast, delete, func, literal_column, select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.audit import Actor
from workflow.calendar_files import CalendarFile
from workflow.db import joined_text
from workflow.models import CalendarDay, CalendarImport, CampaignPhase

logger = logging.getLogger("pingan.calendar")

# How far ahead the official data must reach before we stop nagging: the State
# Council publishes next year's schedule in November, so a 60-day horizon
# raises the alarm early in December at the latest.
COVERAGE_HORIZON_DAYS = 60

_ONE_DAY = timedelta(days=1)


class WorkingCalendar:
    """Says whether a date is a working day in mainland China, and counts working days."""

    def __init__(
        self, overrides: Mapping[date, bool] | None = None, entered_years: Iterable[int] = ()
    ) -> None:
        """Build a calendar where ``overrides`` (date → is workday) win over all other sources.

        ``entered_years``: years whose official schedule an operator imported (its days are in
        ``overrides``): any other day of such a year is Monday–Friday, and not an estimate.
        """
        # Copied so a later edit of the caller's mapping cannot silently
        # disagree with answers already memoised.
        self._overrides: dict[date, bool] = {
            _as_date(day): bool(flag) for day, flag in (overrides or {}).items()
        }
        # day -> (is_workday, is_estimated); a sweep asks about the same days
        # thousands of times, and chinese_calendar re-validates on every call.
        self._memo: dict[date, tuple[bool, bool]] = {}
        self._added: dict[tuple[date, int], date] = {}
        self._between: dict[tuple[date, date], int] = {}
        # Years already reported as estimated, so the log gets one line per
        # year rather than one per lookup.
        self._warned_years: set[int] = set()
        self._entered_years = frozenset(entered_years)
        self._first_year, self._last_year = _official_years()

    def _lookup(self, day: date) -> tuple[bool, bool]:
        day = _as_date(day)
        cached = self._memo.get(day)
        if cached is not None:
            return cached
        if day in self._overrides:
            result = (self._overrides[day], False)
        elif day.year in self._entered_years:
            # the imported schedule lists days off and 调休 only: the rest is the plain week
            result = (day.weekday() < 5, False)
        else:
            try:
                result = (bool(chinese_calendar.is_workday(day)), False)
            except NotImplementedError:
                # Outside the library's years: estimate rather than fail, since
                # a campaign deadline in an unpublished year must still be
                # computable; the estimate ignores holidays and 调休.
                result = (day.weekday() < 5, True)
                if day.year not in self._warned_years:
                    self._warned_years.add(day.year)
                    logger.warning(
                        "working days in %d are estimated Monday–Friday without official "
                        "holidays or adjusted workdays (official data covers %d–%d); "
                        "enter the published schedule with `pingan calendar import`",
                        day.year,
                        self._first_year,
                        self._last_year,
                    )
        self._memo[day] = result
        return result

    def is_workday(self, day: date) -> bool:
        """True when ``day`` is a working day (override, else official schedule, else Mon–Fri)."""
        return self._lookup(day)[0]

    def is_estimated(self, day: date) -> bool:
        """True when the answer for ``day`` is the Mon–Fri estimate (no override, no official
        data)."""
        return self._lookup(day)[1]

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day strictly after ``start`` (before it if ``n`` < 0); ``start`` if
        ``n`` == 0."""
        key = (_as_date(start), n)
        if key not in self._added:
            self._added[key] = self._walk(key[0], n)
        return self._added[key]

    def _walk(self, start: date, n: int) -> date:
        day = start
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        # Day-by-day walk: every week holds working days (overrides are finite,
        # the estimate is Mon–Fri), so this ends after ~1.5 * |n| steps, and
        # memoised lookups keep a few hundred steps cheap.
        while remaining:
            day += step
            if self.is_workday(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """The number of working days d with start < d <= end; negative of the reverse count if end
        < start."""
        start, end = _as_date(start), _as_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        # a sweep asks this for thousands of items sharing a few deadlines
        if (start, end) not in self._between:
            self._between[(start, end)] = self._count(start, end)
        return self._between[(start, end)]

    def _count(self, start: date, end: date) -> int:
        count = 0
        day = start
        while day < end:
            day += _ONE_DAY
            if self.is_workday(day):
                count += 1
        return count

    def first_estimated_day(self, start: date, end: date) -> date | None:
        """The first day from ``start`` to ``end`` in a year with neither official data nor an
        entered schedule (its working days estimated Monday–Friday), or None."""
        start, end = _as_date(start), _as_date(end)
        for year in range(start.year, end.year + 1):
            if not self.has_data_for(year):
                return max(start, date(year, 1, 1))
        return None

    def has_data_for(self, year: int) -> bool:
        """True when ``year``'s holidays are known: chinesecalendar's data, or an entered
        schedule."""
        return self._first_year <= year <= self._last_year or year in self._entered_years

    def data_ends(self) -> date:
        """The last date covered by chinese_calendar's official data (31 December of its last
        year)."""
        return date(self._last_year, 12, 31)

    def coverage_warning(self, today: date) -> str | None:
        """A one-line warning when the official data ends less than 60 days after ``today``, else
        None."""
        ends = self.data_ends()
        days_left = (ends - _as_date(today)).days
        if days_left >= COVERAGE_HORIZON_DAYS:
            return None
        if days_left < 0:
            when = f"ended on {ends.isoformat()}"
        else:
            when = f"ends on {ends.isoformat()} ({days_left} days from now)"
        return (
            f"official holiday data {when}: later working days are estimated Monday–Friday; "
            f"enter the State Council's schedule for {ends.year + 1} as calendar overrides "
            f"or upgrade chinesecalendar"
        )


# The State Council publishes next year's holidays in late October or November (2024's on
# 2023-10-25, 2026's on 2025-11-04): from 1 November a missing schedule is worth a daily word.
SCHEDULE_NOTICE_FROM = (11, 1)


def missing_schedule(calendar: WorkingCalendar, today: date) -> int | None:
    """The year whose official holidays are known neither from the package's data nor from an
    entered schedule and should be by ``today``: this year, at any time; next year, from 1 November.
    None when nothing is missing yet."""
    if not calendar.has_data_for(today.year):
        return today.year
    if (today.month, today.day) < SCHEDULE_NOTICE_FROM:
        return None
    year = today.year + 1
    return None if calendar.has_data_for(year) else year


def load_calendar(
    session: Session, *, shared: bool = False, imports: str | None = None
) -> WorkingCalendar:
    """The working calendar with the operator's overrides and imported years applied.

    ``shared`` (web requests): the calendar this process built from the same database's overrides,
    with all it has memoised (a fresh one would walk China's official calendar again for every
    overdue item of every inbox). The imports (a row per year) are read on every call, so a year
    imported with ``pingan calendar import`` is seen by the next request; days edited in
    ``calendar_days`` by hand are re-read at most every ``SHARED_FRESH_SECONDS``. The sweep never
    shares: it reads them afresh.

    ``imports``: the imports as :func:`imports_stamp` gave them, read by the caller in a statement
    it sent anyway (an API request's token look-up): one round trip fewer.
    """
    # a Core statement skips the ORM's autoflush: overrides the caller has pending count too
    session.flush()
    connection = session.connection()
    if imports is None:
        imports = connection.execute(_IMPORTS).scalar() or ""
    years = tuple(sorted({int(year.split("/")[0]) for year in imports.split(",") if year}))
    database = ""
    if shared:
        database = session.get_bind().url.render_as_string(hide_password=True)
        checked = _CHECKED.get(database)
        if (
            checked is not None
            and checked[1] == imports
            and time.monotonic() - checked[0] < SHARED_FRESH_SECONDS
        ):
            return checked[2]
    overrides = tuple(connection.execute(_OVERRIDES))
    if not shared:
        return WorkingCalendar(dict(overrides), years)  # type: ignore[arg-type]
    key = (overrides, years)
    calendar = _SHARED.get(key)
    if calendar is None:
        if len(_SHARED) >= _SHARED_LIMIT:  # overrides edited many times in a long-lived process
            _SHARED.clear()
        calendar = _SHARED[key] = WorkingCalendar(dict(overrides), years)  # type: ignore[arg-type]
    if len(_CHECKED) >= _SHARED_LIMIT:  # a test run's many databases
        _CHECKED.clear()
    # one assignment: threads see the old triple or the new
    _CHECKED[database] = (time.monotonic(), imports, calendar)
    return calendar


def imports_stamp() -> ScalarSelect[Any]:
    """The imported years (year, when, days off, workdays of each) as one text, or NULL when none:
    a column another statement can carry (``load_calendar(imports=…)``), and what tells a shared
    calendar that a year was imported since it was built."""
    return _STAMP


@dataclass(frozen=True)
class YearStatus:
    """Where a year's working days come from, and how many holidays and adjusted workdays it has.

    ``source``: ``package`` (chinesecalendar's data), ``entered`` (imported by an operator: when, by
    whom, from which file) or ``none`` (estimated Monday–Friday). ``by_hand``: days of the year in
    ``calendar_days`` outside an import (a local holiday, an edit in SQL).
    """

    year: int
    source: str
    days_off: int
    days_work: int
    imported_at: datetime | None = None
    imported_by: str | None = None
    source_name: str | None = None
    by_hand: int = 0

    def describe(self, zone: tzinfo | None = None) -> str:
        """One line: the year, its source, its counts (an import's time in ``zone``)."""
        if self.source == "entered" and self.imported_at is not None:
            at = self.imported_at.astimezone(zone) if zone else self.imported_at
            where = f"entered {at:%Y-%m-%d %H:%M} by {self.imported_by} from {self.source_name}"
        elif self.source == "package":
            where = "package data (chinesecalendar)"
        else:
            where = "none: estimated Monday–Friday"
        counts = (
            f"{self.days_off} holiday day(s), {self.days_work} adjusted workday(s)"
            if self.source != "none"
            else "no holidays known"
        )
        extra = f"; {self.by_hand} day(s) set by hand" if self.by_hand else ""
        return f"{self.year}  {where} — {counts}{extra}"


def calendar_status(session: Session, today: date) -> list[YearStatus]:
    """Each year from the earliest with data (the package's or entered) to next year (and any later
    year entered), with its source and counts."""
    imports = {row.year: row for row in session.scalars(select(CalendarImport))}
    entered: dict[int, list[bool]] = {}
    for day, workday in session.connection().execute(_OVERRIDES):
        entered.setdefault(day.year, []).append(bool(workday))
    first, last = _official_years()
    known = [first, *imports, *entered]
    years = range(min(known), max(today.year + 1, *known) + 1)
    rows: list[YearStatus] = []
    for year in years:
        flags = entered.get(year, [])
        record = imports.get(year)
        if record is not None:
            rows.append(
                YearStatus(
                    year,
                    "entered",
                    flags.count(False),
                    flags.count(True),
                    record.imported_at,
                    record.imported_by,
                    record.source_name,
                )
            )
        elif first <= year <= last:
            rows.append(
                YearStatus(
                    year,
                    "package",
                    sum(1 for d in _cc_data.holidays if d.year == year),
                    sum(1 for d in _cc_data.workdays if d.year == year),
                    by_hand=len(flags),
                )
            )
        else:
            rows.append(YearStatus(year, "none", 0, 0, by_hand=len(flags)))
    return rows


def import_calendar(
    session: Session, calendar_file: CalendarFile, *, by: Actor, now: datetime
) -> CalendarImport:
    """Make ``calendar_file``'s days the entered days of its year (all of them replaced), recording
    who imported it, when and from which file. The caller's transaction makes it all or nothing."""
    year = calendar_file.year
    session.execute(
        delete(CalendarDay).where(
            CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)
        )
    )
    session.add_all(
        CalendarDay(day=d.day, workday=d.workday, note=(d.name or None) and d.name[:300])
        for d in calendar_file.days
    )
    record = session.get(CalendarImport, year)
    before = None if record is None else record.source_name
    if record is None:
        record = CalendarImport(year=year)
        session.add(record)
    source_name = Path(calendar_file.source).name[:300]
    record.imported_at = now
    record.imported_by = by.label[:254]
    record.source_name = source_name
    record.days_off = calendar_file.days_off
    record.days_work = calendar_file.days_work
    audit.record(
        session,
        at=now,
        by=by,
        entity="calendar",
        entity_id=year,
        event="import",
        from_state=before,
        to_state=source_name,
        campaign_id=None,
        note=(
            f"{year}: {calendar_file.days_off} day(s) off, {calendar_file.days_work} adjusted "
            f"workday(s) from {source_name}"
        ),
    )
    session.flush()
    return record


def first_estimated_planned_day(
    session: Session, campaign_id: int, calendar: WorkingCalendar
) -> date | None:
    """The first day of the campaign's planned phases in a year without official data (neither the
    package's nor entered), or None."""
    first, last = session.execute(
        select(func.min(CampaignPhase.planned_start), func.max(CampaignPhase.planned_end)).where(
            CampaignPhase.campaign_id == campaign_id
        )
    ).one()
    if first is None:
        return None
    return calendar.first_estimated_day(first, last or first)


def _as_date(day: date) -> date:
    # datetime is a subclass of date; normalise so it hashes to the same memo
    # and override key as the plain date.
    return day.date() if isinstance(day, datetime) else day


def _official_years() -> tuple[int, int]:
    # Derived from the library's own tables (the same ones its range check
    # uses), so upgrading chinesecalendar extends coverage with no code change.
    years = [d.year for d in _cc_data.holidays] + [d.year for d in _cc_data.workdays]
    return min(years), max(years)


# built once: a Core statement on the session's connection, compiled once and cached (no ORM
# objects)
_DAYS = CalendarDay.__table__
_OVERRIDES: Select[Any] = select(_DAYS.c.day, _DAYS.c.workday).order_by(_DAYS.c.day)
_IMPORTED = CalendarImport.__table__
# each import as "year/when/days off/workdays", in order of year, joined by commas
_IMPORTS_IN_ORDER = (
    select(
        (
            cast(_IMPORTED.c.year, String)
            + "/"
            + cast(_IMPORTED.c.imported_at, String)
            + "/"
            + cast(_IMPORTED.c.days_off, String)
            + "/"
            + cast(_IMPORTED.c.days_work, String)
        ).label("stamp")
    )
    .order_by(_IMPORTED.c.year)
    .subquery()
)
_IMPORTS: Select[Any] = select(joined_text(_IMPORTS_IN_ORDER.c.stamp, literal_column("','")))
_STAMP = _IMPORTS.scalar_subquery()
SHARED_FRESH_SECONDS = 30.0
_SHARED_LIMIT = 8
# the overrides, in order of day → the calendar built from them
_SHARED: dict[tuple[Any, ...], WorkingCalendar] = {}
# database → (when its overrides were last read, its imports then, the calendar they gave)
_CHECKED: dict[str, tuple[float, str, WorkingCalendar]] = {}
