"""待我审核 in a real browser (Debian's chromium through Playwright) against `pingan serve`: the office director
finds the hazard east reported fixed in the inbox, verifies it on its page, and it leaves; a crossing keeper who
holds a hazard and no task sees no bulk check-off panel, on a phone without sideways scrolling.

One server for the module (each start costs seconds): the keeper's test does not depend on the verification.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.support.actions import OPERATOR
from tests.support.browser import sign_in, town_railway_campaign
from tests.support.paths import ROOT
from tests.support.processes import serving
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.clock import FixedClock, parse_instant
from workflow.db import create_db_engine, session_factory
from workflow.hazards.rectifications import HazardReport, register_hazard, submit_rectification
from workflow.organisation.directory import person_by_email

ARTIFACTS = ROOT / "test-artifacts"
NOW = "2026-05-12T09:00"  # east reported the crossing fixed on 5-07

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template) -> Iterator[str]:
    """`pingan serve` over the railway campaign with east's hazard reported fixed and the keeper's hazard open."""
    folder = tmp_path_factory.mktemp("review")
    database = folder / "pingan.sqlite"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    _seed(url)
    with serving(url, NOW, folder / "instance") as base_url:
        yield base_url


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_the_office_director_verifies_what_awaits_them_and_it_leaves_the_inbox(server, browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, server, "office@example.org")
        review = page.locator("#review")
        assert review.count() == 1, "the group is on the office director's inbox"
        heading = review.locator("h2").inner_text()
        assert heading.startswith(("待我审核", "Awaiting my decision")), heading
        item = review.locator("li.item", has_text="道口护栏损坏，需更换")
        assert item.count() == 1
        assert "李村长" in item.inner_text() and "(4" in item.inner_text().replace("（", "(")
        shot(page, "inbox-office-awaiting")

        item.locator("a.item-title").click()
        page.wait_for_load_state()
        assert page.url.endswith("/rectifications/1")
        page.fill("#verify-note", "现场核验，护栏已更换")
        page.click("form[action$='/verify'] button[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".flash-success").count() == 1

        page.goto(server + "/")
        assert page.locator("#review").count() == 0, "verified: nothing awaits any more"
        assert page.locator("li.item", has_text="道口护栏损坏，需更换").count() == 0
        shot(page, "inbox-office-after-verifying")
    finally:
        context.close()


def test_a_keeper_with_a_hazard_and_no_task_gets_no_bulk_panel_on_a_phone(server, browser):
    def phone_as(email):  # type: ignore[no-untyped-def]
        context = browser.new_context(
            viewport={"width": 360, "height": 780},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
        )
        phone = context.new_page()
        sign_in(phone, server, email)
        return context, phone

    context, phone = phone_as("keeper@example.org")
    try:
        assert phone.locator("li.item", has_text="道口警示灯不亮").count() == 1
        assert phone.locator("#bulk, #bulk-form").count() == 0
        assert phone.locator("#review").count() == 0
        scroll, client = phone.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll <= client, (scroll, client)
        shot(phone, "inbox-keeper-phone-360")
    finally:
        context.close()

    # east holds tasks: the panel is there, folded to one line until opened
    context, phone = phone_as("east@example.org")
    try:
        panel = phone.locator("details#bulk")
        assert panel.count() == 1 and panel.get_attribute("open") is None
        assert panel.bounding_box()["height"] < 80
        panel.locator("summary").click()
        assert phone.locator("#bulk-form button[type=submit]").is_visible()
        shot(phone, "inbox-east-phone-360-bulk-open")
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
        for description, responsible in (
            ("道口护栏损坏，需更换", "east@example.org"),
            ("道口警示灯不亮", "keeper@example.org"),
        ):
            register_hazard(
                session,
                campaign.id,
                HazardReport(
                    description=description,
                    site="crossing-3",
                    responsible=responsible,
                    deadline_working_days=5,
                ),
                by=OPERATOR,
                clock=started,
                calendar=calendar,
                base_url="http://127.0.0.1",
            )
    with sessions.begin() as session:
        east = Actor.person(person_by_email(session, "east@example.org"))
        submit_rectification(
            session,
            1,
            by=east,
            clock=FixedClock(parse_instant("2026-05-07T10:00")),
            note="护栏已更换",
        )
    engine.dispose()
