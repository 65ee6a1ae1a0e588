"""The directory kept by hand, as an administrator does it on the pages: find people, add one, edit
a name, title, phone or e-mail, give and take a role, add and rename units and key sites, and hand
a post's open work to its new holder.

The organisation file (``import-org``) stays the bulk path and the roster upload its spreadsheet
twin; these are the one-at-a-time changes between two imports (a new village head after an
election). Each change is an audit event of the person, unit or site it changes, and a role given
or taken reaches every running campaign at once (``rebinding.follow_role_changes``). Nothing with
history is deleted: a person leaves by deactivation, a unit or site is renamed, never removed.
Who may make a change is ``workflow/access.py``'s rule (``require_administrator``); callers check
it, these functions check the data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.audit import Actor
from workflow.clock import Clock
from workflow.definitions.catalogue import stored_definition
from workflow.errors import InvalidInput, NotFound
from workflow.limits import EMAIL_LIMIT
from workflow.machines import TASK_MACHINE, states_allowing
from workflow.models import (
    AuditEvent,
    Campaign,
    DefinitionRow,
    Person,
    PersonRole,
    RoleBinding,
    Site,
    Task,
    Unit,
)
from workflow.organisation.directory import RoleChange
from workflow.organisation.org_file import PHONE_PROBLEM, normal_phone
from workflow.people.rebinding import Rebinding, follow_role_changes

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME_LIMIT = 200
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


@dataclass
class RoleGiven:
    """A role given: who else holds it in the unit (their open work of it may be handed over)."""

    person_id: int
    role: str
    unit_id: int
    other_holders: list[PersonFound] = field(default_factory=list)
    rebinding: Rebinding = field(default_factory=Rebinding)


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
    email = _checked_email(session, email, None)
    unit = _unit(session, unit_id)
    person = Person(
        email=email,
        name=_checked_name(name),
        title=_clean(title),
        phone=_checked_phone(session, phone, None),
        unit_id=unit.id,
        active=True,
    )
    session.add(person)
    session.flush()
    _audit(session, "person", person.id, "add", by, now, f"{email}: added to {unit.code}")
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
    person = _person(session, person_id)
    wanted = {
        "email": _checked_email(session, email, person.id),
        "name": _checked_name(name),
        "title": _clean(title),
        "phone": _checked_phone(session, phone, person.id),
    }
    changes = []
    for key, value in wanted.items():
        before = getattr(person, key)
        if before != value:
            setattr(person, key, value)
            changes.append(f"{key}: {before or '—'} → {value or '—'}")
    if changes:
        session.flush()
        _audit(session, "person", person.id, "edit", by, now, "; ".join(changes))
    return changes


def give_role(
    session: Session, person_id: int, role: str, *, by: Actor, now: datetime
) -> RoleGiven:
    """The person holds ``role`` in their unit from now on, in every running campaign that has the
    role for that unit; the unit's other holders of the role are named for a hand-over."""
    person = _person(session, person_id)
    role = _checked_role(role)
    if not person.active:
        raise InvalidInput(f"{person.email} is deactivated: reactivate them first")
    result = RoleGiven(person.id, role, person.unit_id)
    result.other_holders = [
        holder
        for holder in search_people(session, None, unit_id=person.unit_id, role=role)
        if holder.id != person.id and holder.active
    ]
    if role in held_roles(session, person.id):
        return result
    session.add(PersonRole(person_id=person.id, role=role))
    session.flush()
    _audit(session, "person", person.id, "role_give", by, now, f"{person.email}: {role}")
    result.rebinding = follow_role_changes(
        session, [RoleChange(person.id, role, person.unit_id, held=True)], now=now, by=by
    )
    return result


def take_role(
    session: Session, person_id: int, role: str, *, by: Actor, now: datetime
) -> Rebinding:
    """The person no longer holds ``role``: withdrawn from every running campaign (their open
    work stays theirs until handed over)."""
    person = _person(session, person_id)
    if role not in held_roles(session, person.id):
        raise InvalidInput(f"{person.email} does not hold the role {role}")
    session.execute(
        delete(PersonRole).where(PersonRole.person_id == person.id, PersonRole.role == role)
    )
    _audit(session, "person", person.id, "role_take", by, now, f"{person.email}: {role}")
    return follow_role_changes(
        session, [RoleChange(person.id, role, person.unit_id, held=False)], now=now, by=by
    )


