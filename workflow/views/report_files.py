"""The report as files: CSV (one table, UTF-8 with a BOM) and XLSX (one sheet per table, openpyxl).

The BOM is what makes Excel on Windows read a CSV as UTF-8: without it the
Chinese unit names come out as mojibake (Excel assumes the ANSI code page).
Headers are Chinese first with the English word, as the printed forms are.
XLSX is written in openpyxl's write-only mode: it streams rows instead of
holding a cell object per value (20,000 ledger rows × 19 columns).

Text typed by users (a hazard's description, a temporary measure) must stay
text: a cell starting with ``=`` (or ``+``, ``-``, ``@``) would be a formula to
Excel (CSV injection, OWASP). In the CSV such a value gets a leading ``'``,
which Excel reads as "this is text"; in the XLSX the cell is typed as a string,
so it shows exactly what was typed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.drawing.image import Image as SheetImage
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from workflow.errors import InvalidInput
from workflow.views.report import (
    ESCALATION_COLUMNS,
    LEDGER_COLUMNS,
    LETTER_COLUMNS,
    LIST_COLUMNS,
    PHASE_COLUMNS,
    TARGET_COLUMNS,
    UNIT_COLUMNS,
    CampaignReport,
)

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADERS = {
    "code": "单位代码 code",
    "name": "单位 unit",
    "tasks": "任务数 tasks",
    "tasks_done": "已完成 done",
    "completion": "完成率% completion",
    "tasks_overdue": "逾期任务 overdue tasks",
    "rectifications": "隐患数 hazards",
    "rectifications_closed": "已整改 closed",
    "rectification_rate": "整改率% rectified",
    "on_time_rate": "按期整改率% on time",
    "overdue_open": "逾期未整改数 overdue open",
    "petitions": "信访 petitions",
    "petitions_processed": "已办结 processed",
    "incidents": "事件 incidents",
    "escalations": "督办 escalations",
    "targets_missed": "未达目标 targets missed",
    "score": "得分 score",
    "rank": "名次 rank",
    "grade": "等次 grade",
    "vetoed": "一票否决 vetoed",
    "veto_reasons": "否决原因 veto reasons",
    "phase": "阶段 phase",
    "title": "名称 title",
    "planned_start": "计划开始 planned start",
    "planned_last_day": "计划结束 planned last day",
    "started_on": "实际开始 started",
    "ended_on": "实际结束 ended",
    "status": "状态 status",
    "days_late": "延误天数 days late",
    "id": "编号 no.",
    "unit": "单位 unit",
    "site": "部位 site",
    "location": "地点 location",
    "description": "隐患 hazard",
    "severity": "等级 grade",
    "registered_on": "发现日期 found on",
    "found_by": "检查人 found by",
    "inspection": "检查任务 found in inspection",
    "campaign_unit": "所属单位创建活动 campaign of",
    "responsible": "责任人 responsible",
    "original_deadline": "原定期限 original deadline",
    "deadline": "现期限 deadline",
    "extensions": "延期次数 extensions",
    "temporary_measures": "临时措施 temporary measures",
    "state": "状态 state",
    "check_result": "复查结果 check",
    "fixed_on": "整改完成 fixed on",
    "closed_on": "销号日期 closed on",
    "days_to_close": "整改天数 days to close",
    "days_overdue": "逾期天数 days overdue",
    "deadline_estimated": "预计 estimate",
    "level": "级别 level",
    "colour": "颜色 colour",
    "item_kind": "类别 kind",
    "count": "次数 count",
    "target": "目标 target",
    "kind": "类型 kind",
    "bundle": "分组 bundle",
    "actual": "实际 actual",
    "issuer": "甲方 issued by",
    "signer": "乙方 signed by",
    "due_on": "签订期限 sign by",
    "issued_on": "下达日期 issued on",
    "signed_on": "签订日期 signed on",
    "expected": "要求 expected",
    "detail": "明细 detail",
    "reasons": "原因 reasons",
    "accountability": "追究领导责任 accountability",
    "item_total": "检查得分 items",
    "deducted": "扣分 deducted",
    "metric": "指标 metric",
    "value": "数值 value",
}
# the key sites' patrols by period (巡查打卡)
VISIT_COLUMNS = (
    "period",
    "site",
    "unit",
    "title",
    "assignee",
    "due_on",
    "visits",
    "standing",
    "task_state",
)
VISIT_HEADERS = {
    "period": "周期 period",
    "site": "重点部位 key site",
    "unit": "单位 unit",
    "title": "职责 duty",
    "assignee": "责任人 responsible",
    "due_on": "期限 due",
    "visits": "打卡次数 visits",
    "standing": "情况 standing",
    "task_state": "任务状态 task",
}
OPTIONAL_SHEETS = frozenset({"site_visits"})
TASK_WORDS = {
    "open": "未完成 open",
    "done": "已完成 done",
    "verified": "已核验 verified",
    "cancelled": "已撤销 cancelled",
}
VISIT_WORDS = {
    "visited": "已打卡 visited",
    "missed": "未打卡 no visit",
    "waiting": "待打卡 waiting",
}
# the patrol table's coded columns, in words
VISIT_VALUES = {"standing": VISIT_WORDS, "task_state": TASK_WORDS}
LETTER_WORDS = {
    "drafted": "待下达 drafted",
    "issued": "已下达待签订 issued",
    "signed": "已签订 signed",
}
GRADE_WORDS = {
    "commended": "优秀 commended",
    "passed": "合格 passed",
    "criticised": "不合格 failed",
    "scoring": "评分中 scoring",
    "unscored": "未评分 not scored",
}
RATE_WORDS = {
    "total": "隐患总数 hazards",
    "open": "整改中 open",
    "submitted": "待验收 submitted",
    "closed": "已销号 closed",
    "rectification_rate": "整改率% rectified",
    "on_time_rate": "按期整改率% on time (original deadline)",
    "overdue_open": "逾期未整改数 overdue, not fixed",
    "mean_days_to_close": "平均整改天数 mean days to close",
    "p90_days_to_close": "90%整改天数 p90 days to close",
}


# the ledger's photos: two columns after the others (the columns before keep their places), a
# thumbnail of PHOTO_PIXELS on its long side in a row tall enough for it (96 px = 72 points)
PHOTO_HEADERS = ("整改前照片 before", "整改后照片 after")
PHOTO_PIXELS = 120
PHOTO_ROW_POINTS = 92
PHOTO_COLUMN_WIDTH = 18  # characters: some 130 px


@dataclass(frozen=True)
class Table:
    # units, phases, ledger, rectifications, escalations, targets, assessment, commended, criticised
    key: str
    sheet: str  # the XLSX sheet's name (at most 31 characters)
    headers: list[str]
    rows: list[list[Any]]


def tables(report: CampaignReport) -> list[Table]:
    """Every table of the report, in reading order."""

    def simple(key: str, sheet: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> Table:
        return Table(
            key, sheet, [HEADERS[c] for c in columns], [[row[c] for c in columns] for row in rows]
        )

    rates = report.rectifications
    rate_rows = [[RATE_WORDS[key], rates[key]] for key in RATE_WORDS]
    rate_rows += [
        [f"未销号 {label} 天 open, age {label} days", count]
        for label, count in rates["ageing"].items()
    ]
    items = report.assessment["items"]
    assessed = [
        [
            row["rank"],
            row["code"],
            row["name"],
            *(row["items"].get(item["id"]) for item in items),
            row["item_total"],
            row["deducted"],
            row["score"],
            GRADE_WORDS.get(row["grade"], row["grade"]),
            row["vetoed"],
            "; ".join(f"{m['title']}: {m['reason']}" for m in row["vetoes"]),
            "; ".join(f"{d['what']} ×{d['times']} −{d['points']:g}" for d in row["deductions"]),
        ]
        for row in report.assessment["units"]
    ]
    assessed_headers = [
        HEADERS["rank"],
        HEADERS["code"],
        HEADERS["name"],
        *(f"{item['title']} ({item['points']:g})" for item in items),
        HEADERS["item_total"],
        HEADERS["deducted"],
        HEADERS["score"],
        HEADERS["grade"],
        HEADERS["vetoed"],
        HEADERS["veto_reasons"],
        "扣分明细 deductions",
    ]
    return [
        simple("units", "单位 units", UNIT_COLUMNS, report.units),
        simple("phases", "阶段 phases", PHASE_COLUMNS, report.phases),
        Table(
            "ledger",
            "隐患台账 ledger",
            [HEADERS[c] for c in LEDGER_COLUMNS],
            [
                [_estimate(row) if c == "deadline_estimated" else row[c] for c in LEDGER_COLUMNS]
                for row in report.ledger
            ],
        ),
        Table("rectifications", "整改统计 rates", [HEADERS["metric"], HEADERS["value"]], rate_rows),
        simple("escalations", "督办 escalations", ESCALATION_COLUMNS, report.escalations),
        simple("targets", "目标 targets", TARGET_COLUMNS, report.targets),
        Table("assessment", "考核 assessment", assessed_headers, assessed),
        simple("commended", "表彰 commended", LIST_COLUMNS, report.commended),
        simple("criticised", "通报批评 criticised", LIST_COLUMNS, report.criticised),
        Table(
            "letters",
            "责任书 letters",
            [HEADERS[c] for c in LETTER_COLUMNS],
            [
                [
                    LETTER_WORDS.get(row[c], row[c]) if c == "state" else row[c]
                    for c in LETTER_COLUMNS
                ]
                for row in report.letters
            ],
        ),
        Table(
            "site_visits",
            "巡查打卡 patrols",
            [VISIT_HEADERS[c] for c in VISIT_COLUMNS],
            [
                [VISIT_VALUES[c][row[c]] if c in VISIT_VALUES else row[c] for c in VISIT_COLUMNS]
                for row in report.site_visits
            ],
        ),
    ]


def report_csv(report: CampaignReport, table: str = "units") -> bytes:
    """One table of the report as CSV, UTF-8 with a BOM (default: the units, one row per unit)."""
    chosen = next((t for t in tables(report) if t.key == table), None)
    if chosen is None:
        known = ", ".join(t.key for t in tables(report))
        raise InvalidInput(f"unknown table {table!r} (tables: {known})")
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, what Excel writes
    writer.writerow([_text(header) for header in chosen.headers])  # titles come from a definition
    writer.writerows([_text(value) for value in row] for row in chosen.rows)
    return out.getvalue().encode("utf-8")


def report_xlsx(
    report: CampaignReport,
    thumbnails: Mapping[int, tuple[bytes | None, bytes | None]] | None = None,
) -> bytes:
    """The whole report as an XLSX workbook, one sheet per table, headers bold and frozen;
    ``thumbnails`` (a hazard's first before and after photo, by its id) embedded in the ledger's
    last two columns."""
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for table in tables(report):
        if table.key in OPTIONAL_SHEETS and not table.rows:
            continue  # a campaign with no key sites patrolled prints no empty patrol sheet
        sheet = book.create_sheet(table.sheet)
        sheet.freeze_panes = "A2"
        photos = thumbnails if table.key == "ledger" and thumbnails else None
        headers = table.headers + (list(PHOTO_HEADERS) if photos else [])
        for position, header in enumerate(headers, start=1):
            sheet.column_dimensions[get_column_letter(position)].width = min(
                max(len(header) + 4, 10), 40
            )
        if photos:
            for position in (len(table.headers) + 1, len(table.headers) + 2):
                sheet.column_dimensions[get_column_letter(position)].width = PHOTO_COLUMN_WIDTH
        header_cells = []
        for header in headers:
            # an assessment item's title, from a definition, heads a column: text, never a formula
            cell = _string_cell(sheet, str(header))
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        for number, row in enumerate(table.rows, start=2):
            if photos and row[0] in photos:
                _embed(sheet, number, len(table.headers) + 1, photos[row[0]])
            sheet.append([_xlsx_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _embed(sheet: Any, row: int, column: int, pair: tuple[bytes | None, bytes | None]) -> None:
    """A hazard's before and after thumbnails in its row, scaled to the row's height."""
    if not any(pair):
        return
    sheet.row_dimensions[row].height = PHOTO_ROW_POINTS
    for offset, data in enumerate(pair):
        if data is None:
            continue
        image = SheetImage(io.BytesIO(data))
        scale = PHOTO_PIXELS / max(image.width, image.height)
        image.width, image.height = round(image.width * scale), round(image.height * scale)
        sheet.add_image(image, f"{get_column_letter(column + offset)}{row}")


def _estimate(row: dict[str, Any]) -> str:
    # the word rather than 是/否: a printed ledger says which deadlines are estimates, and why
    if not row["deadline_estimated"]:
        return ""
    return f"预计 estimate：{row['deadline'].year}年节假日安排未录入，按周一至周五推算"


def _text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, str) and value.startswith("="):
        return _string_cell(sheet, value)
    return value  # a plain value is cheaper than a cell: most of a ledger's values are


def _string_cell(sheet: Any, value: str) -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    if value.startswith("="):  # openpyxl would store it as a formula
        cell.data_type = "s"
    return cell
