"""What changed between two versions of a definition: phases, tasks, recurring duties, letters,
roles, escalation levels and targets added, removed or changed, each with what changed in it.

Items are matched by id (escalation levels by position: the first level is the first level), so a
renamed task reads as one changed title and not as one removed and one added. A line-by-line diff
of the two texts (:func:`text_diff`) goes with it for whoever wants the exact words.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from workflow.definitions.reader import Definition

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
# the fields a change reports: what a reader of the definition cares about, not its English twin
_SKIPPED = frozenset({"title_en", "description"})
# a text diff longer than this is cut: the structured changes say what matters
TEXT_DIFF_LINES = 400


@dataclass(frozen=True)
class FieldChange:
    name: str
    before: str
    after: str


@dataclass(frozen=True)
class Change:
    """One thing added, removed or changed; ``where`` is its phase (None: the whole definition)."""

    kind: str  # added | removed | changed
    what: str  # phase | task | duty | letter | role | level | target | setting
    id: str
    title: str
    where: str | None = None
    fields: tuple[FieldChange, ...] = ()


def definition_changes(before: Definition, after: Definition) -> list[Change]:
    """Every change from ``before`` to ``after``, in the order of the definition: settings, roles,
    phases with their work, campaign-wide duties, escalation levels, targets."""
    changes: list[Change] = []
    for name in ("title", "timezone", "coordinators"):
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changes.append(
                Change(
                    CHANGED,
                    "setting",
                    name,
                    name,
                    None,
                    (FieldChange(name, _shown(old), _shown(new)),),
                )
            )
    changes += _compare("role", before.roles, after.roles)
    changes += _compare(
        "phase", before.phases, after.phases, nested=("tasks", "recurring", "letters")
    )
    old_phases = {phase.id: phase for phase in before.phases}
    for phase in after.phases:
        old = old_phases.get(phase.id)
        for attribute, what in (("tasks", "task"), ("recurring", "duty"), ("letters", "letter")):
            changes += _compare(
                what, getattr(old, attribute) if old else (), getattr(phase, attribute), phase.id
            )
    new_ids = {phase.id for phase in after.phases}
    for phase in before.phases:  # the work of a removed phase goes with it
        if phase.id not in new_ids:
            for attribute, what in (
                ("tasks", "task"),
                ("recurring", "duty"),
                ("letters", "letter"),
            ):
                changes += _compare(what, getattr(phase, attribute), (), phase.id)
    changes += _compare("duty", before.recurring, after.recurring, "campaign")
    changes += _levels(before, after)
    changes += _compare("target", before.targets, after.targets)
    if before.assessment != after.assessment:
        changes.append(Change(CHANGED, "setting", "assessment", "assessment"))
    return changes


def text_diff(before: Definition, after: Definition) -> list[str]:
    """The unified diff of the two texts, at most TEXT_DIFF_LINES lines."""
    lines = list(
        difflib.unified_diff(
            before.text.splitlines(),
            after.text.splitlines(),
            f"{before.id} v{before.version}",
            f"{after.id} v{after.version}",
            lineterm="",
        )
    )
    return lines[:TEXT_DIFF_LINES]


# --- helpers ------------------------------------------------------------------------------------


def _compare(
    what: str,
    before: Sequence[Any],
    after: Sequence[Any],
    where: str | None = None,
    nested: Iterable[str] = (),
) -> list[Change]:
    old = {item.id: item for item in before}
    new = {item.id: item for item in after}
    skipped = _SKIPPED | set(nested)
    changes = []
    for item in after:
        if item.id not in old:
            changes.append(Change(ADDED, what, item.id, item.title, where))
            continue
        differences = tuple(
            FieldChange(field.name, _shown(getattr(old[item.id], field.name)), _shown(value))
            for field in fields(item)
            if field.name not in skipped
            and (value := getattr(item, field.name)) != getattr(old[item.id], field.name)
        )
        if differences:
            changes.append(Change(CHANGED, what, item.id, item.title, where, differences))
    changes += [
        Change(REMOVED, what, item.id, item.title, where) for item in before if item.id not in new
    ]
    return changes


def _levels(before: Definition, after: Definition) -> list[Change]:
    old = before.escalation.levels if before.escalation else ()
    new = after.escalation.levels if after.escalation else ()
    changes = []
    for position in range(max(len(old), len(new))):
        number = str(position + 1)
        if position >= len(old):
            changes.append(Change(ADDED, "level", number, _level(new[position]), "escalation"))
        elif position >= len(new):
            changes.append(Change(REMOVED, "level", number, _level(old[position]), "escalation"))
        elif old[position] != new[position]:
            changes.append(
                Change(
                    CHANGED,
                    "level",
                    number,
                    _level(new[position]),
                    "escalation",
                    (FieldChange("level", _level(old[position]), _level(new[position])),),
                )
            )
    return changes


def _level(level: Any) -> str:
    return f"{level.after} → {', '.join(level.notify)}"


def _shown(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, tuple):
        return ", ".join(_shown(item) for item in value) or "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
