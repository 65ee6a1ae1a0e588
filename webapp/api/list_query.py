"""The query parameters of the API's work lists as the OpenAPI document describes them: the names
the pages' addresses use (workflow/worklists/filters.py), with the engine's bounds."""

from __future__ import annotations

from typing import Any

from workflow.limits import MAX_DATABASE_ID, MAX_WITHIN_DAYS, SEARCH_LIMIT
from workflow.worklists.filters import DUE_WINDOWS, KINDS, SEVERITIES, SORTS, STATES


def filter_parameters(*names: str) -> tuple[dict[str, Any], ...]:
    """The OpenAPI query parameters of a list that takes the filter ``names`` (and ``after``)."""
    return tuple(_PARAMETERS[name] for name in (*names, "after"))


# --- helpers ------------------------------------------------------------------------------------


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A parameter that may also be given empty, meaning not given: a page's filter bar sends its
    blank selects so (``due=``), and the API reads the same addresses."""
    if "enum" in schema:
        either = {**schema, "enum": ["", *schema["enum"]]}
    elif schema.get("type") == "integer":
        either = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
    else:
        either = schema
    return {"name": name, "in": "query", "schema": either, "description": description}


_PARAMETERS = {
    "campaign": _query(
        "campaign", {"type": "integer", "minimum": 1, "maximum": MAX_DATABASE_ID}, "one campaign"
    ),
    "unit": _query("unit", {"type": "string"}, "a unit's code"),
    "site": _query("site", {"type": "string"}, "a key site's code"),
    "kind": _query("kind", {"enum": list(KINDS)}, "tasks or rectifications only"),
    "state": _query("state", {"enum": list(STATES)}, "a task's or a rectification's state"),
    "severity": _query("severity", {"enum": list(SEVERITIES)}, "rectifications of this grade"),
    "due": _query(
        "due",
        {"enum": list(DUE_WINDOWS)},
        "overdue; soon: due within `within` working days; later",
    ),
    "within": _query(
        "within",
        {"type": "integer", "minimum": 1, "maximum": MAX_WITHIN_DAYS, "default": 3},
        "working days counted as due soon",
    ),
    "level": _query(
        "level",
        {"type": "integer", "minimum": 0, "maximum": 9},
        "reached at least this escalation level on the current deadline (0: the reminder)",
    ),
    "responsible": _query("responsible", {"type": "string"}, "the holder's e-mail"),
    "q": _query(
        "q",
        {"type": "string", "maxLength": SEARCH_LIMIT},
        "words searched in titles, descriptions, locations, notes and key sites' names (Chinese: "
        "a word of 1–2 characters is matched within the other filters' rows)",
    ),
    "sort": _query(
        "sort",
        {"enum": list(SORTS)},
        "due (default), registered or finished (newest first), level (highest first), relevance "
        "(default with q)",
    ),
    "after": _query("after", {"type": "string"}, "the next page: the previous answer's next_after"),
}

# the inbox's (GET /inbox), after the table it is made from
INBOX_QUERY = filter_parameters(
    "campaign", "kind", "severity", "due", "within", "level", "q", "sort"
)
