"""The hazard register of a campaign (隐患台账): filter it, register a hazard, verify or reject
what was reported fixed (the verify and reject forms post to the rectification's own routes,
items.py). The register form's one-time key makes a double click or a reload register nothing more:
that post is sent on to the rectification the first one opened."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth.identity import web_actor
from webapp.pages.common import (
    back_with,
    base_url,
    calendar,
    clock,
    page_blueprint,
    refusal,
    submitted_before,
    transaction,
)
from webapp.pages.forms import (
    HazardForm,
    NoteForm,
    RegisterFilterForm,
    RejectRectificationForm,
    first_error,
    options,
)
from workflow.access import campaign_access, load_campaign
from workflow.errors import Conflict, InvalidInput
from workflow.form_keys import AlreadySubmitted
from workflow.hazards.ledger import (
    RegisterChoices,
    RegisterFilter,
    hazard_register,
    register_choices,
)
from workflow.hazards.rectifications import HazardReport, register_hazard
from workflow.machines import RECTIFICATION_STATES

blueprint = page_blueprint("hazards")


@blueprint.get("/campaigns/<int:campaign_id>/hazards")
def register_page(campaign_id: int) -> str:
    by = web_actor()
    filters_form = RegisterFilterForm(request.args)
    filters = RegisterFilter(
        unit=filters_form.unit.data or None,
        site=filters_form.site.data or None,
        severity=_one_of(filters_form.severity.data, ("minor", "major")),
        state=_one_of(filters_form.state.data, RECTIFICATION_STATES),
        overdue=bool(filters_form.overdue.data),
    )
    with transaction(readonly=True) as session:
        # NotFound outside the leading group
        choices = register_choices(session, campaign_id, by=by)
        entries = hazard_register(
            session, campaign_id, filters, by=by, clock=clock(), calendar=calendar(session)
        )
        campaign = load_campaign(session, campaign_id)
        access = campaign_access(session, campaign, by)
        _fill_filter_choices(filters_form, choices)
        return render_template(
            "hazards/hazards.html",
            campaign=campaign,
            access=access,
            entries=entries,
            filters=filters_form,
            filtered=filters != RegisterFilter(),
            hazard_form=_hazard_form(choices) if access.coordinator else None,
            verify=NoteForm(),
            reject=RejectRectificationForm(),
        )


@blueprint.post("/campaigns/<int:campaign_id>/hazards")
def register(campaign_id: int) -> BaseResponse:
    form = HazardForm()
    here = url_for("hazards.register_page", campaign_id=campaign_id)
    if not form.validate_on_submit():
        return back_with(first_error(form), None, here)
    report = HazardReport(
        description=form.description.data or "",
        severity=form.severity.data or "minor",
        unit=form.unit.data or None,
        site=form.site.data or None,
        location=form.location.data or None,
        responsible=form.responsible.data or None,
        deadline=form.deadline.data,
        deadline_working_days=form.working_days.data,
        temporary_measures=form.temporary_measures.data or None,
    )
    try:
        with transaction() as session:
            rectification = register_hazard(
                session,
                campaign_id,
                report,
                by=web_actor(),
                clock=clock(),
                calendar=calendar(session),
                base_url=base_url(),
                form_key=form.form_key.data,
            )
            deadline, name = rectification.deadline, rectification.responsible.name
    except AlreadySubmitted as before:
        return submitted_before(
            url_for("items.rectification_page", rectification_id=before.entity_id)
            if before.entity_id is not None
            else here
        )
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), None, here)
    return back_with(
        _(
            "Hazard registered: %(name)s is to rectify it by %(deadline)s.",
            name=name,
            deadline=deadline.isoformat(),
        ),
        None,
        here,
        "success",
    )


def _one_of(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


def _fill_filter_choices(form: RegisterFilterForm, choices: RegisterChoices) -> None:
    everything = [("", _("All"))]
    form.unit.choices = options(everything + [(c.code, c.name) for c in choices.units])
    form.site.choices = options(everything + [(c.code, c.name) for c in choices.sites])
    form.severity.choices = options(everything + [("minor", _("Minor")), ("major", _("Major"))])
    form.state.choices = options(
        everything
        + [("open", _("Open")), ("submitted", _("Reported fixed")), ("closed", _("Closed"))]
    )


def _hazard_form(choices: RegisterChoices) -> HazardForm:
    form = HazardForm()
    form.unit.choices = options([("", "—")] + [(c.code, c.name) for c in choices.units])
    form.site.choices = options([("", "—")] + [(c.code, c.name) for c in choices.sites])
    form.responsible.choices = options(
        [("", _("Default"))] + [(c.code, f"{c.name} <{c.code}>") for c in choices.people]
    )
    return form
