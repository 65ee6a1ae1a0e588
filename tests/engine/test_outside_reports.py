"""Reports to outside bodies (issue 17, item 4): an incident the text says must be reported at once
records when each body was told and by whom; not told within the kind's limit, it escalates once;
the railway's liaisons are told of hazards at its sections. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from tests.support.actions import BASE_URL, OPERATOR, sweep
from tests.support.clock import shanghai
from tests.support.databases import row_counts
from tests.support.paths import SHIPPED
from workflow.assessment.incidents import IncidentReport, list_incidents, record_incident
from workflow.assessment.outside_reports import record_outside_report
from workflow.audit import Actor, trail
from workflow.calendar import load_calendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import FixedClock
from workflow.definitions.reader import load_definition_file
from workflow.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflow.hazards.rectifications import HazardReport, register_hazard
from workflow.models import Escalation, Incident, OutboxMail
from workflow.organisation.directory import import_organisation, person_by_email
from workflow.organisation.org_file import load_organisation_file
from workflow.views.standing import escalated_to


@pytest.fixture
def scenario(scenario):
    return scenario.at(2026, 5, 12, 10)  # a Tuesday, 10:00 in Beijing


def report(scenario, incident_id, body, by="office@example.org", at=None, note=None):
    actor = scenario.actor(by)
    with scenario.sessions.begin() as session:
        return record_outside_report(
            session,
            incident_id,
            body,
            reported_at=at,
            note=note,
            by=actor,
            clock=scenario.clock,
        ).id


def entry(scenario, incident_id):
    with scenario.sessions() as session:
        listed = list_incidents(session, scenario.campaign, by=scenario.actor("leader@example.org"))
    return next(e for e in listed if e.id == incident_id)


def unreported_mails(sessions, incident_id):
    with sessions() as session:
        return sorted(
            session.scalars(
                select(OutboxMail.recipient).where(
                    OutboxMail.key.startswith(f"incident-unreported-{incident_id}-")
                )
            )
        )


def test_each_report_is_recorded_with_when_and_by_whom_and_the_limit_is_shown(scenario):
    incident = scenario.incident("train-accident", "east", date(2026, 5, 12), by="east@example.org")
    scenario.at(2026, 5, 12, 10, 20)
    report(scenario, incident, "铁路部门", note="电话报车站值班室")

    status = entry(scenario, incident).reports
    assert status.due_at == shanghai(2026, 5, 12, 11, 0)  # recorded at 10:00, limit 1h
    assert [(b.body, b.reported_at, b.reported_by, b.note, b.late) for b in status.bodies] == [
        ("铁路部门", shanghai(2026, 5, 12, 10, 20), "赵主任", "电话报车站值班室", False),
        ("公安机关", None, None, None, False),
    ]
    assert status.untold == ("公安机关",)
    assert not status.overdue(scenario.clock.now())
    with scenario.sessions() as session:
        events = trail(session, scenario.campaign, "incident", incident)
        assert [(e.event, e.to_state) for e in events] == [
            ("record", "train-accident"),
            ("report", "铁路部门"),
        ]


def test_an_incident_not_reported_within_its_hour_escalates_once(scenario, smtp):
    incident = scenario.incident("train-accident", "east", date(2026, 5, 12), by="east@example.org")
    scenario.at(2026, 5, 12, 10, 40)
    report(scenario, incident, "铁路部门", at=datetime(2026, 5, 12, 10, 30))  # typed: Beijing time

    sweep(scenario.sessions, shanghai(2026, 5, 12, 10, 59))
    assert unreported_mails(scenario.sessions, incident) == []  # the hour is not over
    summary = sweep(scenario.sessions, shanghai(2026, 5, 12, 11, 1))
    assert summary.unreported == 1
    # the kind's notify roles and whoever recorded it (east's village head)
    told = ["east@example.org", "leader@example.org", "police@example.org", "rail@example.org"]
    assert unreported_mails(scenario.sessions, incident) == told
    mail = smtp.to("leader@example.org")[-1]
    assert mail["subject"].startswith(
        "【未按时上报】东村：因治安问题导致的铁路行车重大事故未在1小时内报告公安机关"
    )
    assert f"/campaigns/{scenario.campaign}/incidents#incident-{incident}" in mail["body"]
    assert sweep(scenario.sessions, shanghai(2026, 5, 12, 12, 0)).unreported == 0
    with scenario.sessions() as session:
        row = session.scalars(select(Escalation).where(Escalation.item_kind == "incident")).one()
        assert (row.item_id, row.level, row.colour) == (incident, 1, "red")
        assert sorted(row.recipients.split(",")) == told
        leader = escalated_to(
            session,
            person_by_email(session, "leader@example.org").id,
            clock=scenario.clock,
            calendar=scenario.calendar,
        )
        titles = [item.title for items in leader.levels.values() for item in items]
        assert titles == [f"事件未按时上报（公安机关）：train-accident 于 {date(2026, 5, 12)}"]
    assert entry(scenario, incident).reports.overdue(shanghai(2026, 5, 12, 12, 0))

    # told late: recorded as late, and off the leader's page
    scenario.at(2026, 5, 12, 12, 5)
    report(scenario, incident, "公安机关")
    status = entry(scenario, incident).reports
    assert [b.late for b in status.bodies] == [False, True]
    with scenario.sessions() as session:
        leader = escalated_to(
            session,
            person_by_email(session, "leader@example.org").id,
            clock=scenario.clock,
            calendar=scenario.calendar,
        )
        assert not leader.levels


def test_reported_to_every_body_in_time_nothing_escalates(scenario):
    incident = scenario.incident("train-accident", "east", date(2026, 5, 12))
    report(scenario, incident, "铁路部门")
    report(scenario, incident, "公安机关")
    with scenario.sessions() as session:
        assert session.get(Incident, incident).report_due_at is None  # nothing left to look at
    assert sweep(scenario.sessions, shanghai(2026, 5, 12, 12, 0)).unreported == 0
    assert unreported_mails(scenario.sessions, incident) == []


def test_a_kind_without_a_limit_never_escalates(scenario):
    incident = scenario.incident("cattle", "east", date(2026, 5, 12))
    assert entry(scenario, incident).reports is None  # nobody outside to tell
    assert sweep(scenario.sessions, shanghai(2026, 5, 20, 9, 0)).unreported == 0


@pytest.mark.parametrize(
    "body, by, at, error, message",
    [
        ("铁路局", "office@example.org", None, InvalidInput, "not a body this kind is reported to"),
        ("", "office@example.org", None, InvalidInput, "not a body this kind is reported to"),
        ("铁路部门", "office@example.org", datetime(2026, 5, 12, 10, 1), InvalidInput, "future"),
        ("铁路部门", "office@example.org", datetime(2026, 5, 11, 23, 0), InvalidInput, "before"),
        ("铁路部门", "west@example.org", None, Forbidden, "leading group or the people"),
    ],
)
def test_a_bad_report_is_refused_and_nothing_is_written(scenario, body, by, at, error, message):
    incident = scenario.incident("train-accident", "east", date(2026, 5, 12))
    before = row_counts(scenario.sessions)
    with pytest.raises(error, match=message):
        report(scenario, incident, body, by=by, at=at)
    assert row_counts(scenario.sessions) == before


def test_a_body_is_recorded_once_and_other_refusals(scenario):
    incident = scenario.incident("train-accident", "east", date(2026, 5, 12))
    cattle = scenario.incident("cattle", "east", date(2026, 5, 12))
    report(scenario, incident, "铁路部门")
    before = row_counts(scenario.sessions)
    with pytest.raises(Conflict, match="already recorded"):
        report(scenario, incident, "铁路部门")
    with pytest.raises(InvalidInput, match="not reported to outside bodies"):
        report(scenario, cattle, "铁路部门")
    with pytest.raises(NotFound):
        report(scenario, 999, "铁路部门")
    assert row_counts(scenario.sessions) == before


def test_the_railway_liaisons_are_told_of_a_hazard_at_a_section(sessions):
    definition = load_definition_file(SHIPPED / "safe-railway.yaml")
    clock = FixedClock(shanghai(2012, 5, 21, 9, 0))
    with sessions.begin() as session:
        import_organisation(session, load_organisation_file(SHIPPED / "org" / "railway-town.yaml"))
        calendar = load_calendar(session)
        campaign = start_campaign(
            session, definition, "liuhe-town", date(2012, 5, 20), by=OPERATOR, clock=clock,
            calendar=calendar,
        ).id  # fmt: skip
        office = Actor.person(person_by_email(session, "office@liuhe.example.org"))
    with sessions.begin() as session:
        at_site = register_hazard(
            session,
            campaign,
            HazardReport(description="K112+300 护网破损", site="lh-k112-k113", severity="major"),
            by=office,
            clock=clock,
            calendar=calendar,
            base_url=BASE_URL,
        ).id
        in_village = register_hazard(
            session,
            campaign,
            HazardReport(description="村口路灯不亮", unit="liuhe-houying", severity="minor"),
            by=office,
            clock=clock,
            calendar=calendar,
            base_url=BASE_URL,
        ).id
    with sessions() as session:

        def told(rectification_id: int) -> list[str]:
            return sorted(
                session.scalars(
                    select(OutboxMail.recipient).where(
                        OutboxMail.key.startswith(f"hazard-{rectification_id}-site-")
                    )
                )
            )

        assert told(at_site) == ["police@liuhe.example.org", "station@liuhe.example.org"]
        assert told(in_village) == []  # not at a section of the line
        mail = session.scalar(
            select(OutboxMail).where(OutboxMail.recipient == "police@liuhe.example.org")
        )
        assert mail.subject.startswith("【重点部位隐患】K112+000—K113+500 区段：K112+300 护网破损")
        assert "限期 " in mail.body and "整改由责任人负责" in mail.body


def test_the_railway_s_storming_not_reported_within_its_hour_escalates_once(sessions):
    # 冲击铁路、拦车断道等群体性事件: to the railway department and the police at once (1 hour, a
    # proposal); the shipped railway campaign, told to the police only
    definition = load_definition_file(SHIPPED / "safe-railway.yaml")
    clock = FixedClock(shanghai(2012, 6, 5, 14, 0))
    with sessions.begin() as session:
        import_organisation(session, load_organisation_file(SHIPPED / "org" / "railway-town.yaml"))
        calendar = load_calendar(session)
        campaign = start_campaign(
            session, definition, "liuhe-town", date(2012, 5, 20), by=OPERATOR, clock=clock,
            calendar=calendar,
        ).id  # fmt: skip
        office = Actor.person(person_by_email(session, "office@liuhe.example.org"))
    with sessions.begin() as session:
        storming = record_incident(
            session,
            campaign,
            IncidentReport("mass-incident", "liuhe-qianying", date(2012, 6, 5), "三十余人拦车断道"),
            by=office,
            clock=clock,
            base_url=BASE_URL,
        ).id
        record_outside_report(
            session, storming, "公安机关", reported_at=None, note="110", by=office, clock=clock
        )
    assert sweep(sessions, shanghai(2012, 6, 5, 15, 1)).unreported == 1
    assert sweep(sessions, shanghai(2012, 6, 5, 16, 0)).unreported == 0
    with sessions() as session:
        told = session.scalars(
            select(OutboxMail.recipient).where(
                OutboxMail.key.startswith(f"incident-unreported-{storming}-")
            )
        ).all()
        assert sorted(told) == sorted(
            [
                "leader@liuhe.example.org",
                "office@liuhe.example.org",
                "station@liuhe.example.org",
                "police@liuhe.example.org",
            ]
        )
        assert session.scalar(
            select(Escalation.recipients).where(Escalation.item_kind == "incident")
        )
