"""批量处理 in a real browser (Debian's chromium through Playwright) against `pingan serve`: the office director
selects several items on /decisions, confirms once and reads each item's outcome, on a desktop (with a task sent
back by the leader meanwhile: reported as moved, left alone) and on a 360 px phone without sideways scrolling.

One server for the module: the desktop decides the tasks, the phone the rectifications, so neither depends on the
other having run.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.support.actions import actor
from tests.support.browser import sign_in, town_railway_campaign
from tests.support.desk import Desk, laid_out
from tests.support.paths import ROOT
from tests.support.processes import serving
from workflow.calendar import WorkingCalendar
from workflow.campaigns.tasks import reject_task
from workflow.clock import FixedClock, parse_instant
from workflow.db import create_db_engine, session_factory
from workflow.models import Rectification, Task

ARTIFACTS = ROOT / "test-artifacts"
NOW = "2026-05-12T09:00"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory, sqlite_template) -> Iterator[tuple[str, Desk, object]]:
    """`pingan serve` over the railway campaign with the village heads' tasks checked off and three hazards reported
    fixed; (its address, the desk, the database's sessions)."""
    folder = tmp_path_factory.mktemp("bulk")
    database = folder / "pingan.sqlite"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    started = FixedClock(parse_instant("2026-05-01T09:00"))
    calendar = WorkingCalendar()
    with sessions.begin() as session:
        campaign = town_railway_campaign(session, started, calendar).id
    desk = laid_out(sessions, campaign, FixedClock(parse_instant("2026-05-07T10:00")), calendar, 3)
    with serving(url, NOW, folder / "instance") as base_url:
        yield base_url, desk, sessions
    engine.dispose()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_the_office_director_verifies_several_tasks_at_once_on_a_desktop(world, browser):
    server, desk, sessions = world
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, server, "office@example.org")
        page.click("#decide-many")  # from the inbox's 待我审核
        page.wait_for_load_state()
        assert page.url.endswith("/decisions")
        button = page.locator("#decide-form button[value=verify]")
        assert button.is_disabled(), "nothing selected yet"
        page.check("input[data-select-all=decide-form]")
        for rect in desk.submitted:  # the tasks only: the phone decides the rectifications
            page.uncheck(f"input[value='rectification:{rect}:submitted']")
        assert button.inner_text().endswith(f"({len(desk.done_tasks)})")
        page.fill("#decide-note", "材料齐全，同意")
        shot(page, "decisions-desktop-selected")

        moved = desk.done_tasks[0]
        leader = actor(sessions, "leader@example.org")
        with sessions.begin() as session:  # the leader sends one back while the office looks
            reject_task(
                session, moved, by=leader, clock=FixedClock(parse_instant(NOW)), note="不全"
            )

        button.click()
        page.wait_for_load_state()
        assert f"确认审核通过 {len(desk.done_tasks)} 项？" in page.locator("h1").inner_text()
        shot(page, "decisions-desktop-confirm")
        page.click("#confirm-button")
        page.wait_for_load_state()

        assert page.url.endswith("/decisions/result")
        outcomes = page.locator("#outcomes li.outcome")
        assert outcomes.count() == len(desk.done_tasks)
        was = page.locator(f"#outcome-task-{moved}")
        assert was.get_attribute("data-result") == "moved"
        assert "期间已变动" in was.inner_text() and "未完成" in was.inner_text()
        for task in desk.done_tasks[1:]:
            assert page.locator(f"#outcome-task-{task}").get_attribute("data-result") == "decided"
        shot(page, "decisions-desktop-result")

        page.reload()  # the result again; nothing decided twice
        assert page.locator("#outcomes li.outcome").count() == len(desk.done_tasks)
        with sessions() as session:
            states = {t: session.get(Task, t).state for t in desk.done_tasks}
        assert states == {moved: "open", **{t: "verified" for t in desk.done_tasks[1:]}}
    finally:
        context.close()


def test_the_office_director_verifies_several_rectifications_at_once_on_a_phone(world, browser):
    server, desk, sessions = world
    context = browser.new_context(
        viewport={"width": 360, "height": 780},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    phone = context.new_page()
    try:
        sign_in(phone, server, "office@example.org")
        phone.goto(server + "/decisions")
        for rect in desk.submitted:
            phone.check(f"input[value='rectification:{rect}:submitted']")
        _fits(phone)
        shot(phone, "decisions-phone-360-selected")
        phone.click("#decide-form button[value=verify]")
        phone.wait_for_load_state()
        assert f"确认审核通过 {len(desk.submitted)} 项？" in phone.locator("h1").inner_text()
        _fits(phone)
        phone.click("#confirm-button")
        phone.wait_for_load_state()
        results = [
            phone.locator(f"#outcome-rectification-{rect}").get_attribute("data-result")
            for rect in desk.submitted
        ]
        assert results == ["decided"] * len(desk.submitted)
        assert "已处理 3 项" in phone.locator("#summary").inner_text()
        _fits(phone)
        shot(phone, "decisions-phone-360-result")
        with sessions() as session:
            closed = session.scalars(
                select(Rectification.state).where(Rectification.id.in_(desk.submitted))
            ).all()
        assert set(closed) == {"closed"}
    finally:
        context.close()


def _fits(page) -> None:
    scroll, client = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= client, (scroll, client)
