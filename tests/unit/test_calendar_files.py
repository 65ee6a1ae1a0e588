"""A year's official days read from a file, and the calendar that uses them.

2031 is a made-up test year: NOT the State Council's schedule.
"""

from __future__ import annotations

from datetime import date

import pytest

from workflow.calendar import WorkingCalendar
from workflow.calendar_files import parse_calendar_file
from workflow.sourcefile import SourceError


def refusal(text: str, form: str) -> list[str]:
    with pytest.raises(SourceError) as refused:
        parse_calendar_file(text, "f", form)
    return [str(problem) for problem in refused.value.problems]


def test_holiday_cn_json_gives_the_years_days_off_and_workdays() -> None:
    parsed = parse_calendar_file(
        '{"year": 2031, "papers": [], "days": ['
        '{"name": "测试", "date": "2031-02-08", "isOffDay": false},'
        '{"name": "测试", "date": "2031-02-10", "isOffDay": true}]}',
        "f.json",
        "json",
    )
    assert (parsed.year, parsed.days_off, parsed.days_work) == (2031, 1, 1)
    assert [(d.day, d.workday, d.name) for d in parsed.days] == [
        (date(2031, 2, 8), True, "测试"),
        (date(2031, 2, 10), False, "测试"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"year": "2031", "days": []}', ["f: year: expected a year, found a string"]),
        ('{"year": 2031, "days": {}}', ["f: days: expected a list of days, found a mapping"]),
        (
            '{"year": 2031, "days": [{"name": "x", "date": "2031-2-1", "isOffDay": true}]}',
            ["f: days[0].date: not a date: '2031-2-1' (write YYYY-MM-DD)"],
        ),
        (
            '{"year": 2031, "days": [{"name": "x", "date": "2031-02-01", "isOffDay": "yes"}]}',
            ["f: days[0].isOffDay: expected true or false, found a string"],
        ),
        ("[1, 2]", ["f: expected a JSON object, found a list"]),
        ('{"year": 2031, "days": []}', ["f: the file lists no days"]),
    ],
)
def test_a_malformed_json_file_names_the_json_path(text: str, expected: list[str]) -> None:
    assert refusal(text, "json") == expected


def test_a_csv_file_spanning_two_years_is_refused_at_the_line() -> None:
    assert refusal("2031-12-31,off,x\n2032-01-01,off,y\n", "csv") == [
        "f:2: date: 2032-01-01 is not in 2031, the year of this file"
    ]


def test_a_yaml_mapping_of_days_and_an_unknown_kind() -> None:
    assert refusal("days:\n  - {date: 2031-02-10, kind: rest}\n", "yaml") == [
        "f:2: days[0].kind: unknown kind 'rest' (write off or work)"
    ]


def test_an_entered_year_is_data_not_an_estimate() -> None:
    entered = WorkingCalendar({date(2031, 2, 10): False}, entered_years=[2031])
    estimated = WorkingCalendar({date(2031, 2, 10): False})

    assert not entered.is_estimated(date(2031, 2, 11))
    assert entered.is_workday(date(2031, 2, 11))
    assert estimated.is_estimated(date(2031, 2, 11))
    assert entered.first_estimated_day(date(2031, 3, 1), date(2033, 5, 1)) == date(2032, 1, 1)
    assert entered.first_estimated_day(date(2026, 3, 1), date(2026, 12, 31)) is None
    assert estimated.first_estimated_day(date(2031, 3, 1), date(2031, 5, 1)) == date(2031, 3, 1)
