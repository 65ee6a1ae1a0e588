"""The pages a field worker uses (sign-in, inbox, an inspection, a rectification, the hazard register, a key
site's page, the outbox), on a phone 360 px wide (Debian's chromium through Playwright, against `pingan
serve`): nothing scrolls sideways, every button, link of a list and field is a tap target at least 44 px high, and
the text is large enough to read Chinese without zooming (16 px for what one reads, 14 px for the smallest note).

Screenshots of each page land in test-artifacts/ (phone-<page>.png) for a person to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select

from tests.support.actions import OPERATOR
from tests.support.browser import sign_in, town_railway_campaign
from tests.support.paths import ROOT
from tests.support.processes import serving
from tests.support.texts import INSPECTING
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import FixedClock, parse_instant
from workflow.db import create_db_engine, session_factory
from workflow.definitions.reader import parse_definition
from workflow.hazards.rectifications import HazardReport, register_hazard
from workflow.models import Site, Task

ARTIFACTS = ROOT / "test-artifacts"
NOW = "2026-05-12T09:00"
TAP = 44  # px: WCAG 2.5.5's target size, and what a thumb in a work glove hits
READING, SMALLEST = 16, 14  # px

pytestmark = pytest.mark.slow

# every element a finger taps; a link inside a sentence is read, not aimed at (WCAG's inline exception)
MEASURE = """
(limits) => {
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  };
  const inSentence = (el) => el.tagName === 'A' && !!el.closest('p, dd, td, .prose, .muted, .crumbs')
    && !el.closest('li, nav, .actions, .links, .pager');
  const small = [];
  const targets = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  for (const el of document.querySelectorAll(targets)) {
    if (!visible(el) || inSentence(el)) continue;
    // a check box is tapped through its label
    const target = (el.type === 'checkbox' || el.type === 'radio') && el.closest('label') || el;
    const box = target.getBoundingClientRect();
    if (box.height < limits.tap - 0.5) {
      small.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${(el.innerText || el.value
        || el.name || '').trim().slice(0, 20)}" ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  const tiny = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || !visible(el)) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < limits.smallest - 0.01) tiny.add(`${el.tagName.toLowerCase()}.${el.className} ${size}px`);
  }
  return {
    scroll: document.scrollingElement.scrollWidth,
    body: parseFloat(getComputedStyle(document.body).fontSize),
    small, tiny: [...tiny],
  };
}
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory, sqlite_template) -> Iterator[tuple[str, dict[str, int]]]:
    folder = tmp_path_factory.mktemp("phone")
    database = folder / "pingan.sqlite"
    shutil.copy(sqlite_template, database)
    ids = _seed(f"sqlite:///{database}")
    with serving(f"sqlite:///{database}", NOW, folder / "instance") as base_url:
        yield base_url, ids


PAGES = [
    ("sign-in", None, "/login"),
    ("inbox", "east@example.org", "/"),
    ("inspection-task", "east@example.org", "/tasks/{inspection}"),
    ("rectification", "east@example.org", "/rectifications/{rectification}"),
    ("hazard-register", "office@example.org", "/campaigns/{campaign}/hazards"),
    ("site", "east@example.org", "/sites/{site}"),
    ("outbox", "east@example.org", "/outbox"),
]


@pytest.mark.parametrize("name, email, path", PAGES, ids=[name for name, *_ in PAGES])
def test_a_field_page_fits_a_phone_and_is_made_for_thumbs(world, browser, name, email, path):
    base, ids = world
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    page = context.new_page()
    try:
        if email:
            sign_in(page, base, email)
        page.goto(base + path.format(**ids))
        assert page.url.endswith(path.format(**ids)), page.url
        # the folded forms too (a menu of the header opened would cover the page: left folded)
        page.evaluate(
            "() => document.querySelectorAll('main details').forEach((d) => { d.open = true; })"
        )
        found = page.evaluate(MEASURE, {"tap": TAP, "smallest": SMALLEST})
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
        assert found["scroll"] <= 360, f"{name} scrolls sideways: {found['scroll']} px"
        assert found["body"] >= READING
        assert found["small"] == [], f"{name}: tap targets under {TAP} px"
        assert found["tiny"] == [], f"{name}: text under {SMALLEST} px"
    finally:
        context.close()


# --- helpers ------------------------------------------------------------------------------------


def _seed(url: str) -> dict[str, int]:
    """The railway campaign with a hazard of east's open, and an inspection of 3号道口 (east's) in a
    campaign of its own."""
    engine = create_db_engine(url)
    started = FixedClock(parse_instant("2026-05-01T09:00"))
    calendar = WorkingCalendar()
    try:
        with session_factory(engine).begin() as session:
            campaign = town_railway_campaign(session, started, calendar)
            rectification = register_hazard(
                session,
                campaign.id,
                HazardReport(
                    description="道口护栏损坏，需更换",
                    site="crossing-3",
                    responsible="east@example.org",
                    deadline_working_days=5,
                ),
                by=OPERATOR,
                clock=started,
                calendar=calendar,
                base_url="http://127.0.0.1",
            )
            inspecting = start_campaign(
                session,
                parse_definition(INSPECTING, "inspecting.yaml"),
                "town",
                date(2026, 5, 1),
                by=OPERATOR,
                clock=started,
                calendar=calendar,
            )
            session.flush()
            inspection = session.scalar(
                select(Task.id).where(
                    Task.campaign_id == inspecting.id, Task.spec_key == "site-check"
                )
            )
            return {
                "campaign": campaign.id,
                "rectification": rectification.id,
                "inspection": inspection,
                "site": session.scalar(select(Site.id).where(Site.code == "crossing-3")),
            }
    finally:
        engine.dispose()
