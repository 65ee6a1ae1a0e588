"""The fields of the directory as people type them on the pages: names, ids, e-mail addresses,
mobile numbers and role ids checked and cleaned one way, and each change of the directory written
to the audit log one way (``workflow/people/records.py``, ``posts.py``, ``workflow/organisation/
tree.py`` use them). Each check raises InvalidInput naming what is wrong; nothing is written.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.audit import Actor
from workflow.errors import InvalidInput, NotFound
from workflow.limits import EMAIL_LIMIT
from workflow.models import Person, Unit
from workflow.organisation.org_file import PHONE_PROBLEM, normal_phone

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME_LIMIT = 200


def person_row(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person {person_id}")
    return person


def unit_row(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"no unit {unit_id}")
    return unit


def checked_email(session: Session, email: str, person_id: int | None) -> str:
    email = (email or "").strip().lower()
    if not EMAIL.match(email) or len(email) > EMAIL_LIMIT:
        raise InvalidInput("write an e-mail address like name@example.org")
    holder = session.scalar(select(Person.id).where(Person.email == email))
    if holder is not None and holder != person_id:
        raise InvalidInput(f"{email} is someone else's e-mail address")
    return email


def checked_phone(session: Session, phone: str | None, person_id: int | None) -> str | None:
    if not (phone or "").strip():
        return None
    normal = normal_phone(phone or "")
    if normal is None:
        raise InvalidInput(PHONE_PROBLEM)
    holder = session.scalar(select(Person.id).where(Person.phone == normal))
    if holder is not None and holder != person_id:
        raise InvalidInput(f"the mobile number {normal} is someone else's")
    return normal


def checked_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("a name is required")
    if len(name) > NAME_LIMIT:
        raise InvalidInput(f"a name has at most {NAME_LIMIT} characters")
    return name


def checked_code(code: str) -> str:
    code = (code or "").strip().lower()
    if not CODE.match(code):
        raise InvalidInput(
            "an id is written in lower-case letters, digits, '-' or '_' (e.g. east-village)"
        )
    return code


def checked_role(role: str) -> str:
    role = (role or "").strip()
    if not ROLE.match(role):
        raise InvalidInput("a role id is written in lower-case letters (e.g. village_head)")
    return role


def clean(text: str | None) -> str | None:
    text = " ".join((text or "").split())
    return text[:NAME_LIMIT] or None


def record_change(
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
