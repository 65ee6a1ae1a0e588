"""The JSON API of responsibility letters (责任书, ``letters_api``, under ``/api/v1``): a campaign's
letters, and the two moves, issue and sign.

Same contract as ``webapp/api/routes.py``, whose helpers it uses: the body is
checked here (the moves take none), one engine call runs in one transaction,
errors take the API's error shape. Who sees and moves a letter is the
engine's rule (``workflow/campaigns/letters.py``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from webapp.api.description import Operation, describe_schemas, described
from webapp.api.routes import _base_url, _body, _by, _clock, _transaction, authenticate, not_cached
from webapp.api.shapes import ESTIMATED, REASON, estimate_fields
from workflow.campaigns.letters import issue_letter, sign_letter
from workflow.machines import LETTER_STATES
from workflow.mail.texts import letter_link
from workflow.models import Letter
from workflow.views.letters import campaign_letters

letters_api = Blueprint("letters_api", __name__)
letters_api.before_request(authenticate)
letters_api.after_request(not_cached)


@letters_api.get("/campaigns/<int:campaign_id>/letters")
@described(
    Operation(
        "The campaign's responsibility letters: all of them for its leading group, their own "
        "(to sign or issue) for anyone else of it",
        answer="LetterList",
        errors=(401, 404),
    )
)
def letters(campaign_id: int) -> Response:
    with _transaction(readonly=True) as session:
        return jsonify([row.to_dict() for row in campaign_letters(session, campaign_id, by=_by())])


@letters_api.post("/letters/<int:letter_id>/issue")
@described(
    Operation(
        "Issue a drafted letter (甲方: a holder of its issuing role); its signer is mailed",
        answer="Letter",
    )
)
def issue(letter_id: int) -> Response:
    _body()  # no fields
    with _transaction() as session:
        moved = issue_letter(session, letter_id, by=_by(), clock=_clock(), base_url=_base_url())
        return jsonify(letter_json(moved))


@letters_api.post("/letters/<int:letter_id>/sign")
@described(Operation("Sign an issued letter (乙方: its signer only)", answer="Letter"))
def sign(letter_id: int) -> Response:
    _body()
    with _transaction() as session:
        return jsonify(letter_json(sign_letter(session, letter_id, by=_by(), clock=_clock())))


def letter_json(letter: Letter) -> dict[str, Any]:
    """A letter after a move: its state, both parties, when each acted, and its page."""
    unit, site = letter.unit, letter.site
    return {
        "id": letter.id,
        "campaign_id": letter.campaign_id,
        "title": letter.title,
        "state": letter.state,
        "unit": {"code": unit.code, "name": unit.name} if unit else None,
        "site": {"code": site.code, "name": site.name} if site else None,
        "issuer": {"email": letter.issuer.email, "name": letter.issuer.name},
        "signer": {"email": letter.signer.email, "name": letter.signer.name},
        "due_on": letter.due_on.isoformat() if letter.due_on else None,
        **estimate_fields(letter, "due"),
        "issued_at": letter.issued_at.isoformat() if letter.issued_at else None,
        "signed_at": letter.signed_at.isoformat() if letter.signed_at else None,
        "link": letter_link(_base_url(), letter.campaign_id, letter.id),
    }


# --- the schemas the routes' descriptions name (webapp/api/description.py) ----------------------

_PERSON = {
    "type": "object",
    "properties": {"email": {"type": "string"}, "name": {"type": "string"}},
}
_NAMED = {
    "oneOf": [
        {
            "type": "object",
            "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
        },
        {"type": "null"},
    ]
}
_DAY = {"type": ["string", "null"], "format": "date"}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Letter": {
        "type": "object",
        "description": "a responsibility letter (责任书): drafted → issued → signed",
        "properties": {
            "id": {"type": "integer"},
            "campaign_id": {"type": "integer"},
            "title": {"type": "string"},
            "state": {"enum": list(LETTER_STATES)},
            "unit": _NAMED,
            "site": _NAMED,
            "issuer": _PERSON,
            "signer": _PERSON,
            "due_on": _DAY,
            "due_estimated": ESTIMATED,
            "estimate_reason": REASON,
            "issued_at": {"type": ["string", "null"], "format": "date-time"},
            "signed_at": {"type": ["string", "null"], "format": "date-time"},
            "link": {"type": "string", "description": "the letter's page (prints on one A4 sheet)"},
        },
    },
    "LetterList": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "title": {"type": "string"},
                "state": {"enum": list(LETTER_STATES)},
                "unit": {"type": ["string", "null"]},
                "site": {"type": ["string", "null"]},
                "issuer": {"type": "string", "description": "甲方's name"},
                "signer": {"type": "string", "description": "乙方's name"},
                "signer_email": {"type": "string"},
                "due_on": _DAY,
                "issued_on": _DAY,
                "signed_on": _DAY,
                "required": {"type": "boolean"},
            },
        },
    },
}

describe_schemas(letters_api.name, SCHEMAS)
