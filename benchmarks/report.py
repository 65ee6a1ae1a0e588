"""The report of a campaign of 2,000 units, 100,000 tasks and 20,000 rectifications: JSON and CSV
under 2 s.

Set-up (not a figure): a town of 2,000 villages; a campaign whose definition
has 50 per-village tasks (100,000 rows, created by ``start_campaign``), incident
kinds, targets (zero, max, reduce, rate) and an assessment; then, with Core
inserts, 20,000 rectifications (half closed, some late against their original
deadline, a fifth awaiting the check, the rest open and partly overdue), 6,000
escalation rows, 2,000 letters and visits, 500 incidents and every village's
scores. 60 % of the tasks are checked off, some late.

Figures, per back end: the server-side seconds of building the report and
turning it into JSON (what ``GET /api/v1/campaigns/<id>/report`` does), the
same with CSV and (for information) XLSX, each the median of three runs; the
floor: plain ``SELECT COUNT(*) … GROUP BY`` queries reading the same rows
(tasks, rectifications, escalations, letters and visits, incidents, scores),
in the same run. The last line is the SQLite ratio report / floor.

    .venv/bin/python benchmarks/report.py [--units 2000] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, text

from scenario import definition_text, populate_town, postgres_database, sqlite_database
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import FixedClock, end_of_day
from workflow.db import create_db_engine, session_factory
from workflow.definitions.reader import parse_definition
from workflow.models import Escalation, Incident, Petition, Rectification, Score
from workflow.views.report import build_report
from workflow.views.report_files import report_csv, report_xlsx

TZ = "Asia/Shanghai"
SHANGHAI = ZoneInfo(TZ)
START = date(2026, 3, 2)
NOW = datetime(2026, 6, 10, 10, 0, tzinfo=SHANGHAI).astimezone(timezone.utc)
TASKS_PER_UNIT = 50
RECTIFICATIONS_PER_UNIT = 10
TARGET_SECONDS = 2.0
RUNS = 3

BLOCKS = """escalation:
  deadline_by_severity: {major: 5wd, minor: 15wd}
  remind_before: 2wd
  levels:
    - {after: 0d, notify: [responsible, office_director]}
    - {after: 3wd, notify: [leader]}
incidents:
  - {id: major-case, title: 重大治安案件}
  - {id: cattle, title: 耕牛挡道事故}
  - {id: endangering, title: 危及行车安全的案件}
targets:
  - {id: no-major-case, title: 不发生重大治安案件, kind: zero, incident: major-case}
  - {id: cattle-control, title: 耕牛挡道事故不超出控制目标, kind: max,
     incident: cattle, value: 1, period: year}
  - {id: fewer-endangering, title: 危及行车安全的案件同比减少, kind: reduce,
     incident: endangering, period: year}
  - {id: on-time, title: 隐患按期整改, kind: rate, value: 90,
     measure: rectifications_closed_on_time}
  - {id: petitions, title: 来信来访处理率达100%, kind: rate, value: 100,
     measure: petitions_processed, per: campaign}
assessment:
  phase: implementation
  items:
    - {id: meetings, title: 会议必须强调, points: 40}
    - {id: measures, title: 措施必须落实, points: 30}
    - {id: hazards, title: 隐患问题必须督促整改, points: 30}
  deductions:
    - {each: overdue_task, points: 0.5, cap: 10}
    - {each: overdue_rectification, points: 2, cap: 10}
    - {each: escalation, level: 2, points: 3}
    - {each: missed_target, points: 5}
  veto:
    - {id: major-case-veto, title: 发生重大治安案件, incident: major-case}
  criticism:
    - {id: cattle-over, title: 耕牛挡道事故超出控制目标, target: cattle-control}
  grades: {commended: 90, passed: 60}
