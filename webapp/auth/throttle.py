"""The sign-in throttle: failed sign-ins counted in the database, per account and per address.

Flask-Limiter's memory storage counts per worker process, so with 4 workers a
limit of 5 would be 20 (PITFALLS.md); a row per key in ``login_failures`` is
shared by every worker and survives a restart. Five failures in a row lock an
account for a quarter of an hour; an address that fails across many accounts
(password spraying) is locked too, at a higher count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.orm import Session

from workflow.db import dialect_insert
from workflow.models import LoginFailure

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 30
LOCKED_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class Throttled:
    retry_after: timedelta


def keys_for(email: str, address: str | None) -> dict[str, int]:
    """The throttle keys of one sign-in attempt, with the number of failures that locks each."""
    return {
        f"account:{email.strip().lower()[:250]}": ACCOUNT_LIMIT,
        f"address:{(address or '-')[:64]}": ADDRESS_LIMIT,
    }


def throttled(session: Session, keys: dict[str, int], now: datetime) -> Throttled | None:
    """Whether any key is locked now, and for how long still."""
    waits = []
    for key, failures, last in session.execute(
        select(LoginFailure.key, LoginFailure.failures, LoginFailure.last_failed_at).where(
            LoginFailure.key.in_(list(keys))
        )
    ):
        if failures >= keys[key] and now < last + LOCKED_FOR:
            waits.append(last + LOCKED_FOR - now)
    return Throttled(max(waits)) if waits else None


def record_failure(session: Session, keys: dict[str, int], now: datetime) -> None:
    """Count one failed attempt against every key; a count older than the lock period starts again
    at 1."""
    for key in keys:
        statement = dialect_insert(session, LoginFailure).values(
            key=key, failures=1, last_failed_at=now
        )
        # one statement, so two workers counting the same key at once both count
        statement = statement.on_conflict_do_update(
            index_elements=[LoginFailure.key],
            set_={
                "failures": case(
                    (LoginFailure.last_failed_at < now - LOCKED_FOR, 1),
                    else_=LoginFailure.failures + 1,
                ),
                "last_failed_at": now,
            },
        )
        session.execute(statement)


def clear_account(session: Session, email: str) -> None:
    """A successful sign-in ends the account's run of failures (the address keeps its count)."""
    session.execute(
        delete(LoginFailure).where(LoginFailure.key == f"account:{email.strip().lower()[:250]}")
    )
