"""China's working-day calendar: holidays, 调休, overrides, estimates beyond the data."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

from workflow.calendar import WorkingCalendar
from workflow.durations import parse_duration

# 2026's adjusted workdays (调休): weekend days the State Council made workdays.
ADJUSTED_WORKDAYS_2026 = [
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def estimate_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "pingan.calendar"
        and r.levelno == logging.WARNING
        and "estimated" in r.getMessage()
    ]


# --- official data ---------------------------------------------------------


def test_three_working_days_after_29_september_2026_is_9_october(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 9, 29), 3) == date(2026, 10, 9)


@pytest.mark.parametrize("day", ADJUSTED_WORKDAYS_2026, ids=str)
def test_2026_weekend_days_made_workdays_by_adjustment_are_workdays(
    cal: WorkingCalendar, day: date
) -> None:
    assert day.weekday() >= 5, "the adjusted workdays are Saturdays or Sundays"
    assert cal.is_workday(day)
    assert not cal.is_estimated(day)


def test_national_day_2026_is_not_a_workday(cal: WorkingCalendar) -> None:
    assert not cal.is_workday(date(2026, 10, 1))
    assert not cal.is_estimated(date(2026, 10, 1))


def test_an_ordinary_weekday_and_weekend_in_2026_follow_the_official_data(
    cal: WorkingCalendar,
) -> None:
    assert cal.is_workday(date(2026, 6, 3))  # Wednesday
    assert not cal.is_workday(date(2026, 6, 6))  # Saturday


def test_datetimes_are_answered_like_their_date(cal: WorkingCalendar) -> None:
    from datetime import datetime

    assert cal.is_workday(datetime(2026, 10, 10, 9, 30)) is True
    assert cal.is_workday(datetime(2026, 10, 1, 9, 30)) is False


# --- beyond the data -------------------------------------------------------


def test_a_2027_date_falls_back_to_monday_to_friday_without_error(cal: WorkingCalendar) -> None:
    assert cal.is_workday(date(2027, 3, 3))  # Wednesday
    assert not cal.is_workday(date(2027, 3, 6))  # Saturday
    assert cal.is_estimated(date(2027, 3, 3))
    assert cal.is_estimated(date(2027, 3, 6))


def test_national_day_2027_is_estimated_as_a_workday_because_its_holiday_is_unknown(
    cal: WorkingCalendar,
) -> None:
    assert cal.is_workday(date(2027, 10, 1))  # a Friday; no official data yet
    assert cal.is_estimated(date(2027, 10, 1))


def test_estimating_2027_logs_one_warning_however_many_days_are_asked(
    cal: WorkingCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pingan.calendar")
    start = date(2027, 1, 1)
    for offset in range(365):
        cal.is_workday(start + timedelta(days=offset))
    cal.add_working_days(date(2027, 1, 1), 200)
    cal.working_days_between(date(2027, 1, 1), date(2027, 12, 31))

    warnings = estimate_warnings(caplog)
    assert len(warnings) == 1
    assert "2027" in warnings[0].getMessage()
    assert "Monday" in warnings[0].getMessage()


def test_each_estimated_year_is_warned_about_once_per_calendar(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="pingan.calendar")
    first, second = WorkingCalendar(), WorkingCalendar()
    first.is_workday(date(2027, 5, 5))
    first.is_workday(date(2028, 5, 5))
    first.is_workday(date(2027, 6, 6))
    second.is_workday(date(2027, 5, 5))

    messages = [r.getMessage() for r in estimate_warnings(caplog)]
    assert sum("2027" in m for m in messages) == 2  # once for each calendar
    assert sum("2028" in m for m in messages) == 1


def test_official_2026_dates_log_no_estimate_warning(
    cal: WorkingCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pingan.calendar")
    cal.add_working_days(date(2026, 1, 1), 200)
    assert estimate_warnings(caplog) == []


def test_working_days_can_be_counted_from_the_official_data_into_the_estimate(
    cal: WorkingCalendar,
) -> None:
    # 2026-12-31 is a Thursday; 2027 is estimated Mon–Fri: Fri 1 Jan, then Mon 4 Jan.
    assert cal.add_working_days(date(2026, 12, 31), 2) == date(2027, 1, 4)


# --- overrides -------------------------------------------------------------


def test_an_override_can_make_an_official_holiday_a_workday() -> None:
    cal = WorkingCalendar({date(2026, 10, 1): True})
    assert cal.is_workday(date(2026, 10, 1))
    assert not cal.is_estimated(date(2026, 10, 1))


def test_an_override_can_make_an_official_workday_a_day_off() -> None:
    cal = WorkingCalendar({date(2026, 10, 10): False, date(2026, 6, 3): False})
    assert not cal.is_workday(date(2026, 10, 10))
    assert not cal.is_workday(date(2026, 6, 3))


def test_overrides_for_a_newly_published_year_are_not_estimates(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="pingan.calendar")
    cal = WorkingCalendar({date(2027, 10, 1): False, date(2027, 10, 9): True})
    assert not cal.is_workday(date(2027, 10, 1))  # a Friday, entered as a holiday
    assert cal.is_workday(date(2027, 10, 9))  # a Saturday, entered as 调休
    assert not cal.is_estimated(date(2027, 10, 1))
    assert estimate_warnings(caplog) == []


def test_overrides_shift_working_day_arithmetic() -> None:
    # With 1 Oct 2026 made a workday, it is the 2nd working day after 29 Sep (30 Sep is the 1st).
    cal = WorkingCalendar({date(2026, 10, 1): True})
    assert cal.add_working_days(date(2026, 9, 29), 2) == date(2026, 10, 1)
    assert WorkingCalendar().add_working_days(date(2026, 9, 29), 2) == date(2026, 10, 8)


def test_editing_the_callers_mapping_afterwards_does_not_change_the_calendar() -> None:
    table = {date(2026, 10, 1): True}
    cal = WorkingCalendar(table)
    table[date(2026, 10, 1)] = False
    assert cal.is_workday(date(2026, 10, 1))


# --- arithmetic ------------------------------------------------------------


def test_zero_working_days_after_a_date_is_that_date(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)  # even on a holiday
    assert cal.add_working_days(date(2026, 9, 29), 0) == date(2026, 9, 29)


def test_working_days_before_a_date_skip_the_national_day_holiday(cal: WorkingCalendar) -> None:
    # The holiday runs 1-7 Oct 2026; 8 Oct is the first working day after it.
    assert cal.add_working_days(date(2026, 10, 9), -1) == date(2026, 10, 8)
    assert cal.add_working_days(date(2026, 10, 9), -2) == date(2026, 9, 30)
    assert cal.add_working_days(date(2026, 10, 9), -3) == date(2026, 9, 29)


def test_working_days_before_count_an_adjusted_sunday(cal: WorkingCalendar) -> None:
    # Mon 21 Sep 2026 -> the working day before is the adjusted Sunday 20 Sep.
    assert cal.add_working_days(date(2026, 9, 21), -1) == date(2026, 9, 20)


def test_adding_then_subtracting_working_days_returns_to_a_working_day(
    cal: WorkingCalendar,
) -> None:
    start = date(2026, 9, 30)
    assert cal.add_working_days(cal.add_working_days(start, 7), -7) == start


def test_working_days_between_spans_national_day(cal: WorkingCalendar) -> None:
    # Working days after 29 Sep up to and including 9 Oct: 30 Sep, 8 Oct, 9 Oct.
    assert cal.working_days_between(date(2026, 9, 29), date(2026, 10, 9)) == 3
    # Adding 10 Oct (adjusted Saturday) makes 4.
    assert cal.working_days_between(date(2026, 9, 29), date(2026, 10, 10)) == 4


def test_working_days_between_in_reverse_is_negative(cal: WorkingCalendar) -> None:
    assert cal.working_days_between(date(2026, 10, 9), date(2026, 9, 29)) == -3
    assert cal.working_days_between(date(2026, 10, 10), date(2026, 9, 29)) == -4


def test_working_days_between_a_date_and_itself_is_zero(cal: WorkingCalendar) -> None:
    assert cal.working_days_between(date(2026, 10, 9), date(2026, 10, 9)) == 0


def test_working_days_between_agrees_with_adding_working_days(cal: WorkingCalendar) -> None:
    start = date(2026, 9, 29)
    for n in range(1, 40):
        assert cal.working_days_between(start, cal.add_working_days(start, n)) == n


def test_adding_a_few_hundred_working_days_is_fast_enough_for_a_sweep(cal: WorkingCalendar) -> None:
    import time

    began = time.perf_counter()
    for offset in range(200):
        cal.add_working_days(date(2026, 1, 1) + timedelta(days=offset), 300)
    assert time.perf_counter() - began < 2.0


# --- data coverage ---------------------------------------------------------


def test_data_ends_on_the_last_day_of_the_last_official_year(cal: WorkingCalendar) -> None:
    import chinese_calendar

    ends = cal.data_ends()
    assert (ends.month, ends.day) == (12, 31)
    chinese_calendar.is_workday(ends)  # covered: no exception
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(ends + timedelta(days=1))


def test_coverage_warning_is_given_when_data_ends_within_60_days(cal: WorkingCalendar) -> None:
    if cal.data_ends() != date(2026, 12, 31):
        pytest.skip("installed chinesecalendar covers a different range")
    warning = cal.coverage_warning(date(2026, 11, 29))
    assert warning is not None
    assert "2026-12-31" in warning
    assert "\n" not in warning


def test_coverage_warning_is_given_when_data_has_already_ended(cal: WorkingCalendar) -> None:
    warning = cal.coverage_warning(cal.data_ends() + timedelta(days=10))
    assert warning is not None
    assert "ended" in warning


def test_no_coverage_warning_when_data_reaches_well_past_today(cal: WorkingCalendar) -> None:
    if cal.data_ends() != date(2026, 12, 31):
        pytest.skip("installed chinesecalendar covers a different range")
    assert cal.coverage_warning(date(2026, 6, 1)) is None


def test_coverage_warning_starts_exactly_60_days_before_data_ends(cal: WorkingCalendar) -> None:
    ends = cal.data_ends()
    assert cal.coverage_warning(ends - timedelta(days=60)) is None
    assert cal.coverage_warning(ends - timedelta(days=59)) is not None


# --- durations -------------------------------------------------------------


def test_a_3wd_duration_after_29_september_2026_lands_on_9_october(cal: WorkingCalendar) -> None:
    assert parse_duration("3wd").after(date(2026, 9, 29), cal) == date(2026, 10, 9)


def test_a_14d_duration_counts_calendar_days_through_holidays(cal: WorkingCalendar) -> None:
    assert parse_duration("14d").after(date(2026, 9, 29), cal) == date(2026, 10, 13)


def test_durations_before_a_date_count_backwards(cal: WorkingCalendar) -> None:
    assert parse_duration("3wd").before(date(2026, 10, 9), cal) == date(2026, 9, 29)
    assert parse_duration("14d").before(date(2026, 10, 13), cal) == date(2026, 9, 29)
