"""`pingan demo`: a throw-away SQLite database with a sample town and a campaign under way."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from importlib.resources import files
from pathlib import Path

from sqlalchemy import select

from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns import start_campaign
from workflow.clock import Clock, local_date
from workflow.db import create_db_engine, session_factory, upgrade_schema
from workflow.definitions import load_definition_file
from workflow.directory import import_organisation
from workflow.models import Task, Unit
from workflow.organisation import load_organisation_file
from workflow.tasks import complete_task

SHIPPED = files("workflow.shipped")


@dataclass(frozen=True)
class Demo:
    url: str
    campaign_id: int
    open_task_id: int
    open_task_assignee: str


def build_demo(folder: Path, clock: Clock) -> Demo:
    """Create (or re-create) the demo database in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "demo.sqlite"
    for stale in (path, path.with_name("demo.sqlite-wal"), path.with_name("demo.sqlite-shm")):
        stale.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = create_db_engine(url)
    upgrade_schema(engine)
    sessions = session_factory(engine)
    operator = Actor.operator("demo")
    organisation = load_organisation_file(Path(str(SHIPPED / "org" / "sample-town.yaml")))
    definition = load_definition_file(Path(str(SHIPPED / "standard.yaml")))
    calendar = WorkingCalendar()
    # started three weeks ago: some plans are in, the rest are overdue
    starts_on = local_date(clock.now(), definition.timezone) - timedelta(days=21)
    with sessions.begin() as session:
        import_organisation(session, organisation)
        campaign = start_campaign(session, definition, organisation.units[0].id, starts_on, by=operator,
                                  clock=clock, calendar=calendar)
        done_units = {"dongguan", "xiguan"}
        query = (select(Task).join(Unit, Unit.id == Task.unit_id)
                 .where(Task.campaign_id == campaign.id, Unit.code.in_(done_units), Task.spec_key == "plan"))
        for task in session.scalars(query).all():
            complete_task(session, task.id, by=operator, clock=clock, note="实施方案已制定并上报")
        open_task = session.scalars(select(Task).where(Task.campaign_id == campaign.id, Task.state == "open",
                                                       Task.spec_key == "plan").order_by(Task.id)).first()
        demo = Demo(url, campaign.id, open_task.id, open_task.assignee.email)
    engine.dispose()
    return demo
