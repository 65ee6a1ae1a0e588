"""``/admin/campaigns/new``: start a campaign from the browser, after a dry run.

The form names a definition (shipped or stored), a unit the person administers, the first day and
perhaps a title. The dry run (``workflow/campaigns/trial.py``) is the engine's start rolled back:
the first phase's tasks per person with their due dates, the later phases' work by role and
holder, or every role nobody holds with its unit. Nothing is written, so the dry run is a POST
answered with its page (a reload runs it again). Confirming starts the campaign with the same
engine call as ``pingan start`` (``start_campaign``), once per form (its one-time key), and goes
to the campaign's page; its first tasks are in their assignees' inboxes at once.

Who may start is the engine's rule (``workflow/access.py``: ``may_start_campaign``): an
administrator of the unit (or a unit above it), or a coordinator of the new campaign.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from webapp.auth.identity import web_actor
from webapp.pages.admin.definitions import version_taken_message
from webapp.pages.common import calendar, clock, page_blueprint, submitted_before, transaction
from webapp.pages.forms import OneTimeForm, options
from workflow.access import administered_unit_ids, require_administrator
from workflow.audit import Actor
from workflow.campaigns.lifecycle import start_campaign
from workflow.campaigns.trial import trial_start
from workflow.clock import local_date
from workflow.definitions.catalogue import VersionTaken, catalogue, catalogued_definition
from workflow.definitions.reader import Definition, definition_folders
from workflow.errors import StartProblem, StartRefused
from workflow.form_keys import AlreadySubmitted, created
from workflow.form_keys import claim as claim_key
from workflow.limits import CAMPAIGN_TITLE_LIMIT
from workflow.models import Unit

blueprint = page_blueprint("admin_starting")

# how workflow/organisation/roles.py names a unit in a StartProblem
_UNIT = re.compile(r"^'(?P<code>[^']*)' \((?P<name>.*)\)(?P<rest>: .*)?$")
_SITE = re.compile(r"^key site '(?P<code>[^']*)' \((?P<name>.*)\)$")


class StartForm(FlaskForm):
    definition = SelectField(
        _l("Definition"), validators=[DataRequired(_l("Choose a definition."))]
    )
    # any unit's code is taken: whether it is theirs to start is the engine's rule (forbidden)
    unit = SelectField(
        _l("Unit"), validators=[DataRequired(_l("Choose a unit."))], validate_choice=False
    )
    starts = DateField(_l("First day"), validators=[DataRequired(_l("Enter the first day."))])
    title = StringField(
        _l("Title (optional)"), validators=[Optional(), Length(max=CAMPAIGN_TITLE_LIMIT)]
    )


class ConfirmForm(StartForm, OneTimeForm):
    """The dry run's values again, with the key that starts the campaign once."""


@blueprint.get("/admin/campaigns/new")
def new() -> str:
    by = web_actor()
    with transaction(readonly=True) as session:
        require_administrator(session, by)
        form = _choices(StartForm(starts=_today()), session, by)
    return render_template("admin/start.html", form=form, trial=None)


@blueprint.post("/admin/campaigns/dry-run")
def dry_run() -> tuple[str, int] | str:
    """What the start would do, with nothing written."""
    by = web_actor()
    with transaction(readonly=True) as session:
        require_administrator(session, by)
        form = _choices(StartForm(), session, by)
    if not form.validate_on_submit():
        return render_template("admin/start.html", form=form, trial=None), 422
    try:
        with transaction() as session:
            definition = _definition(session, form.definition.data)
            trial = trial_start(
                session,
                definition,
                form.unit.data,
                form.starts.data,
                by=by,
                clock=clock(),
                calendar=calendar(session),
                title=form.title.data or None,
            )
    except VersionTaken as taken:
        flash(version_taken_message(taken), "error")
        return render_template("admin/start.html", form=form, trial=None), 409
    confirm = _choices(ConfirmForm(formdata=None, data=form.data), None, by, form)
    return render_template(
        "admin/start.html",
        form=form,
        confirm=confirm,
        trial=trial,
        problems=[_problem(trial.definition, p) for p in trial.problems],
    )


