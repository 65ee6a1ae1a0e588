"""The campaign's report as a page its leading group reads at a glance and prints on A4, and as CSV
and XLSX files.

The page shows every section of ``workflow.views.report.CampaignReport``. Its charts
are drawn by ``static/report.js`` with Chart.js (``static/vendor``) from a JSON
block the page carries: the Content-Security-Policy runs no inline script. The
files are the API's (``api_reports.report_file``), here for a signed-in browser,
which has no API token.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from webapp.api.reports import report_file
from webapp.auth.identity import web_actor
from webapp.i18n import current_language
from webapp.pages import evidence_store
from webapp.pages.common import calendar, clock, page_blueprint, transaction
from workflow.access import load_campaign
from workflow.clock import local_date
from workflow.hazards.evidence import photos_by_stage
from workflow.limits import MAX_LEDGER_PHOTO_ROWS
from workflow.views.levels import sub_campaigns
from workflow.views.report import CampaignReport, build_report

blueprint = page_blueprint("reports")

# the page is read, not searched: the whole ledger (up to 20,000 rows) is in the CSV and the XLSX
LEDGER_ROWS_SHOWN = 300
# Escalation.colour as the definition names it; the chart draws these in the page's own colours
# (report.js)
ESCALATION_COLOURS = ("blue", "yellow", "red")


@blueprint.get("/campaigns/<int:campaign_id>/report")
def report_page(campaign_id: int) -> str:
    with transaction(readonly=True) as session:
        # NotFound outside the group
        report = build_report(session, campaign_id, by=web_actor(), clock=clock())
        # a county's report covers its towns, each with its villages summed in
        below = (
            sub_campaigns(
                session, campaign_id, by=web_actor(), clock=clock(), calendar=calendar(session)
            )
            if load_campaign(session, campaign_id).child_definition_id is not None
            else None
        )
        # the printed ledger's before and after: the rows shown, this campaign's own
        photos = photos_by_stage(
            session,
            [row["id"] for row in report.ledger[:LEDGER_ROWS_SHOWN]],
            campaign_id=campaign_id,
        )
    return render_template(
        "reports/report.html",
        report=report,
        photos=photos,
        below=below,
        charts=report_charts(report),
        ledger=report.ledger[:LEDGER_ROWS_SHOWN],
        unit_names={row["code"]: row["name"] for row in report.units},
    )


@blueprint.get("/campaigns/<int:campaign_id>/report.csv")
def report_csv_file(campaign_id: int) -> BaseResponse:
    table = request.args.get("table", "units")
    with transaction(readonly=True) as session:
        report = build_report(
            session, campaign_id, by=web_actor(), clock=clock(), with_ledger=table == "ledger"
        )
    return report_file(report, "csv", table)  # an unknown table: InvalidInput, the 422 page


@blueprint.get("/campaigns/<int:campaign_id>/report.xlsx")
def report_xlsx_file(campaign_id: int) -> BaseResponse:
    table = request.args.get("table", "report")  # results: 考核结果报送表
    with transaction(readonly=True) as session:
        report = build_report(
            session, campaign_id, by=web_actor(), clock=clock(), with_ledger=table != "results"
        )
        shown = [row["id"] for row in report.ledger[:MAX_LEDGER_PHOTO_ROWS]]
        photos = photos_by_stage(session, shown, campaign_id=campaign_id)
    # a hazard's first photo of each stage: what the printed ledger shows
    thumbnails = {
        rectification_id: tuple(
            evidence_store.read_thumbnail(stages[stage][0]) if stages[stage] else None
            for stage in ("before", "after")
        )
        for rectification_id, stages in photos.items()
    }
    return report_file(report, "xlsx", table, thumbnails)  # type: ignore[arg-type]


def report_charts(report: CampaignReport) -> dict[str, Any]:
    """What report.js draws, with the words of the page's language: plain lists, no markup."""
    rates = report.rectifications
    levels: dict[int, dict[str, Any]] = {}
    for row in report.escalations:
        level = levels.setdefault(row["level"], {"colour": row["colour"], "count": 0})
        level["count"] += row["count"]
    scored = report.assessment["units"] if report.assessment["state"] in ("open", "frozen") else []
    # the day the page is read, as the pages write dates (the current phase's bar runs to it)
    today = local_date(report.as_of, current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return {
        "language": "zh-CN" if current_language().startswith("zh") else "en",
        "phases": {
            "labels": [row["title"] for row in report.phases],
            "planned": [
                [_iso(row["planned_start"]), _iso(row["planned_last_day"])] for row in report.phases
            ],
            "actual": [
                [
                    _iso(row["started_on"]),
                    _iso(row["ended_on"] or (today if row["started_on"] else None)),
                ]
                for row in report.phases
            ],
            "words": {"planned": _("Planned"), "actual": _("Actual")},
        },
        "units": {
            "labels": [row["name"] for row in report.units],
            "completion": [row["completion"] for row in report.units],
            "rectification_rate": [row["rectification_rate"] for row in report.units],
            "on_time_rate": [row["on_time_rate"] for row in report.units],
            "words": {
                "completion": _("Tasks done, per cent"),
                "rectification_rate": _("Rectified, per cent"),
                "on_time_rate": _("Rectified on time, per cent"),
            },
        },
        "ageing": {
            "labels": list(rates["ageing"]),
            "counts": list(rates["ageing"].values()),
            "words": {"count": _("Open hazards"), "axis": _("Days since registered")},
        },
        "escalations": {
            "labels": [
                _("Reminder") if level == 0 else _("Level %(level)d", level=level)
                for level in sorted(levels)
            ],
            "counts": [levels[level]["count"] for level in sorted(levels)],
            "colours": [
                levels[level]["colour"] if levels[level]["colour"] in ESCALATION_COLOURS else "red"
                for level in sorted(levels)
            ],
            "words": {"count": _("Escalations")},
        },
        "scores": {
            "labels": [row["name"] for row in scored],
            "scores": [row["score"] for row in scored],
            "vetoed": [row["vetoed"] for row in scored],
            "max": report.assessment["max_points"],
            "words": {"score": _("Score"), "vetoed": _("Vetoed")},
        },
    }


def _iso(day: Any) -> str | None:
    return day.isoformat() if day is not None else None
