"""Leaving a phase in a real browser (Debian's chromium through Playwright) against `pingan serve`
(issue 15): a refresh after a refused advance changes nothing, a double click on the confirmation
moves one phase, the confirmation names both phases, and the campaign page lists what blocks the
phase before any click, on a 360 px phone.

One server for the module (each start costs seconds); each test starts a campaign of its own in it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.actions import OPERATOR
from tests.support.browser import sign_in
from tests.support.processes import serving
from tests.support.texts import RAILWAY_WITH_ESCALATION, TOWN_WITH_CROSSING
from tests.support.web import give_everyone_a_password
from workflow.audit import trail
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import advance_campaign, start_campaign
from workflow.campaigns.tasks import complete_task
from workflow.clock import FixedClock, parse_instant
from workflow.db import create_db_engine, session_factory
from workflow.definitions.reader import parse_definition
from workflow.hazards.rectifications import (
    HazardReport,
    register_hazard,
    submit_rectification,
    verify_rectification,
)
from workflow.machines import TASK_SETTLED_STATES
from workflow.models import Campaign, Task
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation

NOW = "2026-05-18T09:00"  # the server's clock: each campaign is in its first phase, started 05-01
CLOCK = FixedClock(parse_instant(NOW))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def database(tmp_path_factory, sqlite_template) -> Path:
    """A SQLite file with the town's people (everyone with a password) and no campaign yet."""
    path = tmp_path_factory.mktemp("advance") / "pingan.sqlite"
    shutil.copy(sqlite_template, path)
    engine = create_db_engine(f"sqlite:///{path}")
    with session_factory(engine).begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_CROSSING, "org.yaml"))
        give_everyone_a_password(session)
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def sessions(database) -> Iterator[sessionmaker[Session]]:
    """The server's database, for the tests to act in through the engine (as another person would)."""
    engine = create_db_engine(f"sqlite:///{database}")
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def server(database) -> Iterator[str]:
    """`pingan serve` over that database; yields its base URL."""
    with serving(f"sqlite:///{database}", NOW, database.parent / "instance") as base_url:
        yield base_url


@pytest.fixture
def campaign(sessions) -> int:
    """A railway campaign of this test's own, in its mobilization phase."""
    with sessions.begin() as session:
        return start_campaign(
            session,
            parse_definition(RAILWAY_WITH_ESCALATION, "def.yaml"),
            "town",
            date(2026, 5, 1),
            by=OPERATOR,
            clock=FixedClock(parse_instant("2026-05-01T09:00")),
            calendar=WorkingCalendar(),
        ).id


@pytest.fixture
def office(server, browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, server, "office@example.org")
    yield page
    context.close()


def test_a_refresh_after_a_refused_advance_changes_nothing(server, office, sessions, campaign):
    finish_the_phase(sessions, campaign)
    office.goto(f"{server}/campaigns/{campaign}")
    office.click("button:has-text('进入下一阶段')")
    office.wait_for_load_state()
    # while the confirmation is open, an inspector registers a major hazard: it blocks the phase
    hazard = major_hazard(sessions, campaign)

    office.click("#confirm-advance")
    office.wait_for_load_state()
    assert office.url == f"{server}/campaigns/{campaign}#blockers", "not a page at the POST address"
    assert "暂不能进入下一阶段：还有 1 项未完成。" in office.locator(".flash-error").inner_text()
    assert office.locator(f"ul.blockers a[href='/rectifications/{hazard}']").count() == 1

    fixed(sessions, hazard)  # nothing blocks now: a reload that re-sent the advance would move it
    office.reload()
    office.wait_for_load_state()

    assert office.locator(".flash").count() == 0
    assert (state(sessions, campaign), advances(sessions, campaign)) == ("mobilization", 0)
    assert "宣传发动阶段" in office.locator("li.node.current").inner_text()


def test_a_double_click_on_the_confirm_button_moves_one_phase(
    server, browser, office, sessions, campaign
):
    """Into the inspection phase, which has no required work: a second advance would leave it at
    once. Chromium often sends one post for a double click; the same confirmation open in another
    window, confirmed after, is the second post for sure (a slower browser, a reload, a colleague).
    """
    finish_the_phase(sessions, campaign)
    advance(sessions, campaign)
    finish_the_phase(sessions, campaign)
    confirm = f"{server}/campaigns/{campaign}/advance"
    office.goto(confirm)
    assert office.locator("#no-required-work").is_visible()
    # a window of its own: two tabs share one session, and its flash messages, racing
    window = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    try:
        other = window.new_page()
        sign_in(other, server, "office@example.org")
        other.goto(confirm)
        posted = []
        for page in (office, other):
            page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)

        office.dblclick("#confirm-advance")
        office.wait_for_load_state("networkidle")
        # the page its post leads to, not the confirmation still showing: under load the flash was
        # read before the redirect had landed (a CI run on 2026-12-04)
        with other.expect_navigation():
            other.click("#confirm-advance")
        other.wait_for_load_state()

        assert len(posted) >= 2 and set(posted) == {confirm}
        assert (state(sessions, campaign), advances(sessions, campaign)) == ("inspection", 2)
        assert "检查验收阶段" in office.locator("li.node.current").inner_text()
        told = " ".join(other.locator(".flash-info").all_inner_texts())
        assert "检查验收阶段" in told, "the later post: already advanced to the inspection phase"
        assert "检查验收阶段" in other.locator("li.node.current").inner_text()
    finally:
        window.close()


