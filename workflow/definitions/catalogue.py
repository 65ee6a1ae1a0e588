"""Definitions as stored: (id, version) fixes the text, and a running campaign keeps its version."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.audit import Actor
from workflow.definitions.reader import (
    Definition,
    definition_files,
    load_definition_file,
    parse_definition,
)
from workflow.errors import Conflict, NotFound
from workflow.form_keys import claim, created
from workflow.models import Campaign, DefinitionRow, Unit


class VersionTaken(Conflict):
    """Different text under an (id, version) already stored: the text must come as a new
    version."""

    def __init__(self, slug: str, version: int, next_version: int) -> None:
        super().__init__(
            f"definition '{slug}' version {version} is already stored with different text: "
            f"bump the version to {next_version}"
        )
        self.slug, self.version, self.next_version = slug, version, next_version


@dataclass(frozen=True)
class CampaignUse:
    id: int
    title: str
    unit: str
    state: str


@dataclass(frozen=True)
class CatalogueEntry:
    """A definition an administrator can start a campaign of: shipped (a file of the definition
    folders), stored (uploaded, or used by a campaign), or both."""

    id: str
    version: int
    title: str
    shipped: bool
    stored: bool
    campaigns: tuple[CampaignUse, ...]  # of the units the reader looks after


def catalogue(
    session: Session, folders: Sequence[Path], unit_ids: Collection[int] | None = None
) -> list[CatalogueEntry]:
    """The shipped and stored definitions by id and version, each with the campaigns running on it
    of ``unit_ids`` (None: of every unit)."""
    files = {(file.id, file.version): file for file in definition_files(folders)}
    rows = {(row.slug, row.version): row for row in session.scalars(select(DefinitionRow))}
    uses: dict[int, list[CampaignUse]] = {}
    query = (
        select(Campaign.definition_id, Campaign.id, Campaign.title, Unit.name, Campaign.state)
        .join(Unit, Unit.id == Campaign.unit_id)
        .order_by(Campaign.id)
    )
    if unit_ids is not None:
        query = query.where(Campaign.unit_id.in_(unit_ids))
    for definition_id, *use in session.execute(query):
        uses.setdefault(definition_id, []).append(CampaignUse(*use))
    entries = []
    for key in sorted(files.keys() | rows.keys()):
        row = rows.get(key)
        entries.append(
            CatalogueEntry(
                key[0],
                key[1],
                row.title if row is not None else files[key].title,
                key in files,
                row is not None,
                tuple(uses.get(row.id, ())) if row is not None else (),
            )
        )
    return entries


def catalogued_definition(
    session: Session, slug: str, version: int, folders: Sequence[Path]
) -> Definition:
    """The definition (slug, version): as stored, else the shipped file; NotFound otherwise."""
    row = session.scalar(
        select(DefinitionRow).where(DefinitionRow.slug == slug, DefinitionRow.version == version)
    )
    if row is not None:
        return stored_definition(row)
    for file in definition_files(folders):
        if (file.id, file.version) == (slug, version):
            return load_definition_file(file.path)
    raise NotFound(f"no definition '{slug}' version {version}")


def previous_version(
    session: Session, definition: Definition, folders: Sequence[Path]
) -> Definition | None:
    """The last version of the same id below ``definition``'s, stored or shipped, to compare it
    with (None: the first of its id)."""
    stored = session.scalars(
        select(DefinitionRow.version).where(
            DefinitionRow.slug == definition.id, DefinitionRow.version < definition.version
        )
    )
    shipped = (
        file.version
        for file in definition_files(folders)
        if file.id == definition.id and file.version < definition.version
    )
    last = max((*stored, *shipped), default=None)
    return catalogued_definition(session, definition.id, last, folders) if last else None


def register_definition(session: Session, definition: Definition, now: datetime) -> DefinitionRow:
    """Store ``definition`` (or find it stored); refuse different text under an existing (id,
    version)."""
    row = session.scalar(
        select(DefinitionRow).where(
            DefinitionRow.slug == definition.id, DefinitionRow.version == definition.version
        )
    )
    if row is None:
        row = DefinitionRow(
            slug=definition.id,
            version=definition.version,
            title=definition.title,
            text=definition.text,
            content_hash=definition.content_hash,
            created_at=now,
        )
        session.add(row)
        session.flush()
        return row
    if row.content_hash != definition.content_hash:
        raise VersionTaken(
            definition.id, definition.version, latest_version(session, definition.id) + 1
        )
    return row


def store_definition(
    session: Session,
    definition: Definition,
    *,
    by: Actor,
    now: datetime,
    folders: Sequence[Path] = (),
    form_key: str | None = None,
) -> tuple[DefinitionRow, bool]:
    """Store an uploaded definition, audited; the row and whether it is new (the same text stored
    before is no change). Refused (VersionTaken) when its (id, version) is stored or shipped (in
    ``folders``) with other text: `pingan start ID` would otherwise find two texts of one version.
    A form posted again with its key stores nothing (AlreadySubmitted)."""
    claimed = claim(session, form_key, by=by, now=now, entity="definition")
    conflict = version_conflict(session, definition, folders)
    if conflict is not None:
        raise conflict
    known = session.scalar(
        select(DefinitionRow.id).where(
            DefinitionRow.slug == definition.id, DefinitionRow.version == definition.version
        )
    )
    row = register_definition(session, definition, now)
    if known is None:
        audit.record(
            session,
            at=now,
            by=by,
            entity="definition",
            entity_id=row.id,
            event="store",
            from_state=None,
            to_state=None,
            campaign_id=None,
            note=f"{definition.id} v{definition.version} from {definition.source}"[:300],
        )
    created(session, claimed, row.id)
    return row, known is None


def version_conflict(
    session: Session, definition: Definition, folders: Sequence[Path] = ()
) -> VersionTaken | None:
    """The refusal storing ``definition`` would meet: its (id, version) stored, or shipped in
    ``folders``, with other text; None when it is new or the very same text."""
    try:
        known = catalogued_definition(session, definition.id, definition.version, folders)
    except NotFound:
        return None
    if known.content_hash == definition.content_hash:
        return None
    shipped = [file.version for file in definition_files(folders) if file.id == definition.id]
    latest = max([latest_version(session, definition.id), *shipped])
    return VersionTaken(definition.id, definition.version, latest + 1)


def latest_version(session: Session, slug: str) -> int:
    versions = session.scalars(select(DefinitionRow.version).where(DefinitionRow.slug == slug))
    return max(versions, default=0)


def stored_definition(row: DefinitionRow) -> Definition:
    """The definition a campaign runs on, parsed from the stored text (never from a file that may
    have changed), once per text: known by its hash, the text itself is read only to parse it (a
    caller may load the row without it: a check-off, ``campaigns/tasks.py``)."""
    source = f"{row.slug}@v{row.version}"
    key = (row.content_hash, source)
    parsed = _PARSED.get(key)
    if parsed is None:
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.clear()
        # accepted when it was stored: a size limit lowered since must not stop its campaigns
        parsed = _PARSED[key] = parse_definition(row.text, source, bounded=False)
    return parsed


# (text's hash, slug@version) → the parsed definition; a stored text never changes
_PARSED: dict[tuple[str, str], Definition] = {}
_PARSED_LIMIT = 64
