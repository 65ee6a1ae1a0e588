"""Applying a roster (花名册) to its scope: the preview's changes, in one transaction, through the
engine's own use cases.

``org_changes.plan_roster`` is worked out again from the directory as it is now: a plan that is
not the one previewed (someone changed the directory meanwhile, or the roster was applied already)
is refused with ``StaleRoster``, so the administrator sees a fresh preview before anything is
written. The import, the administrations it names and the running campaigns' role bindings go
through ``import_and_rebind``; each person added or changed is an audit event of that person (as
the pages' own edits are, ``records``); each person the roster no longer lists is deactivated by
``deactivate_person`` (their sessions and tokens end, their campaign roles are withdrawn), except
those the plan keeps because they hold open work. A post of the same form twice writes once
(``form_keys``); a roster that changes nothing writes nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit, form_keys
from workflow.audit import Actor
from workflow.clock import Clock
from workflow.errors import Conflict
from workflow.models import ListEntry, Person, Site, Unit
from workflow.organisation.org_changes import plan_roster, scope_unit_ids
from workflow.organisation.roster import FieldChange, Roster, RosterError, RosterPlan
from workflow.people.deactivation import deactivate_person
from workflow.people.rebinding import import_and_rebind


class StaleRoster(Conflict):
    """The directory changed since the preview: nothing was written; preview it again."""

    code = "stale_roster"

    def __init__(self) -> None:
        super().__init__(
            "the directory changed since this roster was previewed: nothing was written; "
            "look at the new preview"
        )


@dataclass(frozen=True)
class RosterApplied:
    added: int
    changed: int
    deactivated: int
    kept: int
    other: int
    roles_granted: int
    roles_withdrawn: int
    vacant: tuple[str, ...]


def apply_roster(
    session: Session,
    scope_id: int,
    roster: Roster,
    *,
    fingerprint: str,
    by: Actor,
    clock: Clock,
    base_url: str,
    form_key: str | None = None,
) -> RosterApplied:
    """Apply the roster previewed with ``fingerprint`` to the scope of unit ``scope_id``.

    RosterError when the roster has problems, ``AlreadySubmitted`` for the same form again,
    StaleRoster when the preview no longer holds. The caller checks that ``by`` administers the
    scope (``access.require_administrator``)."""
    now = clock.now()
    # two applies at once (two administrators, overlapping scopes): the second waits here and
    # then plans against what the first wrote, so its preview no longer holds (PostgreSQL; SQLite
    # runs one writer at a time)
    session.execute(
        select(Unit.id)
        .where(Unit.id.in_(scope_unit_ids(session, scope_id)))
        .order_by(Unit.id)
        .with_for_update()
    ).all()
    plan = plan_roster(session, scope_id, roster, by=by)
    if plan.problems:
        raise RosterError(plan.problems)
    if not plan.has_changes and plan.fingerprint == fingerprint:
        return RosterApplied(0, 0, 0, len(plan.kept), 0, 0, 0, ())
    form_keys.claim(session, form_key, by=by, now=now, entity="roster", entity_id=scope_id)
    if plan.fingerprint != fingerprint:
        raise StaleRoster()
    assert plan.organisation is not None
    _summary, rebinding = import_and_rebind(session, plan.organisation, now=now, by=by)
    _audit_people(session, plan, by, clock)
    vacant = list(rebinding.vacant)
    withdrawn = rebinding.withdrawn
    for leaving in plan.deactivated:
        result = deactivate_person(session, leaving.email, by=by, clock=clock, base_url=base_url)
        withdrawn += result.roles_withdrawn
        vacant += result.vacant
    session.flush()
    return RosterApplied(
        added=plan.count("added"),
        changed=plan.count("changed"),
        deactivated=len(plan.deactivated),
        kept=len(plan.kept),
        other=len(plan.other),
        roles_granted=rebinding.granted,
        roles_withdrawn=withdrawn,
        vacant=tuple(vacant),
    )


# --- helpers ------------------------------------------------------------------------------------


def _audit_people(session: Session, plan: RosterPlan, by: Actor, clock: Clock) -> None:
    """An audit event for each person, unit, key site and list entry added or changed, as the
    pages' own edits write them (``records``)."""
    touched = [line for line in plan.people if line.kind != "unchanged"]
    ids = dict(
        session.execute(
            select(Person.email, Person.id).where(Person.email.in_([p.email for p in touched]))
        ).all()
    )
    for line in touched:
        if line.kind == "added":
            note = f"{line.email}: added by a roster of {plan.scope_code} ({line.unit})"
        else:
            note = f"{line.email}: roster of {plan.scope_code}: {_changes(line.changes)}"
        _record(session, "person", ids[line.email], line.kind == "added", note, by, clock)
    for change in plan.other:
        if change.kind == "unit":
            row_id = session.scalar(select(Unit.id).where(Unit.code == change.code))
        elif change.kind == "site":
            row_id = session.scalar(select(Site.id).where(Site.code == change.code))
        else:
            list_key, code = change.code.split("/", 1)
            row_id = session.scalar(
                select(ListEntry.id).where(ListEntry.list_key == list_key, ListEntry.code == code)
            )
        what = "added" if change.added else _changes(change.changes)
        note = f"{change.code} ({change.name}): roster of {plan.scope_code}: {what}"
        _record(session, change.kind, row_id, change.added, note, by, clock)


def _changes(changes: tuple[FieldChange, ...]) -> str:
    return "; ".join(f"{c.field}: {c.before or '—'} → {c.after or '—'}" for c in changes)


def _record(
    session: Session,
    entity: str,
    entity_id: int | None,
    added: bool,
    note: str,
    by: Actor,
    clock: Clock,
) -> None:
    audit.record(
        session,
        at=clock.now(),
        by=by,
        entity=entity,
        entity_id=entity_id or 0,
        event="add" if added else "edit",
        from_state=None,
        to_state=None,
        campaign_id=None,
        note=note[:1000],
    )