@blueprint.post("/admin/campaigns")
def start() -> BaseResponse:
    by = web_actor()
    with transaction(readonly=True) as session:
        require_administrator(session, by)
        form = _choices(ConfirmForm(), session, by)
    back = url_for("admin_starting.new")
    if not form.validate_on_submit():
        flash(_("The form was not accepted: run the dry run again."), "error")
        return redirect(back)
    try:
        with transaction() as session:
            definition = _definition(session, form.definition.data)
            now = clock().now()
            claimed = claim_key(session, form.form_key.data, by=by, now=now, entity="campaign")
            campaign = start_campaign(
                session,
                definition,
                form.unit.data,
                form.starts.data,
                by=by,
                clock=clock(),
                calendar=calendar(session),
                title=form.title.data or None,
                folders=_folders(),
            )
            created(session, claimed, campaign.id)
            campaign_id = campaign.id
    except AlreadySubmitted as before:
        return submitted_before(
            url_for("campaigns.campaign_page", campaign_id=before.entity_id)
            if before.entity_id
            else back
        )
    except StartRefused as refused:
        for problem in refused.problems:
            flash(_problem(definition, problem), "error")
        return redirect(back)
    except VersionTaken as taken:
        flash(version_taken_message(taken), "error")
        return redirect(back)
    flash(_("Campaign started: its first tasks are in their assignees' inboxes."), "success")
    return redirect(url_for("campaigns.campaign_page", campaign_id=campaign_id))


# --- helpers ------------------------------------------------------------------------------------


def _choices(form, session: Session | None, by: Actor, source=None):  # type: ignore[no-untyped-def]
    """The form with its choices: every definition; the units ``by`` administers."""
    if source is not None:
        form.definition.choices = source.definition.choices
        form.unit.choices = source.unit.choices
        return form
    assert session is not None
    ids = administered_unit_ids(session, by)
    entries = catalogue(session, _folders(), ids)
    form.definition.choices = options(
        [("", _("Choose a definition"))]
        + [(f"{e.id}@{e.version}", f"{e.title} ({e.id} v{e.version})") for e in entries]
    )
    query = select(Unit.code, Unit.name).order_by(Unit.code)
    if ids is not None:
        query = query.where(Unit.id.in_(ids))
    form.unit.choices = options(
        [("", _("Choose a unit"))]
        + [(code, f"{name} ({code})") for code, name in session.execute(query)]
    )
    return form


def _definition(session: Session, value: str) -> Definition:
    slug, _at, version = value.rpartition("@")
    return catalogued_definition(session, slug, int(version), _folders())


def _problem(definition: Definition, problem: StartProblem) -> str:
    """A start problem in the page's language: the role by its title, and its unit."""
    if problem.text is not None:
        # workflow/campaigns/fanout.py: a key site or list entry with nobody responsible for it
        site = _SITE.match(problem.unit)
        if problem.text.endswith(" has no responsible person"):
            where = _("key site %(name)s (%(code)s)", **site.groupdict()) if site else problem.unit
            return _("%(where)s has no responsible person.", where=where)
        return problem.text
    try:
        role = f"{definition.role(problem.role).title} ({problem.role})"
    except KeyError:
        role = problem.role
    # the engine names a unit as 'code' (name), and a town without villages says so after it
    named = _UNIT.match(problem.unit)
    if named is None:
        return _("Nobody holds the role %(role)s in %(unit)s.", role=role, unit=problem.unit)
    unit = f"{named['name']} ({named['code']})"
    if named["rest"]:
        return _(
            "%(unit)s has no sub-units: nobody can hold the sub-units' role %(role)s.",
            unit=unit,
            role=role,
        )
    return _("Nobody holds the role %(role)s in %(unit)s.", role=role, unit=unit)


def _folders() -> list[Path]:
    return definition_folders(current_app.config.get("DEFINITIONS_PATH", ()))


def _today() -> date:
    return local_date(clock().now(), current_app.config["BABEL_DEFAULT_TIMEZONE"])
