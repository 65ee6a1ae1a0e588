"""5-field cron expressions read as crontab reads them, built into APScheduler triggers.

APScheduler 3's ``CronTrigger.from_crontab`` numbers the days of the week from Monday = 0, so
``0 9 * * 1`` would fire on Tuesdays; and it ANDs day of month with day of week. crontab(5) says
0 or 7 is Sunday, 1 Monday, and when both day fields are restricted a day matching either fires.
This module is the one place that translation happens: the day-of-week field is expanded to a set
of weekdays and handed to ``CronTrigger`` by name, and a restricted day of month with a restricted
day of week becomes an ``OrTrigger`` of the two.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

# crontab's numbering: Sunday is 0 (and 7); APScheduler's names for CronTrigger(day_of_week=...)
_CRONTAB_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# for people reading fire dates: Monday first, as datetime.weekday() counts, whatever the locale
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ELEMENT = re.compile(
    r"^(?P<range>\*|(?P<first>[a-z0-9]+)(?:-(?P<last>[a-z0-9]+))?)(?:/(?P<step>\d+))?$"
)


def crontab_trigger(expression: str, timezone: tzinfo | str) -> BaseTrigger:
    """The trigger firing when the 5-field crontab ``expression`` says, in ``timezone``.

    ValueError (with a message an author can act on) if the expression is not one.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"a cron expression has 5 fields (minute hour day month weekday), not {len(fields)}"
        )
    minute, hour, day, month, weekday = fields
    weekdays = _weekday_names(weekday)
    common = {"minute": minute, "hour": hour, "month": month, "timezone": timezone}
    # crontab treats a field starting with '*' as unrestricted when choosing between AND and OR
    if not day.startswith("*") and not weekday.startswith("*"):
        return OrTrigger(
            [
                CronTrigger(day=day, day_of_week="*", **common),
                CronTrigger(day="*", day_of_week=weekdays, **common),
            ]
        )
    return CronTrigger(day=day, day_of_week=weekdays, **common)


def next_fire_times(
    expression: str, timezone: tzinfo | str, after: datetime, count: int = 3
) -> list[datetime]:
    """The next ``count`` instants after ``after`` that ``expression`` fires, in ``timezone``."""
    trigger = crontab_trigger(expression, timezone)
    fires: list[datetime] = []
    previous: datetime | None = None
    now = after + timedelta(seconds=1)
    while len(fires) < count:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None:
            break
        fires.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)
    return fires


def _weekday_names(field: str) -> str:
    """The crontab day-of-week ``field`` as a comma list of APScheduler's weekday names."""
    days: set[int] = set()
    for element in field.lower().split(","):
        match = _ELEMENT.match(element)
        if not match:
            raise ValueError(f"day of week '{element}' is not a crontab value (0-7, sun-sat)")
        step = int(match["step"] or 1)
        if step == 0:
            raise ValueError(f"day of week '{element}': a step of 0 never moves")
        if match["range"] == "*":
            first, last = 0, 6
        else:
            first = _weekday_number(match["first"])
            if match["last"] is None:
                last = 7 if match["step"] else first  # 'a/n' reads as 'a-7/n'
            else:
                last = _weekday_number(match["last"])
                if last == 0 and first > 0:
                    last = 7  # mon-sun: Sunday as the end of the week
            if last < first:
                raise ValueError(
                    f"day of week range '{element}' runs backwards (write e.g. 'fri-sat,sun')"
                )
        days.update(number % 7 for number in range(first, last + 1, step))
    return ",".join(_CRONTAB_DAYS[number] for number in sorted(days))


def _weekday_number(value: str) -> int:
    """A crontab weekday (0-7 or a three-letter name) as 0 (Sunday) … 7 (Sunday again)."""
    if value.isdigit():
        number = int(value)
        if number > 7:
            raise ValueError(f"day of week {number} is out of range (0-7; 0 and 7 are Sunday)")
        return number
    if value in _CRONTAB_DAYS:
        return _CRONTAB_DAYS.index(value)
    raise ValueError(f"day of week '{value}' is not a crontab value (0-7, sun-sat)")
