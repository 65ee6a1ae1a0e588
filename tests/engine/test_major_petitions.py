"""重大信访会制度 (issue 17, item 7): a letter or visit recorded as major calls the leading group's
meeting on it, a required task of the chair's, due three days after it was received; the phase is
not left with the meeting not held. The women's federation seed, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.support.actions import BASE_URL, OPERATOR
from tests.support.clock import shanghai
from tests.support.paths import SHIPPED
from workflow.audit import Actor
from workflow.calendar import load_calendar
from workflow.campaigns.lifecycle import advance_campaign, start_campaign
from workflow.campaigns.tasks import complete_task
from workflow.clock import FixedClock
from workflow.definitions.reader import load_definition_file
from workflow.errors import TransitionRefused
from workflow.models import OutboxMail, Task
from workflow.organisation.directory import import_organisation, person_by_email
from workflow.organisation.org_file import load_organisation_file
from workflow.petitions.handling import PetitionReport, record_petition
from workflow.petitions.reading import petition_page

CHAIR = "chair@xinzhong.example.org"
OFFICE = "office@xinzhong.example.org"


@pytest.fixture
def family(sessions):
    """The Safe Family campaign of 新中镇, started 2011-02-01; the clock at 2011-02-10 10:00."""
    clock = FixedClock(shanghai(2011, 2, 1, 9, 0))
    with sessions.begin() as session:
        import_organisation(
            session, load_organisation_file(SHIPPED / "org" / "women-federation-town.yaml")
        )
        calendar = load_calendar(session)
        campaign = start_campaign(
            session,
            load_definition_file(SHIPPED / "safe-family.yaml"),
            "xinzhong-women",
            date(2011, 2, 1),
            by=OPERATOR,
            clock=clock,
            calendar=calendar,
        ).id
    clock.instant = shanghai(2011, 2, 10, 10, 0)
    return sessions, clock, calendar, campaign


def record(family, subject, *, major):
    sessions, clock, calendar, campaign = family
    with sessions.begin() as session:
        office = Actor.person(person_by_email(session, OFFICE))
        return record_petition(
            session,
            campaign,
            PetitionReport(
                subject=subject,
                channel="visit",
                unit="xz-xinzhong",
                received_on=date(2011, 2, 9),
                major=major,
            ),
            by=office,
            clock=clock,
            calendar=calendar,
            base_url=BASE_URL,
        ).id


def meetings(sessions):
    with sessions() as session:
        return session.execute(
            select(Task.title, Task.due_on, Task.required, Task.phase_key, Task.assignee_id).where(
                Task.spec_key == "major-petition-meeting"
            )
        ).all()


def test_a_major_visit_calls_the_chair_s_meeting_and_a_plain_one_does_not(family):
    sessions, clock, calendar, campaign = family
    record(family, "反映某村妇女土地承包权益受侵害", major=False)
    assert meetings(sessions) == []

    petition = record(family, "二十余名妇女集体反映被拖欠务工工资", major=True)
    called = meetings(sessions)
    with sessions() as session:
        chair = person_by_email(session, CHAIR)
        assert called == [
            (
                "召开重大信访会：二十余名妇女集体反映被拖欠务工工资",
                date(2011, 2, 12),  # received on the 9th, three days
                True,
                "mobilization",
                chair.id,
            )
        ]
        mail = session.scalar(
            select(OutboxMail).where(OutboxMail.key == f"petition-{petition}-meeting")
        )
        assert mail.recipient == CHAIR
        assert mail.subject.startswith("【重大信访】请于 2011-02-12 前召开重大信访会")
        page = petition_page(session, petition, by=Actor.person(chair), clock=clock)
        assert page.major and page.meeting is not None and page.meeting.state == "open"


def test_the_phase_is_not_left_with_the_meeting_not_held(family):
    sessions, clock, calendar, campaign = family
    record(family, "二十余名妇女集体反映被拖欠务工工资", major=True)
    with sessions.begin() as session:
        for task in session.scalars(
            select(Task).where(Task.state == "open", Task.spec_key != "major-petition-meeting")
        ):
            complete_task(
                session, task.id, by=Actor.person(task.assignee), clock=clock, note="已完成"
            )
    clock.instant = shanghai(2011, 3, 1, 9, 0)
    with sessions.begin() as session:
        office = Actor.person(person_by_email(session, OFFICE))
        with pytest.raises(TransitionRefused, match="1 required item") as refused:
            advance_campaign(session, campaign, by=office, clock=clock, calendar=calendar)
        assert [b.title for b in refused.value.blockers] == [
            "召开重大信访会：二十余名妇女集体反映被拖欠务工工资"
        ]
    with sessions.begin() as session:
        meeting = session.scalar(select(Task).where(Task.spec_key == "major-petition-meeting"))
        complete_task(
            session, meeting.id, by=Actor.person(meeting.assignee), clock=clock, note="已开会"
        )
    with sessions.begin() as session:
        office = Actor.person(person_by_email(session, OFFICE))
        moved = advance_campaign(session, campaign, by=office, clock=clock, calendar=calendar)
    assert moved is not None
