"""`pingan hazard …` and `pingan rectification …`: the register and its moves, for operators."""

from __future__ import annotations

from datetime import date

import click

from webapp.cli.common import (
    ESTIMATE,
    actor,
    as_option,
    base_url,
    one_line_errors,
    parse_date,
    wiring,
)


@click.group()
def hazard() -> None:
    """Register hazards found in inspections."""


@hazard.command("register")
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
@click.option("--description", required=True, help="What is wrong.")
@click.option(
    "--severity", type=click.Choice(["minor", "major"]), default="minor", show_default=True
)
@click.option("--site", default=None, help="Key site id (its responsible person is the default).")
@click.option("--unit", default=None, help="Sub-unit id (its responsible person is the default).")
@click.option("--location", default=None, help="Where exactly, in words.")
@click.option(
    "--responsible",
    default=None,
    metavar="EMAIL",
    help="Responsible person (overrides the default).",
)
@click.option("--deadline", default=None, metavar="DATE", help="Rectify by this date (YYYY-MM-DD).")
@click.option(
    "--working-days", "working_days", type=int, default=None, help="Rectify within N working days."
)
@click.option("--measures", default=None, help="Temporary measures in place.")
@click.option(
    "--task",
    "task_id",
    type=int,
    default=None,
    metavar="TASK",
    help="The inspection (task) that found it: the hazard links back to it, and is found where "
    "it looked; its assignee may register it.",
)
@as_option
@one_line_errors
def register(
    campaign_id: int,
    description: str,
    severity: str,
    site: str | None,
    unit: str | None,
    location: str | None,
    responsible: str | None,
    deadline: str | None,
    working_days: int | None,
    measures: str | None,
    task_id: int | None,
    as_email: str | None,
) -> None:
    """Register a hazard; print its rectification id and deadline."""
    from workflow.hazards.rectifications import HazardReport, register_hazard

    report = HazardReport(
        description=description,
        severity=severity,
        site=site,
        unit=unit,
        location=location,
        responsible=responsible,
        deadline=parse_date(deadline) if deadline else None,
        deadline_working_days=working_days,
        temporary_measures=measures,
        task_id=task_id,
    )
    env = wiring()
    by = actor(env, as_email)
    with env.transaction() as session:
        rectification = register_hazard(
            session,
            campaign_id,
            report,
            by=by,
            clock=env.clock,
            calendar=env.calendar(session),
            base_url=base_url(),
        )
    click.echo(
        f"rectification {rectification.id}: open, deadline {rectification.deadline.isoformat()}"
        f"{ESTIMATE if rectification.deadline_estimated else ''}"
    )


@click.group()
def rectification() -> None:
    """Move a rectification: submit, verify, reject, reopen, extend."""


@rectification.command("submit")
@click.argument("rectification_id", metavar="ID", type=int)
@click.option("--note", required=True, help="What was done.")
@as_option
@one_line_errors
def submit(rectification_id: int, note: str, as_email: str | None) -> None:
    """The responsible person reports it fixed."""
    from workflow.hazards.rectifications import submit_rectification

    _move(
        lambda session, env, by: submit_rectification(
            session, rectification_id, by=by, clock=env.clock, note=note
        ),
        as_email,
    )


@rectification.command("verify")
@click.argument("rectification_id", metavar="ID", type=int)
@click.option("--note", default=None)
@as_option
@one_line_errors
def verify(rectification_id: int, note: str | None, as_email: str | None) -> None:
    """A coordinator verifies and closes it (销号)."""
    from workflow.hazards.rectifications import verify_rectification

    _move(
        lambda session, env, by: verify_rectification(
            session, rectification_id, by=by, clock=env.clock, note=note
        ),
        as_email,
    )


def _back_to_open(name: str, doc: str) -> None:
    @rectification.command(name, help=doc)
    @click.argument("rectification_id", metavar="ID", type=int)
    @click.option("--reason", required=True)
    @click.option("--deadline", default=None, metavar="DATE")
    @click.option("--working-days", "working_days", type=int, default=None)
    @as_option
    @one_line_errors
    def command(
        rectification_id: int,
        reason: str,
        deadline: str | None,
        working_days: int | None,
        as_email: str | None,
    ) -> None:
        from workflow.hazards import rectifications as hazards

        move = getattr(hazards, f"{name}_rectification")
        new_deadline: date | None = parse_date(deadline) if deadline else None
        _move(
            lambda session, env, by: move(
                session,
                rectification_id,
                by=by,
                clock=env.clock,
                calendar=env.calendar(session),
                reason=reason,
                deadline=new_deadline,
                deadline_working_days=working_days,
            ),
            as_email,
        )


_back_to_open(
    "reject", "Not fixed: back to the responsible person with a reason and a new deadline."
)
_back_to_open(
    "reopen", "Look-back (回头看): reopen a closed rectification with a reason and a new deadline."
)


def _move(action, as_email: str | None) -> None:  # type: ignore[no-untyped-def]
    env = wiring()
    by = actor(env, as_email)
    with env.transaction() as session:
        moved = action(session, env, by)
    click.echo(
        f"rectification {moved.id}: {moved.state}, deadline {moved.deadline.isoformat()}"
        f"{ESTIMATE if moved.deadline_estimated else ''}"
    )


__all__ = ["hazard", "rectification"]