def test_the_confirmation_names_both_phases(server, office, sessions, campaign):
    finish_the_phase(sessions, campaign)
    office.goto(f"{server}/campaigns/{campaign}")
    office.click("button:has-text('进入下一阶段')")
    office.wait_for_load_state()

    assert office.url.startswith(f"{server}/campaigns/{campaign}/advance")
    assert office.locator("#leaving dd").inner_text() == "宣传发动阶段"
    assert office.locator("#entering dd").inner_text() == "全面实施阶段"
    assert office.locator("#no-required-work").count() == 0, "the patrol plans are required"
    assert office.locator("#confirm-advance").is_visible()
    assert (state(sessions, campaign), advances(sessions, campaign)) == ("mobilization", 0)

    office.click(f"#advance-step a[href='/campaigns/{campaign}']")  # cancel
    office.wait_for_load_state()
    assert office.url == f"{server}/campaigns/{campaign}"
    assert (state(sessions, campaign), advances(sessions, campaign)) == ("mobilization", 0)


def test_the_blockers_are_listed_on_the_campaign_page_before_any_click(
    server, browser, sessions, campaign
):
    context = browser.new_context(
        viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    try:
        phone = context.new_page()
        sign_in(phone, server, "office@example.org")
        phone.goto(f"{server}/campaigns/{campaign}")

        listed = phone.locator("#blockers ul.blockers li")
        assert listed.count() == 3
        assert "本阶段还有 3 项必办事项未完成。" in phone.locator("#blockers").inner_text()
        assert "召开动员大会" in listed.nth(0).inner_text()  # due 05-08, before the plans (05-15)
        east = phone.locator("#blockers li", has_text="东村")
        assert "制定创建活动计划" in east.inner_text() and "李村长" in east.inner_text()
        assert "2026年5月15日" in east.inner_text()
        assert east.locator("a").get_attribute("href").startswith("/tasks/")
        assert phone.locator("button:has-text('进入下一阶段')").count() == 0, "nothing to confirm"
        assert widths(phone) == (360, 360)
        phone.goto(
            f"{server}/campaigns/{campaign}/advance"
        )  # opened by its address: no move offered
        assert phone.locator("#confirm-advance").count() == 0 and widths(phone) == (360, 360)
        phone.go_back()

        east.locator("a").click()
        phone.wait_for_load_state()
        assert "制定创建活动计划" in phone.locator("h1").inner_text()
    finally:
        context.close()


# --- helpers ------------------------------------------------------------------------------------


def widths(page) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The page's scroll width and the viewport's: equal when nothing scrolls sideways."""
    return tuple(
        page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
    )


def finish_the_phase(sessions: sessionmaker[Session], campaign: int) -> None:
    with sessions.begin() as session:
        phase = session.get(Campaign, campaign).state
        for task in session.scalars(
            select(Task).where(
                Task.campaign_id == campaign,
                Task.phase_key == phase,
                Task.required.is_(True),
                Task.state.not_in(TASK_SETTLED_STATES),
            )
        ):
            complete_task(session, task.id, by=OPERATOR, clock=CLOCK)


def advance(sessions: sessionmaker[Session], campaign: int) -> None:
    with sessions.begin() as session:
        advance_campaign(session, campaign, by=OPERATOR, clock=CLOCK, calendar=WorkingCalendar())


def major_hazard(sessions: sessionmaker[Session], campaign: int) -> int:
    with sessions.begin() as session:
        return register_hazard(
            session,
            campaign,
            HazardReport(
                description="道口栏杆倒伏",
                site="crossing-3",
                severity="major",
                deadline_working_days=2,
            ),
            by=OPERATOR,
            clock=CLOCK,
            calendar=WorkingCalendar(),
            base_url="http://127.0.0.1",
        ).id


def fixed(sessions: sessionmaker[Session], hazard: int) -> None:
    with sessions.begin() as session:
        submit_rectification(session, hazard, by=OPERATOR, clock=CLOCK, note="栏杆已扶正加固")
        verify_rectification(session, hazard, by=OPERATOR, clock=CLOCK)


def state(sessions: sessionmaker[Session], campaign: int) -> str:
    with sessions() as session:
        return session.get(Campaign, campaign).state


def advances(sessions: sessionmaker[Session], campaign: int) -> int:
    with sessions() as session:
        return len([e for e in trail(session, campaign, "campaign") if e.event == "advance"])
