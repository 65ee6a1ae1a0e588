"""Decisions on many items at once: a coordinator verifies, sends back or reassigns a selection of
tasks and rectifications, each item on its own.

A coordinator who finds thirty reports of 「已整改」 waiting selects them and verifies them with one
confirmation. Unlike checking off one's own tasks (all or none, ``MAX_SELECTED_TASKS``), each item
here is decided by itself: each runs the single decision's use case (``tasks``,
``hazards.rectifications``, ``reassign``: their access rules, their audit event, their mail) inside
a SAVEPOINT of its own, so an item refused or moved meanwhile changes nothing for it and undoes
nothing of the others. The caller commits once.

Each item carries the state the coordinator saw it in. An item whose state is no longer that one
was moved by someone else since the page was drawn: it is reported as moved (was, now) and left as
it is, even when the decision would still be allowed from its new state (a rectification reported
fixed again after a rejection is not the report the coordinator read).

An item of a campaign the actor does not coordinate, and an id that is no item, get the same
refusal: the answer does not tell which ids exist (``workflow/access.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import form_keys
from workflow.access import is_coordinator
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns import reassign, tasks
from workflow.clock import Clock
from workflow.definitions.catalogue import stored_definition
from workflow.errors import InvalidInput, NotFound, PingAnError
from workflow.hazards import rectifications
from workflow.limits import MAX_DECIDED_AT_ONCE, MAX_WORKING_DAYS, NOTE_LIMIT
from workflow.models import Campaign, Rectification, Task

KINDS = ("task", "rectification")
DECISIONS = ("verify", "reject", "reassign")
# what an item became: decided as asked, moved by someone else meanwhile, or refused (with why)
DECIDED, MOVED, REFUSED = "decided", "moved", "refused"


@dataclass(frozen=True)
class Selected:
    """One item as the coordinator saw it: its kind, its id and the state it was in."""

    kind: str
    id: int
    state: str


@dataclass(frozen=True)
class Outcome:
    """What became of one selected item."""

    kind: str
    id: int
    result: str  # DECIDED | MOVED | REFUSED
    seen: str  # the state the coordinator saw
    state: str | None = None  # its state now (None when refused: not the actor's to know)
    title: str | None = None
    campaign_id: int | None = None
    reason: str | None = None  # a refusal's message, in the engine's English


def decide_many(
    session: Session,
    items: list[Selected],
    decision: str,
    *,
    by: Actor,
    clock: Clock,
    calendar: WorkingCalendar,
    base_url: str,
    note: str | None = None,
    to_email: str | None = None,
    deadline_working_days: int | None = None,
    form_key: str | None = None,
) -> list[Outcome]:
    """Verify, reject (``note`` is the one reason for all; a rectification also needs
    ``deadline_working_days``) or reassign (to ``to_email``) each of ``items``, each on its own;
    return each item's outcome in the order given. The batch as a whole is refused (InvalidInput)
    only when it cannot be read: an unknown decision or kind, none or too many items, a missing
    reason, deadline or person. ``form_key``: a page form's one-time key (``form_keys``)."""
    selected = _checked(items, decision, note, to_email, deadline_working_days)
    # the key's claim stands only if something was decided: a batch refused or moved item by item
    # writes nothing, and the same form sent again is simply looked at again
    claimed = session.begin_nested()
    try:
        form_keys.claim(session, form_key, by=by, now=clock.now(), entity="decisions")
        outcomes = _each(
            session,
            selected,
            decision,
            by,
            clock,
            calendar,
            base_url,
            note,
            to_email,
            deadline_working_days,
        )
    except BaseException:
        claimed.rollback()
        raise
    if any(outcome.result == DECIDED for outcome in outcomes):
        claimed.commit()
    else:
        claimed.rollback()
    return outcomes


# --- helpers ------------------------------------------------------------------------------------


