"""`pingan letter list|issue|sign`: responsibility letters (责任书) from the command line.

The acting person is ``--as EMAIL`` (without it, the operator at this
terminal, who may do anything a coordinator may), as for ``task complete``;
each move is one transaction, so a refused one changes nothing.
"""

from __future__ import annotations

import json

import click

from webapp.cli.common import actor, as_option, base_url, one_line_errors, wiring


@click.group()
def letter() -> None:
    """Responsibility letters (责任书): list a campaign's, issue, sign."""


@letter.command("list")
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the letters as JSON.")
@as_option
@one_line_errors
def list_letters(campaign_id: int, as_json: bool, as_email: str | None) -> None:
    """The campaign's letters: id, state, place, issuer → signer, due (the leading group's are all
    of them; anyone else's, their own)."""
    from workflow.views.letters import campaign_letters

    env = wiring()
    by = actor(env, as_email)
    with env.transaction(readonly=True) as session:
        letters = campaign_letters(session, campaign_id, by=by)
    if as_json:
        click.echo(json.dumps([row.to_dict() for row in letters], ensure_ascii=False, indent=2))
        return
    for row in letters:
        place = " · ".join(filter(None, (row.unit, row.site))) or "—"
        due = f" due {row.due_on.isoformat()}" if row.due_on else ""
        click.echo(
            f"letter {row.id}: {row.state:<7} {row.title} [{place}] "
            f"{row.issuer} → {row.signer}{due}"
        )


@letter.command("issue")
@click.argument("letter_id", metavar="LETTER", type=int)
@as_option
@one_line_errors
def issue(letter_id: int, as_email: str | None) -> None:
    """Issue a drafted letter (甲方); its signer is mailed through the outbox."""
    from workflow.campaigns.letters import issue_letter

    env = wiring()
    by = actor(env, as_email)
    with env.transaction() as session:
        moved = issue_letter(session, letter_id, by=by, clock=env.clock, base_url=base_url())
        signer = moved.signer.email
    click.echo(f"letter {moved.id}: {moved.state} (to be signed by {signer})")


@letter.command("sign")
@click.argument("letter_id", metavar="LETTER", type=int)
@as_option
@one_line_errors
def sign(letter_id: int, as_email: str | None) -> None:
    """Sign an issued letter (乙方): its signer only."""
    from workflow.campaigns.letters import sign_letter

    env = wiring()
    by = actor(env, as_email)
    with env.transaction() as session:
        moved = sign_letter(session, letter_id, by=by, clock=env.clock)
    click.echo(f"letter {moved.id}: {moved.state}")


__all__ = ["letter"]
