"""The English twins of a definition's texts: each title written with a ``title_en`` beside it.

A definition may give an English title to itself, its roles, phases, tasks and recurring duties,
kinds of incidents, targets, assessment items, veto and criticism rules. A page in English shows
the twin wherever such a text appears, and the text as written (Chinese) where there is none.

The twins are keyed by the text itself, because the rows keep the text and not where it came
from: a task's title is its spec's, a campaign's title is its definition's (unless an operator
gave it one with ``--title``: that text is no definition's, so it has no twin and stays as
given). Whatever a page shows, the twin is found from the text and the campaign's definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.definitions.catalogue import stored_definition
from workflow.definitions.reader import Definition
from workflow.models import Campaign, DefinitionRow


def english_twins(definition: Definition) -> Mapping[str, str]:
    """Each text of ``definition`` that has an English twin → that twin (computed once per
    definition text: a stored definition never changes)."""
    twins = _TWINS.get(definition.content_hash)
    if twins is None:
        twins = _TWINS[definition.content_hash] = MappingProxyType(dict(_pairs(definition)))
    return twins


def english_twin(text: str | None, definition: Definition) -> str | None:
    """The English twin of ``text`` in ``definition``, or None (a title given by hand has none)."""
    return english_twins(definition).get(text) if text else None


def campaign_twins(session: Session, campaign_ids: Iterable[int]) -> dict[int, Mapping[str, str]]:
    """The English twins of each campaign's definition texts, in one query."""
    wanted = set(campaign_ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(Campaign.id, DefinitionRow)
        .join(DefinitionRow, DefinitionRow.id == Campaign.definition_id)
        .where(Campaign.id.in_(wanted))
    )
    return {campaign_id: english_twins(stored_definition(row)) for campaign_id, row in rows}


# --- helpers ------------------------------------------------------------------------------------


def _pairs(definition: Definition) -> Iterable[tuple[str, str]]:
    assessment = definition.assessment
    texts: list[Any] = [
        definition,
        *definition.roles,
        *definition.phases,
        *(
            spec
            for phase in definition.phases
            for spec in (*phase.tasks, *phase.recurring, *phase.letters)
        ),
        *definition.recurring,
        *definition.incidents,
        *definition.targets,
        *(assessment.items if assessment else ()),
        *(assessment.veto if assessment else ()),
        *(assessment.criticism if assessment else ()),
    ]
    # reversed: where two texts are alike, the first one's twin (the definition's own title first)
    # is the one kept
    for spec in reversed(texts):
        if spec.title_en:
            yield spec.title, spec.title_en


# content hash → twins; bounded by the definitions stored, a few dozen
_TWINS: dict[str, Mapping[str, str]] = {}