def _each(
    session: Session,
    selected: list[Selected],
    decision: str,
    by: Actor,
    clock: Clock,
    calendar: WorkingCalendar,
    base_url: str,
    note: str | None,
    to_email: str | None,
    deadline_working_days: int | None,
) -> list[Outcome]:
    outcomes = []
    for item in selected:
        try:
            with session.begin_nested():
                outcome = _decide_one(
                    session,
                    item,
                    decision,
                    by=by,
                    clock=clock,
                    calendar=calendar,
                    base_url=base_url,
                    note=note,
                    to_email=to_email,
                    deadline_working_days=deadline_working_days,
                )
        except PingAnError as error:
            outcome = Outcome(item.kind, item.id, REFUSED, item.state, reason=str(error))
        outcomes.append(outcome)
    return outcomes


def _checked(
    items: list[Selected],
    decision: str,
    note: str | None,
    to_email: str | None,
    deadline_working_days: int | None,
) -> list[Selected]:
    if decision not in DECISIONS:
        raise InvalidInput(f"unknown decision {decision!r}: verify, reject or reassign")
    if not items:
        raise InvalidInput("select at least one item")
    if len(items) > MAX_DECIDED_AT_ONCE:
        raise InvalidInput(
            f"{len(items)} items selected: at most {MAX_DECIDED_AT_ONCE} are decided at once"
        )
    for item in items:
        if item.kind not in KINDS:
            raise InvalidInput(f"unknown kind {item.kind!r}: task or rectification")
    if len(note or "") > NOTE_LIMIT:  # as given: what the forms and the API document count
        raise InvalidInput(
            f"the note is too long ({len(note or '')} characters; at most {NOTE_LIMIT})"
        )
    if deadline_working_days is not None and not 1 <= deadline_working_days <= MAX_WORKING_DAYS:
        raise InvalidInput(
            f"deadline_working_days must be a whole number from 1 to {MAX_WORKING_DAYS}"
        )
    if decision == "reject" and not (note or "").strip():
        raise InvalidInput("a rejection needs a reason (note)")
    if decision == "reject" and deadline_working_days is None:
        if any(item.kind == "rectification" for item in items):
            raise InvalidInput("a new deadline is required (deadline or deadline_working_days)")
    if decision == "reassign" and not (to_email or "").strip():
        raise InvalidInput("name the person who takes the work over (e-mail)")
    # the same item twice is decided once: the second would only be refused as moved
    unique: dict[tuple[str, int], Selected] = {}
    for item in items:
        unique.setdefault((item.kind, item.id), item)
    return list(unique.values())


def _decide_one(
    session: Session,
    item: Selected,
    decision: str,
    *,
    by: Actor,
    clock: Clock,
    calendar: WorkingCalendar,
    base_url: str,
    note: str | None,
    to_email: str | None,
    deadline_working_days: int | None,
) -> Outcome:
    model = Task if item.kind == "task" else Rectification
    row = session.execute(
        select(model, Campaign)
        .join(Campaign, Campaign.id == model.campaign_id)
        .where(model.id == item.id)
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    ).first()
    if row is None or not is_coordinator(
        session, stored_definition(row[1].definition), row[1].id, by
    ):
        raise NotFound(f"{item.kind} {item.id} is not among the items you decide")
    thing, campaign = row
    title = thing.title if isinstance(thing, Task) else thing.description
    if thing.state != item.state:
        return Outcome(item.kind, item.id, MOVED, item.state, thing.state, title, campaign.id)
    if decision == "reassign":
        use_case = (
            reassign.reassign_task if item.kind == "task" else reassign.reassign_rectification
        )
        use_case(
            session,
            item.id,
            to_email or "",
            by=by,
            clock=clock,
            base_url=base_url,
            note=note,
        )
    elif item.kind == "task":
        if decision == "verify":
            tasks.verify_task(session, item.id, by=by, clock=clock, note=note)
        else:
            tasks.reject_task(session, item.id, by=by, clock=clock, note=note, base_url=base_url)
    elif decision == "verify":
        rectifications.verify_rectification(session, item.id, by=by, clock=clock, note=note)
    else:
        rectifications.reject_rectification(
            session,
            item.id,
            by=by,
            clock=clock,
            calendar=calendar,
            reason=note,
            deadline_working_days=deadline_working_days,
            base_url=base_url,
        )
    return Outcome(item.kind, item.id, DECIDED, item.state, thing.state, title, campaign.id)
