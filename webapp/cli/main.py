"""The ``pingan`` command: wires the engine, the database, the clock (and later web and mail) together.

Every command exits non-zero with a one-line reason on bad input, never a
traceback, and runs its change in one transaction, so a refused command
leaves the database as it was.
"""
from __future__ import annotations

import functools
import getpass
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from sqlalchemy import exc as sa_exc

from webapp.wiring import Wiring, wiring
from workflow.audit import Actor
from workflow.clock import ClockError
from workflow.errors import InvalidInput, PingAnError, TransitionRefused
from workflow.sourcefile import SourceError

F = TypeVar("F", bound=Callable[..., Any])

BLOCKERS_SHOWN = 20


def main() -> None:
    """Entry point of the console script."""
    cli(prog_name="pingan")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """pingan: phased public-safety campaigns (平安创建活动) — tasks, deadlines, escalation."""
    from webapp.logs import configure_logging

    configure_logging()  # before any subcommand runs: the scheduler and the sweep log as the web app does


def one_line_errors(command: F) -> F:
    """Turn the errors a user can cause into one line on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TransitionRefused as refused:
            lines = [b.describe() for b in refused.blockers[:BLOCKERS_SHOWN]]
            if len(refused.blockers) > BLOCKERS_SHOWN:
                lines.append(f"… and {len(refused.blockers) - BLOCKERS_SHOWN} more (pingan status --json lists them)")
            _fail(refused.message, lines)
        except (PingAnError, ClockError) as error:
            _fail(str(error))
        except SourceError as error:
            _fail(str(error.problems[0]) if error.problems else str(error),
                  [str(p) for p in error.problems[1:]])
        except sa_exc.OperationalError as error:
            _fail(f"database error: {_first_line(error.orig or error)}")
        except sa_exc.DBAPIError as error:
            _fail(f"database refused the change: {_first_line(error.orig or error)}")

    return wrapper  # type: ignore[return-value]


def _fail(message: str, details: list[str] | None = None) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    for line in details or []:
        click.echo(f"  {line}", err=True)
    sys.exit(1)


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _actor(env: Wiring, email: str | None) -> Actor:
    if not email:
        return Actor.operator(f"cli:{getpass.getuser()}")
    from workflow.organisation.directory import person_by_email

    with env.transaction() as session:
        return Actor.person(person_by_email(session, email))


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"not a date: {value!r} (write YYYY-MM-DD)") from None


as_option = click.option("--as", "as_email", metavar="EMAIL", help="Act as this person (default: operator).")


@cli.command()
@one_line_errors
def init() -> None:
    """Create or upgrade the database schema."""
    env = wiring(require_schema=False)
    revision = env.upgrade()
    click.echo(f"database {env.safe_url} is at schema revision {revision}")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check definition files; print every problem as FILE:LINE: KEY: MESSAGE."""
    from workflow.definitions.reader import DefinitionError, load_definition_file

    failed = False
    for path in files:
        try:
            definition = load_definition_file(path)
        except DefinitionError as error:
            failed = True
            for problem in error.problems:
                click.echo(str(problem), err=True)
        else:
            click.echo(f"{path}: ok ({definition.id} v{definition.version}, {len(definition.phases)} phases)")
    if failed:
        sys.exit(1)


@cli.command("import-org")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@one_line_errors
def import_org(file: Path) -> None:
    """Create or update units, key sites and people from an organisation file (idempotent)."""
    from workflow.organisation.directory import import_organisation
    from workflow.organisation.org_file import load_organisation_file

    organisation = load_organisation_file(file)
    env = wiring()
    with env.transaction() as session:
        summary = import_organisation(session, organisation)
    click.echo(str(summary))


