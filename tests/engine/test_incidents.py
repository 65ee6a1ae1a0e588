"""The incident log and letters and visits (信访): recorded, told at once, reminded and escalated once per level."""

from __future__ import annotations

import os
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.support.actions import BASE_URL
from webapp.mail import mailer_from_env
from workflow.assessment.incidents import IncidentReport, list_incidents, record_incident
from workflow.audit import trail
from workflow.errors import Forbidden, InvalidInput, NotFound, TransitionRefused
from workflow.escalation.levels import escalate_due
from workflow.mail.outbox import deliver
from workflow.models import AuditEvent, Escalation, Incident, OutboxMail, Petition
from workflow.petitions.handling import PetitionReport, process_petition, record_petition


@pytest.fixture
def scenario(scenario):
    return scenario.at(2026, 5, 12, 10)


def counts(sessions):
    with sessions() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table))
            for table in (Incident, OutboxMail, AuditEvent, Petition)
        )


def recipients(sessions, prefix):
    with sessions() as session:
        return sorted(
            session.scalars(select(OutboxMail.recipient).where(OutboxMail.key.startswith(prefix)))
        )


def test_an_incident_of_a_kind_with_notify_roles_is_mailed_to_them_at_once(scenario, smtp):
    incident = scenario.incident(
        "train-accident", "east", date(2026, 5, 11), by="office@example.org"
    )
    assert recipients(scenario.sessions, f"incident-{incident}-") == [
        "leader@example.org",
        "police@example.org",
        "rail@example.org",
    ]
    deliver(scenario.sessions, mailer_from_env(dict(os.environ)), scenario.clock)
    mail = smtp.to("rail@example.org")[0]
    assert mail["subject"].startswith("【立即报告】东村：因治安问题导致的铁路行车重大事故")
    assert "须报告 report to: 铁路部门、公安机关" in mail["body"]
    assert "2026-05-11" in mail["body"]
    with scenario.sessions() as session:
        assert [
            event.event for event in trail(session, scenario.campaign, "incident", incident)
        ] == ["record"]


def test_a_kind_without_notify_roles_is_recorded_and_mails_nobody(scenario):
    incident = scenario.incident("cattle", "west", date(2026, 5, 12))
    assert recipients(scenario.sessions, f"incident-{incident}-") == []
    with scenario.sessions() as session:
        listed = list_incidents(session, scenario.campaign, by=scenario.actor("leader@example.org"))
    assert [(e.kind, e.unit_code, e.occurred_on) for e in listed] == [
        ("cattle", "west", date(2026, 5, 12))
    ]


@pytest.mark.parametrize(
    "kind, unit, day, message",
    [
        ("flood", "east", date(2026, 5, 11), "unknown incident kind 'flood'"),
        ("cattle", "nowhere", date(2026, 5, 11), "no unit 'nowhere'"),
        ("cattle", "east", date(2026, 5, 13), "in the future"),
    ],
)
def test_a_bad_incident_is_refused_and_nothing_is_written(scenario, kind, unit, day, message):
    before = counts(scenario.sessions)
    with scenario.sessions.begin() as session, pytest.raises(InvalidInput, match=message):
        record_incident(
            session,
            scenario.campaign,
            IncidentReport(kind, unit, day, "误报"),
            by=scenario.actor(None),
            clock=scenario.clock,
            base_url=BASE_URL,
        )
    assert counts(scenario.sessions) == before


def test_a_village_head_records_incidents_of_their_own_village_only(scenario):
    head = scenario.actor("east@example.org")
    scenario.incident("cattle", "east", date(2026, 5, 12), by="east@example.org")
    with scenario.sessions.begin() as session, pytest.raises(Forbidden):
        record_incident(
            session,
            scenario.campaign,
            IncidentReport("cattle", "west", date(2026, 5, 12), "耕牛上道"),
            by=head,
            clock=scenario.clock,
            base_url=BASE_URL,
        )
    with scenario.sessions() as session, pytest.raises(NotFound):
        list_incidents(session, scenario.campaign, by=head)  # the log is the leading group's


