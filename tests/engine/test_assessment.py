"""The assessment: the scoring arithmetic, the one-vote veto, grades and ranks, the freeze, and refused input."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.support.actions import BASE_URL, OPERATOR
from workflow.assessment.scores import ScoreSheet, assess, enter_scores
from workflow.audit import trail
from workflow.errors import Forbidden, InvalidInput, TransitionRefused
from workflow.escalation.levels import escalate_due
from workflow.models import AssessmentFinding, AuditEvent, Score

FULL = {"meetings": 40, "measures": 30, "hazards": 30}


@pytest.fixture
def scenario(scenario):
    """The campaign with its plan tasks done on time."""
    scenario.at(2026, 5, 6, 9)
    scenario.finish_tasks()
    return scenario


@pytest.fixture
def inspecting(scenario):
    """The same campaign in its inspection phase, the scoring phase."""
    scenario.at(2026, 6, 1, 9).advance()
    return scenario


def score(scenario, unit, by="member@example.org", **sheet):
    actor = scenario.actor(by)
    with scenario.sessions.begin() as session:
        return enter_scores(
            session, scenario.campaign, unit, ScoreSheet(**sheet), by=actor, clock=scenario.clock
        )


def results(scenario):
    with scenario.sessions() as session:
        table = assess(session, scenario.campaign, by=OPERATOR, clock=scenario.clock)
    return table, {row.code: row for row in table.units}


def stored(sessions):
    with sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Score)),
            session.scalar(select(func.count()).select_from(AssessmentFinding)),
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "score")
            ),
        )


def test_a_units_score_is_its_items_less_the_capped_deductions(scenario):
    for deadline in (date(2026, 5, 14), date(2026, 5, 15), date(2026, 5, 18)):
        scenario.hazard("west", deadline)  # never fixed: three late rectifications, each escalated
    scenario.incident("cattle", "west", date(2026, 5, 5))
    scenario.incident("cattle", "west", date(2026, 5, 6))  # over the control number of 1 a year
    scenario.at(2026, 5, 19, 9)
    with scenario.sessions.begin() as session:
        escalate_due(session, scenario.clock.now(), scenario.calendar, base_url=BASE_URL)
    scenario.at(2026, 6, 1, 9).advance()
    west = score(scenario, "west", items={"meetings": 40, "measures": 30, "hazards": 25})
    assert west.item_total == 95
    assert [(d.each, d.times, d.points) for d in west.deductions] == [
        ("overdue_rectification", 3, 3),  # 3 × 2, capped at 3
        ("escalation", 3, 3),  # level 1 reached by each of the three
        ("missed_target", 1, 5),  # cattle-control
    ]
    assert (west.deducted, west.score, west.grade, west.vetoed) == (11, 84, "passed", False)
    assert [m.rule for m in west.criticisms] == ["cattle-over"], (
        "over a control target: criticised, not failed"
    )
    north = score(scenario, "north", items={"meetings": 5, "measures": 0, "hazards": 0})
    assert (north.item_total, north.deductions, north.score) == (5, [], 5)
    table, _ = results(scenario)
    assert [(row.code, row.rank, row.grade) for row in table.units] == [
        ("west", 1, "passed"),
        ("north", 2, "criticised"),
        ("east", None, "scoring"),
    ], "east, not scored yet, is neither ranked nor graded"


def test_a_veto_fails_a_unit_whatever_its_score_and_ranks_it_last(inspecting):
    inspecting.incident("train-accident", "east", date(2026, 5, 30))
    for unit in ("east", "west"):
        score(inspecting, unit, items=FULL)
    score(
        inspecting,
        "north",
        items={"meetings": 40, "measures": 30, "hazards": 20},
        vetoes={"dereliction-veto": "值班人员脱岗，致使耕牛上道未能及时发现"},
    )
    table, by_code = results(inspecting)
    assert [(row.code, row.score, row.rank, row.grade) for row in table.units] == [
        ("west", 100, 1, "commended"),
        ("east", 100, 2, "criticised"),
        ("north", 90, 3, "criticised"),
    ]
    assert [(m.rule, m.reason) for m in by_code["east"].vetoes] == [
        ("train-accident-veto", "1 × 因治安问题导致的铁路行车重大事故")
    ]
    assert by_code["north"].vetoes[0].reason == "值班人员脱岗，致使耕牛上道未能及时发现"
    assert [r.code for r in table.commended] == ["west"]
    assert [r.code for r in table.criticised] == ["east", "north"]
    score(inspecting, "north", vetoes={"dereliction-veto": None})  # the finding withdrawn
    assert results(inspecting)[1]["north"].grade == "commended"


def test_grades_follow_the_thresholds_and_equal_scores_share_a_rank(inspecting):
    # 90: commended from 90
    score(inspecting, "east", items={"meetings": 40, "measures": 30, "hazards": 20})
    score(inspecting, "west", items={"meetings": 30, "measures": 30, "hazards": 0})  # 60: passed
    score(inspecting, "north", items={"meetings": 29.5, "measures": 30, "hazards": 0})  # 59.5
    grades = {code: (row.score, row.grade) for code, row in results(inspecting)[1].items()}
    assert grades == {
        "east": (90, "commended"),
        "west": (60, "passed"),
        "north": (59.5, "criticised"),
    }
    score(inspecting, "east", items={"hazards": 19.5})
    score(inspecting, "north", items={"meetings": 30})
    table, by_code = results(inspecting)
    assert by_code["east"].grade == "passed"
    assert [(row.code, row.rank) for row in table.units] == [("east", 1), ("north", 2), ("west", 2)]


def test_nobody_is_failed_before_scoring_and_a_partial_sheet_is_being_scored(scenario):
    # the campaign's first weeks: every score is 0, and nobody has been judged
    pending, by_code = results(scenario)
    assert pending.state == "pending"
    assert {code: (row.grade, row.rank) for code, row in by_code.items()} == {
        code: (None, None) for code in ("east", "west", "north")
    }
    assert not any(m.rule == "grade" for row in pending.units for m in row.criticisms), (
        "no 考核不合格 from a score of 0 nobody gave"
    )
    scenario.at(2026, 6, 1, 9).advance()
    score(scenario, "east", items={"meetings": 10})  # a sheet begun: 10 < 60, but not finished
    score(scenario, "west", items=FULL)
    scoring, by_code = results(scenario)
    assert {code: (row.sheet, row.grade, row.rank) for code, row in by_code.items()} == {
        "east": ("partial", "scoring", None),
        "west": ("complete", "commended", 1),
        "north": ("empty", "scoring", None),
    }
    assert scoring.criticised == [] and [r.code for r in scoring.commended] == ["west"]
    score(scenario, "east", items={"measures": 10, "hazards": 10})  # complete: 30 < 60
    assert results(scenario)[1]["east"].grade == "criticised"
    scenario.at(2026, 6, 20, 9).advance()  # scoring over: north was never scored
    frozen, by_code = results(scenario)
    assert (by_code["north"].grade, by_code["north"].rank) == ("unscored", None)
    assert [r.code for r in frozen.criticised] == ["east"]


def test_scores_are_entered_only_during_the_inspection_phase_and_frozen_after(scenario):
    with pytest.raises(TransitionRefused, match="not open yet"):
        score(scenario, "east", items=FULL)
    pending, _ = results(scenario)
    assert (pending.state, pending.commended, pending.criticised) == ("pending", [], []), (
        "nobody listed unscored"
    )
    scenario.at(2026, 6, 1, 9).advance()
    score(scenario, "east", items=FULL)
    scenario.at(2026, 6, 20, 9).advance()
    before = stored(scenario.sessions)
    with pytest.raises(TransitionRefused, match="frozen"):
        score(scenario, "east", items={"meetings": 1})
    assert stored(scenario.sessions) == before
    scenario.at(2026, 6, 22, 9).incident("train-accident", "east", date(2026, 6, 21))
    table, by_code = results(scenario)
    assert table.state == "frozen"
    assert (by_code["east"].score, by_code["east"].vetoed) == (100, False), (
        "counted as of the end of the inspection phase: a later incident does not move a published result"
    )


@pytest.mark.parametrize(
    "items, message",
    [
        ({"meetings": 41}, "outside 0–40"),
        ({"measures": -1}, "outside 0–30"),
        ({"meetings": "forty"}, "must be a number"),
        ({"meetings": True}, "must be a number"),
        ({"meetings": 40, "speeches": 5}, "unknown score item 'speeches'"),
    ],
)
def test_a_score_outside_its_item_is_refused_and_nothing_changes(inspecting, items, message):
    before = stored(inspecting.sessions)
    with pytest.raises(InvalidInput, match=message):
        score(inspecting, "east", items={"hazards": 10, **items})
    assert stored(inspecting.sessions) == before == (0, 0, 0)


def test_findings_that_follow_from_incidents_are_not_entered_by_hand(inspecting):
    with pytest.raises(InvalidInput, match="follows from the incident log"):
        score(inspecting, "east", vetoes={"train-accident-veto": "据说发生过"})
    with pytest.raises(InvalidInput, match="needs a reason"):
        score(inspecting, "east", vetoes={"dereliction-veto": "  "})
    assert stored(inspecting.sessions) == (0, 0, 0)


def test_only_the_inspecting_group_enters_scores(inspecting):
    with pytest.raises(Forbidden, match="inspecting group"):
        score(inspecting, "east", by="east@example.org", items=FULL)
    with pytest.raises(Forbidden):
        score(inspecting, "east", by="rail@example.org", items=FULL)
    assert stored(inspecting.sessions) == (0, 0, 0)
    assert score(inspecting, "east", by="member@example.org", items=FULL).score == 100


def test_every_score_change_is_audit_logged_with_before_and_after(inspecting):
    score(inspecting, "west", items={"meetings": 40})
    score(inspecting, "west", by="office@example.org", items={"meetings": 35})
    score(inspecting, "west", items={"meetings": None})
    with inspecting.sessions() as session:
        events = [
            (e.actor, e.from_state, e.to_state, e.note)
            for e in trail(session, inspecting.campaign, "score")
        ]
    assert events == [
        ("member@example.org", None, "40", "west: meetings"),
        ("office@example.org", "40", "35", "west: meetings"),
        ("member@example.org", "35", None, "west: meetings"),
    ]
    assert stored(inspecting.sessions)[0] == 0