@cli.command()
@click.argument("definition_ref", metavar="DEF")
@click.option("--org", "unit_code", required=True, metavar="UNIT", help="The unit the campaign is for.")
@click.option("--starts", "starts", required=True, metavar="DATE", help="First day of the first phase (YYYY-MM-DD).")
@click.option("--version", "version", type=int, default=None, help="Definition version (default: the newest).")
@click.option("--title", default=None, help="A title for this campaign (default: the definition's).")
@as_option
@one_line_errors
def start(definition_ref: str, unit_code: str, starts: str, version: int | None, title: str | None,
          as_email: str | None) -> None:
    """Start a campaign of DEF (a file, or a definition id) for a unit; print its id."""
    from workflow.campaigns.lifecycle import start_campaign
    from workflow.definitions.reader import find_definition, load_definition_file

    starts_on = _date(starts)
    definition = load_definition_file(find_definition(definition_ref, version))
    if version is not None and definition.version != version:
        _fail(f"{definition_ref} is version {definition.version}, not {version}")
    env = wiring()
    by = _actor(env, as_email)
    with env.transaction() as session:
        campaign = start_campaign(session, definition, unit_code, starts_on, by=by, clock=env.clock,
                                  calendar=env.calendar(session), title=title)
    click.echo(campaign.id)


@cli.command()
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@one_line_errors
def status(campaign_id: int, as_json: bool) -> None:
    """Phase, progress, blocking and overdue items of a campaign."""
    from workflow.views.progress import campaign_status

    env = wiring()
    with env.transaction(readonly=True) as session:
        report = campaign_status(session, campaign_id, clock=env.clock)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"campaign {report.id}: {report.title} ({report.definition} v{report.version}) — {report.unit}")
    click.echo(f"phase: {report.state} ({report.state_title})")
    moves = ", ".join(report.allowed_moves) or "none"
    click.echo(f"moves: {moves}" + (f" — blocked by {report.blocking} item(s)" if report.blocking else ""))
    for phase in report.phases:
        mark = {"done": "✓", "current": "▶", "pending": " "}[phase.status]
        window = f"{phase.planned_start or '?'} → {phase.planned_end or '?'}"
        total = sum(phase.tasks.values())
        settled = sum(n for s, n in phase.tasks.items() if s in ("done", "verified", "cancelled"))
        late = "  LATE" if phase.late else ""
        click.echo(f"  {mark} {phase.id:<16} {window}  tasks {settled}/{total}{late}")
    click.echo(f"overdue: {report.overdue_count}")
    for item in report.overdue:
        unit = f" [{item.unit}]" if item.unit else ""
        click.echo(f"  {item.kind} #{item.id} {item.title}{unit} → {item.assignee}, due {item.due_on}, "
                   f"{item.days_overdue} day(s) overdue")


@cli.command()
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
@as_option
@one_line_errors
def advance(campaign_id: int, as_email: str | None) -> None:
    """Move a campaign to its next phase; exit 1 listing the blocking items when its work is not done."""
    from workflow.campaigns.lifecycle import advance_campaign

    env = wiring()
    by = _actor(env, as_email)
    with env.transaction() as session:
        move = advance_campaign(session, campaign_id, by=by, clock=env.clock, calendar=env.calendar(session))
    created = f", {move.tasks_created} task(s) created" if move.tasks_created else ""
    click.echo(f"campaign {move.campaign_id}: {move.from_state} → {move.to_state}{created}")


@cli.command()
@click.option("--now", "now_text", default=None, metavar="ISO-DATETIME", help="Run as of this time (default: the clock).")
@one_line_errors
def sweep(now_text: str | None) -> None:
    """One pass of the clock: reminders, escalations, mail delivery. Running it twice changes nothing more."""
    import os

    from webapp.mail import mailer_from_env
    from workflow.clock import FixedClock, parse_instant
    from workflow.escalation.sweep import run_sweep

    env = wiring()
    clock = FixedClock(parse_instant(now_text)) if now_text else env.clock
    summary = run_sweep(env.sessions, clock=clock, mailer=mailer_from_env(dict(os.environ)),
                        base_url=base_url_from_env(), **digest_settings_from_env())
    click.echo(str(summary))


@cli.command()
@click.argument("email")
@click.option("--revoke", is_flag=True, help="Revoke every token of this person instead.")
@one_line_errors
def token(email: str, revoke: bool) -> None:
    """Print a new API token for a person (stored only hashed), or revoke their tokens."""
    from workflow.organisation.tokens import issue_token, revoke_tokens

    env = wiring()
    by = _actor(env, None)
    with env.transaction() as session:
        if revoke:
            click.echo(f"revoked {revoke_tokens(session, email, env.clock.now(), by=by)} token(s) of {email}")
            return
        click.echo(issue_token(session, email, env.clock.now(), by=by))


