"""Proposals (建议值): what a definition adds that its text does not say.

The texts say 定期 where a definition must say monthly, give no points, no
control numbers and no hazard deadlines; a definition that fills these in
marks each such place with ``proposal: <note>`` (the note says what the text
does say). The marks are read here from the definition's own text, with their
lines, for `pingan validate --proposals`, and shown as 「建议值」 wherever a
person reads the value (the report's targets and assessment items).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from workflow.definitions.reader import Definition
from workflow.sourcefile import format_path, load_yaml


@dataclass(frozen=True)
class Proposal:
    line: int
    path: str  # e.g. phases[1].recurring[2]
    name: str  # the marked thing's id (or its key, for a block such as escalation)
    note: str


def proposals_of(definition: Definition) -> list[Proposal]:
    """Every place the definition marks as a proposal, in the order of its text."""
    data, lines = load_yaml(definition.text, definition.source)
    found = [
        Proposal(lines.line_of((*path, "proposal")), format_path(path), name, note)
        for path, name, note in _marked(data, ())
    ]
    return sorted(found, key=lambda proposal: proposal.line)


def _marked(node: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple, str, str]]:  # type: ignore[type-arg]
    if isinstance(node, dict):
        if isinstance(node.get("proposal"), str):
            name = node.get("id") or (str(path[-1]) if path else "definition")
            yield path, str(name), node["proposal"]
        for key, value in node.items():
            yield from _marked(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _marked(value, (*path, index))
