"""``pingan calendar status|import``: where each year's working days come from, and entering a
year's official schedule (the State Council publishes next year's in October–December)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import click

from webapp.cli.common import actor, base_url, one_line_errors, settings, wiring


@click.group()
def calendar() -> None:
    """The official calendar: each year's source, and importing a year's holidays and 调休."""


@calendar.command()
@one_line_errors
def status() -> None:
    """One line per year: package data, entered by an operator, or none (estimated Mon–Fri)."""
    from workflow.calendar import calendar_status

    env = wiring()
    zone = ZoneInfo(settings().timezone)
    today = env.clock.now().astimezone(zone).date()
    with env.transaction(readonly=True) as session:
        years = calendar_status(session, today)
    for year in years:
        click.echo(year.describe(zone))


@calendar.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@one_line_errors
def import_(file: Path) -> None:
    """Enter a year's holidays and adjusted workdays from FILE (holiday-cn JSON, YAML or CSV),
    replacing that year's entered days; open deadlines estimated over it are counted again."""
    from workflow.calendar_files import load_calendar_file
    from workflow.escalation.estimates import enter_year_schedule

    calendar_file = load_calendar_file(file)
    env = wiring()
    by = actor(env, None)
    with env.transaction() as session:
        record, recount = enter_year_schedule(
            session, calendar_file, by=by, now=env.clock.now(), base_url=base_url()
        )
    click.echo(
        f"{record.year}: {record.days_off} holiday day(s) and {record.days_work} adjusted "
        f"workday(s) entered from {record.source_name}"
    )
    if recount.looked_at:  # nothing estimated was open: the one line above says it all
        click.echo(recount.describe())
