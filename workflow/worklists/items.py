"""One page of a work list (the inbox, the done list, a campaign's register), filtered, sorted,
counted: tasks and rectifications in one statement.

Each kind is read from its own table by its own index, already narrowed, ordered and cut to the
page (``ix_tasks_inbox`` for a person's tasks, ``ix_rectifications_unit_register`` for a unit's
register ...); the two are then merged and cut again. The keyset condition of the next page is
applied inside each half, so a page deep into a long list reads no more rows than the first one.
The count for the filter is a second statement over the same conditions, without order or page.

Who may read which list is the caller's: the inbox and the done list are a person's own; the
register is the campaign's leading group's (workflow/access.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

from workflow import limits
from workflow.calendar import WorkingCalendar
from workflow.clock import local_date
from workflow.db import joined_text
from workflow.machines import CLOSED
from workflow.models import (
    Campaign,
    DefinitionRow,
    Escalation,
    Person,
    Rectification,
    Site,
    Task,
    Unit,
)
from workflow.worklists import keyset, search
from workflow.worklists.filters import WorkFilter
from workflow.worklists.keyset import INSTANT, NUMBER, SortKey

# the states each list holds of each kind
_LIST_STATES = {
    "inbox": {"task": ("open",), "rectification": ("open",)},
    "done": {"task": ("done", "verified"), "rectification": ("submitted", "closed")},
    "register": {"task": (), "rectification": ("open", "submitted", "closed")},
}
# name, descending, nullable, type: each order ends in (kind, id), so every row has its own key
_ORDERS: dict[str, list[tuple[str, bool, bool, str]]] = {
    "due": [("due_at", False, True, INSTANT), ("kind_rank", False, False, NUMBER)],
    "registered": [("registered_at", True, False, INSTANT), ("kind_rank", False, False, NUMBER)],
    "finished": [("finished_at", True, True, INSTANT), ("kind_rank", False, False, NUMBER)],
    "level": [
        ("level", True, False, NUMBER),
        ("due_at", False, True, INSTANT),
        ("kind_rank", False, False, NUMBER),
    ],
    "relevance": [
        ("rank", True, False, NUMBER),
        ("due_at", False, True, INSTANT),
        ("kind_rank", False, False, NUMBER),
    ],
}
# which id direction goes with each order: newest first where the order is newest first
_ID_DESCENDING = {"registered", "finished"}


class WorkRow(NamedTuple):
    """A task or a rectification as the lists show it."""

    kind: str  # task | rectification
    kind_rank: int  # 0 rectification, 1 task: a hazard first where both are due at once
    id: int
    title: str  # a task's title; a hazard's description
    spec_key: str | None
    campaign_id: int
    phase_key: str
    unit: str | None
    site: str | None
    severity: str | None
    state: str
    due_on: date | None
    due_at: datetime | None
    due_estimated: bool
    registered_at: datetime
    finished_at: datetime | None
    holder_id: int
    note: str | None
    location: str | None
    original_due: date | None
    level: int  # highest escalation level reached on the current deadline; -1 none (sort level)
    rank: int  # how well it matches the search (sort relevance)


class CampaignRow(NamedTuple):
    """A listed item's campaign, read by the page's statement with its rows (the lists show its
    title, its phase and its definition's titles): no statement of its own."""

    id: int
    title: str
    state: str
    timezone: str
    definition_id: int
    content_hash: str  # of the definition's text: its titles are read once per text


@dataclass(frozen=True)
class Scope:
    """Which list: a person's inbox or done list, or a campaign's register."""

    list_name: str  # inbox | done | register
    person_id: int | None = None
    campaign_id: int | None = None
    # the inbox of a stand-in (workflow/people/stand_ins.py): the people away whose items it lists
    absent: tuple[int, ...] = ()


@dataclass(frozen=True)
class Window:
    """The instants that divide overdue, due soon and later for this reading."""

    now: datetime
    soon_until: date  # the last day counted as "due soon"


@dataclass(frozen=True)
class WorkPage:
    rows: list[WorkRow]
    # rows matching the filter by due group (overdue | soon | later), on every page
    counts: dict[str, int]
    next_after: str | None  # the key of the next page; None on the last
    sort: str
    terms: list[str]  # the searched words, to highlight
    levels: dict[tuple[str, int], int]  # (kind, id) → highest level reached, for the page's rows
    # a search's count stopped past limits.SEARCH_RANK_LIMIT: "more than"; listed by due date
    count_capped: bool = False
    # the campaigns of the page's rows, by id
    campaigns: dict[int, CampaignRow] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """Rows matching the filter, on every page."""
        return sum(self.counts.values())


def window_for(now: datetime, zone: str, calendar: WorkingCalendar, within: int) -> Window:
    """The reading at ``now`` in ``zone``: due soon means due within ``within`` working days."""
    return Window(now, calendar.add_working_days(local_date(now, zone), within))


def sort_of(scope: Scope, work_filter: WorkFilter) -> str:
    """The order a list is read in: the filter's, else relevance for a search, else the list's
    own (the done list newest first, the others soonest due first)."""
    if work_filter.sort:
        return work_filter.sort
    if work_filter.q and search.words(work_filter.q):
        return "relevance"
    return "finished" if scope.list_name == "done" else "due"


def work_page(
    session: Session,
    scope: Scope,
    work_filter: WorkFilter,
    window: Window,
    *,
    after: str | None = None,
    limit: int | None = None,
    levels: bool = False,
) -> WorkPage:
    """The page of ``scope``'s list after ``after`` (the first page without it), its count and the
    key of the next page; ``limit`` rows (``limits.PAGE_SIZE`` unless given); with each row's
    escalation level if ``levels`` (a third statement: the register shows them, the inbox not)."""
    limit = limit or limits.PAGE_SIZE
    session.flush()  # Core statements skip the ORM's autoflush
    if _as_it_opens(scope, work_filter, after):
        return _opening_page(session, scope, window, limit, levels)
    sort = sort_of(scope, work_filter)
    terms = search.words(work_filter.q or "")
    if sort == "relevance" and not terms:
        sort = "due"
    wanted = _resolved(session, work_filter)
    dialect = session.get_bind().dialect.name
    sites = search.named_sites(session.connection(), terms) if terms and not wanted.nothing else {}
    kinds = tuple(
        kind
        for kind in ("rectification", "task")
        if not _empty(kind, scope.list_name, work_filter, wanted)
    )
    if not kinds:
        return WorkPage([], {}, None, sort, terms, {})
    shape = _Shape.of(scope, work_filter, wanted, terms, sites, dialect, sort, kinds)
    values = shape.values(scope, work_filter, wanted, window, terms, sites)
    connection = session.connection()
    # a search counts up to SEARCH_RANK_LIMIT and ranks no more: ranking a common word's 50,000
    # matches is seconds of scoring and sorting where a person reads the first page; past the
    # limit its matches are listed by due date (the soonest first: an index walk), said so
    counts = None
    with search.planned_for_search(connection, dialect, bool(terms)):
        if shape.cap is not None:  # the page's order depends on the count: it comes first
            counts = dict(connection.execute(_cached(shape, None), values).all())
        capped = counts is not None and sum(counts.values()) > shape.cap
        if capped and sort == "relevance":
            sort = "due"
        after_values = keyset.decode(after, _keys(sort, None)) if after else None
        if after_values is not None:
            values.update((f"wl_after_{n}", value) for n, value in enumerate(after_values))
        nulls = None if after_values is None else tuple(value is None for value in after_values)
        page = _PageShape(capped, nulls, limit)
        found = connection.execute(_cached(shape, page), values).all()
        if counts is None:  # the page's rows carry the count (_with_rows_facts)
            counts = _counts_of(found, after_values is not None)
            if counts is None:  # a page past the last: no row to carry it
                counts = dict(connection.execute(_cached(shape, None), values).all())
    return _paged(session, found, counts, sort, terms, limit, levels, capped)


# --- helpers ------------------------------------------------------------------------------------


def _count_statement(counted: list[Any], cap: int | None) -> Any:
    matching: Any = union_all(*counted) if len(counted) > 1 else counted[0]
    if cap is not None:
        matching = matching.limit(cap + 1)
    grouped = matching.subquery()
    return select(grouped.c.due_group, func.count().label("number")).group_by(grouped.c.due_group)


def _page_statement(halves: list[Any], sort: str, limit: int) -> Any:
    """The page of the halves' rows (each already ordered and cut to the page)."""
    if len(halves) == 1:
        return halves[0]
    # each half ordered and cut in a subquery of its own, the union by the columns' names (not a
    # subquery of it: its column collection costs more to make than the rest)
    keys = _keys(sort, _NAMED)
    return (
        union_all(
            *(
                select(*_OUTER).select_from(half.subquery(f"page_{n}"))
                for n, half in enumerate(halves)
            )
        )
        .order_by(*(key.ordering() for key in keys))
        .limit(limit + 1)
    )


def _paged(
    session: Session,
    found: list[Any],
    counts: dict[str, int],
    sort: str,
    terms: list[str],
    limit: int,
    levels: bool,
    capped: bool = False,
) -> WorkPage:
    """The page of the rows a page statement (:func:`_with_rows_facts`) found."""
    rows = [WorkRow(*row[:_ROW_WIDTH]) for row in found]
    next_after = None
    if len(rows) > limit:  # the row past the page says only that there is a next one
        found, rows = found[:limit], rows[:limit]
        last = rows[-1]._asdict()
        next_after = keyset.encode(tuple(last[name] for name in _key_names(sort)))
    # the columns after the row's: its campaign's, but its id (the row's campaign_id)
    campaigns = {
        row.campaign_id: CampaignRow(row.campaign_id, *found_row[_ROW_WIDTH:_CAMPAIGN_END])
        for row, found_row in zip(rows, found, strict=True)
    }
    return WorkPage(
        rows,
        counts,
        next_after,
        sort,
        terms,
        _levels(session, rows) if levels else {},
        count_capped=capped,
        campaigns=campaigns,
    )


def _as_it_opens(scope: Scope, work_filter: WorkFilter, after: str | None) -> bool:
    """Whether this is a person's inbox or done list as it opens: no filter, its own order, the
    first page. The inbox so is every assignee's home page, the page read most."""
    return (
        scope.person_id is not None
        and scope.campaign_id is None
        and not scope.absent
        and after is None
        and work_filter == WorkFilter()
    )


def _opening_page(
    session: Session, scope: Scope, window: Window, limit: int, levels: bool
) -> WorkPage:
    """:func:`work_page` of a list as it opens, from statements built once (per list, database
    and page size) with the person and the instants bound: building the statements afresh was
    most of an inbox request's time (benchmarks/load.py)."""
    dialect = session.get_bind().dialect.name
    shape = (scope.list_name, dialect, limit)
    built = _OPENING.get(shape)
    if built is None:
        built = _OPENING[shape] = _opening_statements(scope.list_name, dialect, limit)
    statement, sort = built
    values = {"person_id": scope.person_id, "now": window.now, "soon_until": window.soon_until}
    found = session.connection().execute(statement, values).all()
    counts = _counts_of(found, False) or {}
    return _paged(session, found, counts, sort, [], limit, levels)


def _opening_statements(list_name: str, dialect: str, limit: int) -> tuple[Any, str]:
    """The page statement of a person's list as it opens, with its count (:func:`_with_rows_facts`),
    the person and the reading's instants left as bound parameters."""
    scope = Scope(list_name, person_id=bindparam("person_id", type_=Integer()))
    window = Window(
        bindparam("now", type_=Task.__table__.c.due_at.type),
        bindparam("soon_until", type_=Date()),
    )
    nothing = _Wanted(None, None, None, False)
    sort = sort_of(scope, WorkFilter())
    kinds = [
        _Half(kind, scope, WorkFilter(), nothing, window, [], dialect, sort, {})
        for kind in ("rectification", "task")
        if not _empty(kind, list_name, WorkFilter(), nothing)
    ]
    statement = _page_statement([half.page(None, limit + 1) for half in kinds], sort, limit)
    counting = _count_statement([half.counted(window) for half in kinds], None)
    return _with_rows_facts(statement, sort, counting), sort


def _with_rows_facts(page: Any, sort: str, counting: Any = None) -> Any:
    """The page's rows, each followed by its campaign's (:class:`CampaignRow` but its id) and,
    given ``counting``, by the count by due group as its last column (``overdue:3,soon:1``,
    :func:`_counts_of`): one statement where there were three, one round trip and one execution
    each. The count is an uncorrelated scalar subquery, computed once; the campaigns are joined
    to the page's rows alone; the rows are put back in the page's order (a subquery's order is not
    kept by the statement around it)."""
    rows = page.subquery("page")
    columns = [rows.c[name] for name in WorkRow._fields] + [
        Campaign.title,
        Campaign.state,
        Campaign.timezone,
        Campaign.definition_id,
        DefinitionRow.content_hash,
    ]
    if counting is not None:
        groups = counting.subquery("counted")
        counted = select(
            joined_text(
                groups.c.due_group + literal_column("':'") + cast(groups.c.number, String),
                literal_column("','"),
            )
        ).scalar_subquery()
        columns.append(counted.label("counts"))
    return (
        select(*columns)
        .join_from(rows, Campaign, Campaign.id == rows.c.campaign_id)
        .join(DefinitionRow, DefinitionRow.id == Campaign.definition_id)
        .order_by(*(key.ordering() for key in _keys(sort, rows.c)))
    )


def _counts_of(rows: list[Any], after: bool) -> dict[str, int] | None:
    """The count by due group that each row of a :func:`_with_rows_facts` page carries; None when a
    page after another has no row (the count is then asked for on its own)."""
    if not rows:
        return None if after else {}
    carried = rows[0][-1]
    if not carried:
        return {}
    return {
        group: int(number) for group, number in (part.split(":") for part in carried.split(","))
    }


# (list, database, page size) → the page statement of a list as it opens (with its count), and its
# order
_OPENING: dict[tuple[str, str, int], tuple[Any, str]] = {}


@dataclass(frozen=True)
class _PageShape:
    """What a page statement adds to its list's shape: past the search's cap or not, which of the
    previous page's key values were NULL (None: the first page), the page size."""

    capped: bool
    after_nulls: tuple[bool, ...] | None
    limit: int


@dataclass(frozen=True)
class _Shape:
    """What the statements of a list's page depend on, without a single value: which list and
    database, which filters are given, which kinds are left, the search's words by class (short:
    LIKE; long: the trigram index, with or without sites named so) and the order. Two requests of
    one shape run the same statements with other values bound (:func:`_cached`)."""

    list_name: str
    dialect: str
    person: bool
    campaign_scope: bool
    absent: int
    campaign: bool
    unit: bool
    site: bool
    responsible: bool
    severity: bool
    state: bool
    due: str | None
    level: bool
    kinds: tuple[str, ...]
    # per word: (short, the sites named by it: None not asked, False none, True some)
    terms: tuple[tuple[bool, bool | None], ...]
    sort: str
    cap: int | None  # a search's count stops past it (limits.SEARCH_RANK_LIMIT, read per request)

    @classmethod
    def of(
        cls,
        scope: Scope,
        work_filter: WorkFilter,
        wanted: _Wanted,
        terms: list[str],
        sites: dict[str, list[int]],
        dialect: str,
        sort: str,
        kinds: tuple[str, ...],
    ) -> _Shape:
        return cls(
            scope.list_name,
            dialect,
            scope.person_id is not None,
            scope.campaign_id is not None,
            len(scope.absent),
            work_filter.campaign is not None,
            wanted.unit_id is not None,
            wanted.site_id is not None,
            wanted.person_id is not None,
            work_filter.severity is not None,
            bool(work_filter.state),
            work_filter.due,
            work_filter.level is not None,
            kinds,
            tuple(
                (len(term) < search.TRIGRAM, None if term not in sites else bool(sites[term]))
                for term in terms
            ),
            sort,
            limits.SEARCH_RANK_LIMIT if terms else None,
        )

    def values(
        self,
        scope: Scope,
        work_filter: WorkFilter,
        wanted: _Wanted,
        window: Window,
        terms: list[str],
        sites: dict[str, list[int]],
    ) -> dict[str, Any]:
        """The values of a request of this shape, by the names its statements bind them under."""
        values: dict[str, Any] = {
            "wl_now": window.now,
            "wl_soon_until": window.soon_until,
            "wl_person_id": scope.person_id,
            "wl_campaign_id": scope.campaign_id,
            "wl_campaign": work_filter.campaign,
            "wl_unit_id": wanted.unit_id,
            "wl_site_id": wanted.site_id,
            "wl_responsible_id": wanted.person_id,
            "wl_severity": work_filter.severity,
            "wl_state": work_filter.state,
            "wl_level": work_filter.level,
        }
        values.update((f"wl_absent_{n}", person) for n, person in enumerate(scope.absent))
        for n, term in enumerate(terms):
            values[f"wl_pattern_{n}"] = search.like_pattern(term)
            values[f"wl_phrase_{n}"] = search.fts_phrase(term)  # SQLite's
            if sites.get(term):
                values[f"wl_sites_{n}"] = sites[term]
        return values

    def placeholders(
        self,
    ) -> tuple[Scope, WorkFilter, _Wanted, Window, list[str], dict[str, list[int]]]:
        """The arguments of :class:`_Half` for this shape: a named bound parameter for every value;
        the words and their sites as sentinels, which :func:`_bound_words` then names."""
        scope = Scope(
            self.list_name,
            person_id=_bound("wl_person_id", self.person, Integer()),
            campaign_id=_bound("wl_campaign_id", self.campaign_scope, Integer()),
            absent=tuple(bindparam(f"wl_absent_{n}", type_=Integer()) for n in range(self.absent)),
        )
        work_filter = WorkFilter(
            campaign=_bound("wl_campaign", self.campaign, Integer()),
            severity=_bound("wl_severity", self.severity, String()),
            state=_bound("wl_state", self.state, String()),
            due=self.due,
            level=_bound("wl_level", self.level, Integer()),
        )
        wanted = _Wanted(
            _bound("wl_unit_id", self.unit, Integer()),
            _bound("wl_site_id", self.site, Integer()),
            _bound("wl_responsible_id", self.responsible, Integer()),
            False,
        )
        window = Window(
            bindparam("wl_now", type_=Task.__table__.c.due_at.type),
            bindparam("wl_soon_until", type_=Date()),
        )
        terms = [_sentinel(n, short) for n, (short, _sites) in enumerate(self.terms)]
        sites = {
            terms[n]: ([_SENTINEL_SITE - n] if named else [])
            for n, (_short, named) in enumerate(self.terms)
            if named is not None
        }
        return scope, work_filter, wanted, window, terms, sites


def _cached(shape: _Shape, page: _PageShape | None) -> Any:
    """The count statement of ``shape`` (``page`` None), or its page statement, built at the first
    request of that shape: building them was most of a filtered list's time (benchmarks/load.py)."""
    key = (shape, page)
    statement = _STATEMENTS.get(key)
    if statement is None:
        if len(_STATEMENTS) >= _STATEMENTS_LIMIT:  # words and filters in many combinations
            _STATEMENTS.clear()
        statement = _STATEMENTS[key] = _shaped_statement(shape, page)
    return statement


def _shaped_statement(shape: _Shape, page: _PageShape | None) -> Any:
    scope, work_filter, wanted, window, terms, sites = shape.placeholders()
    halves = [
        _Half(kind, scope, work_filter, wanted, window, terms, shape.dialect, shape.sort, sites)
        for kind in shape.kinds
    ]
    if page is None:
        statement = _count_statement([half.counted(window) for half in halves], shape.cap)
    else:
        sort = shape.sort
        if page.capped and sort == "relevance":
            sort = "due"
            for half in halves:
                half.by_due_past_cap()
        after_values = (
            None
            if page.after_nulls is None
            else [
                None if null else bindparam(f"wl_after_{n}")
                for n, null in enumerate(page.after_nulls)
            ]
        )
        statement = _page_statement(
            [half.page(after_values, page.limit + 1) for half in halves], sort, page.limit
        )
        # no search: the count comes with the page
        counting = (
            _count_statement([half.counted(window) for half in halves], None)
            if shape.cap is None
            else None
        )
        statement = _with_rows_facts(statement, sort, counting)
    return _bound_words(statement, len(terms)) if terms else statement


def _bound(name: str, given: bool, type_: Any) -> Any:
    return bindparam(name, type_=type_) if given else None


def _sentinel(number: int, short: bool) -> str:
    # characters of Unicode's private use area, none of them escaped in a LIKE pattern; a short
    # word's stand-in is short too (search: LIKE, not the trigram index)
    character = chr(_SENTINEL_CHARACTER + number)
    return character if short else character * search.TRIGRAM


def _bound_words(statement: Any, count: int) -> Any:
    """``statement`` with the values search.py made of the sentinel words (LIKE patterns, FTS5
    phrases, the sites named) replaced by named bound parameters."""
    names: dict[Any, str] = {}
    for number in range(count):
        for short in (True, False):
            word = _sentinel(number, short)
            names[search.like_pattern(word)] = f"wl_pattern_{number}"
            names[search.fts_phrase(word)] = f"wl_phrase_{number}"
        names[(_SENTINEL_SITE - number,)] = f"wl_sites_{number}"

    def replace(element: Any) -> Any:
        if not isinstance(element, BindParameter):
            return None
        value = element.value
        key = tuple(value) if isinstance(value, list) else value
        if not isinstance(key, str | tuple) or key not in names:
            return None
        return bindparam(names[key], type_=element.type, expanding=element.expanding)

    return visitors.replacement_traverse(statement, {}, replace)


# (shape, page shape or None for the count) → the statement
_STATEMENTS: dict[tuple[_Shape, _PageShape | None], Any] = {}
_STATEMENTS_LIMIT = 1024
_SENTINEL_CHARACTER = 0xF0000  # Supplementary Private Use Area-A
_SENTINEL_SITE = -1_000_000_000


@dataclass(frozen=True)
class _Wanted:
    """The filter's codes and addresses as ids (None: not asked; an empty match finds nothing)."""

    unit_id: int | None
    site_id: int | None
    person_id: int | None
    nothing: bool  # a code or address that names nothing


def _resolved(session: Session, work_filter: WorkFilter) -> _Wanted:
    connection = session.connection()  # Core statements: the ORM's execution path costs more

    def lookup(column: Any, key: Any, value: str | None) -> int | None:
        if value is None:
            return None
        found = connection.execute(select(column).where(key == value)).scalar_one_or_none()
        return found or -1

    unit_id = lookup(Unit.id, Unit.code, work_filter.unit)
    site_id = lookup(Site.id, Site.code, work_filter.site)
    person_id = lookup(Person.id, Person.email, work_filter.responsible)
    nothing = -1 in (unit_id, site_id, person_id)
    return _Wanted(unit_id, site_id, person_id, nothing)


def _empty(kind: str, list_name: str, work_filter: WorkFilter, wanted: _Wanted) -> bool:
    """Whether the filter leaves no row of ``kind`` in the list (its half is left out)."""
    states = _LIST_STATES[list_name][kind]
    return (
        wanted.nothing
        or not states
        or (work_filter.kind is not None and work_filter.kind != kind)
        or (work_filter.state is not None and work_filter.state not in states)
        or (work_filter.severity is not None and kind == "task")
    )


def _key_names(sort: str) -> list[str]:
    return [name for name, *_rest in _ORDERS[sort]] + ["id"]


def _keys(sort: str, columns: Any) -> list[SortKey]:
    """The order's keys over ``columns`` (None: only their shape, to read a page's key)."""
    keys = [
        SortKey(columns[name] if columns is not None else None, descending, nullable, kind)
        for name, descending, nullable, kind in _ORDERS[sort]
    ]
    id_column = columns["id"] if columns is not None else None
    return [*keys, SortKey(id_column, sort in _ID_DESCENDING)]


class _Half:
    """The rows of one kind: its columns under the lists' names, and its conditions (a kind the
    filter leaves rows of: :func:`_empty`)."""

    def __init__(
        self,
        kind: str,
        scope: Scope,
        work_filter: WorkFilter,
        wanted: _Wanted,
        window: Window,
        terms: list[str],
        dialect: str,
        sort: str,
        sites: dict[str, list[int]],
    ) -> None:
        self.kind = kind
        self.sort = sort
        table = Task.__table__ if kind == "task" else Rectification.__table__
        self.table = table
        self.unit, self.site = _JOINED[kind]
        states = _LIST_STATES[scope.list_name][kind]
        self.columns = dict(_COLUMNS[kind])
        self.round = self.columns.pop("round")
        self._given = (scope, work_filter, wanted, window, terms, dialect, states, sites)
        self.driver: search.FtsDriver | None = None  # set by _conditions: where a search starts
        self.conditions = self._conditions(*self._given)
        self.terms = terms
        self.joins_site = bool(terms)
        self.walked = False  # by_due_past_cap: the page's ids walked first (SQLite)

    def by_due_past_cap(self) -> None:
        """A search past limits.SEARCH_RANK_LIMIT, listed by due date. On SQLite the list's rows are
        then walked in that order (``ix_rectifications_campaign_due``) and each row's texts
        compared (the narrowed match), for words of 3+ characters the page's ids first in a
        statement of their own (see :meth:`page`): starting at the FTS5 table looked up every item
        holding the word in every campaign (287,000 rowid lookups for 「警示标志」) and sorted a
        campaign's matches (130-300 ms at a million rows; 1-5 ms walked). On PostgreSQL the planner
        walks the same index by itself, from the trigram expression's statistics (0.2-0.9 s before
        the index)."""
        self.sort = "due"
        scope, work_filter, wanted, window, terms, dialect, states, sites = self._given
        if dialect != "sqlite" or not terms:
            return
        self.conditions = self._conditions(
            scope, work_filter, wanted, window, terms, dialect, states, sites, walked=True
        )
        # the ids first only where no condition reads the joined site's name (a short word's)
        self.walked = all(len(term) >= search.TRIGRAM for term in terms)

    def page(self, after_values: list[Any] | None, limit: int) -> Any:
        columns = dict(self.columns)
        columns["level"] = (
            func.coalesce(self._level_reached(), -1) if self.sort == "level" else literal(-1)
        )
        columns["rank"] = (
            search.score(self.kind, self.terms, self.site.c.name) if self.terms else literal(0)
        )
        labelled = [
            *_LABELLED[self.kind],
            columns["level"].label("level"),
            columns["rank"].label("rank"),
        ]
        keys = _keys(self.sort, columns)
        # a constant key (the half's kind_rank) orders nothing within the half; as a bound value
        # in its ORDER BY it kept SQLite from stopping a walk of an index in order early (the
        # walked search page: 200 ms with it, 15-30 without)
        ordering = [key.ordering() for key in keys if not isinstance(key.expression, BindParameter)]
        if self.walked:
            # the page's ids from the table alone, then its rows: SQLite's walk of an index in
            # order stops early only when no join follows (with the unit's and the site's it read
            # and sorted every match: 140 ms where the ids alone took 7)
            table = self.table
            ids = select(table.c.id).where(*self.conditions).correlate(None)
            if after_values is not None:
                ids = ids.where(keyset.after_key(keys, after_values))
            ids = ids.order_by(*ordering).limit(limit)
            query = self._from(select(*labelled)).where(table.c.id.in_(ids))
            return query.order_by(*ordering).limit(limit)
        query = self._from(select(*labelled)).where(*self.conditions)
        if after_values is not None:
            query = query.where(keyset.after_key(keys, after_values))
        query = query.order_by(*ordering).limit(limit)
        return query

    def counted(self, window: Window) -> Any:
        due_at, due_on = self.columns["due_at"], self.columns["due_on"]
        group = case(
            (and_(self.table.c.state == "open", due_at <= window.now), "overdue"),
            (and_(due_at > window.now, due_on <= window.soon_until), "soon"),
            else_="later",
        )
        return self._from(select(group.label("due_group"))).where(*self.conditions)

    def _from(self, query: Any) -> Any:
        table = self.table
        return (
            query.select_from(table if self.driver is None else self.driver.source)
            .outerjoin(self.unit, self.unit.c.id == table.c.unit_id)
            .outerjoin(self.site, self.site.c.id == table.c.site_id)
        )

    def _conditions(
        self,
        scope: Scope,
        work_filter: WorkFilter,
        wanted: _Wanted,
        window: Window,
        terms: list[str],
        dialect: str,
        states: tuple[str, ...],
        sites: dict[str, list[int]],
        walked: bool = False,
    ) -> list[Any]:
        table, columns = self.table, self.columns
        state = table.c.state
        conditions: list[Any] = [
            # is not None: a bound parameter has no truth value (a shape's "" state is None)
            state == work_filter.state
            if work_filter.state is not None
            # each state its own bound value, not one expanding parameter: that one makes SQLAlchemy
            # render the statement's text again at every execution
            else state.in_([literal(value, state.type) for value in states])
        ]
        if scope.person_id is not None and scope.absent:
            conditions.append(columns["holder_id"].in_((scope.person_id, *scope.absent)))
        elif scope.person_id is not None:
            conditions.append(columns["holder_id"] == scope.person_id)
        if scope.campaign_id is not None:
            conditions.append(table.c.campaign_id == scope.campaign_id)
        if scope.list_name == "inbox":
            # a closed campaign's leftovers wait for nobody
            conditions.append(
                table.c.campaign_id.in_(select(Campaign.id).where(Campaign.state != CLOSED))
            )
        if work_filter.campaign is not None:
            conditions.append(table.c.campaign_id == work_filter.campaign)
        for column, value in (
            (table.c.unit_id, wanted.unit_id),
            (table.c.site_id, wanted.site_id),
            (columns["holder_id"], wanted.person_id),
        ):
            if value is not None:
                conditions.append(column == value)
        if work_filter.severity is not None:
            conditions.append(table.c.severity == work_filter.severity)
        due_at, due_on = columns["due_at"], columns["due_on"]
        if work_filter.due == "overdue":
            conditions += [state == "open", due_at <= window.now]
        elif work_filter.due == "soon":
            conditions += [due_at > window.now, due_on <= window.soon_until]
        elif work_filter.due == "later":
            conditions.append((due_on > window.soon_until) | due_on.is_(None))
        if work_filter.level is not None:
            conditions.append(self._level_at_least(work_filter.level))
        if terms:
            # one person's or one unit's rows are fewer than a common word's; a list walked by
            # due date past the cap stops at its page
            narrowed = (
                walked
                or scope.person_id is not None
                or any(
                    value is not None
                    for value in (wanted.unit_id, wanted.site_id, wanted.person_id)
                )
            )
            self.driver = search.fts_driver(self.kind, terms, dialect, sites, narrowed)
            driven = self.driver.term if self.driver is not None else None
            conditions.append(
                search.matches(self.kind, terms, self.site.c.name, dialect, sites, narrowed, driven)
            )
            if self.driver is not None:
                conditions.append(self.driver.match)
        return conditions

    def _escalations(self) -> Any:
        escalation = Escalation.__table__
        return escalation, and_(
            escalation.c.item_kind == self.kind,
            escalation.c.item_id == self.table.c.id,
            escalation.c.deadline_round == self.round,
        )

    def _level_reached(self) -> Any:
        escalation, same_item = self._escalations()
        return select(func.max(escalation.c.level)).where(same_item).scalar_subquery()

    def _level_at_least(self, level: int) -> Any:
        escalation, same_item = self._escalations()
        return exists(select(1).where(same_item, escalation.c.level >= level))


def _columns(kind: str, table: Any, unit: Any, site: Any) -> dict[str, Any]:
    common = {"unit": unit.c.name, "site": site.c.name}
    if kind == "task":
        return {
            "kind": literal("task"),
            "kind_rank": literal(1, Integer),
            "id": table.c.id,
            "title": table.c.title,
            "spec_key": table.c.spec_key,
            "campaign_id": table.c.campaign_id,
            "phase_key": table.c.phase_key,
            **common,
            "severity": cast(null(), String),
            "state": table.c.state,
            "due_on": table.c.due_on,
            "due_at": table.c.due_at,
            "due_estimated": table.c.due_estimated,
            "registered_at": table.c.created_at,
            "finished_at": table.c.completed_at,
            "holder_id": table.c.assignee_id,
            "note": table.c.note,
            "location": cast(null(), String),
            "original_due": cast(null(), Date),
            "round": literal(0, Integer),
        }
    return {
        "kind": literal("rectification"),
        "kind_rank": literal(0, Integer),
        "id": table.c.id,
        "title": table.c.description,
        "spec_key": cast(null(), String),
        "campaign_id": table.c.campaign_id,
        "phase_key": table.c.phase_key,
        **common,
        "severity": table.c.severity,
        "state": table.c.state,
        "due_on": table.c.deadline,
        "due_at": table.c.deadline_at,
        "due_estimated": table.c.deadline_estimated,
        "registered_at": table.c.registered_at,
        "finished_at": table.c.submitted_at,
        "holder_id": table.c.responsible_id,
        "note": table.c.submission_note,
        "location": table.c.location,
        "original_due": table.c.original_deadline,
        "round": table.c.deadline_round,
    }


class _Named(dict[str, Any]):
    """The union's columns by name, for its ORDER BY."""

    def __missing__(self, name: str) -> Any:
        return self.setdefault(name, literal_column(name))


_NAMED = _Named()
# Made once: aliasing a table copies its columns and foreign keys (more than a page's statements
# cost to build), and the expressions are immutable, so every page shares them
_JOINED = {
    kind: (Unit.__table__.alias(f"{kind}_unit"), Site.__table__.alias(f"{kind}_site"))
    for kind in ("task", "rectification")
}
_COLUMNS = {
    kind: _columns(
        kind,
        Task.__table__ if kind == "task" else Rectification.__table__,
        *_JOINED[kind],
    )
    for kind in ("task", "rectification")
}
_LABELLED = {
    kind: [expression.label(name) for name, expression in columns.items() if name != "round"]
    for kind, columns in _COLUMNS.items()
}
# a page statement's row: the WorkRow, its campaign's facts, and maybe the count (_with_rows_facts)
_ROW_WIDTH = len(WorkRow._fields)
_CAMPAIGN_END = _ROW_WIDTH + len(CampaignRow._fields) - 1
# a half's columns read from its subquery: by name, typed as the rows are read
_OUTER = [
    literal_column(name, expression.type)
    for name, expression in _COLUMNS["rectification"].items()
    if name != "round"
] + [literal_column("level", Integer()), literal_column("rank", Integer())]


def _levels(session: Session, rows: list[WorkRow]) -> dict[tuple[str, int], int]:
    """The highest escalation level each row reached on its current deadline."""
    if not rows:
        return {}
    escalation = Escalation.__table__
    connection = session.connection()
    levels: dict[tuple[str, int], int] = {}
    for kind in ("task", "rectification"):
        ids = [row.id for row in rows if row.kind == kind]
        if not ids:
            continue
        table = Task.__table__ if kind == "task" else Rectification.__table__
        round_ = table.c.deadline_round if kind == "rectification" else literal(0, Integer)
        query = (
            select(escalation.c.item_id, func.max(escalation.c.level))
            .join(table, table.c.id == escalation.c.item_id)
            .where(
                escalation.c.item_kind == kind,
                escalation.c.item_id.in_(ids),
                escalation.c.deadline_round == round_,
            )
            .group_by(escalation.c.item_id)
        )
        levels.update(((kind, item_id), level) for item_id, level in connection.execute(query))
    return levels