"""


def set_up(engine: Engine, units: int) -> int:
    populate_town(engine, units)
    text_ = (
        definition_text(TASKS_PER_UNIT, slug="report-bench").replace(
            "duration: 30d", "duration: 200d"
        )
        + BLOCKS
    )
    definition = parse_definition(text_, "report-bench.yaml")
    sessions = session_factory(engine)
    started = datetime.combine(START, datetime.min.time().replace(hour=9), tzinfo=SHANGHAI)
    with sessions.begin() as session:
        campaign_id = start_campaign(
            session,
            definition,
            "town",
            START,
            by=Actor.operator("bench"),
            clock=FixedClock(started),
            calendar=WorkingCalendar(),
        ).id
    with engine.begin() as connection:
        # 60 % checked off: most by their due time, every fifth of those a week late
        late = (
            "due_at + interval '7 days'"
            if engine.dialect.name == "postgresql"
            else "datetime(due_at, '+7 days')"
        )
        connection.execute(
            text(
                f"UPDATE tasks SET state = 'done', completed_at = CASE WHEN id % 5 = 0 THEN {late} "
                "ELSE due_at END WHERE id % 10 < 6"
            )
        )
        heads = connection.execute(
            text(
                "select p.unit_id, p.id from people p join person_roles r on r.person_id = p.id "
                "where r.role = 'village_head' order by p.unit_id"
            )
        ).all()
        office = connection.execute(
            text("select id from people where email = 'office@town.example.org'")
        ).scalar()
    _rows(engine, campaign_id, heads, office)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(
            text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
        )
    return campaign_id


def _rows(engine: Engine, campaign_id: int, heads: list, office: int) -> None:  # type: ignore[type-arg]
    rectifications, escalations, petitions, incidents, scores = [], [], [], [], []
    for n, (unit_id, head_id) in enumerate(heads):
        for i in range(RECTIFICATIONS_PER_UNIT):
            k = n * RECTIFICATIONS_PER_UNIT + i
            registered = NOW - timedelta(days=5 + k % 90)
            original = (registered + timedelta(days=10)).astimezone(SHANGHAI).date()
            extended = k % 7 == 0
            deadline = original + timedelta(days=10) if extended else original
            state = (
                "closed",
                "closed",
                "closed",
                "closed",
                "closed",
                "submitted",
                "submitted",
                "open",
                "open",
                "open",
            )[k % 10]
            fixed = registered + timedelta(days=3 + k % 20) if state != "open" else None
            rectifications.append(
                {
                    "campaign_id": campaign_id,
                    "phase_key": "mobilization",
                    "unit_id": unit_id,
                    "location": f"第{k % 17 + 1}组",
                    "description": f"隐患{k}：消防通道堆放杂物",
                    "severity": "major" if k % 9 == 0 else "minor",
                    "responsible_id": head_id,
                    "state": state,
                    "original_deadline": original,
                    "deadline": deadline,
                    "deadline_at": end_of_day(deadline, TZ),
                    "deadline_round": int(extended),
                    "extensions": int(extended),
                    "registered_at": registered,
                    "registered_by_id": office,
                    "submitted_at": fixed,
                    "closed_at": fixed if state == "closed" else None,
                    "closed_by_id": office if state == "closed" else None,
                    "temporary_measures": "设置警示标志" if k % 3 == 0 else None,
                }
            )
        petitions.append(
            {
                "campaign_id": campaign_id,
                "unit_id": unit_id,
                "channel": "letter",
                "subject": "反映问题",
                "received_on": START + timedelta(days=n % 60),
                "responsible_id": head_id,
                "state": "processed" if n % 4 else "open",
                "deadline": START + timedelta(days=60 + n % 60),
                "deadline_at": end_of_day(START + timedelta(days=60 + n % 60), TZ),
                "recorded_at": NOW - timedelta(days=30),
                "processed_at": NOW if n % 4 else None,
            }
        )
        if n % 4 == 0:
            incidents.append(
                {
                    "campaign_id": campaign_id,
                    "kind": ("cattle", "endangering")[n % 8 // 4],
                    "unit_id": unit_id,
                    "occurred_on": START + timedelta(days=n % 90),
                    "description": "耕牛上道",
                    "recorded_at": NOW - timedelta(days=1),
                }
            )
        scores += [
            {
                "campaign_id": campaign_id,
                "unit_id": unit_id,
                "item_key": item,
                "points": points - n % 7,
                "entered_at": NOW,
            }
            for item, points in (("meetings", 40), ("measures", 30), ("hazards", 30))
        ]
    with engine.begin() as connection:
        for start in range(0, len(rectifications), 5000):
            ids = (
                connection.execute(
                    insert(Rectification).returning(Rectification.id),
                    rectifications[start : start + 5000],
                )
                .scalars()
                .all()
            )
            for rid, row in zip(ids, rectifications[start : start + 5000]):
                if row["state"] == "open" and rid % 2 == 0:  # overdue ones reached levels 1 and 2
                    for level, colour in ((1, "yellow"), (2, "red")):
                        escalations.append(
                            {
                                "campaign_id": campaign_id,
                                "item_kind": "rectification",
                                "item_id": rid,
                                "deadline_round": row["deadline_round"],
                                "level": level,
                                "colour": colour,
                                "deadline": row["deadline"],
                                "due_at": row["deadline_at"],
                                "reached_at": NOW,
                                "recipients": "head@town.example.org",
                            }
                        )
        connection.execute(insert(Escalation.__table__), escalations)
        connection.execute(insert(Petition.__table__), petitions)
        connection.execute(insert(Incident.__table__), incidents)
        connection.execute(insert(Score.__table__), scores)


FLOOR_QUERIES = [
    text(q)
    for q in (
        "SELECT unit_id, phase_key, state, COUNT(*) FROM tasks WHERE campaign_id = :c GROUP BY "
        "unit_id, phase_key, state",
        "SELECT unit_id, state, COUNT(*) FROM rectifications WHERE campaign_id = :c GROUP BY "
        "unit_id, state",
        "SELECT item_kind, level, COUNT(*) FROM escalations WHERE campaign_id = :c GROUP BY "
        "item_kind, level",
        "SELECT unit_id, state, COUNT(*) FROM petitions WHERE campaign_id = :c GROUP BY unit_id, "
        "state",
        "SELECT unit_id, kind, COUNT(*) FROM incidents WHERE campaign_id = :c GROUP BY unit_id, "
        "kind",
        "SELECT unit_id, COUNT(*) FROM scores WHERE campaign_id = :c GROUP BY unit_id",
    )
]


def floor(engine: Engine, campaign_id: int) -> float:
    began = time.perf_counter()
    with engine.connect() as connection:
        for query in FLOOR_QUERIES:
            connection.execute(query, {"c": campaign_id}).all()
    return time.perf_counter() - began


def timed(engine: Engine, campaign_id: int, render, with_ledger: bool = True) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Median seconds of building the report and rendering it, as the route does; and the size
    rendered."""
    sessions = session_factory(engine)
    seconds, size = [], 0
    for _ in range(RUNS):
        began = time.perf_counter()
        with sessions() as session:
            built = build_report(
                session,
                campaign_id,
                by=Actor.operator("bench"),
                clock=FixedClock(NOW),
                with_ledger=with_ledger,
            )
        size = len(render(built))
        seconds.append(time.perf_counter() - began)
    return statistics.median(seconds), size


