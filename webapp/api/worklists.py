"""The JSON API of work lists (``worklists_api``, under ``/api/v1``): the done list, the campaign
list and a campaign's register, filtered, searched and paged with the query names the pages use
(workflow/worklists/filters.py), so a page's address and the API's query say the same thing. The
inbox (``GET /inbox``, webapp/api/routes.py) takes the same names.

A list answers one page: ``items``, ``count`` (every page: the rows matching the filter) and
``next_after`` (the key of the next page, None on the last; pass it back as ``after``).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from webapp.api.description import Operation, describe_schemas, described
from webapp.api.list_query import filter_parameters
from webapp.api.routes import _by, _calendar, _clock, _transaction, authenticate, not_cached
from workflow.hazards.ledger import register_page
from workflow.views.inbox import done_page
from workflow.views.standing import campaign_list_page
from workflow.worklists.filters import WorkFilter, read_filter

worklists_api = Blueprint("worklists_api", __name__)
worklists_api.before_request(authenticate)
worklists_api.after_request(not_cached)


def list_filter() -> WorkFilter:
    """The filter of the request's query (InvalidInput: the API's 422)."""
    return read_filter(request.args)


@worklists_api.get("/done")
@described(
    Operation(
        "What I finished (tasks done or verified, hazards reported fixed or closed), newest first; "
        "filtered and paged",
        answer="DoneList",
        errors=(401, 422),
        query=filter_parameters("campaign", "kind", "state", "q", "sort"),
    )
)
def done() -> Response:
    work_filter = list_filter()
    with _transaction(readonly=True) as session:
        found = done_page(
            session,
            _by().person_id,  # type: ignore[arg-type]
            work_filter,
            after=request.args.get("after") or None,
            clock=_clock(),
            calendar=_calendar(session),
        )
        return jsonify(
            {
                "count": found.count,
                "count_capped": found.count_capped,
                "next_after": found.next_after,
                "items": [
                    {
                        "kind": item.kind,
                        "id": item.id,
                        "title": item.title,
                        "state": item.state,
                        "campaign": {"id": item.campaign_id, "title": item.campaign_title},
                        "finished_at": item.finished_at.isoformat() if item.finished_at else None,
                        "note": item.note,
                    }
                    for item in found.items
                ],
            }
        )


@worklists_api.get("/campaigns")
@described(
    Operation(
        "The campaigns I take part in or hold items in, newest first; narrowed by words of the "
        "title, running or closed, and the campaign's unit; paged",
        answer="CampaignList",
        errors=(401, 422),
        query=filter_parameters("q", "state", "unit"),
        operation_id="list_campaigns",
    )
)
def campaigns() -> Response:
    work_filter = list_filter()
    with _transaction(readonly=True) as session:
        summaries, count, next_after = campaign_list_page(
            session, _by(), work_filter, after=request.args.get("after") or None
        )
        return jsonify(
            {
                "count": count,
                "next_after": next_after,
                "items": [
                    {
                        "id": summary.id,
                        "title": summary.title,
                        "title_en": summary.title_en,
                        "state": summary.state,
                        "phase": summary.phase_title,
                        "unit": summary.unit,
                        "coordinator": summary.access.coordinator,
                        "leading_group": summary.access.leading_group,
                        "own_items_only": summary.access.own_items_only,
                    }
                    for summary in summaries
                ],
            }
        )


@worklists_api.get("/campaigns/<int:campaign_id>/hazards")
@described(
    Operation(
        "The campaign's hazard register (隐患台账), soonest deadline first; filtered, searched and "
        "paged; for its leading group",
        answer="Register",
        errors=(401, 404, 422),
        query=filter_parameters(
            "unit",
            "site",
            "severity",
            "state",
            "due",
            "within",
            "level",
            "responsible",
            "q",
            "sort",
        ),
    )
)
def register(campaign_id: int) -> Response:
    work_filter = list_filter()
    with _transaction(readonly=True) as session:
        page = register_page(
            session,
            campaign_id,
            work_filter,
            after=request.args.get("after") or None,
            by=_by(),
            clock=_clock(),
            calendar=_calendar(session),
        )
        return jsonify(
            {
                "count": page.count,
                "count_capped": page.count_capped,
                "next_after": page.next_after,
                "items": [
                    {
                        "id": entry.id,
                        "description": entry.description,
                        "severity": entry.severity,
                        "state": entry.state,
                        "unit": entry.unit,
                        "site": entry.site,
                        "location": entry.location,
                        "responsible": {
                            "name": entry.responsible,
                            "email": entry.responsible_email,
                        },
                        "deadline": entry.deadline.isoformat(),
                        "original_deadline": entry.original_deadline.isoformat(),
                        "deadline_estimated": entry.deadline_estimated,
                        "overdue": entry.overdue,
                        "working_days_overdue": entry.working_days_overdue,
                        "level": page.levels.get(entry.id),
                        "registered_at": entry.registered_at.isoformat(),
                    }
                    for entry in page.entries
                ],
            }
        )


# --- helpers ------------------------------------------------------------------------------------


_PAGE = {
    "count": {"type": "integer", "description": "rows matching the filter, on every page"},
    "count_capped": {
        "type": "boolean",
        "description": "a search matched more than `count` - 1 rows: counted no further, and "
        "listed by due date instead of relevance",
    },
    "next_after": {
        "type": ["string", "null"],
        "description": "pass as `after` for the next page; null on the last",
    },
}

describe_schemas(
    "worklists_api",
    {
        "DoneList": {
            "type": "object",
            "properties": {**_PAGE, "items": {"type": "array", "items": {"type": "object"}}},
        },
        "CampaignList": {
            "type": "object",
            "properties": {
                "count": _PAGE["count"],
                "next_after": _PAGE["next_after"],
                "items": {"type": "array", "items": {"type": "object"}},
            },
        },
        "Register": {
            "type": "object",
            "properties": {**_PAGE, "items": {"type": "array", "items": {"type": "object"}}},
        },
    },
)
