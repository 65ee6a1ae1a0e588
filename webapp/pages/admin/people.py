"""``/admin/people``: the people of the units an administrator looks after — find, add, edit, give
and take roles (with the post's open work handed to the new holder), send a password reset link,
deactivate (after a hand-over) and reactivate, and each person's history.

Every route asks ``workflow/access.py`` first (``require_administrator`` for the person's unit): a
village's administrator never reaches the town's own people. Each post calls one engine function of
``workflow/people`` and answers with a redirect back to the person's page (PITFALLS.md, Forms).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, flash, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from webapp.auth.identity import web_actor
from webapp.pages.common import back_with, base_url, clock, page_blueprint, refusal, transaction
from webapp.pages.forms import ActionForm, first_error
from workflow.access import (
    administered_unit_ids,
    administrative_actor,
    require_administrator,
)
from workflow.audit import Actor
from workflow.errors import Conflict, InvalidInput, PingAnError
from workflow.limits import EMAIL_LIMIT, PHONE_LIMIT
from workflow.models import Person, Unit
from workflow.organisation.tree import unit_tree
from workflow.people.administrators import (
    grant_administrator,
    granted_units,
    revoke_administrator,
)
from workflow.people.deactivation import deactivate_person, open_items, reactivate_person
from workflow.people.posts import (
    give_role,
    hand_over_role,
    open_work_of_role,
    take_role,
)
from workflow.people.records import (
    add_person,
    edit_person,
    held_roles,
    person_details,
    person_history,
    role_titles,
    search_people,
)
from workflow.people.reset_links import issue_reset_link, mail_reset_link

blueprint = page_blueprint("admin_people")

# the one-time display of a reset link when no mail server is set: kept in the session for the
# next page only, never in a URL (the access log names the path)
SHOWN_LINK = "admin_reset_link"


class PersonForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=200)])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Mobile number"), validators=[Optional(), Length(max=PHONE_LIMIT)])
    email = StringField(
        _l("E-mail"),
        validators=[DataRequired(_l("Enter an e-mail address.")), Length(max=EMAIL_LIMIT)],
    )
    unit = SelectField(_l("Unit"), coerce=int, validate_choice=False)


class RoleForm(FlaskForm):
    role = StringField(
        _l("Role id"), validators=[DataRequired(_l("Enter a role id.")), Length(max=64)]
    )


class HandOverForm(FlaskForm):
    role = HiddenField()
    previous = HiddenField()


class GrantForm(FlaskForm):
    unit = SelectField(_l("Administrator of"), coerce=int, validate_choice=False)


class DeactivateForm(FlaskForm):
    successor = SelectField(_l("Hand their open work over to"), coerce=int, validate_choice=False)


@blueprint.get("/admin/people")
def people() -> str:
    by = web_actor()
    words = request.args.get("q", "")[:100]
    unit = request.args.get("unit", type=int)
    role = request.args.get("role", "")[:64] or None
    with transaction(readonly=True) as db:
        require_administrator(db, by)
        ids = administered_unit_ids(db, by)
        if unit is not None and ids is not None and unit not in ids:
            unit = None
        found = search_people(db, ids, words=words, unit_id=unit, role=role)
        units = unit_tree(db, ids)
    form = PersonForm()
    form.unit.choices = [(u.id, "\u3000" * depth + u.name) for u, depth, _n in units]
    return render_template(
        "admin/people.html",
        found=found,
        units=units,
        words=words,
        unit=unit,
        role=role or "",
        form=form,
        problem=None,
    )


@blueprint.post("/admin/people")
def add() -> BaseResponse | tuple[str, int]:
    by = web_actor()
    form = PersonForm()
    with transaction(readonly=True) as db:
        require_administrator(db, by, form.unit.data if form.unit.data else None)
    if not form.validate_on_submit():
        flash(first_error(form) or _("Please check the form."), "error")
        return back_with(None, None, url_for("admin_people.people"))
    try:
        with transaction() as db:
            require_administrator(db, by, form.unit.data)
            now = clock().now()
            person = add_person(
                db,
                email=form.email.data or "",
                name=form.name.data or "",
                unit_id=form.unit.data,
                title=form.title.data,
                phone=form.phone.data,
                by=by,
                now=now,
            )
            link = issue_reset_link(db, person.id, by=by, now=now, base_url=base_url())
            _deliver(db, link, new_account=True)
            person_id = person.id
    except PingAnError as error:
        return back_with(refusal(error), None, url_for("admin_people.people"))
    flash(_("%(name)s is added.", name=form.name.data), "success")
    return back_with(None, None, url_for("admin_people.person", person_id=person_id))


@blueprint.get("/admin/people/<int:person_id>")
def person(person_id: int) -> str:
    by = web_actor()
    with transaction(readonly=True) as db:
        require_administrator(db, by)  # before the look-up: a non-administrator learns no ids
        details = person_details(db, person_id)
        require_administrator(db, by, details.unit_id)
        ids = administered_unit_ids(db, by)
        roles = held_roles(db, person_id)
        history = person_history(db, person_id)
        holding = open_items(db, person_id) if details.active else []
        successors = [
            p
            for p in search_people(db, ids)
            if p.active and p.id != person_id and (ids is None or p.unit_id in ids)
        ]
        offer = _hand_over_offer(db, person_id, details.unit_id)
        grants = granted_units(db, person_id)
        units = unit_tree(db, ids)
        titles = role_titles(db)
    form = PersonForm(
        name=details.name,
        title=details.title,
        phone=details.phone,
        email=details.email,
        unit=details.unit_id,
    )
    form.unit.choices = [(u.id, u.name) for u, _d, _n in units if u.id == details.unit_id]
    grant_form = GrantForm()
    grant_form.unit.choices = [(u.id, "\u3000" * depth + u.name) for u, depth, _n in units]
    deactivate = DeactivateForm()
    deactivate.successor.choices = [(0, _("— nobody —"))] + [
        (p.id, f"{p.name} · {p.unit_name}") for p in successors
    ]
    return render_template(
        "admin/person.html",
        person=details,
        roles=roles,
        history=history,
        holding=holding,
        form=form,
        role_form=RoleForm(),
        deactivate=deactivate,
        action=ActionForm(),
        offer=offer,
        hand_over_form=HandOverForm(),
        shown_link=session.pop(SHOWN_LINK, None),
        titles=titles,
        grants=grants,
        grant_form=grant_form,
        administered=ids,
        happened=_history_words(),
        # events whose word says all: their English audit note is left to the command line
        wordless={
            "person.add",
            "person.reset_link",
            "person.password_reset_by_link",
            "person.password_change",
            "person.password_reset",
        },
    )


@blueprint.post("/admin/people/<int:person_id>")
def edit(person_id: int) -> BaseResponse:
    form = PersonForm()

    def act(db: Session, by: Actor) -> Outcome:
        changes = edit_person(
            db,
            person_id,
            email=form.email.data or "",
            name=form.name.data or "",
            title=form.title.data,
            phone=form.phone.data,
            by=by,
            now=clock().now(),
        )
        if changes:
            return Outcome(_("Saved."))
        return Outcome(_("Nothing changed."), "info")

    return _change_person(person_id, form, act)


@blueprint.post("/admin/people/<int:person_id>/roles")
def give(person_id: int) -> BaseResponse:
    form = RoleForm()

    def act(db: Session, by: Actor) -> Outcome:
        given = give_role(db, person_id, form.role.data or "", by=by, now=clock().now())
        said = _(
            "The role %(role)s is given; %(count)d running campaign(s) bind it now.",
            role=role_titles(db).get(given.role, given.role),
            count=given.rebinding.granted,
        )
        return Outcome(said, anchor="#hand-over" if given.other_holders else "")

    return _change_person(person_id, form, act)


@blueprint.post("/admin/people/<int:person_id>/roles/<role>/remove")
def take(person_id: int, role: str) -> BaseResponse:
    def act(db: Session, by: Actor) -> Outcome:
        take_role(db, person_id, role, by=by, now=clock().now())
        return Outcome(_("The role %(role)s is taken away.", role=role))

    return _change_person(person_id, ActionForm(), act)


@blueprint.post("/admin/people/<int:person_id>/hand-over")
def hand_over(person_id: int) -> BaseResponse:
    """The offer after a role was given: the previous holder's open work of that role, in running
    campaigns, goes to this person, and the previous holder gives the role up."""
    form = HandOverForm()

    def act(db: Session, by: Actor) -> Outcome:
        if not (form.previous.data or "").isdigit():
            raise InvalidInput("name the previous holder")
        leaving = person_details(db, int(form.previous.data or 0))
        moved = hand_over_role(
            db,
            form.role.data or "",
            leaving.id,
            person_id,
            by=administrative_actor(db, by, {leaving.unit_id}),
            clock=clock(),
            base_url=base_url(),
        )
        return Outcome(
            _(
                "%(name)s no longer holds %(role)s; %(count)d open task(s) of it are handed over.",
                name=leaving.name,
                role=form.role.data,
                count=len(moved),
            )
        )

    return _change_person(person_id, form, act)


@blueprint.post("/admin/people/<int:person_id>/administers")
def grant(person_id: int) -> BaseResponse:
    """Make the person an administrator of a unit the signed-in administrator administers."""
    form = GrantForm()

    def act(db: Session, by: Actor) -> Outcome:
        unit = db.get(Unit, form.unit.data or 0)
        if unit is None:
            raise InvalidInput("choose a unit")
        require_administrator(db, by, unit.id)
        email = person_details(db, person_id).email
        grant_administrator(db, email, unit.code, by=by, now=clock().now())
        return Outcome(_("%(email)s administers %(unit)s now.", email=email, unit=unit.name))

    return _change_person(person_id, form, act)


@blueprint.post("/admin/people/<int:person_id>/administers/<int:unit_id>/remove")
def revoke(person_id: int, unit_id: int) -> BaseResponse:
    def act(db: Session, by: Actor) -> Outcome:
        require_administrator(db, by, unit_id)
        unit = db.get(Unit, unit_id)
        if unit is None:
            raise InvalidInput("choose a unit")
        email = person_details(db, person_id).email
        revoke_administrator(db, email, unit.code, by=by, now=clock().now())
        return Outcome(_("%(email)s no longer administers %(unit)s.", email=email, unit=unit.name))

    return _change_person(person_id, ActionForm(), act)


@blueprint.post("/admin/people/<int:person_id>/reset")
def reset(person_id: int) -> BaseResponse:
    def act(db: Session, by: Actor) -> Outcome:
        link = issue_reset_link(db, person_id, by=by, now=clock().now(), base_url=base_url())
        if _deliver(db, link, new_account=False):
            return Outcome(
                _("A reset link valid for 24 hours is mailed to %(email)s.", email=link.email)
            )
        return Outcome(None)  # the page shows the link itself, once

    return _change_person(person_id, ActionForm(), act)


@blueprint.post("/admin/people/<int:person_id>/deactivate")
def deactivate(person_id: int) -> BaseResponse:
    form = DeactivateForm()

    def act(db: Session, by: Actor) -> Outcome:
        leaving = person_details(db, person_id)
        units = {leaving.unit_id}
        successor = db.get(Person, form.successor.data) if form.successor.data else None
        if successor is not None:
            units.add(successor.unit_id)
        result = deactivate_person(
            db,
            leaving.email,
            by=administrative_actor(db, by, units),
            clock=clock(),
            base_url=base_url(),
            hand_over_to=successor.email if successor else None,
        )
        message = _("%(email)s is deactivated: signed out everywhere.", email=result.email)
        if result.handed_over_to:
            message += " " + _("Their open work went to %(email)s.", email=result.handed_over_to)
        return Outcome(message)

    # the engine's refusal names the items in English for the command line; the page lists them
    still_holds = _(
        "They still hold open work, listed below: choose who takes it over, then deactivate."
    )
    return _change_person(
        person_id, form, act, on_conflict=Outcome(still_holds, "error", "#access")
    )


@blueprint.post("/admin/people/<int:person_id>/reactivate")
def reactivate(person_id: int) -> BaseResponse:
    def act(db: Session, by: Actor) -> Outcome:
        email = person_details(db, person_id).email
        reactivate_person(db, email, by=by, clock=clock())
        return Outcome(_("%(email)s can sign in again.", email=email))

    return _change_person(person_id, ActionForm(), act)


# --- helpers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a change of a person's says on their page afterwards (and where on it)."""

    message: str | None
    category: str = "success"
    anchor: str = ""


