"""The organisation and definition texts the tests start campaigns from, each named for what sets it apart.

Inline YAML, parsed with ``parse_organisation`` / ``parse_definition`` (or written to a file for the CLI). Two
more are files, because their tests read files: ``TOWN_FILE``, the sample town with its key sites, and
``RAILWAY_FILE``, DESIGN.md's example definition verbatim.

Organisations (all of 铁路镇 but the last; leader, deputy and office director at the town):

- ``TOWN``: three villages, each with its head (east's has a password); no key sites.
- ``TOWN_WITH_CROSSING``: east and west villages; 3号道口 in east, kept by east's head; a crossing keeper
  with no role.
- ``TOWN_WITH_KEEPER``: east and west villages; 3号道口 in east, kept by the crossing keeper.
- ``ASSESSED_TOWN``: three villages, and a leading group with an inspecting member and the railway's and the
  police's liaisons.
- ``RIVER_TOWN``: 河口镇, another town with people of its own; its office director is ``outsider@example.org``.

Definitions (all titled 平安铁路创建活动 but the last):

- ``RAILWAY``: mobilization (a plan per village, a meeting, an optional banner), implementation, inspection.
- ``RAILWAY_WITH_ESCALATION``: ``RAILWAY`` with deadlines by severity and three escalation levels.
- ``SCREENING``: implementation with a screening task per village due after 100 days, then inspection; three
  escalation levels.
- ``ASSESSED_RAILWAY``: incidents, targets and an assessment with deductions, a veto and grades.
- ``RIVER``: ``RAILWAY`` under titles of its own (平安河道创建活动), so its pages can be told from ours.
- ``LETTERS``: a section letter per key site, issued by the leader, signed by the site's responsible person.
- ``PATROLLED``: a monthly patrol of each key site (an inspection) by its responsible person.
- ``LETTERED_RAILWAY``: ``ASSESSED_RAILWAY`` with a letter per village (not required), signed by its head.
"""

from __future__ import annotations

import yaml

from tests.support.paths import FILES

TOWN_FILE = FILES / "org-town.yaml"
RAILWAY_FILE = FILES / "railway.yaml"  # DESIGN.md's example, verbatim

# --- organisations -------------------------------------------------------------------------------

TOWN = """
units:
  - id: town
    name: 铁路镇
    children:
      - {id: east-village, name: 东村}
      - {id: west-village, name: 西村}
      - {id: north-village, name: 北村}
people:
  - {email: leader@example.org, name: 张组长, unit: town, roles: [leader]}
  - {email: deputy@example.org, name: 王副组长, unit: town, roles: [deputy]}
  - {email: office@example.org, name: 赵主任, unit: town, roles: [office_director]}
  - {email: east@example.org, name: 李村长, unit: east-village, roles: [village_head], password: change-me}
  - {email: west@example.org, name: 周村长, unit: west-village, roles: [village_head]}
  - {email: north@example.org, name: 吴村长, unit: north-village, roles: [village_head]}
"""

TOWN_WITH_CROSSING = """
units:
  - id: town
    name: 铁路镇
    children:
      - id: east-village
        name: 东村
        sites:
          - {id: crossing-3, name: 3号道口, responsible: east@example.org}
      - {id: west-village, name: 西村}
people:
  - {email: leader@example.org, name: 张组长, unit: town, roles: [leader]}
  - {email: deputy@example.org, name: 王副组长, unit: town, roles: [deputy]}
  - {email: office@example.org, name: 赵主任, unit: town, roles: [office_director]}
  - {email: east@example.org, name: 李村长, unit: east-village, roles: [village_head], password: change-me}
  - {email: west@example.org, name: 周村长, unit: west-village, roles: [village_head]}
  - {email: keeper@example.org, name: 陈道口看守, unit: east-village, roles: []}
"""

TOWN_WITH_KEEPER = """
units:
  - id: town
    name: 铁路镇
    children:
      - id: east-village
        name: 东村
        sites:
          - {id: crossing-3, name: 3号道口, responsible: keeper@example.org}
      - {id: west-village, name: 西村}
people:
  - {email: leader@example.org, name: 张组长, unit: town, roles: [leader]}
  - {email: deputy@example.org, name: 王副组长, unit: town, roles: [deputy]}
  - {email: office@example.org, name: 赵主任, unit: town, roles: [office_director]}
  - {email: east@example.org, name: 李村长, unit: east-village, roles: [village_head]}
  - {email: keeper@example.org, name: 陈道口看守, unit: east-village, roles: []}
  - {email: west@example.org, name: 周村长, unit: west-village, roles: [village_head]}
"""

