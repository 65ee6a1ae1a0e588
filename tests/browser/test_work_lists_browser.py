"""Work lists in a real browser (Debian's chromium through Playwright) against `pingan serve`: the
office director narrows the hazard register with the filter bar, searches a two-character word and
sees it highlighted, saves the filter as a view and shares it; the deputy (of the leading group)
opens the shared view from the navigation on a 360 px phone, which does not scroll sideways.

One server for the module (each start costs seconds); the phone's test follows the desk's.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.support.actions import OPERATOR
from tests.support.browser import sign_in, town_railway_campaign
from tests.support.paths import ROOT
from tests.support.processes import serving
from workflow.calendar import WorkingCalendar
from workflow.clock import FixedClock, parse_instant
from workflow.db import create_db_engine, session_factory
from workflow.hazards.rectifications import HazardReport, register_hazard

ARTIFACTS = ROOT / "test-artifacts"
NOW = "2026-05-12T09:00"
VIEW = "逾期的重大隐患"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template) -> Iterator[str]:
    """`pingan serve` over the railway campaign with five hazards of two grades."""
    folder = tmp_path_factory.mktemp("worklists")
    database = folder / "pingan.sqlite"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    _seed(url)
    with serving(url, NOW, folder / "instance") as base_url:
        yield base_url


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def titles(page) -> list[str]:
    return [title.strip() for title in page.locator("a.item-title").all_inner_texts()]


def test_the_office_director_filters_searches_and_saves_a_shared_view(server, browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, server, "office@example.org")
        page.goto(server + "/campaigns/1/hazards")
        assert len(titles(page)) == 5

        page.locator("details.more-filters > summary").click()
        page.select_option("#f-severity", "major")
        page.select_option("#f-due", "overdue")
        page.click("form.filters button[type=submit]")
        page.wait_for_load_state()
        assert "severity=major" in page.url and "due=overdue" in page.url, "a link to share"
        assert titles(page) == ["道口护栏断裂", "警示标志缺失"]
        assert "共 2 条隐患" in page.locator(".list-count").inner_text()
        shot(page, "worklist-register-filtered")

        page.locator("details.save-view > summary").click()
        page.fill("#view-name", VIEW)
        page.click("details.save-view button[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".flash-success").count() == 1
        assert titles(page) == ["道口护栏断裂", "警示标志缺失"], "the view opens the list"

        page.goto(server + "/views")
        page.click("#view-1 form[action$='/share'] button")
        page.wait_for_load_state()
        assert "已共享给领导小组" in page.locator("#view-1").inner_text()

        page.goto(server + "/campaigns/1/hazards")
        page.fill("#f-q", "护栏")
        page.press("#f-q", "Enter")
        page.wait_for_load_state()
        assert titles(page) == ["道口护栏断裂", "护栏油漆脱落"]
        marks = page.locator("a.item-title mark").all_inner_texts()
        assert marks == ["护栏", "护栏"]
        shot(page, "worklist-register-search")
    finally:
        context.close()


def test_the_deputy_opens_the_shared_view_on_a_phone(server, browser):
    context = browser.new_context(
        viewport={"width": 360, "height": 780},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    phone = context.new_page()
    try:
        sign_in(phone, server, "deputy@example.org")
        phone.locator("details.views-menu > summary").click()
        phone.click(f"details.views-menu a:text('{VIEW}')")
        phone.wait_for_load_state()
        assert titles(phone) == ["道口护栏断裂", "警示标志缺失"]
        filters = phone.locator("details.more-filters")
        assert filters.count() == 1
        scroll, client = phone.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll <= client, (scroll, client)
        shot(phone, "worklist-shared-view-phone-360")

        # the filter bar on the phone: a search, then one more filter from the folded part
        phone.goto(server + "/campaigns/1/hazards")
        phone.fill("#f-q", "护栏")
        phone.press("#f-q", "Enter")
        phone.wait_for_load_state()
        assert titles(phone) == ["道口护栏断裂", "护栏油漆脱落"]
        phone.locator("details.more-filters > summary").click()
        phone.select_option("#f-severity", "minor")
        phone.click("form.filters button[type=submit]")
        phone.wait_for_load_state()
        assert "q=" in phone.url and "severity=minor" in phone.url
        assert titles(phone) == ["护栏油漆脱落"]
        scroll, client = phone.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll <= client, (scroll, client)
        shot(phone, "worklist-search-phone-360")
    finally:
        context.close()


# --- helpers ------------------------------------------------------------------------------------


def _seed(url: str) -> None:
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    started = FixedClock(parse_instant("2026-05-01T09:00"))
    calendar = WorkingCalendar()
    with sessions.begin() as session:
        campaign = town_railway_campaign(session, started, calendar)
        for description, severity, days in (
            ("道口护栏断裂", "major", 3),
            ("警示标志缺失", "major", 4),
            ("护栏油漆脱落", "minor", 3),
            ("线路两侧堆放杂物", "major", 20),
            ("道口照明不足", "minor", 20),
        ):
            register_hazard(
                session,
                campaign.id,
                HazardReport(
                    description=description,
                    severity=severity,
                    site="crossing-3",
                    responsible="east@example.org",
                    deadline_working_days=days,
                ),
                by=OPERATOR,
                clock=started,
                calendar=calendar,
                base_url="http://127.0.0.1",
            )
    engine.dispose()
