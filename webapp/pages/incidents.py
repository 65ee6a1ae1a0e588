"""The incident log of a campaign (事件登记): what was recorded, and the form a coordinator records
one with.

The kinds are the definition's; whether a kind, a unit or a date is acceptable
is the engine's to say (``record_incident``): a refusal is shown on the form,
with what was typed, and nothing is recorded. The form's one-time key makes a
double click or a reload record nothing more: that post is sent on to the
incident the first one recorded. The mails an incident causes link here.
"""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth.identity import web_actor
from webapp.i18n import localized
from webapp.pages.common import (
    back_with,
    base_url,
    clock,
    page_blueprint,
    refusal,
    submitted_before,
    transaction,
)
from webapp.pages.forms import IncidentForm, OutsideReportForm, first_error, options
from workflow.access import campaign_access, load_campaign
from workflow.assessment.incidents import (
    IncidentEntry,
    IncidentReport,
    incident_kinds,
    list_incidents,
    record_incident,
)
from workflow.assessment.outside_reports import record_outside_report
from workflow.errors import Conflict, Forbidden, InvalidInput, TransitionRefused
from workflow.form_keys import AlreadySubmitted
from workflow.hazards.ledger import register_choices
from workflow.machines import CLOSED

blueprint = page_blueprint("incidents")


@blueprint.get("/campaigns/<int:campaign_id>/incidents")
def incident_log(campaign_id: int) -> str:
    return _log_page(campaign_id, IncidentForm())


@blueprint.post("/campaigns/<int:campaign_id>/incidents")
def record(campaign_id: int) -> BaseResponse | tuple[str, int]:
    form = IncidentForm()
    if not form.validate_on_submit():
        return _log_page(campaign_id, form, first_error(form)), 422
    report = IncidentReport(
        kind=form.kind.data or "",
        unit=form.unit.data or None,
        occurred_on=form.occurred_on.data,
        description=form.description.data,
        site=form.site.data or None,
    )
    try:
        with transaction() as session:
            incident = record_incident(
                session,
                campaign_id,
                report,
                by=web_actor(),
                clock=clock(),
                base_url=base_url(),
                form_key=form.form_key.data,
            )
            day = incident.occurred_on
            after = _after_recording(session, campaign_id, incident.id)
    except AlreadySubmitted as before:
        with transaction(readonly=True) as session:
            return submitted_before(_after_recording(session, campaign_id, before.entity_id))
    except (Conflict, Forbidden, InvalidInput) as error:
        return _log_page(campaign_id, form, refusal(error)), error.status
    return back_with(
        _(
            "Incident of %(day)s recorded; whoever must know at once is told by mail.",
            day=day.isoformat(),
        ),
        None,
        after,
        "success",
    )


@blueprint.post("/campaigns/<int:campaign_id>/incidents/<int:incident_id>/reports")
def report_outside(campaign_id: int, incident_id: int) -> BaseResponse | tuple[str, int]:
    """Record that the incident was reported to an outside body (铁路部门, 公安机关 …)."""
    form = OutsideReportForm()
    if not form.validate_on_submit():
        refused = (incident_id, form, first_error(form))
        return _log_page(campaign_id, IncidentForm(), refused=refused), 422
    try:
        with transaction() as session:
            report = record_outside_report(
                session,
                incident_id,
                form.body.data,
                reported_at=form.reported_at.data,
                note=form.note.data,
                by=web_actor(),
                clock=clock(),
                form_key=form.form_key.data,
                in_campaign=campaign_id,
            )
            body = report.body
            after = _after_recording(session, campaign_id, incident_id)
    except AlreadySubmitted:
        with transaction(readonly=True) as session:
            return submitted_before(_after_recording(session, campaign_id, incident_id))
    except (Conflict, Forbidden, InvalidInput, TransitionRefused) as error:
        refused = (incident_id, form, refusal(error))
        return _log_page(campaign_id, IncidentForm(), refused=refused), error.status
    return back_with(_("The report to %(body)s is recorded.", body=body), None, after, "success")


def _after_recording(session: Session, campaign_id: int, incident_id: int | None) -> str:
    """Where a recorded incident is shown: the log, at the incident; a village head may record one
    against their unit, but the log is the leading group's, so theirs is the campaign's page."""
    if campaign_access(session, load_campaign(session, campaign_id), web_actor()).leading_group:
        anchor = f"incident-{incident_id}" if incident_id is not None else None
        return url_for("incidents.incident_log", campaign_id=campaign_id, _anchor=anchor)
    return url_for("campaigns.campaign_page", campaign_id=campaign_id)


def _report_forms(
    entries: list[IncidentEntry], refused: tuple[int, OutsideReportForm, str] | None
) -> dict[int, OutsideReportForm]:
    """A form for each incident with a body still untold: the one refused keeps what was typed."""
    forms = {}
    for entry in entries:
        if entry.reports is None or not entry.reports.untold:
            continue
        form = (
            refused[1]
            if refused is not None and refused[0] == entry.id
            else OutsideReportForm(formdata=None)
        )
        form.body.choices = options([(body, body) for body in entry.reports.untold])
        forms[entry.id] = form
    return forms


def _log_page(
    campaign_id: int,
    form: IncidentForm,
    error: str | None = None,
    *,
    refused: tuple[int, OutsideReportForm, str] | None = None,
) -> str:
    by = web_actor()
    with transaction(readonly=True) as session:
        kinds = incident_kinds(session, campaign_id, by=by)  # NotFound outside the leading group
        entries = list_incidents(session, campaign_id, by=by)
        choices = register_choices(session, campaign_id, by=by)
        units = choices.units
        campaign = load_campaign(session, campaign_id)
        access = campaign_access(session, campaign, by)
        form.kind.choices = options(
            [("", _("Choose"))]
            + [(kind.id, localized(kind.title, kind.title_en)) for kind in kinds]
        )
        form.unit.choices = options(
            [("", _("Choose"))] + [(unit.code, unit.name) for unit in units]
        )
        form.site.choices = options(
            [("", _("None"))] + [(site.code, site.name) for site in choices.sites]
        )
        return render_template(
            "incidents/incidents.html",
            campaign=campaign,
            entries=entries,
            kinds=kinds,
            form=form if access.coordinator and kinds else None,
            error=error,
            report_forms=_report_forms(entries, refused) if campaign.state != CLOSED else {},
            report_error=refused[::2] if refused else None,
            now=clock().now(),
        )
