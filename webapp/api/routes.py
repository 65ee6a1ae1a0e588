"""The JSON API under ``/api/v1`` (DESIGN.md, HTTP API): parse, one engine call in one transaction,
JSON.

Authorisation lives in the engine; this module checks only the shape of what
arrives (types, dates, unknown fields), so a malformed request is answered
before the engine is called. A request uses one session: its token is looked
up in the transaction its engine call then runs in (``_request_session``).
Each route is described for the OpenAPI document right under its rule
(``@described``); the schemas it names are in ``shapes``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest

from webapp.api import shapes
from webapp.api.description import Operation, describe_schemas, described
from webapp.api.list_query import INBOX_QUERY, filter_parameters
from webapp.auth.identity import SAFE_METHODS, api_actor, token_holder
from webapp.pages.common import base_url as _base_url  # the links of pages, API and mails alike
from webapp.wiring import wiring_of
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar, load_calendar
from workflow.campaigns import tasks
from workflow.campaigns.lifecycle import advance_campaign
from workflow.clock import Clock
from workflow.errors import InvalidInput, NotFound
from workflow.hazards import rectifications as hazards
from workflow.limits import MAX_DATABASE_ID
from workflow.models import (
    Person,
    PersonRole,
    Rectification,
)
from workflow.views.escalation_log import escalation_page
from workflow.views.inbox import GROUPS, inbox_page
from workflow.views.progress import campaign_status
from workflow.worklists.filters import read_filter

blueprint = Blueprint("api", __name__)
log = logging.getLogger("pingan.web")

HAZARD_FIELDS = (
    "site",
    "unit",
    "location",
    "description",
    "severity",
    "responsible",
    "deadline",
    "deadline_working_days",
    "temporary_measures",
    "evidence",
    "task_id",
)
NEW_DEADLINE_FIELDS = ("reason", "deadline", "deadline_working_days")
DATE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}")
# an ISO date-time to the minute or second, its zone optional (Z or ±HH:MM)
INSTANT_FORMAT = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?"
)
describe_schemas(blueprint.name, {**shapes.SCHEMAS, **shapes.BODIES})


@blueprint.before_request
def authenticate() -> None:
    g.actor = api_actor(_request_session)


@blueprint.teardown_app_request
def end_request_session(_error: BaseException | None) -> None:
    """Roll back and close the request's session when no route took it over (a 401, a malformed
    body, a 404)."""
    opened = g.pop(_SESSION, None)
    if opened is None:
        return
    try:
        opened[0].close()  # nothing was written: closing rolls the transaction back
    except SQLAlchemyError as error:
        # the answer is made; a connection lost meanwhile is invalidated and the pool replaces it
        log.warning(
            "the request's database session did not close cleanly: %s", type(error).__name__
        )


@blueprint.after_request
def not_cached(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")  # answers depend on who asks
    return response


# --- who I am -----------------------------------------------------------------------------------


@blueprint.get("/me")
@described(Operation("Who I am, my roles", answer="Me", errors=(401,)))
def me() -> Response:
    with _transaction(readonly=True) as session:
        person = session.get(Person, _by().person_id)
        if person is None:
            raise NotFound("no such person")
        roles = sorted(
            session.scalars(select(PersonRole.role).where(PersonRole.person_id == person.id))
        )
        return jsonify(
            {
                "id": person.id,
                "email": person.email,
                "name": person.name,
                "title": person.title,
                "unit": {"code": person.unit.code, "name": person.unit.name},
                "roles": roles,
            }
        )


@blueprint.get("/inbox")
@described(
    Operation(
        "My open tasks and rectifications, soonest due first; filtered, searched and paged with "
        "the names the inbox page takes (counts: the whole filter by group; items: this page)",
        answer="Inbox",
        errors=(401, 422),
        query=INBOX_QUERY,
    )
)
def my_inbox() -> Response:
    work_filter = read_filter(request.args)
    with _transaction(readonly=True) as session:
        holder = token_holder()
        found = inbox_page(
            session,
            _by().person_id,  # type: ignore[arg-type]
            work_filter,
            after=request.args.get("after") or None,
            clock=_clock(),
            calendar=_calendar(session),
            stand_in_edges=holder.stand_ins if holder is not None else None,
        )
        return jsonify(
            {
                "counts": {group: found.counts.get(group, 0) for group in GROUPS},
                "count": found.count,
                "count_capped": found.count_capped,
                "next_after": found.next_after,
                "items": [shapes.inbox_item_json(item) for item in found.inbox.items()],
            }
        )


# --- tasks --------------------------------------------------------------------------------------


@blueprint.post("/tasks/<int:task_id>/complete")
@described(Operation("Check a task off", answer="Task", body="CheckOff"))
def complete_task(task_id: int) -> Response:
    body = _body("note", "no_problems")
    no_problems = _flag(body, "no_problems")
    with _transaction() as session:
        task = tasks.complete_task(
            session,
            task_id,
            by=_by(),
            clock=_clock(),
            note=_text(body, "note"),
            no_problems=no_problems,
        )
        return jsonify(shapes.task_json(task))


@blueprint.post("/tasks/<int:task_id>/reject")
@described(
    Operation("A coordinator sends a done task back (note required)", answer="Task", body="Note")
)
def reject_task(task_id: int) -> Response:
    body = _body("note")
    with _transaction() as session:
        task = tasks.reject_task(
            session,
            task_id,
            by=_by(),
            clock=_clock(),
            note=_text(body, "note"),
            base_url=_base_url(),
        )
        return jsonify(shapes.task_json(task))


# --- campaigns ----------------------------------------------------------------------------------


@blueprint.get("/campaigns/<int:campaign_id>")
@described(
    Operation(
        "Phase, allowed moves, progress, overdue items", answer="CampaignStatus", errors=(401, 404)
    )
)
def campaign(campaign_id: int) -> Response:
    with _transaction(readonly=True) as session:
        return jsonify(campaign_status(session, campaign_id, clock=_clock(), by=_by()).to_dict())


@blueprint.post("/campaigns/<int:campaign_id>/advance")
@described(
    Operation(
        "Next phase; 409 with the blocking items, or when it has left the phase given as from",
        answer="PhaseMove",
        body="Advance",
    )
)
def advance(campaign_id: int) -> Response:
    body = _body("from")
    with _transaction() as session:
        move = advance_campaign(
            session,
            campaign_id,
            by=_by(),
            clock=_clock(),
            calendar=_calendar(session),
            from_phase=_code(body, "from"),
        )
        return jsonify(
            {
                "campaign_id": move.campaign_id,
                "from": move.from_state,
                "to": move.to_state,
                "tasks_created": move.tasks_created,
            }
        )


@blueprint.get("/campaigns/<int:campaign_id>/escalations")
@described(
    Operation(
        "What was escalated to whom, when (newest first); a page, narrowed by kind and level "
        "(this level or higher): the next page's address is in the Link header (rel=next), the "
        "count for the filter in X-Total-Count",
        answer="EscalationList",
        errors=(401, 404, 422),
        query=filter_parameters("kind", "level"),
    )
)
def escalations(campaign_id: int) -> Response:
    work_filter = read_filter(request.args)
    with _transaction(readonly=True) as session:
        page = escalation_page(
            session,
            campaign_id,
            work_filter,
            after=request.args.get("after") or None,
            by=_by(),
        )
        answer = jsonify([shapes.escalation_json(row) for row in page.rows])
    answer.headers["X-Total-Count"] = str(page.count)
    if page.next_after:
        following = url_for(
            "api.escalations", campaign_id=campaign_id, **work_filter.query(), after=page.next_after
        )
        answer.headers["Link"] = f'<{following}>; rel="next"'
    return answer


@blueprint.post("/campaigns/<int:campaign_id>/hazards")
@described(
    Operation(
        "Register a hazard; returns its rectification",
        answer="Rectification",
        body="HazardReport",
        status=201,
        body_required=True,
    )
)
def register_hazard(campaign_id: int) -> tuple[Response, int]:
    body = _body(*HAZARD_FIELDS)
    report = hazards.HazardReport(
        description=_text(body, "description"),  # type: ignore[arg-type]  # the engine says when it is missing
        severity=_code(body, "severity") or "minor",
        unit=_code(body, "unit"),
        site=_code(body, "site"),
        location=_text(body, "location"),
        responsible=_code(body, "responsible"),
        deadline=_date(body, "deadline"),
        deadline_working_days=_integer(body, "deadline_working_days"),
        temporary_measures=_text(body, "temporary_measures"),
        evidence=_text(body, "evidence"),
        task_id=_integer(body, "task_id"),
    )
    with _transaction() as session:
        rectification = hazards.register_hazard(
            session,
            campaign_id,
            report,
            by=_by(),
            clock=_clock(),
            calendar=_calendar(session),
            base_url=_base_url(),
        )
        return jsonify(shapes.rectification_json(rectification)), 201


# --- rectifications -----------------------------------------------------------------------------


@blueprint.get("/rectifications/<int:rectification_id>")
@described(Operation("A rectification", answer="Rectification", errors=(401, 404)))
def rectification(rectification_id: int) -> Response:
    with _transaction(readonly=True) as session:
        return jsonify(
            shapes.rectification_json(hazards.get_rectification(session, rectification_id, _by()))
        )


@blueprint.post("/rectifications/<int:rectification_id>/submit")
@described(
    Operation("The responsible person reports it fixed", answer="Rectification", body="Submission")
)
def submit_rectification(rectification_id: int) -> Response:
    body = _body("note", "evidence")
    with _transaction() as session:
        moved = hazards.submit_rectification(
            session,
            rectification_id,
            by=_by(),
            clock=_clock(),
            note=_text(body, "note"),
            evidence=_text(body, "evidence"),
        )
        return jsonify(shapes.rectification_json(moved))


@blueprint.post("/rectifications/<int:rectification_id>/verify")
@described(
    Operation("A coordinator verifies and closes it (销号)", answer="Rectification", body="Note")
)
def verify_rectification(rectification_id: int) -> Response:
    body = _body("note")
    with _transaction() as session:
        moved = hazards.verify_rectification(
            session, rectification_id, by=_by(), clock=_clock(), note=_text(body, "note")
        )
        return jsonify(shapes.rectification_json(moved))


@blueprint.post("/rectifications/<int:rectification_id>/reject")
@described(
    Operation(
        "Not fixed: back to open with a new deadline",
        answer="Rectification",
        body="NewDeadline",
        body_required=True,
    )
)
def reject_rectification(rectification_id: int) -> Response:
    return _back_to_open(rectification_id, hazards.reject_rectification)


@blueprint.post("/rectifications/<int:rectification_id>/reopen")
@described(
    Operation(
        "A look-back finds it back: reopen",
        answer="Rectification",
        body="NewDeadline",
        body_required=True,
    )
)
def reopen_rectification(rectification_id: int) -> Response:
    return _back_to_open(rectification_id, hazards.reopen_rectification)


@blueprint.post("/rectifications/<int:rectification_id>/extensions")
@described(
    Operation(
        "The responsible person asks for more time",
        answer="Extension",
        body="ExtensionRequest",
        status=201,
        body_required=True,
    )
)
def request_extension(rectification_id: int) -> tuple[Response, int]:
    body = _body("reason", "until")
    with _transaction() as session:
        extension = hazards.request_extension(
            session,
            rectification_id,
            by=_by(),
            clock=_clock(),
            calendar=_calendar(session),
            reason=_text(body, "reason"),
            until=_date(body, "until"),
        )
        return jsonify(shapes.extension_json(session, extension)), 201


@blueprint.post("/extensions/<int:extension_id>/approve")
@described(Operation("A coordinator approves an extension", answer="Extension", body="Note"))
def approve_extension(extension_id: int) -> Response:
    return _decide(extension_id, approve=True)


@blueprint.post("/extensions/<int:extension_id>/refuse")
@described(Operation("A coordinator refuses an extension", answer="Extension", body="Note"))
def refuse_extension(extension_id: int) -> Response:
    return _decide(extension_id, approve=False)


def _back_to_open(rectification_id: int, move: Callable[..., Rectification]) -> Response:
    body = _body(*NEW_DEADLINE_FIELDS)
    with _transaction() as session:
        moved = move(
            session,
            rectification_id,
            by=_by(),
            clock=_clock(),
            calendar=_calendar(session),
            reason=_text(body, "reason"),
            deadline=_date(body, "deadline"),
            deadline_working_days=_integer(body, "deadline_working_days"),
            # sent back: the responsible person is told why by mail (a look-back's reopening: not)
            **({"base_url": _base_url()} if move is hazards.reject_rectification else {}),
        )
        return jsonify(shapes.rectification_json(moved))


def _decide(extension_id: int, *, approve: bool) -> Response:
    body = _body("note")
    with _transaction() as session:
        extension = hazards.decide_extension(
            session,
            extension_id,
            by=_by(),
            clock=_clock(),
            calendar=_calendar(session),
            approve=approve,
            note=_text(body, "note"),
        )
        return jsonify(shapes.extension_json(session, extension))


# --- JSON in ------------------------------------------------------------------------------------


def _body(*allowed: str) -> dict[str, Any]:
    """The request's JSON object (empty when there is no body); 400 when malformed, 422 naming
    unknown fields. A body of white space only is not JSON: refused like any other malformed one."""
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:  # UnicodeDecodeError is a ValueError too
        raise BadRequest("the request body is not valid JSON") from None
    except RecursionError:  # ~1,000 nested levels in 2 KB: the parser's stack, not a 500
        raise BadRequest("the request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        expected = ", ".join(allowed) or "none"
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)} (expected: {expected})")
    return body


def _text(body: dict[str, Any], field: str) -> str | None:
    """A text as sent: the engine measures it (workflow/limits.py, as the document's maxLength
    counts), then drops its NUL characters and trims it."""
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{field} must be text; got {_shown(value)}")
    return value


def _code(body: dict[str, Any], field: str) -> str | None:
    """A code or an e-mail to look up, NUL dropped as the engine drops it from texts: PostgreSQL
    cannot store it, and in a lookup it would fail with a database error instead of "no such
    site"."""
    value = _text(body, field)
    return value.replace("\x00", "") if value is not None else None


