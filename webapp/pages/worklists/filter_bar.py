"""What the work-list pages share (the inbox, the done list, the register): the filter read from
the address, the filter bar's choices, the links to the next and first page, the form that saves
the filter as a view (the searched words are highlighted by ``common.highlighted``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from flask import flash, request, url_for
from flask_babel import gettext as _

from webapp.pages.common import refusal
from webapp.pages.forms import SaveViewForm, WorkFilterForm, options
from workflow.errors import InvalidInput
from workflow.worklists.filters import WorkFilter, read_filter

T = TypeVar("T")


def list_filter() -> WorkFilter:
    """The filter the page's address gives; a bad value is said, and the list shown unfiltered."""
    try:
        return read_filter(request.args)
    except InvalidInput as error:
        flash(refusal(error), "error")
        return WorkFilter()


def page_after() -> str | None:
    """The key of the page asked for (``after``), if any."""
    return request.args.get("after") or None


def read_page(read: Callable[[str | None], T]) -> T:
    """``read(after)``: the page the address asks for. A page key altered by hand (or one of an
    order the list no longer has) is said, and the first page is read instead."""
    after = page_after()
    if after is None:
        return read(None)
    try:
        return read(after)
    except InvalidInput as error:
        flash(refusal(error), "error")
        return read(None)


def filter_form(
    work_filter: WorkFilter,
    *,
    fields: Iterable[str],
    campaigns: Iterable[tuple[int, str]] = (),
    units: Iterable[tuple[str, str]] = (),
    sites: Iterable[tuple[str, str]] = (),
    people: Iterable[tuple[str, str]] = (),
    states: Iterable[tuple[str, str]] = (),
    sorts: Iterable[str] = ("due", "registered", "level"),
) -> WorkFilterForm:
    """The filter bar with the choices of this list, showing ``work_filter``; ``fields`` are those
    this list offers (the others are removed)."""
    form = WorkFilterForm(request.args)
    every = [("", _("All"))]
    form.campaign.choices = options(every + [(str(key), name) for key, name in campaigns])
    form.unit.choices = options(every + list(units))
    form.site.choices = options(every + list(sites))
    form.responsible.choices = options(every + list(people))
    form.state.choices = options(every + list(states))
    form.kind.choices = options(
        every + [("task", _("Tasks")), ("rectification", _("Hazard rectifications"))]
    )
    form.severity.choices = options(every + [("minor", _("Minor")), ("major", _("Major"))])
    form.due.choices = options(
        every
        + [
            ("overdue", _("Overdue")),
            ("soon", _("Due within %(num)d working days", num=work_filter.within)),
            ("later", _("Later")),
        ]
    )
    form.level.choices = options(
        [("", _("Any"))]
        + [("0", _("Reminded"))]
        + [(str(level), _("Level %(num)d or higher", num=level)) for level in (1, 2, 3)]
    )
    names = {
        "due": _("Due date"),
        "registered": _("Registered, newest first"),
        "level": _("Escalation level, highest first"),
        "finished": _("Finished, newest first"),
        "relevance": _("Best match"),
    }
    form.sort.choices = options([("", _("Default"))] + [(key, names[key]) for key in sorts])
    for name in [field.name for field in form]:
        if name not in fields:
            delattr(form, name)
    return form


def save_view_form(
    list_name: str, work_filter: WorkFilter, campaign_id: int | None
) -> SaveViewForm:
    """The form that keeps this list's filter as a view."""
    form = SaveViewForm()
    form.list_name.data = list_name
    form.campaign.data = str(campaign_id) if campaign_id else ""
    form.query.data = work_filter.query_string()
    return form


def page_links(
    endpoint: str, work_filter: WorkFilter, next_after: str | None, **values: object
) -> dict[str, str | None]:
    """The addresses of the next page and of the first one (None where there is none)."""
    query = work_filter.query()
    return {
        "next": url_for(endpoint, **values, **query, after=next_after) if next_after else None,
        "first": url_for(endpoint, **values, **query) if page_after() else None,
        "clear": url_for(endpoint, **values),
    }
