"""The JSON API of incidents, letters and visits, scores and the report (``reports_api``, under
``/api/v1``).

Same contract as ``webapp/api/routes.py``, whose helpers it uses: the shape of the
input is checked here, one engine call runs in one transaction, errors take
the API's error shape. Each route is described for the OpenAPI document right
under its rule, as there; the ``BODIES`` and ``SCHEMAS`` it names are at the end.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from webapp.api.description import Operation, describe_schemas, described
from webapp.api.routes import (
    _base_url,
    _body,
    _by,
    _calendar,
    _clock,
    _code,
    _date,
    _flag,
    _instant,
    _integer,
    _text,
    _transaction,
    authenticate,
    not_cached,
)
from webapp.api.shapes import ESTIMATED, REASON, estimate_fields
from workflow.assessment.incidents import IncidentReport, list_incidents, record_incident
from workflow.assessment.outside_reports import record_outside_report
from workflow.assessment.report_status import ReportStatus
from workflow.assessment.scores import ScoreSheet, assess, enter_scores
from workflow.clock import as_utc
from workflow.errors import InvalidInput
from workflow.limits import MAX_WORKING_DAYS, NOTE_LIMIT, TEXT_LIMIT
from workflow.machines import PETITION_STATES
from workflow.models import Incident, Petition
from workflow.petitions.handling import PetitionReport, process_petition, record_petition
from workflow.views.report import CampaignReport, build_report
from workflow.views.report_files import report_csv, report_xlsx
from workflow.views.results_file import results_xlsx

reports_api = Blueprint("reports_api", __name__)
reports_api.before_request(authenticate)
reports_api.after_request(not_cached)

FORMATS = {
    "json": None,
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
INCIDENT_FIELDS = ("kind", "unit", "occurred_on", "description", "site")
RESULTS = "results"  # with format=xlsx: 考核结果报送表
OUTSIDE_REPORT_FIELDS = ("body", "reported_at", "note")
PETITION_FIELDS = (
    "subject",
    "channel",
    "petitioner",
    "unit",
    "responsible",
    "received_on",
    "deadline",
    "deadline_working_days",
    "major",
)
REPORT_QUERY = (
    {"name": "format", "in": "query", "schema": {"enum": list(FORMATS), "default": "json"}},
    {
        "name": "table",
        "in": "query",
        "schema": {"type": "string", "default": "units"},
        "description": (
            "with format=csv: units, phases, ledger, rectifications, escalations, targets, "
            "assessment, commended, criticised, letters; with format=xlsx: results (the results "
            "as the higher-level assessment takes them), else the whole workbook"
        ),
    },
)
REPORT_DOWNLOADS = (
    ("text/csv", {"schema": {"type": "string"}}),
    (FORMATS["xlsx"], {"schema": {"type": "string", "format": "binary"}}),
)


@reports_api.get("/campaigns/<int:campaign_id>/report")
@described(
    Operation(
        "The campaign's report (JSON); ?format=csv (one table, default units; ?table=…) or "
        "?format=xlsx",
        answer="Report",
        errors=(401, 404, 422),
        query=REPORT_QUERY,
        downloads=REPORT_DOWNLOADS,
    )
)
def report(campaign_id: int) -> Response:
    chosen = request.args.get("format", "json")
    if chosen not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}; got {chosen!r}")
    table = request.args.get("table", "units")
    with _transaction(readonly=True) as session:
        built = build_report(
            session,
            campaign_id,
            by=_by(),
            clock=_clock(),
            with_ledger=chosen != "csv" or table == "ledger",
        )
    if chosen == "json":
        # not jsonify: its sorted keys and escaped Chinese cost a third more on a 14 MB report
        return Response(
            json.dumps(built.to_dict(), ensure_ascii=False, separators=(",", ":")),
            content_type="application/json",
        )
    return report_file(built, chosen, table)


def report_file(
    built: CampaignReport,
    chosen: str,
    table: str = "units",
    thumbnails: Mapping[int, tuple[bytes | None, bytes | None]] | None = None,
) -> Response:
    """The report as a download: one table as CSV, the workbook as XLSX, or (XLSX, table
    ``results``) the results as the higher-level assessment takes them; for the API and the report
    page."""
    campaign_id = built.campaign["id"]
    if chosen == "csv":
        content, name = report_csv(built, table), f"campaign-{campaign_id}-{table}.csv"
    elif table == RESULTS:  # the form sent up to the higher-level assessment
        content, name = results_xlsx(built), f"campaign-{campaign_id}-results.xlsx"
    else:
        content, name = report_xlsx(built, thumbnails), f"campaign-{campaign_id}-report.xlsx"
    return Response(
        content,
        content_type=FORMATS[chosen],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@reports_api.post("/campaigns/<int:campaign_id>/incidents")
@described(
    Operation(
        "Record an incident; its notify roles are mailed at once",
        answer="Incident",
        body="IncidentReport",
        body_required=True,
        status=201,
    )
)
def new_incident(campaign_id: int) -> tuple[Response, int]:
    body = _body(*INCIDENT_FIELDS)
    entry = IncidentReport(
        kind=_code(body, "kind") or "",
        unit=_code(body, "unit"),
        occurred_on=_date(body, "occurred_on"),
        description=_text(body, "description"),
        site=_code(body, "site"),
    )
    with _transaction() as session:
        incident = record_incident(
            session, campaign_id, entry, by=_by(), clock=_clock(), base_url=_base_url()
        )
        return jsonify(incident_json(incident)), 201


@reports_api.get("/campaigns/<int:campaign_id>/incidents")
@described(
    Operation(
        "The campaign's incidents, newest first (?kind, ?unit)",
        answer="IncidentList",
        errors=(401, 404, 422),
    )
)
def incidents(campaign_id: int) -> Response:
    with _transaction(readonly=True) as session:
        entries = list_incidents(
            session,
            campaign_id,
            by=_by(),
            kind=request.args.get("kind"),
            unit=request.args.get("unit"),
        )
        now = _clock().now()
        return jsonify(
            [
                {
                    **asdict(entry),
                    "occurred_on": entry.occurred_on.isoformat(),
                    "notified": list(entry.notified),
                    "reports": reports_json(entry.reports, now) if entry.reports else None,
                }
                for entry in entries
            ]
        )


@reports_api.post("/incidents/<int:incident_id>/reports")
@described(
    Operation(
        "Record that an incident was reported to an outside body its kind names (上报)",
        answer="OutsideReport",
        body="OutsideReportEntry",
        body_required=True,
        status=201,
    )
)
def new_outside_report(incident_id: int) -> tuple[Response, int]:
    body = _body(*OUTSIDE_REPORT_FIELDS)
    with _transaction() as session:
        report = record_outside_report(
            session,
            incident_id,
            _text(body, "body"),
            reported_at=_instant(body, "reported_at"),
            note=_text(body, "note"),
            by=_by(),
            clock=_clock(),
        )
        return jsonify(
            {
                "incident_id": report.incident_id,
                "body": report.body,
                "reported_at": as_utc(report.reported_at).isoformat(),
                "note": report.note,
            }
        ), 201


@reports_api.post("/campaigns/<int:campaign_id>/petitions")
@described(
    Operation(
        "Record a letter or visit (信访) with its deadline",
        answer="Petition",
        body="PetitionReport",
        body_required=True,
        status=201,
    )
)
def new_petition(campaign_id: int) -> tuple[Response, int]:
    body = _body(*PETITION_FIELDS)
    entry = PetitionReport(
        subject=_text(body, "subject"),
        channel=_code(body, "channel") or "letter",
        petitioner=_text(body, "petitioner"),
        unit=_code(body, "unit"),
        responsible=_code(body, "responsible"),
        received_on=_date(body, "received_on"),
        deadline=_date(body, "deadline"),
        deadline_working_days=_integer(body, "deadline_working_days"),
        major=_flag(body, "major"),
    )
    with _transaction() as session:
        petition = record_petition(
            session,
            campaign_id,
            entry,
            by=_by(),
            clock=_clock(),
            calendar=_calendar(session),
            base_url=_base_url(),
        )
        return jsonify(petition_json(petition)), 201


@reports_api.post("/petitions/<int:petition_id>/process")
@described(
    Operation(
        "Record how a letter or visit was processed (办结)",
        answer="Petition",
        body="Outcome",
        body_required=True,
    )
)
def process(petition_id: int) -> Response:
    body = _body("outcome")
    with _transaction() as session:
        return jsonify(
            petition_json(
                process_petition(
                    session, petition_id, by=_by(), clock=_clock(), outcome=_text(body, "outcome")
                )
            )
        )


@reports_api.put("/campaigns/<int:campaign_id>/scores/<unit_code>")
@described(
    Operation(
        "The inspecting group enters a unit's scores and findings (scoring phase only)",
        answer="UnitResult",
        body="ScoreSheet",
    )
)
def scores(campaign_id: int, unit_code: str) -> Response:
    body = _body("items", "vetoes", "criticisms")
    sheet = ScoreSheet(
        items=_object(body, "items"),
        vetoes=_object(body, "vetoes"),
        criticisms=_object(body, "criticisms"),
    )
    with _transaction() as session:
        result = enter_scores(session, campaign_id, unit_code, sheet, by=_by(), clock=_clock())
        return jsonify({**asdict(result), "vetoed": result.vetoed})


@reports_api.get("/campaigns/<int:campaign_id>/assessment")
@described(
    Operation(
        "Scores, deductions, vetoes, grades and ranks", answer="Assessment", errors=(401, 404)
    )
)
def assessment(campaign_id: int) -> Response:
    with _transaction(readonly=True) as session:
        return jsonify(assess(session, campaign_id, by=_by(), clock=_clock()).to_dict())


# --- JSON shapes --------------------------------------------------------------------------------


def incident_json(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "campaign_id": incident.campaign_id,
        "kind": incident.kind,
        "unit": {"code": incident.unit.code, "name": incident.unit.name},
        "occurred_on": incident.occurred_on.isoformat(),
        "description": incident.description,
        "recorded_at": incident.recorded_at.isoformat(),
        "site": incident.site.code if incident.site else None,
    }


def reports_json(status: ReportStatus, now: datetime) -> dict[str, Any]:
    """An incident's reports to outside bodies: its time limit and each body, told or not."""
    return {
        "due_at": as_utc(status.due_at).isoformat() if status.due_at else None,
        "overdue": status.overdue(now),
        "bodies": [
            {
                "body": body.body,
                "reported_at": as_utc(body.reported_at).isoformat() if body.reported_at else None,
                "reported_by": body.reported_by,
                "note": body.note,
                "late": body.late,
            }
            for body in status.bodies
        ],
    }


