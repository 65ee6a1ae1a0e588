"""The inbox, every assignee's home page: what awaits my decision (a coordinator's); what is
overdue, due within 3 working days, later; the letters and visits to process; the responsibility
letters to issue or sign; and what is done."""

from __future__ import annotations

from flask import g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth.identity import web_actor
from webapp.errors import database_id
from webapp.i18n import localized
from webapp.pages.common import back_with, calendar, clock, page_blueprint, refusal, transaction
from webapp.pages.forms import BulkCheckOffForm, CheckOffForm, ReportFixedForm, first_error
from webapp.pages.worklists.filter_bar import (
    filter_form,
    list_filter,
    page_links,
    read_page,
    save_view_form,
)
from workflow.access import menu_entries
from workflow.campaigns.tasks import complete_task
from workflow.errors import Conflict, InvalidInput
from workflow.field.sites import my_sites
from workflow.form_keys import new_key
from workflow.limits import MAX_SELECTED_TASKS
from workflow.petitions.reading import open_petitions
from workflow.views import inbox as engine_inbox
from workflow.views.awaiting import awaiting_decision
from workflow.views.letters import letters_to_act_on
from workflow.views.standing import escalated_to

blueprint = page_blueprint("inbox")


@blueprint.get("/")
def home() -> str:
    by = web_actor()
    work_filter = list_filter()
    with transaction(readonly=True) as session:
        found = read_page(
            lambda after: engine_inbox.inbox_page(
                session,
                by.person_id,  # type: ignore[arg-type]
                work_filter,
                after=after,
                clock=clock(),
                calendar=calendar(session),
            )
        )
        campaigns = [
            (key, localized(title, twin))
            for key, title, twin in engine_inbox.campaign_choices(session, by.person_id)  # type: ignore[arg-type]
        ]
        units, site_choices = engine_inbox.place_choices(session, by.person_id)  # type: ignore[arg-type]
        petitions = open_petitions(session, by.person_id, clock=clock())  # type: ignore[arg-type]
        letters = letters_to_act_on(session, by.person_id)  # type: ignore[arg-type]
        # the keeper's way to his sites, above the whole inbox only (not a narrowed list of it)
        sites = [] if work_filter.narrowed else my_sites(session, by.person_id)  # type: ignore[arg-type]
        # a leader's inbox includes what climbed to them from every level below
        entries = g.menu_entries = menu_entries(session, by)
        escalated = (
            escalated_to(session, by.person_id, clock=clock(), calendar=calendar(session))  # type: ignore[arg-type]
            if entries.leader_view
            else None
        )
        waiting = awaiting_decision(
            session,
            by.person_id,  # type: ignore[arg-type]
            clock=clock(),
            calendar=calendar(session),
        )
    return render_template(
        "inbox/inbox.html",
        listing=found,
        inbox=found.inbox,
        work_filter=work_filter,
        filters=filter_form(
            work_filter,
            fields=(
                "q",
                "campaign",
                # a village head's unit is one village: a choice of one is no choice
                *(["unit"] if len(units) > 1 or work_filter.unit else []),
                *(["site"] if len(site_choices) > 1 or work_filter.site else []),
                "kind",
                "severity",
                "due",
                "level",
                "sort",
            ),
            campaigns=campaigns,
            units=units,
            sites=site_choices,
            sorts=("due", "registered", "level", "relevance"),
        ),
        my_sites=sites,
        links=page_links("inbox.home", work_filter, found.next_after),
        save_form=save_view_form("inbox", work_filter, work_filter.campaign),
        petitions=petitions,
        letters=letters,
        awaiting=waiting,
        escalated=escalated,
        check_off=CheckOffForm(),
        report_fixed=ReportFixedForm(),
        bulk=BulkCheckOffForm(),
        # each rectification's report-fixed form, and each letter's, gets a one-time key of its own
        new_form_key=new_key,
    )


@blueprint.get("/done")
def done() -> str:
    by = web_actor()
    work_filter = list_filter()
    with transaction(readonly=True) as session:
        found = read_page(
            lambda after: engine_inbox.done_page(
                session,
                by.person_id,  # type: ignore[arg-type]
                work_filter,
                after=after,
                clock=clock(),
                calendar=calendar(session),
            )
        )
        campaigns = [
            (key, localized(title, twin))
            for key, title, twin in engine_inbox.campaign_choices(session, by.person_id)  # type: ignore[arg-type]
        ]
    states = [
        ("done", _("Done")),
        ("verified", _("Verified")),
        ("submitted", _("Reported fixed")),
        ("closed", _("Closed")),
    ]
    return render_template(
        "inbox/done.html",
        items=found.items,
        listing=found,
        terms=found.terms,
        work_filter=work_filter,
        filters=filter_form(
            work_filter,
            fields=("q", "campaign", "kind", "state", "sort"),
            campaigns=campaigns,
            states=states,
            sorts=("finished", "registered", "relevance"),
        ),
        links=page_links("inbox.done", work_filter, found.next_after),
        save_form=save_view_form("done", work_filter, work_filter.campaign),
    )


@blueprint.post("/inbox/check-off")
def check_off_selected() -> BaseResponse:
    """Check several tasks off at once with one note: all of them, or none if any is refused."""
    form = BulkCheckOffForm()
    home_page = url_for("inbox.home")
    if not form.validate_on_submit():
        return back_with(first_error(form), None, home_page)
    selected = request.form.getlist("task_id")
    task_ids = sorted({database_id(value) for value in selected})
    if not task_ids:
        return back_with(_("Select the tasks to check off first."), None, home_page)
    if len(task_ids) > MAX_SELECTED_TASKS:
        return back_with(
            _("Select at most %(count)d tasks at once.", count=MAX_SELECTED_TASKS), None, home_page
        )
    by = web_actor()
    try:
        with transaction() as session:
            for task_id in task_ids:
                complete_task(session, task_id, by=by, clock=clock(), note=form.note.data)
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), None, home_page)
    message = ngettext("%(num)d task checked off.", "%(num)d tasks checked off.", len(task_ids))
    return back_with(message, None, home_page, category="success")
