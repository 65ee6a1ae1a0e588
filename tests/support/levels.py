"""A county, its two towns and their villages, and a definition for each level that cascades to
the next (issue 20): shared by the engine's and the browser's tests of campaigns at every level."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from tests.support.actions import OPERATOR
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import Clock
from workflow.definitions.reader import parse_definition

COUNTY_ORG = """
units:
  - id: county
    name: 平川县
    children:
      - id: east-town
        name: 东风镇
        children:
          - {id: e1, name: 东一村}
          - {id: e2, name: 东二村}
      - id: west-town
        name: 西岭镇
        children:
          - {id: w1, name: 西一村}
people:
  - {email: county-leader@example.org, name: 县组长, unit: county, roles: [leader]}
  - {email: county-office@example.org, name: 县办主任, unit: county, roles: [office_director]}
  - {email: east-leader@example.org, name: 东风镇组长, unit: east-town, roles: [leader]}
  - {email: east-office@example.org, name: 东风镇办主任, unit: east-town, roles: [office_director]}
  - {email: west-leader@example.org, name: 西岭镇组长, unit: west-town, roles: [leader]}
  - {email: west-office@example.org, name: 西岭镇办主任, unit: west-town, roles: [office_director]}
  - {email: e1-head@example.org, name: 东一村书记, unit: e1, roles: [leader]}
  - {email: e1-office@example.org, name: 东一村治保主任, unit: e1, roles: [office_director]}
  - {email: e1-patrol@example.org, name: 东一村护路员, unit: e1, roles: []}
  - {email: e2-head@example.org, name: 东二村书记, unit: e2, roles: [leader]}
  - {email: e2-office@example.org, name: 东二村治保主任, unit: e2, roles: [office_director]}
  - {email: w1-head@example.org, name: 西一村书记, unit: w1, roles: [leader]}
  - {email: w1-office@example.org, name: 西一村治保主任, unit: w1, roles: [office_director]}
"""

LEVEL = """
id: lv-{level}
version: 1
title: {title}
roles:
  - {{id: leader, title: 组长}}
  - {{id: office_director, title: 办公室主任}}
coordinators: [leader, office_director]
phases:
  - id: mobilization
    title: 宣传发动阶段
    tasks:
      - {{id: plan-{level}, title: 制定实施方案, assignee: office_director, due: 90d}}
  - id: implementation
    title: 组织实施阶段
    tasks:
      - {{id: patrol-{level}, title: 护路巡查, assignee: office_director, due: 120d}}
  - id: summary
    title: 总结阶段
incidents:
  - {{id: train-accident, title: 路外伤亡事故}}
targets:
  - {{id: no-accident, title: 杜绝路外伤亡事故, kind: zero, incident: train-accident, period: year}}
assessment:
  items:
    - {{id: work, title: 创建工作, points: 100}}
  deductions:
    - {{each: overdue_rectification, points: 2, cap: 20}}
{cascade}
escalation:
  deadline_by_severity: {{major: 5wd, minor: 15wd}}
  levels:
{levels}
"""

COUNTY = LEVEL.format(
    level="county",
    title="平安铁路创建活动",
    cascade="cascade: {when: mobilization, definition: lv-town}",
    levels="    - {after: 0d, notify: [responsible, office_director]}",
)
TOWN = LEVEL.format(
    level="town",
    title="平安铁路创建活动",
    cascade="cascade: {when: mobilization, definition: lv-village, version: 1}",
    levels="    - {after: 0d, notify: [responsible, office_director]}\n"
    "    - {after: 5wd, notify: [parent.office_director]}",
)
VILLAGE = LEVEL.format(
    level="village",
    title="平安铁路创建活动",
    cascade="",
    levels="    - {after: 0d, notify: [responsible, office_director]}\n"
    "    - {after: 5wd, notify: [parent.office_director]}\n"
    "    - {after: 10wd, notify: [parent.parent.office_director]}",
)


def write_level_definitions(folder: Path) -> list[Path]:
    """The town's and the village's definitions as shipped files in ``folder``: the folders a
    county start looks them up in."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "town.yaml").write_text(TOWN, encoding="utf-8")
    (folder / "village.yaml").write_text(VILLAGE, encoding="utf-8")
    return [folder]


def start_county(
    session: Session, clock: Clock, calendar: WorkingCalendar, folders: Sequence[Path]
) -> int:
    """The county's campaign, started by the operator on 2026-05-04 with the definitions of
    ``folders`` (its towns' and villages' started with it); its id."""
    return start_campaign(
        session,
        parse_definition(COUNTY, "county.yaml"),
        "county",
        date(2026, 5, 4),
        by=OPERATOR,
        clock=clock,
        calendar=calendar,
        folders=folders,
    ).id
