"""Durations as written in definitions: ``30d`` (calendar days) or ``5wd`` (working days), a time
limit such as ``1h`` (reports to outside bodies), the one
rule turning a stored end (exclusive) into the last day a person reads (inclusive), and the one
count of a dated rule that says whether its day is an estimate (:func:`count`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal

from workflow.clock import end_of_day

if TYPE_CHECKING:
    from workflow.calendar import WorkingCalendar

_DURATION = re.compile(r"^(0|[1-9][0-9]{0,4})(d|wd)$")
# a limit in the hour (``1h``, ``30min``): how soon an incident must be reported to outside bodies
_TIME_LIMIT = re.compile(r"^([1-9][0-9]{0,3})(min|h)$")
# a stored rule: a duration, counted back from its basis when signed (``-2wd``)
_RULE = re.compile(r"^(-?)((?:0|[1-9][0-9]{0,4})(?:d|wd))$")
# where each kind of row keeps its counted day (the other columns are ``<prefix>_estimated`` …)
_DAY_COLUMNS = {"due": "due_on", "deadline": "deadline"}

DurationUnit = Literal["d", "wd"]


class DurationError(ValueError):
    """A duration string that is not ``<N>d`` or ``<N>wd``."""


@dataclass(frozen=True)
class Duration:
    """A length of time in calendar days (``d``) or China's working days (``wd``)."""

    amount: int
    unit: DurationUnit

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    def after(self, start: date, calendar: WorkingCalendar) -> date:
        """The date this duration after ``start`` (working days skip holidays, honour 调休)."""
        if self.unit == "d":
            return start + timedelta(days=self.amount)
        return calendar.add_working_days(start, self.amount)

    def before(self, end: date, calendar: WorkingCalendar) -> date:
        """The date this duration before ``end``."""
        if self.unit == "d":
            return end - timedelta(days=self.amount)
        return calendar.add_working_days(end, -self.amount)


def last_day(end: date | None) -> date | None:
    """The last day on time of a window stored with its exclusive ``end`` (a phase's planned end is
    the day after its last day): every date a person reads is this one, and late is after it."""
    return end - timedelta(days=1) if end is not None else None


def parse_duration(text: object) -> Duration:
    """Parse ``30d`` / ``5wd``; raise :class:`DurationError` with a message a user can act on."""
    value = str(text).strip() if isinstance(text, (str, int)) else None
    match = _DURATION.match(value) if value is not None else None
    if match is None:
        raise DurationError(
            f"bad duration {text!r}: write a whole number followed by d (calendar days) "
            f"or wd (working days), e.g. 30d or 5wd"
        )
    return Duration(int(match.group(1)), match.group(2))  # type: ignore[arg-type]


def parse_time_limit(text: object) -> timedelta:
    """Parse ``30min`` / ``1h`` (a report's time limit, counted in clock time, day and night);
    raise :class:`DurationError` with a message a user can act on."""
    value = str(text).strip() if isinstance(text, str) else None
    match = _TIME_LIMIT.match(value) if value is not None else None
    if match is None:
        raise DurationError(
            f"bad time limit {text!r}: write a whole number followed by min (minutes) or h "
            f"(hours), e.g. 30min or 1h"
        )
    amount = int(match.group(1))
    return timedelta(minutes=amount) if match.group(2) == "min" else timedelta(hours=amount)


def time_limit_text(limit: timedelta) -> str:
    """A time limit as a person reads it in Chinese: 1小时, 30分钟, 1小时30分钟."""
    minutes = int(limit.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    return (f"{hours}小时" if hours else "") + (f"{rest}分钟" if rest or not hours else "")


@dataclass(frozen=True)
class Counted:
    """A day counted from ``basis`` by ``rule`` (``5wd``; ``-5wd`` counts back), and whether it is
    an estimate: a working-day count over a day of a year whose official schedule is not known,
    which ``pingan calendar import`` recounts. A date a person entered is never one
    (:meth:`given`)."""

    day: date
    estimated: bool
    basis: date
    rule: str

    @classmethod
    def given(cls, day: date) -> Counted:
        """A date entered as it is (a person typed it): not counted, so never an estimate."""
        return cls(day, False, day, "")

    def columns(self, prefix: str, tz: str | None = None) -> dict[str, object]:
        """The row's columns for this day: ``due_on``/``deadline`` (by ``prefix``: ``due`` or
        ``deadline``), ``<prefix>_estimated``, ``<prefix>_basis`` and ``<prefix>_rule`` (None unless
        estimated: only an estimate is recounted), and ``<prefix>_at`` (the end of the day in
        ``tz``) when ``tz`` is given."""
        values: dict[str, object] = {
            _DAY_COLUMNS[prefix]: self.day,
            f"{prefix}_estimated": self.estimated,
            f"{prefix}_basis": self.basis if self.estimated else None,
            f"{prefix}_rule": self.rule if self.estimated else None,
        }
        if tz is not None:
            values[f"{prefix}_at"] = end_of_day(self.day, tz)
        return values

    def apply(self, row: object, prefix: str, tz: str | None = None) -> None:
        """Set :meth:`columns` on an ORM row."""
        for name, value in self.columns(prefix, tz).items():
            setattr(row, name, value)


def count(rule: Duration | str, basis: date, calendar: WorkingCalendar) -> Counted:
    """Count ``rule`` from ``basis`` (a :class:`Duration`, or a stored rule such as ``-5wd`` that
    counts back), saying whether the day is an estimate.

    Estimated when the rule is in working days and the span counted (``basis`` to the day, either
    direction) touches a year with neither chinesecalendar's data nor an entered schedule: there the
    count assumed Monday–Friday. Calendar days (``14d``) are never estimates.
    """
    duration, back = (rule, False) if isinstance(rule, Duration) else parse_rule(rule)
    day = duration.before(basis, calendar) if back else duration.after(basis, calendar)
    estimated = (
        duration.unit == "wd"
        and duration.amount > 0
        and calendar.first_estimated_day(min(basis, day), max(basis, day)) is not None
    )
    return Counted(day, estimated, basis, f"{'-' if back else ''}{duration}")


def parse_rule(text: str) -> tuple[Duration, bool]:
    """A stored rule (``5wd``, ``-5wd``) as its duration and whether it counts back."""
    match = _RULE.match(str(text).strip())
    if match is None:
        raise DurationError(
            f"bad counted rule {text!r}: a duration, e.g. 5wd, or -5wd counting back"
        )
    return parse_duration(match.group(2)), bool(match.group(1))


def estimated_year(basis: date, day: date, calendar: WorkingCalendar) -> int | None:
    """The first year without official data between ``basis`` and ``day``: why a count is an
    estimate (None: it is not one any more)."""
    first = calendar.first_estimated_day(min(basis, day), max(basis, day))
    return first.year if first is not None else None


def estimate_reason(year: int, *, entered_since: bool = False) -> str:
    """Why a date is an estimate, Chinese first: the API's ``estimate_reason``. ``entered_since``:
    the year was entered after the count, too late for this date (it had passed, so it stays)."""
    if entered_since:
        return (
            f"计算时 {year} 年国务院节假日安排尚未录入，按周一至周五推算 / counted Monday–Friday "
            f"before the State Council's {year} schedule was entered"
        )
    return (
        f"{year} 年国务院节假日安排尚未录入，按周一至周五推算 / the State Council's {year} "
        f"schedule is not entered; counted Monday–Friday"
    )
