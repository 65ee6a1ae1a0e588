"""Evidence files handed in with a task or a rectification, and who may see an item (and so its
files).

The engine decides what is accepted (type by content, not by the name the
browser sends; size; how many) and who may see it; the web app only moves the
bytes to and from the instance folder under a random name it is given here.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.access import in_leading_group, may_visit_site
from workflow.audit import Actor
from workflow.clock import local_date
from workflow.errors import InvalidInput, NotFound
from workflow.hazards.rectifications import get_rectification
from workflow.limits import MAX_FILE_BYTES, MAX_FILES
from workflow.models import Campaign, EvidenceFile, Site, SiteVisit, Task
from workflow.people import stand_ins

# Photos and scanned documents are what village heads hand in; each type is recognised by its first
# bytes.
ACCEPTED = {
    "image/jpeg": ((b"\xff\xd8\xff",), (".jpg", ".jpeg")),
    "image/png": ((b"\x89PNG\r\n\x1a\n",), (".png",)),
    "image/gif": ((b"GIF87a", b"GIF89a"), (".gif",)),
    "image/webp": ((b"RIFF",), (".webp",)),
    "application/pdf": ((b"%PDF-",), (".pdf",)),
}
ACCEPTED_SUFFIXES = tuple(suffix for _, suffixes in ACCEPTED.values() for suffix in suffixes)
KINDS = ("task", "rectification", "visit")


@dataclass(frozen=True)
class Upload:
    """A file as received: the name the browser gave, its first bytes, and its size."""

    file_name: str
    head: bytes
    size: int


@dataclass(frozen=True)
class AcceptedUpload:
    file_name: str  # cleaned, for display only
    content_type: str
    stored_name: str  # random: the only name used on disk
    size: int


def accept_uploads(uploads: list[Upload]) -> list[AcceptedUpload]:
    """Check every file before any is kept: how many, size, and a type recognised from its
    content."""
    uploads = [upload for upload in uploads if upload.file_name or upload.size]
    if len(uploads) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} files at once; got {len(uploads)}")
    accepted = []
    for upload in uploads:
        name = clean_file_name(upload.file_name)
        if upload.size == 0:
            raise InvalidInput(f"{name} is empty")
        if upload.size > MAX_FILE_BYTES:
            raise InvalidInput(
                f"{name} is too large ({upload.size // 1024} KB; at most "
                f"{MAX_FILE_BYTES // 1024 // 1024} MB)"
            )
        content_type = _recognised_type(upload.head)
        if content_type is None or not name.lower().endswith(ACCEPTED[content_type][1]):
            raise InvalidInput(
                f"{name}: only photos (JPEG, PNG, GIF, WebP) and PDF files are accepted"
            )
        suffix = ACCEPTED[content_type][1][0]
        accepted.append(
            AcceptedUpload(name, content_type, secrets.token_hex(16) + suffix, upload.size)
        )
    return accepted


def attach_evidence(
    session: Session,
    kind: str,
    item_id: int,
    files: list[AcceptedUpload],
    *,
    by: Actor,
    now: datetime,
) -> list[EvidenceFile]:
    """Record accepted files as evidence of an item the actor may see (call it in the move's own
    transaction)."""
    campaign_id = visible_item(session, kind, item_id, by, now)
    rows = [
        EvidenceFile(
            campaign_id=campaign_id,
            item_kind=kind,
            item_id=item_id,
            file_name=f.file_name,
            stored_name=f.stored_name,
            content_type=f.content_type,
            size=f.size,
            uploaded_by_id=by.person_id,
            uploaded_at=now,
        )
        for f in files
    ]
    session.add_all(rows)
    session.flush()
    return rows


def evidence_of(session: Session, kind: str, item_id: int) -> list[EvidenceFile]:
    """The evidence files of an item, oldest first (the caller has checked the item is visible)."""
    return list(
        session.scalars(
            select(EvidenceFile)
            .where(EvidenceFile.item_kind == kind, EvidenceFile.item_id == item_id)
            .order_by(EvidenceFile.id)
        )
    )


def evidence_for_download(session: Session, evidence_id: int, by: Actor) -> EvidenceFile:
    """An evidence file, only for those who may see its item; everyone else is told there is no such
    file."""
    row = session.get(EvidenceFile, evidence_id)
    if row is None:
        raise NotFound(f"no evidence file {evidence_id}")
    try:
        visible_item(session, row.item_kind, row.item_id, by)
    except NotFound:
        raise NotFound(f"no evidence file {evidence_id}") from None
    return row


def visible_task(
    session: Session, task_id: int, by: Actor, now: datetime | None = None
) -> tuple[Task, Campaign]:
    """A task its viewer may see: the assignee, or the campaign's leading group (coordinators,
    leaders); given ``now``, the assignee's stand-in that day as well."""
    row = session.execute(
        select(Task, Campaign)
        .join(Campaign, Campaign.id == Task.campaign_id)
        .where(Task.id == task_id)
    ).first()
    if row is None:
        raise NotFound(f"no task {task_id}")
    task, campaign = row
    if (
        by.person_id != task.assignee_id
        and not in_leading_group(session, campaign.id, campaign.unit_id, by)
        and not (now is not None and _stands_in(session, by, task.assignee_id, campaign, now))
    ):
        raise NotFound(f"no task {task_id}")  # the existence of someone else's task is private
    return task, campaign


def visible_item(
    session: Session, kind: str, item_id: int, by: Actor, now: datetime | None = None
) -> int | None:
    """The campaign id of a task or rectification the actor may see (None for a check-in at a key
    site, which is no campaign's); NotFound otherwise."""
    if kind == "task":
        return visible_task(session, item_id, by, now)[0].campaign_id
    if kind == "rectification":
        return get_rectification(session, item_id, by, now).campaign_id
    if kind == "visit":
        visit = session.get(SiteVisit, item_id)
        site = session.get(Site, visit.site_id) if visit is not None else None
        if site is not None and may_visit_site(session, site, by):
            return None
    raise NotFound(f"no {kind} {item_id}")


def clean_file_name(name: str) -> str:
    """The last part of a file name, without control characters or path separators, at most 120
    characters.

    Bidirectional controls go too: "invoice" U+202E "gnp.pdf" would be shown as "invoicefdp.png".
    """
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(
        r"[\x00-\x1f\x7f\"<>|:*?\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", name
    ).strip(" .")
    if len(name) > 120:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[:110] + dot + suffix[:9]) if dot else name[:120]
    return name or "file"


def _recognised_type(head: bytes) -> str | None:
    for content_type, (signatures, _) in ACCEPTED.items():
        if any(head.startswith(signature) for signature in signatures):
            if content_type == "image/webp" and head[8:12] != b"WEBP":
                continue
            return content_type
    return None


def _stands_in(
    session: Session, by: Actor, holder_id: int, campaign: Campaign, now: datetime
) -> bool:
    today = local_date(now, campaign.timezone)
    return stand_ins.acting_actor(session, by, holder_id, today) is not None
