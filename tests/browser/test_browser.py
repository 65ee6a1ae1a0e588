"""A real browser (Debian's chromium through Playwright) against `pingan serve` on 127.0.0.1.

Each test starts the real server (waitress) on a free port over a fresh SQLite
database with the campaign clock pinned (PINGAN_NOW), stops it at the end, and
saves screenshots under test-artifacts/ for a person to look at.
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
from workflow.escalation.sweep import run_sweep
from workflow.hazards.rectifications import HazardReport, register_hazard

ARTIFACTS = ROOT / "test-artifacts"
NOW = "2026-05-18T09:00"  # east's plan (due 5-15) is overdue; the campaign is in its mobilization phase

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path, sqlite_template) -> Iterator[str]:
    """`pingan serve` on a free port over a database with the railway campaign; yields its base URL."""
    database = tmp_path / "pingan.sqlite"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    _seed(url)
    with serving(url, NOW, tmp_path / "instance") as base_url:
        yield base_url


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    yield context.new_page()
    context.close()


def shot(page, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def test_an_assignee_checks_off_an_overdue_task_and_it_leaves_the_inbox(server, page):
    sign_in(page, server, "east@example.org")

    overdue = page.locator("#overdue")
    assert overdue.locator("h2").inner_text().startswith("已逾期")
    plan = overdue.locator("li.item", has_text="制定创建活动计划")
    assert plan.count() == 1
    assert "逾期 3 天" in plan.inner_text()
    shot(page, "inbox-assignee-before")

    plan.locator("summary", has_text="办结").click()
    plan.locator("textarea[name=note]").fill("实施计划已制定并报镇综治办")
    shot(page, "inbox-assignee-checking-off", full_page=False)
    plan.locator("button[type=submit]", has_text="办结").click()
    page.wait_for_load_state()

    assert "已办结：制定创建活动计划" in page.locator(".flash-success").inner_text()
    assert page.locator("li.item", has_text="制定创建活动计划").count() == 0
    shot(page, "inbox-assignee-after")
    page.click("nav >> text=已办结")
    assert "实施计划已制定并报镇综治办" in page.locator("main").inner_text()


def test_a_coordinator_sees_what_blocks_the_phase_does_it_then_confirms_the_advance(server, page):
    sign_in(page, server, "office@example.org")
    page.click("nav >> text=创建活动")
    page.click("a.item-title", timeout=5000)

    # before any click: the blocking items, and no advance to be refused
    assert "本阶段还有 3 项必办事项未完成。" in page.locator("#blockers").inner_text()
    blockers = page.locator("ul.blockers a")
    assert blockers.count() == 3
    assert page.locator("button:has-text('进入下一阶段')").count() == 0
    shot(page, "campaign-blockers")

    links = [blockers.nth(i).get_attribute("href") for i in range(blockers.count())]
    for link in links:
        page.goto(server + link)
        page.fill("#note", "办公室代为确认完成")
        page.click("button:has-text('办结')")
        page.wait_for_load_state()
        assert "已办结" in page.locator(".flash-success").inner_text()

    page.click("a:has-text('平安铁路创建活动')")
    page.click("button:has-text('进入下一阶段')")
    page.wait_for_load_state()
    assert page.locator("#leaving dd").inner_text() == "宣传发动阶段"
    assert page.locator("#entering dd").inner_text() == "全面实施阶段"
    shot(page, "campaign-advance-confirmation")
    page.click("#confirm-advance")
    page.wait_for_load_state()
    assert "已进入下一阶段" in page.locator(".flash-success").inner_text()
    current = page.locator("li.node.current")
    assert "全面实施阶段" in current.inner_text() and "当前阶段" in current.inner_text()
    shot(page, "campaign-advanced")


def test_the_language_switch_shows_english(server, page):
    sign_in(page, server, "east@example.org")
    assert page.locator("h1").inner_text() == "我的待办"
    page.click("form.language button:has-text('English')")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "My inbox"
    assert "Overdue" in page.locator("#overdue h2").inner_text()
    assert "15 May 2026" in page.locator("#overdue").inner_text()
    shot(page, "inbox-english")


def test_the_inbox_fits_a_phone_without_horizontal_scrolling(server, browser):
    def phone_as(email):
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
        )
        phone = context.new_page()
        sign_in(phone, server, email)
        return context, phone

    def widths(phone):
        return phone.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )

    context, phone = phone_as("east@example.org")
    try:
        phone.locator("#overdue summary").first.click()  # an open check-off form must fit too
        scroll, client = widths(phone)
        assert scroll <= client == 390, (scroll, client)
        shot(phone, "inbox-phone-390")
        for path in ("/done", "/campaigns", "/leader", "/account/password"):
            phone.goto(server + path)
            assert widths(phone)[0] <= widths(phone)[1], path
    finally:
        context.close()

    context, phone = phone_as("office@example.org")
    try:
        for path in (
            "/",
            "/campaigns/1",
            "/campaigns/1/hazards",
            "/leader",
            "/campaigns/1/escalations",
            "/rectifications/1",
        ):
            phone.goto(server + path)
            scroll, client = widths(phone)
            assert scroll <= client, (path, scroll, client)
            shot(phone, "phone-390-office" + path.replace("/", "-").rstrip("-"))
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
        register_hazard(
            session,
            campaign.id,
            HazardReport(
                description="道口护栏损坏，需更换",
                site="crossing-3",
                deadline_working_days=3,
                temporary_measures="设置警示牌",
            ),
            by=OPERATOR,
            clock=started,
            calendar=calendar,
            base_url="http://127.0.0.1",
        )
    # the clock's passes so far: the hazard (due 5-08) and the meeting (due 5-08) reached levels 1 and 2
    for day in ("2026-05-09T09:00", "2026-05-14T09:00"):
        run_sweep(
            sessions, clock=FixedClock(parse_instant(day)), mailer=None, base_url="http://127.0.0.1"
        )
    engine.dispose()
