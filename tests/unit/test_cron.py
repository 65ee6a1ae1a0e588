"""A recurring duty's cron expression means what it means in crontab: 0 or 7 is Sunday, 1 Monday."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from workflow.definitions.cron import crontab_trigger, next_fire_times
from workflow.definitions.reader import DefinitionError, parse_definition

SHANGHAI = ZoneInfo("Asia/Shanghai")
AFTER = datetime(2026, 12, 2, 0, 0, tzinfo=SHANGHAI)  # a Wednesday


def fire_days(expression: str, count: int = 10) -> list[date]:
    return [fire.date() for fire in next_fire_times(expression, SHANGHAI, AFTER, count)]


def weekdays(expression: str, count: int = 10) -> set[str]:
    return {day.strftime("%A") for day in fire_days(expression, count)}


def test_one_is_monday_at_nine_in_the_definitions_time_zone():
    fires = next_fire_times("0 9 * * 1", SHANGHAI, AFTER, 3)
    assert [fire.isoformat() for fire in fires] == [
        "2026-12-07T09:00:00+08:00",
        "2026-12-14T09:00:00+08:00",
        "2026-12-21T09:00:00+08:00",
    ]
    assert {fire.strftime("%A") for fire in fires} == {"Monday"}


@pytest.mark.parametrize("expression", ["0 9 * * 0", "0 9 * * 7", "0 9 * * sun", "0 9 * * SUN"])
def test_zero_and_seven_are_sunday(expression):
    assert fire_days(expression, 3) == [date(2026, 12, 6), date(2026, 12, 13), date(2026, 12, 20)]


@pytest.mark.parametrize("expression", ["0 9 * * mon-fri", "0 9 * * 1-5", "0 9 * * 1,2-3,thu,5"])
def test_working_week_ranges_fire_monday_to_friday(expression):
    days = fire_days(expression, 10)
    assert weekdays(expression, 10) == {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}
    # two whole weeks from Wednesday 2 December, no day skipped
    assert days[0] == date(2026, 12, 2) and days[-1] == date(2026, 12, 15)


def test_lists_steps_and_names_mixed():
    assert weekdays("0 9 * * 1,3,5") == {"Monday", "Wednesday", "Friday"}
    assert weekdays("0 9 * * */2") == {"Sunday", "Tuesday", "Thursday", "Saturday"}
    assert weekdays("0 9 * * 1-5/2") == {"Monday", "Wednesday", "Friday"}
    assert weekdays("0 9 * * sat,1") == {"Saturday", "Monday"}
    assert weekdays("0 9 * * 5-7") == {"Friday", "Saturday", "Sunday"}
    assert len(weekdays("0 9 * * mon-sun")) == 7


def test_a_restricted_day_of_month_and_day_of_week_fire_on_either():
    # crontab's rule: the 1st of each month, and every Monday
    days = fire_days("0 9 1 * 1", 6)
    assert days == [
        date(2026, 12, 7),
        date(2026, 12, 14),
        date(2026, 12, 21),
        date(2026, 12, 28),
        date(2027, 1, 1),  # a Friday: the 1st
        date(2027, 1, 4),
    ]


def test_a_star_day_field_keeps_the_other_restriction_alone():
    assert fire_days("0 9 1,15 * *", 3) == [date(2026, 12, 15), date(2027, 1, 1), date(2027, 1, 15)]
    assert fire_days("0 9 * 3 mon", 2) == [date(2027, 3, 1), date(2027, 3, 8)]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 9 * * 8", "day of week 8 is out of range (0-7; 0 and 7 are Sunday)"),
        ("0 9 * * fri-mon", "day of week range 'fri-mon' runs backwards"),
        ("0 9 * * monday", "day of week 'monday' is not a crontab value (0-7, sun-sat)"),
        ("0 9 * * 1/0", "a step of 0 never moves"),
        ("0 9 * *", "a cron expression has 5 fields"),
        ("61 9 * * 1", "the last value (61) is higher than the maximum value (59)"),
    ],
)
def test_what_crontab_would_refuse_is_refused_with_a_reason(expression, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        crontab_trigger(expression, "UTC")


DEFINITION = """\
id: cron-test
version: 1
title: 平安测试
roles:
  - {id: office_director, title: 办公室主任}
phases:
  - id: implementation
    title: 全面实施阶段
    recurring:
      - {id: weekly, title: 周例会, assignee: office_director, every: EVERY, due: 1d}
"""


def test_validation_names_the_line_of_a_day_of_week_crontab_would_refuse():
    with pytest.raises(DefinitionError) as raised:
        parse_definition(DEFINITION.replace("EVERY", "'0 9 * * 8'"), "bad.yaml")
    assert [str(problem) for problem in raised.value.problems] == [
        "bad.yaml:10: phases[0].recurring[0].every: bad cron expression '0 9 * * 8': "
        "day of week 8 is out of range (0-7; 0 and 7 are Sunday)"
    ]


def test_validation_accepts_both_day_fields_restricted():
    definition = parse_definition(DEFINITION.replace("EVERY", "'0 9 1 * 1'"), "ok.yaml")
    assert definition.phases[0].recurring[0].every == "0 9 1 * 1"
