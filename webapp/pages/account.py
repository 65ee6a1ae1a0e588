"""The signed-in person's own account: changing their password; stand-ins while away (代理).

A one-time password from an operator (``pingan person password``) opens this
page only: every other page sends the person here until they have chosen
their own (``page_blueprint`` checks ``must_change_password``). A change ends
every other session and revokes every API token of theirs; this browser is
signed in again with the new password, so the person carries on here.

Stand-ins while away: one's own at ``/account/stand-ins``, and an administrator's naming of one for
a person of their units at ``/admin/people/<id>/stand-ins``. Each post calls one engine function of
``workflow/people/stand_ins.py``, which holds the rules (who may name one, who may stand in), and
answers with a redirect (PITFALLS.md, Forms); a refused form shows the page again with the reason,
the values entered kept.
"""

from __future__ import annotations

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth.identity import SignedInPerson, web_actor
from webapp.pages.common import back_with, clock, page_blueprint, refusal, transaction
from webapp.pages.forms import ActionForm, PasswordChangeForm, StandInForm, first_error
from workflow.access import administered_unit_ids, require_administrator
from workflow.clock import DEFAULT_TIMEZONE, local_date
from workflow.errors import Conflict, NotFound, PingAnError
from workflow.limits import MIN_PASSWORD_LENGTH, PASSWORD_LIMIT
from workflow.models import Person
from workflow.people.passwords import PasswordProblem, PasswordRefused, change_password
from workflow.people.stand_ins import (
    candidates,
    end_stand_in,
    name_stand_in,
    stand_ins_of,
    standing_in_for,
)

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


# stand-ins while away (代理): a blueprint of their own, so a one-time password (which opens the
# "account" blueprint only) does not open them
stand_ins = page_blueprint("stand_ins")


@stand_ins.get("/account/stand-ins")
def own_stand_ins() -> str:
    return _stand_ins_page(web_actor().person_id, StandInForm())  # type: ignore[arg-type]


@stand_ins.post("/account/stand-ins")
def name_own() -> BaseResponse | tuple[str, int]:
    return _name_stand_in(web_actor().person_id, admin=False)  # type: ignore[arg-type]


@stand_ins.get("/admin/people/<int:person_id>/stand-ins")
def for_person(person_id: int) -> str:
    _require_administrator_of(person_id)
    return _stand_ins_page(person_id, StandInForm(), admin=True)


@stand_ins.post("/admin/people/<int:person_id>/stand-ins")
def name_for_person(person_id: int) -> BaseResponse | tuple[str, int]:
    _require_administrator_of(person_id)
    return _name_stand_in(person_id, admin=True)


@stand_ins.post("/stand-ins/<int:stand_in_id>/end")
def end_stand_in_page(stand_in_id: int) -> BaseResponse:
    """End a stand-in early: whoever may name the person's stand-in (the engine says who)."""
    back = ActionForm().next.data  # the page to go back to (never off-site: back_with)
    try:
        with transaction() as db:
            end_stand_in(db, stand_in_id, by=web_actor(), clock=clock())
    except Conflict as refused:  # ended already (a second click): said where it came from
        return back_with(refusal(refused), back, url_for("stand_ins.own_stand_ins"))
    return back_with(
        _("The stand-in is ended."), back, url_for("stand_ins.own_stand_ins"), "success"
    )


def _page(form: PasswordChangeForm, problem: str | None = None) -> str:
    return render_template(
        "account/password.html",
        form=form,
        problem=problem,
        forced=bool(current_user.person.must_change_password),
        min_length=MIN_PASSWORD_LENGTH,
    )


def _require_administrator_of(person_id: int) -> None:
    by = web_actor()
    with transaction(readonly=True) as db:
        require_administrator(db, by)  # before the look-up: a non-administrator learns no ids
        person = db.get(Person, person_id)
        if person is None:
            raise NotFound(f"no person {person_id}")
        require_administrator(db, by, person.unit_id)


def _name_stand_in(person_id: int, *, admin: bool) -> BaseResponse | tuple[str, int]:
    form = StandInForm()
    if not form.validate_on_submit():
        return _stand_ins_page(person_id, form, first_error(form), admin=admin), 422
    try:
        with transaction() as db:
            name_stand_in(
                db,
                person_id,
                form.stand_in.data,  # type: ignore[arg-type]
                form.starts_on.data,  # type: ignore[arg-type]
                form.ends_on.data,  # type: ignore[arg-type]
                by=web_actor(),
                clock=clock(),
            )
    except PingAnError as refused:
        return _stand_ins_page(person_id, form, refusal(refused), admin=admin), 422
    where = (
        url_for("stand_ins.for_person", person_id=person_id)
        if admin
        else url_for("stand_ins.own_stand_ins")
    )
    return back_with(_("The stand-in is named."), None, where, "success")


def _stand_ins_page(
    person_id: int, form: StandInForm, problem: str | None = None, admin: bool = False
) -> str:
    today = local_date(clock().now(), DEFAULT_TIMEZONE)
    with transaction(readonly=True) as db:
        person = db.get(Person, person_id)
        if person is None:
            raise NotFound(f"no person {person_id}")
        reach = administered_unit_ids(db, web_actor()) if admin else None
        mine = [
            (row, row.stand_in.name, row.stand_in.email)
            for row in stand_ins_of(db, person_id, today)
        ]
        theirs = [(row, row.person.name) for row in standing_in_for(db, person_id, today)]
        offered = [
            (p.id, f"{p.name} · {p.unit.name}")
            for p in candidates(db, person_id)
            # an administrator is offered the people of their own units only: nobody else is named
            # to them (a village's administrator learns nothing of the town's people)
            if not admin or reach is None or p.unit_id in reach
        ]
        name = person.name
    form.stand_in.choices = [(0, _("— choose —")), *offered]
    return render_template(
        "stand_ins/page.html",
        form=form,
        problem=problem,
        mine=mine,
        theirs=theirs,
        today=today,
        person_id=person_id,
        person_name=name,
        admin=admin,
        action=ActionForm(),
        here=request.path,
    )
