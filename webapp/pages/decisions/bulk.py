"""``/decisions``: a coordinator selects many items and decides them at once (批量处理).

Three steps, each a page: the selection (what awaits my decision, to verify or send back; a
campaign's open work, to reassign), the one confirmation (「确认审核通过 12 项？」), and the result,
each item's outcome. The confirmation is answered at its POST address: it changes nothing, so a
reload only shows it again. The decision's post carries a one-time key (``workflow/form_keys.py``)
and redirects to the result, whose outcomes are kept apart (``outcomes``): a reload or a double
click decides nothing twice. Each checkbox carries the state the item was seen in, so an item
moved by someone else since is reported and left alone (``workflow/campaigns/bulk.py``).
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from webapp.auth.identity import web_actor
from webapp.engine_messages import engine_message
from webapp.errors import database_id
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
from webapp.pages.decisions import outcomes as kept_outcomes
from webapp.pages.forms import OneTimeForm, first_error
from workflow.campaigns.bulk import DECISIONS, KINDS, Selected, decide_many
from workflow.errors import Conflict, InvalidInput, PingAnError
from workflow.form_keys import AlreadySubmitted
from workflow.hazards.ledger import register_choices
from workflow.limits import MAX_DECIDED_AT_ONCE, MAX_WORKING_DAYS, NOTE_LIMIT
from workflow.views.awaiting import awaiting_decision
from workflow.views.open_work import coordinated_campaigns, open_work

blueprint = page_blueprint("bulk")


class SelectionForm(FlaskForm):
    """The selection page's form: the decision, and what goes with it."""

    note = TextAreaField(
        _l("Note or reason, for every selected item"),
        validators=[Optional(), Length(max=NOTE_LIMIT)],
    )
    working_days = IntegerField(
        _l("New deadline of each rectification sent back, in working days"),
        default=5,
        validators=[Optional(), NumberRange(1, MAX_WORKING_DAYS)],
    )
    to = SelectField(_l("Give them to"), validators=[Optional()], validate_choice=False)
    campaign = HiddenField()


class ConfirmForm(OneTimeForm, SelectionForm):
    """The confirmation: what was selected, carried on, and the one-time key."""


@blueprint.get("/decisions")
def selection() -> str:
    by = web_actor()
    with transaction(readonly=True) as session:
        waiting = awaiting_decision(
            session,
            by.person_id,  # type: ignore[arg-type]
            clock=clock(),
            calendar=calendar(session),
            limit=MAX_DECIDED_AT_ONCE,
        )
        campaigns = coordinated_campaigns(session, by)
        chosen = _chosen_campaign(campaigns)
        work = open_work(session, chosen, by=by) if chosen else None
        people = register_choices(session, chosen, by=by).people if chosen else []
    form = SelectionForm(campaign=str(chosen or ""))
    form.to.choices = [("", _("Choose a person"))] + [
        (person.code, f"{person.name} ({person.code})") for person in people
    ]
    return render_template(
        "bulk/selection.html",
        awaiting=[item for item in waiting.items if item.kind in KINDS],
        campaigns=campaigns,
        chosen=chosen,
        work=work,
        form=form,
        limit=MAX_DECIDED_AT_ONCE,
        note_limit=NOTE_LIMIT,
    )


@blueprint.post("/decisions/confirm")
def confirm() -> BaseResponse | str:
    """The one confirmation: what will be done to how many items. Nothing is changed here."""
    form = SelectionForm()
    decision = request.form.get("decision", "")
    back = url_for("bulk.selection", campaign=form.campaign.data or None)
    try:
        items = _selected()
    except InvalidInput as error:
        return back_with(refusal(error), None, back)
    if not form.validate_on_submit() or decision not in DECISIONS:
        return back_with(first_error(form) or _("Choose what to do."), None, back)
    problem = _missing(decision, form, items)
    if problem:
        return back_with(problem, None, back)
    confirmation = ConfirmForm(
        formdata=None,
        note=form.note.data,
        working_days=form.working_days.data,
        to=form.to.data,
        campaign=form.campaign.data,
    )
    confirmation.to.choices = [(form.to.data or "", form.to.data or "")]
    return render_template(
        "bulk/confirm.html",
        decision=decision,
        items=items,
        form=confirmation,
        values=request.form.getlist("item"),
        back=back,
    )


@blueprint.post("/decisions/apply")
def apply() -> BaseResponse:
    form = ConfirmForm()
    decision = request.form.get("decision", "")
    back = url_for("bulk.selection", campaign=form.campaign.data or None)
    if not form.validate_on_submit():
        return back_with(first_error(form), None, back)
    by = web_actor()
    try:
        items = _selected()
        with transaction() as session:
            outcomes = decide_many(
                session,
                items,
                decision,
                by=by,
                clock=clock(),
                calendar=calendar(session),
                base_url=base_url(),
                note=form.note.data,
                to_email=form.to.data,
                deadline_working_days=form.working_days.data,
                form_key=form.form_key.data,
            )
    except AlreadySubmitted:
        return submitted_before(url_for("bulk.result"))
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), None, back)
    kept_outcomes.keep(by.person_id, decision, outcomes)  # type: ignore[arg-type]
    return redirect(url_for("bulk.result"))


@blueprint.get("/decisions/result")
def result() -> BaseResponse | str:
    kept = kept_outcomes.kept(web_actor().person_id)  # type: ignore[arg-type]
    if kept is None:
        return redirect(url_for("bulk.selection"))
    outcomes = kept["outcomes"]
    return render_template(
        "bulk/result.html",
        decision=kept["decision"],
        outcomes=outcomes,
        reasons={
            (o.kind, o.id): engine_message(o.reason) for o in outcomes if o.reason is not None
        },
        counts={
            result: sum(o.result == result for o in outcomes)
            for result in ("decided", "moved", "refused")
        },
    )


# --- helpers ------------------------------------------------------------------------------------


def _selected() -> list[Selected]:
    """The checked items, each ``kind:id:state`` as the selection page drew it."""
    values = request.form.getlist("item")
    if not values:
        raise InvalidInput("select at least one item")
    if len(values) > MAX_DECIDED_AT_ONCE:
        raise InvalidInput(
            f"{len(values)} items selected: at most {MAX_DECIDED_AT_ONCE} are decided at once"
        )
    items = []
    for value in values:
        kind, _sep, rest = value.partition(":")
        number, _sep, state = rest.partition(":")
        if kind not in KINDS or not state:
            abort(404)  # not drawn by the selection page: no item of ours
        items.append(Selected(kind, database_id(number), state[:32]))
    return items


def _missing(decision: str, form: SelectionForm, items: list[Selected]) -> str | None:
    if decision == "reject" and not (form.note.data or "").strip():
        return _("Give the reason for sending them back.")
    if decision == "reject" and any(item.kind == "rectification" for item in items):
        if not form.working_days.data:
            return _("Give the new deadline of the rectifications sent back.")
    if decision == "reassign" and not form.to.data:
        return _("Choose the person who takes them over.")
    return None


def _chosen_campaign(campaigns: list[tuple[int, str]]) -> int | None:
    wanted = request.args.get("campaign")
    ids = [campaign_id for campaign_id, _title in campaigns]
    if wanted:
        try:
            number = database_id(wanted)
        except PingAnError:
            number = None
        if number in ids:
            return number
    return ids[0] if ids else None
