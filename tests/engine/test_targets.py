"""Target status (zero, reduce, max, rate, judged) on incidents, petitions and rectifications made through the engine."""

from __future__ import annotations

from datetime import date

from tests.support.actions import OPERATOR
from tests.support.scenarios import Scenario
from tests.support.texts import ASSESSED_RAILWAY
from workflow.assessment.targets import periods, target_status
from workflow.hazards.rectifications import decide_extension, request_extension


def status(scenario, target):
    """unit code (None: the campaign) → (met, actual, detail) of one target, as of the scenario's clock."""
    codes = scenario.unit_codes()
    with scenario.sessions() as session:
        results = target_status(session, scenario.campaign, by=OPERATOR, clock=scenario.clock)
    return {
        codes.get(r.unit_id): (r.met, r.actual, r.detail) for r in results if r.target == target
    }


def test_a_zero_target_is_missed_only_by_the_unit_where_the_incident_happened(scenario):
    assert {unit: met for unit, (met, _, _) in status(scenario, "no-train-accident").items()} == {
        "east": True,
        "west": True,
        "north": True,
    }
    scenario.at(2026, 5, 12, 10).incident("train-accident", "east", date(2026, 5, 11))
    assert status(scenario, "no-train-accident") == {
        "east": (False, 1, "1 incident(s)"),
        "west": (True, 0, "0 incident(s)"),
        "north": (True, 0, "0 incident(s)"),
    }


def test_a_reduce_target_compares_this_year_with_last_years_back_dated_incidents(scenario):
    scenario.at(2026, 6, 1, 10)
    for day in (
        date(2025, 3, 1),
        date(2025, 7, 9),
        date(2025, 12, 30),
        date(2026, 1, 5),
        date(2026, 5, 20),
    ):
        # 3 last year, 2 this year (one before the campaign began)
        scenario.incident("endangering", "west", day)
    for day in (date(2025, 8, 1), date(2026, 5, 21)):
        scenario.incident("endangering", "east", day)  # 1 and 1: not fewer
    result = status(scenario, "fewer-endangering")
    assert result["west"] == (True, 2, "2026: 2 (before: 3)")
    assert result["east"] == (False, 1, "2026: 1 (before: 1)")
    assert result["north"] == (True, 0, "2026: 0 (before: 0)"), "none this year: nothing to curb"


def test_a_reduce_target_with_a_baseline_compares_the_campaign_with_it(sessions, calendar):
    text = ASSESSED_RAILWAY.replace(
        "kind: reduce, incident: endangering, period: year}",
        "kind: reduce, incident: endangering, baseline: 2}",
    )
    scenario = Scenario(sessions, calendar, text).at(2026, 6, 1, 10)
    scenario.incident("endangering", "west", date(2026, 5, 20))
    scenario.incident("endangering", "east", date(2026, 5, 20))
    scenario.incident("endangering", "east", date(2026, 5, 22))
    # before the campaign: the baseline stands for it
    scenario.incident("endangering", "east", date(2025, 5, 22))
    result = status(scenario, "fewer-endangering")
    assert result["west"][:2] == (True, 1)
    assert result["east"] == (False, 2, "campaign: 2 (before: 2)")


def test_a_max_target_allows_the_control_number_in_each_year(scenario):
    scenario.at(2026, 6, 1, 10)
    # last year's does not count against this year
    scenario.incident("cattle", "west", date(2025, 11, 2))
    scenario.incident("cattle", "west", date(2026, 5, 10))
    scenario.incident("cattle", "east", date(2026, 5, 10))
    scenario.incident("cattle", "east", date(2026, 5, 28))
    result = status(scenario, "cattle-control")
    assert result["west"] == (True, 1, "2026: 1")
    assert result["east"] == (False, 2, "2026: 2")
    assert result["north"] == (True, 0, "2026: 0")


def test_the_petitions_rate_counts_letters_and_visits_processed(scenario):
    assert status(scenario, "petitions-processed") == {None: (True, None, "0/0")}, (
        "nothing to count: met"
    )
    scenario.at(2026, 5, 6, 10)
    first, second = scenario.petition("east"), scenario.petition("west", channel="visit")
    scenario.process(first, by="east@example.org")
    assert status(scenario, "petitions-processed") == {None: (False, 50.0, "1/2")}
    scenario.process(second, by="office@example.org")
    assert status(scenario, "petitions-processed") == {None: (True, 100.0, "2/2")}


def test_the_on_time_rate_counts_against_the_original_deadline_whatever_the_extension(scenario):
    scenario.at(2026, 5, 6, 10)
    extended, prompt = (
        scenario.hazard("east", date(2026, 5, 20)),
        scenario.hazard("west", date(2026, 5, 20)),
    )
    head, office = scenario.actor("east@example.org"), scenario.actor("office@example.org")
    scenario.at(2026, 5, 18, 10)
    with scenario.sessions.begin() as session:
        extension = request_extension(
            session,
            extended,
            by=head,
            clock=scenario.clock,
            calendar=scenario.calendar,
            reason="材料未到",
            until=date(2026, 5, 29),
        )
        decide_extension(
            session,
            extension.id,
            by=office,
            clock=scenario.clock,
            calendar=scenario.calendar,
            approve=True,
        )
    scenario.fix(prompt)
    scenario.at(2026, 5, 25, 10).fix(extended)  # within the new deadline, after the original one
    result = status(scenario, "rectified-on-time")
    assert result == {
        "east": (False, 0.0, "0/1"),
        "west": (True, 100.0, "1/1"),
        "north": (True, None, "0/0"),
    }


def test_a_judged_target_has_no_computed_status(scenario):
    assert set(status(scenario, "satisfaction").values()) == {(None, None, "")}


def test_calendar_periods_cover_the_campaign_whole():
    labels = [p.label for p in periods("quarter", date(2026, 5, 4), date(2026, 10, 2))]
    assert labels == ["2026-Q2", "2026-Q3", "2026-Q4"]
    assert periods("month", date(2026, 12, 30), date(2027, 1, 2))[-1].last == date(2027, 1, 31)
