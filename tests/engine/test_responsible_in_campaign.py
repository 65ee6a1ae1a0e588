"""Work of a campaign goes only to its people: a hazard's or a letter's responsible person, and the
one a task or a rectification is reassigned to, is an active person of the campaign's unit or of a
unit taking part. Anyone else is refused with one and the same message, so a coordinator cannot
learn from the answer which addresses exist; nothing is written and nobody is mailed. On SQLite and
PostgreSQL, through the engine and the ``pingan`` command."""

from __future__ import annotations

import pytest

from tests.support.actions import BASE_URL, OPERATOR, actor, register
from tests.support.clock import shanghai
from tests.support.databases import row_counts
from tests.support.texts import RIVER_TOWN
from workflow.campaigns.reassign import hand_over, reassign_rectification
from workflow.clock import FixedClock
from workflow.errors import InvalidInput
from workflow.models import Rectification
from workflow.organisation.directory import import_organisation, person_by_email
from workflow.organisation.org_file import parse_organisation
from workflow.petitions.handling import PetitionReport, record_petition

CLOCK = FixedClock(shanghai(2026, 9, 21, 10))
# an address nobody has, the office director of another town (河口镇), and west's village head,
# who has left (inactive)
NOT_OF_THE_CAMPAIGN = ("nobody@example.org", "outsider@example.org", "west@example.org")


@pytest.fixture
def campaign(sessions, hazard_campaign) -> int:
    """The screening campaign of 铁路镇 (east and west villages), with 河口镇's people in the same
    directory and west's head gone."""
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(RIVER_TOWN, "river.yaml"))
        person_by_email(session, "west@example.org").active = False
    return hazard_campaign


def test_a_hazard_is_given_only_to_an_active_person_of_the_campaign(sessions, campaign, calendar):
    before = row_counts(sessions)
    refusals = []
    for email in NOT_OF_THE_CAMPAIGN:
        with pytest.raises(InvalidInput) as refused:
            register(sessions, campaign, calendar, CLOCK.now(), responsible=email)
        refusals.append(str(refused.value))
    assert row_counts(sessions) == before, "nothing written, nobody mailed"
    _assert_one_answer_that_names_nobody(refusals)

    # a person of a village taking part, with no role in it, is of the campaign
    rect = register(sessions, campaign, calendar, CLOCK.now(), responsible="keeper@example.org")
    east = register(sessions, campaign, calendar, CLOCK.now(), responsible="EAST@example.org ")
    assert _responsible(sessions, rect) == "keeper@example.org"
    assert _responsible(sessions, east) == "east@example.org"


def test_a_letter_is_given_only_to_an_active_person_of_the_campaign(sessions, campaign, calendar):
    def record(email: str) -> int:
        with sessions.begin() as session:
            return record_petition(
                session,
                campaign,
                PetitionReport(subject="反映道口无人看守", unit="east-village", responsible=email),
                by=OPERATOR,
                clock=CLOCK,
                calendar=calendar,
                base_url=BASE_URL,
            ).responsible_id

    before = row_counts(sessions)
    refusals = []
    for email in NOT_OF_THE_CAMPAIGN:
        with pytest.raises(InvalidInput) as refused:
            record(email)
        refusals.append(str(refused.value))
    assert row_counts(sessions) == before
    _assert_one_answer_that_names_nobody(refusals)

    assert record("office@example.org") == _person_id(sessions, "office@example.org")


def test_work_is_reassigned_or_handed_over_only_to_an_active_person_of_the_campaign(
    sessions, campaign, calendar
):
    rect = register(sessions, campaign, calendar, CLOCK.now())
    office = actor(sessions, "office@example.org")
    before = row_counts(sessions)
    refusals = []
    for email in NOT_OF_THE_CAMPAIGN:
        with pytest.raises(InvalidInput) as refused, sessions.begin() as session:
            reassign_rectification(session, rect, email, by=office, clock=CLOCK, base_url=BASE_URL)
        refusals.append(str(refused.value))
        with pytest.raises(InvalidInput) as refused, sessions.begin() as session:
            hand_over(
                session,
                campaign,
                "keeper@example.org",
                email,
                by=office,
                clock=CLOCK,
                base_url=BASE_URL,
            )
        refusals.append(str(refused.value))
    assert row_counts(sessions) == before
    _assert_one_answer_that_names_nobody(refusals)

    with sessions.begin() as session:
        reassign_rectification(
            session, rect, "east@example.org", by=office, clock=CLOCK, base_url=BASE_URL
        )
    assert _responsible(sessions, rect) == "east@example.org"


def test_handing_over_from_an_unknown_address_answers_as_for_someone_with_nothing_here(
    sessions, campaign
):
    office = actor(sessions, "office@example.org")
    answers = []
    # 河口镇's office director exists, with nothing in this campaign; nobody@ does not exist
    for leaving in ("outsider@example.org", "nobody@example.org"):
        with pytest.raises(InvalidInput) as refused, sessions.begin() as session:
            hand_over(
                session,
                campaign,
                leaving,
                "east@example.org",
                by=office,
                clock=CLOCK,
                base_url=BASE_URL,
            )
        answers.append(str(refused.value).replace(leaving, "ADDRESS"))
    assert answers[0] == answers[1] == "ADDRESS has no open work and no role in this campaign"


def test_the_command_line_refuses_an_outsider_as_it_refuses_an_unknown_address(
    sessions, campaign, pingan
):
    before = row_counts(sessions)
    answers = {}
    for email in ("outsider@example.org", "nobody@example.org"):
        result = pingan(
            "hazard",
            "register",
            str(campaign),
            "--description",
            "道口护栏损坏",
            "--site",
            "crossing-3",
            "--responsible",
            email,
            "--deadline",
            "2026-09-29",
            now="2026-09-21T10:00",
        )
        answers[email] = (result.exit_code, result.stdout, result.stderr)
    assert answers["outsider@example.org"] == answers["nobody@example.org"]
    assert answers["nobody@example.org"][0] == 1
    assert "no active person of this campaign" in answers["nobody@example.org"][2]
    assert row_counts(sessions) == before


# --- helpers -----------------------------------------------------------------------------------


def _assert_one_answer_that_names_nobody(refusals: list[str]) -> None:
    assert len(set(refusals)) == 1, refusals
    assert "@" not in refusals[0], "the address given is not repeated back"
    assert "no active person of this campaign's units has the e-mail address" in refusals[0]


def _responsible(sessions, rectification_id: int) -> str:
    with sessions() as session:
        return session.get(Rectification, rectification_id).responsible.email


def _person_id(sessions, email: str) -> int:
    with sessions() as session:
        return person_by_email(session, email).id
