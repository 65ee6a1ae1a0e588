"""``pingan person``: deactivate a person who leaves, reactivate one, give a one-time password.

The operator's tool for people (the organisation file says who exists and
which roles they hold; these commands say who may still sign in).
"""

from __future__ import annotations

import click

from webapp.cli.common import actor, base_url, one_line_errors, wiring


@click.group()
def person() -> None:
    """Deactivate, reactivate, or reset the password of a person."""


@person.command()
@click.argument("email")
@click.option(
    "--hand-over-to",
    "successor",
    metavar="EMAIL",
    default=None,
    help="Move their open work, roles and key sites to this person first.",
)
@one_line_errors
def deactivate(email: str, successor: str | None) -> None:
    """Stop EMAIL signing in: sessions and tokens end now, campaign roles are withdrawn.

    Refused while they hold open work, unless --hand-over-to names who takes it.
    """
    from workflow.people.deactivation import deactivate_person

    env = wiring()
    by = actor(env, None)
    with env.transaction() as session:
        result = deactivate_person(
            session, email, by=by, clock=env.clock, base_url=base_url(), hand_over_to=successor
        )
    click.echo(str(result))


@person.command()
@click.argument("email")
@one_line_errors
def reactivate(email: str) -> None:
    """Let EMAIL sign in again, with the roles the organisation gives them."""
    from workflow.people.deactivation import reactivate_person

    env = wiring()
    by = actor(env, None)
    with env.transaction() as session:
        click.echo(reactivate_person(session, email, by=by, clock=env.clock))


@person.command()
@click.argument("email")
@one_line_errors
def password(email: str) -> None:
    """Print a one-time password for EMAIL, to be changed at their next sign-in.

    Every session and API token of theirs ends now.
    """
    from workflow.people.passwords import set_one_time_password

    env = wiring()
    by = actor(env, None)
    with env.transaction() as session:
        one_time = set_one_time_password(session, email, now=env.clock.now(), by=by)
    click.echo(one_time)
    click.echo(
        f"one-time password of {email.strip().lower()}: they choose their own at the next "
        "sign-in; their sessions and tokens have ended",
        err=True,
    )
