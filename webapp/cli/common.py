"""What every `pingan` sub-command shares: the settings, the wiring, one-line errors, the actor,
dates.

The sub-command modules import this module only, never ``main`` (which imports
them to add their commands to the group): no import circle.
"""

from __future__ import annotations

import functools
import getpass
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, NoReturn, TypeVar

import click
from sqlalchemy import exc as sa_exc

from webapp.config import Settings
from webapp.wiring import Wiring, wiring_for
from workflow.audit import Actor
from workflow.clock import ClockError
from workflow.errors import InvalidInput, PingAnError, TransitionRefused
from workflow.sourcefile import SourceError

F = TypeVar("F", bound=Callable[..., Any])

BLOCKERS_SHOWN = 20
# after a date counted over a year without the official calendar (README, "Estimates")
ESTIMATE = " (estimate: that year's official calendar is not entered; counted Monday–Friday)"

as_option = click.option(
    "--as", "as_email", metavar="EMAIL", help="Act as this person (default: operator)."
)


def settings() -> Settings:
    """The settings the `pingan` group read when the command started (read now for a command run on
    its own)."""
    context = click.get_current_context(silent=True)
    found = context.find_object(Settings) if context is not None else None
    return found if found is not None else Settings.from_env()


def wiring(require_schema: bool = True) -> Wiring:
    """The database, sessions and clock of this command; one line when the database has no
    schema."""
    return wiring_for(settings(), require_schema=require_schema)


def base_url() -> str:
    """Where the links in mails point: ``PINGAN_BASE_URL``, else the one default of every process
    (``Settings.links_base_url``)."""
    return settings().links_base_url


def digest_settings() -> dict[str, Any]:
    """The daily digest's hour (``PINGAN_DIGEST_HOUR``, default 8; ``off`` disables it) and time
    zone."""
    configured = settings()
    return {"digest_hour": configured.digest_hour, "timezone": configured.timezone}


def one_line_errors(command: F) -> F:
    """Turn the errors a user can cause into one line on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TransitionRefused as refused:
            lines = [b.describe() for b in refused.blockers[:BLOCKERS_SHOWN]]
            if len(refused.blockers) > BLOCKERS_SHOWN:
                lines.append(
                    f"… and {len(refused.blockers) - BLOCKERS_SHOWN} more (pingan status --json "
                    "lists them)"
                )
            fail(refused.message, lines)
        except (PingAnError, ClockError) as error:
            fail(str(error))
        except SourceError as error:
            fail(
                str(error.problems[0]) if error.problems else str(error),
                [str(p) for p in error.problems[1:]],
            )
        except sa_exc.OperationalError as error:
            fail(f"database error: {_first_line(error.orig or error)}")
        except sa_exc.DBAPIError as error:
            fail(f"database refused the change: {_first_line(error.orig or error)}")

    return wrapper  # type: ignore[return-value]


def fail(message: str, details: list[str] | None = None) -> NoReturn:
    """``error: message`` (and indented details) on stderr, exit status 1."""
    click.echo(f"error: {message}", err=True)
    for line in details or []:
        click.echo(f"  {line}", err=True)
    sys.exit(1)


def actor(env: Wiring, email: str | None) -> Actor:
    """Who the command acts as: the person ``--as`` names, else the operator at this terminal."""
    if not email:
        return Actor.operator(f"cli:{getpass.getuser()}")
    from workflow.organisation.directory import person_by_email

    with env.transaction() as session:
        return Actor.person(person_by_email(session, email))


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"not a date: {value!r} (write YYYY-MM-DD)") from None


def parse_time(value: str) -> datetime:
    """A time as typed: '2026-06-04 10:30' or ISO; without a zone it is the campaign's clock."""
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"not a time: {value!r} (write YYYY-MM-DD HH:MM, e.g. 2026-06-04 10:30)"
        ) from None


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
