"""`pingan demo`: a throw-away SQLite database with the seed campaigns under way, as of today.

The seed texts are dated 2006–2012; the demo starts their campaigns a few weeks
back from the clock's today (``PINGAN_NOW`` moves it) and plays what people
would have done since: work checked off, phases advanced, hazards registered,
then one sweep so reminders and escalation levels 1 and 2 have been reached.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select, update

from webapp.cli.common import one_line_errors, settings
from webapp.cli.serve import DEFAULT_THREADS, run_server
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.letters import issue_letter, sign_letter
from workflow.campaigns.lifecycle import advance_campaign, start_campaign
from workflow.campaigns.tasks import complete_task
from workflow.clock import Clock, FixedClock, local_date
from workflow.db import create_db_engine, session_factory, upgrade_schema
from workflow.definitions.reader import load_definition_file
from workflow.escalation.sweep import SweepSummary, run_sweep
from workflow.field.checkins import check_in
from workflow.hazards.rectifications import (
    HazardReport,
    register_hazard,
    submit_rectification,
    verify_rectification,
)
from workflow.mail.outbox import Mailer
from workflow.models import CampaignUnit, Letter, Person, Rectification, Site, Task, Unit
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import load_organisation_file

SHIPPED = files("workflow.shipped")
BEIJING = ZoneInfo("Asia/Shanghai")
OPERATOR = Actor.operator("demo")

# (definition, sample organisation, unit, started this many days ago, phases to advance through)
CAMPAIGNS = [
    ("standard", "sample-town.yaml", "hexi-town", 21, 0),
    ("safe-railway", "railway-town.yaml", "liuhe-town", 40, 1),
    ("safe-family", "women-federation-town.yaml", "xinzhong-women", 20, 0),
    ("safe-unit-lingtai", "lingtai-bureau.yaml", "lingtai-rftv", 70, 1),
    # at three levels: the county's start starts its towns' and their villages' (issue 20)
    ("safe-railway-county", "railway-county.yaml", "pingchuan-county", 25, 0),
]
COORDINATOR, ASSIGNEE, LEADER = (
    "office@hexi.example.org",
    "dongguan@hexi.example.org",
    "leader@hexi.example.org",
)
PASSWORD = "pingan-demo"


@dataclass(frozen=True)
class Demo:
    url: str
    campaign_ids: list[int]
    sweep: SweepSummary


@click.command()
@click.option(
    "--no-serve", is_flag=True, help="Build the demo database and exit (for scripts and tests)."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=5000, show_default=True)
@one_line_errors
def demo(no_serve: bool, host: str, port: int) -> None:
    """Build a demo database (the seed campaigns under way, hazards escalated), then serve the web
    app."""
    from webapp.mail import FileMailer, mailer_for

    configured = settings()
    if not configured.base_url:
        # the demo is the one process that writes its mail and serves its pages: its own address
        # is its PINGAN_BASE_URL, so the links of the mail it writes open its pages
        configured = replace(configured, base_url=f"http://{host}:{port}")
    folder = configured.instance_path
    mailer = (
        mailer_for(configured) if configured.mail_server else FileMailer(folder / "demo-mail.txt")
    )
    built = build_demo(folder, configured.clock(), mailer, base_url=configured.links_base_url)
    click.echo(f"demo database: {built.url}")
    click.echo(
        f"campaigns: {', '.join(str(i) for i in built.campaign_ids)}; first sweep: {built.sweep}"
    )
    click.echo(
        "mail: "
        + (
            f"to {configured.mail_server}"
            if configured.mail_server
            else f"written to {folder / 'demo-mail.txt'} (set MAIL_SERVER to send it)"
        )
    )
    click.echo(f"sign in at http://{host}:{port}/ with password {PASSWORD} as:")
    click.echo(f"  coordinator  {COORDINATOR}")
    click.echo(f"  assignee     {ASSIGNEE}")
    click.echo(f"  leader       {LEADER}")
    if no_serve:
        return
    run_server(replace(configured, database_url_text=built.url), host, port, DEFAULT_THREADS)


def build_demo(folder: Path, clock: Clock, mailer: Mailer | None, base_url: str) -> Demo:
    """Create (or re-create) the demo database in ``folder``: organisations, campaigns, work,
    hazards, one sweep."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "demo.sqlite"
    for stale in (path, path.with_name("demo.sqlite-wal"), path.with_name("demo.sqlite-shm")):
        stale.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = create_db_engine(url)
    upgrade_schema(engine)
    sessions = session_factory(engine)
    calendar = WorkingCalendar()
    today = local_date(clock.now(), "Asia/Shanghai")

    campaign_ids = []
    with sessions.begin() as session:
        for org_file in sorted({org for _, org, _, _, _ in CAMPAIGNS}):
            import_organisation(
                session, load_organisation_file(Path(str(SHIPPED / "org" / org_file)))
            )
        # a demo is signed into by whoever tries it, with the one password the README gives: no
        # forced change (an organisation file's passwords are initial ones everywhere else)
        session.execute(update(Person).values(must_change_password=False))
    for slug, _org, unit, days_ago, advances in CAMPAIGNS:
        campaign_ids.append(
            _play_campaign(
                sessions,
                calendar,
                slug,
                unit,
                today - timedelta(days=days_ago),
                advances,
                today,
                base_url,
            )
        )
    _register_hazards(sessions, calendar, campaign_ids[0], today, base_url)
    _register_hazards(sessions, calendar, campaign_ids[1], today, base_url)
    summary = run_sweep(sessions, clock=clock, mailer=mailer, base_url=base_url)
    engine.dispose()
    return Demo(url, campaign_ids, summary)


