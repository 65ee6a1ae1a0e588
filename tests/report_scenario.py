"""A small railway campaign with targets and an assessment, driven through the engine's use cases.

Shared by the tests of incidents, petitions, targets, the assessment and the
report: three villages, a leading group with an inspecting member, two liaisons
who must be told of some incidents at once, and a clock the tests move.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from conftest import shanghai
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import advance_campaign, start_campaign
from workflow.clock import FixedClock
from workflow.definitions.reader import parse_definition
from workflow.organisation.directory import import_organisation, person_by_email
from workflow.escalation.levels import escalate_due
from workflow.hazards.rectifications import (
    HazardReport,
    decide_extension,
    register_hazard,
    request_extension,
    submit_rectification,
    verify_rectification,
)
from workflow.assessment.incidents import IncidentReport, record_incident
from workflow.models import Campaign, Task, Unit
from workflow.organisation.org_file import parse_organisation
from workflow.petitions.handling import PetitionReport, process_petition, record_petition
from workflow.campaigns.tasks import complete_task

BASE_URL = "http://pingan.test"
OPERATOR = Actor.operator("cli:test")
START = date(2026, 5, 4)  # a Monday

ORG = """
units:
  - id: town
    name: 铁路镇
    children:
      - {id: east, name: 东村}
      - {id: west, name: 西村}
      - {id: north, name: 北村}
people:
  - {email: leader@example.org, name: 张组长, unit: town, roles: [leader]}
  - {email: deputy@example.org, name: 王副组长, unit: town, roles: [deputy]}
  - {email: office@example.org, name: 赵主任, unit: town, roles: [office_director]}
  - {email: member@example.org, name: 孙成员, unit: town, roles: [member]}
  - {email: rail@example.org, name: 铁路联络人, unit: town, roles: [railway_liaison]}
  - {email: police@example.org, name: 公安联络人, unit: town, roles: [police_liaison]}
  - {email: east@example.org, name: 李村长, unit: east, roles: [village_head], password: change-me}
  - {email: west@example.org, name: 周村长, unit: west, roles: [village_head]}
  - {email: north@example.org, name: 吴村长, unit: north, roles: [village_head]}
"""

DEFINITION = """
id: safe-railway-assessed
version: 1
title: 平安铁路创建活动
roles:
  - {id: leader, title: 组长}
  - {id: deputy, title: 副组长}
  - {id: office_director, title: 办公室主任}
  - {id: member, title: 成员}
  - {id: railway_liaison, title: 铁路部门联络人}
  - {id: police_liaison, title: 公安机关联络人}
  - {id: village_head, title: 村负责人, scope: unit}
phases:
  - id: implementation
    title: 全面实施阶段
    duration: 60d
    tasks:
      - {id: plan, title: 制定创建活动计划, assignee: village_head, per: unit, due: 10d}
  - id: inspection
    title: 检查评比阶段
    duration: 30d
  - id: summary
    title: 总结阶段
    duration: 30d
escalation:
  deadline_by_severity: {major: 5wd, minor: 15wd}
  remind_before: 2wd
  levels:
    - {after: 0d, notify: [responsible, office_director], colour: yellow}
    - {after: 3wd, notify: [deputy], colour: red}
incidents:
  - id: train-accident
    title: 因治安问题导致的铁路行车重大事故
    notify: [leader, railway_liaison, police_liaison]
    report_to: [铁路部门, 公安机关]
  - {id: endangering, title: 危及行车安全的案件}
  - {id: cattle, title: 耕牛挡道事故}
targets:
  - {id: no-train-accident, title: 不发生铁路行车重大事故, kind: zero, incident: train-accident}
  - {id: fewer-endangering, title: 危及行车安全的案件同比减少, kind: reduce, incident: endangering, period: year}
  - {id: cattle-control, title: 耕牛挡道事故不超出控制目标, kind: max, incident: cattle, value: 1, period: year}
  - {id: petitions-processed, title: 来信来访处理率达100%, kind: rate, measure: petitions_processed, value: 100,
     per: campaign}
  - {id: rectified-on-time, title: 隐患按期整改, kind: rate, measure: rectifications_closed_on_time, value: 100}
  - {id: satisfaction, title: 群众满意, kind: judged}
