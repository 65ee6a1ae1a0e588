"""A roster (花名册) in a real browser (Debian's chromium through Playwright) against `pingan serve`: the town's
administrator uploads a workbook with one bad row and sees that row and column, nothing written; then a good one is
previewed and applied, and the person added exists. Screenshots of the pages at desktop width and at 390 px go to
``/tmp/shots-roster`` (issue #18: looked at)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.actions import OPERATOR
from tests.support.browser import sign_in, town_railway_campaign
from tests.support.databases import every_row
from tests.support.processes import serving
from tests.support.rosters import xlsx
from workflow.calendar import WorkingCalendar
from workflow.clock import FixedClock, parse_instant
from workflow.db import create_db_engine, session_factory
from workflow.models import Person
from workflow.people.administrators import grant_administrator

NOW = "2026-05-12T09:00"
ADMIN = "office@example.org"
SHOTS = Path("/tmp/shots-roster")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
NARROW = {"width": 360, "height": 740}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

BAD = xlsx(
    ("李村长", "村支书", "东村", 13900139000, "east@example.org", "village_head"),
    ("陈道口看守", "", "东村", "", "keeper@example.org", ""),
    ("孙新人", "", "东村", "1380013800", "sun@example.org", "member"),
)
GOOD = xlsx(
    ("李村长", "村支书", "东村", 13900139000, "east@example.org", "village_head"),
    ("陈道口看守", "", "东村", "", "keeper@example.org", ""),
    ("孙新人", "", "东村", 13800138000.0, "sun@example.org", "member"),
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template) -> Iterator[tuple[str, str]]:
    """`pingan serve` over the town's railway campaign, 赵主任 administering 铁路镇; yields the base URL and the
    database's URL."""
    folder = tmp_path_factory.mktemp("roster")
    database = folder / "pingan.sqlite"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    engine = create_db_engine(url)
    started = FixedClock(parse_instant("2026-05-01T09:00"))
    with session_factory(engine).begin() as session:
        town_railway_campaign(session, started, WorkingCalendar())
        grant_administrator(session, ADMIN, "town", by=OPERATOR, now=started.now())
    engine.dispose()
    with serving(url, NOW, folder / "instance") as base_url:
        yield base_url, url


def test_a_bad_row_is_shown_then_a_good_roster_is_previewed_and_applied(server, browser):
    base, url = server
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, base, ADMIN)
        page.goto(f"{base}/admin")
        page.locator("#link-roster").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "花名册"
        _shots(page, "1-roster")

        before = every_row(sessions)
        _upload(page, BAD)
        problems = page.locator("#roster-problems").inner_text()
        assert "第 4 行 手机 列（D）" in problems, problems
        assert "不是手机号码" in problems
        assert page.locator("#roster-apply").count() == 0
        assert every_row(sessions) == before
        _shots(page, "2-problems")

        page.goto(f"{base}/admin/roster")
        _upload(page, GOOD)
        assert page.locator("#count-added .num").inner_text() == "1"
        assert page.locator("#count-changed .num").inner_text() == "1"
        assert "职务: — → 村支书" in page.locator("#roster-table").inner_text()
        assert every_row(sessions) == before
        _shots(page, "3-preview")

        page.locator("#roster-apply button[type=submit]").click()
        page.wait_for_load_state()
        assert "花名册已应用：1 人新增，1 人变更" in page.locator("main").inner_text()
        _shots(page, "4-applied")
        with sessions() as session:
            added = session.scalar(select(Person).where(Person.email == "sun@example.org"))
            assert (added.name, added.phone, added.active) == ("孙新人", "13800138000", True)
        text = page.locator("main").inner_text()
        assert "task " not in text and "campaign " not in text  # no English engine message

        # a roster without 李村长 and the keeper: the keeper would go, 李村长 stays (his open work)
        _upload(page, xlsx(("孙新人", "", "东村", 13800138000, "sun@example.org", "member")))
        leaving = page.locator("#roster-leaving").inner_text()
        assert "陈道口看守" in leaving and "将被停用" in leaving
        assert "保留：仍有未办结事项" in leaving and "3号道口" in leaving
        assert "task " not in leaving and "key site" not in leaving
        _shots(page, "5-leaving")
    finally:
        context.close()
        engine.dispose()


# --- helpers ------------------------------------------------------------------------------------


def _upload(page, content: bytes) -> None:  # type: ignore[no-untyped-def]
    page.select_option("#unit", label="\u3000东村 (east-village)")
    page.set_input_files("#file", {"name": "花名册.xlsx", "mimeType": XLSX, "buffer": content})
    page.locator("#roster-upload button[type=submit]").click()
    page.wait_for_load_state()


def _shots(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """The page at desktop width and at 390 px, whole; nothing may be wider than a phone's screen."""
    page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], name
    page.set_viewport_size(NARROW)  # the narrowest phone the pages are made for
    assert page.evaluate("() => document.documentElement.scrollWidth") <= NARROW["width"], name
    page.set_viewport_size(DESKTOP)