def _play_campaign(
    sessions,
    calendar: WorkingCalendar,
    slug: str,
    unit: str,
    starts: date,  # noqa: ANN001
    advances: int,
    today: date,
    base_url: str,
) -> int:
    definition = load_definition_file(Path(str(SHIPPED / f"{slug}.yaml")))
    with sessions.begin() as session:
        campaign_id = start_campaign(
            session, definition, unit, starts, by=OPERATOR, clock=_at(starts), calendar=calendar
        ).id
    phase_start = starts
    for phase in definition.phases[:advances]:
        # the phase's work was done, and the coordinator advanced the campaign a little early
        length = (
            (phase.duration.after(phase_start, calendar) - phase_start).days
            if phase.duration
            else 14
        )
        moved_on = min(phase_start + timedelta(days=max(length - 2, 1)), today - timedelta(days=7))
        run_sweep(sessions, clock=_at(moved_on), mailer=None, base_url=base_url)
        _check_off(sessions, campaign_id, phase.id, _at(moved_on), share=1.0, base_url=base_url)
        with sessions.begin() as session:
            advance_campaign(
                session, campaign_id, by=OPERATOR, clock=_at(moved_on), calendar=calendar
            )
        phase_start = moved_on
    # about half of the current phase's work is in; the rest is open, some of it overdue
    run_sweep(sessions, clock=_at(today - timedelta(days=3)), mailer=None, base_url=base_url)
    with sessions() as session:
        state = session.scalar(
            select(Task.phase_key).where(Task.campaign_id == campaign_id).order_by(Task.id.desc())
        )
    _check_off(
        sessions, campaign_id, state, _at(today - timedelta(days=2)), share=0.5, base_url=base_url
    )
    return campaign_id


