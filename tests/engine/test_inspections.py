"""Inspections that find hazards (issue 17, item 3): an inspection is checked off only with its
findings, "no problems" or the hazards registered from it, which link back to it; its assignee
registers them without being a coordinator."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.actions import BASE_URL, actor, start
from tests.support.databases import row_counts
from tests.support.texts import INSPECTING, TOWN_WITH_CROSSING
from workflow.campaigns.inspections import inspections_done
from workflow.campaigns.tasks import complete_task, reject_task
from workflow.definitions.reader import parse_definition
from workflow.errors import Forbidden, InvalidInput
from workflow.hazards.rectifications import HazardReport, register_hazard
from workflow.models import Rectification, Site, Task
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation


@pytest.fixture
def inspection(sessions, clock, calendar):
    """The campaign and its one inspection: 3号道口's, assigned to 李村长 (east)."""
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_CROSSING, "org.yaml"))
    campaign = start(sessions, parse_definition(INSPECTING, "def.yaml"), clock, calendar)
    with sessions() as session:
        task = session.scalar(select(Task).where(Task.spec_key == "site-check"))
        return campaign, task.id


def check_off(sessions, clock, task_id, who="east@example.org", **findings):
    who_acts = actor(sessions, who)
    with sessions.begin() as session:
        return complete_task(session, task_id, by=who_acts, clock=clock, **findings).findings


def found(sessions, clock, calendar, campaign, task_id, who="east@example.org", **fields):
    who_acts = actor(sessions, who)
    with sessions.begin() as session:
        return register_hazard(
            session,
            campaign,
            HazardReport(
                description=fields.pop("description", "道口护栏损坏"), task_id=task_id, **fields
            ),
            by=who_acts,
            clock=clock,
            calendar=calendar,
            base_url=BASE_URL,
        ).id


def test_an_inspection_is_not_checked_off_until_its_findings_are_recorded(
    sessions, clock, inspection
):
    _, task_id = inspection
    before = row_counts(sessions)
    with pytest.raises(InvalidInput, match="is an inspection: record what it found"):
        check_off(sessions, clock, task_id)
    assert row_counts(sessions) == before
    assert check_off(sessions, clock, task_id, no_problems=True) == "none"


def test_the_inspector_registers_what_the_inspection_found_and_it_links_back(
    sessions, clock, calendar, inspection
):
    campaign, task_id = inspection
    first = found(sessions, clock, calendar, campaign, task_id, temporary_measures="设置警示标志")
    second = found(
        sessions, clock, calendar, campaign, task_id, description="信号灯不亮", severity="major"
    )
    with sessions() as session:
        hazards = session.scalars(select(Rectification).order_by(Rectification.id)).all()
        crossing = session.scalar(select(Site).where(Site.code == "crossing-3"))
        assert [h.id for h in hazards] == [first, second]
        assert {(h.task_id, h.site_id) for h in hazards} == {(task_id, crossing.id)}, (
            "found where the inspection looked, and linked to it"
        )
        assert hazards[0].temporary_measures == "设置警示标志"
    assert check_off(sessions, clock, task_id) == "hazards", "its hazards are its findings"
    with sessions() as session:
        done = inspections_done(session, campaign)
    assert [(i.task_id, i.findings, i.hazards) for i in done] == [(task_id, "hazards", 2)]


def test_only_its_own_inspector_or_a_coordinator_registers_from_an_inspection(
    sessions, clock, calendar, inspection
):
    campaign, task_id = inspection
    before = row_counts(sessions)
    with pytest.raises(Forbidden, match="only a coordinator of this campaign may register"):
        found(sessions, clock, calendar, campaign, task_id, who="west@example.org")
    assert row_counts(sessions) == before
    found(sessions, clock, calendar, campaign, task_id, who="office@example.org")  # a coordinator
    check_off(sessions, clock, task_id)
    with pytest.raises(Forbidden):  # done: the inspector registers no more from it
        found(sessions, clock, calendar, campaign, task_id)


def test_an_inspection_sent_back_records_its_findings_again(sessions, clock, inspection):
    campaign, task_id = inspection
    check_off(sessions, clock, task_id, no_problems=True)
    office = actor(sessions, "office@example.org")
    with sessions.begin() as session:
        reject_task(session, task_id, by=office, clock=clock, note="没查仔细")
    with pytest.raises(InvalidInput):
        check_off(sessions, clock, task_id)
    assert check_off(sessions, clock, task_id, no_problems=True) == "none"
    with sessions() as session:
        done = inspections_done(session, campaign)
    assert [(i.findings, i.hazards) for i in done] == [("none", 0)]


def test_a_task_that_is_no_inspection_is_checked_off_as_before(sessions, clock, inspection):
    with sessions() as session:
        plan = session.scalar(select(Task.id).where(Task.spec_key == "plan"))
    assert check_off(sessions, clock, plan, who="office@example.org") is None
