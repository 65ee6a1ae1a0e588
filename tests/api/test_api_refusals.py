"""What the API refuses, and how, on SQLite and PostgreSQL: a decision posted twice at once is
taken once (one 200, one 409); naming someone outside the campaign is answered exactly as naming an
address nobody has; another village's letter is answered as a missing one; a date years ahead is
a 422. Each refusal is in the JSON error shape and leaves the database as it was."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.support.api import HAZARD, assert_error, register
from tests.support.databases import row_counts
from tests.support.races import at_once
from tests.support.texts import RIVER_TOWN
from workflow.audit import trail
from workflow.calendar import WorkingCalendar
from workflow.limits import latest_date
from workflow.models import Rectification
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation

TODAY = date(2026, 5, 1)  # the app's clock (tests/conftest.py)
LETTER = {"subject": "反映道口无人看守", "unit": "west-village"}


def test_two_approvals_posted_at_once_answer_one_200_and_one_409(as_person, campaign, sessions):
    rect = register(as_person, campaign)["id"]
    asked = as_person("east@example.org").post(
        f"/rectifications/{rect}/extensions", {"reason": "材料未到", "until": "2026-05-29"}
    )
    assert asked.status_code == 201, asked.json
    path = f"/extensions/{asked.json['id']}/approve"
    office, leader = as_person("office@example.org"), as_person("leader@example.org")

    answers = [
        outcome.result
        for outcome in at_once(
            sessions,
            lambda session: session.get(Rectification, rect, with_for_update=True),
            lambda: office.post(path, {"note": "同意"}),
            lambda: leader.post(path, {"note": "同意"}),
        )
    ]

    assert sorted(a.status_code for a in answers) == [200, 409]
    [loser] = [a for a in answers if a.status_code == 409]
    assert_error(loser, 409, "conflict")
    assert set(loser.json) <= {"error", "message", "blockers"}
    assert loser.json["message"] == f"extension request {asked.json['id']} was already approved"
    with sessions() as session:
        assert session.get(Rectification, rect).extensions == 1
        events = [e.event for e in trail(session, campaign, "rectification", rect)]
    assert events.count("approve_extension") == 1


@pytest.mark.parametrize(
    "path, body",
    [
        ("/campaigns/{campaign}/hazards", HAZARD),
        ("/campaigns/{campaign}/petitions", LETTER),
    ],
    ids=["hazard", "letter"],
)
def test_naming_an_outsider_is_answered_byte_for_byte_as_naming_nobody(
    as_person, campaign, sessions, path, body
):
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(RIVER_TOWN, "river.yaml"))
    office = as_person("office@example.org")
    before = row_counts(sessions)

    # 河口镇's office director exists, in another town; nobody@ does not exist
    outsider, nobody = (
        office.post(path.format(campaign=campaign), {**body, "responsible": email})
        for email in ("outsider@example.org", "nobody@example.org")
    )

    assert_error(nobody, 422, "invalid")
    assert outsider.status_code == nobody.status_code
    assert outsider.get_data() == nobody.get_data()
    assert row_counts(sessions) == before


def test_another_village_s_letter_is_answered_as_a_missing_one(as_person, campaign, sessions):
    recorded = as_person("office@example.org").post(f"/campaigns/{campaign}/petitions", LETTER)
    assert recorded.status_code == 201, recorded.json
    letter = recorded.json["id"]
    east = as_person("east@example.org")  # the head of the other village: not theirs
    before = row_counts(sessions)

    answers = [
        east.post(f"/petitions/{number}/process", {"outcome": "已答复"})
        for number in (letter, letter + 1000)
    ]

    for answer, number in zip(answers, (letter, letter + 1000)):
        assert_error(answer, 404, "not_found")
        assert answer.json["message"] == f"no petition {number}"
    assert row_counts(sessions) == before
    processed = as_person("west@example.org").post(
        f"/petitions/{letter}/process", {"outcome": "已答复"}
    )
    assert processed.status_code == 200, processed.json


LATEST = latest_date(TODAY, WorkingCalendar())


@pytest.mark.parametrize(
    "changes",
    [
        {"deadline": "9999-12-31"},
        {"deadline": (LATEST + timedelta(days=1)).isoformat()},
    ],
    ids=["year-9999", "a-day-past-the-limit"],
)
def test_a_hazard_deadline_too_far_ahead_is_a_422(as_person, campaign, sessions, changes):
    body = {k: v for k, v in HAZARD.items() if k != "deadline_working_days"}
    office = as_person("office@example.org")  # issuing a token is audited: before the count
    before = row_counts(sessions)

    answer = office.post(f"/campaigns/{campaign}/hazards", {**body, **changes})

    assert_error(answer, 422, "invalid")
    assert (
        "too far ahead" in answer.json["message"] and LATEST.isoformat() in answer.json["message"]
    )
    assert row_counts(sessions) == before
    # the last day allowed is taken
    taken = office.post(f"/campaigns/{campaign}/hazards", {**body, "deadline": LATEST.isoformat()})
    assert taken.status_code == 201 and taken.json["deadline"] == LATEST.isoformat()


def test_an_extension_until_the_year_9999_is_refused_when_asked(as_person, campaign, sessions):
    rect = register(as_person, campaign)["id"]
    east = as_person("east@example.org")
    before = row_counts(sessions)

    answer = east.post(
        f"/rectifications/{rect}/extensions", {"reason": "材料未到", "until": "9999-12-31"}
    )

    assert_error(answer, 422, "invalid")
    assert answer.json["message"].startswith("the requested deadline 9999-12-31 is too far ahead")
    assert row_counts(sessions) == before
    asked = east.post(
        f"/rectifications/{rect}/extensions", {"reason": "材料未到", "until": LATEST.isoformat()}
    )
    assert asked.status_code == 201, asked.json
    approved = as_person("office@example.org").post(f"/extensions/{asked.json['id']}/approve")
    assert approved.status_code == 200, approved.json
    assert approved.json["rectification"]["deadline"] == LATEST.isoformat()


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"deadline": "9999-12-31"}, "the deadline 9999-12-31 is too far ahead"),
        ({"received_on": "2000-01-01"}, "received_on 2000-01-01 is before the campaign started"),
    ],
    ids=["deadline-9999", "received-before-the-campaign"],
)
def test_a_letter_s_dates_out_of_range_are_a_422(as_person, campaign, sessions, changes, fragment):
    office = as_person("office@example.org")
    before = row_counts(sessions)

    answer = office.post(f"/campaigns/{campaign}/petitions", {**LETTER, **changes})

    assert_error(answer, 422, "invalid")
    assert fragment in answer.json["message"]
    assert row_counts(sessions) == before