assessment:
  phase: inspection
  scorers: [leader, deputy, office_director, member]
  items:
    - {id: meetings, title: 会议必须强调, points: 40}
    - {id: measures, title: 措施必须落实, points: 30}
    - {id: hazards, title: 隐患问题必须督促整改, points: 30}
  deductions:
    - {each: overdue_rectification, points: 2, cap: 3}
    - {each: escalation, level: 1, points: 1}
    - {each: missed_target, target: cattle-control, points: 5}
  veto:
    - {id: train-accident-veto, title: 发生铁路行车重大事故, incident: train-accident}
    - {id: dereliction-veto, title: 失职渎职引发重大问题}
  criticism:
    - {id: cattle-over, title: 耕牛挡道事故超出控制目标, target: cattle-control}
  grades: {commended: 90, passed: 60}
"""


class Scenario:
    """The campaign, its clock, and the engine's use cases called as the people of the campaign would."""

    def __init__(self, sessions, calendar: WorkingCalendar, definition: str = DEFINITION) -> None:  # type: ignore[no-untyped-def]
        self.sessions, self.calendar = sessions, calendar
        self.clock = FixedClock(shanghai(2026, 5, 4, 9, 0))
        self.definition = parse_definition(definition, "assessed.yaml")
        with sessions.begin() as session:
            import_organisation(session, parse_organisation(ORG, "org.yaml"))
            self.campaign = start_campaign(session, self.definition, "town", START, by=OPERATOR, clock=self.clock,
                                           calendar=calendar).id

    def at(self, *when: int) -> Scenario:
        self.clock.instant = shanghai(*when).astimezone(self.clock.instant.tzinfo)
        return self

    def actor(self, email: str | None) -> Actor:
        if email is None:
            return OPERATOR
        with self.sessions() as session:
            return Actor.person(person_by_email(session, email))

    def hazard(self, unit: str, deadline: date, description: str = "道口护栏损坏", by: str | None = None) -> int:
        actor = self.actor(by)  # looked up first: SQLite has one writer, and that is the transaction below
        with self.sessions.begin() as session:
            return register_hazard(session, self.campaign, HazardReport(description=description, unit=unit,
                                                                         deadline=deadline),
                                   by=actor, clock=self.clock, calendar=self.calendar, base_url=BASE_URL).id

    def fix(self, rectification_id: int) -> None:
        """The responsible person reports it fixed; the office verifies it at the same instant."""
        office = self.actor("office@example.org")
        with self.sessions.begin() as session:
            submit_rectification(session, rectification_id, by=OPERATOR, clock=self.clock, note="已整改")
            verify_rectification(session, rectification_id, by=office, clock=self.clock)

    def incident(self, kind: str, unit: str, day: date, by: str | None = None) -> int:
        actor = self.actor(by)
        with self.sessions.begin() as session:
            return record_incident(session, self.campaign, IncidentReport(kind, unit, day, f"{kind} 于 {day}"),
                                   by=actor, clock=self.clock, base_url=BASE_URL).id

    def petition(self, unit: str, **fields: object) -> int:
        office = self.actor("office@example.org")
        report = PetitionReport(subject=str(fields.pop("subject", "反映道口无人看守")), unit=unit, **fields)  # type: ignore[arg-type]
        with self.sessions.begin() as session:
            return record_petition(session, self.campaign, report, by=office, clock=self.clock,
                                   calendar=self.calendar, base_url=BASE_URL).id

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
            extension = request_extension(session, east, by=head, clock=self.clock, reason="护栏材料未到货",
                                          until=date(2026, 5, 29))
            decide_extension(session, extension.id, by=office, clock=self.clock, calendar=self.calendar,
                             approve=True)
        self.at(2026, 5, 25, 10).fix(east)
        return self.at(2026, 5, 27, 10)

    def finish_tasks(self) -> None:
        """Every open task of the current phase checked off by its assignee, now."""
        with self.sessions.begin() as session:
            state = session.get(Campaign, self.campaign).state
            ids = session.scalars(select(Task.id).where(Task.campaign_id == self.campaign, Task.phase_key == state,
                                                        Task.state == "open")).all()
            for task_id in ids:
                complete_task(session, task_id, by=OPERATOR, clock=self.clock, note="完成")

    def advance(self) -> None:
        self.finish_tasks()
        with self.sessions.begin() as session:
            advance_campaign(session, self.campaign, by=OPERATOR, clock=self.clock, calendar=self.calendar)

    def state(self) -> str:
        with self.sessions() as session:
            return session.get(Campaign, self.campaign).state

    def unit_codes(self) -> dict[int, str]:
        with self.sessions() as session:
            return dict(session.execute(select(Unit.id, Unit.code)).all())


def when(*args: int) -> datetime:
    return shanghai(*args)