def _check_off(
    sessions, campaign_id: int, phase_key: str | None, clock: Clock, share: float, base_url: str
) -> None:  # noqa: ANN001
    with sessions.begin() as session:
        open_tasks = session.scalars(
            select(Task)
            .where(
                Task.campaign_id == campaign_id, Task.phase_key == phase_key, Task.state == "open"
            )
            .order_by(Task.id)
        ).all()
        for index, task in enumerate(open_tasks):
            if task.state != "open":
                continue  # a check-in at its site checked it off with another
            if share >= 1.0 or (index % 2 == 1 and task.assignee.email != ASSIGNEE):
                if task.site_id is not None and task.period is not None:
                    # a patrol of a key site is done where it happens: a check-in there (巡查打卡)
                    check_in(
                        session,
                        task.site_id,
                        by=Actor.person(task.assignee),
                        clock=clock,
                        note="巡查正常",
                    )
                    continue
                complete_task(
                    session,
                    task.id,
                    by=Actor.person(task.assignee),
                    clock=clock,
                    note="已按要求完成",
                    no_problems=True,  # an inspection among them found nothing
                )
        # the head issues the phase's letters and each signer signs (all of them in a phase done;
        # in the current one, half are issued and half of those signed: both inboxes show some)
        letters = session.scalars(
            select(Letter)
            .where(Letter.campaign_id == campaign_id, Letter.phase_key == phase_key)
            .order_by(Letter.id)
        ).all()
        for index, letter in enumerate(letters):
            if share >= 1.0 or index % 2 == 1:
                if letter.state == "drafted":
                    issue_letter(
                        session,
                        letter.id,
                        by=Actor.person(letter.issuer),
                        clock=clock,
                        base_url=base_url,
                    )
                if letter.state == "issued" and (share >= 1.0 or index % 4 == 1):
                    sign_letter(session, letter.id, by=Actor.person(letter.signer), clock=clock)


def _register_hazards(
    sessions,
    calendar: WorkingCalendar,
    campaign_id: int,
    today: date,  # noqa: ANN001
    base_url: str,
) -> None:
    """Four hazards: one overdue long enough for level 2, one just overdue, one due soon, one
    closed."""
    places = _places(sessions, campaign_id)
    # level 1 the day after, level 2 after 3 working days
    two_levels = calendar.add_working_days(today, -4)
    plans = [
        ("道口护栏损坏，行人可随意穿越", "major", two_levels, "设置临时警示牌，安排专人看守"),
        ("消防器材过期未更换", "minor", calendar.add_working_days(today, -1), "临时调配灭火器两具"),
        ("宣传标语破损脱落", "minor", calendar.add_working_days(today, 2), None),
        ("值班室门锁损坏", "minor", calendar.add_working_days(today, 5), None),
    ]
    registered = []
    for index, (text, severity, deadline, measures) in enumerate(plans):
        site, unit = places[index % len(places)]
        report = HazardReport(
            description=text,
            severity=severity,
            deadline=deadline,
            temporary_measures=measures,
            site=site,
            unit=None if site else unit,
        )
        with sessions.begin() as session:
            registered.append(
                register_hazard(
                    session,
                    campaign_id,
                    report,
                    by=OPERATOR,
                    clock=_at(deadline - timedelta(days=7)),
                    calendar=calendar,
                    base_url=base_url,
                ).id
            )
    with sessions.begin() as session:
        closed = session.get(Rectification, registered[-1])
        submit_rectification(
            session,
            closed.id,
            by=Actor.person(closed.responsible),
            clock=_at(today - timedelta(days=2)),
            note="已更换新锁",
        )
        verify_rectification(session, closed.id, by=OPERATOR, clock=_at(today - timedelta(days=1)))


def _places(sessions, campaign_id: int) -> list[tuple[str | None, str]]:  # noqa: ANN001
    """(key site, unit) codes where the campaign's hazards are found: its key sites, else its
    sub-units."""
    with sessions() as session:
        units = dict(
            session.execute(
                select(Unit.id, Unit.code)
                .join(CampaignUnit, CampaignUnit.unit_id == Unit.id)
                .where(CampaignUnit.campaign_id == campaign_id)
                .order_by(Unit.id)
            ).all()
        )
        sites = session.execute(
            select(Site.code, Site.unit_id)
            .where(Site.unit_id.in_(units), Site.responsible_id.is_not(None))
            .order_by(Site.id)
        ).all()
    return [(code, units[unit_id]) for code, unit_id in sites] or [
        (None, code) for code in units.values()
    ]


def _at(day: date) -> FixedClock:
    return FixedClock(datetime.combine(day, time(9, 30), tzinfo=BEIJING))
