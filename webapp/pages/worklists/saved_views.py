"""Saved views (「视图」): keep a work list's filter under a name, open it from the navigation,
share a register's view with the campaign's leading group, delete it. Each view opens its list's
own address, so it shows what the reader may see and no more."""

from __future__ import annotations

from flask import g, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth.identity import web_actor
from webapp.pages.common import back_with, clock, page_blueprint, refusal, transaction
from webapp.pages.forms import ActionForm, SaveViewForm, first_error
from workflow.errors import Conflict, InvalidInput
from workflow.worklists.views import ViewLink, delete_view, save_view, share_view, views_for

blueprint = page_blueprint("saved_views")


@blueprint.app_template_global("saved_views")
def saved_views() -> list[ViewLink]:
    """The views the signed-in person finds in the navigation (base.html): read once per request,
    by a page that shows the navigation."""
    views = g.get("saved_views")
    if views is None:
        by = web_actor()
        with transaction(readonly=True) as session:
            views = g.saved_views = views_for(session, by.person_id) if by.person_id else []  # type: ignore[arg-type]
    return views


@blueprint.app_template_global("view_url")
def view_url(view: ViewLink) -> str:
    """The address of the list a view filters, with its filter."""
    if view.list_name == "register":
        return url_for("hazards.register_page", campaign_id=view.campaign_id) + _query(view)
    endpoint = "inbox.done" if view.list_name == "done" else "inbox.home"
    return url_for(endpoint) + _query(view)


@blueprint.get("/views")
def view_list() -> str:
    return render_template("saved_views/views.html", views=saved_views(), action=ActionForm())


@blueprint.post("/views")
def save() -> BaseResponse:
    form = SaveViewForm()
    views_page = url_for("saved_views.view_list")
    if not form.validate_on_submit():
        return back_with(first_error(form), None, views_page)
    campaign = form.campaign.data or ""
    try:
        with transaction() as session:
            view = save_view(
                session,
                name=form.name.data or "",
                list_name=form.list_name.data or "",
                query=form.query.data or "",
                campaign_id=int(campaign) if campaign.isdigit() else None,
                by=web_actor(),
                now=clock().now(),
            )
            link = ViewLink(
                view.id, view.name, view.list_name, view.campaign_id, view.query, False, True
            )
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), None, views_page)
    return back_with(_("View saved: %(name)s", name=link.name), None, view_url(link), "success")


@blueprint.post("/views/<int:view_id>/share")
def share(view_id: int) -> BaseResponse:
    return _change(view_id, shared=True)


@blueprint.post("/views/<int:view_id>/unshare")
def unshare(view_id: int) -> BaseResponse:
    return _change(view_id, shared=False)


@blueprint.post("/views/<int:view_id>/delete")
def delete(view_id: int) -> BaseResponse:
    return _change(view_id, shared=None)


# --- helpers ------------------------------------------------------------------------------------


def _query(view: ViewLink) -> str:
    return f"?{view.query}" if view.query else ""


def _change(view_id: int, *, shared: bool | None) -> BaseResponse:
    """Share, stop sharing (``shared``) or delete (None) one of one's views."""
    form = ActionForm()
    views_page = url_for("saved_views.view_list")
    if not form.validate_on_submit():
        return back_with(first_error(form), None, views_page)
    try:
        with transaction() as session:
            if shared is None:
                delete_view(session, view_id, by=web_actor())
            else:
                share_view(session, view_id, shared=shared, by=web_actor())
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), None, views_page)
    messages = {
        True: _("Shared with the campaign's leading group."),
        False: _("No longer shared."),
        None: _("View deleted."),
    }
    return back_with(messages[shared], None, views_page, "success")
