"""A campaign's plan as its text writes it: phase windows fixed at the start, and due dates.

A phase may carry the text's own dates (``starts: 2012-05-20``, ``ends: 2012-05-30``, both
inclusive), a ``duration``, or both; a phase with neither date follows the one before it. A
task is due ``14d``/``5wd`` after its phase's planned start, ``-5d`` before its phase's planned
last day, or on a date (``due: 2006-01-31``).

Every phase's window is computed once, when the campaign starts, and stored; a late (or early)
advance does not move it, and a task counts from its phase's planned start unless its definition
says ``due_from: actual``. A text's dates hold when the campaign starts within the text's first
phase; started on another day, the whole plan moves by the same number of days, and
:func:`plan_notice` says so, naming the text's dates (the texts are templates a town copies year
after year: refusing would make every shipped one unusable outside its own year).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from workflow.durations import (
    Counted,
    Duration,
    DurationError,
    count,
    last_day,
    parse_duration,
)

if TYPE_CHECKING:
    from workflow.calendar import WorkingCalendar
    from workflow.definitions.reader import Definition, PhaseSpec

DAY = timedelta(days=1)
DATE_PATTERN = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@dataclass(frozen=True)
class Due:
    """When a task is due: ``after`` its phase's start, ``before_end`` (its phase's planned last
    day), or ``on`` a date of the text."""

    after: Duration | None = None
    before_end: Duration | None = None
    on: date | None = None

    def __str__(self) -> str:
        if self.on is not None:
            return self.on.isoformat()
        if self.before_end is not None:
            return f"-{self.before_end}"
        return str(self.after)


@dataclass(frozen=True)
class Window:
    """A phase's planned window: its first day and the day after its last (None: open)."""

    start: date | None
    end: date | None

    @property
    def last_day(self) -> date | None:
        return last_day(self.end)


def parse_date(text: object) -> date:
    """A date as the texts' definitions write it (``2006-01-31``); ValueError otherwise."""
    value = str(text).strip()
    if not DATE_PATTERN.match(value):
        raise ValueError(f"bad date {text!r}: write it as YYYY-MM-DD, e.g. 2006-01-31")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"bad date {text!r}: there is no such day") from None


def parse_due(text: object) -> Due:
    """``14d``/``5wd`` (after the phase starts), ``-5d`` (before it ends) or ``2006-01-31``."""
    value = str(text).strip()
    if DATE_PATTERN.match(value):
        return Due(on=parse_date(value))
    try:
        if value.startswith("-"):
            return Due(before_end=parse_duration(value[1:]))
        return Due(after=parse_duration(value))
    except DurationError:
        raise DurationError(
            f"bad due {text!r}: write 14d or 5wd (after the phase starts), -5d (before the phase "
            f"ends) or a date such as 2006-01-31"
        ) from None


def phase_last_day(phase: PhaseSpec) -> date | None:
    """The last day the text gives a phase: its ``ends``, else its ``starts`` plus its calendar
    duration; None when the text does not say."""
    if phase.ends is not None:
        return phase.ends
    if phase.starts is not None and phase.duration is not None and phase.duration.unit == "d":
        return phase.starts + timedelta(days=phase.duration.amount) - DAY
    return None


def text_shift(definition: Definition, starts_on: date) -> timedelta:
    """How far the text's dates move for a campaign started on ``starts_on``: not at all when it
    starts within the text's first phase, else by the days between the text's start and this."""
    first = definition.phases[0]
    if first.starts is None:
        return timedelta(0)
    last = phase_last_day(first) or first.starts
    if first.starts <= starts_on <= last:
        return timedelta(0)
    return starts_on - first.starts


def planned_windows(
    definition: Definition, starts_on: date, calendar: WorkingCalendar
) -> list[Window]:
    """Every phase's planned window for a campaign started on ``starts_on``."""
    shift = text_shift(definition, starts_on)
    windows: list[Window] = []
    cursor: date | None = starts_on
    for phase in definition.phases:
        start = phase.starts + shift if phase.starts is not None else cursor
        if phase.ends is not None:
            end: date | None = phase.ends + shift + DAY
        elif phase.duration is not None and start is not None:
            end = phase.duration.after(start, calendar)
        else:
            end = None
        windows.append(Window(start, end))
        cursor = end
    return windows


def due_day(
    due: Due,
    window: Window,
    entered: date,
    *,
    from_actual: bool,
    shift: timedelta,
    calendar: WorkingCalendar,
) -> Counted:
    """The due date of a task of a phase planned as ``window`` and entered on ``entered`` (with
    what it was counted from, so that an estimate can be counted again)."""
    if due.on is not None:
        return Counted.given(due.on + shift)
    if due.before_end is not None and window.last_day is not None:
        return count(f"-{due.before_end}", window.last_day, calendar)
    base = entered if from_actual or window.start is None else window.start
    # a -5d due in a phase whose end nobody planned: the checks refuse it; counted from entry
    return count(due.after or due.before_end or Duration(0, "d"), base, calendar)


def spec_due(
    spec: Any, window: Window, entered: date, *, shift: timedelta, calendar: WorkingCalendar
) -> Counted | None:
    """The due date of a phase's task or letter (``spec.due``, ``spec.due_from_actual``), or None
    when it gives none."""
    if spec.due is None:
        return None
    return due_day(
        spec.due,
        window,
        entered,
        from_actual=spec.due_from_actual,
        shift=shift,
        calendar=calendar,
    )


@dataclass(frozen=True)
class PlanNotice:
    """A campaign started on another day than its text's: the text's dates, and what became of
    them."""

    text_start: date
    starts_on: date
    shift_days: int
    text_windows: tuple[tuple[str, date | None, date | None], ...]  # (phase id, first, last)

    def describe(self) -> str:
        dates = "; ".join(
            f"{phase} {first.isoformat() if first else '…'} – {last.isoformat() if last else '…'}"
            for phase, first, last in self.text_windows
        )
        if self.shift_days == 0:
            return (
                f"started on {self.starts_on.isoformat()}, after the text's first day "
                f"{self.text_start.isoformat()}: the text's dates stand ({dates})"
            )
        return (
            f"the text's dates are {dates}; started on {self.starts_on.isoformat()}, every date "
            f"of the plan moves by {self.shift_days} day(s)"
        )


def plan_notice(definition: Definition, starts_on: date) -> PlanNotice | None:
    """What to tell whoever starts a campaign whose text gives dates, on another day than the
    text's first (None: no dates in the text, or started on that very day)."""
    first = definition.phases[0]
    if first.starts is None or first.starts == starts_on:
        return None
    windows = tuple(
        (phase.id, phase.starts, phase_last_day(phase))
        for phase in definition.phases
        if phase.starts is not None or phase.ends is not None
    )
    return PlanNotice(first.starts, starts_on, text_shift(definition, starts_on).days, windows)
