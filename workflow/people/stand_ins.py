"""Stand-ins while away (代理): named for a range of dates, followed in mails and moves, ended by
themselves.

A person away names a stand-in for a range of dates, both ends included; an administrator of
their unit or a coordinator of a campaign they take part in may name one for them
(``access.may_name_stand_in``). During the range:

- every reminder, escalation and new-item mail addressed to the person is copied to the stand-in,
  marked 「代 张三」 (:func:`copy_rows`, :func:`enqueue_to_person`);
- the stand-in may act on the person's tasks and rectifications as the person would; the audit
  trail names both, "lisi@example.org for zhangsan@example.org" (:func:`acting_actor`);
- the person's open items are listed in the stand-in's inbox (:func:`absent_for`).

The day after ``ends_on`` it no longer applies: nothing has to end it. Dates are local dates of
the calendar the caller reads them in: a campaign's time zone for its items, Asia/Shanghai
(``clock.DEFAULT_TIMEZONE``) for naming.

Chains resolve: A away with B standing in, B away with C standing in, A's work reaches C
(:func:`acting_for`). A stand-in that would close a loop on any day of the range is refused when
named; resolution stops at a loop anyway. A person has one stand-in for a day: a range overlapping
one in force is refused (end that one first).

The stand-in must be of the person's organisation: an active person under the same top unit, and,
for every campaign not closed in which the person holds a role or items, of that campaign's unit
or a unit taking part in it (work of a campaign goes only to people of it,
``access.assignable_person``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ScalarSelect, String, bindparam, cast, literal_column, select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.access import (
    Need,
    campaign_for,
    campaign_unit_ids,
    campaigns_held,
    may_name_stand_in,
    require_may_name_stand_in,
    roles_of,
)
from workflow.audit import Actor
from workflow.clock import DEFAULT_TIMEZONE, Clock, local_date
from workflow.db import joined_text
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.machines import CLOSED
from workflow.mail import texts as mailtext
from workflow.mail.outbox import enqueue
from workflow.models import Campaign, Person, StandIn, Unit
from workflow.organisation.directory import person_by_email

# the longest stand-in one may name: a long absence is a hand-over (people/posts.py), not a stand-in
LONGEST_DAYS = 366
# the date edges_column() reads the stand-ins in force on
EDGES_ON = "stand_ins_on"


def name_stand_in(
    session: Session,
    person_id: int,
    stand_in_id: int,
    starts_on: date,
    ends_on: date,
    *,
    by: Actor,
    clock: Clock,
) -> StandIn:
    """Name ``stand_in_id`` to stand in for ``person_id`` from ``starts_on`` to ``ends_on``
    (both included); refused for an outsider, an inactive person, an overlap or a loop."""
    # the person's row locked: two namings for them at once (PostgreSQL) queue for the overlap check
    person = _person(session, person_id, lock=True)
    require_may_name_stand_in(session, by, person)
    stand_in = _person(session, stand_in_id)
    today = local_date(clock.now(), DEFAULT_TIMEZONE)
    if ends_on < today:
        raise InvalidInput(
            f"the stand-in's last day ({ends_on.isoformat()}) has passed: it would never apply"
        )
    if ends_on < starts_on:
        raise InvalidInput(
            f"the stand-in's last day ({ends_on.isoformat()}) is before the first "
            f"({starts_on.isoformat()})"
        )
    if (ends_on - starts_on).days >= LONGEST_DAYS:
        raise InvalidInput(
            f"a stand-in is named for at most {LONGEST_DAYS} days; hand the work over instead"
        )
    if stand_in.id == person.id:
        raise InvalidInput("a person cannot stand in for themselves")
    if not stand_in.active:
        raise InvalidInput(f"{stand_in.email} is deactivated and cannot stand in")
    _require_same_organisation(session, person, stand_in)
    overlapping = _in_force(session, starts_on, ends_on).where(StandIn.person_id == person.id)
    existing = session.scalars(overlapping.limit(1)).first()
    if existing is not None:
        raise Conflict(
            f"{person.email} already has a stand-in from {existing.starts_on.isoformat()} to "
            f"{existing.ends_on.isoformat()}: end it first"
        )
    if _leads_back(session, stand_in.id, person.id, starts_on, ends_on):
        raise Conflict(
            f"{stand_in.email} is away then with {person.email} standing in, directly or through "
            "others: a stand-in cannot close a loop"
        )
    now = clock.now()
    row = StandIn(
        person_id=person.id,
        stand_in_id=stand_in.id,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_id=by.person_id,
        created_by=by.label,
        created_at=now,
    )
    session.add(row)
    session.flush()
    _audit(session, row, "name", by, now, person, stand_in)
    return row


def name_campaign_stand_in(
    session: Session,
    campaign_id: int,
    person_email: str,
    stand_in_email: str,
    starts_on: date,
    ends_on: date,
    *,
    by: Actor,
    clock: Clock,
) -> StandIn:
    """A coordinator's naming from the campaign's page, the people given by their addresses as its
    forms offer them: ``person_email`` holds a role in the campaign; then as
    :func:`name_stand_in`."""
    campaign = campaign_for(session, campaign_id, by, Need.COORDINATOR, doing="name a stand-in")
    person = _by_email(session, person_email)
    if person is None or not roles_of(session, campaign.id, person.id):
        # the same answer for an unknown address: it does not tell which addresses exist
        raise InvalidInput("the person away holds no role in this campaign")
    stand_in = _by_email(session, stand_in_email)
    if stand_in is None:
        raise InvalidInput("no person of this organisation has the stand-in's e-mail address")
    return name_stand_in(session, person.id, stand_in.id, starts_on, ends_on, by=by, clock=clock)


def end_stand_in(session: Session, stand_in_row_id: int, *, by: Actor, clock: Clock) -> StandIn:
    """End a stand-in before its last day (or withdraw one not yet begun): whoever may name the
    person's stand-in."""
    row = session.get(StandIn, stand_in_row_id)
    person = _person(session, row.person_id) if row is not None else None
    if row is None or person is None or not may_name_stand_in(session, by, person):
        # whose stand-in it is, and that it exists, is theirs and their administrators' to know
        raise NotFound(f"no stand-in {stand_in_row_id}")
    if row.cancelled_at is not None:
        raise Conflict(f"stand-in {row.id} has already been ended")
    now = clock.now()
    row.cancelled_at = now
    session.flush()
    _audit(session, row, "end", by, now, person, _person(session, row.stand_in_id))
    return row