ASSESSED_TOWN = """
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

RIVER_TOWN = """
units:
  - id: river-town
    name: 河口镇
    children:
      - {id: ferry-village, name: 渡口村}
people:
  - {email: river-leader@example.org, name: 钱组长, unit: river-town, roles: [leader]}
  - {email: river-deputy@example.org, name: 冯副组长, unit: river-town, roles: [deputy]}
  - {email: outsider@example.org, name: 郑主任, unit: river-town, roles: [office_director]}
  - {email: ferry@example.org, name: 韩村长, unit: ferry-village, roles: [village_head]}
"""

# --- calendars: made up for tests, never the State Council's schedule ---------------------------

# a holiday-cn style file, made up: Monday 10 to Friday 14 February 2031 off, Saturday 8 February worked instead
MADE_UP_2031 = {
    "year": 2031,
    "papers": ["https://example.org/made-up-test-schedule"],
    "days": [
        {"name": "测试春节", "date": "2031-02-08", "isOffDay": False},
        *(
            {"name": "测试春节", "date": f"2031-02-{day:02d}", "isOffDay": True}
            for day in range(10, 15)
        ),
    ],
}


# --- definitions ---------------------------------------------------------------------------------

RAILWAY = """
id: safe-railway-test
version: 1
title: 平安铁路创建活动
roles:
  - {id: leader, title: 组长}
  - {id: deputy, title: 副组长}
  - {id: office_director, title: 办公室主任}
  - {id: village_head, title: 村负责人, scope: unit}
phases:
  - id: mobilization
    title: 宣传发动阶段
    duration: 30d
    tasks:
      - {id: plan, title: 制定创建活动计划, assignee: village_head, per: unit, due: 14d}
      - {id: meeting, title: 召开动员大会, assignee: office_director, due: 7d}
      - {id: banner, title: 悬挂宣传标语, assignee: village_head, per: unit, required: false}
  - id: implementation
    title: 全面实施阶段
    duration: 120d
    tasks:
      - {id: patrol-plan, title: 制定巡防方案, assignee: village_head, per: unit, due: 3wd}
  - id: inspection
    title: 检查验收阶段
    duration: 30d
"""

RAILWAY_WITH_ESCALATION = (
    RAILWAY.replace("id: safe-railway-test", "id: safe-railway-api")
    + """
escalation:
  deadline_by_severity: {major: 5wd, minor: 15wd}
  remind_before: 2wd
  levels:
    - {after: 0d, notify: [responsible, office_director]}
    - {after: 3wd, notify: [deputy]}
    - {after: 7wd, notify: [leader]}
"""
)

SCREENING = """
id: safe-railway-escalation
version: 1
title: 平安铁路创建活动
roles:
  - {id: leader, title: 组长}
  - {id: deputy, title: 副组长}
  - {id: office_director, title: 办公室主任}
  - {id: village_head, title: 村负责人, scope: unit}
phases:
  - id: implementation
    title: 全面实施阶段
    tasks:
      - {id: screening, title: 隐患排查, assignee: village_head, per: unit, due: 100d}
  - id: inspection
    title: 检查验收阶段
escalation:
  deadline_by_severity: {major: 5wd, minor: 15wd}
  remind_before: 2wd
  levels:
    - {after: 0d, notify: [responsible, office_director]}
    - {after: 3wd, notify: [deputy]}
    - {after: 7wd, notify: [leader]}
"""

ASSESSED_RAILWAY = """
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
    report_within: 1h
  - {id: endangering, title: 危及行车安全的案件}
  - {id: cattle, title: 耕牛挡道事故}
targets:
  - {id: no-train-accident, title: 不发生铁路行车重大事故, kind: zero, incident: train-accident}
  - {id: fewer-endangering, title: 危及行车安全的案件同比减少, kind: reduce, incident: endangering, period: year}
  - {id: cattle-control, title: 耕牛挡道事故不超出控制目标, kind: max, incident: cattle, value: 1, period: year,
     proposal: 控制数由上级下达，原文未给出数字}
  - {id: petitions-processed, title: 来信来访处理率达100%, kind: rate, measure: petitions_processed, value: 100,
     per: campaign}
  - {id: rectified-on-time, title: 隐患按期整改, kind: rate, measure: rectifications_closed_on_time, value: 100}
  - {id: satisfaction, title: 群众满意, kind: judged}
assessment:
  phase: inspection
  proposal: 原文未规定分值
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

# titles of its own, so that a page of this campaign can be told from a page of ours
RIVER = (
    RAILWAY.replace("id: safe-railway-test", "id: safe-river")
    .replace("平安铁路创建活动", "平安河道创建活动")
    .replace("制定创建活动计划", "制定护河计划")
)


