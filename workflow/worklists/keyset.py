"""Keyset pages: a page ends at its last row's sort key, and the next page starts after that key
(``WHERE key > last ORDER BY key LIMIT n``). Unlike OFFSET, a row inserted or removed before the
place reached neither repeats a row nor skips one, and page 200 costs what page 1 does.

The key a page hands out is opaque to its reader (URL-safe Base64 of the key's values as JSON):
a key altered by hand is refused, never trusted as SQL.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, false, or_
from sqlalchemy.sql.elements import ColumnElement

from workflow.errors import InvalidInput

# the types of key values: each travels as JSON and is read back as the column compares it
INSTANT, DAY, NUMBER = "instant", "day", "number"


@dataclass(frozen=True)
class SortKey:
    """One column of a list's order: the expression, its direction, whether it may be NULL (NULLs
    come last in either direction) and the type of its values."""

    expression: Any
    descending: bool = False
    nullable: bool = False
    kind: str = NUMBER

    def ordering(self) -> Any:
        ordered = self.expression.desc() if self.descending else self.expression.asc()
        return ordered.nulls_last() if self.nullable else ordered


def encode(values: tuple[Any, ...]) -> str:
    """The opaque key of a page's last row."""
    plain = [value.isoformat() if isinstance(value, date) else value for value in values]
    text = json.dumps(plain, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(after: str, keys: list[SortKey]) -> list[Any]:
    """The values of a key made by :func:`encode` for this order; InvalidInput for anything else."""
    try:
        raw = base64.urlsafe_b64decode(after + "=" * (-len(after) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("not a key of this order")
        return [_value(value, key) for value, key in zip(values, keys, strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("after is not a page of this list") from None


def after_key(keys: list[SortKey], values: list[Any]) -> ColumnElement[bool]:
    """The rows that come after ``values`` in the order of ``keys`` (lexicographic, each key in its
    direction, NULLs last)."""
    key, *rest_keys = keys
    value, *rest_values = values
    tail = after_key(rest_keys, rest_values) if rest_keys else false()
    column = key.expression
    if key.nullable and value is None:
        return and_(column.is_(None), tail)
    beyond = column < value if key.descending else column > value
    if key.nullable:
        beyond = or_(beyond, column.is_(None))
    return or_(beyond, and_(column == value, tail))


# --- helpers ------------------------------------------------------------------------------------


def _value(value: Any, key: SortKey) -> Any:
    if value is None:
        if not key.nullable:
            raise ValueError("a key that is never empty")
        return None
    if key.kind in (INSTANT, DAY):
        if not isinstance(value, str):
            raise ValueError("not a date")
        return datetime.fromisoformat(value) if key.kind == INSTANT else date.fromisoformat(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("not a number")
    return value
