"""The report page in a real browser (Debian's chromium through Playwright) against `pingan serve`: the charts are
drawn, nothing breaks the Content-Security-Policy, the print stylesheet gives clean pages, a phone needs no sideways
scrolling. Screenshots go to the test's tmp dir, and a copy to /tmp/report-page.png and /tmp/report-print.png."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import sign_in
from tests.support.processes import serving
from tests.support.scenarios import Scenario, build_campaign_year
from workflow.calendar import WorkingCalendar
from workflow.db import create_db_engine, session_factory

NOW = "2026-05-28T09:00"  # the campaign year (tests.support.scenarios): in its inspection phase, every unit scored
CHARTS = ("chart-phases", "chart-units", "chart-ageing", "chart-escalations", "chart-scores")
A4_PRINTABLE_WIDTH = 703
SHOWN = {"page": Path("/tmp/report-page.png"), "print": Path("/tmp/report-print.png")}
# a listener on the page before any of its own scripts: every CSP violation, whatever the console says
WATCH_CSP = (
    "window.__cspViolations = [];"
    "document.addEventListener('securitypolicyviolation', function (e) {"
    "  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI); });"
)
# each chart's instance, and how many of its canvas' pixels are drawn on
DRAWN = """() => {
  const drawn = {};
  for (const canvas of document.querySelectorAll('canvas')) {
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) { inked += 1; } }
    const box = canvas.getBoundingClientRect(), figure = canvas.parentNode.getBoundingClientRect();
    drawn[canvas.id] = {inked: inked, share: inked / (canvas.width * canvas.height), width: box.width,
                        fits: box.left >= figure.left && box.right <= figure.right + 0.5,
                        chart: Chart.getChart(canvas) !== undefined};
  }
  return {instances: Object.keys(Chart.instances).length, drawn: drawn};
}"""

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path, sqlite_template) -> Iterator[str]:
    """`pingan serve` on a free port over the campaign year; yields its base URL."""
    database = tmp_path / "pingan.sqlite"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    engine = create_db_engine(url)
    build_campaign_year(Scenario(session_factory(engine), WorkingCalendar()))
    engine.dispose()
    with serving(url, NOW, tmp_path / "instance") as base_url:
        yield base_url


@pytest.fixture
def watched(browser):
    """A desktop page whose console messages, page errors and CSP violations are kept."""
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    page.console_messages, page.page_errors, page.missing = [], [], []
    page.on("console", lambda message: page.console_messages.append((message.type, message.text)))
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    page.on(
        "response", lambda answer: page.missing.append(answer.url) if answer.status >= 400 else None
    )
    yield page
    context.close()


def test_the_report_page_draws_its_charts_within_the_content_security_policy(
    server, watched, tmp_path
):
    sign_in(watched, server, "leader@example.org")
    watched.goto(f"{server}/campaigns/1/report")
    watched.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length === 5")

    assert watched.locator("h1").inner_text().startswith("平安铁路创建活动")
    assert "统计截至 2026年5月28日 09:00" in watched.locator(".report-head").inner_text()
    state = watched.evaluate(DRAWN)
    assert state["instances"] == len(CHARTS)
    assert sorted(state["drawn"]) == sorted(CHARTS)
    for chart, drawn in state["drawn"].items():
        assert drawn["chart"] and drawn["fits"] and drawn["width"] > 200, (chart, drawn)
        # bars, axes and labels
        assert drawn["inked"] > 2000 and drawn["share"] > 0.01, (
            chart,
            drawn,
        )
    violations = watched.evaluate("() => window.__cspViolations")
    assert violations == []
    assert [
        text for kind, text in watched.console_messages if "Content Security Policy" in text
    ] == []
    assert watched.missing == [], "every script, style and page loads"
    # the one "Failed to load resource" left is chromium's own /favicon.ico (no page of the app has one)
    assert [
        text
        for kind, text in watched.console_messages
        if kind == "error" and not text.startswith("Failed to load resource")
    ] == []
    assert watched.page_errors == []
    shot(watched, tmp_path, "page")

    # print media on a viewport as wide as an A4 page's printable width (210 mm less 2 × 12 mm: 703 CSS px)
    watched.emulate_media(media="print")
    watched.set_viewport_size({"width": A4_PRINTABLE_WIDTH, "height": 1000})
    # the charts redraw at their print sizes (ResizeObserver, a frame later)
    watched.wait_for_timeout(500)
    for hidden in ("header.top", ".report-links", ".crumbs"):
        assert watched.locator(hidden).is_hidden(), hidden
    assert watched.locator("#ledger table").is_visible()
    printed = watched.evaluate(DRAWN)
    for chart, drawn in printed["drawn"].items():
        assert drawn["inked"] > 2000 and drawn["fits"] and drawn["width"] < A4_PRINTABLE_WIDTH, (
            chart,
            drawn,
        )
    assert watched.evaluate("() => document.documentElement.scrollWidth") <= A4_PRINTABLE_WIDTH
    shot(watched, tmp_path, "print")
    assert watched.evaluate("() => window.__cspViolations") == []


def test_the_report_fits_a_phone_without_sideways_scrolling(server, browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    try:
        phone = context.new_page()
        sign_in(phone, server, "member@example.org")
        for path in (
            "/campaigns/1/report",
            "/campaigns/1/scores",
            "/campaigns/1/incidents",
            "/petitions/1",
        ):
            phone.goto(server + path)
            scroll, client = phone.evaluate(
                "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert scroll <= client, (path, scroll, client)
    finally:
        context.close()


def shot(page, tmp_path: Path, name: str) -> None:
    """A full-page screenshot in the test's tmp dir, copied where a person looks at it."""
    path = tmp_path / f"report-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    shutil.copy(path, SHOWN[name])
