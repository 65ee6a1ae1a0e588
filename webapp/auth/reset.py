"""``/reset?token=…``: choosing a new password from a single-use link an administrator sent
(``workflow/people/reset_links.py``). No sign-in needed: the link is the proof, for 24 hours, once.

The token travels in the query string of the link (the access log names the path only,
``webapp/logs.py``) and then in the form's hidden field, never in a path; the page is not cached
and sends no referrer off-site (``security.py``). A used, replaced or expired link gets one answer.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import HiddenField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from webapp.pages.account import problem_text
from webapp.pages.common import back_with
from webapp.pages.forms import first_error
from webapp.wiring import wiring_of
from workflow.limits import MIN_PASSWORD_LENGTH, PASSWORD_LIMIT
from workflow.people.passwords import PasswordRefused
from workflow.people.reset_links import (
    ResetLinkInvalid,
    reset_link_holder,
    reset_password_with_link,
)

blueprint = Blueprint("reset", __name__)


class ResetForm(FlaskForm):
    token = HiddenField()
    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=PASSWORD_LIMIT)],
    )
    again = PasswordField(_l("New password again"), validators=[DataRequired(), EqualTo("new")])


@blueprint.get("/reset")
def page() -> str | tuple[str, int]:
    token = request.args.get("token", "")
    return _form_page(ResetForm(token=token), None, 200)


@blueprint.post("/reset")
def choose() -> BaseResponse | tuple[str, int]:
    form = ResetForm()
    wiring = wiring_of(current_app)
    if not form.validate_on_submit():
        problem = (
            _("The two new passwords differ.")
            if form.again.errors
            else first_error(form) or _("The form expired: please try again.")
        )
        return _form_page(form, problem, 422)
    try:
        with wiring.transaction() as db:
            reset_password_with_link(
                db, form.token.data or "", form.new.data or "", now=wiring.clock.now()
            )
    except ResetLinkInvalid:
        return render_template("signin/reset.html", form=None, name=None), 410
    except PasswordRefused as refused:
        return _form_page(form, problem_text(refused.problem), 422)
    return back_with(
        _("Your new password is set. Sign in with it."), None, url_for("signin.login"), "success"
    )


# --- helpers ------------------------------------------------------------------------------------


def _form_page(form: ResetForm, problem: str | None, status: int) -> tuple[str, int]:
    """The form for the link's holder (what was typed cleared), or, for a link that no longer
    opens anything, the page saying so (410 unless the form itself was being answered)."""
    wiring = wiring_of(current_app)
    try:
        with wiring.transaction(readonly=True) as db:
            name = reset_link_holder(db, form.token.data or "", now=wiring.clock.now()).name
    except ResetLinkInvalid:
        return render_template("signin/reset.html", form=None, name=None), (
            410 if status == 200 else status
        )
    form.new.data = form.again.data = ""
    page = render_template(
        "signin/reset.html", form=form, name=name, problem=problem, min_length=MIN_PASSWORD_LENGTH
    )
    return page, status
