"""The sign-in throttle: failed sign-ins counted in the database, per account at an address, per
address, and per account from everywhere.

Flask-Limiter's memory storage counts per worker process, so with 4 workers a
limit of 5 would be 20 (PITFALLS.md); a row per key in ``login_failures`` is
shared by every worker and survives a restart.

Three counts, each locking for :data:`LOCKED_FOR` once it reaches its limit:

- an account at one address (``pair:``): a guesser locks out only itself, never
  the account's owner signing in from elsewhere;
- an address across accounts (``address:``): password spraying, one password
  tried on many accounts;
- an account from every address (``account:``): the backstop that bounds a
  guesser spread over many addresses. It is higher, since reaching it locks
  the owner out too.

A count starts again at 1 when its last failure is older than the lock period.

Counting and checking are one step: an attempt is counted *before* its password
is looked at, in one transaction whose upserts return the new counts
(PostgreSQL locks each row until the commit; SQLite takes the write lock at
BEGIN), and the password is checked only when every count is within its limit.
Counted and checked separately, 25 parallel guesses had 9 checked against a
limit of 5. An attempt over a limit is rolled back: it counts nowhere, so
knocking on a locked door does not prolong the lock. A success takes its own
attempt back and ends the run of failures of its account at its address.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from sqlalchemy import case, delete, update
from sqlalchemy.orm import Session

from workflow.db import dialect_insert
from workflow.models import LoginFailure

# failures of one account from one address (an IPv6 /64) that lock that pair
ACCOUNT_AT_ADDRESS_LIMIT = 5
# failures from one address (an IPv6 /64), whatever the accounts, that lock the address
ADDRESS_LIMIT = 30
# failures of one account from any addresses that lock the account for everyone: ten times an
# address's share, so that a single address cannot reach it, and a distributed guesser still gets
# no more than this many guesses per lock period
ACCOUNT_LIMIT = 50
LOCKED_FOR = timedelta(minutes=15)

# the widths of the keys' parts: the key column holds 300 characters; 45 is the longest textual
# IPv6 address
_ADDRESS_WIDTH = 45
_EMAIL_WIDTH = 240


class Throttled(Exception):
    """An attempt refused unchecked: a count it would add to is at its limit; ``retry_after`` is
    how long that lock still lasts."""

    # not a frozen dataclass: contextlib sets ``__traceback__`` on an exception leaving a ``with``
    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(f"locked for {retry_after}")
        self.retry_after = retry_after


def keys_for(email: str, address: str | None) -> dict[str, int]:
    """The throttle keys of one sign-in attempt, with the number of failures that locks each."""
    account = email.strip().lower()[:_EMAIL_WIDTH]
    place = _address_key(address)
    return {
        f"pair:{place}|{account}": ACCOUNT_AT_ADDRESS_LIMIT,
        f"address:{place}": ADDRESS_LIMIT,
        f"account:{account}": ACCOUNT_LIMIT,
    }


def count_attempt(session: Session, keys: dict[str, int], now: datetime) -> None:
    """Count one attempt against every key, as a failure until :func:`signed_in` takes it back.

    Raises :class:`Throttled` when a key was already at its limit; the caller's transaction must
    then roll back, so that the refused attempt counts nowhere.
    """
    waits = []
    # one order for every transaction (account, address, pair), so that two attempts sharing keys
    # never wait for each other's row locks in a circle
    for key in sorted(keys):
        limit = keys[key]
        expired = LoginFailure.last_failed_at <= now - LOCKED_FOR
        statement = (
            dialect_insert(session, LoginFailure)
            .values(key=key, failures=1, last_failed_at=now)
            .on_conflict_do_update(
                index_elements=[LoginFailure.key],
                # the right-hand sides read the row as it was: a lock keeps its start, so that the
                # refusal can say how long it still lasts
                set_={
                    "failures": case((expired, 1), else_=LoginFailure.failures + 1),
                    "last_failed_at": case(
                        (expired, now),
                        (LoginFailure.failures >= limit, LoginFailure.last_failed_at),
                        else_=now,
                    ),
                },
            )
            .returning(LoginFailure.failures, LoginFailure.last_failed_at)
        )
        failures, last = session.execute(statement).one()
        if failures > limit:
            waits.append(last + LOCKED_FOR - now)
    if waits:
        raise Throttled(max(max(waits), timedelta(seconds=1)))


def signed_in(session: Session, keys: dict[str, int]) -> None:
    """A successful sign-in: its attempt no longer counts, and the run of failures of its account at
    its address ends.

    The address's and the account's other failures stay: a success of the owner does not give a
    guesser elsewhere a fresh allowance.
    """
    for key in sorted(keys):
        if key.startswith("pair:"):
            session.execute(delete(LoginFailure).where(LoginFailure.key == key))
            continue
        session.execute(
            delete(LoginFailure).where(LoginFailure.key == key, LoginFailure.failures <= 1)
        )
        session.execute(
            update(LoginFailure)
            .where(LoginFailure.key == key, LoginFailure.failures > 1)
            .values(failures=LoginFailure.failures - 1)
        )


def _address_key(address: str | None) -> str:
    """Where an attempt comes from: an IPv4 address, or the /64 network of an IPv6 one (a single
    subscriber commonly holds a whole /64, so counting its addresses one by one would count
    nothing)."""
    if not address:
        return "-"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:_ADDRESS_WIDTH]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)