def open_work_of_role(session: Session, person_id: int, role: str) -> list[tuple[int, int, str]]:
    """The person's open tasks, in running campaigns, of the specs the definition gives to
    ``role``: (task id, campaign id, title)."""
    found = []
    campaigns = session.scalars(
        select(Campaign)
        .where(
            Campaign.closed_at.is_(None),
            Campaign.id.in_(select(Task.campaign_id).where(Task.assignee_id == person_id)),
        )
        .order_by(Campaign.id)
    )
    for campaign in campaigns:
        definition = stored_definition(campaign.definition)
        specs = [
            spec.id
            for phase in definition.phases
            for spec in (*phase.tasks, *definition.duties(phase.id))
            if spec.assignee == role
        ]
        if not specs:
            continue
        found += [
            (task_id, campaign_id, title)
            for task_id, campaign_id, title in session.execute(
                select(Task.id, Task.campaign_id, Task.title)
                .where(
                    Task.campaign_id == campaign.id,
                    Task.assignee_id == person_id,
                    Task.spec_key.in_(specs),
                    Task.state.in_(states_allowing(TASK_MACHINE, "reassign")),
                )
                .order_by(Task.id)
            )
        ]
    return found


def hand_over_role(
    session: Session,
    role: str,
    from_id: int,
    to_id: int,
    *,
    by: Actor,
    clock: Clock,
    base_url: str,
) -> list[int]:
    """The post changes hands: the previous holder gives up ``role`` (withdrawn from the running
    campaigns) and their open tasks of it go to the new holder, each audited and mailed as any
    reassignment. Returns the ids of the tasks moved."""
    from workflow.campaigns.reassign import reassign_task

    leaving, taking = _person(session, from_id), _person(session, to_id)
    if leaving.unit_id != taking.unit_id:
        raise InvalidInput("a post is handed over inside one unit")
    if role not in held_roles(session, taking.id):
        raise InvalidInput(f"{taking.email} does not hold the role {role}")
    moved = []
    for task_id, _campaign_id, _title in open_work_of_role(session, leaving.id, role):
        reassign_task(
            session,
            task_id,
            taking.email,
            by=by,
            clock=clock,
            base_url=base_url,
            note=f"{role}: {leaving.name} → {taking.name}",
        )
        moved.append(task_id)
    if role in held_roles(session, leaving.id):
        take_role(session, leaving.id, role, by=by, now=clock.now())
    return moved


def add_unit(
    session: Session, *, parent_id: int, code: str, name: str, by: Actor, now: datetime
) -> Unit:
    """A new unit under ``parent_id`` (a village under a town)."""
    parent = _unit(session, parent_id)
    code = _checked_code(code)
    if session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise InvalidInput(f"a unit with the id {code} exists already")
    unit = Unit(code=code, name=_checked_name(name), parent_id=parent.id)
    session.add(unit)
    session.flush()
    _audit(session, "unit", unit.id, "add", by, now, f"{code} ({unit.name}) under {parent.code}")
    return unit


def rename_unit(session: Session, unit_id: int, name: str, *, by: Actor, now: datetime) -> None:
    unit = _unit(session, unit_id)
    name = _checked_name(name)
    if unit.name != name:
        _audit(session, "unit", unit.id, "rename", by, now, f"{unit.name} → {name}")
        unit.name = name
        session.flush()


def add_site(
    session: Session,
    *,
    unit_id: int,
    code: str,
    name: str,
    responsible_id: int | None,
    by: Actor,
    now: datetime,
) -> Site:
    """A new key site of a unit, with its responsible person (an active person of that unit)."""
    unit = _unit(session, unit_id)
    code = _checked_code(code)
    if session.scalar(select(Site.id).where(Site.code == code)) is not None:
        raise InvalidInput(f"a key site with the id {code} exists already")
    site = Site(
        code=code,
        name=_checked_name(name),
        unit_id=unit.id,
        responsible_id=_responsible(session, responsible_id, unit.id),
    )
    session.add(site)
    session.flush()
    _audit(session, "site", site.id, "add", by, now, f"{code} ({site.name}) of {unit.code}")
    return site


def edit_site(
    session: Session,
    site_id: int,
    *,
    name: str,
    responsible_id: int | None,
    by: Actor,
    now: datetime,
) -> None:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(f"no key site {site_id}")
    values = (_checked_name(name), _responsible(session, responsible_id, site.unit_id))
    if (site.name, site.responsible_id) != values:
        note = f"{site.name} → {values[0]}; responsible {site.responsible_id} → {values[1]}"
        site.name, site.responsible_id = values
        _audit(session, "site", site.id, "edit", by, now, note)
        session.flush()


