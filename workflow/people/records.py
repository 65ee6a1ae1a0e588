"""People kept by hand, as an administrator does it on the pages: find them, add one, edit a name,
title, phone or e-mail, and read a person's history.

The organisation file (``import-org``) stays the bulk path and the roster upload its spreadsheet
twin; these are the one-at-a-time changes between two imports. Each change is an audit event of
the person. Nothing with history is deleted: a person leaves by deactivation
(``deactivation.py``). Roles and a post's hand-over are ``posts.py``'s; units and key sites are
``workflow/organisation/tree.py``'s. Who may make a change is ``workflow/access.py``'s rule
(``require_administrator``); callers check it, these functions check the data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from workflow.audit import Actor
from workflow.definitions.catalogue import stored_definition
from workflow.errors import NotFound
from workflow.models import AuditEvent, DefinitionRow, Person, PersonRole, StandIn, Unit
from workflow.organisation.fields import (
    checked_email,
    checked_name,
    checked_phone,
    clean,
    person_row,
    record_change,
    unit_row,
)

SEARCH_LIMIT = 200


@dataclass(frozen=True)
class PersonFound:
    id: int
    email: str
    name: str
    title: str | None
    phone: str | None
    unit_id: int
    unit_name: str
    active: bool
    roles: tuple[str, ...]


@dataclass(frozen=True)
class PersonDetails:
    """What a person's page shows of them."""

    id: int
    email: str
    name: str
    title: str | None
    phone: str | None
    unit_id: int
    active: bool


@dataclass(frozen=True)
class HistoryLine:
    """One event of a person's history; ``what`` is ``entity.event`` (``person.add``,
    ``role.grant``, ``administrator.revoke`` …), which the page words in the reader's language."""

    what: str
    at: datetime
    actor: str
    event: str
    note: str | None
    campaign_id: int | None


def search_people(
    session: Session,
    unit_ids: set[int] | None,
    *,
    words: str = "",
    unit_id: int | None = None,
    role: str | None = None,
    limit: int = SEARCH_LIMIT,
) -> list[PersonFound]:
    """People of ``unit_ids`` (every unit for None) whose name, e-mail, phone or title holds
    ``words`` (case-insensitively; Chinese names match on any part), of one unit or holding one
    role if asked; the active first, then by unit and name."""
    query = select(Person, Unit.name).join(Unit, Unit.id == Person.unit_id)
    if unit_ids is not None:
        query = query.where(Person.unit_id.in_(unit_ids))
    if unit_id is not None:
        query = query.where(Person.unit_id == unit_id)
    if role:
        query = query.where(
            Person.id.in_(select(PersonRole.person_id).where(PersonRole.role == role))
        )
    for word in words.split()[:5]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        phone = re.sub(r"\D", "", word)
        query = query.where(
            or_(
                Person.name.ilike(pattern, escape="\\"),
                Person.email.ilike(pattern, escape="\\"),
                Person.title.ilike(pattern, escape="\\"),
                *([Person.phone.like(f"%{phone}%")] if len(phone) >= 3 else []),
            )
        )
    rows = session.execute(
        query.order_by(Person.active.desc(), Unit.name, Person.name, Person.id).limit(limit)
    ).all()
    roles = _roles_of(session, [person.id for person, _unit in rows])
    return [
        PersonFound(
            p.id,
            p.email,
            p.name,
            p.title,
            p.phone,
            p.unit_id,
            unit_name,
            p.active,
            tuple(roles.get(p.id, ())),
        )
        for p, unit_name in rows
    ]


def person_details(session: Session, person_id: int) -> PersonDetails:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person {person_id}")
    return PersonDetails(
        person.id,
        person.email,
        person.name,
        person.title,
        person.phone,
        person.unit_id,
        person.active,
    )


def held_roles(session: Session, person_id: int) -> list[str]:
    return sorted(session.scalars(select(PersonRole.role).where(PersonRole.person_id == person_id)))


def add_person(
    session: Session,
    *,
    email: str,
    name: str,
    unit_id: int,
    title: str | None = None,
    phone: str | None = None,
    by: Actor,
    now: datetime,
) -> Person:
    """A new active person with no password yet (the caller sends them a reset link to choose
    one); InvalidInput names what is wrong, nothing is written."""
    email = checked_email(session, email, None)
    unit = unit_row(session, unit_id)
    person = Person(
        email=email,
        name=checked_name(name),
        title=clean(title),
        phone=checked_phone(session, phone, None),
        unit_id=unit.id,
        active=True,
    )
    session.add(person)
    session.flush()
    record_change(session, "person", person.id, "add", by, now, f"{email}: added to {unit.code}")
    return person


def edit_person(
    session: Session,
    person_id: int,
    *,
    email: str,
    name: str,
    title: str | None,
    phone: str | None,
    by: Actor,
    now: datetime,
) -> list[str]:
    """Change a person's e-mail, name, title or phone; return what changed ("name: 李四 → 王五"),
    each change audited. A new e-mail is their new sign-in name."""
    person = person_row(session, person_id)
    wanted = {
        "email": checked_email(session, email, person.id),
        "name": checked_name(name),
        "title": clean(title),
        "phone": checked_phone(session, phone, person.id),
    }
    changes = []
    for key, value in wanted.items():
        before = getattr(person, key)
        if before != value:
            setattr(person, key, value)
            changes.append(f"{key}: {before or '—'} → {value or '—'}")
    if changes:
        session.flush()
        record_change(session, "person", person.id, "edit", by, now, "; ".join(changes))
    return changes


def person_history(session: Session, person_id: int, limit: int = 200) -> list[HistoryLine]:
    """What happened to the person, newest first: added, edited, roles given and taken (and bound
    or withdrawn in each campaign), passwords, deactivation, administration, stand-ins named and
    ended (``ix_audit_entity``)."""
    person = person_row(session, person_id)
    # stand-ins (workflow/people/stand_ins.py) are audited under their own ids: those for the
    # person, and those they were named to
    stand_ins = select(StandIn.id).where(
        or_(StandIn.person_id == person.id, StandIn.stand_in_id == person.id)
    )
    rows = session.scalars(
        select(AuditEvent)
        .where(
            or_(
                and_(
                    AuditEvent.entity.in_(("person", "administrator", "role")),
                    AuditEvent.entity_id == person.id,
                ),
                and_(AuditEvent.entity == "stand_in", AuditEvent.entity_id.in_(stand_ins)),
            )
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return [
        HistoryLine(f"{e.entity}.{e.event}", e.at, e.actor, e.event, e.note, e.campaign_id)
        for e in rows
    ]


def role_titles(session: Session) -> dict[str, str]:
    """Each role id's title as the definitions in use name it (村负责人 for village_head); the
    newest definition's wording wins."""
    titles: dict[str, str] = {}
    for row in session.scalars(select(DefinitionRow).order_by(DefinitionRow.id)):
        for role in stored_definition(row).roles:
            titles[role.id] = role.title
    return titles


# --- helpers ------------------------------------------------------------------------------------


def _roles_of(session: Session, person_ids: list[int]) -> dict[int, list[str]]:
    roles: dict[int, list[str]] = {}
    if person_ids:
        for person_id, role in session.execute(
            select(PersonRole.person_id, PersonRole.role)
            .where(PersonRole.person_id.in_(person_ids))
            .order_by(PersonRole.role)
        ):
            roles.setdefault(person_id, []).append(role)
    return roles
