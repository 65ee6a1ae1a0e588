"""A check-in at a key site (巡查打卡), and the patrol or inspection occurrences it fulfils.

One tap at the site records who was there and when by the server's clock; the phone's own clock
is kept beside it when the two differ (a check-in captured with no signal is sent hours later),
and where the phone was when the person allowed the browser to say. A check-in checks off the
site's open occurrences of a recurring duty (a patrol, a monthly inspection) that are the
person's own, or of someone they stand in for today: a coordinator's visit does not check off the
keeper's patrol. An inspection with hazards registered from it is recorded as having found them,
one without as having found no problems, as the keeper would say at the site. A check-in that
fulfils nothing is still kept: the report counts visits per period.

The form's one-time key is claimed first (``form_keys``): a check-in that waited on the phone and
is sent twice, because the first answer was lost on the way back, is recorded once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.audit import Actor
from workflow.campaigns.tasks import complete_task
from workflow.clock import Clock
from workflow.errors import InvalidInput
from workflow.field.sites import visitable_site
from workflow.field.visits import SAME_TIME, visited_at
from workflow.form_keys import claim, created
from workflow.hazards.evidence import AcceptedUpload, attach_visit_photos
from workflow.limits import NOTE_LIMIT
from workflow.models import SiteVisit, Task


@dataclass(frozen=True)
class Location:
    """Where the phone was, as the browser's geolocation said (only when the person allowed it)."""

    latitude: float
    longitude: float
    accuracy_m: float | None = None

    def __post_init__(self) -> None:
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise InvalidInput("the location is not on the earth (latitude, longitude)")
        if self.accuracy_m is not None and not 0 <= self.accuracy_m <= 100_000:
            raise InvalidInput("the location's accuracy must be between 0 and 100000 metres")


@dataclass(frozen=True)
class CheckIn:
    visit: SiteVisit
    fulfilled: list[Task]


def check_in(
    session: Session,
    site_id: int,
    *,
    by: Actor,
    clock: Clock,
    note: str | None = None,
    phone_at: datetime | None = None,
    location: Location | None = None,
    form_key: str | None = None,
    photos: Sequence[AcceptedUpload] = (),
) -> CheckIn:
    """Record a visit to the site and check off the open patrols and inspections it fulfils."""
    now = clock.now()
    visitable = visitable_site(session, site_id, by, now)
    site = visitable.site
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_LIMIT:
        raise InvalidInput(f"the note is too long (at most {NOTE_LIMIT} characters)")
    if phone_at is not None and phone_at.tzinfo is None:
        raise InvalidInput("the phone's time needs a time zone")
    claimed = claim(session, form_key, by=by, now=now, entity="site_visit")
    visit = SiteVisit(
        site_id=site.id,
        person_id=by.person_id,
        at=now,
        phone_at=phone_at if phone_at and abs(phone_at - now) > SAME_TIME else None,
        latitude=location.latitude if location else None,
        longitude=location.longitude if location else None,
        accuracy_m=location.accuracy_m if location else None,
        note=note,
    )
    session.add(visit)
    session.flush()
    created(session, claimed, visit.id)
    attach_visit_photos(session, visit.id, list(photos), by=by, now=now)
    audit.record(
        session,
        at=now,
        by=by,
        entity="site_visit",
        entity_id=visit.id,
        event="check_in",
        from_state=None,
        to_state=None,
        campaign_id=None,
        note=f"{site.name}: {note}" if note else site.name,
    )
    fulfilled = []
    for task in _open_occurrences(session, site.id, visited_at(visit), visitable.people):
        done = complete_task(
            session, task.id, by=by, clock=clock, note=note or site.name, no_problems=True
        )
        done.visit_id = visit.id
        fulfilled.append(done)
    session.flush()
    return CheckIn(visit, fulfilled)


def phone_time_from(text: str | None) -> datetime | None:
    """The phone's time as its script sends it (ISO 8601 with a zone: :func:`check_in` refuses one
    without), or None when not sent."""
    if not text or not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"the phone's time is not a date and time: {text[:40]}") from None


def location_from(
    latitude: str | None, longitude: str | None, accuracy: str | None
) -> Location | None:
    """Where the phone was, from the form's fields; None when the person did not give it."""
    if not (latitude and longitude):
        return None
    try:
        return Location(float(latitude), float(longitude), float(accuracy) if accuracy else None)
    except ValueError:
        raise InvalidInput("the location is not a pair of numbers") from None


# --- helpers -------------------------------------------------------------------------------------


def _open_occurrences(
    session: Session, site_id: int, at: datetime, people: frozenset[int]
) -> list[Task]:
    """The site's recurring occurrences of ``people`` open at ``at``: started, not checked off."""
    return list(
        session.scalars(
            select(Task)
            .where(
                Task.site_id == site_id,
                Task.state == "open",
                Task.period.is_not(None),
                Task.assignee_id.in_(people),
                Task.created_at <= at,
            )
            .order_by(Task.due_at, Task.id)
        )
    )
