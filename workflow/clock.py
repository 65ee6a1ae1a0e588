"""The one clock: every time-dependent function takes ``now`` from here.

A pinned instant (``PINGAN_NOW``, which webapp/config.py reads and hands to
:func:`clock_from_setting`) fixes it for any command: rehearsals, demos, tests
run a campaign year in minutes. Times are aware and in UTC; a naive ISO value is
read in the time zone given (``PINGAN_TIMEZONE``, default Asia/Shanghai), since
that is how people here write a time. Nothing here reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass
class FixedClock:
    """A clock that says what it is told; tests and ``sweep --now`` move it."""

    instant: datetime

    def __post_init__(self) -> None:
        self.instant = as_utc(self.instant)

    def now(self) -> datetime:
        return self.instant

    def advance(self, delta: timedelta) -> None:
        self.instant = self.instant + delta


class ClockError(ValueError):
    """An ISO date-time that cannot be read."""


def parse_instant(text: str, default_timezone: str | None = None) -> datetime:
    """Read an ISO date or date-time; a naive value is in ``default_timezone``."""
    zone = ZoneInfo(default_timezone or DEFAULT_TIMEZONE)
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ClockError(f"not an ISO date-time: {text!r} (e.g. 2026-10-09T09:00)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(timezone.utc)


def clock_from_setting(pinned: str, timezone: str | None = None) -> Clock:
    """A clock fixed at ``pinned`` (an ISO date-time, a naive one in ``timezone``), or the system
    clock when it is empty; ClockError when it cannot be read."""
    if pinned.strip():
        return FixedClock(parse_instant(pinned, timezone))
    return SystemClock()


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; naive values are taken to be UTC already (as stored)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def local_date(instant: datetime, tz: str) -> date:
    """The calendar date of ``instant`` in the time zone ``tz``."""
    return as_utc(instant).astimezone(ZoneInfo(tz)).date()


def local_time(instant: datetime, tz: str) -> datetime:
    """``instant`` as the clock on the wall reads it in the time zone ``tz``."""
    return as_utc(instant).astimezone(ZoneInfo(tz))


def end_of_day(day: date, tz: str) -> datetime:
    """The first instant after ``day`` in ``tz``, in UTC: a deadline date means the whole day."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=ZoneInfo(tz)).astimezone(
        timezone.utc
    )
