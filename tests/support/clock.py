"""Beijing time, as the people of the campaigns speak of it: ``shanghai(2026, 5, 1, 9)``."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(*args: int) -> datetime:
    """A Beijing-time instant."""
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]
