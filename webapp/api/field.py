"""The JSON API of key sites in the field (``field_api``, under ``/api/v1``): a site as its page
shows it, and a check-in there (巡查打卡) from another client — a mini-program, a patrol app.

Same contract as ``webapp/api/routes.py``, whose helpers it uses. Who may open a site and check in
is the engine's rule (``workflow/access.py``: ``may_visit_site``). A check-in sent with a ``key``
is recorded once however often it is sent (a client retrying after a lost answer gets 409
``already_submitted``, naming the visit the first send created).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from webapp.api.description import Operation, describe_schemas, described
from webapp.api.routes import _body, _by, _clock, _text, _transaction, authenticate, not_cached
from workflow.errors import InvalidInput
from workflow.field.checkins import Location, check_in, phone_time_from
from workflow.field.sites import site_page
from workflow.limits import FORM_KEY_LIMIT, NOTE_LIMIT

field_api = Blueprint("field_api", __name__)
field_api.before_request(authenticate)
field_api.after_request(not_cached)


@field_api.get("/sites/<int:site_id>")
@described(
    Operation(
        "A key site as its page shows it: its keeper, open rectifications, patrols and "
        "inspections by period with their visits, and the latest check-ins",
        answer="KeySite",
        errors=(401, 404),
    )
)
def key_site(site_id: int) -> Response:
    with _transaction(readonly=True) as session:
        page = site_page(session, site_id, by=_by(), now=_clock().now())
        return jsonify(
            {
                "id": page.site.id,
                "code": page.site.code,
                "name": page.site.name,
                "unit": page.unit,
                "responsible": page.responsible.name if page.responsible else None,
                "open_rectifications": [
                    {
                        "id": h.id,
                        "description": h.description,
                        "severity": h.severity,
                        "state": h.state,
                        "deadline": h.deadline.isoformat(),  # type: ignore[attr-defined]
                        "overdue": h.overdue,
                    }
                    for h in page.hazards
                ],
                "patrols": [
                    {
                        "task_id": o.task_id,
                        "title": o.title,
                        "period": o.period,
                        "due_on": o.due_on.isoformat() if o.due_on else None,
                        "state": o.state,
                        "visits": o.visits,
                        "standing": o.standing,
                    }
                    for o in page.occurrences
                ],
                "check_ins": [
                    {
                        "id": row.visit.id,
                        "at": row.visit.at.isoformat(),
                        "phone_at": row.visit.phone_at.isoformat() if row.visit.phone_at else None,
                        "by": row.person,
                        "note": row.visit.note,
                        "photos": len(row.photos),
                    }
                    for row in page.visits
                ],
            }
        )


@field_api.post("/sites/<int:site_id>/check-ins")
@described(
    Operation(
        "Check in at the key site (巡查打卡): the visit is recorded and the caller's open patrols "
        "and inspections of the site are checked off",
        answer="CheckIn",
        body="CheckInBody",
        status=201,
    )
)
def check_in_at(site_id: int) -> tuple[Response, int]:
    body = _body("note", "phone_time", "latitude", "longitude", "accuracy_m", "key")
    latitude, longitude, accuracy = (
        body.get(name) for name in ("latitude", "longitude", "accuracy_m")
    )
    if any(
        v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)))
        for v in (latitude, longitude, accuracy)
    ):
        raise InvalidInput("latitude, longitude and accuracy_m must be numbers")
    location = (
        Location(latitude, longitude, accuracy)
        if latitude is not None and longitude is not None
        else None
    )
    with _transaction() as session:
        done = check_in(
            session,
            site_id,
            by=_by(),
            clock=_clock(),
            note=_text(body, "note"),
            phone_at=phone_time_from(_text(body, "phone_time")),
            location=location,
            form_key=_text(body, "key"),
        )
        return jsonify(
            {
                "id": done.visit.id,
                "site_id": site_id,
                "at": done.visit.at.isoformat(),
                "phone_at": done.visit.phone_at.isoformat() if done.visit.phone_at else None,
                "fulfilled": [task.id for task in done.fulfilled],
            }
        ), 201


# --- the schemas the routes' descriptions name (webapp/api/description.py) ----------------------

_INSTANT = {"type": "string", "format": "date-time"}
SCHEMAS: dict[str, dict[str, Any]] = {
    "KeySite": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "code": {"type": "string"},
            "name": {"type": "string"},
            "unit": {"type": "string"},
            "responsible": {"type": ["string", "null"]},
            "open_rectifications": {"type": "array", "items": {"type": "object"}},
            "patrols": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "task_id": {"type": "integer"},
                        "period": {"type": "string"},
                        "visits": {"type": "integer"},
                        "standing": {"enum": ["visited", "missed", "waiting"]},
                    },
                },
            },
            "check_ins": {"type": "array", "items": {"type": "object"}},
        },
    },
    "CheckIn": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "site_id": {"type": "integer"},
            "at": _INSTANT,
            "phone_at": {**_INSTANT, "type": ["string", "null"]},
            "fulfilled": {"type": "array", "items": {"type": "integer"}},
        },
    },
    "CheckInBody": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "note": {"type": "string", "maxLength": NOTE_LIMIT},
            "phone_time": {
                "type": "string",
                "description": "the phone's clock when the check-in was made, ISO 8601 with zone",
            },
            "latitude": {"type": "number", "minimum": -90, "maximum": 90},
            "longitude": {"type": "number", "minimum": -180, "maximum": 180},
            "accuracy_m": {"type": "number", "minimum": 0, "maximum": 100000},
            "key": {
                "type": "string",
                "maxLength": FORM_KEY_LIMIT,
                "description": "a key of the client's: the same key is recorded once",
            },
        },
    },
}

describe_schemas(field_api.name, SCHEMAS)
