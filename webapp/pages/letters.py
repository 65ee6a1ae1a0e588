"""Responsibility letters (责任书): a letter's page, which prints on one A4 sheet with both
signature blocks and which the mail to its signer links to; the campaign's letters for its leading
group; and the two moves, issue and sign (also offered in the inbox).

The engine says who sees a letter and who may move it
(``workflow/campaigns/letters.py``); a refusal comes back as a message on the
page the form was posted from (one not theirs to make is answered 403 or 404,
as every move is). Each move's form carries a one-time key, so a
double click or a reload answers "submitted before" instead of a refusal.
"""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth.identity import web_actor
from webapp.pages.common import (
    back_with,
    base_url,
    clock,
    page_blueprint,
    refusal,
    submitted_before,
    transaction,
)
from webapp.pages.forms import LetterMoveForm, first_error
from workflow.access import Need, campaign_for
from workflow.campaigns.letters import issue_letter, load_letter, sign_letter
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.form_keys import AlreadySubmitted
from workflow.views.inbox import campaign_facts
from workflow.views.letters import campaign_letters, letter_sheet

blueprint = page_blueprint("letters")


@blueprint.get("/campaigns/<int:campaign_id>/letters")
def letter_list(campaign_id: int) -> str:
    """Every letter of the campaign and where it stands: for its leading group (others: not
    found)."""
    by = web_actor()
    with transaction(readonly=True) as session:
        campaign = campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
        facts = campaign_facts(session, {campaign.id}, include_closed=True)[campaign.id]
        letters = campaign_letters(session, campaign.id, by=by)
    return render_template("letters/letters.html", campaign=facts, letters=letters)


@blueprint.get("/campaigns/<int:campaign_id>/letters/<int:letter_id>")
def letter_page(campaign_id: int, letter_id: int) -> str:
    with transaction(readonly=True) as session:
        sheet = letter_sheet(session, campaign_id, letter_id, by=web_actor(), clock=clock())
    return render_template("letters/letter.html", letter=sheet, form=LetterMoveForm())


@blueprint.post("/campaigns/<int:campaign_id>/letters/<int:letter_id>/<any(issue, sign):move>")
def letter_move(campaign_id: int, letter_id: int, move: str) -> BaseResponse:
    """Issue (甲方) or sign (乙方) the letter; back to the page the form was on, saying what
    happened."""
    form = LetterMoveForm()
    here = url_for("letters.letter_page", campaign_id=campaign_id, letter_id=letter_id)
    if not form.validate_on_submit():
        return back_with(first_error(form), form.next.data, here)
    by = web_actor()
    try:
        with transaction() as session:
            campaign = load_letter(session, letter_id, by)[1]
            if campaign.id != campaign_id:
                raise NotFound(f"no letter {letter_id}")
            if move == "issue":
                letter = issue_letter(
                    session,
                    letter_id,
                    by=by,
                    clock=clock(),
                    base_url=base_url(),
                    form_key=form.form_key.data,
                )
            else:
                letter = sign_letter(
                    session, letter_id, by=by, clock=clock(), form_key=form.form_key.data
                )
            title = letter.title
    except AlreadySubmitted:
        return submitted_before(here)
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), form.next.data, here)
    done = (
        _("Issued: %(title)s. Its signer is told by mail.", title=title)
        if move == "issue"
        else _("Signed: %(title)s.", title=title)
    )
    return back_with(done, form.next.data, here, "success")
