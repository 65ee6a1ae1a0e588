"""China's working-day calendar: official holidays and 调休, operator overrides, and an estimate
beyond the data.

Answers come from three sources, in this order:

1. an operator-editable override table (True = workday, False = day off), so a
   new year's schedule can be entered the day the State Council publishes it
   (every November), before any library release carries it;
2. ``chinese_calendar`` (holidays and adjusted workdays, 调休), for the years
   its data covers;
3. a Monday–Friday estimate for every other date, flagged by
   :meth:`WorkingCalendar.is_estimated` and logged once per year, so deadlines
   keep working (approximately) instead of raising when the data runs out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import chinese_calendar
from chinese_calendar import constants as _cc_data
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from workflow.models import CalendarDay

logger = logging.getLogger("pingan.calendar")

# How far ahead the official data must reach before we stop nagging: the State
# Council publishes next year's schedule in November, so a 60-day horizon
# raises the alarm early in December at the latest.
COVERAGE_HORIZON_DAYS = 60

_ONE_DAY = timedelta(days=1)


class WorkingCalendar:
    """Says whether a date is a working day in mainland China, and counts working days."""

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        """Build a calendar where ``overrides`` (date → is workday) win over all other sources."""
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
        self._first_year, self._last_year = _official_years()

    def _lookup(self, day: date) -> tuple[bool, bool]:
        day = _as_date(day)
        cached = self._memo.get(day)
        if cached is not None:
            return cached
        if day in self._overrides:
            result = (self._overrides[day], False)
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
                        "enter the published schedule as calendar overrides",
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


def load_calendar(session: Session, *, shared: bool = False) -> WorkingCalendar:
    """The working calendar with the operator's overrides from the database applied.

    ``shared`` (web requests): the calendar this process built from the same database's overrides,
    with all it has memoised (a fresh one would walk China's official calendar again for every
    overdue item of every inbox), re-read at most every ``SHARED_FRESH_SECONDS``. Overrides are a
    new year's holiday schedule, entered once a year by an operator in any process: a page may show
    them half a minute late, and the inbox saves a round trip to the database on every request. The
    sweep never shares: it reads them afresh.
    """
    if shared:
        database = session.get_bind().url.render_as_string(hide_password=True)
        checked = _CHECKED.get(database)
        if checked is not None and time.monotonic() - checked[0] < SHARED_FRESH_SECONDS:
            return checked[1]
    # a Core statement skips the ORM's autoflush: overrides the caller has pending count too
    session.flush()
    overrides = tuple(session.connection().execute(_OVERRIDES))
    if not shared:
        return WorkingCalendar(dict(overrides))  # type: ignore[arg-type]
    calendar = _SHARED.get(overrides)
    if calendar is None:
        if len(_SHARED) >= _SHARED_LIMIT:  # overrides edited many times in a long-lived process
            _SHARED.clear()
        calendar = _SHARED[overrides] = WorkingCalendar(dict(overrides))  # type: ignore[arg-type]
    if len(_CHECKED) >= _SHARED_LIMIT:  # a test run's many databases
        _CHECKED.clear()
    # one assignment: threads see the old pair or the new
    _CHECKED[database] = (
        time.monotonic(),
        calendar,
    )
    return calendar


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
SHARED_FRESH_SECONDS = 30.0
_SHARED_LIMIT = 8
# the overrides, in order of day → the calendar built from them
_SHARED: dict[tuple[Any, ...], WorkingCalendar] = {}
# database → (when its overrides were last read, the calendar they gave)
_CHECKED: dict[str, tuple[float, WorkingCalendar]] = {}
