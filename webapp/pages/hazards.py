"""The hazard register of a campaign (隐患台账): filter it, register a hazard, verify or reject
what was reported fixed (the verify and reject forms post to the rectification's own routes,
items.py). The register form's one-time key makes a double click or a reload register nothing more:
that post is sent on to the rectification the first one opened."""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth.identity import web_actor
from webapp.pages import evidence_store
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
    RejectRectificationForm,
    first_error,
    options,
)
from webapp.pages.worklists.filter_bar import (
    filter_form,
    list_filter,
    page_links,
    read_page,
    save_view_form,
)
from webapp.security import accepts_uploads
from workflow.access import campaign_access, load_campaign
from workflow.errors import Conflict, InvalidInput
from workflow.form_keys import AlreadySubmitted
from workflow.hazards.evidence import attach_hazard_photos, photo_rules, photos_by_stage
from workflow.hazards.ledger import RegisterChoices, register_choices
from workflow.hazards.ledger import register_page as register_page_of
from workflow.hazards.rectifications import HazardReport, register_hazard

blueprint = page_blueprint("hazards")


@blueprint.get("/campaigns/<int:campaign_id>/hazards")
def register_page(campaign_id: int) -> str:
    by = web_actor()
    work_filter = list_filter()
    with transaction(readonly=True) as session:
        # NotFound outside the leading group
        choices = register_choices(session, campaign_id, by=by)
        page = read_page(
            lambda after: register_page_of(
                session,
                campaign_id,
                work_filter,
                after=after,
                by=by,
                clock=clock(),
                calendar=calendar(session),
            )
        )
        campaign = load_campaign(session, campaign_id)
        access = campaign_access(session, campaign, by)
        return render_template(
            "hazards/hazards.html",
            campaign=campaign,
            access=access,
            page=page,
            entries=page.entries,
            # what a coordinator verifies from the list: the submitted rows' before and after
            photos=photos_by_stage(session, [e.id for e in page.entries if e.state == "submitted"]),
            work_filter=work_filter,
            filters=filter_form(
                work_filter,
                fields=(
                    "q",
                    "unit",
                    "site",
                    "severity",
                    "state",
                    "due",
                    "level",
                    "responsible",
                    "sort",
                ),
                units=[(c.code, c.name) for c in choices.units],
                sites=[(c.code, c.name) for c in choices.sites],
                people=[(c.code, c.name) for c in choices.people],
                states=[
                    ("open", _("Open")),
                    ("submitted", _("Reported fixed")),
                    ("closed", _("Closed")),
                ],
                sorts=("due", "registered", "level", "relevance"),
            ),
            links=page_links(
                "hazards.register_page", work_filter, page.next_after, campaign_id=campaign_id
            ),
            save_form=save_view_form("register", work_filter, campaign_id),
            hazard_form=_hazard_form(choices) if access.coordinator else None,
            verify=NoteForm(),
            reject=RejectRectificationForm(),
        )


@blueprint.post("/campaigns/<int:campaign_id>/hazards")
@accepts_uploads
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
    by = web_actor()
    try:
        with transaction(readonly=True) as session:
            rules = photo_rules(session, campaign_id)
        # decoded before the registering transaction: it is not held open while they are
        files = evidence_store.accept(None, photos=form.photos.data, rules=rules)
        with evidence_store.kept(files) as accepted, transaction() as session:
            rectification = register_hazard(
                session,
                campaign_id,
                report,
                by=by,
                clock=clock(),
                calendar=calendar(session),
                base_url=base_url(),
                form_key=form.form_key.data,
            )
            attach_hazard_photos(session, rectification, accepted, by=by, now=clock().now())
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


def _hazard_form(choices: RegisterChoices) -> HazardForm:
    form = HazardForm()
    form.unit.choices = options([("", "—")] + [(c.code, c.name) for c in choices.units])
    form.site.choices = options([("", "—")] + [(c.code, c.name) for c in choices.sites])
    form.responsible.choices = options(
        [("", _("Default"))] + [(c.code, f"{c.name} <{c.code}>") for c in choices.people]
    )
    return form