def stand_ins_of(session: Session, person_id: int, on: date) -> list[StandIn]:
    """The person's stand-ins in force on ``on`` or coming, soonest first (for the pages)."""
    return list(
        session.scalars(
            select(StandIn)
            .where(
                StandIn.person_id == person_id,
                StandIn.cancelled_at.is_(None),
                StandIn.ends_on >= on,
            )
            .order_by(StandIn.starts_on, StandIn.id)
        )
    )


def standing_in_for(session: Session, stand_in_id: int, on: date) -> list[StandIn]:
    """The stand-ins ``stand_in_id`` was named to, in force on ``on`` or coming (for the pages)."""
    return list(
        session.scalars(
            select(StandIn)
            .where(
                StandIn.stand_in_id == stand_in_id,
                StandIn.cancelled_at.is_(None),
                StandIn.ends_on >= on,
            )
            .order_by(StandIn.starts_on, StandIn.id)
        )
    )


def candidates(session: Session, person_id: int) -> list[Person]:
    """Who may be offered as the person's stand-in: the active people under the same top unit, the
    person left out, by name (naming one still checks the campaigns' units)."""
    person = _person(session, person_id)
    top = _top_unit(session, person.unit_id)
    parents = {unit: parent for unit, parent in session.execute(select(Unit.id, Unit.parent_id))}
    units = {unit for unit in parents if _root(parents, unit) == top}
    return list(
        session.scalars(
            select(Person)
            .where(Person.active.is_(True), Person.unit_id.in_(units), Person.id != person.id)
            .order_by(Person.name, Person.id)
        )
    )


def acting_for(session: Session, person_id: int, on: date) -> int | None:
    """Who stands in for the person on ``on``, the chain followed to its end (A → B, B away → C
    gives C); ``None`` when the person is not away."""
    return stand_in_map(session, [person_id], on).get(person_id)


def stand_in_map(session: Session, person_ids: Iterable[int], on: date) -> dict[int, int]:
    """Of ``person_ids``, those away on ``on``, each with who stands in for them (chains followed):
    one query for a sweep's recipients."""
    wanted = set(person_ids)
    if not wanted:
        return {}
    edges = _edges(session, on)
    resolved = {}
    for person_id in wanted:
        end = _resolve(edges, person_id)
        if end is not None:
            resolved[person_id] = end
    return resolved


