"""What every page blueprint shares: sign-in required, one transaction per engine call, refusals as
messages, and what the templates ask the engine (``can``: which moves a state allows; ``limits``:
what a form takes)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, current_app, flash, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth.identity import login_manager
from webapp.engine_messages import engine_message, target_words
from webapp.security import safe_next
from webapp.wiring import wiring_of
from workflow import limits
from workflow.calendar import WorkingCalendar, load_calendar
from workflow.clock import Clock
from workflow.errors import Conflict, InvalidInput, PingAnError
from workflow.machines import can
from workflow.worklists.search import marked


# the templates' view of the engine's rules: {% if can('task', task.state, 'complete') %}, {{
# limits.NOTE_LIMIT }}
def highlighted(value: str | None, terms: list[str]) -> Markup:
    """``value`` escaped, with the searched words of a work list in ``<mark>``."""
    return Markup("").join(
        Markup("<mark>%s</mark>") % part if found else escape(part)
        for part, found in marked(value, terms)
    )


TEMPLATE_GLOBALS = {
    "can": can,
    "limits": limits,
    "engine_message": engine_message,
    "target_words": target_words,
    "highlighted": highlighted,
}


def page_blueprint(name: str) -> Blueprint:
    """A blueprint whose every page needs a signed-in person (sign-in itself is the only
    exception)."""
    blueprint = Blueprint(name, __name__)
    # the same globals from every page blueprint: a template may be rendered by any of them
    blueprint.record_once(lambda state: state.app.jinja_env.globals.update(TEMPLATE_GLOBALS))

    @blueprint.before_request
    def signed_in_only() -> BaseResponse | None:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.person.must_change_password and name != "account":
            # a one-time password opens nothing but the page that replaces it
            return redirect(url_for("account.password"))
        return None

    return blueprint


@contextmanager
def transaction(readonly: bool = False) -> Iterator[Session]:
    with wiring_of(current_app).transaction(readonly=readonly) as session:
        yield session


def clock() -> Clock:
    return wiring_of(current_app).clock


def calendar(session: Session) -> WorkingCalendar:
    """The working calendar with the operator's overrides, shared by requests while the overrides
    stay the same.

    A WorkingCalendar memoises what it has looked up; a fresh one per request would walk
    China's official calendar again for every overdue item of every inbox.
    """
    return load_calendar(session, shared=True)


def base_url() -> str:
    """Where links in mails (and the API's ``link`` fields) point: the app's BASE_URL, set once by
    ``create_app`` from ``Settings.links_base_url``, never from the request's own address."""
    return current_app.config["BASE_URL"]


def refusal(error: PingAnError) -> str:
    """The engine's reason for a refused move, in the page's language (``engine_messages``)."""
    reason = engine_message(error.message)
    if isinstance(error, Conflict):
        return _("Not possible now: %(reason)s", reason=reason)
    if isinstance(error, InvalidInput):
        refused_as_invalid()
        return _("Please correct this: %(reason)s", reason=reason)
    return reason


def refused_as_invalid() -> None:
    """The refusal this request is about to send back is the form's own (what was entered), not
    the state of things: a queued send is answered 422 instead of 409 (``back_with``)."""
    g.refused_as_invalid = True


def back_with(
    message: str | None, next_path: str | None, default: str, category: str = "error"
) -> BaseResponse:
    """Redirect to the page the form came from (never off-site), with a message to show there.

    A post the phone's outbox sends (``X-Pingan-Queue: 1``, static/field.js) is answered in JSON
    instead, so every page form can wait on the phone with no change to its route: done is 200
    ``{"ok": true, "message", "url"}``; refused is 409 (the state of things) or 422 (what was
    entered) ``{"error": "refused", "message"}``, which the phone keeps and shows, never retries.
    """
    target = safe_next(next_path, default)
    if queued():
        if category == "error":
            status = 422 if g.get("refused_as_invalid") else 409
            answer = jsonify({"error": "refused", "message": message or ""})
            answer.status_code = status
            return answer
        if message:
            # the page the phone goes on to (when the person is still on the form) says it
            flash(message, category)
        return jsonify({"ok": True, "message": message or "", "url": target})
    if message:
        flash(message, category)
    return redirect(target)


def submitted_before(where: str) -> BaseResponse:
    """The answer to a form posted again with its one-time key (a double click, a reload): nothing
    was created this time; off to what the first post created (workflow/form_keys.py). A queued send
    retried after its answer was lost lands here: 200 ``{"ok": true, "already": true}``."""
    message = _("Submitted before: nothing was recorded twice.")
    if queued():
        return jsonify({"ok": True, "already": True, "message": message, "url": where})
    return back_with(message, None, where, "info")


def queued() -> bool:
    """Whether this post comes from the phone's outbox (static/field.js), which reads JSON."""
    return request.headers.get("X-Pingan-Queue") == "1"
