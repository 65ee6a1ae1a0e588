"""Evidence files handed in with a task or a rectification, and who may see an item (and so its
files).

The engine decides what is accepted (type by content, not by the name the
browser sends; size; how many) and who may see it; the web app only moves the
bytes to and from the instance folder under a random name it is given here.
A photo is decoded and re-encoded (``workflow.field.photos``): what is stored
is the re-encoded JPEG and its thumbnail, never the bytes as sent. A hazard's
photos are staged: ``before`` (handed in when it is registered) and ``after``
(with "fixed"), shown side by side where it is verified and in the ledger.
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
from workflow.clock import DEFAULT_TIMEZONE, local_date
from workflow.db import in_batches
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.reader import PhotoRules
from workflow.errors import InvalidInput, NotFound
from workflow.field.photos import process_photo
from workflow.hazards.rectifications import get_rectification
from workflow.limits import MAX_FILE_BYTES, MAX_FILES
from workflow.models import Campaign, EvidenceFile, Rectification, Site, SiteVisit, Task
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
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
KINDS = ("task", "rectification", "visit")
# a rectification's photos: handed in with the hazard, and with "fixed"
STAGES = ("before", "after")


@dataclass(frozen=True)
class Upload:
    """A file as received: the name the browser gave, its first bytes, and its size; its whole
    content when it is within MAX_FILE_BYTES (a photo is decoded from it)."""

    file_name: str
    head: bytes
    size: int
    data: bytes | None = None
    photo_only: bool = False  # from a photo field: a document is refused


@dataclass(frozen=True)
class AcceptedUpload:
    file_name: str  # cleaned, for display only
    content_type: str
    stored_name: str  # random: the only name used on disk
    size: int
    # what to write under stored_name: a photo re-encoded; None for a document, kept as sent
    data: bytes | None = None
    thumb_name: str | None = None  # random too; with its bytes
    thumbnail: bytes | None = None
    width: int | None = None
    height: int | None = None
    captured_at: datetime | None = None


def accept_uploads(
    uploads: list[Upload],
    *,
    rules: PhotoRules = PhotoRules(),
    zone: str = DEFAULT_TIMEZONE,
) -> list[AcceptedUpload]:
    """Check every file before any is kept: how many, size, and a type recognised from its
    content; photos are decoded and re-encoded (``rules``: the campaign's, read with
    :func:`photo_rules`); an upload from a photo field (``photo_only``) must be an image."""
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
        if upload.photo_only and content_type not in PHOTO_TYPES:
            raise InvalidInput(
                f"{name} is not a photo: only JPEG, PNG, GIF and WebP images are accepted"
            )
        if content_type is None or not name.lower().endswith(ACCEPTED[content_type][1]):
            raise InvalidInput(
                f"{name}: only photos (JPEG, PNG, GIF, WebP) and PDF files are accepted"
            )
        if content_type in PHOTO_TYPES:
            accepted.append(_photo(upload, name, rules, zone))
        else:
            suffix = ACCEPTED[content_type][1][0]
            accepted.append(
                AcceptedUpload(name, content_type, secrets.token_hex(16) + suffix, upload.size)
            )
    return accepted


def photo_rules(session: Session, campaign_id: int) -> tuple[PhotoRules, str]:
    """What a campaign keeps of a photo, and its time zone (a capture time without an offset is
    the campaign's local time); the defaults for a campaign that does not exist (the move that
    follows says so)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return PhotoRules(), DEFAULT_TIMEZONE
    return stored_definition(campaign.definition).photos, campaign.timezone


def attach_evidence(
    session: Session,
    kind: str,
    item_id: int,
    files: list[AcceptedUpload],
    *,
    by: Actor,
    now: datetime,
    stage: str | None = None,
) -> list[EvidenceFile]:
    """Record accepted files as evidence of an item the actor may see (call it in the move's own
    transaction); ``stage`` marks a rectification's photos ``before`` or ``after``."""
    if stage is not None and stage not in STAGES:
        raise InvalidInput(f"unknown photo stage {stage!r}")
    campaign_id = visible_item(session, kind, item_id, by, now)
    return _record(session, campaign_id, kind, item_id, files, by=by, now=now, stage=stage)


