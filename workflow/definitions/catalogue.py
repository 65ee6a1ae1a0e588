"""Definitions as stored: (id, version) fixes the text, and a running campaign keeps its version."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.definitions.reader import Definition, parse_definition
from workflow.errors import Conflict
from workflow.models import DefinitionRow


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
        raise Conflict(
            f"definition '{definition.id}' version {definition.version} is already stored with "
            "different text: "
            f"bump the version to {latest_version(session, definition.id) + 1}"
        )
    return row


def latest_version(session: Session, slug: str) -> int:
    versions = session.scalars(select(DefinitionRow.version).where(DefinitionRow.slug == slug))
    return max(versions, default=0)


def stored_definition(row: DefinitionRow) -> Definition:
    """The definition a campaign runs on, parsed from the stored text (never from a file that may
    have changed)."""
    return _parse_cached(row.content_hash, row.text, f"{row.slug}@v{row.version}")


@lru_cache(maxsize=64)
def _parse_cached(content_hash: str, text: str, source: str) -> Definition:
    # accepted when it was stored: a size limit lowered since must not stop its campaigns
    return parse_definition(text, source, bounded=False)