def absent_for(
    session: Session, stand_in_id: int, on: date, *, edges: Mapping[int, int] | None = None
) -> list[int]:
    """The people away on ``on`` whose work reaches ``stand_in_id`` (chains followed): their open
    items are listed in the stand-in's inbox. ``edges``: the day's stand-ins as
    :func:`edges_from` read them from :func:`edges_column`, when the caller has them already."""
    if edges is None:
        edges = _edges(session, on)
    return sorted(person for person in edges if _resolve(edges, person) == stand_in_id)


def edges_column() -> ScalarSelect[Any]:
    """The stand-ins in force on the date bound as ``EDGES_ON`` (person away → stand-in, oldest
    first, as one text; NULL when there are none): a column another statement can carry, read back
    with :func:`edges_from`. A stand-in deactivated since stands in for nobody: the chain stops
    before them."""
    return _EDGES_TEXT


def edges_from(text: str | None) -> dict[int, int]:
    """Person away → their stand-in, from :func:`edges_column`'s text."""
    edges: dict[int, int] = {}
    for edge in (text or "").split(","):
        if edge:
            person_id, stand_in_id = edge.split(":")
            edges.setdefault(int(person_id), int(stand_in_id))
    return edges


def acting_actor(session: Session, by: Actor, holder_id: int | None, on: date) -> Actor | None:
    """``by`` as the actor of a move on an item held by ``holder_id``: ``by`` itself when it is
    theirs, ``by`` named "for" the holder when ``by`` stands in for them on ``on`` (the audit
    trail records both), else ``None``."""
    if by.person_id is None or holder_id is None:
        return None
    if by.person_id == holder_id:
        return by
    if acting_for(session, holder_id, on) != by.person_id:
        return None
    holder = session.get(Person, holder_id)
    return Actor(label=f"{by.label} for {holder.email}", person_id=by.person_id)  # type: ignore[union-attr]


def copy_rows(
    session: Session, addressed: list[tuple[int, date, dict[str, object]]]
) -> list[dict[str, object]]:
    """For each outbox row (``outbox.mail_row``) addressed to a person away on its date, a copy
    for their stand-in marked 「代 张三」; ``addressed`` holds (person id, local date, row)."""
    by_day: dict[date, set[int]] = {}
    for person_id, on, _row in addressed:
        by_day.setdefault(on, set()).add(person_id)
    maps = {on: stand_in_map(session, people, on) for on, people in by_day.items()}
    wanted = {p for found in maps.values() for pair in found.items() for p in pair}
    if not wanted:
        return []
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(wanted)))}
    copies = []
    for person_id, on, row in addressed:
        stand_in_id = maps[on].get(person_id)
        if stand_in_id is None:
            continue
        subject, body = mailtext.stand_in_copy(
            str(row["subject"]),
            str(row["body"]),
            absent=people[person_id],
            stand_in=people[stand_in_id],
        )
        copies.append(
            {
                **row,
                "key": f"{row['key']}-s{stand_in_id}",
                "recipient": people[stand_in_id].email,
                "subject": subject,
                "body": body,
            }
        )
    return copies


def enqueue_to_person(
    session: Session,
    person: Person,
    on: date,
    *,
    key: str,
    subject: str,
    body: str,
    now: datetime,
    campaign_id: int | None = None,
) -> None:
    """Queue one mail to ``person``, and its copy to whoever stands in for them on ``on``: the one
    way a mail addressed to a person is queued, so no kind of mail forgets the stand-in."""
    enqueue(
        session,
        key=key,
        recipient=person.email,
        subject=subject,
        body=body,
        now=now,
        campaign_id=campaign_id,
    )
    stand_in_id = acting_for(session, person.id, on)
    if stand_in_id is None:
        return
    stand_in = _person(session, stand_in_id)
    subject, body = mailtext.stand_in_copy(subject, body, absent=person, stand_in=stand_in)
    enqueue(
        session,
        key=f"{key}-s{stand_in.id}",
        recipient=stand_in.email,
        subject=subject,
        body=body,
        now=now,
        campaign_id=campaign_id,
    )


# --- helpers ---------------------------------------------------------------------------------


def _by_email(session: Session, email: str) -> Person | None:
    try:
        return person_by_email(session, email)
    except NotFound:
        return None


def _person(session: Session, person_id: int, *, lock: bool = False) -> Person:
    person = session.get(Person, person_id, with_for_update=True if lock else None)
    if person is None:
        raise NotFound(f"no person {person_id}")
    return person