def _change_person(
    person_id: int,
    form: FlaskForm,
    act: Callable[[Session, Actor], Outcome],
    *,
    on_conflict: Outcome | None = None,
) -> BaseResponse:
    """Every change of a person: the administrator of their unit only (asked before the form is
    read), a valid form, one transaction for ``act``, and back to the person's page with what it
    says; a refusal changes nothing and is said in the reader's language."""
    by = web_actor()
    here = url_for("admin_people.person", person_id=person_id)
    with transaction(readonly=True) as db:
        require_administrator(db, by)  # before the look-up: a non-administrator learns no ids
        require_administrator(db, by, person_details(db, person_id).unit_id)
    if not form.validate_on_submit():
        return back_with(first_error(form) or _("The form expired: please try again."), None, here)
    try:
        with transaction() as db:
            outcome = act(db, by)
    except Conflict as conflict:
        if on_conflict is None:
            return back_with(refusal(conflict), None, here)
        outcome = on_conflict
    except PingAnError as error:
        return back_with(refusal(error), None, here)
    return back_with(outcome.message, None, here + outcome.anchor, outcome.category)


def _deliver(db, link, *, new_account: bool) -> bool:  # type: ignore[no-untyped-def]
    """Mail the link when a mail server is set (True); else keep it for the next page only, where
    the administrator sees it once."""
    if current_app.config.get("MAIL_CONFIGURED"):
        mail_reset_link(
            db, link, by_name=web_actor().label, now=clock().now(), new_account=new_account
        )
        return True
    session[SHOWN_LINK] = {"url": link.url, "email": link.email}
    return False


