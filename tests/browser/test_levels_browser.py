"""Campaigns at every level in a real browser (issue 20): the county office drills from its
campaign page to a town, to a village, to the item that keeps the village, the town and the
county in their phase; at desktop and at phone width."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.browser import sign_in
from tests.support.levels import COUNTY_ORG, start_county, write_level_definitions
from tests.support.processes import serving
from tests.support.web import give_everyone_a_password
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.tasks import complete_task
from workflow.clock import FixedClock, parse_instant
from workflow.db import create_db_engine, session_factory
from workflow.models import Campaign, Person, Task, Unit
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation

NOW = "2026-05-18T09:00"
CLOCK = FixedClock(parse_instant(NOW))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def database(tmp_path_factory, sqlite_template) -> Path:
    """The county's campaign cascaded to its towns and villages; every task of the mobilization
    done but 东二村's plan."""
    folder = tmp_path_factory.mktemp("levels")
    path = folder / "pingan.sqlite"
    shutil.copy(sqlite_template, path)
    engine = create_db_engine(f"sqlite:///{path}")
    sessions = session_factory(engine)
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(COUNTY_ORG, "org.yaml"))
        give_everyone_a_password(session)
    calendar = WorkingCalendar()
    with sessions.begin() as session:
        start_county(session, CLOCK, calendar, write_level_definitions(folder / "definitions"))
    with sessions.begin() as session:
        open_tasks = session.execute(
            select(Task.id, Task.assignee_id, Unit.code)
            .join(Campaign, Campaign.id == Task.campaign_id)
            .join(Unit, Unit.id == Campaign.unit_id)
        ).all()
    for task_id, assignee_id, unit_code in open_tasks:
        if unit_code == "e2":
            continue
        with sessions.begin() as session:
            by = Actor.person(session.get(Person, assignee_id))
            complete_task(session, task_id, by=by, clock=CLOCK)
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def server(database) -> Iterator[str]:
    with serving(f"sqlite:///{database}", NOW, database.parent / "instance") as base_url:
        yield base_url


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1200, "height": 900}, {"width": 360, "height": 780}],
    ids=["desk", "phone"],
)
def test_the_county_office_drills_down_to_the_village_item_that_blocks_it(
    browser, server, viewport
):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    try:
        page = context.new_page()
        sign_in(page, server, "county-office@example.org")
        page.goto(f"{server}/campaigns/1")
        # the towns rolled up, each with its villages summed in
        table = page.locator("#sub-campaigns")
        assert "下级创建活动" in table.locator("h2").inner_text()
        east = table.locator("tbody tr", has_text="东风镇")
        assert "含下级 2 个" in east.inner_text()
        assert east.locator("td").nth(1).inner_text() == "1"  # open in its phase
        # the total: the towns and villages, one plan each, all done but 东二村's
        assert "4 / 5\t80%" in page.locator("#sub-campaigns .sub-campaigns-total").inner_text()
        # the phase's blockers name the town, and the advance is not offered
        blocked = page.locator("#blocked-below li")
        assert blocked.count() == 1 and blocked.inner_text() == "东风镇：1 项未完成"
        assert page.locator("form[action$='/advance']").count() == 0

        blocked.locator("a").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "东风镇平安铁路创建活动"
        assert page.locator("#parent-campaign").inner_text() == "平安铁路创建活动"
        village = page.locator("#blocked-below li")
        assert village.inner_text() == "东二村：1 项未完成"

        village.locator("a").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "东二村平安铁路创建活动"
        item = page.locator("#blockers ul.blockers li[data-kind=task] a")
        assert item.inner_text() == "制定实施方案"
        item.click()
        page.wait_for_load_state()
        assert "制定实施方案" in page.locator("h1").inner_text()
        assert "东二村治保主任" in page.locator("main").inner_text()
        # nothing runs off a phone's screen on the way
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"]
    finally:
        context.close()
