"""`pingan calendar status|import` and `pingan start`'s warning, as an operator runs them.

2031 is a made-up test year with a made-up spring holiday: NOT the State Council's schedule.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from tests.support.texts import (
    MADE_UP_2031,
    RAILWAY,
    RAILWAY_WITH_ESCALATION,
    TOWN,
    TOWN_WITH_CROSSING,
)
from workflow.calendar import load_calendar
from workflow.models import AuditEvent, CalendarDay, CalendarImport

FRIDAY_BEFORE = date(2031, 2, 7)


def write_json(folder: Path, data: object, name: str = "made-up-2031.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def five_working_days_after_friday(db_url: str) -> date:
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            return load_calendar(session, shared=True).add_working_days(FRIDAY_BEFORE, 5)
    finally:
        engine.dispose()


def counts(db_url: str) -> tuple[int, int, int]:
    """Rows of calendar_days, calendar_imports, and calendar audit events."""
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            return (
                session.scalar(select(func.count()).select_from(CalendarDay)) or 0,
                session.scalar(select(func.count()).select_from(CalendarImport)) or 0,
                session.scalar(
                    select(func.count())
                    .select_from(AuditEvent)
                    .where(AuditEvent.entity == "calendar")
                )
                or 0,
            )
    finally:
        engine.dispose()


def test_an_import_moves_a_deadline_across_the_years_holiday(pingan, db_url, tmp_path):
    # before: 2031 is estimated Monday–Friday, so five working days after Friday end on Friday
    assert five_working_days_after_friday(db_url) == date(2031, 2, 14)

    result = pingan("calendar", "import", str(write_json(tmp_path, MADE_UP_2031)))

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "2031: 5 holiday day(s) and 1 adjusted workday(s) entered from made-up-2031.json"
    )
    # after: Saturday 8th is worked, 10th–14th are off: the fifth working day is Thursday the 20th
    assert five_working_days_after_friday(db_url) == date(2031, 2, 20)
    assert counts(db_url) == (6, 1, 1)
    engine = create_engine(db_url)
    with Session(engine) as session:
        record = session.get(CalendarImport, 2031)
        assert record is not None
        assert (record.imported_by.startswith("cli:"), record.source_name) == (
            True,
            "made-up-2031.json",
        )
        event = session.scalars(select(AuditEvent).where(AuditEvent.entity == "calendar")).one()
        assert (event.entity_id, event.event, event.campaign_id) == (2031, "import", None)
    engine.dispose()


def test_a_second_import_replaces_the_years_days(pingan, db_url, tmp_path):
    assert pingan("calendar", "import", str(write_json(tmp_path, MADE_UP_2031))).exit_code == 0
    (tmp_path / "made-up-2031.csv").write_text(
        "date,kind,name\n2031-02-12,off,测试\n", encoding="utf-8"
    )

    result = pingan("calendar", "import", str(tmp_path / "made-up-2031.csv"))

    assert result.exit_code == 0, result.output
    assert counts(db_url) == (1, 1, 2)
    # only Wednesday the 12th is off now: Mon 10, Tue 11, Thu 13, Fri 14, Mon 17
    assert five_working_days_after_friday(db_url) == date(2031, 2, 17)


def _bad_date(data: dict) -> None:
    data["days"][3]["date"] = "2031-02-30"


def _duplicate(data: dict) -> None:
    data["days"][4]["date"] = data["days"][2]["date"]


def _other_year(data: dict) -> None:
    data["days"][1]["date"] = "2032-02-10"


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (
            _bad_date,
            "made-up-2031.json: days[3].date: not a date: '2031-02-30' (no such day)",
        ),
        (
            _duplicate,
            "made-up-2031.json: days[4].date: 2031-02-11 is listed twice (first at days[2])",
        ),
        (
            _other_year,
            "made-up-2031.json: days[1].date: 2032-02-10 is not in 2031, the year of this file",
        ),
    ],
    ids=["bad-date", "duplicate", "other-year"],
)
def test_a_malformed_json_file_is_refused_with_its_path_and_nothing_changes(
    pingan, db_url, tmp_path, spoil, expected
):
    assert pingan("calendar", "import", str(write_json(tmp_path, MADE_UP_2031))).exit_code == 0
    before = counts(db_url)
    data = json.loads(json.dumps(MADE_UP_2031))
    spoil(data)
    data["days"] = data["days"][:5]  # a different file: a refusal must not apply any of it

    result = pingan("calendar", "import", str(write_json(tmp_path, data)))

    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {tmp_path}/{expected}"
    assert counts(db_url) == before
    assert five_working_days_after_friday(db_url) == date(2031, 2, 20)


def test_not_json_yaml_or_csv_is_refused_with_the_line(pingan, db_url, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"year": 2031,\n "days": [\n  {"date": "2031-02-10",}\n]}\n')
    (tmp_path / "dates.txt").write_text("2031-02-10 off\n")
    yaml_file = tmp_path / "made-up.yaml"
    yaml_file.write_text(
        "- {date: 2031-02-10, kind: off, name: 测试}\n- {date: 2031-02-11, kind: holiday}\n",
        encoding="utf-8",
    )
    csv_file = tmp_path / "made-up.csv"
    csv_file.write_text("date,kind,name\n2031-02-10,off,测试\n2031-02-10,work,测试\n")

    results = [
        pingan("calendar", "import", str(path))
        for path in (broken, tmp_path / "dates.txt", yaml_file, csv_file)
    ]

    assert [r.exit_code for r in results] == [1, 1, 1, 1]
    assert [r.stderr.strip() for r in results] == [
        f"error: {broken}:3: not valid JSON: Expecting property name enclosed in double quotes",
        f"error: {tmp_path}/dates.txt: not a JSON, YAML or CSV file (name it .json, .yaml or .csv)",
        f"error: {yaml_file}:2: [1].kind: unknown kind 'holiday' (write off or work)",
        f"error: {csv_file}:3: date: 2031-02-10 is listed twice (first at line 2)",
    ]
    assert counts(db_url) == (0, 0, 0)


def test_a_yaml_list_is_imported(pingan, db_url, tmp_path):
    yaml_file = tmp_path / "made-up.yaml"
    yaml_file.write_text(
        "- {date: 2031-02-08, kind: work, name: 测试}\n"
        + "".join(f"- {{date: 2031-02-{d}, kind: off, name: 测试}}\n" for d in range(10, 15)),
        encoding="utf-8",
    )

    assert pingan("calendar", "import", str(yaml_file)).exit_code == 0
    assert five_working_days_after_friday(db_url) == date(2031, 2, 20)


def test_status_lists_a_package_year_the_entered_year_and_a_missing_year(pingan, db_url, tmp_path):
    assert pingan("calendar", "import", str(write_json(tmp_path, MADE_UP_2031))).exit_code == 0

    result = pingan("calendar", "status", now="2026-11-20T10:00")

    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert lines["2026"] == (
        "2026  package data (chinesecalendar) — 33 holiday day(s), 6 adjusted workday(s)"
    )
    assert lines["2027"] == "2027  none: estimated Monday–Friday — no holidays known"
    assert lines["2031"].startswith("2031  entered 2026-05-01 09:00 by cli:")
    assert lines["2031"].endswith(
        "from made-up-2031.json — 5 holiday day(s), 1 adjusted workday(s)"
    )
    years = [int(year) for year in lines]
    assert years == list(range(years[0], 2032)) and years[0] <= 2026


def test_start_warns_when_the_plan_runs_into_a_year_without_data(pingan, tmp_path):
    (tmp_path / "town.yaml").write_text(TOWN, encoding="utf-8")
    (tmp_path / "railway.yaml").write_text(RAILWAY, encoding="utf-8")
    assert pingan("import-org", str(tmp_path / "town.yaml")).exit_code == 0
    railway = str(tmp_path / "railway.yaml")

    within = pingan("start", railway, "--org", "town", "--starts", "2026-05-01")
    across = pingan("start", railway, "--org", "town", "--starts", "2026-09-01")

    assert (within.exit_code, within.stderr) == (0, "")
    assert across.exit_code == 0
    assert across.stdout.strip().isdigit()
    assert across.stderr.splitlines() == [
        "warning: the planned phases run into 2027, which has no official calendar (from "
        "2027-01-01): working days there are estimated Monday–Friday; enter the State Council's "
        "schedule with `pingan calendar import FILE`"
    ]


def test_a_deadline_counted_into_a_year_without_data_is_printed_as_an_estimate(pingan, tmp_path):
    (tmp_path / "town.yaml").write_text(TOWN_WITH_CROSSING, encoding="utf-8")
    (tmp_path / "railway.yaml").write_text(RAILWAY_WITH_ESCALATION, encoding="utf-8")
    assert pingan("import-org", str(tmp_path / "town.yaml")).exit_code == 0
    campaign = pingan(
        "start", str(tmp_path / "railway.yaml"), "--org", "town", "--starts", "2026-11-02"
    )
    hazard = ["hazard", "register", campaign.stdout.strip(), "--site", "crossing-3"]
    hazard += ["--description", "道口护栏损坏", "--severity", "minor"]

    within = pingan(*hazard, "--working-days", "3", now="2026-12-01T10:00")
    across = pingan(*hazard, "--working-days", "30", now="2026-12-01T10:00")

    assert within.stderr == "" and within.stdout.strip().endswith("deadline 2026-12-04")
    assert across.stdout.strip().endswith(
        "(estimate: that year's official calendar is not entered; counted Monday–Friday)"
    )