class _EditorsLoader(yaml.SafeLoader):
    """YAML as an editor's schema support reads it (YAML 1.2's core schema): ``2006-01-01`` stays
    the text written, as the engine's reader keeps it (workflow/sourcefile.py)."""


_EditorsLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if not tag.endswith(":timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def as_editors_read(text: str) -> object:
    """A YAML document's data with dates as text: what the JSON schema is checked against."""
    return yaml.load(text, Loader=_EditorsLoader)  # noqa: S506 - a SafeLoader subclass


# an inspection of each key site (the tobacco text's 经常检查 → 逐件登记 → 限期解决) beside a plain
# task; for TOWN_WITH_CROSSING, whose 3号道口 is 李村长's
INSPECTING = """
id: inspection-test
version: 1
title: 平安烟草建设
roles:
  - {id: leader, title: 组长}
  - {id: deputy, title: 副组长}
  - {id: office_director, title: 办公室主任}
  - {id: village_head, title: 村负责人, scope: unit}
phases:
  - id: implementation
    title: 组织实施阶段
    duration: 60d
    tasks:
      - {id: site-check, title: 要害部位安全检查, assignee: responsible, per: site, due: 10d,
         inspection: true}
      - {id: plan, title: 制定计划, assignee: office_director, due: 10d}
escalation:
  deadline_by_severity: {major: 5wd, minor: 15wd}
  levels:
    - {after: 0d, notify: [responsible]}
"""


# in the field (issue 21): each key site's monthly patrol, an inspection, kept by its responsible
# person; with TOWN_WITH_CROSSING, 3号道口's patrol is 李村长's (east)
PATROLLED = """
id: patrol-test
version: 1
title: 平安铁路创建活动
roles:
  - {id: leader, title: 组长}
  - {id: deputy, title: 副组长}
  - {id: office_director, title: 办公室主任}
  - {id: village_head, title: 村负责人, scope: unit}
phases:
  - id: implementation
    title: 全面实施阶段
    duration: 120d
    recurring:
      - {id: section-patrol, title: 包片责任区段治安巡逻, assignee: responsible, per: site,
         inspection: true, every: month, due: 25d}
escalation:
  deadline_by_severity: {major: 5wd, minor: 15wd}
  levels:
    - {after: 0d, notify: [responsible]}
"""


# responsibility letters (issue 17, item 1): each key site's section letter, issued by the leader
# and signed by the site's responsible person; for TOWN_WITH_KEEPER, whose 3号道口 is kept by the
# crossing keeper (no role) and TOWN_WITH_CROSSING, whose 3号道口 is 李村长's
LETTERS = """
id: letters-test
version: 1
title: 平安铁路创建活动
roles:
  - {id: leader, title: 组长}
  - {id: deputy, title: 副组长}
  - {id: office_director, title: 办公室主任}
  - {id: village_head, title: 村负责人, scope: unit}
phases:
  - id: mobilization
    title: 宣传发动阶段
    duration: 30d
    tasks:
      - {id: plan, title: 制定创建活动计划, assignee: office_director, due: 14d}
    letters:
      - id: section-letter
        title: 签订铁路安全包片责任区段责任书
        title_en: Sign the section's responsibility letter
        issued_by: leader
        signed_by: responsible
        per: site
        due: 10d
        duties: [责任必须明确：包片区段每日巡查一次, 发现危及行车安全的隐患立即报告]
        targets: [no-train-accident]
  - id: implementation
    title: 全面实施阶段
    duration: 60d
incidents:
  - {id: train-accident, title: 因治安问题导致的铁路行车重大事故}
targets:
  - {id: no-train-accident, title: 不发生因治安问题导致的铁路行车重大事故, kind: zero, incident: train-accident}
"""

# ASSESSED_RAILWAY with a letter per village (not required: the campaign year moves on without it),
# issued by the leader and signed by each village head: the access matrices' letters
LETTERED_RAILWAY = ASSESSED_RAILWAY.replace(
    "      - {id: plan, title: 制定创建活动计划, assignee: village_head, per: unit, due: 10d}\n",
    "      - {id: plan, title: 制定创建活动计划, assignee: village_head, per: unit, due: 10d}\n"
    "    letters:\n"
    "      - {id: village-letter, title: 签订平安铁路目标责任书, issued_by: leader,"
    " signed_by: village_head, per: unit, due: 10d, required: false,"
    " duties: [护路联防，责任到人], targets: [no-train-accident]}\n",
)
assert LETTERED_RAILWAY != ASSESSED_RAILWAY
