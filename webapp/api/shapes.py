"""The JSON shapes the API answers with (DESIGN.md, HTTP API): one function per kind of thing, ISO
dates and times; below them the same shapes as OpenAPI schemas, with the request bodies of
``routes.py``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session, object_session

from webapp.pages.common import base_url
from webapp.wiring import wiring_of
from workflow.calendar import load_calendar
from workflow.durations import estimate_reason, estimated_year
from workflow.hazards import rectifications as hazards
from workflow.limits import LOCATION_LIMIT, MAX_WORKING_DAYS, NOTE_LIMIT, TEXT_LIMIT
from workflow.machines import EXTENSION_STATES, RECTIFICATION_STATES, TASK_STATES
from workflow.mail.texts import item_link
from workflow.models import DeadlineExtension, Escalation, Rectification, Task
from workflow.views.inbox import InboxItem


def rectification_json(rectification: Rectification) -> dict[str, Any]:
    site, unit, responsible = rectification.site, rectification.unit, rectification.responsible
    return {
        "id": rectification.id,
        "campaign_id": rectification.campaign_id,
        "state": rectification.state,
        "severity": rectification.severity,
        "description": rectification.description,
        "site": {"code": site.code, "name": site.name} if site else None,
        "unit": {"code": unit.code, "name": unit.name} if unit else None,
        "location": rectification.location,
        "responsible": {"email": responsible.email, "name": responsible.name},
        "temporary_measures": rectification.temporary_measures,
        "evidence": rectification.evidence,
        "deadline": _iso(rectification.deadline),
        "original_deadline": _iso(rectification.original_deadline),
        **estimate_fields(rectification, "deadline"),
        "extensions": rectification.extensions,
        "overdue": hazards.overdue(rectification, _clock().now()),
        "registered_at": _iso(rectification.registered_at),
        "submitted_at": _iso(rectification.submitted_at),
        "closed_at": _iso(rectification.closed_at),
        "link": f"{base_url()}/rectifications/{rectification.id}",
    }


def extension_json(session: Session, extension: DeadlineExtension) -> dict[str, Any]:
    moved = session.get(Rectification, extension.rectification_id)  # already loaded by the use case
    return {
        "id": extension.id,
        "rectification_id": extension.rectification_id,
        "state": extension.state,
        "reason": extension.reason,
        "requested_deadline": _iso(extension.requested_deadline),
        "requested_at": _iso(extension.requested_at),
        "decided_at": _iso(extension.decided_at),
        "decision_note": extension.decision_note,
        "rectification": rectification_json(moved) if moved is not None else None,
    }


def task_json(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "campaign_id": task.campaign_id,
        "phase": task.phase_key,
        "title": task.title,
        "state": task.state,
        "required": task.required,
        "unit": task.unit.code if task.unit else None,
        "assignee": {"email": task.assignee.email, "name": task.assignee.name},
        "due_on": _iso(task.due_on),
        **estimate_fields(task, "due"),
        "completed_at": _iso(task.completed_at),
        "note": task.note,
        "findings": task.findings,
    }


def inbox_item_json(item: InboxItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "id": item.id,
        "title": item.title,
        "title_en": item.title_en,
        "group": item.group,
        "campaign": {"id": item.campaign_id, "title": item.campaign_title},
        "phase": {
            "id": item.phase,
            "title": item.phase_title,
            "title_en": item.phase_title_en,
            "from_previous_phase": item.from_previous_phase,
        },
        "unit": item.unit,
        "site": item.site,
        "severity": item.severity,
        "due_on": _iso(item.due_on),
        # the flag only: the item's page and shape (task, rectification) say why
        "due_estimated": bool(getattr(item, "due_estimated", False)),
        "days_late": item.days_late,
        "working_days_late": item.working_days_late,
        "link": item_link(base_url(), item.kind, item.id),
    }


def escalation_json(escalation: Escalation) -> dict[str, Any]:
    return {
        "item_kind": escalation.item_kind,
        "item_id": escalation.item_id,
        "deadline_round": escalation.deadline_round,
        "level": escalation.level,
        "colour": escalation.colour,
        "deadline": _iso(escalation.deadline),
        "due_at": _iso(escalation.due_at),
        "reached_at": _iso(escalation.reached_at),
        "recipients": [address for address in escalation.recipients.split(",") if address],
    }


# --- the shapes as OpenAPI schemas (webapp/api/description.py) ----------------------------------

_TEXT = {"type": ["string", "null"]}
_DATE = {"type": ["string", "null"], "format": "date"}
_INSTANT = {"type": ["string", "null"], "format": "date-time"}
_NAMED = {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}
_NOTE = {"type": ["string", "null"], "maxLength": NOTE_LIMIT}
_GIVEN_NOTE = {"type": "string", "maxLength": NOTE_LIMIT}  # a note or reason that must be there
_LONG_TEXT = {"type": ["string", "null"], "maxLength": TEXT_LIMIT}
_WORKING_DAYS = {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_WORKING_DAYS}
ESTIMATED = {
    "type": "boolean",
    "description": "「预计」: counted in working days over a year whose official holiday schedule "
    "is not entered (Monday–Friday assumed); counted again when it is",
}
REASON = {
    "type": "string",
    "description": "only when estimated: why, Chinese first (e.g. 2027 年国务院节假日安排尚未录入，"
    "按周一至周五推算 / the State Council's 2027 schedule is not entered; counted Monday–Friday)",
}

BODIES: dict[str, dict[str, Any]] = {
    "Note": {"type": "object", "additionalProperties": False, "properties": {"note": _NOTE}},
    "CheckOff": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "note": _NOTE,
            "no_problems": {
                "type": "boolean",
                "description": "an inspection's findings when it found nothing; an inspection is "
                "checked off only with its findings: this, or the hazards registered from it "
                "(POST /campaigns/{campaign_id}/hazards with task_id)",
            },
        },
    },
    "Advance": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "from": {
                "type": ["string", "null"],
                "description": "the phase seen when asking: 409 if the campaign has left it since",
            }
        },
    },
    "Submission": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"note": _GIVEN_NOTE, "evidence": _LONG_TEXT},
        "required": ["note"],
    },
    "NewDeadline": {
        "type": "object",
        "additionalProperties": False,
        "required": ["reason"],
        "properties": {
            "reason": _GIVEN_NOTE,
            "deadline": _DATE,
            "deadline_working_days": _WORKING_DAYS,
        },
        "description": "give deadline or deadline_working_days",
    },
    "ExtensionRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["reason", "until"],
        "properties": {"reason": _GIVEN_NOTE, "until": {"type": "string", "format": "date"}},
    },
    "HazardReport": {
        "type": "object",
        "additionalProperties": False,
        "required": ["description"],
        "properties": {
            "description": {"type": "string", "maxLength": TEXT_LIMIT},
            "severity": {"enum": ["minor", "major"], "default": "minor"},
            "site": {"type": ["string", "null"], "description": "key site code"},
            "unit": {"type": ["string", "null"], "description": "unit code"},
            "location": {"type": ["string", "null"], "maxLength": LOCATION_LIMIT},
            "responsible": {
                "type": ["string", "null"],
                "format": "email",
                "description": "default: the site's, else the unit's responsible person",
            },
            "deadline": _DATE,
            "deadline_working_days": _WORKING_DAYS,
            "temporary_measures": _LONG_TEXT,
            "evidence": _LONG_TEXT,
            "task_id": {"type": ["integer", "null"]},
        },
        "description": (
            "deadline or deadline_working_days or neither (the severity's default), not both"
        ),
    },
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Me": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "name": {"type": "string"},
            "title": _TEXT,
            "unit": _NAMED,
            "roles": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Task": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "campaign_id": {"type": "integer"},
            "phase": {"type": "string"},
            "title": {"type": "string"},
            "state": {"enum": list(TASK_STATES)},
            "required": {"type": "boolean"},
            "unit": _TEXT,
            "assignee": {"$ref": "#/components/schemas/PersonRef"},
            "due_on": _DATE,
            "due_estimated": ESTIMATED,
            "estimate_reason": REASON,
            "completed_at": _INSTANT,
            "note": _TEXT,
            "findings": {
                "enum": ["none", "hazards", None],
                "description": "an inspection's findings once checked off: none (no problems) or "
                "hazards (those registered from it); null otherwise",
            },
        },
    },
    "Inbox": {
        "type": "object",
        "properties": {
            "counts": {
                "type": "object",
                "properties": {
                    "overdue": {"type": "integer"},
                    "soon": {"type": "integer", "description": "due within 3 working days"},
                    "later": {"type": "integer"},
                },
            },
            "count": {"type": "integer", "description": "items matching the filter"},
            "count_capped": {
                "type": "boolean",
                "description": "a search matched more: counted no further (counts are then of "
                "the first matches found), listed by due date",
            },
            "next_after": {
                "type": ["string", "null"],
                "description": "pass as `after` for the next page; null on the last",
            },
            "items": {
                "type": "array",
                "description": "this page: soonest due first (or as `sort` says); undated last",
                "items": {"$ref": "#/components/schemas/InboxItem"},
            },
        },
    },
    "InboxItem": {
        "type": "object",
        "properties": {
            "kind": {"enum": ["task", "rectification"]},
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "title_en": _TEXT,
            "group": {"enum": ["overdue", "soon", "later"]},
            "campaign": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "title": {"type": "string"}},
            },
            "phase": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "title_en": _TEXT,
                    "from_previous_phase": {"type": "boolean"},
                },
            },
            "unit": _TEXT,
            "site": _TEXT,
            "severity": {"enum": ["minor", "major", None]},
            "due_on": _DATE,
            "due_estimated": ESTIMATED,
            "days_late": {"type": "integer"},
            "working_days_late": {"type": "integer"},
            "link": {"type": "string", "format": "uri"},
        },
    },
    "PersonRef": {
        "type": "object",
        "properties": {"email": {"type": "string"}, "name": {"type": "string"}},
    },
    "CampaignStatus": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "state": {"type": "string"},
            "allowed_moves": {"type": "array", "items": {"type": "string"}},
            "blocking": {"type": "integer"},
            "phases": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "status": {"type": "string", "enum": ["done", "current", "pending"]},
                        "planned_start": {"type": ["string", "null"], "format": "date"},
                        "planned_last_day": {
                            "type": ["string", "null"],
                            "format": "date",
                            "description": "the last day on time (inclusive); late is after it",
                        },
                        "late": {"type": "boolean"},
                    },
                },
            },
            "overdue_count": {"type": "integer"},
            "overdue": {"type": "array", "items": {"type": "object"}},
        },
    },
    "PhaseMove": {
        "type": "object",
        "properties": {
            "campaign_id": {"type": "integer"},
            "from": {"type": "string"},
            "to": {"type": "string"},
            "tasks_created": {"type": "integer"},
        },
    },
    "Rectification": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "campaign_id": {"type": "integer"},
            "state": {"enum": list(RECTIFICATION_STATES)},
            "severity": {"enum": ["minor", "major"]},
            "description": {"type": "string"},
            "site": {"oneOf": [_NAMED, {"type": "null"}]},
            "unit": {"oneOf": [_NAMED, {"type": "null"}]},
            "location": _TEXT,
            "responsible": {"$ref": "#/components/schemas/PersonRef"},
            "temporary_measures": _TEXT,
            "evidence": _TEXT,
            "deadline": {"type": "string", "format": "date"},
            "original_deadline": {"type": "string", "format": "date"},
            "deadline_estimated": ESTIMATED,
            "estimate_reason": REASON,
            "extensions": {"type": "integer"},
            "overdue": {"type": "boolean"},
            "registered_at": _INSTANT,
            "submitted_at": _INSTANT,
            "closed_at": _INSTANT,
            "link": {"type": "string", "format": "uri"},
        },
    },
    "Extension": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "rectification_id": {"type": "integer"},
            "state": {"enum": list(EXTENSION_STATES)},
            "reason": {"type": "string"},
            "requested_deadline": {"type": "string", "format": "date"},
            "requested_at": _INSTANT,
            "decided_at": _INSTANT,
            "decision_note": _TEXT,
            "rectification": {"$ref": "#/components/schemas/Rectification"},
        },
    },
    "EscalationList": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "item_kind": {"enum": ["task", "rectification"]},
                "item_id": {"type": "integer"},
                "deadline_round": {"type": "integer"},
                "level": {"type": "integer", "description": "0: the reminder"},
                "colour": {"enum": ["blue", "yellow", "red"]},
                "deadline": {"type": "string", "format": "date"},
                "due_at": _INSTANT,
                "reached_at": _INSTANT,
                "recipients": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}


def estimate_fields(row: Any, prefix: str) -> dict[str, Any]:
    """``due_estimated``/``deadline_estimated`` (by ``prefix``) and, when true, ``estimate_reason``:
    the year without the official calendar the count ran over (workflow/durations.py)."""
    estimated = bool(getattr(row, f"{prefix}_estimated", False))
    fields: dict[str, Any] = {f"{prefix}_estimated": estimated}
    if estimated:
        day = getattr(row, "due_on" if prefix == "due" else prefix)
        basis = getattr(row, f"{prefix}_basis", None) or day
        session = object_session(row)
        calendar = load_calendar(session, shared=True) if session is not None else None
        year = estimated_year(basis, day, calendar) if calendar is not None else None
        fields["estimate_reason"] = (
            estimate_reason(year)
            if year is not None
            # the year is known by now, but the date had passed when it was entered: it stays
            else estimate_reason(max(basis, day).year, entered_since=calendar is not None)
        )
    return fields


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _clock():  # type: ignore[no-untyped-def]
    return wiring_of(current_app).clock
