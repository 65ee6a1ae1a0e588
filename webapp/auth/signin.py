"""Signing in and out, and the language switch: the only pages open to someone not signed in.

Timing reveals nothing about who exists: an unknown e-mail is checked against a
dummy hash that costs as much as a real one (PITFALLS.md). Each attempt is
counted in the database (throttle.py) before the password is even looked at, in
the same step that checks the limits, so parallel guesses cannot slip past them
and a locked account stays locked whatever is tried.
"""

from __future__ import annotations

from functools import lru_cache

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth import throttle
from webapp.auth.identity import SignedInPerson, end_all_sessions
from webapp.i18n import LANGUAGE_COOKIE, LANGUAGES
from webapp.pages.forms import ActionForm, LanguageForm, SignInForm, first_error
from webapp.security import safe_next
from webapp.wiring import wiring_of
from workflow.organisation.directory import person_for_sign_in

blueprint = Blueprint("signin", __name__)

LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | tuple[str, int] | str:
    form = SignInForm()
    if request.method != "POST":
        if current_user.is_authenticated:
            return redirect(safe_next(request.args.get("next")))
        form.next.data = request.args.get("next", "")
        return render_template("signin/login.html", form=form)
    if not form.validate_on_submit():
        return render_template("signin/login.html", form=form, problem=first_error(form)), 400

    identifier = (form.email.data or "").strip().lower()
    wiring = wiring_of(current_app)
    with wiring.transaction(readonly=True) as db:
        person = person_for_sign_in(db, identifier)
    # an account is throttled under its e-mail whether it is named by e-mail or by mobile number
    keys = throttle.keys_for(person.email if person else identifier, request.remote_addr)
    now = current_app.config["LOGIN_CLOCK"].now()
    try:
        # counted as a failure now, taken back below if the password is right
        with wiring.transaction() as db:
            throttle.count_attempt(db, keys, now)
    except throttle.Throttled as locked:  # rolled back: the refused attempt counts nowhere
        minutes = max(1, -(-int(locked.retry_after.total_seconds()) // 60))
        problem = _("Too many failed sign-ins. Try again in %(minutes)d minutes.", minutes=minutes)
        response = current_app.make_response(
            (render_template("signin/login.html", form=form, problem=problem), 429)
        )
        response.headers["Retry-After"] = str(int(locked.retry_after.total_seconds()) + 1)
        return response

    usable = person is not None and person.active and bool(person.password_hash)
    # check a dummy hash for unknown people: the same ~100 ms either way
    matches = check_password_hash(
        person.password_hash if usable else _dummy_hash(),  # type: ignore[union-attr]
        form.password.data or "",
    )
    if not (usable and matches):  # already counted
        return render_template(
            "signin/login.html", form=form, problem=_("Wrong e-mail, mobile number or password.")
        ), 401

    with wiring.transaction() as db:
        throttle.signed_in(db, keys)
    session.clear()  # nothing from before sign-in carries over
    login_user(
        SignedInPerson(person, current_app.config["SECRET_KEY"]), remember=bool(form.remember.data)
    )  # type: ignore[arg-type]
    if person.must_change_password:
        return redirect(url_for("account.password"))
    return redirect(safe_next(form.next.data or request.args.get("next")))


@blueprint.post("/logout")
def logout() -> BaseResponse:
    if ActionForm().validate_on_submit() and current_user.is_authenticated:
        # rotate the token: a copy of this session's cookie, anywhere, stops working too
        end_all_sessions(current_user.person.id)
        logout_user()
        flash(_("You are signed out."), "info")
    return redirect(url_for("signin.login"))


@blueprint.post("/language")
def language() -> BaseResponse:
    form = LanguageForm()
    target = safe_next(form.next.data)
    response = redirect(target)
    if form.validate_on_submit() and form.language.data in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            form.language.data,
            max_age=LANGUAGE_COOKIE_SECONDS,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash("not anybody's password")