def measure(label: str, url: str, units: int) -> tuple[float, float]:
    began = time.perf_counter()
    engine = create_db_engine(url)
    campaign_id = set_up(engine, units)
    with engine.connect() as connection:
        counted = {
            table: connection.execute(text(f"select count(*) from {table}")).scalar()
            for table in (
                "tasks",
                "rectifications",
                "escalations",
                "petitions",
                "incidents",
                "scores",
            )
        }
    print(
        f"{label}: set-up {time.perf_counter() - began:.1f} s (not a figure): {units} units, "
        + ", ".join(f"{n} {table}" for table, n in counted.items())
    )
    floors = [floor(engine, campaign_id) for _ in range(RUNS)]
    floor_seconds = statistics.median(floors)
    print(f"{label}: floor (plain COUNT(*) … GROUP BY over the same rows) {floor_seconds:.3f} s")
    as_json, json_bytes = timed(
        engine,
        campaign_id,
        lambda r: json.dumps(r.to_dict(), ensure_ascii=False, separators=(",", ":")).encode(),
    )
    # the units: no ledger needed
    as_csv, csv_bytes = timed(engine, campaign_id, report_csv, with_ledger=False)
    as_xlsx, xlsx_bytes = timed(engine, campaign_id, report_xlsx)
    for name, seconds, size in (
        ("JSON", as_json, json_bytes),
        ("CSV (units)", as_csv, csv_bytes),
        ("XLSX (every table, for information)", as_xlsx, xlsx_bytes),
    ):
        print(f"{label}: report as {name} {seconds:.3f} s, {size / 1e6:.1f} MB")
    verdict = "ok" if max(as_json, as_csv) < TARGET_SECONDS else "OVER TARGET"
    print(
        f"{label}: target JSON and CSV < {TARGET_SECONDS:.0f} s: {verdict}; ratio report / floor "
        f"{as_json / floor_seconds:.2f}"
    )
    engine.dispose()
    return as_json, floor_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--skip-postgres", action="store_true")
    options = parser.parse_args()
    if not options.skip_postgres:
        with postgres_database() as url:
            if url is None:
                print("postgresql: not reachable, skipped")
            else:
                measure("postgresql", url, options.units)
    with sqlite_database() as url:
        report_seconds, floor_seconds = measure("sqlite", url, options.units)
    print(f"ratio={report_seconds / floor_seconds:.2f}")
    sys.exit(0)


if __name__ == "__main__":
    main()
