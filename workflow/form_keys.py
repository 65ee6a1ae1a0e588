"""One-time form keys: the same form posted twice creates one thing.

A double click, or a reload of the page a POST answered, sends a form again;
each post used to record another incident and mail 「立即报告」 again
(PITFALLS.md: a page answered at a POST address is re-sent by a reload). A
page form that creates something carries a key made when it is rendered
(``new_key``); the use case claims the key (``claim``) before it writes
anything, in its own transaction, and notes what it created (``created``). A
post whose key was claimed before creates nothing and is told what the first
one created (``AlreadySubmitted``).

Two posts of one key at once (a double click) both pass a look-up, so the
claim is the table's primary key, inserted with ``ON CONFLICT DO NOTHING``,
as the digests claim their day: PostgreSQL makes the second insert wait for
the first transaction and then does nothing (its next statement, read
committed, sees the first's row); SQLite runs one writer at a time (every
write transaction begins IMMEDIATE, ``db.py``). A first post that is refused
rolls its claim back with everything else, so the corrected form, sent again
with its key, is recorded.

A key is its person's: the same key from another person is a new key for
them, so a key copied from someone's page neither blocks their form nor tells
of what they created. Keys are kept (one row per thing created, like its audit
event); a post without a key, the API's and the command line's, is not
checked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow.audit import Actor
from workflow.db import dialect_insert
from workflow.errors import Conflict, InvalidInput
from workflow.limits import FORM_KEY_LIMIT
from workflow.models import FormSubmission


class AlreadySubmitted(Conflict):
    """This form was posted before with the same key: nothing is written; ``entity`` and
    ``entity_id`` say what the first post created."""

    code = "already_submitted"

    def __init__(self, entity: str, entity_id: int | None) -> None:
        super().__init__(
            f"this form was submitted before ({entity} {entity_id}); nothing was added"
        )
        self.entity, self.entity_id = entity, entity_id


@dataclass(frozen=True)
class Claim:
    """A key claimed by a use case that is about to create something."""

    person_id: int
    key: str


def new_key() -> str:
    """A key for a form being rendered: 128 random bits, URL-safe, 22 characters."""
    return secrets.token_urlsafe(16)


def claim(
    session: Session,
    form_key: str | None,
    *,
    by: Actor,
    now: datetime,
    entity: str,
    entity_id: int | None = None,
) -> Claim | None:
    """Claim ``form_key`` for what the use case creates next; raise ``AlreadySubmitted`` if it was
    claimed before. Call it before writing anything. ``entity_id``: when the thing is known already
    (a rectification reported fixed); otherwise ``created`` gives it. No key, or nobody's (an
    operator): nothing to check (None)."""
    if not form_key or by.person_id is None:
        return None
    if len(form_key) > FORM_KEY_LIMIT:
        raise InvalidInput(f"form_key is too long (at most {FORM_KEY_LIMIT} characters)")
    claimed = session.execute(
        dialect_insert(session, FormSubmission)
        .values(person_id=by.person_id, key=form_key, at=now, entity=entity, entity_id=entity_id)
        .on_conflict_do_nothing()
        .returning(FormSubmission.key)
    ).first()
    if claimed is None:
        earlier = session.execute(
            select(FormSubmission.entity, FormSubmission.entity_id).where(
                FormSubmission.person_id == by.person_id, FormSubmission.key == form_key
            )
        ).one()
        raise AlreadySubmitted(earlier.entity, earlier.entity_id)
    return Claim(by.person_id, form_key)


def created(session: Session, claimed: Claim | None, entity_id: int) -> None:
    """Note what the claimed post created (in the same transaction as the claim)."""
    if claimed is None:
        return
    session.execute(
        update(FormSubmission)
        .where(FormSubmission.person_id == claimed.person_id, FormSubmission.key == claimed.key)
        .values(entity_id=entity_id)
    )
