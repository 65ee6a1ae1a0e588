"""The coordinator's pages: the campaign list, a campaign (its phases as a state machine, progress,
the advance button with its blockers), the escalation log and the hand-over of a person's work."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth.identity import web_actor
from webapp.pages.common import (
    back_with,
    base_url,
    calendar,
    clock,
    page_blueprint,
    refusal,
    transaction,
)
from webapp.pages.forms import ActionForm, HandOverForm, first_error, options
from workflow.access import campaign_access, load_campaign
from workflow.audit import Actor
from workflow.campaigns.lifecycle import advance_campaign
from workflow.campaigns.reassign import hand_over
from workflow.errors import Conflict, InvalidInput, TransitionRefused
from workflow.escalation.levels import campaign_escalations
from workflow.hazards.ledger import register_choices
from workflow.views.inbox import campaign_facts
from workflow.views.progress import campaign_status
from workflow.views.standing import campaign_standing, campaigns_for, item_titles
from workflow.views.undelivered import undeliverable_mails

blueprint = page_blueprint("campaigns")


@blueprint.get("/campaigns")
def campaign_list() -> str:
    with transaction(readonly=True) as session:
        summaries = campaigns_for(session, web_actor())
    return render_template("campaigns/campaigns.html", campaigns=summaries)


@blueprint.get("/campaigns/<int:campaign_id>")
def campaign_page(campaign_id: int) -> str:
    with transaction(readonly=True) as session:
        return render_template(
            "campaigns/campaign.html", **_campaign_view(session, campaign_id, web_actor())
        )


@blueprint.post("/campaigns/<int:campaign_id>/advance")
def advance(campaign_id: int) -> BaseResponse | tuple[str, int]:
    here = url_for("campaigns.campaign_page", campaign_id=campaign_id)
    if not ActionForm().validate_on_submit():
        return back_with(None, None, here)
    by = web_actor()
    try:
        with transaction() as session:
            move = advance_campaign(
                session,
                campaign_id,
                by=by,
                clock=clock(),
                calendar=calendar(session),
                # the phase the page showed: a double click, or two coordinators at once, moves the
                # campaign one phase, not two (PITFALLS.md, Forms)
                from_phase=request.form.get("from") or None,
            )
    except TransitionRefused as refused:
        if not refused.blockers:  # it left that phase meanwhile: the page as it is now says so
            return back_with(refusal(refused), None, here)
        # show the page again with the blocking items, each a link to act on
        with transaction(readonly=True) as session:
            view = _campaign_view(session, campaign_id, by)
            return render_template("campaigns/campaign.html", refused=refused, **view), 409
    return back_with(
        _(
            "The campaign moved on to the next phase (%(count)d new tasks).",
            count=move.tasks_created,
        ),
        None,
        here,
        "success",
    )


@blueprint.post("/campaigns/<int:campaign_id>/hand-over")
def hand_over_work(campaign_id: int) -> BaseResponse:
    form = HandOverForm()
    here = url_for("campaigns.campaign_page", campaign_id=campaign_id)
    if not form.validate_on_submit():
        return back_with(first_error(form), None, here)
    try:
        with transaction() as session:
            result = hand_over(
                session,
                campaign_id,
                form.leaving.data or "",
                form.successor.data or "",
                by=web_actor(),
                clock=clock(),
                base_url=base_url(),
                note=form.note.data,
            )
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), None, here)
    message = _(
        "Handed over: %(tasks)d tasks and %(rectifications)d rectifications; the successor is told "
        "by mail.",
        tasks=len(result.tasks),
        rectifications=len(result.rectifications),
    )
    return back_with(message, None, here, "success")


@blueprint.get("/campaigns/<int:campaign_id>/escalations")
def escalation_log(campaign_id: int) -> str:
    by = web_actor()
    with transaction(readonly=True) as session:
        rows = campaign_escalations(session, campaign_id, by)
        titles = item_titles(session, {(row.item_kind, row.item_id) for row in rows})
        campaign = load_campaign(session, campaign_id)
        return render_template(
            "campaigns/escalations.html",
            campaign=campaign,
            escalations=rows,
            titles=titles,
            undeliverable=undeliverable_mails(session, campaign_id, by),
        )


def _campaign_view(session: Session, campaign_id: int, by: Actor) -> dict[str, Any]:
    # NotFound unless they take part
    status = campaign_status(session, campaign_id, clock=clock(), by=by)
    campaign = load_campaign(session, campaign_id)
    access = campaign_access(session, campaign, by)
    standing = (
        campaign_standing(session, campaign_id, by=by, clock=clock(), calendar=calendar(session))
        if access.leading_group
        else None
    )
    hand_over_form = None
    if access.coordinator:
        people = register_choices(session, campaign_id, by=by).people
        hand_over_form = HandOverForm()
        choices = [("", _("Choose a person"))] + [(p.code, f"{p.name} <{p.code}>") for p in people]
        hand_over_form.leaving.choices = options(choices)
        hand_over_form.successor.choices = options(choices)
    facts = campaign_facts(session, {campaign_id}, include_closed=True)[campaign_id]
    return {
        "status": status,
        "campaign": campaign,
        "access": access,
        "standing": standing,
        "advance_form": ActionForm(),
        "hand_over_form": hand_over_form,
        "phase_titles_en": {phase: titles[1] for phase, titles in facts.phase_titles.items()},
    }
