"""Stand-ins while away (代理, issue #19 item 4) in a real browser (Debian's chromium through Playwright) against
`pingan serve`: a village head names a colleague for his days away on a 360 px phone, in Chinese; the colleague,
at a desk, sees whom he stands in for and finds the absent head's work in his inbox; the town's administrator names
and ends a stand-in for a person on the administration pages. No page scrolls sideways or shows an English engine
message; screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest

from tests.support.actions import OPERATOR
from tests.support.browser import sign_in, town_railway_campaign
from tests.support.paths import ROOT
from tests.support.processes import serving
from webapp.engine_messages import _templates
from workflow.calendar import WorkingCalendar
from workflow.clock import FixedClock, parse_instant
from workflow.db import create_db_engine, session_factory
from workflow.people.administrators import grant_administrator

ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.slow  # a server of its own: seconds to start


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template) -> Iterator[str]:
    """`pingan serve` over the town's railway campaign on 2026-05-12; 赵主任 administers 铁路镇."""
    folder = tmp_path_factory.mktemp("stand-ins")
    database = folder / "pingan.sqlite"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    engine = create_db_engine(url)
    started = FixedClock(parse_instant("2026-05-01T09:00"))
    with session_factory(engine).begin() as session:
        town_railway_campaign(session, started, WorkingCalendar())
        grant_administrator(session, "office@example.org", "town", by=OPERATOR, now=started.now())
    engine.dispose()
    with serving(url, "2026-05-12T09:00", folder / "instance") as base_url:
        yield base_url


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    yield context.new_page()
    context.close()


@pytest.fixture
def desk(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    yield context.new_page()
    context.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """A screenshot for a person to look at; the page neither scrolls sideways nor shows the engine's
    English."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    body = page.locator("main").inner_text()
    parts = [max(re.split(r"%\(p\d+\)s", t.msgid), key=len).strip() for t in _templates()]
    english = [part for part in parts if len(part) >= 14 and part in body]
    assert english == [], (name, english)
    scroll, client = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= client + 1, (name, scroll, client)


def test_a_head_names_a_stand_in_on_his_phone_who_finds_the_work_at_his_desk(server, phone, desk):
    sign_in(phone, server, "east@example.org")
    phone.goto(f"{server}/account/password")
    phone.click("#stand-ins-link")
    assert "离岗代理" in phone.locator("main h1").inner_text()
    assert "尚未指定代理人" in phone.locator("#named").inner_text()
    # the last day before the first: refused in Chinese, what was entered kept
    phone.select_option("#stand_in", label="周村长 · 西村")
    phone.fill("#starts_on", "2026-05-14")
    phone.fill("#ends_on", "2026-05-12")
    phone.click("#name-stand-in button[type=submit]")
    phone.wait_for_load_state()
    assert "早于开始日期" in phone.locator(".flash-error").inner_text()
    shot(phone, "stand-ins-refused-360")
    phone.fill("#starts_on", "2026-05-12")
    phone.fill("#ends_on", "2026-05-14")
    phone.click("#name-stand-in button[type=submit]")
    phone.wait_for_load_state()
    assert "已指定代理人" in phone.locator(".flash-success").inner_text()
    assert "周村长，2026-05-12 至 2026-05-14" in phone.locator("#named").inner_text()
    shot(phone, "stand-ins-named-360")

    sign_in(desk, server, "west@example.org")
    assert desk.locator("main").inner_text().count("制定创建活动计划") == 2, "his own and east's"
    desk.goto(f"{server}/account/stand-ins")
    assert "李村长，2026-05-12 至 2026-05-14" in desk.locator("#standing-in").inner_text()
    shot(desk, "stand-ins-standing-in-desktop")


def test_the_administrator_names_and_ends_a_stand_in_for_a_person(server, desk, phone):
    sign_in(desk, server, "office@example.org")
    desk.goto(f"{server}/admin/people")
    desk.click("text=周村长")
    desk.click("#stand-ins a")
    assert "周村长的代理人" in desk.locator("main h1").inner_text()
    desk.select_option("#stand_in", label="王副组长 · 铁路镇")
    desk.fill("#starts_on", "2026-05-20")
    desk.fill("#ends_on", "2026-05-22")
    desk.click("#name-stand-in button[type=submit]")
    desk.wait_for_load_state()
    assert "王副组长，2026-05-20 至 2026-05-22" in desk.locator("#named").inner_text()
    shot(desk, "stand-ins-admin-desktop")

    sign_in(phone, server, "office@example.org")
    phone.goto(desk.url)
    shot(phone, "stand-ins-admin-360")
    phone.locator("#named button[type=submit]").click()
    phone.wait_for_load_state()
    assert "代理已结束" in phone.locator(".flash-success").inner_text()
    assert "尚未指定代理人" in phone.locator("#named").inner_text()
    assert phone.url == desk.url, "back on the page it was ended from"
