"""Durations as written in definitions: ``30d`` (calendar days) or ``5wd`` (working days), and
the one rule turning a stored end (exclusive) into the last day a person reads (inclusive)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from workflow.calendar import WorkingCalendar

_DURATION = re.compile(r"^(0|[1-9][0-9]{0,4})(d|wd)$")

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
