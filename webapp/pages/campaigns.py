"""The coordinator's pages: the campaign list, a campaign (its phases as a state machine, progress,
what keeps it in its phase), the advance (a confirmation, then one move), the escalation log and the
hand-over of a person's work."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth.identity import web_actor
from webapp.i18n import localized, written_date
from webapp.pages.common import (
    back_with,
    base_url,
    calendar,
    clock,
    page_blueprint,
    refusal,
    transaction,
)
from webapp.pages.forms import (
    ActionForm,
    CampaignStandInForm,
    HandOverForm,
    first_error,
    options,
)
from webapp.pages.worklists.filter_bar import filter_form, list_filter, page_links, read_page
from workflow.access import campaign_access, load_campaign
from workflow.audit import Actor
from workflow.campaigns.cascade import units_without_campaign
from workflow.campaigns.lifecycle import advance_campaign, start_late_child
from workflow.campaigns.reassign import hand_over
from workflow.definitions.texts import campaign_twins
from workflow.errors import Conflict, InvalidInput, TransitionRefused
from workflow.hazards.ledger import register_choices
from workflow.people.stand_ins import name_campaign_stand_in
from workflow.views.escalation_log import escalation_page
from workflow.views.inbox import campaign_facts
from workflow.views.levels import sub_campaigns
from workflow.views.progress import advance_preview, campaign_status, phase_blockers_seen_by
from workflow.views.standing import campaign_list_page, campaign_standing, items_held
from workflow.views.undelivered import undeliverable_mails

blueprint = page_blueprint("campaigns")


@blueprint.get("/campaigns")
def campaign_list() -> str:
    work_filter = list_filter()
    with transaction(readonly=True) as session:
        summaries, count, next_after = read_page(
            lambda after: campaign_list_page(session, web_actor(), work_filter, after=after)
        )
    states = [("running", _("Running")), ("closed", _("Campaign ended"))]
    return render_template(
        "campaigns/campaigns.html",
        campaigns=summaries,
        count=count,
        work_filter=work_filter,
        filters=filter_form(work_filter, fields=("q", "state"), states=states),
        links=page_links("campaigns.campaign_list", work_filter, next_after),
    )


@blueprint.get("/campaigns/<int:campaign_id>")
def campaign_page(campaign_id: int) -> str:
    with transaction(readonly=True) as session:
        return render_template(
            "campaigns/campaign.html", **_campaign_view(session, campaign_id, web_actor())
        )


@blueprint.get("/campaigns/<int:campaign_id>/advance")
def confirm_advance(campaign_id: int) -> BaseResponse | str:
    """The step before leaving a phase: which phase is left, which is entered, whether that one has
    required work; its form alone advances."""
    try:
        with transaction(readonly=True) as session:
            preview = advance_preview(session, campaign_id, by=web_actor())
            english = campaign_twins(session, {campaign_id})[campaign_id]
    except TransitionRefused:  # closed: there is no phase left to leave
        return back_with(
            _("The campaign is closed: there is no phase to leave."),
            None,
            url_for("campaigns.campaign_page", campaign_id=campaign_id),
            "info",
        )
    return render_template(
        "campaigns/advance.html", preview=preview, english=english, form=ActionForm()
    )


@blueprint.post("/campaigns/<int:campaign_id>/advance")
def advance(campaign_id: int) -> BaseResponse:
    """One move, answered by a redirect whatever the outcome: a page answered here would be sent
    again by a reload (PITFALLS.md, Forms)."""
    here = url_for("campaigns.campaign_page", campaign_id=campaign_id)
    if not ActionForm().validate_on_submit():
        return back_with(None, None, here)
    by = web_actor()
    seen = request.form.get("from") or None
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
                from_phase=seen,
            )
    except TransitionRefused as refused:
        below = [b for b in refused.blockers if b.kind == "campaign"]
        if below:  # the campaign page lists the sub-units, each a link to drill down
            message = _(
                "The campaign cannot leave this phase yet: the campaigns of %(units)s are not done "
                "with it.",
                units="、".join(b.unit or "" for b in below),
            )
            return back_with(message, None, f"{here}#blockers")
        if refused.blockers:  # the campaign page lists them, each a link to act on
            message = _(
                "The campaign cannot leave this phase yet: %(count)d items are still open.",
                count=len(refused.blockers),
            )
            return back_with(message, None, f"{here}#blockers")
        message, category = _not_moved(campaign_id, seen, refused)
        return back_with(message, None, here, category)
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


@blueprint.post("/campaigns/<int:campaign_id>/sub-campaigns")
def start_late_sub_campaign(campaign_id: int) -> BaseResponse:
    """A coordinator starts the campaign of a sub-unit that joined after the cascade."""
    here = url_for("campaigns.campaign_page", campaign_id=campaign_id)
    if not ActionForm().validate_on_submit():
        return back_with(None, None, here)
    try:
        with transaction() as session:
            child = start_late_child(
                session,
                campaign_id,
                request.form.get("unit", ""),
                by=web_actor(),
                clock=clock(),
                calendar=calendar(session),
            )
            child_id, title = child.id, child.title
    except (Conflict, InvalidInput, TransitionRefused) as error:
        return back_with(refusal(error), None, here)
    return back_with(
        _("%(title)s is started.", title=title),
        None,
        url_for("campaigns.campaign_page", campaign_id=child_id),
        "success",
    )


@blueprint.post("/campaigns/<int:campaign_id>/stand-ins")
def name_stand_in_page(campaign_id: int) -> BaseResponse:
    """A coordinator names a stand-in (代理) for a person of the campaign while they are away."""
    form = CampaignStandInForm()
    here = url_for("campaigns.campaign_page", campaign_id=campaign_id)
    if not form.validate_on_submit():
        return back_with(first_error(form), None, here)
    try:
        with transaction() as session:
            named = name_campaign_stand_in(
                session,
                campaign_id,
                form.absent.data or "",
                form.stand_in.data or "",
                form.starts_on.data,  # type: ignore[arg-type]
                form.ends_on.data,  # type: ignore[arg-type]
                by=web_actor(),
                clock=clock(),
            )
            message = _(
                "%(stand_in)s stands in for %(person)s from %(first)s to %(last)s.",
                stand_in=named.stand_in.name,
                person=named.person.name,
                first=written_date(named.starts_on),
                last=written_date(named.ends_on),
            )
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), None, here)
    return back_with(message, None, here, "success")


@blueprint.get("/campaigns/<int:campaign_id>/escalations")
def escalation_log(campaign_id: int) -> str:
    by = web_actor()
    work_filter = list_filter()
    with transaction(readonly=True) as session:
        page = read_page(  # NotFound outside the group
            lambda after: escalation_page(session, campaign_id, work_filter, after=after, by=by)
        )
        return render_template(
            "campaigns/escalations.html",
            campaign=load_campaign(session, campaign_id),
            escalations=page.entries,
            page=page,
            work_filter=work_filter,
            filters=filter_form(work_filter, fields=("kind", "level")),
            links=page_links(
                "campaigns.escalation_log", work_filter, page.next_after, campaign_id=campaign_id
            ),
            undeliverable=undeliverable_mails(session, campaign_id, by),
        )


def _not_moved(campaign_id: int, seen: str | None, refused: TransitionRefused) -> tuple[str, str]:
    """The message for an advance refused with nothing blocking: mostly a second click, or another
    coordinator, that found the campaign already past the phase its page showed."""
    # only a coordinator is refused this way (the engine checks access first): they may read it
    with transaction(readonly=True) as session:
        facts = campaign_facts(session, {campaign_id}, include_closed=True)[campaign_id]
    if seen is None or facts.state == seen:
        return refusal(refused), "error"
    titles = facts.phase_titles.get(facts.state)
    if titles is None:  # past the last phase
        return _("Already advanced: the campaign has closed."), "info"
    return _("Already advanced to %(phase)s.", phase=localized(*titles)), "info"


def _campaign_view(session: Session, campaign_id: int, by: Actor) -> dict[str, Any]:
    # NotFound unless they take part or hold items in it (then the page is theirs, read-only)
    status = campaign_status(session, campaign_id, clock=clock(), by=by)
    campaign = load_campaign(session, campaign_id)
    access = campaign_access(session, campaign, by)
    standing = (
        campaign_standing(session, campaign_id, by=by, clock=clock(), calendar=calendar(session))
        if access.leading_group
        else None
    )
    below = (
        sub_campaigns(session, campaign_id, by=by, clock=clock(), calendar=calendar(session))
        if access.leading_group and campaign.child_definition_id is not None
        else None
    )
    hand_over_form = stand_in_form = None
    if access.coordinator:
        people = register_choices(session, campaign_id, by=by).people
        hand_over_form, stand_in_form = HandOverForm(), CampaignStandInForm()
        choices = [("", _("Choose a person"))] + [(p.code, f"{p.name} <{p.code}>") for p in people]
        for field in (
            hand_over_form.leaving,
            hand_over_form.successor,
            stand_in_form.absent,
            stand_in_form.stand_in,
        ):
            field.choices = options(choices)
    return {
        "status": status,
        "campaign": campaign,
        "access": access,
        "standing": standing,
        "below": below,
        # what keeps it in its phase from below: the page names each sub-unit and links to it
        "blocked_below": below.blocked if below is not None else [],
        "late_units": units_without_campaign(session, campaign) if access.coordinator else [],
        "parent": load_campaign(session, campaign.parent_id)
        if campaign.parent_id is not None and access.from_above
        else None,
        "blockers": phase_blockers_seen_by(session, campaign_id, by=by),
        "hand_over_form": hand_over_form,
        "stand_in_form": stand_in_form,
        "held": items_held(session, campaign_id, by=by) if access.own_items_only else [],
    }