def _history_words() -> dict[str, str]:
    """What each kind of audit event of a person's history is called on the page."""
    return {
        "person.add": _("added"),
        "person.edit": _("details changed"),
        "person.role_give": _("role given"),
        "person.role_take": _("role taken away"),
        "person.reset_link": _("password reset link sent"),
        "person.password_reset_by_link": _("password set from a reset link"),
        "person.password_change": _("password changed"),
        "person.password_reset": _("one-time password set"),
        "person.deactivate": _("deactivated"),
        "person.reactivate": _("reactivated"),
        "role.grant": _("bound in a campaign"),
        "role.withdraw": _("withdrawn in a campaign"),
        "administrator.grant": _("made an administrator"),
        "administrator.revoke": _("administration ended"),
        "stand_in.name": _("stand-in named"),
        "stand_in.end": _("stand-in ended"),
    }


def _hand_over_offer(db, person_id: int, unit_id: int) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """For each role the person holds: the unit's other holders of it with open work of it, whose
    work this person could take over."""
    offers = []
    for role in held_roles(db, person_id):
        for other in search_people(db, None, unit_id=unit_id, role=role):
            if other.id == person_id:
                continue
            work = open_work_of_role(db, other.id, role)
            offers.append({"role": role, "person": other, "open": len(work)})
    return offers