def test_pingan_incident_record_from_the_command_line(scenario, pingan):
    import webapp.cli.reports  # noqa: F401 - registers the commands on the `pingan` group

    done = pingan(
        "incident",
        "record",
        str(scenario.campaign),
        "--kind",
        "cattle",
        "--unit",
        "north",
        "--date",
        "2026-05-10",
        "--description",
        "耕牛挡道",
        now="2026-05-12T10:00",
    )
    assert done.exit_code == 0 and done.stdout.startswith(
        "incident 1: cattle in north on 2026-05-10"
    )
    refused = pingan(
        "incident",
        "record",
        str(scenario.campaign),
        "--kind",
        "flood",
        "--unit",
        "north",
        "--date",
        "2026-05-10",
        "--description",
        "?",
        now="2026-05-12T10:00",
    )
    assert refused.exit_code == 1 and refused.stderr.startswith(
        "error: unknown incident kind 'flood'"
    )
    assert len(refused.stderr.strip().splitlines()) == 1


# --- letters and visits -------------------------------------------------------------------------


def sweep_petitions(scenario, *when):
    scenario.at(*when)
    with scenario.sessions.begin() as session:
        return escalate_due(session, scenario.clock.now(), scenario.calendar, base_url=BASE_URL)


def test_a_petition_is_reminded_then_escalated_once_per_level_until_processed(scenario):
    petition = scenario.petition("west", deadline=date(2026, 5, 27), petitioner="王某")
    assert recipients(scenario.sessions, f"petition-{petition}") == ["west@example.org"]
    assert sweep_petitions(scenario, 2026, 5, 24, 9).reminders == 0
    assert sweep_petitions(scenario, 2026, 5, 25, 9).reminders == 1  # blue: 2 working days before
    first = sweep_petitions(scenario, 2026, 5, 28, 9)
    assert dict(first.levels) == {1: 1} and first.mails == 2
    assert sweep_petitions(scenario, 2026, 5, 28, 9, 30).items == 0, "each level once"
    assert dict(sweep_petitions(scenario, 2026, 6, 1, 9).levels) == {2: 1}
    assert recipients(scenario.sessions, "esc-L1-petition") == [
        "office@example.org",
        "west@example.org",
    ]
    assert recipients(scenario.sessions, "esc-L2-petition") == ["deputy@example.org"]
    scenario.process(petition, by="west@example.org")
    with scenario.sessions() as session:
        row = session.get(Petition, petition)
        assert (row.state, row.outcome) == ("processed", "已答复")
        levels = session.scalars(
            select(Escalation.level)
            .where(Escalation.item_kind == "petition")
            .order_by(Escalation.level)
        ).all()
    assert levels == [0, 1, 2]
    after = sweep_petitions(scenario, 2026, 6, 30, 9)
    assert (after.reminders, dict(after.levels), after.mails) == (0, {}, 0), (
        "processed: never escalated further"
    )


def test_a_petition_is_processed_by_its_responsible_person_or_a_coordinator_only(scenario):
    petition = scenario.petition("west")
    # another village's head: takes part, but for them it does not exist (as on its page)
    north = scenario.actor("north@example.org")
    with scenario.sessions.begin() as session, pytest.raises(NotFound):
        process_petition(session, petition, by=north, clock=scenario.clock, outcome="越权")
    scenario.process(petition, by="office@example.org")
    with scenario.sessions.begin() as session, pytest.raises(TransitionRefused):
        process_petition(
            session, petition, by=scenario.actor(None), clock=scenario.clock, outcome="再次"
        )


def test_a_petition_without_a_subject_or_with_an_unknown_channel_is_refused(scenario):
    office = scenario.actor("office@example.org")
    before = counts(scenario.sessions)
    for report, message in (
        (PetitionReport(subject=" ", unit="west"), "subject is required"),
        (PetitionReport(subject="反映", channel="phone", unit="west"), "channel must be one of"),
    ):
        with scenario.sessions.begin() as session, pytest.raises(InvalidInput, match=message):
            record_petition(
                session,
                scenario.campaign,
                report,
                by=office,
                clock=scenario.clock,
                calendar=scenario.calendar,
                base_url=BASE_URL,
            )
    assert counts(scenario.sessions) == before
