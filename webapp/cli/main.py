"""The ``pingan`` command: the group, the contract's commands, and the sub-command modules added to
it.

Every command exits non-zero with a one-line reason on bad input, never a
traceback, and runs its change in one transaction, so a refused command
leaves the database as it was. The group reads the settings (webapp/config.py)
once, before any command runs; what commands share lives in ``common``, which
the sub-command modules import instead of this module.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from webapp.cli.admin import admin
from webapp.cli.backup import backup, restore
from webapp.cli.calendar import calendar
from webapp.cli.common import (
    ESTIMATE,
    actor,
    as_option,
    base_url,
    digest_settings,
    fail,
    one_line_errors,
    parse_date,
    settings,
    wiring,
)
from webapp.cli.decisions import decide
from webapp.cli.demo import demo
from webapp.cli.hazards import hazard, rectification
from webapp.cli.letters import letter
from webapp.cli.people import person
from webapp.cli.reports import incident, report
from webapp.cli.scheduler import scheduler
from webapp.cli.serve import serve
from webapp.config import Settings

if TYPE_CHECKING:  # the commands import the engine's views when they run
    from workflow.views.progress import BlockingItem, DueItem, OverdueItem


def main() -> None:
    """Entry point of the console script."""
    cli(prog_name="pingan")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(context: click.Context) -> None:
    """pingan: phased public-safety campaigns (平安创建活动) — tasks, deadlines, escalation."""
    from webapp.logs import configure_logging

    # read once, before any subcommand runs; the scheduler and the sweep then log as the web app
    # does
    context.obj = Settings.from_env()
    configure_logging(context.obj)


for command in (
    admin,
    backup,
    decide,
    restore,
    calendar,
    demo,
    hazard,
    rectification,
    incident,
    letter,
    person,
    report,
    scheduler,
    serve,
):
    cli.add_command(command)


@cli.command()
@one_line_errors
def init() -> None:
    """Create or upgrade the database schema."""
    env = wiring(require_schema=False)
    revision = env.upgrade()
    click.echo(f"database {env.safe_url} is at schema revision {revision}")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Also print the next three times each cron duty fires, in the definition's time zone.",
)
@click.option(
    "--proposals",
    is_flag=True,
    help="Also list what each definition proposes where its text does not say (建议值): "
    "FILE:LINE: KEY (ID): NOTE.",
)
@one_line_errors
def validate(files: tuple[Path, ...], verbose: bool, proposals: bool) -> None:
    """Check definition files; print every problem as FILE:LINE: KEY: MESSAGE."""
    from workflow.definitions.checks import EVERY_KEYWORDS
    from workflow.definitions.cron import WEEKDAY_NAMES, next_fire_times
    from workflow.definitions.proposals import proposals_of
    from workflow.definitions.reader import DefinitionError, load_definition_file

    now = settings().clock().now() if verbose else None
    failed = False
    for path in files:
        try:
            definition = load_definition_file(path)
        except DefinitionError as error:
            failed = True
            for problem in error.problems:
                click.echo(str(problem), err=True)
        else:
            click.echo(
                f"{path}: ok ({definition.id} v{definition.version}, {len(definition.phases)} "
                "phases)"
            )
            if proposals:
                marked = proposals_of(definition)
                for proposal in marked:
                    click.echo(
                        f"{path}:{proposal.line}: {proposal.path} ({proposal.name}): "
                        f"建议值 proposal — {proposal.note}"
                    )
                click.echo(f"{path}: {len(marked)} proposal(s)")
            cron_duties = [
                (phase.id, duty)
                for phase in definition.phases
                for duty in phase.recurring
                if now is not None and duty.every not in EVERY_KEYWORDS
            ] + [  # the campaign-wide duties, under the name of the whole campaign
                ("campaign", duty)
                for duty in definition.recurring
                if now is not None and duty.every not in EVERY_KEYWORDS
            ]
            for phase_id, duty in cron_duties:
                fires = next_fire_times(duty.every, ZoneInfo(definition.timezone), now)
                shown = ", ".join(
                    f"{WEEKDAY_NAMES[fire.weekday()]} {fire:%Y-%m-%d %H:%M}" for fire in fires
                )
                click.echo(
                    f"  {phase_id}.{duty.id} every '{duty.every}' ({definition.timezone}): "
                    f"next {shown}"
                )
    if failed:
        sys.exit(1)


@cli.command("import-org")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@one_line_errors
def import_org(file: Path) -> None:
    """Create or update units, key sites and people from an organisation file (idempotent).

    Roles given up or taken up reach every running campaign at once.
    """
    from workflow.organisation.org_file import load_organisation_file
    from workflow.people.rebinding import import_and_rebind

    organisation = load_organisation_file(file)
    env = wiring()
    by = actor(env, None)
    with env.transaction() as session:
        summary, rebinding = import_and_rebind(session, organisation, now=env.clock.now(), by=by)
    click.echo(str(summary))
    if rebinding.granted or rebinding.withdrawn or rebinding.vacant:
        click.echo(str(rebinding))


@cli.command()
@click.argument("definition_ref", metavar="DEF")
@click.option(
    "--org", "unit_code", required=True, metavar="UNIT", help="The unit the campaign is for."
)
@click.option(
    "--starts",
    "starts",
    required=True,
    metavar="DATE",
    help="First day of the first phase (YYYY-MM-DD).",
)
@click.option(
    "--version", "version", type=int, default=None, help="Definition version (default: the newest)."
)
@click.option(
    "--title", default=None, help="A title for this campaign (default: the definition's)."
)
@as_option
@one_line_errors
def start(
    definition_ref: str,
    unit_code: str,
    starts: str,
    version: int | None,
    title: str | None,
    as_email: str | None,
) -> None:
    """Start a campaign of DEF (a file, or a definition id) for a unit; print its id."""
    from workflow.calendar import first_estimated_planned_day
    from workflow.campaigns.lifecycle import start_campaign
    from workflow.definitions.plan import plan_notice
    from workflow.definitions.reader import (
        definition_folders,
        find_definition,
        load_definition_file,
    )

    starts_on = parse_date(starts)
    folders = definition_folders(settings().definitions_path)
    definition = load_definition_file(find_definition(definition_ref, version, folders))
    if version is not None and definition.version != version:
        fail(f"{definition_ref} is version {definition.version}, not {version}")
    env = wiring()
    by = actor(env, as_email)
    with env.transaction() as session:
        working_calendar = env.calendar(session)
        campaign = start_campaign(
            session,
            definition,
            unit_code,
            starts_on,
            by=by,
            clock=env.clock,
            calendar=working_calendar,
            title=title,
            folders=folders,
        )
        estimated = first_estimated_planned_day(session, campaign.id, working_calendar)
    notice = plan_notice(definition, starts_on)
    if notice is not None:
        click.echo(f"warning: {definition.id}: {notice.describe()}", err=True)
    if estimated is not None:
        click.echo(
            f"warning: the planned phases run into {estimated.year}, which has no official "
            f"calendar (from {estimated}): working days there are estimated Monday–Friday; enter "
            "the State Council's schedule with `pingan calendar import FILE`",
            err=True,
        )
    click.echo(campaign.id)


@cli.command()
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@one_line_errors
def status(campaign_id: int, as_json: bool) -> None:
    """Phase, progress, the items that block the phase, overdue items and rectifications, and what
    falls due next. --json lists every blocking item."""
    from workflow.views.progress import campaign_outlook

    env = wiring()
    with env.transaction(readonly=True) as session:
        outlook = campaign_outlook(session, campaign_id, clock=env.clock, by=actor(env, None))
    if as_json:
        click.echo(json.dumps(outlook.to_dict(), ensure_ascii=False, indent=2))
        return
    report = outlook.status
    click.echo(
        f"campaign {report.id}: {report.title} ({report.definition} v{report.version}) — "
        f"{report.unit}"
    )
    click.echo(f"phase: {report.state} ({report.state_title})")
    moves = ", ".join(report.allowed_moves) or "none"
    click.echo(
        f"moves: {moves}" + (f" — blocked by {report.blocking} item(s)" if report.blocking else "")
    )
    for blocker in outlook.blockers[:BLOCKERS_PRINTED]:
        click.echo(f"  {_due_line(blocker, blocker.assignee)} ({blocker.state})")
    if len(outlook.blockers) > BLOCKERS_PRINTED:
        click.echo(
            f"  … and {len(outlook.blockers) - BLOCKERS_PRINTED} more "
            f"(`pingan status {report.id} --json` lists them all)"
        )
    for phase in report.phases:
        mark = {"done": "✓", "current": "▶", "pending": " "}[phase.status]
        window = f"{phase.planned_start or '?'} → {phase.planned_last_day or '?'}"
        total = sum(phase.tasks.values())
        settled = sum(n for s, n in phase.tasks.items() if s in ("done", "verified", "cancelled"))
        late = "  LATE" if phase.late else ""
        click.echo(f"  {mark} {phase.id:<16} {window}  tasks {settled}/{total}{late}")
    click.echo(f"overdue: {report.overdue_count}")
    for item in report.overdue:
        click.echo(f"  {_due_line(item, item.assignee)}, {item.days_overdue} day(s) overdue")
    click.echo(
        f"rectifications: {outlook.open_rectifications} open, "
        f"{outlook.overdue_rectification_count} overdue"
    )
    for overdue in outlook.overdue_rectifications:
        click.echo(f"  {_due_line(overdue, overdue.responsible)}")
    click.echo("next due:" + ("" if outlook.next_due else " nothing open"))
    for coming in outlook.next_due:
        click.echo(f"  {_due_line(coming, coming.responsible)}")


@cli.command()
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
@as_option
@one_line_errors
def advance(campaign_id: int, as_email: str | None) -> None:
    """Move a campaign to its next phase; exit 1 listing the blocking items when its work is not
    done."""
    from workflow.campaigns.lifecycle import advance_campaign

    env = wiring()
    by = actor(env, as_email)
    with env.transaction() as session:
        move = advance_campaign(
            session, campaign_id, by=by, clock=env.clock, calendar=env.calendar(session)
        )
    created = f", {move.tasks_created} task(s) created" if move.tasks_created else ""
    click.echo(f"campaign {move.campaign_id}: {move.from_state} → {move.to_state}{created}")


@cli.command()
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
@click.argument("unit_code", metavar="UNIT")
@as_option
@one_line_errors
def join(campaign_id: int, unit_code: str, as_email: str | None) -> None:
    """Start the campaign of UNIT, a sub-unit that joined after CAMPAIGN's cascade (a town added
    since); print its id. Audited as a late start."""
    from workflow.campaigns.lifecycle import start_late_child

    env = wiring()
    by = actor(env, as_email)
    with env.transaction() as session:
        child = start_late_child(
            session, campaign_id, unit_code, by=by, clock=env.clock, calendar=env.calendar(session)
        )
        child_id = child.id
    click.echo(child_id)


@cli.command()
@click.option(
    "--now",
    "now_text",
    default=None,
    metavar="ISO-DATETIME",
    help="Run as of this time (default: the clock).",
)
@one_line_errors
def sweep(now_text: str | None) -> None:
    """One pass of the clock: reminders, escalations, mail delivery. Running it twice changes
    nothing more."""
    from webapp.mail import mailer_for
    from workflow.clock import FixedClock, parse_instant
    from workflow.escalation.sweep import run_sweep

    env = wiring()
    clock = FixedClock(parse_instant(now_text, settings().timezone)) if now_text else env.clock
    summary = run_sweep(
        env.sessions,
        clock=clock,
        mailer=mailer_for(settings()),
        base_url=base_url(),
        **digest_settings(),
    )
    click.echo(str(summary))


@cli.command()
@click.argument("email")
@click.option("--revoke", is_flag=True, help="Revoke every token of this person instead.")
@one_line_errors
def token(email: str, revoke: bool) -> None:
    """Print a new API token for a person (stored only hashed), or revoke their tokens."""
    from workflow.organisation.tokens import issue_token, revoke_tokens

    env = wiring()
    by = actor(env, None)
    with env.transaction() as session:
        if revoke:
            click.echo(
                f"revoked {revoke_tokens(session, email, env.clock.now(), by=by)} token(s) of "
                f"{email}"
            )
            return
        click.echo(issue_token(session, email, env.clock.now(), by=by))


@cli.group()
def task() -> None:
    """Move a task: complete, reject, verify, cancel."""


def _task_command(name: str, doc: str) -> None:
    @task.command(name=name, help=doc)
    @click.argument("task_id", metavar="TASK", type=int)
    @click.option("--note", default=None, help="A note (required to reject).")
    @click.option(
        "--no-problems",
        "no_problems",
        is_flag=True,
        hidden=name != "complete",
        help="An inspection's findings when it found nothing (an inspection is checked off "
        "only with its findings: this, or the hazards registered from it with "
        "`hazard register --task`).",
    )
    @as_option
    @one_line_errors
    def command(task_id: int, note: str | None, no_problems: bool, as_email: str | None) -> None:
        from workflow.campaigns import tasks

        env = wiring()
        by = actor(env, as_email)
        move = getattr(tasks, f"{name}_task")
        findings = {"no_problems": no_problems} if name == "complete" else {}
        with env.transaction() as session:
            moved = move(session, task_id, by=by, clock=env.clock, note=note, **findings)
        click.echo(f"task {moved.id}: {moved.state}")


_task_command("complete", "Check a task off (open → done).")
_task_command("reject", "Send a done task back (done → open); --note gives the reason.")
_task_command("verify", "Confirm a done task (done → verified).")
_task_command("cancel", "Withdraw an open task (open → cancelled).")


# a terminal's screen of blocking items; --json lists them all
BLOCKERS_PRINTED = 20


def _due_line(item: BlockingItem | OverdueItem | DueItem, who: str) -> str:
    """``task #3 制定创建活动计划 [东村] → 李村长, due 2026-05-08``: as `advance` names a
    blocker."""
    where = f" [{item.unit}]" if item.unit else ""
    estimate = ESTIMATE if item.due_estimated else ""
    due = f", due {item.due_on}{estimate}" if item.due_on else ""
    return f"{item.kind} #{item.id} {item.title}{where} → {who}{due}"
