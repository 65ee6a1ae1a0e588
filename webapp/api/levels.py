"""The JSON API of campaigns at every level (``levels_api``, under ``/api/v1``): the campaigns of
a campaign's sub-units rolled up, and a sub-unit's campaign started late.

Same contract as ``webapp/api/routes.py``, whose helpers it uses. Who reads the levels below and
who starts a late one is the engine's rule (``workflow/access.py``, ``workflow/campaigns``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from webapp.api.description import Operation, describe_schemas, described
from webapp.api.routes import (
    _body,
    _by,
    _calendar,
    _clock,
    _code,
    _transaction,
    authenticate,
    not_cached,
)
from workflow.campaigns.lifecycle import start_late_child
from workflow.errors import InvalidInput
from workflow.views.levels import LevelFigures, SubCampaign, sub_campaigns

levels_api = Blueprint("levels_api", __name__)
levels_api.before_request(authenticate)
levels_api.after_request(not_cached)


@levels_api.get("/campaigns/<int:campaign_id>/sub-campaigns")
@described(
    Operation(
        "The campaigns of the sub-units, each with its own sub-units' figures summed in, and the "
        "total: for the campaign's leading group and those above it",
        answer="SubCampaigns",
        errors=(401, 404),
    )
)
def below(campaign_id: int) -> Response:
    with _transaction(readonly=True) as session:
        rolled = sub_campaigns(
            session, campaign_id, by=_by(), clock=_clock(), calendar=_calendar(session)
        )
        return jsonify(
            {
                "campaign_id": rolled.campaign_id,
                "sub_campaigns": [_row(row) for row in rolled.rows],
                "total": _figures(rolled.total),
            }
        )


@levels_api.post("/campaigns/<int:campaign_id>/sub-campaigns")
@described(
    Operation(
        "Start the campaign of a sub-unit that joined after the cascade (a coordinator of the "
        "campaign); audited as a late start",
        answer="SubCampaignStarted",
        body="LateStart",
        body_required=True,
        status=201,
    )
)
def start_late(campaign_id: int) -> tuple[Response, int]:
    unit = _code(_body("unit"), "unit")
    if unit is None:
        raise InvalidInput("unit: the code of the sub-unit is required")
    with _transaction() as session:
        child = start_late_child(
            session, campaign_id, unit, by=_by(), clock=_clock(), calendar=_calendar(session)
        )
        return jsonify(
            {"id": child.id, "parent_id": campaign_id, "title": child.title, "state": child.state}
        ), 201


def _row(row: SubCampaign) -> dict[str, Any]:
    return {
        "campaign_id": row.campaign_id,
        "title": row.title,
        "unit": row.unit,
        "state": row.state,
        "open_in_phase": row.open_in_phase,
        **_figures(row.figures),
    }


def _figures(figures: LevelFigures) -> dict[str, Any]:
    counts = figures.counts
    return {
        "campaigns": figures.campaigns,
        "colour": figures.colour,
        "tasks": counts.tasks,
        "tasks_done": counts.tasks_done,
        "rectifications": counts.rectifications,
        "rectifications_closed": counts.rectifications_closed,
        "rectification_rate": figures.rectification_rate,
        "on_time_rate": figures.on_time_rate,
        "overdue_open": counts.rectifications_overdue_open,
        "overdue": figures.overdue,
        "due_soon": figures.due_soon,
        "escalations": {str(level): times for level, times in figures.escalations},
    }


# --- the schemas the routes' descriptions name (webapp/api/description.py) ----------------------

_RATE = {"type": ["number", "null"], "description": "per cent; null with nothing to count"}
_FIGURES = {
    "campaigns": {"type": "integer", "description": "campaigns counted: this one and all below"},
    "colour": {"enum": ["red", "amber", "green"]},
    "tasks": {"type": "integer"},
    "tasks_done": {"type": "integer"},
    "rectifications": {"type": "integer"},
    "rectifications_closed": {"type": "integer"},
    "rectification_rate": {**_RATE, "description": "整改率"},
    "on_time_rate": {**_RATE, "description": "按期整改率 (the original deadline)"},
    "overdue_open": {"type": "integer", "description": "逾期未整改数"},
    "overdue": {"type": "integer", "description": "open tasks and rectifications past due"},
    "due_soon": {"type": "integer", "description": "… due within 3 working days"},
    "escalations": {
        "type": "object",
        "additionalProperties": {"type": "integer"},
        "description": "level → times reached",
    },
}
SCHEMAS: dict[str, dict[str, Any]] = {
    "SubCampaigns": {
        "type": "object",
        "properties": {
            "campaign_id": {"type": "integer"},
            "sub_campaigns": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "campaign_id": {"type": "integer"},
                        "title": {"type": "string"},
                        "unit": {"type": "string"},
                        "state": {"type": "string"},
                        "open_in_phase": {
                            "type": "integer",
                            "description": "required items keeping it in its phase, its own "
                            "sub-units' included",
                        },
                        **_FIGURES,
                    },
                },
            },
            "total": {"type": "object", "properties": _FIGURES},
        },
    },
    "SubCampaignStarted": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "parent_id": {"type": "integer"},
            "title": {"type": "string"},
            "state": {"type": "string"},
        },
    },
    "LateStart": {
        "type": "object",
        "additionalProperties": False,
        "required": ["unit"],
        "properties": {"unit": {"type": "string", "description": "the sub-unit's code"}},
    },
}

describe_schemas(levels_api.name, SCHEMAS)