def _integer(body: dict[str, Any], field: str) -> int | None:
    value = body.get(field)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidInput(f"{field} must be a whole number; got {_shown(value)}")
    if value is not None and abs(value) > MAX_DATABASE_ID:
        # JSON numbers have no limit; compared with an id column, PostgreSQL refuses one past 2^31 -
        # 1 (a 500)
        raise InvalidInput(f"{field} is out of range; got {_shown(value)}")
    return value


def _flag(body: dict[str, Any], field: str) -> bool:
    """A true/false field, false when absent."""
    value = body.get(field, False)
    if not isinstance(value, bool):
        raise InvalidInput(f"{field} must be true or false; got {_shown(value)}")
    return value


def _date(body: dict[str, Any], field: str) -> date | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not DATE_FORMAT.fullmatch(value):
        raise InvalidInput(f"{field} must be a date written YYYY-MM-DD; got {_shown(value)}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} is not a calendar date: {value}") from None


def _instant(body: dict[str, Any], field: str) -> datetime | None:
    """A date-time written ISO 8601 (2026-06-04T10:30, with or without its zone: without, it is
    the campaign's clock)."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not INSTANT_FORMAT.fullmatch(value):
        raise InvalidInput(
            f"{field} must be a date-time written YYYY-MM-DDTHH:MM; got {_shown(value)}"
        )
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} is not a calendar date-time: {value}") from None


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


# --- the request's parts ------------------------------------------------------------------------


def _by() -> Actor:
    return g.actor


def _clock() -> Clock:
    return wiring_of(current_app).clock


def _calendar(session: Session) -> WorkingCalendar:
    holder = token_holder()
    # a token's look-up read the calendar's imports too: no second round trip for them
    imports = holder.calendar_imports if holder is not None else None
    return load_calendar(session, shared=True, imports=imports)


@contextmanager
def _transaction(readonly: bool = False) -> Iterator[Session]:
    """The route's one transaction: the one its token was looked up in (``_request_session``), if
    there was one."""
    wiring = wiring_of(current_app)
    session, began_readonly = g.pop(_SESSION, (None, readonly))
    if session is not None and began_readonly and not readonly:
        # begun deferred for a GET: on SQLite a write must not upgrade it (SQLITE_BUSY at once,
        # PITFALLS.md), so the token's look-up ends here and the write begins its own transaction,
        # as it always did
        session.close()
        session = None
    # an API read runs without BEGIN and COMMIT on PostgreSQL (Wiring.session): a GET only reads
    with wiring.transaction(readonly=readonly, session=session, autocommit=readonly) as session:
        yield session


# g's key of (the request's session, begun read-only)
_SESSION = "api_session"


def _request_session() -> Session:
    """The request's session, opened at its first use (the token's look-up); ``_transaction``
    carries it on.

    One session per request means one connection checked out (one pre-ping) and one BEGIN and COMMIT
    instead of two, with the token still looked up on every request. GET and HEAD begin it
    read-only, as their routes do.
    """
    opened = g.get(_SESSION)
    if opened is None:
        readonly = request.method in SAFE_METHODS
        opened = (
            wiring_of(current_app).session(readonly=readonly, autocommit=readonly),
            readonly,
        )
        setattr(g, _SESSION, opened)
    return opened[0]
