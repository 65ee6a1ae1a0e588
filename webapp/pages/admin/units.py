"""``/admin/units``: the units an administrator looks after, as a tree, with their key sites — add a
unit under one of them, rename one, add a key site with its responsible person, rename a site or
change who is responsible. Nothing with history is deleted (a unit or site is renamed, never
removed). Every post asks ``workflow/access.py`` first, for the unit it changes.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, Optional

from webapp.auth.identity import web_actor
from webapp.pages.common import back_with, clock, page_blueprint, refusal, transaction
from webapp.pages.forms import first_error
from workflow.access import administered_unit_ids, require_administrator
from workflow.audit import Actor
from workflow.errors import NotFound, PingAnError
from workflow.models import Site
from workflow.organisation.tree import (
    add_site,
    add_unit,
    edit_site,
    rename_unit,
    unit_tree,
)
from workflow.people.records import search_people

blueprint = page_blueprint("admin_units")


class UnitForm(FlaskForm):
    code = StringField(_l("Id (letters, digits, -)"), validators=[Optional(), Length(max=100)])
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=200)])


class SiteForm(FlaskForm):
    code = StringField(_l("Id (letters, digits, -)"), validators=[Optional(), Length(max=100)])
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=300)])
    responsible = IntegerField(_l("Responsible person"), validators=[Optional()])


@blueprint.get("/admin/units")
def units() -> str:
    by = web_actor()
    with transaction(readonly=True) as db:
        require_administrator(db, by)
        ids = administered_unit_ids(db, by)
        tree = unit_tree(db, ids)
        query = select(Site).order_by(Site.name)
        if ids is not None:
            query = query.where(Site.unit_id.in_(ids))
        sites: dict[int, list[Site]] = {}
        for site in db.scalars(query):
            sites.setdefault(site.unit_id, []).append(site)
        people = [p for p in search_people(db, ids) if p.active]
        names = {p.id: p.name for p in people}
    return render_template(
        "admin/units.html",
        tree=tree,
        sites=sites,
        people=people,
        names=names,
        unit_form=UnitForm(),
        site_form=SiteForm(),
    )


@blueprint.post("/admin/units/<int:unit_id>/units")
def add_child(unit_id: int) -> BaseResponse:
    form = UnitForm()

    def act(db: Session, by: Actor) -> str:
        unit = add_unit(
            db,
            parent_id=unit_id,
            code=form.code.data or "",
            name=form.name.data or "",
            by=by,
            now=clock().now(),
        )
        return _("%(name)s is added.", name=unit.name)

    return _change(unit_id, form, act)


@blueprint.post("/admin/units/<int:unit_id>")
def rename(unit_id: int) -> BaseResponse:
    form = UnitForm()

    def act(db: Session, by: Actor) -> str:
        rename_unit(db, unit_id, form.name.data or "", by=by, now=clock().now())
        return _("Saved.")

    return _change(unit_id, form, act)


@blueprint.post("/admin/units/<int:unit_id>/sites")
def add_key_site(unit_id: int) -> BaseResponse:
    form = SiteForm()

    def act(db: Session, by: Actor) -> str:
        site = add_site(
            db,
            unit_id=unit_id,
            code=form.code.data or "",
            name=form.name.data or "",
            responsible_id=form.responsible.data or None,
            by=by,
            now=clock().now(),
        )
        return _("%(name)s is added.", name=site.name)

    return _change(unit_id, form, act)


@blueprint.post("/admin/sites/<int:site_id>")
def change_site(site_id: int) -> BaseResponse:
    form = SiteForm()
    with transaction(readonly=True) as db:
        site = db.get(Site, site_id)
        if site is None:
            raise NotFound(f"no key site {site_id}")
        unit_id = site.unit_id

    def act(db: Session, by: Actor) -> str:
        edit_site(
            db,
            site_id,
            name=form.name.data or "",
            responsible_id=form.responsible.data or None,
            by=by,
            now=clock().now(),
        )
        return _("Saved.")

    return _change(unit_id, form, act)


# --- helpers ------------------------------------------------------------------------------------


def _change(unit_id: int, form: FlaskForm, act: Callable[[Session, Actor], str]) -> BaseResponse:
    """Every change of a unit or of one of its sites: its administrator only (asked before the form
    is read), a valid form, one transaction, and back to the tree with what it says."""
    by = web_actor()
    here = url_for("admin_units.units")
    with transaction(readonly=True) as db:
        require_administrator(db, by, unit_id)
    if not form.validate_on_submit():
        return back_with(first_error(form), None, here)
    try:
        with transaction() as db:
            message = act(db, by)
    except PingAnError as error:
        return back_with(refusal(error), None, here)
    return back_with(message, None, here, "success")
