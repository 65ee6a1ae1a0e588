"""Chinese search over work items: the words of a query are found in an item's texts (a task's
title and note; a hazard's description, location, the note it was reported fixed with and its
temporary measures) or in its key site's name, each word anywhere in them.

Chinese has no spaces between words, so the indexes are of trigrams, three characters at a time:
SQLite's FTS5 with the trigram tokenizer (``task_search``, ``rectification_search``, kept by
triggers) and PostgreSQL's pg_trgm GIN indexes on the very expressions :data:`TEXTS` writes
(migration 0020). A word of three characters or more is looked up in them. A word of one or two
characters (「护栏」, most Chinese words) has no trigram, so an index cannot find it (PITFALLS.md):
it is matched by LIKE over the list's own rows, which the other filters have already narrowed (one
person's items, one campaign's register), so the scan is of those rows, not of the table.

On SQLite a campaign-wide search starts at the FTS5 table, joined to the items (:func:`fts_driver`):
SQLite streams the matches and stops where a LIMIT says, where ``id IN (SELECT rowid … MATCH)``
first gathered every item holding the word in every campaign (287,000 of a million). Where the
other filters leave few rows, or a common word's list is walked by due date, each row's texts are
compared with LIKE instead: a probe of the FTS5 table by rowid costs about 0.2 ms a row.

Results are ranked by where each word was found (title or description 4, key site or location 2,
notes 1), the same on both databases, and :func:`marked` splits a text into the parts to
highlight.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.sql import expression
from sqlalchemy.sql.elements import ColumnElement

from workflow.models import Rectification, Site, Task

# a word shorter than this has no trigram: LIKE over the narrowed rows
TRIGRAM = 3
# SQLite's search index: FTS5 tables (and their shadow tables, ``task_search_data`` ...) derived
# from the items' rows by triggers; a backup, a restore or a comparison of rows passes them over
SEARCH_INDEX_TABLES = ("task_search", "rectification_search")
_ESCAPE = "\\"


def words(query: str) -> list[str]:
    """The words of a query: separated by spaces (full-width ones too), each kept whole, at most
    five (each is a condition on every row)."""
    return list(dict.fromkeys(query.replace("\u3000", " ").split()))[:5]


def matches(
    kind: str,
    terms: list[str],
    site_name: Any,
    dialect: str,
    sites: dict[str, list[int]] | None = None,
    narrowed: bool = False,
    driven: str | None = None,
) -> ColumnElement[bool]:
    """Whether an item of ``kind`` (task | rectification) holds every word, in its texts or its
    key site's name (``site_name``: the site's name column joined to the item).

    ``sites`` (:func:`named_sites`): for each word of 3+ characters, the sites whose name holds it,
    so that the item's key site is one of them. Without it the joined name is compared row by row,
    and that OR keeps both databases from starting at the trigram index: they read every row the
    other conditions leave (a campaign's whole register: seconds at a million rows).

    ``narrowed``: the other conditions leave few rows (one person's, one unit's, or a campaign's
    walked by due date until a page is full): the trigram index is then not used, each row's texts
    are compared. SQLite's planner cannot tell how many rows a word matches, and starting at the
    FTS5 table read every item holding a common word (50,000 of a million: 0.2 s where the unit's
    own 1,250 took 0.02 s); PostgreSQL's ANDed the unit's index with a trigram index scan of
    287,000 rows (80 ms) to keep 344 of 1,183.

    ``driven``: the word that is the :func:`fts_driver`'s MATCH, left out here."""
    items = _TABLES[kind]
    held = [
        _holds(
            kind,
            items,
            term,
            site_name,
            dialect,
            None if sites is None else sites.get(term),
            narrowed,
        )
        for term in terms
        if term != driven
    ]
    return and_(*held) if held else true()


@dataclass(frozen=True)
class FtsDriver:
    """A search that starts at SQLite's FTS5 table: the table joined to the items, and its MATCH
    of the first word of 3+ characters (``term``; any other is a condition of :func:`matches`)."""

    source: Any
    match: ColumnElement[bool]
    term: str


def fts_driver(
    kind: str, terms: list[str], dialect: str, sites: dict[str, list[int]], narrowed: bool
) -> FtsDriver | None:
    """The FTS5 table to start a search at, on SQLite, when the other filters leave many rows (a
    campaign's register) and no key site is named by a word (an item found by its site's name is
    not in the FTS5 table: such a search keeps the condition of :func:`matches`)."""
    long_terms = [term for term in terms if len(term) >= TRIGRAM]
    if dialect != "sqlite" or narrowed or not long_terms or any(sites.get(t) for t in long_terms):
        return None
    name = _FTS[kind]
    items = _TABLES[kind]
    fts = expression.table(name, expression.column("rowid"))
    # +rowid is no constraint the FTS5 table can take: SQLite cannot turn the join around and
    # probe it row by row (0.2 ms a probe), it streams the matches and looks each item up
    source = fts.join(items, items.c.id == literal_column(f"+{name}.rowid"))
    # one word's phrase, as _holds writes it: a statement built once per shape of request binds
    # each word's phrase by name (worklists/items.py)
    term = long_terms[0]
    phrase = fts_phrase(term)
    match = text(f"{name} MATCH :phrase").bindparams(bindparam("phrase", phrase, unique=True))
    return FtsDriver(source, match, term)


def named_sites(connection: Any, terms: list[str]) -> dict[str, list[int]]:
    """For each word of 3+ characters, the ids of the sites whose name holds it (few: a word
    names a hazard far more often than a site)."""
    site = Site.__table__
    return {
        term: list(
            connection.execute(
                select(site.c.id).where(site.c.name.ilike(like_pattern(term), escape=_ESCAPE))
            ).scalars()
        )
        for term in terms
        if len(term) >= TRIGRAM
    }


def like_pattern(term: str) -> str:
    """The LIKE pattern of a word anywhere in a text, its ``%``, ``_`` and ``\\`` escaped."""
    escaped = (
        term.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    )
    return f"%{escaped}%"


def fts_phrase(term: str) -> str:
    """A word as an FTS5 phrase (quoted, its quotes doubled): matched as it is, never as syntax."""
    return '"' + term.replace('"', '""') + '"'


@contextmanager
def planned_for_search(connection: Any, dialect: str, searching: bool) -> Iterator[None]:
    """The statements of a search, on PostgreSQL, planned without sequential scans, then the
    setting restored: for the transaction, or for the connection while it runs when its reads run
    in autocommit (webapp/wiring.py: the API's). Its planner prices a row's ILIKE over the joined
    texts as a couple of operators, so for a word in 5 % of a campaign's hazards it read the table
    in order until 1,001 matched (80,000 rows compared: 40-220 ms) where the trigram index ANDed
    with the campaign's gave them in 26-32 ms."""
    if dialect != "postgresql" or not searching:
        yield
        return
    local = connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT"
    before = connection.execute(
        text(
            "SELECT current_setting('enable_seqscan'), set_config('enable_seqscan', 'off', :local)"
        ),
        {"local": local},
    ).scalar_one()
    try:
        yield
    finally:
        connection.execute(
            text("SELECT set_config('enable_seqscan', :before, :local)"),
            {"before": before, "local": local},
        )


def score(kind: str, terms: list[str], site_name: Any) -> ColumnElement[int]:
    """How well an item matches: for each word, the weight of each text that holds it."""
    table = _TABLES[kind]
    total: ColumnElement[int] = literal(0, Integer)
    for term in terms:
        pattern = like_pattern(term)
        for column, weight in (*_weighted(kind, table), (site_name, 2)):
            total = total + case((column.ilike(pattern, escape=_ESCAPE), weight), else_=0)
    return cast(total, Integer)


def marked(value: str | None, terms: list[str]) -> list[tuple[str, bool]]:
    """``value`` cut into parts, each with whether it is a searched word (to highlight)."""
    if not value:
        return []
    if not terms:
        return [(value, False)]
    spans: list[tuple[int, int]] = []
    folded = value.casefold()
    for term in terms:
        needle = term.casefold()
        start = folded.find(needle)
        while start >= 0 and needle:
            spans.append((start, start + len(needle)))
            start = folded.find(needle, start + len(needle))
    parts: list[tuple[str, bool]] = []
    at = 0
    for start, end in sorted(spans):
        if start < at:  # overlapping words: the first one found keeps its part
            start = at
        if start >= end:
            continue
        if start > at:
            parts.append((value[at:start], False))
        parts.append((value[start:end], True))
        at = end
    if at < len(value):
        parts.append((value[at:], False))
    return parts


# --- helpers ------------------------------------------------------------------------------------

_TABLES = {"task": Task.__table__, "rectification": Rectification.__table__}
# the texts searched, written as migration 0020 wrote PostgreSQL's index on them
TEXTS = {
    "task": lambda t: t.c.title + " " + _blank(t.c.note),
    "rectification": lambda t: (
        t.c.description
        + " "
        + _blank(t.c.location)
        + " "
        + _blank(t.c.submission_note)
        + " "
        + _blank(t.c.temporary_measures)
    ),
}
_FTS = {"task": "task_search", "rectification": "rectification_search"}


def _blank(column: Any) -> Any:
    return func.coalesce(column, "")


def _weighted(kind: str, table: Any) -> list[tuple[Any, int]]:
    if kind == "task":
        return [(table.c.title, 4), (table.c.note, 1)]
    return [
        (table.c.description, 4),
        (table.c.location, 2),
        (table.c.submission_note, 1),
        (table.c.temporary_measures, 1),
    ]


def _holds(
    kind: str,
    table: Any,
    term: str,
    site_name: Any,
    dialect: str,
    site_ids: list[int] | None,
    narrowed: bool,
) -> ColumnElement[bool]:
    pattern = like_pattern(term)
    in_site = site_name.ilike(pattern, escape=_ESCAPE)
    if len(term) < TRIGRAM:
        texts = [
            column.ilike(pattern, escape=_ESCAPE) for column, _weight in _weighted(kind, table)
        ]
        return or_(*texts, in_site)
    if site_ids is not None:  # the sites named so, known: no site, no OR
        in_site = table.c.site_id.in_(site_ids) if site_ids else None
    if dialect == "sqlite" and narrowed:
        # the rows the other conditions leave, each compared: no FTS5 probe (0.2 ms a row)
        found = or_(
            *(column.ilike(pattern, escape=_ESCAPE) for column, _weight in _weighted(kind, table))
        )
    elif dialect == "sqlite":
        fts = _FTS[kind]
        phrase = fts_phrase(term)
        match = text(f"{fts} MATCH :phrase").bindparams(bindparam("phrase", phrase, unique=True))
        found = table.c.id.in_(select(text("rowid")).select_from(text(fts)).where(match))
    else:
        texts = TEXTS[kind](table)
        # narrowed: || '' is not the indexed expression, so the rows the other conditions leave
        # are read and compared (a common word's trigram index scan took 80 ms for a unit's 1,183)
        found = (texts + "" if narrowed else texts).ilike(pattern, escape=_ESCAPE)
    return found if in_site is None else or_(found, in_site)