def petition_json(petition: Petition) -> dict[str, Any]:
    unit = petition.unit
    return {
        "id": petition.id,
        "campaign_id": petition.campaign_id,
        "channel": petition.channel,
        "petitioner": petition.petitioner,
        "subject": petition.subject,
        "state": petition.state,
        "unit": {"code": unit.code, "name": unit.name} if unit else None,
        "responsible": {"email": petition.responsible.email, "name": petition.responsible.name},
        "received_on": petition.received_on.isoformat(),
        "deadline": petition.deadline.isoformat(),
        **estimate_fields(petition, "deadline"),
        "processed_at": petition.processed_at.isoformat() if petition.processed_at else None,
        "outcome": petition.outcome,
        "major": petition.major,
    }


def _object(body: dict[str, Any], field: str) -> dict[str, Any]:
    value = body.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{field} must be an object of id → value")
    return value


# --- the schemas the routes' descriptions name (webapp/api/description.py) ----------------------

_DATE = {"type": ["string", "null"], "format": "date"}
_TEXT = {"type": ["string", "null"]}
_LONG_TEXT = {"type": "string", "maxLength": TEXT_LIMIT}
_REASON = {"type": ["string", "null"], "maxLength": NOTE_LIMIT}
_NAMED = {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}

BODIES: dict[str, dict[str, Any]] = {
    "IncidentReport": {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "unit", "occurred_on", "description"],
        "properties": {
            "kind": {"type": "string", "description": "an incident kind of the definition"},
            "unit": {"type": "string", "description": "unit code"},
            "occurred_on": {"type": "string", "format": "date"},
            "description": _LONG_TEXT,
            "site": {"type": ["string", "null"], "description": "key site code, if at one"},
        },
    },
    "PetitionReport": {
        "type": "object",
        "additionalProperties": False,
        "required": ["subject"],
        "properties": {
            "subject": {"type": "string", "maxLength": TEXT_LIMIT},
            "channel": {"enum": ["letter", "visit"], "default": "letter"},
            "petitioner": _TEXT,
            "unit": _TEXT,
            "responsible": {"type": ["string", "null"], "format": "email"},
            "received_on": _DATE,
            "deadline": _DATE,
            "deadline_working_days": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": MAX_WORKING_DAYS,
            },
            "major": {
                "type": "boolean",
                "default": False,
                "description": "重大信访: calls the definition's petitions.major_meeting",
            },
        },
        "description": "deadline or deadline_working_days or neither (60 days, 信访条例 art. 33)",
    },
    "Outcome": {
        "type": "object",
        "additionalProperties": False,
        "required": ["outcome"],
        "properties": {"outcome": {"type": "string", "maxLength": TEXT_LIMIT}},
    },
    "ScoreSheet": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "items": {
                "type": "object",
                "additionalProperties": {"type": ["number", "null"], "minimum": 0},
                "description": "score item id → points (0 to the item's points); null clears",
            },
            "vetoes": {
                "type": "object",
                "additionalProperties": _REASON,
                "description": (
                    "veto item id (one with neither incident nor target) → reason; null withdraws"
                ),
            },
            "criticisms": {
                "type": "object",
                "additionalProperties": _REASON,
                "description": "criticism rule id → reason; null withdraws",
            },
        },
    },
}

