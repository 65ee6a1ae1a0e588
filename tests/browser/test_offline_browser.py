"""With no signal, in a real browser (Debian's chromium through Playwright) against `pingan serve`, on a phone:
what is captured (a check-in at a key site, a hazard) waits on the phone, shown as 「待上传 N 条」, survives a reload with no signal (the service worker
kept the page), and is sent when the signal returns; a send whose answer is lost is sent again and still makes one
row; a send the server refuses (the rectification was closed meanwhile) is kept and shown with the reason until
the person discards it.

One server for the module (each start costs seconds); each test has a browser context, and so a phone, of its own.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from tests.support.actions import OPERATOR
from tests.support.browser import sign_in, town_railway_campaign
from tests.support.paths import ROOT
from tests.support.photos import jpeg
from tests.support.processes import serving
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.clock import FixedClock, parse_instant
from workflow.db import create_db_engine, session_factory
from workflow.hazards.rectifications import (
    HazardReport,
    register_hazard,
    submit_rectification,
    verify_rectification,
)
from workflow.models import EvidenceFile, Rectification, Site, SiteVisit
from workflow.organisation.directory import person_by_email

ARTIFACTS = ROOT / "test-artifacts"
NOW = "2026-05-12T09:00"
REGISTER = "/campaigns/1/hazards"
# east's, registered by the seed: the one the conflict test reports fixed
EAST_HAZARD = "道口护栏损坏，需更换"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def database(tmp_path_factory, sqlite_template) -> str:
    folder = tmp_path_factory.mktemp("offline")
    path = folder / "pingan.sqlite"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    _seed(url)
    return url


@pytest.fixture(scope="module")
def server(database, tmp_path_factory) -> Iterator[str]:
    with serving(database, NOW, tmp_path_factory.mktemp("instance")) as base_url:
        yield base_url


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    yield context
    context.close()


def test_a_check_in_and_a_hazard_captured_with_no_signal_wait_on_the_phone_and_are_sent_once(
    server, database, phone
):
    site = _site_id(database, "crossing-3")
    page = phone.new_page()
    sign_in(page, server, "office@example.org")
    _worker_in_charge(page)
    # opened once with signal: the worker keeps them
    page.goto(f"{server}/sites/{site}")
    page.goto(server + REGISTER)

    phone.set_offline(True)
    page.goto(f"{server}/sites/{site}")  # the copy kept on the phone
    # a photo from the camera, scaled on the phone as it is chosen (photos.js), kept with the rest
    page.set_input_files(
        "#check-in-photos", files=[{"name": "道口.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}]
    )
    page.locator("#check-in-photos[data-photos-scaled='1']").wait_for(state="attached")
    _check_in(page, "无信号时巡查：道口设施完好")
    _badge_says(page, "待上传 1 条")
    assert "已存在手机上" in page.locator("p.outbox-note").inner_text()
    page.goto(server + REGISTER)
    _capture_hazard(page, "无信号时发现：道口栏杆倒伏")
    _badge_says(page, "待上传 2 条")
    _shot(page, "offline-register-two-waiting")

    # a form that cannot wait (the language switch) stays on the page and says why
    page.click("form.language button[value=en]")
    assert "此表单须有信号时提交" in page.locator("p.outbox-note").inner_text()
    assert page.url.endswith(REGISTER)

    page.reload()  # still no signal: the page the worker kept, and the phone's outbox
    assert page.locator("form[data-offline=hazard]").is_visible()
    _badge_says(page, "待上传 2 条")
    assert _rows(database, "无信号时发现：道口栏杆倒伏") == 0, "nothing reached the server yet"
    assert _visits(database, "无信号时巡查：道口设施完好") == 0

    phone.set_offline(False)
    page.locator("#outbox-badge").wait_for(state="hidden", timeout=20_000)
    assert _visits(database, "无信号时巡查：道口设施完好") == 1
    assert _rows(database, "无信号时发现：道口栏杆倒伏") == 1
    assert _visit_photos(database, "无信号时巡查：道口设施完好") == 1


def test_sends_whose_answers_are_lost_are_sent_again_and_make_one_row_each(server, database, phone):
    site = _site_id(database, "crossing-3")
    page = phone.new_page()
    sign_in(page, server, "office@example.org")
    _worker_in_charge(page)
    posts: dict[str, int] = {}

    def lose_the_first_answer(route):  # type: ignore[no-untyped-def]
        if route.request.method != "POST":
            route.continue_()
            return
        path = route.request.url.removeprefix(server)
        posts[path] = posts.get(path, 0) + 1
        assert route.request.headers.get("x-pingan-queue") == "1"
        if posts[path] == 1:
            answer = route.fetch()  # the server records it ...
            assert answer.status == 200
            route.abort()  # ... and the phone never hears of it
        else:
            route.continue_()

    check_in = f"/sites/{site}/check-in"
    phone.route(lambda url: url.endswith((REGISTER, check_in)), lose_the_first_answer)
    page.goto(f"{server}/sites/{site}")
    _check_in(page, "信号不稳时巡查：道口设施完好")
    _badge_says(page, "待上传 1 条")  # the first answer never came: it waits
    page.goto(server + REGISTER)  # a page loaded sends what waits: "submitted before"
    _until(page, lambda: posts.get(check_in) == 2)
    _capture_hazard(page, "信号不稳时发现：道口路面塌陷")
    # tried again on a timer while sends fail, and answered "submitted before"
    _until(page, lambda: posts.get(REGISTER) == 2)
    page.locator("#outbox-badge").wait_for(state="hidden", timeout=10_000)
    assert posts == {check_in: 2, REGISTER: 2}
    assert _visits(database, "信号不稳时巡查：道口设施完好") == 1
    assert _rows(database, "信号不稳时发现：道口路面塌陷") == 1


def test_a_report_refused_because_the_hazard_was_closed_meanwhile_is_kept_and_shown(
    server, database, phone
):
    rectification = _rectification_of(database, EAST_HAZARD)
    page = phone.new_page()
    sign_in(page, server, "east@example.org")
    _worker_in_charge(page)
    page.goto(f"{server}/rectifications/{rectification}")

    phone.set_offline(True)
    page.fill("#note", "护栏已更换（无信号时上报）")
    page.click("form[data-offline=report-fixed] button[type=submit]")
    _badge_says(page, "待上传 1 条")

    # meanwhile, at the office: reported fixed another way, verified and closed
    _closed_meanwhile(database, rectification)

    phone.set_offline(False)
    page.locator("#outbox-badge.has-refused").wait_for(timeout=20_000)
    _badge_says(page, "待上传 1 条")
    page.goto(server + "/outbox")
    item = page.locator("li.outbox-refused")
    item.wait_for()
    assert "护栏已更换（无信号时上报）" in item.inner_text()
    assert "暂时无法操作" in item.inner_text(), item.inner_text()
    _shot(page, "offline-outbox-refused")

    item.locator("button[data-outbox-discard]").click()
    page.locator("[data-outbox-empty]").wait_for()
    assert page.locator("li.outbox-item").count() == 0
    assert page.locator("#outbox-badge").is_hidden()


def test_signing_out_drops_the_pages_the_phone_kept(server, phone):
    page = phone.new_page()
    sign_in(page, server, "office@example.org")
    _worker_in_charge(page)
    page.goto(server + REGISTER)
    assert _kept_pages(page) >= 1
    page.click("form.sign-out button[type=submit]")
    page.wait_for_url("**/login**")
    assert _kept_pages(page) == 0


# --- helpers ------------------------------------------------------------------------------------


def _worker_in_charge(page) -> None:  # type: ignore[no-untyped-def]
    """The service worker is installed and answers this page's requests: it claims the page it was
    registered from, and a page loaded after it is active is its own anyway (the reload, for a
    claim that has not landed yet on a loaded machine)."""
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("() => navigator.serviceWorker.controller !== null"):
        page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)


def _until(page, condition, seconds: float = 40) -> None:  # type: ignore[no-untyped-def]
    """Wait (letting the routes' handlers run) until ``condition()`` holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(200)


def _check_in(page, note: str) -> None:  # type: ignore[no-untyped-def]
    form = page.locator("form[data-offline=check-in]")
    form.locator("#check-in-note").fill(note)
    form.locator("button[type=submit]").click()


def _capture_hazard(page, description: str) -> None:  # type: ignore[no-untyped-def]
    form = page.locator("form[data-offline=hazard]")
    form.locator("#h-description").fill(description)
    form.locator("#h-site").select_option("crossing-3")
    form.locator("#h-days").fill("3")
    form.locator("button[type=submit]").click()


def _badge_says(page, words: str) -> None:  # type: ignore[no-untyped-def]
    badge = page.locator("#outbox-badge")
    badge.wait_for(state="visible", timeout=10_000)
    page.wait_for_function(
        "(words) => document.getElementById('outbox-badge').textContent === words", arg=words
    )


def _kept_pages(page) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "() => caches.open('pingan-pages').then((cache) => cache.keys()).then((keys) => keys.length)"
    )


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _rows(url: str, description: str) -> int:
    engine = create_db_engine(url)
    try:
        with session_factory(engine)() as session:
            return session.scalar(
                select(func.count())
                .select_from(Rectification)
                .where(Rectification.description == description)
            )
    finally:
        engine.dispose()