def attach_hazard_photos(
    session: Session,
    rectification: Rectification,
    files: list[AcceptedUpload],
    *,
    by: Actor,
    now: datetime,
) -> list[EvidenceFile]:
    """Record the photos handed in with a hazard as its ``before`` photos, in the transaction that
    registered it (the registration was the permission: an inspector may register a hazard whose
    page only its responsible person and the leading group open)."""
    return _record(
        session,
        rectification.campaign_id,
        "rectification",
        rectification.id,
        files,
        by=by,
        now=now,
        stage="before",
    )


def attach_visit_photos(
    session: Session, visit_id: int, files: list[AcceptedUpload], *, by: Actor, now: datetime
) -> list[EvidenceFile]:
    """Record the photos of a check-in at a key site, in the transaction that recorded it (the
    check-in was the permission; a visit is no campaign's)."""
    return _record(session, None, "visit", visit_id, files, by=by, now=now, stage=None)


def evidence_of(session: Session, kind: str, item_id: int) -> list[EvidenceFile]:
    """The evidence files of an item, oldest first (the caller has checked the item is visible)."""
    return list(
        session.scalars(
            select(EvidenceFile)
            .where(EvidenceFile.item_kind == kind, EvidenceFile.item_id == item_id)
            .order_by(EvidenceFile.id)
        )
    )


def photos_by_stage(
    session: Session, rectification_ids: list[int], *, campaign_id: int | None = None
) -> dict[int, dict[str, list[EvidenceFile]]]:
    """The before and after photos of each rectification, oldest first: ``{id: {"before": [...],
    "after": [...]}}`` (the caller has checked they are visible; ``campaign_id``: only that
    campaign's, where a report lists its sub-units' hazards too)."""
    found: dict[int, dict[str, list[EvidenceFile]]] = {}
    for chunk in in_batches(rectification_ids):
        query = select(EvidenceFile).where(
            EvidenceFile.item_kind == "rectification",
            EvidenceFile.item_id.in_(chunk),
            EvidenceFile.stage.in_(STAGES),
        )
        if campaign_id is not None:
            query = query.where(EvidenceFile.campaign_id == campaign_id)
        rows = session.scalars(query.order_by(EvidenceFile.id))
        for row in rows:
            stages = found.setdefault(row.item_id, {stage: [] for stage in STAGES})
            stages[row.stage].append(row)  # type: ignore[index]
    return found


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


# --- helpers ------------------------------------------------------------------------------------


def _record(
    session: Session,
    campaign_id: int | None,
    kind: str,
    item_id: int,
    files: list[AcceptedUpload],
    *,
    by: Actor,
    now: datetime,
    stage: str | None,
) -> list[EvidenceFile]:
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
            # a stage is a photo's: a PDF handed in with "fixed" is a document, not an "after"
            stage=stage if f.thumb_name else None,
            thumb_name=f.thumb_name,
            width=f.width,
            height=f.height,
            captured_at=f.captured_at,
        )
        for f in files
    ]
    session.add_all(rows)
    session.flush()
    return rows


def _photo(upload: Upload, name: str, rules: PhotoRules, zone: str) -> AcceptedUpload:
    if upload.data is None:
        raise InvalidInput(f"{name} could not be read")
    photo = process_photo(upload.data, keep_location=rules.keep_location, zone=zone, name=name)
    return AcceptedUpload(
        name,
        "image/jpeg",
        secrets.token_hex(16) + ".jpg",
        len(photo.data),
        data=photo.data,
        thumb_name=secrets.token_hex(16) + ".jpg",
        thumbnail=photo.thumbnail,
        width=photo.width,
        height=photo.height,
        captured_at=photo.captured_at,
    )


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