def base_url_from_env() -> str:
    import os

    return os.environ.get("PINGAN_BASE_URL", "").strip() or "http://127.0.0.1:5000"


def digest_settings_from_env() -> dict[str, Any]:
    """The daily digest's hour (``PINGAN_DIGEST_HOUR``, default 8; ``off`` disables it) and time zone."""
    import os

    from workflow.clock import DEFAULT_TIMEZONE

    hour_text = os.environ.get("PINGAN_DIGEST_HOUR", "8").strip().lower()
    if hour_text in ("off", "none", ""):
        hour = None
    elif hour_text.isdigit() and 0 <= int(hour_text) <= 23:
        hour = int(hour_text)
    else:
        raise InvalidInput(f"PINGAN_DIGEST_HOUR must be an hour 0-23 or 'off'; got {hour_text!r}")
    return {"digest_hour": hour, "timezone": os.environ.get("PINGAN_TIMEZONE", "").strip() or DEFAULT_TIMEZONE}


@cli.group()
def task() -> None:
    """Move a task: complete, reject, verify, cancel."""


def _task_command(name: str, doc: str) -> None:
    @task.command(name=name, help=doc)
    @click.argument("task_id", metavar="TASK", type=int)
    @click.option("--note", default=None, help="A note (required to reject).")
    @as_option
    @one_line_errors
    def command(task_id: int, note: str | None, as_email: str | None) -> None:
        from workflow.campaigns import tasks

        env = wiring()
        by = _actor(env, as_email)
        move = getattr(tasks, f"{name}_task")
        with env.transaction() as session:
            moved = move(session, task_id, by=by, clock=env.clock, note=note)
        click.echo(f"task {moved.id}: {moved.state}")


_task_command("complete", "Check a task off (open → done).")
_task_command("reject", "Send a done task back (done → open); --note gives the reason.")
_task_command("verify", "Confirm a done task (done → verified).")
_task_command("cancel", "Withdraw an open task (open → cancelled).")


@cli.command()
@click.option("--no-serve", is_flag=True, help="Build the demo database and exit (for scripts and tests).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=5000, show_default=True)
@one_line_errors
def demo(no_serve: bool, host: str, port: int) -> None:
    """Build a demo database (the seed campaigns under way, hazards escalated), then serve the web app."""
    import os

    from webapp.cli.demo import ASSIGNEE, COORDINATOR, LEADER, PASSWORD, build_demo
    from webapp.mail import FileMailer, mailer_from_env
    from workflow.clock import clock_from_env
    from workflow.db import instance_path

    folder = instance_path()
    mailer = mailer_from_env(dict(os.environ)) if os.environ.get("MAIL_SERVER") else FileMailer(folder / "demo-mail.txt")
    built = build_demo(folder, clock_from_env(), mailer, base_url=f"http://{host}:{port}")
    os.environ["PINGAN_DATABASE_URL"] = built.url
    click.echo(f"demo database: {built.url}")
    click.echo(f"campaigns: {', '.join(str(i) for i in built.campaign_ids)}; first sweep: {built.sweep}")
    click.echo("mail: " + (f"to {os.environ['MAIL_SERVER']}" if os.environ.get("MAIL_SERVER")
                           else f"written to {folder / 'demo-mail.txt'} (set MAIL_SERVER to send it)"))
    click.echo(f"sign in at http://{host}:{port}/ with password {PASSWORD} as:")
    click.echo(f"  coordinator  {COORDINATOR}")
    click.echo(f"  assignee     {ASSIGNEE}")
    click.echo(f"  leader       {LEADER}")
    if no_serve:
        return
    from webapp.cli.serve import serve

    serve.callback(host, port, 8)  # type: ignore[misc]


# the hazard register's commands live in their own module; importing it registers them on `cli`
from webapp.cli import backup, hazards, reports, scheduler, serve  # noqa: E402,F401