_MARKS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "rule": {"type": "string"},
            "title": {"type": "string"},
            "reason": {"type": "string"},
            "accountability": {"type": "boolean"},
        },
    },
}
SCHEMAS: dict[str, dict[str, Any]] = {
    "Report": {
        "type": "object",
        "description": "campaign, as_of, phases, units, rectifications (rates, ageing, "
        "days to close), ledger, escalations, targets, assessment, "
        "commended, criticised, inspections, letters (responsibility letters)",
    },
    "Incident": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "campaign_id": {"type": "integer"},
            "kind": {"type": "string"},
            "unit": _NAMED,
            "occurred_on": {"type": "string", "format": "date"},
            "description": {"type": "string"},
            "recorded_at": {"type": "string", "format": "date-time"},
        },
    },
    "IncidentList": {"type": "array", "items": {"type": "object"}},
    "OutsideReportEntry": {
        "type": "object",
        "additionalProperties": False,
        "required": ["body"],
        "properties": {
            "body": {"type": "string", "description": "a body of the kind's report_to, as written"},
            "reported_at": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "when it was told (default: now; no zone: the campaign's clock)",
            },
            "note": _TEXT,
        },
    },
    "OutsideReport": {
        "type": "object",
        "properties": {
            "incident_id": {"type": "integer"},
            "body": {"type": "string"},
            "reported_at": {"type": "string", "format": "date-time"},
            "note": _TEXT,
        },
    },
    "Petition": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "state": {"enum": list(PETITION_STATES)},
            "channel": {"enum": ["letter", "visit"]},
            "subject": {"type": "string"},
            "unit": {"oneOf": [_NAMED, {"type": "null"}]},
            "received_on": {"type": "string", "format": "date"},
            "deadline": {"type": "string", "format": "date"},
            "deadline_estimated": ESTIMATED,
            "estimate_reason": REASON,
            "processed_at": {"type": ["string", "null"], "format": "date-time"},
            "outcome": _TEXT,
            "major": {"type": "boolean"},
        },
    },
    "UnitResult": {
        "type": "object",
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "items": {"type": "object", "additionalProperties": {"type": ["number", "null"]}},
            "item_total": {"type": "number"},
            "deductions": {"type": "array", "items": {"type": "object"}},
            "deducted": {"type": "number"},
            "score": {"type": "number"},
            "vetoed": {"type": "boolean"},
            "vetoes": _MARKS,
            "criticisms": _MARKS,
            "grade": {"enum": ["commended", "passed", "criticised", None]},
            "kind": {
                "enum": ["unit", "site"],
                "description": "site: a key site (assessment.sites)",
            },
            "site_of": {"type": ["string", "null"], "description": "a key site's unit"},
            "rank": {"type": "integer"},
        },
    },
    "Assessment": {
        "type": "object",
        "properties": {
            "state": {"enum": ["none", "pending", "open", "frozen"]},
            "scoring_phase": _TEXT,
            "as_of": {"type": "string", "format": "date-time"},
            "max_points": {"type": "number"},
            "units": {"type": "array", "items": {"$ref": "#/components/schemas/UnitResult"}},
            "commended": {"type": "array", "items": {"type": "string"}},
            "criticised": {"type": "array", "items": {"type": "string"}},
        },
    },
}


describe_schemas(reports_api.name, {**SCHEMAS, **BODIES})
