"""`pingan incident record|reported …` and `pingan report …`: the incident log, its reports to
outside bodies and the campaign report, for operators."""

from __future__ import annotations

import json
from pathlib import Path

import click

from webapp.cli.common import (
    actor,
    as_option,
    base_url,
    one_line_errors,
    parse_date,
    parse_time,
    wiring,
)


@click.group()
def incident() -> None:
    """Record incidents that targets, vetoes and criticism count."""


@incident.command("record")
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
@click.option("--kind", required=True, help="An incident kind id of the campaign's definition.")
@click.option("--unit", required=True, help="The unit id it is recorded against.")
@click.option(
    "--date", "occurred", required=True, metavar="DATE", help="The day it happened (YYYY-MM-DD)."
)
@click.option("--description", required=True, help="What happened.")
@click.option("--site", default=None, help="The key site's id, if it happened at one.")
@as_option
@one_line_errors
def record(
    campaign_id: int,
    kind: str,
    unit: str,
    occurred: str,
    description: str,
    site: str | None,
    as_email: str | None,
) -> None:
    """Record an incident; the kind's notify roles are mailed at once (through the outbox)."""
    from workflow.assessment.incidents import IncidentReport, record_incident

    env = wiring()
    by = actor(env, as_email)
    report = IncidentReport(
        kind=kind, unit=unit, occurred_on=parse_date(occurred), description=description, site=site
    )
    with env.transaction() as session:
        recorded = record_incident(
            session, campaign_id, report, by=by, clock=env.clock, base_url=base_url()
        )
    click.echo(
        f"incident {recorded.id}: {recorded.kind} in {unit} on {recorded.occurred_on.isoformat()}"
    )


@incident.command("reported")
@click.argument("incident_id", metavar="INCIDENT", type=int)
@click.option(
    "--to", "body", required=True, help="The outside body, as the kind's report_to names it."
)
@click.option(
    "--at",
    "reported_at",
    metavar="TIME",
    help="When it was reported, e.g. '2026-06-04 10:30' (the campaign's clock); default: now.",
)
@click.option("--note", help="How and to whom (e.g. 电话报柳河站值班室).")
@as_option
@one_line_errors
def reported(
    incident_id: int, body: str, reported_at: str | None, note: str | None, as_email: str | None
) -> None:
    """Record that an incident was reported to an outside body (铁路部门, 公安机关 …)."""
    from workflow.assessment.outside_reports import record_outside_report

    env = wiring()
    by = actor(env, as_email)
    with env.transaction() as session:
        report = record_outside_report(
            session,
            incident_id,
            body,
            reported_at=parse_time(reported_at) if reported_at else None,
            note=note,
            by=by,
            clock=env.clock,
        )
        click.echo(
            f"incident {incident_id}: reported to {report.body} at "
            f"{report.reported_at:%Y-%m-%d %H:%M} (the campaign's clock)"
        )


@click.command()
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["json", "csv", "xlsx"]),
    default="json",
    show_default=True,
)
@click.option(
    "--table",
    default="units",
    show_default=True,
    help="With --format csv: which table; with --format xlsx, results: the results as the "
    "higher-level assessment takes them (else the whole workbook).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (default: standard output; xlsx needs a file).",
)
@as_option
@one_line_errors
def report(
    campaign_id: int, file_format: str, table: str, output: Path | None, as_email: str | None
) -> None:
    """The campaign's report: timeline, completion, hazard ledger, rates, escalations, targets,
    assessment."""
    from workflow.errors import InvalidInput
    from workflow.views.report import build_report
    from workflow.views.report_files import report_csv, report_xlsx
    from workflow.views.results_file import results_xlsx

    if file_format == "xlsx" and output is None:
        raise InvalidInput("--format xlsx needs --output FILE")
    env = wiring()
    by = actor(env, as_email)
    with env.transaction(readonly=True) as session:
        built = build_report(
            session,
            campaign_id,
            by=by,
            clock=env.clock,
            with_ledger=table == "ledger" or (file_format != "csv" and table != "results"),
        )
    if file_format == "json":
        content = json.dumps(built.to_dict(), ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    elif file_format == "csv":
        content = report_csv(built, table)
    elif table == "results":
        content = results_xlsx(built)
    else:
        content = report_xlsx(built)
    if output is None:
        click.echo(content, nl=False)  # bytes go to the binary stream as they are
    else:
        output.write_bytes(content)
        click.echo(f"report of campaign {campaign_id} written to {output} ({len(content)} bytes)")


__all__ = ["incident", "report"]
