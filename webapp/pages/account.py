"""The signed-in person's own account: changing their password.

A one-time password from an operator (``pingan person password``) opens this
page only: every other page sends the person here until they have chosen
their own (``page_blueprint`` checks ``must_change_password``). A change ends
every other session and revokes every API token of theirs; this browser is
signed in again with the new password, so the person carries on here.
"""

from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth.identity import SignedInPerson
from webapp.pages.common import back_with, clock, page_blueprint, transaction
from webapp.pages.forms import PasswordChangeForm, first_error
from workflow.limits import MIN_PASSWORD_LENGTH, PASSWORD_LIMIT
from workflow.people.passwords import PasswordProblem, PasswordRefused, change_password

blueprint = page_blueprint("account")


@blueprint.get("/account/password")
def password() -> str:
    return _page(PasswordChangeForm())


@blueprint.post("/account/password")
def change() -> BaseResponse | tuple[str, int]:
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _page(form, first_error(form)), 422
    try:
        with transaction() as session:
            person = change_password(
                session,
                current_user.person.id,
                form.current.data or "",
                form.new.data or "",
                now=clock().now(),
            )
            session.flush()
            session.expunge(person)
    except PasswordRefused as refused:
        return _page(form, problem_text(refused.problem)), 422
    # the change rotated the session token: this browser signs in again, every other one is out
    login_user(SignedInPerson(person, current_app.config["SECRET_KEY"]))  # type: ignore[arg-type]
    return back_with(
        _(
            "Your password is changed. You are signed out on every other device, and your API "
            "tokens no longer work."
        ),
        None,
        url_for("inbox.home"),
        "success",
    )


def problem_text(problem: PasswordProblem) -> str:
    texts = {
        PasswordProblem.WRONG_CURRENT: _("The current password is wrong."),
        PasswordProblem.TOO_SHORT: _(
            "A password has at least %(count)d characters.", count=MIN_PASSWORD_LENGTH
        ),
        PasswordProblem.TOO_LONG: _(
            "A password has at most %(count)d characters.", count=PASSWORD_LIMIT
        ),
        PasswordProblem.IS_EMAIL: _("The password must not be your e-mail address."),
        PasswordProblem.IS_PHONE: _("The password must not be your mobile number."),
        PasswordProblem.COMMON: _(
            "This password is one of the most commonly used ones: choose one nobody would guess."
        ),
        PasswordProblem.UNCHANGED: _("The new password must differ from the current one."),
    }
    return texts[problem]


def _page(form: PasswordChangeForm, problem: str | None = None) -> str:
    return render_template(
        "account/password.html",
        form=form,
        problem=problem,
        forced=bool(current_user.person.must_change_password),
        min_length=MIN_PASSWORD_LENGTH,
    )