def person_history(session: Session, person_id: int, limit: int = 200) -> list[HistoryLine]:
    """What happened to the person, newest first: added, edited, roles given and taken (and bound
    or withdrawn in each campaign), passwords, deactivation, administration
    (``ix_audit_entity``)."""
    person = _person(session, person_id)
    rows = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.entity.in_(("person", "administrator", "role")),
            AuditEvent.entity_id == person.id,
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


def unit_tree(session: Session, unit_ids: set[int] | None) -> list[tuple[Unit, int, int]]:
    """The units of ``unit_ids`` (every one for None), each after its parent, with its depth and
    number of active people."""
    units = list(session.scalars(select(Unit).order_by(Unit.name)))
    people: dict[int, int] = {
        unit_id: count
        for unit_id, count in session.execute(
            select(Person.unit_id, func.count())
            .where(Person.active.is_(True))
            .group_by(Person.unit_id)
        )
    }
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    shown = [u for u in units if unit_ids is None or u.id in unit_ids]
    tops = [u for u in shown if u.parent_id is None or (unit_ids and u.parent_id not in unit_ids)]
    found: list[tuple[Unit, int, int]] = []
    waiting = [(u, 0) for u in reversed(tops)]
    while waiting:
        unit, depth = waiting.pop()
        found.append((unit, depth, people.get(unit.id, 0)))
        waiting += [(child, depth + 1) for child in reversed(children.get(unit.id, []))]
    return found


def holders_in_campaigns(session: Session, person_id: int) -> int:
    """How many running campaigns bind a role to the person."""
    return (
        session.scalar(
            select(func.count(func.distinct(RoleBinding.campaign_id)))
            .join(Campaign, Campaign.id == RoleBinding.campaign_id)
            .where(RoleBinding.person_id == person_id, Campaign.closed_at.is_(None))
        )
        or 0
    )


# --- helpers ------------------------------------------------------------------------------------


def _person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person {person_id}")
    return person


def _unit(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"no unit {unit_id}")
    return unit


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


def _checked_email(session: Session, email: str, person_id: int | None) -> str:
    email = (email or "").strip().lower()
    if not EMAIL.match(email) or len(email) > EMAIL_LIMIT:
        raise InvalidInput("write an e-mail address like name@example.org")
    holder = session.scalar(select(Person.id).where(Person.email == email))
    if holder is not None and holder != person_id:
        raise InvalidInput(f"{email} is someone else's e-mail address")
    return email


def _checked_phone(session: Session, phone: str | None, person_id: int | None) -> str | None:
    if not (phone or "").strip():
        return None
    normal = normal_phone(phone or "")
    if normal is None:
        raise InvalidInput(PHONE_PROBLEM)
    holder = session.scalar(select(Person.id).where(Person.phone == normal))
    if holder is not None and holder != person_id:
        raise InvalidInput(f"the mobile number {normal} is someone else's")
    return normal


def _checked_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("a name is required")
    if len(name) > NAME_LIMIT:
        raise InvalidInput(f"a name has at most {NAME_LIMIT} characters")
    return name


def _checked_code(code: str) -> str:
    code = (code or "").strip().lower()
    if not CODE.match(code):
        raise InvalidInput(
            "an id is written in lower-case letters, digits, '-' or '_' (e.g. east-village)"
        )
    return code


def _checked_role(role: str) -> str:
    role = (role or "").strip()
    if not ROLE.match(role):
        raise InvalidInput("a role id is written in lower-case letters (e.g. village_head)")
    return role


def _clean(text: str | None) -> str | None:
    text = " ".join((text or "").split())
    return text[:NAME_LIMIT] or None


def _responsible(session: Session, person_id: int | None, unit_id: int) -> int | None:
    if person_id is None:
        return None
    person = session.get(Person, person_id)
    if person is None or not person.active or person.unit_id != unit_id:
        raise InvalidInput("the responsible person is an active person of the site's unit")
    return person.id


def _audit(
    session: Session, entity: str, entity_id: int, event: str, by: Actor, now: datetime, note: str
) -> None:
    audit.record(
        session,
        at=now,
        by=by,
        entity=entity,
        entity_id=entity_id,
        event=event,
        from_state=None,
        to_state=None,
        campaign_id=None,
        note=note[:1000],
    )
