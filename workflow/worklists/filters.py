"""What a work list is narrowed to, read from a page's address or the API's query with the same
names, so that a filtered register is a link to share and a saved view is that link's query.

The names (each optional; an unknown name is ignored, a bad value refused):

- ``campaign`` (id), ``unit`` and ``site`` (codes), ``kind`` (task | rectification);
- ``state``: a task's or a rectification's state (the done list and the register);
- ``severity``: minor | major (rectifications only: a task has none);
- ``due``: overdue | soon (due within ``within`` working days, 3 unless given) | later;
- ``level``: reached at least this escalation level (0: the reminder) on the current deadline;
- ``responsible``: the e-mail of the person who holds the item (the register: coordinators);
- ``q``: words searched in the items' texts (workflow/worklists/search.py);
- ``sort``: due | registered | level (and finished, the done list's own order); relevance first
  when there is a search;
- ``after``: the page after this one (an opaque key, workflow/worklists/keyset.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from urllib.parse import urlencode

from workflow.errors import InvalidInput
from workflow.limits import MAX_DATABASE_ID, MAX_WITHIN_DAYS, SEARCH_LIMIT
from workflow.machines import RECTIFICATION_STATES, TASK_STATES

# the lists a filter narrows (and a saved view names)
LISTS = ("inbox", "done", "register")
KINDS = ("task", "rectification")
SEVERITIES = ("minor", "major")
DUE_WINDOWS = ("overdue", "soon", "later")
SORTS = ("due", "registered", "level", "finished", "relevance")
# "due within 3 working days" (the inbox's amber group, the leader's view): the filter's default
SOON_WORKING_DAYS = 3
# ``running``: the campaign list's campaigns not closed
STATES = tuple(dict.fromkeys((*TASK_STATES, *RECTIFICATION_STATES, "running")))


@dataclass(frozen=True)
class WorkFilter:
    """A work list's filter; the defaults narrow nothing."""

    campaign: int | None = None
    unit: str | None = None
    site: str | None = None
    kind: str | None = None
    state: str | None = None
    severity: str | None = None
    due: str | None = None
    within: int = SOON_WORKING_DAYS
    level: int | None = None
    responsible: str | None = None
    q: str | None = None
    sort: str | None = None  # None: the list's own order (relevance when searching)

    def query(self, **changes: object) -> dict[str, str]:
        """The filter (with ``changes``) as an address's query: only what differs from the
        default, in the names read back by :func:`read_filter`."""
        changed = replace(self, **changes) if changes else self
        default = WorkFilter()
        return {
            item.name: str(getattr(changed, item.name))
            for item in fields(WorkFilter)
            if getattr(changed, item.name) != getattr(default, item.name)
        }

    def query_string(self) -> str:
        return urlencode(self.query())

    @property
    def narrowed(self) -> bool:
        """Whether the filter leaves anything out (its order aside)."""
        return replace(self, sort=None) != WorkFilter()


FILTER_NAMES = tuple(item.name for item in fields(WorkFilter))
# the filters a person types (the others are chosen from a list, or a number)
TYPED = frozenset({"unit", "site", "responsible", "q"})


def read_filter(params: Mapping[str, str]) -> WorkFilter:
    """The filter a page's address or the API's query gives; InvalidInput names the first bad
    value. Empty values count as absent (a form's blank select)."""
    # a NUL is no character of a text typed into a filter (PostgreSQL refuses it in any text it
    # compares), nor are the spaces around it; a choice or a number is taken as sent: "overdue " or
    # "ov\0erdue" is no window of the list, and the API's document promises a refusal for it
    given = {
        name: params.get(name, "").replace("\x00", "").strip()
        if name in TYPED
        else params.get(name, "")
        for name in FILTER_NAMES
    }
    within = _number(given["within"], "within", 1, MAX_WITHIN_DAYS)
    q = given["q"] or None
    if q is not None and len(q) > SEARCH_LIMIT:
        raise InvalidInput(f"q must be at most {SEARCH_LIMIT} characters")
    return WorkFilter(
        campaign=_number(given["campaign"], "campaign", 1, MAX_DATABASE_ID),
        unit=given["unit"] or None,
        site=given["site"] or None,
        kind=_one_of(given["kind"], "kind", KINDS),
        state=_one_of(given["state"], "state", STATES),
        severity=_one_of(given["severity"], "severity", SEVERITIES),
        due=_one_of(given["due"], "due", DUE_WINDOWS),
        within=SOON_WORKING_DAYS if within is None else within,
        level=_number(given["level"], "level", 0, 9),
        responsible=given["responsible"].lower() or None,
        q=q,
        sort=_one_of(given["sort"], "sort", SORTS),
    )


# --- helpers ------------------------------------------------------------------------------------


def _one_of(value: str, name: str, allowed: tuple[str, ...]) -> str | None:
    if not value:
        return None
    if value not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)}")
    return value


def _number(value: str, name: str, lowest: int, highest: int) -> int | None:
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or not lowest <= int(value) <= highest:
        raise InvalidInput(f"{name} must be a whole number from {lowest} to {highest}")
    return int(value)
