"""Photos on a phone (360 × 740, touch) in a real browser against `pingan serve`: the office director
registers a hazard with two photos from the camera, east reports it fixed with an "after" photo, and
the office director sees before and after side by side and verifies it. The photos are larger than
1,600 px: the page's script (photos.js) scales them before they are sent.

Screenshots of the hazard form and the before/after view are kept under test-artifacts/ (and
/tmp/shots/ when it exists) to be looked at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.browser import sign_in, town_railway_campaign
from tests.support.paths import ROOT
from tests.support.photos import jpeg
from tests.support.processes import serving
from workflow.calendar import WorkingCalendar
from workflow.clock import FixedClock, parse_instant
from workflow.db import create_db_engine, session_factory
from workflow.limits import PHOTO_LONG_SIDE
from workflow.models import EvidenceFile, Rectification

ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "tests" / "support" / "files" / "axe" / "axe.min.js"
AXE_PATH = "/__test__/axe.min.js"  # on the site's origin: script-src 'self' lets it run
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SHOTS = Path("/tmp/shots")
NOW = "2026-05-12T09:00"
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
    "locale": "zh-CN",
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def database(tmp_path_factory, sqlite_template) -> str:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("photos")
    path = folder / "pingan.sqlite"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = create_db_engine(url)
    with session_factory(engine).begin() as session:
        town_railway_campaign(
            session, FixedClock(parse_instant("2026-05-01T09:00")), WorkingCalendar()
        )
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def server(database, tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with serving(database, NOW, tmp_path_factory.mktemp("instance")) as base_url:
        yield base_url


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if SHOTS.is_dir():
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def camera(name: str, width: int, height: int, orientation: int | None = None) -> dict:  # type: ignore[type-arg]
    """A photo as a phone's camera hands it to the page (held upright: ``orientation`` 6 is a
    landscape sensor's pixels, to be turned a quarter)."""
    return {
        "name": name,
        "mimeType": "image/jpeg",
        "buffer": jpeg(width, height, orientation=orientation),
    }


def choose_photos(page, selector: str, files: list[dict]) -> list[list[int]]:  # type: ignore[no-untyped-def, type-arg]
    """Choose ``files`` in the file input and wait for the page's script to put them back scaled;
    the scaled photos' sizes in pixels."""
    page.set_input_files(selector, files)
    page.wait_for_function(
        "([s, n]) => document.querySelector(s).dataset.photosScaled === String(n)",
        arg=[selector, len(files)],
    )
    return page.evaluate(
        """async (s) => Promise.all([...document.querySelector(s).files].map(async (f) => {
            const bitmap = await createImageBitmap(f);
            return [bitmap.width, bitmap.height, f.type === 'image/jpeg' ? 1 : 0];
        }))""",
        selector,
    )


def phone(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(**PHONE)
    context.route(
        f"{server}{AXE_PATH}",
        lambda route: route.fulfill(path=str(AXE), content_type="application/javascript"),
    )
    return context.new_page()


def axe_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    """What axe-core finds wrong with the page at WCAG 2.1 A and AA."""
    page.add_script_tag(url=AXE_PATH)
    return page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map((v) => v.id + ': ' + v.nodes.map((n) => n.target).join(', '))",
        TAGS,
    )


def no_sideways_scrolling(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_hazard_registered_with_photos_is_verified_with_before_and_after_side_by_side(
    server, browser, database
):
    office = phone(browser, server)
    sign_in(office, server, "office@example.org")
    office.goto(f"{server}/campaigns/1/hazards")
    office.fill("#h-description", "道口护栏损坏，需更换")
    office.select_option("#h-site", "crossing-3")
    office.select_option("#h-responsible", "east@example.org")
    office.fill("#h-days", "5")
    scaled = choose_photos(
        office,
        "#h-photos",
        [camera("IMG_0001.jpg", 4000, 3000), camera("IMG_0002.jpg", 4000, 3000, orientation=6)],
    )
    assert scaled == [[1600, 1200, 1], [1200, 1600, 1]], "scaled on the phone before sending"
    assert office.locator(".photo-previews canvas").count() == 2
    office.locator("#h-photos").scroll_into_view_if_needed()
    assert no_sideways_scrolling(office)
    assert axe_violations(office) == []
    shot(office, "photos-hazard-form-360")
    with office.expect_navigation():
        office.locator("form[method=post][action$='/hazards'] button[type=submit]").tap()
    assert office.locator(".flash-success").count() == 1, office.locator(".flash").all_inner_texts()

    east = phone(browser, server)
    sign_in(east, server, "east@example.org")
    east.goto(f"{server}/rectifications/1")
    assert east.locator(".stage-before img").count() == 2
    east.fill("#note", "已更换护栏")
    choose_photos(east, "#photos", [camera("IMG_0100.jpg", 2400, 1800)])
    with east.expect_navigation():
        east.locator("form[action$='/submit'] button[type=submit]").tap()
    assert east.locator(".flash-success").count() == 1, east.locator(".flash").all_inner_texts()

    office.goto(f"{server}/rectifications/1")
    before, after = office.locator(".stage-before"), office.locator(".stage-after")
    assert before.locator("img").count() == 2 and after.locator("img").count() == 1
    left, right = before.bounding_box(), after.bounding_box()
    assert left["y"] == right["y"] and left["x"] + left["width"] <= right["x"], "side by side"
    assert office.evaluate(
        "[...document.querySelectorAll('.stages img')].every(i => i.complete && i.naturalWidth > 0)"
    ), "every thumbnail loads"
    assert no_sideways_scrolling(office)
    # the script's canvas writes no EXIF: it carries the camera's over, so the capture time stays
    assert before.locator(".taken").all_inner_texts() == ["拍摄于 2026年5月12日 09:30"] * 2
    assert after.locator(".taken").all_inner_texts() == ["拍摄于 2026年5月12日 09:30"]
    assert axe_violations(office) == []
    office.locator(".before-after").scroll_into_view_if_needed()
    shot(office, "photos-before-after-360")
    office.fill("#verify-note", "现场核验合格")
    with office.expect_navigation():
        office.locator("form[action$='/verify'] button[type=submit]").tap()
    assert office.locator(".flash-success").count() == 1, office.locator(".flash").all_inner_texts()

    engine = create_db_engine(database)
    with session_factory(engine).begin() as session:
        assert session.get(Rectification, 1).state == "closed"
        photos = session.scalars(select(EvidenceFile).order_by(EvidenceFile.id)).all()
    engine.dispose()
    # the portrait photo was turned once, on the phone: the server did not turn it again
    assert [(p.stage, p.width, p.height) for p in photos] == [
        ("before", PHOTO_LONG_SIDE, 1200),
        ("before", 1200, PHOTO_LONG_SIDE),
        ("after", PHOTO_LONG_SIDE, 1200),
    ]
