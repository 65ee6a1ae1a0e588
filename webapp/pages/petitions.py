"""A letter or visit (信访): its page, which the mails about it link to, and marking it processed
(办结).

Only its responsible person and the campaign's leading group see it; the
engine says who may mark it processed (``process_petition``), and a refusal is
shown on the form with what was typed.
"""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth.identity import web_actor
from webapp.pages.common import back_with, clock, page_blueprint, refusal, transaction
from webapp.pages.forms import ProcessPetitionForm, first_error
from workflow.errors import Conflict, Forbidden, InvalidInput
from workflow.petitions.handling import process_petition
from workflow.petitions.reading import petition_page as petition_view

blueprint = page_blueprint("petitions")


@blueprint.get("/petitions/<int:petition_id>")
def petition_page(petition_id: int) -> str:
    return _page(petition_id, ProcessPetitionForm())


@blueprint.post("/petitions/<int:petition_id>/process")
def process(petition_id: int) -> BaseResponse | tuple[str, int]:
    form = ProcessPetitionForm()
    if not form.validate_on_submit():
        return _page(petition_id, form, first_error(form)), 422
    try:
        with transaction() as session:
            process_petition(
                session, petition_id, by=web_actor(), clock=clock(), outcome=form.outcome.data
            )
    except (Conflict, Forbidden, InvalidInput) as error:
        return _page(petition_id, form, refusal(error)), error.status
    return back_with(
        _("Marked processed."),
        None,
        url_for("petitions.petition_page", petition_id=petition_id),
        "success",
    )


def _page(petition_id: int, form: ProcessPetitionForm, error: str | None = None) -> str:
    with transaction(readonly=True) as session:
        # NotFound: not theirs
        petition = petition_view(session, petition_id, by=web_actor(), clock=clock())
    return render_template("petitions/petition.html", petition=petition, form=form, error=error)
