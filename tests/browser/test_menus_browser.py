"""The menus by role, the escalation log by name and the campaign's title in English, in a real browser (Debian's
chromium through Playwright) against `pingan serve` over the keeper's town (``tests.support.keeper_town``, issue 15).
One server for the module: the tests only read."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.support.browser import sign_in
from tests.support.keeper_town import (
    KEEPER,
    KEEPER_HAZARD,
    LEADER,
    OFFICE,
    TITLE,
    TITLE_EN,
    build_keeper_town,
)
from tests.support.processes import serving
from workflow.calendar import WorkingCalendar
from workflow.db import create_db_engine, session_factory

NOW = "2026-09-30T09:00"  # the keeper's hazard has reached level 1
PHONE = {"width": 360, "height": 740}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template) -> Iterator[tuple[str, int]]:
    """`pingan serve` over the keeper's town; yields its base URL and the campaign's id."""
    folder = tmp_path_factory.mktemp("menus")
    database = folder / "pingan.sqlite"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    engine = create_db_engine(url)
    town = build_keeper_town(session_factory(engine), WorkingCalendar())
    engine.dispose()
    with serving(url, NOW, folder / "instance") as base_url:
        yield base_url, town.campaign


@pytest.fixture
def phone(browser):
    """A phone-sized page in Chinese."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    yield context.new_page()
    context.close()


def test_the_keeper_s_menu_has_no_leader_view_and_his_campaign_link_works(server, phone):
    base, campaign = server
    sign_in(phone, base, KEEPER)
    menu = phone.locator("nav.main-nav")
    assert "领导视图" not in menu.inner_text()
    assert phone.locator("nav.main-nav a[href='/leader']").count() == 0

    phone.locator("nav.main-nav a[href='/campaigns']").click()
    phone.wait_for_load_state()
    phone.locator(f"a[href='/campaigns/{campaign}']").click()
    phone.wait_for_load_state()
    assert phone.url == f"{base}/campaigns/{campaign}"
    assert phone.locator("h1").inner_text() == TITLE
    assert KEEPER_HAZARD in phone.locator("#own-items").inner_text()
    assert phone.locator("main form").count() == 0, (
        "read-only: no register, no advance, no hand-over"
    )
    # his hazard's own page, one tap away
    phone.locator("#own-items a").first.click()
    phone.wait_for_load_state()
    assert phone.locator("h1").inner_text() == KEEPER_HAZARD
    phone.go_back()
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_escalation_log_shows_names(server, phone):
    base, campaign = server
    sign_in(phone, base, OFFICE)
    phone.goto(f"{base}/campaigns/{campaign}/escalations")
    told = phone.locator("dd.told").first
    assert "陈道口看守" in told.inner_text() and "赵主任" in told.inner_text()
    assert all("@" not in cell for cell in phone.locator("dd.told").all_inner_texts())
    assert told.locator("span[title='keeper@example.org']").inner_text() == "陈道口看守"
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_campaign_title_is_english_in_english(server, phone):
    base, campaign = server
    sign_in(phone, base, LEADER)
    phone.locator("form.language button[value='en']").click()
    phone.wait_for_load_state()
    phone.goto(f"{base}/campaigns")
    assert phone.locator(f"a[href='/campaigns/{campaign}']").inner_text() == TITLE_EN
    assert TITLE not in phone.locator("main").inner_text()
    phone.goto(f"{base}/campaigns/{campaign}")
    assert phone.locator("h1").inner_text() == TITLE_EN
    assert "Implementation" in phone.locator(".machine").inner_text()
