"""Key sites in a real browser (issue 21, items 1, 2 and 5): a patrol on a phone (360 px, touch)
opens the address a site's QR code holds, ticks "record where I am", adds a photo and taps 打卡:
the month's patrol is done; the coordinators' printed sheet of codes reads back, with a real
decoder (zxing-cpp), as each site's address."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from tests.support.actions import OPERATOR
from tests.support.browser import sign_in
from tests.support.processes import serving
from tests.support.texts import PATROLLED, TOWN_WITH_CROSSING
from tests.support.web import give_everyone_a_password
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import FixedClock, parse_instant
from workflow.db import create_db_engine, session_factory
from workflow.definitions.reader import parse_definition
from workflow.models import Campaign, EvidenceFile, Person, Site, SiteVisit, Task, Unit
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation

NOW = "2026-05-06T09:00"
SHOTS = Path("/tmp/shots")
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}


@pytest.fixture(scope="module")
def database(tmp_path_factory, sqlite_template) -> Path:
    """The town's patrol campaign (PATROLLED) started on 1 May; 3号道口 (east's) and a second
    key site, 西村桥头 (kept by west's head)."""
    folder = tmp_path_factory.mktemp("sites")
    path = folder / "pingan.sqlite"
    shutil.copy(sqlite_template, path)
    engine = create_db_engine(f"sqlite:///{path}")
    sessions = session_factory(engine)
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_CROSSING, "org.yaml"))
        west = session.scalar(select(Unit.id).where(Unit.code == "west-village"))
        head = session.scalar(select(Person.id).where(Person.email == "west@example.org"))
        session.add(Site(code="west-bridge", name="西村桥头", unit_id=west, responsible_id=head))
        session.flush()
        give_everyone_a_password(session)
        start_campaign(
            session,
            parse_definition(PATROLLED, "def.yaml"),
            "town",
            parse_instant("2026-05-01T09:00").date(),
            by=OPERATOR,
            clock=FixedClock(parse_instant("2026-05-01T09:00")),
            calendar=WorkingCalendar(),
        )
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def server(database) -> Iterator[str]:
    with serving(f"sqlite:///{database}", NOW, database.parent / "instance") as base_url:
        yield base_url


@pytest.fixture
def sessions(database):
    engine = create_db_engine(f"sqlite:///{database}")
    yield session_factory(engine)
    engine.dispose()


def site_id(sessions, code: str) -> int:
    with sessions() as session:
        return session.scalar(select(Site.id).where(Site.code == code))


def a_photo(tmp_path: Path) -> Path:
    path = tmp_path / "道口.jpg"
    Image.effect_noise((800, 600), 60).convert("RGB").save(path, "JPEG")
    return path


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360


def test_a_patrol_opens_the_sites_code_on_a_phone_and_checks_in_with_a_photo(
    browser, server, sessions, tmp_path
):
    crossing = site_id(sessions, "crossing-3")
    context = browser.new_context(
        **PHONE,
        geolocation={"latitude": 34.6218, "longitude": 105.7241, "accuracy": 20},
        permissions=["geolocation"],
    )
    page = context.new_page()
    try:
        sign_in(page, server, "east@example.org")
        page.goto(f"{server}/sites/{crossing}")  # what the code holds
        assert page.locator("h1").inner_text() == "3号道口"
        assert "本次打卡将完成你 1 项" in page.locator("#check-in").inner_text()
        no_sideways_scroll(page)
        button = page.locator("#check-in button[type=submit]")
        assert button.bounding_box()["height"] >= 44
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "site-360.png"), full_page=True)

        page.fill("#check-in-note", "护栏完好，警示牌清晰")
        page.locator("#share-location").tap()
        expect(page.locator("#location-status")).to_contain_text("已记录位置")
        page.set_input_files("#check-in-photos", str(a_photo(tmp_path)))
        page.screenshot(path=str(SHOTS / "check-in-360.png"), full_page=True)
        button.tap()
        page.wait_for_selector(".flash-success")
        assert "已打卡：1 项巡查或检查已完成" in page.locator(".flash-success").inner_text()
        assert "护栏完好" in page.locator("#site-visits").inner_text()
        no_sideways_scroll(page)
        page.screenshot(path=str(SHOTS / "checked-in-360.png"), full_page=True)
    finally:
        context.close()
    with sessions() as session:
        visit = session.scalar(select(SiteVisit).where(SiteVisit.site_id == crossing))
        assert round(visit.latitude, 4) == 34.6218 and round(visit.longitude, 4) == 105.7241
        assert (
            session.scalar(
                select(Task.state).where(Task.site_id == crossing, Task.visit_id == visit.id)
            )
            == "done"
        )
        photos = session.scalars(
            select(EvidenceFile).where(
                EvidenceFile.item_kind == "visit", EvidenceFile.item_id == visit.id
            )
        ).all()
        assert len(photos) == 1


def test_the_printed_sheet_of_codes_reads_back_as_each_sites_address(browser, server, sessions):
    with sessions() as session:
        campaign = session.scalar(select(Campaign.id))
    expected = {
        f"{server}/sites/{site_id(sessions, code)}" for code in ("crossing-3", "west-bridge")
    }
    context = browser.new_context(viewport={"width": 794, "height": 1123}, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, server, "office@example.org")
        page.goto(f"{server}/campaigns/{campaign}/site-codes")
        page.emulate_media(media="print")  # as it comes out of the printer: the sheet alone
        shot = page.screenshot(full_page=True)
        SHOTS.mkdir(exist_ok=True)
        (SHOTS / "qr-sheet.png").write_bytes(shot)
        names = page.locator(".qr-card figcaption strong").all_inner_texts()
    finally:
        context.close()
    decoded = {code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))}
    assert decoded == expected
    assert names == ["3号道口", "西村桥头"]
