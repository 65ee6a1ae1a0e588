"""``GET /api/v1/openapi.json``: an OpenAPI 3.1 document built from the table of routes below and the path sets
the other API blueprints register (``webapp/api/description.py``).

A test checks that every ``/api/v1`` rule of the app is in the document, so the
document cannot fall behind the routes.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from webapp.api.description import Operation, PathSet, described, operation_spec
from workflow.hazards.rectifications import LOCATION_LIMIT, TEXT_LIMIT
from workflow.campaigns.tasks import NOTE_LIMIT

blueprint = Blueprint("openapi", __name__)

API_VERSION = "1"
# bodies without which the core routes cannot do anything (the others take an empty body)
REQUIRED_BODIES = frozenset({"HazardReport", "NewDeadline", "ExtensionRequest"})

ROUTES: tuple[Operation, ...] = (
    Operation("get", "/me", "Who I am, my roles", None, 200, "Me", (401,)),
    Operation("get", "/inbox", "My open tasks and rectifications, soonest due first", None, 200, "Inbox", (401,)),
    Operation("post", "/tasks/{task_id}/complete", "Check a task off", "Note", 200, "Task"),
    Operation("post", "/tasks/{task_id}/reject", "A coordinator sends a done task back (note required)", "Note",
              200, "Task"),
    Operation("get", "/campaigns/{campaign_id}", "Phase, allowed moves, progress, overdue items", None, 200,
              "CampaignStatus", (401, 404)),
    Operation("post", "/campaigns/{campaign_id}/advance", "Next phase; 409 with the blocking items", None, 200,
              "PhaseMove"),
    Operation("get", "/campaigns/{campaign_id}/escalations", "What was escalated to whom, when (newest first)",
              None, 200, "EscalationList", (401, 404)),
    Operation("post", "/campaigns/{campaign_id}/hazards", "Register a hazard; returns its rectification",
              "HazardReport", 201, "Rectification"),
    Operation("get", "/rectifications/{rectification_id}", "A rectification", None, 200, "Rectification",
              (401, 404)),
    Operation("post", "/rectifications/{rectification_id}/submit", "The responsible person reports it fixed",
              "Submission", 200, "Rectification"),
    Operation("post", "/rectifications/{rectification_id}/verify", "A coordinator verifies and closes it (销号)",
              "Note", 200, "Rectification"),
    Operation("post", "/rectifications/{rectification_id}/reject", "Not fixed: back to open with a new deadline",
              "NewDeadline", 200, "Rectification"),
    Operation("post", "/rectifications/{rectification_id}/reopen", "A look-back finds it back: reopen",
              "NewDeadline", 200, "Rectification"),
    Operation("post", "/rectifications/{rectification_id}/extensions", "The responsible person asks for more time",
              "ExtensionRequest", 201, "Extension"),
    Operation("post", "/extensions/{extension_id}/approve", "A coordinator approves an extension", "Note", 200,
              "Extension"),
    Operation("post", "/extensions/{extension_id}/refuse", "A coordinator refuses an extension", "Note", 200,
              "Extension"),
    Operation("get", "/openapi.json", "This document", None, 200, "OpenApiDocument", (), public=True),
)

_TEXT = {"type": ["string", "null"]}
_DATE = {"type": ["string", "null"], "format": "date"}
_INSTANT = {"type": ["string", "null"], "format": "date-time"}
_NAMED = {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}

_NOTE = {"type": ["string", "null"], "maxLength": NOTE_LIMIT}
_LONG_TEXT = {"type": ["string", "null"], "maxLength": TEXT_LIMIT}

BODIES: dict[str, dict[str, Any]] = {
    "Note": {"type": "object", "additionalProperties": False, "properties": {"note": _NOTE}},
    "Submission": {"type": "object", "additionalProperties": False,
                   "properties": {"note": {"type": "string", "maxLength": TEXT_LIMIT}, "evidence": _LONG_TEXT},
                   "required": ["note"]},
    "NewDeadline": {"type": "object", "additionalProperties": False, "required": ["reason"],
                    "properties": {"reason": {"type": "string"}, "deadline": _DATE,
                                   "deadline_working_days": {"type": ["integer", "null"], "minimum": 1}},
                    "description": "give deadline or deadline_working_days"},
    "ExtensionRequest": {"type": "object", "additionalProperties": False, "required": ["reason", "until"],
                         "properties": {"reason": {"type": "string"}, "until": {"type": "string", "format": "date"}}},
    "HazardReport": {
        "type": "object", "additionalProperties": False, "required": ["description"],
        "properties": {
            "description": {"type": "string", "maxLength": TEXT_LIMIT},
            "severity": {"enum": ["minor", "major"], "default": "minor"},
            "site": {"type": ["string", "null"], "description": "key site code"},
            "unit": {"type": ["string", "null"], "description": "unit code"},
            "location": {"type": ["string", "null"], "maxLength": LOCATION_LIMIT},
            "responsible": {"type": ["string", "null"], "format": "email",
                            "description": "default: the site's, else the unit's responsible person"},
            "deadline": _DATE,
            "deadline_working_days": {"type": ["integer", "null"], "minimum": 1},
            "temporary_measures": _LONG_TEXT,
            "evidence": _LONG_TEXT,
            "task_id": {"type": ["integer", "null"]},
        },
        "description": "deadline or deadline_working_days or neither (the severity's default), not both",
    },
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {"type": "object", "required": ["error", "message"],
              "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                             "blockers": {"type": "array", "items": {"$ref": "#/components/schemas/Blocker"}}}},
    "Blocker": {"type": "object", "properties": {
        "kind": {"enum": ["task", "rectification"]}, "id": {"type": "integer"}, "title": {"type": "string"},
        "unit": _TEXT, "assignee": _TEXT, "state": {"type": "string"}}},
    "Me": {"type": "object", "properties": {
        "id": {"type": "integer"}, "email": {"type": "string"}, "name": {"type": "string"}, "title": _TEXT,
        "unit": _NAMED, "roles": {"type": "array", "items": {"type": "string"}}}},
    "Task": {"type": "object", "properties": {
        "id": {"type": "integer"}, "campaign_id": {"type": "integer"}, "phase": {"type": "string"},
        "title": {"type": "string"}, "state": {"enum": ["open", "done", "verified", "cancelled"]},
        "required": {"type": "boolean"}, "unit": _TEXT, "assignee": {"$ref": "#/components/schemas/PersonRef"},
        "due_on": _DATE, "completed_at": _INSTANT, "note": _TEXT}},
    "Inbox": {"type": "object", "properties": {
        "counts": {"type": "object", "properties": {
            "overdue": {"type": "integer"}, "soon": {"type": "integer", "description": "due within 3 working days"},
            "later": {"type": "integer"}}},
        "items": {"type": "array", "description": "soonest due first; undated items last",
                  "items": {"$ref": "#/components/schemas/InboxItem"}}}},
    "InboxItem": {"type": "object", "properties": {
        "kind": {"enum": ["task", "rectification"]}, "id": {"type": "integer"}, "title": {"type": "string"},
        "title_en": _TEXT, "group": {"enum": ["overdue", "soon", "later"]},
        "campaign": {"type": "object", "properties": {"id": {"type": "integer"}, "title": {"type": "string"}}},
        "phase": {"type": "object", "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "title_en": _TEXT,
            "from_previous_phase": {"type": "boolean"}}},
        "unit": _TEXT, "site": _TEXT, "severity": {"enum": ["minor", "major", None]}, "due_on": _DATE,
        "days_late": {"type": "integer"}, "working_days_late": {"type": "integer"},
        "link": {"type": "string", "format": "uri"}}},
    "PersonRef": {"type": "object", "properties": {"email": {"type": "string"}, "name": {"type": "string"}}},
    "CampaignStatus": {"type": "object", "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"}, "state": {"type": "string"},
        "allowed_moves": {"type": "array", "items": {"type": "string"}}, "blocking": {"type": "integer"},
        "phases": {"type": "array", "items": {"type": "object"}}, "overdue_count": {"type": "integer"},
        "overdue": {"type": "array", "items": {"type": "object"}}}},
    "PhaseMove": {"type": "object", "properties": {
        "campaign_id": {"type": "integer"}, "from": {"type": "string"}, "to": {"type": "string"},
        "tasks_created": {"type": "integer"}}},
    "Rectification": {"type": "object", "properties": {
        "id": {"type": "integer"}, "campaign_id": {"type": "integer"},
        "state": {"enum": ["open", "submitted", "closed"]}, "severity": {"enum": ["minor", "major"]},
        "description": {"type": "string"}, "site": {"oneOf": [_NAMED, {"type": "null"}]},
        "unit": {"oneOf": [_NAMED, {"type": "null"}]}, "location": _TEXT,
        "responsible": {"$ref": "#/components/schemas/PersonRef"}, "temporary_measures": _TEXT, "evidence": _TEXT,
        "deadline": {"type": "string", "format": "date"}, "original_deadline": {"type": "string", "format": "date"},
        "extensions": {"type": "integer"}, "overdue": {"type": "boolean"}, "registered_at": _INSTANT,
        "submitted_at": _INSTANT, "closed_at": _INSTANT, "link": {"type": "string", "format": "uri"}}},
    "Extension": {"type": "object", "properties": {
        "id": {"type": "integer"}, "rectification_id": {"type": "integer"},
        "state": {"enum": ["requested", "approved", "refused"]}, "reason": {"type": "string"},
        "requested_deadline": {"type": "string", "format": "date"}, "requested_at": _INSTANT,
        "decided_at": _INSTANT, "decision_note": _TEXT,
        "rectification": {"$ref": "#/components/schemas/Rectification"}}},
    "EscalationList": {"type": "array", "items": {"type": "object", "properties": {
        "item_kind": {"enum": ["task", "rectification"]}, "item_id": {"type": "integer"},
        "deadline_round": {"type": "integer"}, "level": {"type": "integer", "description": "0: the reminder"},
        "colour": {"enum": ["blue", "yellow", "red"]}, "deadline": {"type": "string", "format": "date"},
        "due_at": _INSTANT, "reached_at": _INSTANT, "recipients": {"type": "array", "items": {"type": "string"}}}}},
    "OpenApiDocument": {"type": "object"},
}

ERRORS = {
    400: "Malformed JSON, or not a JSON object",
    401: "No valid token and no session",
    403: "Not allowed for you",
    404: "No such item (or not yours to see)",
    405: "Method not allowed",
    409: "The move is not allowed now (TransitionRefused lists the blockers)",
    422: "Invalid input (unknown fields, wrong types, bad dates)",
}


@blueprint.get("/openapi.json")
def document() -> Response:
    return jsonify(openapi_document(current_app.config.get("BASE_URL", ""), current_app.blueprints))


def openapi_document(base_url: str = "", blueprints: Iterable[str] = ()) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API: the core routes and the path sets of the ``blueprints`` named."""
    paths: dict[str, dict[str, Any]] = {}
    for operation in ROUTES:
        paths.setdefault(operation.path, {})[operation.method] = operation_spec(
            operation, body_required=operation.body in REQUIRED_BODIES)
    schemas = {**SCHEMAS, **BODIES}
    for path_set in described(blueprints):
        _merge(paths, schemas, path_set)
    return {
        "openapi": "3.1.0",
        "info": {"title": "pingan API", "version": API_VERSION,
                 "description": "Phased public-safety campaigns: tasks, hazards and their rectification, escalation, "
                                "incidents, letters and visits, scores and the report."},
        "servers": [{"url": f"{base_url.rstrip('/')}/api/v1"}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "a token from `pingan token EMAIL`"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": schemas,
            "responses": {str(status): _error_response(text) for status, text in ERRORS.items()},
        },
    }


def _merge(paths: dict[str, dict[str, Any]], schemas: dict[str, dict[str, Any]], path_set: PathSet) -> None:
    # two blueprints describing the same route or schema name is a mistake of ours: fail loudly, never overwrite
    for path, operations in path_set.paths.items():
        taken = paths.setdefault(path, {})
        clash = set(taken) & set(operations)
        if clash:
            raise ValueError(f"OpenAPI: {sorted(clash)} {path} is described twice")
        taken.update(operations)
    clash = set(schemas) & set(path_set.schemas)
    if clash:
        raise ValueError(f"OpenAPI: schemas {sorted(clash)} are described twice")
    schemas.update(path_set.schemas)


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
