"""Campaigns built through the engine's use cases, as their people would: the assessed railway ``Scenario``, its
campaign year (``build_campaign_year``), and a campaign of another town (``start_another_campaign``).

The scenario: a small railway campaign with targets and an assessment, shared by the tests of incidents,
petitions, targets, the assessment and the report, the report pages, the access matrices and the browser's report
page: three villages, a leading group with an inspecting member, two liaisons who must be told of some incidents at
once, and a clock the tests move.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.support.actions import BASE_URL, OPERATOR, start
from tests.support.clock import shanghai
from tests.support.texts import ASSESSED_RAILWAY, ASSESSED_TOWN, RIVER, RIVER_TOWN
from tests.support.web import PASSWORD, give_everyone_a_password
from workflow.assessment.incidents import IncidentReport, record_incident
from workflow.assessment.scores import ScoreSheet, enter_scores
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import advance_campaign, start_campaign
from workflow.campaigns.tasks import complete_task
from workflow.clock import FixedClock
from workflow.definitions.reader import parse_definition
from workflow.escalation.levels import escalate_due
from workflow.hazards.rectifications import (
    HazardReport,
    decide_extension,
    register_hazard,
    request_extension,
    submit_rectification,
    verify_rectification,
)
from workflow.models import Campaign, Task, Unit
from workflow.organisation.directory import import_organisation, person_by_email
from workflow.organisation.org_file import parse_organisation
from workflow.petitions.handling import PetitionReport, process_petition, record_petition

START = date(2026, 5, 4)  # a Monday
# the campaign year's score sheets
SCORES = {
    "east": (38.5, 30, 28),
    "west": (35, 25, 20),
    "north": (40, 30, 30),
}


class Scenario:
    """The campaign, its clock, and the engine's use cases called as the people of the campaign would."""

    def __init__(
        self, sessions, calendar: WorkingCalendar, definition: str = ASSESSED_RAILWAY
    ) -> None:  # type: ignore[no-untyped-def]
        self.sessions, self.calendar = sessions, calendar
        self.clock = FixedClock(shanghai(2026, 5, 4, 9, 0))
        self.definition = parse_definition(definition, "assessed.yaml")
        with sessions.begin() as session:
            import_organisation(session, parse_organisation(ASSESSED_TOWN, "org.yaml"))
            self.campaign = start_campaign(
                session,
                self.definition,
                "town",
                START,
                by=OPERATOR,
                clock=self.clock,
                calendar=calendar,
            ).id

    def at(self, *when: int) -> Scenario:
        self.clock.instant = shanghai(*when).astimezone(self.clock.instant.tzinfo)
        return self

    def actor(self, email: str | None) -> Actor:
        if email is None:
            return OPERATOR
        with self.sessions() as session:
            return Actor.person(person_by_email(session, email))

    def hazard(
        self, unit: str, deadline: date, description: str = "道口护栏损坏", by: str | None = None
    ) -> int:
        # looked up first: SQLite has one writer, and that is the transaction below
        actor = self.actor(by)
        with self.sessions.begin() as session:
            return register_hazard(
                session,
                self.campaign,
                HazardReport(description=description, unit=unit, deadline=deadline),
                by=actor,
                clock=self.clock,
                calendar=self.calendar,
                base_url=BASE_URL,
            ).id

    def fix(self, rectification_id: int) -> None:
        """The responsible person reports it fixed; the office verifies it at the same instant."""
        office = self.actor("office@example.org")
        with self.sessions.begin() as session:
            submit_rectification(
                session, rectification_id, by=OPERATOR, clock=self.clock, note="已整改"
            )
            verify_rectification(session, rectification_id, by=office, clock=self.clock)

    def incident(self, kind: str, unit: str, day: date, by: str | None = None) -> int:
        actor = self.actor(by)
        with self.sessions.begin() as session:
            return record_incident(
                session,
                self.campaign,
                IncidentReport(kind, unit, day, f"{kind} 于 {day}"),
                by=actor,
                clock=self.clock,
                base_url=BASE_URL,
            ).id

    def petition(self, unit: str, **fields: object) -> int:
        office = self.actor("office@example.org")
        report = PetitionReport(
            subject=str(fields.pop("subject", "反映道口无人看守")), unit=unit, **fields
        )  # type: ignore[arg-type]
        with self.sessions.begin() as session:
            return record_petition(
                session,
                self.campaign,
                report,
                by=office,
                clock=self.clock,
                calendar=self.calendar,
                base_url=BASE_URL,
            ).id

    def process(self, petition_id: int, by: str | None = None) -> None:
        actor = self.actor(by)
        with self.sessions.begin() as session:
            process_petition(session, petition_id, by=actor, clock=self.clock, outcome="已答复")

    def hazard_month(self) -> Scenario:
        """From 2026-05-06 09:00 to 05-27 10:00: three hazards, north fixed on time, east fixed after an
        extension, west left overdue and escalated to level 1 (the sweep of 05-19)."""
        self.at(2026, 5, 6, 9).finish_tasks()
        east = self.hazard("east", date(2026, 5, 20), "道口护栏损坏", by="office@example.org")
        self.hazard("west", date(2026, 5, 15), "线路旁堆放杂物", by="office@example.org")
        north = self.hazard("north", date(2026, 5, 20), "警示牌缺失")
        self.at(2026, 5, 12, 10).fix(north)
        self.at(2026, 5, 19, 9)
        with self.sessions.begin() as session:
            escalate_due(session, self.clock.now(), self.calendar, base_url=BASE_URL)
        head, office = self.actor("east@example.org"), self.actor("office@example.org")
        self.at(2026, 5, 19, 10)
        with self.sessions.begin() as session:
            extension = request_extension(
                session,
                east,
                by=head,
                clock=self.clock,
                calendar=self.calendar,
                reason="护栏材料未到货",
                until=date(2026, 5, 29),
            )
            decide_extension(
                session,
                extension.id,
                by=office,
                clock=self.clock,
                calendar=self.calendar,
                approve=True,
            )
        self.at(2026, 5, 25, 10).fix(east)
        return self.at(2026, 5, 27, 10)

    def finish_tasks(self) -> None:
        """Every open task of the current phase checked off by its assignee, now."""
        with self.sessions.begin() as session:
            state = session.get(Campaign, self.campaign).state
            ids = session.scalars(
                select(Task.id).where(
                    Task.campaign_id == self.campaign, Task.phase_key == state, Task.state == "open"
                )
            ).all()
            for task_id in ids:
                complete_task(session, task_id, by=OPERATOR, clock=self.clock, note="完成")

    def advance(self) -> None:
        self.finish_tasks()
        with self.sessions.begin() as session:
            advance_campaign(
                session, self.campaign, by=OPERATOR, clock=self.clock, calendar=self.calendar
            )

    def state(self) -> str:
        with self.sessions() as session:
            return session.get(Campaign, self.campaign).state

    def unit_codes(self) -> dict[int, str]:
        with self.sessions() as session:
            return dict(session.execute(select(Unit.id, Unit.code)).all())


