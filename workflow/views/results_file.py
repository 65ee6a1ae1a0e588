"""The assessment's results as the higher level takes them (考核结果报送表, XLSX): for
干部政绩评定 and the year-end 综治考评.

The tobacco text makes the result count twice outside the campaign: 考核结果
作为干部政绩评定的重要依据, and 纳入年终综治考评. Those assessments are run by
other offices, on their own forms, from a table each unit sends up: one sheet,
a title, who sends it and as of when, one row per unit (score, deductions,
veto, grade, rank, commendation or criticism, leadership accountability), and
the signature and seal lines. This is that table, in Chinese as the form is;
until the scoring phase is over it says it is provisional (评分未结束，仅供参考).
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from workflow.clock import local_date
from workflow.views.report import CampaignReport

COLUMNS = (
    "序号",
    "单位",
    "检查得分",
    "扣分",
    "总得分",
    "一票否决",
    "等次",
    "名次",
    "表彰/通报批评",
    "追究领导责任",
    "说明",
)
GRADES = {
    "commended": "优秀",
    "passed": "合格",
    "criticised": "不合格",
    "scoring": "评分中",
    "unscored": "未评分",
}
# a unit's score, grade and rank are final only once the scoring phase is over
FINAL = "frozen"


def results_xlsx(report: CampaignReport) -> bytes:
    """One sheet: the title, who sends it and as of when, a row per unit, the signature lines."""
    assessment = report.assessment
    book = Workbook()
    sheet = book.active
    sheet.title = "考核结果"
    title = f"{report.campaign['title']}考核结果报送表"
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    sheet["A1"].font = Font(bold=True, size=16)
    sheet["A1"].alignment = Alignment(horizontal="center")
    as_of = local_date(report.as_of, report.campaign["timezone"]).isoformat()
    provisional = "" if assessment["state"] == FINAL else "（评分未结束，仅供参考）"
    sheet.append(
        [
            f"报送单位：{report.campaign['unit']}　　考核截至：{as_of}　　"
            f"满分：{assessment['max_points']:g}{provisional}"
        ]
    )
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(COLUMNS))
    sheet.append(list(COLUMNS))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    commended = {row["code"] for row in report.commended}
    criticised = {row["code"]: row for row in report.criticised}
    for number, unit in enumerate(assessment["units"], start=1):
        sheet.append(_row(number, unit, commended, criticised))
        for cell in sheet[sheet.max_row]:
            # a unit's name or a reason from a definition is text, never a formula (report_files)
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    sheet.append([])
    sheet.append(["考核组（签字）："])
    sheet.append(["领导小组（盖章）：", "", "", "", "", "", "", "年　　月　　日"])
    widths = (6, 24, 10, 8, 10, 28, 8, 6, 14, 12, 40)
    for position, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + position)].width = width
    sheet.freeze_panes = "A4"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.print_title_rows = "3:3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- helpers ------------------------------------------------------------------------------------


def _row(
    number: int, unit: dict[str, Any], commended: set[str], criticised: dict[str, dict[str, Any]]
) -> list[Any]:
    listed = criticised.get(unit["code"])
    notes = "；".join(f"{d['what']} ×{d['times']} −{d['points']:g}" for d in unit["deductions"])
    return [
        number,
        unit["name"],
        unit["item_total"],
        unit["deducted"],
        unit["score"],
        "；".join(f"{m['title']}：{m['reason']}" for m in unit["vetoes"]) or "否",
        GRADES.get(unit["grade"], unit["grade"] or ""),
        unit["rank"] if unit["rank"] is not None else "",
        "通报批评" if listed else "表彰" if unit["code"] in commended else "",
        "是" if listed and listed["accountability"] else "",
        listed["reasons"] if listed else notes,
    ]
