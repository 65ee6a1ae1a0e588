"""Administrators: a person who administers a unit and everything under it, granted and revoked by
an operator (``pingan admin grant|revoke``), every change in the audit log.

Who may do what because of a grant is the access module's rule (``workflow/access.py``:
``keeps_calendar``); this module keeps the grants themselves, and says when the calendar's keepers
must be told that next year's official schedule is still missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.audit import Actor
from workflow.errors import InvalidInput
from workflow.models import Administrator, Unit
from workflow.organisation.directory import person_by_email, unit_by_code, units_under


@dataclass(frozen=True)
class AdministratorChange:
    """What a grant or a revocation did: ``changed`` is False when it was so already."""

    email: str
    unit_code: str
    granted: bool  # the person administers the unit after the change
    changed: bool

    def __str__(self) -> str:
        if self.granted:
            state = "administers" if self.changed else "already administers"
        else:
            state = "no longer administers"
        return f"{self.email} {state} {self.unit_code} and every unit under it"


def grant_administrator(
    session: Session, email: str, unit_code: str, *, by: Actor, now: datetime
) -> AdministratorChange:
    """Make the active person with ``email`` an administrator of ``unit_code``; a second grant
    changes nothing (and writes no audit event)."""
    person = person_by_email(session, email)
    unit = unit_by_code(session, unit_code)
    if not person.active:
        raise InvalidInput(f"{person.email} is inactive: reactivate them first")
    if _grant(session, person.id, unit.id) is not None:
        return AdministratorChange(person.email, unit.code, True, False)
    session.add(
        Administrator(
            person_id=person.id, unit_id=unit.id, granted_at=now, granted_by=by.label[:254]
        )
    )
    _audit(session, person.id, f"{person.email}: administrator of {unit.code}", "grant", by, now)
    session.flush()
    forget_administered(session)
    return AdministratorChange(person.email, unit.code, True, True)


def revoke_administrator(
    session: Session, email: str, unit_code: str, *, by: Actor, now: datetime
) -> AdministratorChange:
    """End the grant of ``unit_code`` to ``email`` (an inactive person's too); refused when there is
    none."""
    person = person_by_email(session, email)
    unit = unit_by_code(session, unit_code)
    grant = _grant(session, person.id, unit.id)
    if grant is None:
        raise InvalidInput(f"{person.email} does not administer {unit.code}")
    session.delete(grant)
    forget_administered(session)
    _audit(
        session,
        person.id,
        f"{person.email}: no longer administrator of {unit.code}",
        "revoke",
        by,
        now,
    )
    session.flush()
    return AdministratorChange(person.email, unit.code, False, True)


def granted_units(session: Session, person_id: int) -> list[Unit]:
    """The units granted to the person (each the top of what they administer), by name."""
    return list(
        session.scalars(
            select(Unit)
            .join(Administrator, Administrator.unit_id == Unit.id)
            .where(Administrator.person_id == person_id)
            .order_by(Unit.name)
        )
    )


def administered_units(session: Session, person_id: int) -> set[int]:
    """The ids of the units the person administers: each granted unit and every unit under it.

    Remembered for the session (a page asks it several times: the gate, the unit, the lists);
    a grant, a revocation or a new unit forgets it (:func:`forget_administered`)."""
    remembered = session.info.setdefault(_REMEMBERED, {})
    if person_id not in remembered:
        remembered[person_id] = frozenset(_administered_units(session, person_id))
    return set(remembered[person_id])


def forget_administered(session: Session) -> None:
    """The tree or the grants changed in this session: what was remembered is recomputed."""
    session.info.pop(_REMEMBERED, None)


# --- helpers ------------------------------------------------------------------------------------

_REMEMBERED = "pingan.administered_units"


def _administered_units(session: Session, person_id: int) -> set[int]:
    granted = set(
        session.scalars(select(Administrator.unit_id).where(Administrator.person_id == person_id))
    )
    return units_under(session, granted) if granted else set()


def _grant(session: Session, person_id: int, unit_id: int) -> Administrator | None:
    return session.scalar(
        select(Administrator).where(
            Administrator.person_id == person_id, Administrator.unit_id == unit_id
        )
    )


def _audit(
    session: Session, person_id: int, note: str, event: str, by: Actor, now: datetime
) -> None:
    audit.record(
        session,
        at=now,
        by=by,
        entity="administrator",
        entity_id=person_id,
        event=event,
        from_state=None,
        to_state=None,
        campaign_id=None,
        note=note,
    )
