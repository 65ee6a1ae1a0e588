"""Saved views: a work list's filter kept under a name (「本周到期的重大隐患」), found in its
owner's navigation. A coordinator of a campaign may share a view of its register with the campaign's
leading group: each of them then finds it in their navigation too, under the name given, and
reads it with their own access (a view is a filter, never a grant).

A view keeps the filter as the list's address writes it (``unit=east&due=overdue``), checked when
saved, so it opens the same page a shared link opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.access import Need, campaign_for, leading_groups_of, require_coordinator
from workflow.audit import Actor
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.limits import MAX_SAVED_VIEWS, VIEW_NAME_LIMIT, VIEW_QUERY_LIMIT
from workflow.machines import CLOSED
from workflow.models import Campaign, SavedView
from workflow.worklists.filters import LISTS, read_filter


@dataclass(frozen=True)
class ViewLink:
    """A saved view as the navigation lists it."""

    id: int
    name: str
    list_name: str
    campaign_id: int | None
    query: str
    shared: bool
    mine: bool  # False: shared with me by a coordinator of the campaign
    campaign_title: str | None = None


def save_view(
    session: Session,
    *,
    name: str,
    list_name: str,
    query: str,
    campaign_id: int | None,
    by: Actor,
    now: datetime,
) -> SavedView:
    """Keep ``query`` (a list's filter as its address writes it) under ``name`` for ``by``."""
    if by.person_id is None:
        raise InvalidInput("only a person keeps views")
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("a view needs a name")
    if len(name) > VIEW_NAME_LIMIT:
        raise InvalidInput(f"a view's name must be at most {VIEW_NAME_LIMIT} characters")
    if list_name not in LISTS:
        raise InvalidInput(f"list must be one of {', '.join(LISTS)}")
    kept = _kept_query(query)
    if list_name == "register":
        if campaign_id is None:
            raise InvalidInput("a view of a register names its campaign")
        campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
    elif campaign_id is not None:  # a view of one's inbox may narrow it to a campaign
        campaign_for(session, campaign_id, by, Need.OWN_ITEMS)
    owned = select(SavedView.id).where(SavedView.owner_id == by.person_id)
    if len(session.scalars(owned).all()) >= MAX_SAVED_VIEWS:
        raise Conflict(f"at most {MAX_SAVED_VIEWS} saved views each: delete one first")
    view = SavedView(
        owner_id=by.person_id,
        name=name,
        list_name=list_name,
        campaign_id=campaign_id,
        query=kept,
        shared=False,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(view)
            session.flush()
    except IntegrityError:
        raise Conflict(f"you already have a view named {name}") from None
    return view


def share_view(session: Session, view_id: int, *, shared: bool, by: Actor) -> SavedView:
    """Share a view of a campaign with its leading group, or stop sharing it: its owner, a
    coordinator of the campaign, only."""
    view = _own_view(session, view_id, by)
    if view.campaign_id is None:
        raise InvalidInput("only a view of a campaign is shared, with its leading group")
    campaign = campaign_for(session, view.campaign_id, by, Need.LEADING_GROUP)
    require_coordinator(session, campaign, by, doing="share a view with the leading group")
    view.shared = shared
    return view


def delete_view(session: Session, view_id: int, *, by: Actor) -> None:
    """Delete one of one's own views (those shared with the leading group disappear for them)."""
    session.delete(_own_view(session, view_id, by))


def views_for(session: Session, person_id: int) -> list[ViewLink]:
    """The views a person finds in the navigation: their own, then those shared with a leading
    group they belong to (of campaigns not closed), by name."""
    query = (
        select(SavedView, Campaign.title)
        .outerjoin(Campaign, Campaign.id == SavedView.campaign_id)
        .where(
            or_(
                SavedView.owner_id == person_id,
                and_(
                    SavedView.shared.is_(True),
                    Campaign.state != CLOSED,
                    SavedView.campaign_id.in_(leading_groups_of(person_id)),
                ),
            )
        )
        .order_by(SavedView.owner_id != person_id, SavedView.name, SavedView.id)
    )
    return [
        ViewLink(
            view.id,
            view.name,
            view.list_name,
            view.campaign_id,
            view.query,
            view.shared,
            view.owner_id == person_id,
            title,
        )
        for view, title in session.execute(query)
    ]


# --- helpers ------------------------------------------------------------------------------------


def _kept_query(query: str) -> str:
    """The filter's names only, in their order, checked as the list reads them."""
    if len(query) > VIEW_QUERY_LIMIT:
        raise InvalidInput(f"a view's filter must be at most {VIEW_QUERY_LIMIT} characters")
    pairs = dict(parse_qsl(query.lstrip("?")))
    return urlencode(read_filter(pairs).query())


def _own_view(session: Session, view_id: int, by: Actor) -> SavedView:
    view = session.get(SavedView, view_id)
    if view is None or view.owner_id != by.person_id:
        raise NotFound(f"no view {view_id}")
    return view
