"""The directory of units, key sites and people: import from the organisation file, look-ups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from workflow.errors import InvalidInput, NotFound
from workflow.models import ListEntry, Person, PersonRole, Site, Unit
from workflow.organisation.org_file import Organisation, normal_phone


@dataclass(frozen=True)
class RoleChange:
    """A role a person took up (``held``) or gave up in a unit, as the organisation file says."""

    person_id: int
    role: str
    unit_id: int
    held: bool


@dataclass
class ImportSummary:
    units_created: int = 0
    units_updated: int = 0
    people_created: int = 0
    people_updated: int = 0
    sites_created: int = 0
    sites_updated: int = 0
    entries_created: int = 0
    entries_updated: int = 0
    # what running campaigns must follow (workflow.people.rebinding applies it)
    role_changes: list[RoleChange] = field(default_factory=list)
    # active people the file no longer lists: kept (their open work stays theirs) but named
    not_in_file: list[str] = field(default_factory=list)
    # key sites and list entries whose responsible person in the file is deactivated
    inactive_responsible: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (
            f"units: {self.units_created} created, {self.units_updated} updated; "
            f"people: {self.people_created} created, {self.people_updated} updated; "
            f"sites: {self.sites_created} created, {self.sites_updated} updated"
        )
        if self.entries_created or self.entries_updated:
            text += (
                f"; list entries: {self.entries_created} created, {self.entries_updated} updated"
            )
        if self.not_in_file:
            text += (
                f"\nnot in the file, still active ({len(self.not_in_file)}; pingan person "
                f"deactivate EMAIL if they left): {', '.join(self.not_in_file[:20])}"
                + (" …" if len(self.not_in_file) > 20 else "")
            )
        text += "".join(f"\nwarning: {line}" for line in self.inactive_responsible)
        return text


def import_organisation(session: Session, organisation: Organisation) -> ImportSummary:
    """Create or update units, people and sites; running it again changes nothing.

    The file is the source of truth for names, units and roles: every role a
    person takes up or gives up (a role dropped, a move to another unit) is listed
    in ``role_changes`` for the running campaigns to follow. A password in the
    file is an *initial* password: it is set only for a person who has none yet,
    so re-importing never resets a password someone has since changed. People
    missing from the file are left as they are (their open work stays theirs)
    and named in ``not_in_file``: deactivating them is a decision for a person
    (``pingan person deactivate``), since a file may cover part of the tree only.
    """
    summary = ImportSummary()
    units = {u.code: u for u in session.scalars(select(Unit))}
    for spec in organisation.units:  # parents come before children
        parent_id = units[spec.parent].id if spec.parent else None
        unit = units.get(spec.id)
        if unit is None:
            unit = Unit(code=spec.id, name=spec.name, parent_id=parent_id)
            session.add(unit)
            session.flush()
            units[spec.id] = unit
            summary.units_created += 1
        elif (unit.name, unit.parent_id) != (spec.name, parent_id):
            unit.name, unit.parent_id = spec.name, parent_id
            summary.units_updated += 1

    people = {p.email: p for p in session.scalars(select(Person))}
    _make_room_for_phones(session, organisation, people)
    roles_of: dict[int, set[str]] = {}
    for person_id, role in session.execute(select(PersonRole.person_id, PersonRole.role)):
        roles_of.setdefault(person_id, set()).add(role)
    for spec in organisation.people:
        unit_id = units[spec.unit].id
        person = people.get(spec.email)
        created = person is None
        if person is None:
            person = Person(
                email=spec.email, name=spec.name, title=spec.title, unit_id=unit_id, active=True
            )
            session.add(person)
            session.flush()
            people[spec.email] = person
            summary.people_created += 1
        changed = (person.name, person.title, person.unit_id) != (spec.name, spec.title, unit_id)
        before = {(role, person.unit_id) for role in roles_of.get(person.id, set())}
        after = {(role, unit_id) for role in spec.roles}
        if person.active:  # an inactive person holds nothing in campaigns; reactivation binds
            summary.role_changes += [
                RoleChange(person.id, role, unit, held=False)
                for role, unit in sorted(before - after)
            ] + [
                RoleChange(person.id, role, unit, held=True)
                for role, unit in sorted(after - before)
            ]
        person.name, person.title, person.unit_id = spec.name, spec.title, unit_id
        if spec.phone is not None and person.phone != spec.phone:
            # a file without a phone leaves the one entered on the page; a phone given replaces it
            person.phone = spec.phone
            changed = True
        if spec.password and not person.password_hash:
            # an initial password: whoever typed the file knows it, so it opens the page that
            # replaces it and nothing else until then
            person.password_hash = generate_password_hash(spec.password)
            person.must_change_password = True
            changed = True
        wanted = set(spec.roles)
        if roles_of.get(person.id, set()) != wanted:
            # a new person holds nothing yet; the delete's session sync compares it with every
            # object of the session: 20,000 new people took the square of that (6 minutes)
            if not created:
                session.execute(delete(PersonRole).where(PersonRole.person_id == person.id))
            session.add_all(PersonRole(person_id=person.id, role=role) for role in sorted(wanted))
            changed = True
        if changed and not created:
            summary.people_updated += 1

    listed = {spec.email for spec in organisation.people}
    summary.not_in_file = sorted(
        email for email, person in people.items() if email not in listed and person.active
    )

    sites = {s.code: s for s in session.scalars(select(Site))}
    for unit_spec in organisation.units:
        for site_spec in unit_spec.sites:
            responsible_id = people[site_spec.responsible].id if site_spec.responsible else None
            _note_inactive(summary, people, site_spec.responsible, site_spec.id)
            values = (site_spec.name, units[site_spec.unit].id, responsible_id)
            site = sites.get(site_spec.id)
            if site is None:
                session.add(
                    Site(
                        code=site_spec.id,
                        name=values[0],
                        unit_id=values[1],
                        responsible_id=values[2],
                    )
                )
                summary.sites_created += 1
            elif (site.name, site.unit_id, site.responsible_id) != values:
                site.name, site.unit_id, site.responsible_id = values
                summary.sites_updated += 1

    entries = {(e.list_key, e.code): e for e in session.scalars(select(ListEntry))}
    for spec in organisation.entries:
        _note_inactive(summary, people, spec.responsible, f"{spec.list}/{spec.id}")
        values = (
            spec.name,
            units[spec.unit].id,
            people[spec.responsible].id if spec.responsible else None,
            spec.note,
        )
        entry = entries.get((spec.list, spec.id))
        if entry is None:
            session.add(
                ListEntry(
                    list_key=spec.list,
                    code=spec.id,
                    name=values[0],
                    unit_id=values[1],
                    responsible_id=values[2],
                    note=values[3],
                )
            )
            summary.entries_created += 1
        elif (entry.name, entry.unit_id, entry.responsible_id, entry.note) != values:
            entry.name, entry.unit_id, entry.responsible_id, entry.note = values
            summary.entries_updated += 1
    session.flush()
    return summary


def unit_by_code(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(
            f"no unit '{code}' (import the organisation file first: pingan import-org FILE)"
        )
    return unit


def units_under(session: Session, roots: Iterable[int]) -> set[int]:
    """The ids of ``roots`` and of every unit under them."""
    children: dict[int, list[int]] = {}
    # a town has tens of units, not thousands: one read of the tree beats a recursive query that
    # SQLite and PostgreSQL spell alike
    for unit_id, parent_id in session.execute(select(Unit.id, Unit.parent_id)):
        if parent_id is not None:
            children.setdefault(parent_id, []).append(unit_id)
    found: set[int] = set()
    waiting = list(roots)
    while waiting:
        unit_id = waiting.pop()
        if unit_id not in found:
            found.add(unit_id)
            waiting.extend(children.get(unit_id, ()))
    return found


def person_by_email(session: Session, email: str) -> Person:
    person = session.scalar(select(Person).where(Person.email == email.strip().lower()))
    if person is None:
        raise NotFound(f"no person with e-mail '{email}'")
    return person


# --- helpers ------------------------------------------------------------------------------------


def person_for_sign_in(session: Session, identifier: str) -> Person | None:
    """The person a sign-in names: by mobile number when it reads as one (``normal_phone``), else
    by e-mail (compared without case). None when nobody has it."""
    phone = normal_phone(identifier)
    if phone is not None:
        return session.scalar(select(Person).where(Person.phone == phone))
    return session.scalar(select(Person).where(Person.email == identifier.strip().lower()))


# --- helpers ------------------------------------------------------------------------------------


def _make_room_for_phones(
    session: Session, organisation: Organisation, people: dict[str, Person]
) -> None:
    """Refuse a phone the file gives to someone while another person keeps it; free the phones
    that move (two people swapping numbers) before any is set, so no flush meets the unique key."""
    given = {spec.email: spec.phone for spec in organisation.people if spec.phone is not None}
    holders = {person.phone: person for person in people.values() if person.phone}
    for email, phone in given.items():
        holder = holders.get(phone)
        if holder is not None and holder.email != email and given.get(holder.email, phone) == phone:
            raise InvalidInput(
                f"the mobile number {phone} given to {email} is {holder.email}'s: change or "
                f"remove theirs first"
            )
    moving = [p for email, p in people.items() if p.phone and given.get(email, p.phone) != p.phone]
    moving += [holders[phone] for phone in given.values() if phone in holders]
    if moving:
        for person in moving:
            if given.get(person.email) != person.phone:
                person.phone = None
        session.flush()


def _note_inactive(
    summary: ImportSummary, people: dict[str, Person], email: str | None, what: str
) -> None:
    # the file still names someone who has left: their site's duties would reach nobody
    if email and not people[email].active:
        summary.inactive_responsible.append(f"{what}: {email} is inactive")
