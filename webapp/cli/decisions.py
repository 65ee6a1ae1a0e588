"""`pingan decide verify|reject|reassign ITEM...`: many tasks and rectifications decided at once.

Each ITEM is ``KIND:ID:STATE`` (``task:12:done``, ``rectification:3:submitted``): the state it was
seen in, as on the page (``/decisions``). Each item is decided on its own and printed with its
outcome; a batch that cannot be read (no items, too many, no reason for a rejection) is one line
on stderr and exit 1, and changes nothing. The acting person is ``--as EMAIL``, as for ``task
complete``.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from webapp.cli.common import actor, as_option, base_url, fail, one_line_errors, wiring


@click.command("decide")
@click.argument("decision", type=click.Choice(["verify", "reject", "reassign"]))
@click.argument("items", metavar="KIND:ID:STATE...", nargs=-1, required=True)
@click.option("--note", help="The note; a rejection's one reason for every item.")
@click.option("--to", "to_email", help="reassign: the e-mail of the person taking them over.")
@click.option("--working-days", type=int, help="reject: each rectification's new deadline.")
@click.option("--json", "as_json", is_flag=True, help="Print each item's outcome as JSON.")
@as_option
@one_line_errors
def decide(
    decision: str,
    items: tuple[str, ...],
    note: str | None,
    to_email: str | None,
    working_days: int | None,
    as_json: bool,
    as_email: str | None,
) -> None:
    """Verify, send back or reassign many items at once, each on its own: decided, moved meanwhile
    (left unchanged) or refused, one line each."""
    from workflow.calendar import load_calendar
    from workflow.campaigns.bulk import Selected, decide_many

    selected = []
    for item in items:
        kind, _sep, rest = item.partition(":")
        number, _sep, state = rest.partition(":")
        if not (number.isascii() and number.isdigit() and state):
            fail(f"{item}: write each item as KIND:ID:STATE (task:12:done)")
        selected.append(Selected(kind, int(number), state))
    env = wiring()
    by = actor(env, as_email)
    with env.transaction() as session:
        outcomes = decide_many(
            session,
            selected,
            decision,
            by=by,
            clock=env.clock,
            calendar=load_calendar(session),
            base_url=base_url(),
            note=note,
            to_email=to_email,
            deadline_working_days=working_days,
        )
    if as_json:
        click.echo(json.dumps([asdict(o) for o in outcomes], ensure_ascii=False, indent=2))
        return
    for o in outcomes:
        if o.result == "decided":
            click.echo(f"{o.kind} {o.id}: {decision} done, now {o.state}")
        elif o.result == "moved":
            click.echo(f"{o.kind} {o.id}: moved meanwhile ({o.seen} → {o.state}), left unchanged")
        else:
            click.echo(f"{o.kind} {o.id}: refused: {o.reason}")
