"""Who is asking: an API token (``Authorization: Bearer``) or the browser session (Flask-Login).

The API resolves the person on every request, so a revoked token or a
deactivated person is refused at once. The session id carries a fingerprint of
the password hash and of the person's session token (PITFALLS.md, the
"alternative tokens" pattern): changing a password, or signing out, ends every
session (and remember cookie) issued before, copies included.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from flask import Flask, current_app, g, request
from flask_login import LoginManager, UserMixin, current_user
from sqlalchemy.orm import Session
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import BadRequest, Forbidden, Unauthorized

from webapp.wiring import wiring_of
from workflow.audit import Actor
from workflow.clock import DEFAULT_TIMEZONE, local_date
from workflow.models import Person
from workflow.organisation.tokens import TokenHolder, holder_of_token

login_manager = LoginManager()

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignedInPerson(UserMixin):
    """A person signed in through the browser, as Flask-Login keeps them in the session."""

    def __init__(self, person: Person, secret_key: str) -> None:
        self.person = person
        self._session_id = f"{person.id}:{_fingerprint(person, secret_key)}"

    def get_id(self) -> str:
        return self._session_id

    @property
    def is_active(self) -> bool:
        return bool(self.person.active)


def init_login(app: Flask) -> None:
    """Flask-Login for this app; the session cookie flags are set in ``create_app``'s settings."""
    from flask_babel import lazy_gettext

    # SESSION_PROTECTION = "strong" (create_app's settings): a session cookie copied to another
    # browser is dropped instead of merely marked not fresh
    login_manager.init_app(app)
    login_manager.login_view = "signin.login"
    login_manager.login_message = lazy_gettext("Please sign in to see this page.")
    login_manager.login_message_category = "info"


def web_actor() -> Actor:
    """The signed-in person of a page request, as the engine's Actor (the pages require sign-in
    first)."""
    return Actor.person(current_user.person)


def end_all_sessions(person_id: int) -> None:
    """Rotate the person's session token: every session and remember cookie issued before stops
    working."""
    with wiring_of(current_app).transaction() as session:
        person = session.get(Person, person_id)
        if person is not None:
            person.session_token = secrets.token_hex(16)


@login_manager.user_loader
def load_signed_in_person(session_id: str) -> SignedInPerson | None:
    """The person of a session id, if still active and the password unchanged since sign-in."""
    person_id, _, fingerprint = session_id.partition(":")
    if not person_id.isdigit() or not fingerprint:
        return None
    with wiring_of(current_app).transaction(readonly=True) as session:
        person = session.get(Person, int(person_id))
    if person is None or not person.active:
        return None
    user = SignedInPerson(person, current_app.config["SECRET_KEY"])
    return user if hmac.compare_digest(user.get_id(), session_id) else None


def api_actor(request_session: Callable[[], Session]) -> Actor:
    """The person making this API request, as the engine's Actor; 401 when nobody is.

    A token is looked up on every request, in the session ``request_session()`` gives: the request's
    own, whose transaction the route's engine call then joins (one connection checked out, one BEGIN
    and COMMIT).
    """
    header = request.headers.get("Authorization", "").strip()
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("use the header Authorization: Bearer TOKEN")
        today = local_date(wiring_of(current_app).clock.now(), DEFAULT_TIMEZONE)
        holder = holder_of_token(request_session(), token.strip(), today)
        if holder is None:
            raise _unauthorized("the token is unknown or revoked")
        g.token_holder = holder  # what the route reads next came with it (token_holder())
        return holder.actor
    if current_user.is_authenticated:
        # A cross-site form can post text/plain with the session cookie (where SameSite does not
        # stop it); it cannot send application/json without a CORS preflight we never grant.
        if request.method not in SAFE_METHODS and not request.is_json:
            raise BadRequest("send the request body as application/json")
        if current_user.person.must_change_password:
            # a one-time password opens the change-password page only, in the API as on the pages
            raise Forbidden("change your one-time password first (/account/password)")
        return Actor.person(current_user.person)
    raise _unauthorized("sign in, or send the header Authorization: Bearer TOKEN")


def token_holder() -> TokenHolder | None:
    """The API request's token holder as :func:`api_actor` read them, with the calendar's imports
    and today's stand-ins; None for a request signed in by its session cookie."""
    return g.get("token_holder")


def _unauthorized(message: str) -> Unauthorized:
    return Unauthorized(message, www_authenticate=WWWAuthenticate("bearer", {"realm": "pingan"}))


def _fingerprint(person: Person, secret_key: str) -> str:
    material = f"{person.id}:{person.password_hash or ''}:{person.session_token or ''}".encode()
    return hmac.new(secret_key.encode(), material, hashlib.sha256).hexdigest()[:24]
