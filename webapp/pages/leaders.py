"""The leader's view: what has been escalated to me, by level and age, and each campaign's units at
a glance; and the main menu's entries each person uses (the leader view among them)."""

from __future__ import annotations

from flask import g, render_template

from webapp.auth.identity import web_actor
from webapp.pages.common import calendar, clock, page_blueprint, transaction
from workflow.access import MenuEntries, load_campaign, menu_entries
from workflow.machines import CLOSED
from workflow.views.levels import sub_campaigns
from workflow.views.standing import campaign_standing, campaigns_for, escalated_to

blueprint = page_blueprint("leaders")


@blueprint.get("/leader")
def overview() -> str:
    by = web_actor()
    with transaction(readonly=True) as session:
        days = calendar(session)
        escalated = escalated_to(session, by.person_id, clock=clock(), calendar=days)  # type: ignore[arg-type]
        standings = [
            campaign_standing(session, summary.id, by=by, clock=clock(), calendar=days)
            for summary in campaigns_for(session, by)
            if summary.access.leading_group and summary.state != CLOSED
        ]
        # a county's leaders see each town's campaign with its villages' summed in
        below = {
            standing.id: sub_campaigns(session, standing.id, by=by, clock=clock(), calendar=days)
            for standing in standings
            if load_campaign(session, standing.id).child_definition_id is not None
        }
    return render_template(
        "leaders/leader.html", escalated=escalated, standings=standings, below=below
    )


@blueprint.app_template_global("menu")
def menu() -> MenuEntries:
    """The main menu's entries the signed-in person uses (base.html): worked out once per request,
    in one small statement, and only by a page that shows the menu."""
    entries = g.get("menu_entries")
    if entries is None:
        with transaction(readonly=True) as session:
            entries = g.menu_entries = menu_entries(session, web_actor())
    return entries