def _in_force(session: Session, starts_on: date, ends_on: date):  # type: ignore[no-untyped-def]
    """The stand-ins not ended whose range meets ``starts_on``..``ends_on``."""
    return select(StandIn).where(
        StandIn.cancelled_at.is_(None),
        StandIn.starts_on <= ends_on,
        StandIn.ends_on >= starts_on,
    )


def _edges(session: Session, on: date) -> dict[int, int]:
    """Person away → their stand-in, on ``on`` (a handful of rows: people away on one day)."""
    session.flush()  # a Core statement skips the ORM's autoflush: a stand-in just named counts
    return edges_from(session.connection().execute(_EDGES, {EDGES_ON: on}).scalar())


def _edges_text() -> ScalarSelect[Any]:
    in_order = (
        select(
            (
                cast(StandIn.person_id, String)
                + literal_column("':'")
                + cast(StandIn.stand_in_id, String)
            ).label("edge")
        )
        .join(Person, Person.id == StandIn.stand_in_id)
        .where(
            StandIn.cancelled_at.is_(None),
            StandIn.starts_on <= bindparam(EDGES_ON, type_=Date()),
            StandIn.ends_on >= bindparam(EDGES_ON, type_=Date()),
            Person.active.is_(True),
        )
        .order_by(StandIn.id)
        .subquery()
    )
    return select(joined_text(in_order.c.edge, literal_column("','"))).scalar_subquery()


def _resolve(edges: dict[int, int], person_id: int) -> int | None:
    """The end of the chain from ``person_id``; at a loop (refused when named, guarded anyway) the
    last person before it repeats, never the person themself."""
    seen = {person_id}
    current = edges.get(person_id)
    if current is None:
        return None
    while current in edges and edges[current] not in seen | {current}:
        seen.add(current)
        current = edges[current]
    return None if current == person_id else current


def _leads_back(
    session: Session, stand_in_id: int, person_id: int, starts_on: date, ends_on: date
) -> bool:
    """Whether, over the range, the stand-in's own stand-ins lead back to the person (a loop on
    some day of it; days are not told apart, so this errs on the side of refusing)."""
    rows = session.execute(
        _in_force(session, starts_on, ends_on).with_only_columns(
            StandIn.person_id, StandIn.stand_in_id
        )
    )
    edges: dict[int, set[int]] = {}
    for away, standing in rows:
        edges.setdefault(away, set()).add(standing)
    reached, frontier = {stand_in_id}, [stand_in_id]
    while frontier:
        current = frontier.pop()
        for following in edges.get(current, ()):
            if following == person_id:
                return True
            if following not in reached:
                reached.add(following)
                frontier.append(following)
    return False


def _require_same_organisation(session: Session, person: Person, stand_in: Person) -> None:
    if not _of_organisation(session, person, stand_in):
        raise InvalidInput(
            f"{stand_in.email} is not of {person.email}'s organisation and cannot stand in for them"
        )


def _of_organisation(session: Session, person: Person, stand_in: Person) -> bool:
    """Under the person's top unit, and of every campaign not closed the person has work in."""
    if _top_unit(session, stand_in.unit_id) != _top_unit(session, person.unit_id):
        return False
    campaigns = session.scalars(
        select(Campaign).where(Campaign.state != CLOSED, Campaign.id.in_(campaigns_held(person.id)))
    )
    return all(stand_in.unit_id in campaign_unit_ids(session, campaign) for campaign in campaigns)


def _top_unit(session: Session, unit_id: int) -> int:
    seen = set()
    while unit_id not in seen:
        seen.add(unit_id)
        parent = session.scalar(select(Unit.parent_id).where(Unit.id == unit_id))
        if parent is None:
            return unit_id
        unit_id = parent
    return unit_id


def _root(parents: dict[int, int | None], unit_id: int) -> int:
    seen = set()
    while (parent := parents.get(unit_id)) is not None and unit_id not in seen:
        seen.add(unit_id)
        unit_id = parent
    return unit_id


def _audit(
    session: Session,
    row: StandIn,
    event: str,
    by: Actor,
    now: datetime,
    person: Person,
    stand_in: Person,
) -> None:
    audit.record(
        session,
        at=now,
        by=by,
        entity="stand_in",
        entity_id=row.id,
        event=event,
        from_state=None,
        to_state=None,
        campaign_id=None,
        note=(
            f"{stand_in.email} for {person.email}, "
            f"{row.starts_on.isoformat()}..{row.ends_on.isoformat()}"
        ),
    )


# built once: Core statements, compiled once and cached
_EDGES_TEXT = _edges_text()
_EDGES = select(_EDGES_TEXT)
