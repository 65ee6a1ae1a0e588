"""The score sheets (考核评分): the inspecting group enters each unit's points and findings during
the scoring phase; everyone of the leading group reads them, and after the phase they are frozen and
only read.

A sheet's fields follow the definition (``item:<id>``, ``veto:<id>``,
``criticism:<id>``), so they are read from the request here rather than
declared on a form class. An empty points field clears the item, an empty
reason withdraws the finding. Whether the points are in range, the person may
score, the phase is open: the engine says (``enter_scores``), and a refusal is
shown on the unit's sheet with what was typed, nothing saved.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth.identity import web_actor
from webapp.pages.common import back_with, clock, page_blueprint, refusal, transaction
from webapp.pages.forms import ActionForm
from workflow.assessment.score_sheets import score_sheets
from workflow.assessment.scores import ScoreSheet, enter_scores
from workflow.errors import Conflict, Forbidden, InvalidInput

blueprint = page_blueprint("scores")


@blueprint.get("/campaigns/<int:campaign_id>/scores")
def score_sheets_page(campaign_id: int) -> str:
    return _sheets_page(campaign_id)


@blueprint.post("/campaigns/<int:campaign_id>/scores/<unit_code>")
def enter(campaign_id: int, unit_code: str) -> BaseResponse | tuple[str, int]:
    # the CSRF token, the sheet's only fixed field, was checked before any page's form (security.py)
    try:
        with transaction() as session:
            result = enter_scores(
                session,
                campaign_id,
                unit_code,
                score_sheet_from(request.form),
                by=web_actor(),
                clock=clock(),
            )
            name, score = result.name, result.score
    except (Conflict, Forbidden, InvalidInput) as error:
        return _sheets_page(
            campaign_id, refused=(unit_code, refusal(error), request.form)
        ), error.status
    here = url_for(
        "scores.score_sheets_page", campaign_id=campaign_id, _anchor=f"sheet-{unit_code}"
    )
    return back_with(
        _("Saved: %(unit)s now has %(score)s points.", unit=name, score=f"{score:g}"),
        None,
        here,
        "success",
    )


def score_sheet_from(fields: MultiDict[str, str]) -> ScoreSheet:
    """The sheet as typed: points as numbers (text that is no number goes to the engine as it is, to
    be refused)."""
    items: dict[str, Any] = {}
    vetoes: dict[str, str | None] = {}
    criticisms: dict[str, str | None] = {}
    for name, value in fields.items():
        kind, _colon, key = name.partition(":")
        value = value.strip()
        if kind == "item" and key:
            items[key] = _points(value)
        elif kind == "veto" and key:
            vetoes[key] = value or None
        elif kind == "criticism" and key:
            criticisms[key] = value or None
    return ScoreSheet(items=items, vetoes=vetoes, criticisms=criticisms)


def _points(typed: str) -> float | str | None:
    if not typed:
        return None
    try:
        return float(typed)
    except ValueError:
        return typed


def _sheets_page(
    campaign_id: int, refused: tuple[str, str, MultiDict[str, str]] | None = None
) -> str:
    with transaction(readonly=True) as session:
        # NotFound outside the group
        sheets = score_sheets(session, campaign_id, by=web_actor(), clock=clock())
    return render_template("scores/scores.html", sheets=sheets, form=ActionForm(), refused=refused)