def build_campaign_year(
    scenario: Scenario, password: str = PASSWORD, *, scored: bool = True
) -> dict[str, int]:
    """Three hazards (north fixed on time, east after an extension, west left overdue and escalated), incidents
    (two cattle in west: a missed control target; a train accident in north: the veto), two letters (east's
    overdue, west's processed), the inspection phase with everyone's scores entered (unless not ``scored``),
    everyone's ``password``.
    The clock: 2026-05-28 09:00. The letters' ids, by name.

    The report pages' campaign, which the browser's report page serves too."""
    sessions = scenario.sessions
    scenario.hazard_month()
    scenario.incident("cattle", "west", date(2026, 5, 20), by="office@example.org")
    scenario.incident("cattle", "west", date(2026, 5, 22), by="office@example.org")
    scenario.incident("train-accident", "north", date(2026, 5, 26), by="office@example.org")
    overdue_letter = scenario.petition(
        "east", received_on=date(2026, 5, 11), deadline_working_days=5
    )
    processed_letter = scenario.petition("west", subject="反映道口照明不足")
    scenario.process(processed_letter, by="west@example.org")
    scenario.at(2026, 5, 27, 11).advance()  # into the inspection phase: scores are entered now
    member = scenario.actor("member@example.org")
    with sessions.begin() as session:
        for unit, points in SCORES.items() if scored else ():
            enter_scores(
                session,
                scenario.campaign,
                unit,
                ScoreSheet(items=dict(zip(("meetings", "measures", "hazards"), points))),
                by=member,
                clock=scenario.clock,
            )
        give_everyone_a_password(session, password)
    scenario.at(2026, 5, 28, 9)
    return {"overdue_letter": overdue_letter, "processed_letter": processed_letter}


def start_another_campaign(sessions, clock, calendar) -> int:  # type: ignore[no-untyped-def]
    """A campaign over 河口镇 (``RIVER``) whose office director, ``outsider@example.org``, takes part in no other
    campaign.

    An office director is a coordinator there: the sharpest probe that roles are bound per campaign, not per person.
    """
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(RIVER_TOWN, "river.yaml"))
    return start(
        sessions, parse_definition(RIVER, "river.yaml"), clock, calendar, unit="river-town"
    )