def _visits(url: str, note: str) -> int:
    engine = create_db_engine(url)
    try:
        with session_factory(engine)() as session:
            return session.scalar(
                select(func.count()).select_from(SiteVisit).where(SiteVisit.note == note)
            )
    finally:
        engine.dispose()


def _visit_photos(url: str, note: str) -> int:
    engine = create_db_engine(url)
    try:
        with session_factory(engine)() as session:
            visit = session.scalar(select(SiteVisit.id).where(SiteVisit.note == note))
            return session.scalar(
                select(func.count())
                .select_from(EvidenceFile)
                .where(EvidenceFile.item_kind == "visit", EvidenceFile.item_id == visit)
            )
    finally:
        engine.dispose()


def _site_id(url: str, code: str) -> int:
    engine = create_db_engine(url)
    try:
        with session_factory(engine)() as session:
            return session.scalar(select(Site.id).where(Site.code == code))
    finally:
        engine.dispose()


def _rectification_of(url: str, description: str) -> int:
    engine = create_db_engine(url)
    try:
        with session_factory(engine)() as session:
            return session.scalar(
                select(Rectification.id).where(Rectification.description == description)
            )
    finally:
        engine.dispose()


def _closed_meanwhile(url: str, rectification: int) -> None:
    engine = create_db_engine(url)
    clock = FixedClock(parse_instant("2026-05-12T09:30"))
    try:
        with session_factory(engine).begin() as session:
            east = Actor.person(person_by_email(session, "east@example.org"))
            office = Actor.person(person_by_email(session, "office@example.org"))
            submit_rectification(
                session, rectification, by=east, clock=clock, note="电话上报已修复"
            )
            verify_rectification(session, rectification, by=office, clock=clock, note="现场核验")
    finally:
        engine.dispose()


def _seed(url: str) -> None:
    engine = create_db_engine(url)
    started = FixedClock(parse_instant("2026-05-01T09:00"))
    try:
        with session_factory(engine).begin() as session:
            campaign = town_railway_campaign(session, started, WorkingCalendar())
            register_hazard(
                session,
                campaign.id,
                HazardReport(
                    description=EAST_HAZARD,
                    site="crossing-3",
                    responsible="east@example.org",
                    deadline_working_days=5,
                ),
                by=OPERATOR,
                clock=started,
                calendar=WorkingCalendar(),
                base_url="http://127.0.0.1",
            )
    finally:
        engine.dispose()
