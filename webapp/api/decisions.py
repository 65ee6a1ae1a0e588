"""The JSON API of decisions on many items at once (``decisions_api``, under ``/api/v1``): verify,
send back or reassign a selection of tasks and rectifications, each item on its own.

Same contract as ``webapp/api/routes.py``, whose helpers it uses. The answer is 200 with each
item's outcome whenever the batch could be read, even when every item was refused: a refusal is an
item's outcome (``workflow/campaigns/bulk.py``), and the same for an item not the caller's and an
id that is no item, so the answer tells nobody which ids exist.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from webapp.api.description import Operation, describe_schemas, described
from webapp.api.routes import (
    _base_url,
    _body,
    _by,
    _calendar,
    _clock,
    _integer,
    _text,
    _transaction,
    authenticate,
    not_cached,
)
from workflow.campaigns.bulk import (
    DECIDED,
    DECISIONS,
    KINDS,
    MOVED,
    REFUSED,
    Outcome,
    Selected,
    decide_many,
)
from workflow.errors import InvalidInput
from workflow.limits import MAX_DATABASE_ID, MAX_DECIDED_AT_ONCE, MAX_WORKING_DAYS, NOTE_LIMIT
from workflow.machines import RECTIFICATION_MACHINE, TASK_MACHINE
from workflow.mail.texts import item_link

decisions_api = Blueprint("decisions_api", __name__)
decisions_api.before_request(authenticate)
decisions_api.after_request(not_cached)

# a state as the caller saw it: one of the machines' states; anything else is no state of ours
STATES = sorted(set(TASK_MACHINE.states) | set(RECTIFICATION_MACHINE.states))


@decisions_api.post("/decisions")
@described(
    Operation(
        "A coordinator verifies, sends back (one reason for all) or reassigns many tasks and "
        "rectifications at once, each on its own: the answer lists each item's outcome (decided; "
        "moved meanwhile, left unchanged; or refused, with the reason)",
        answer="DecisionOutcomes",
        body="Decisions",
        body_required=True,
        errors=(400, 401, 409, 422),
    )
)
def decide() -> Response:
    body = _body("items", "decision", "note", "to", "deadline_working_days")
    items = _items(body.get("items"))
    decision = body.get("decision")
    if not isinstance(decision, str):
        raise InvalidInput("decision must be verify, reject or reassign")
    to = _text(body, "to")
    with _transaction() as session:
        outcomes = decide_many(
            session,
            items,
            decision,
            by=_by(),
            clock=_clock(),
            calendar=_calendar(session),
            base_url=_base_url(),
            note=_text(body, "note"),
            to_email=to.replace("\x00", "") if to is not None else None,
            deadline_working_days=_integer(body, "deadline_working_days"),
        )
        return jsonify(
            {
                "outcomes": [outcome_json(outcome) for outcome in outcomes],
                **{
                    result: sum(outcome.result == result for outcome in outcomes)
                    for result in (DECIDED, MOVED, REFUSED)
                },
            }
        )


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """One item's outcome: what became of it, the state seen and its state now, and its page."""
    told = outcome.result != REFUSED  # a refused item's existence is not told
    return {
        "kind": outcome.kind,
        "id": outcome.id,
        "result": outcome.result,
        "seen": outcome.seen,
        "state": outcome.state,
        "title": outcome.title,
        "campaign_id": outcome.campaign_id,
        "reason": outcome.reason,
        "link": item_link(_base_url(), outcome.kind, outcome.id) if told else None,
    }


# --- helpers ------------------------------------------------------------------------------------


def _items(value: Any) -> list[Selected]:
    if not isinstance(value, list):
        raise InvalidInput("items must be a list of {kind, id, state}")
    if len(value) > MAX_DECIDED_AT_ONCE:
        raise InvalidInput(
            f"{len(value)} items selected: at most {MAX_DECIDED_AT_ONCE} are decided at once"
        )
    items = []
    for entry in value:
        if not isinstance(entry, dict) or set(entry) != {"kind", "id", "state"}:
            raise InvalidInput("each item must be {kind, id, state}")
        kind, item_id, state = entry["kind"], entry["id"], entry["state"]
        if kind not in KINDS:
            raise InvalidInput("an item's kind must be task or rectification")
        if isinstance(item_id, bool) or not isinstance(item_id, int):
            raise InvalidInput("an item's id must be a whole number")
        if not 1 <= item_id <= MAX_DATABASE_ID:
            raise InvalidInput("an item's id is out of range")
        if state not in STATES:
            raise InvalidInput(f"an item's state must be one of {', '.join(STATES)}")
        items.append(Selected(kind, item_id, state))
    return items


_NOTE = {"type": ["string", "null"], "maxLength": NOTE_LIMIT}

describe_schemas(
    decisions_api.name,
    {
        "Decisions": {
            "type": "object",
            "additionalProperties": False,
            "required": ["items", "decision"],
            "properties": {
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_DECIDED_AT_ONCE,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["kind", "id", "state"],
                        "properties": {
                            "kind": {"enum": list(KINDS)},
                            "id": {"type": "integer", "minimum": 1, "maximum": MAX_DATABASE_ID},
                            "state": {
                                "enum": STATES,
                                "description": "the state the item was seen in: an item in "
                                "another state now is reported as moved and left unchanged",
                            },
                        },
                    },
                },
                "decision": {"enum": list(DECISIONS)},
                "note": {
                    **_NOTE,
                    "description": "the note of a verification or reassignment; the one reason "
                    "of a rejection (required then), each item audited with it",
                },
                "to": {
                    "type": ["string", "null"],
                    "description": "reassign: the e-mail of the person who takes the items over",
                },
                "deadline_working_days": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "maximum": MAX_WORKING_DAYS,
                    "description": "reject: the new deadline of each rectification sent back",
                },
            },
        },
        "DecisionOutcomes": {
            "type": "object",
            "properties": {
                "outcomes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "kind": {"enum": list(KINDS)},
                            "id": {"type": "integer"},
                            "result": {"enum": [DECIDED, MOVED, REFUSED]},
                            "seen": {"type": "string"},
                            "state": {"type": ["string", "null"], "description": "its state now"},
                            "title": {"type": ["string", "null"]},
                            "campaign_id": {"type": ["integer", "null"]},
                            "reason": {"type": ["string", "null"], "description": "why refused"},
                            "link": {"type": ["string", "null"]},
                        },
                    },
                },
                DECIDED: {"type": "integer"},
                MOVED: {"type": "integer"},
                REFUSED: {"type": "integer"},
            },
        },
    },
)
