"""``pingan admin grant|revoke EMAIL --unit CODE``: who administers a unit and everything under it.

An administrator of a top unit also keeps the official calendar, on the page ``/admin/calendar``.
"""

from __future__ import annotations

import click

from webapp.cli.common import actor, one_line_errors, wiring


@click.group()
def admin() -> None:
    """Grant or revoke the administration of a unit (and every unit under it)."""


@admin.command()
@click.argument("email")
@click.option("--unit", "unit_code", required=True, metavar="CODE", help="The unit's id.")
@one_line_errors
def grant(email: str, unit_code: str) -> None:
    """Make EMAIL an administrator of the unit CODE; granting twice changes nothing."""
    from workflow.people.administrators import grant_administrator

    env = wiring()
    by = actor(env, None)
    with env.transaction() as session:
        change = grant_administrator(session, email, unit_code, by=by, now=env.clock.now())
    click.echo(str(change))


@admin.command()
@click.argument("email")
@click.option("--unit", "unit_code", required=True, metavar="CODE", help="The unit's id.")
@one_line_errors
def revoke(email: str, unit_code: str) -> None:
    """End EMAIL's administration of the unit CODE."""
    from workflow.people.administrators import revoke_administrator

    env = wiring()
    by = actor(env, None)
    with env.transaction() as session:
        change = revoke_administrator(session, email, unit_code, by=by, now=env.clock.now())
    click.echo(str(change))
