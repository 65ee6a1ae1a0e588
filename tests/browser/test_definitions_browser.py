"""Definitions and starting a campaign in a real browser (Debian's chromium through Playwright) against `pingan serve`
(issue #18, items 5 and 6), as the town's administrator: a bad definition shows its line and key; a good one's
preview draws the phases and lists the next dates; a dry run names a role nobody holds; a start from the page puts
the first tasks into the village heads' inboxes. Each page is photographed at desktop width and 390 px
(``/tmp/shots-defs``, or ``PINGAN_SHOTS``) and must not scroll sideways on the phone."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.actions import OPERATOR
from tests.support.browser import sign_in, town_railway_campaign
from tests.support.processes import serving
from tests.support.texts import RAILWAY
from workflow.calendar import WorkingCalendar
from workflow.clock import FixedClock, parse_instant
from workflow.db import create_db_engine, session_factory
from workflow.models import Unit
from workflow.people.administrators import grant_administrator

pytestmark = pytest.mark.slow  # a server of its own: seconds to start

SHOTS = Path(os.environ.get("PINGAN_SHOTS", "/tmp/shots-defs"))
ADMIN = "leader@example.org"
MONTHLY = (
    RAILWAY.replace("id: safe-railway-test", "id: monthly-browser")
    + """
recurring:
  - {id: talk, title: 月度安全教育, assignee: village_head, per: unit, every: month, on: 5, due: 3wd}
escalation:
  deadline_by_severity: {major: 5wd, minor: 15wd}
  remind_before: 2wd
  levels:
    - {after: 0d, notify: [responsible, office_director], colour: blue}
    - {after: 3wd, notify: [deputy], colour: yellow}
    - {after: 7wd, notify: [leader], colour: red}
"""
)
BAD = MONTHLY.replace("assignee: office_director, due: 7d", "assignee: chief, due: 7d")


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template) -> Iterator[str]:
    """`pingan serve` over the town's railway campaign; the leader administers 铁路镇; a village 南村 without a head."""
    folder = tmp_path_factory.mktemp("definitions")
    database = folder / "pingan.sqlite"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    started = FixedClock(parse_instant("2026-05-01T09:00"))
    with sessions.begin() as session:
        town_railway_campaign(session, started, WorkingCalendar())
        grant_administrator(session, ADMIN, "town", by=OPERATOR, now=started.now())
    engine.dispose()
    (folder / "files").mkdir()
    (folder / "files" / "bad.yaml").write_text(BAD, encoding="utf-8")
    (folder / "files" / "monthly.yaml").write_text(MONTHLY, encoding="utf-8")
    second = (
        MONTHLY.replace("version: 1", "version: 2")
        .replace("due: 14d", "due: 10wd")
        .replace("    - {after: 7wd, notify: [leader], colour: red}\n", "")
    )
    (folder / "files" / "monthly-v2.yaml").write_text(second, encoding="utf-8")
    with serving(url, "2026-05-12T09:00", folder / "instance") as base_url:
        yield base_url, folder / "files", url


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    """The page fits its width, and on a phone also the narrowest one we serve (360 px)."""
    size = page.viewport_size
    widths = [size["width"], 360] if size["width"] < 600 else [size["width"]]
    for width in widths:
        page.set_viewport_size({"width": width, "height": size["height"]})
        scroll, client = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll <= client, (page.url, width, scroll, client)
    page.set_viewport_size(size)


@pytest.mark.parametrize("width", [1280, 390])
def test_upload_a_bad_then_a_good_definition_and_start_a_campaign(server, browser, width):
    base_url, files, url = server
    phone = width < 600
    context = browser.new_context(
        viewport={"width": width, "height": 900}, is_mobile=phone, has_touch=phone, locale="zh-CN"
    )
    page = context.new_page()
    tag = "phone" if phone else "desktop"
    try:
        sign_in(page, base_url, ADMIN)
        page.goto(f"{base_url}/admin")
        shoot(page, f"admin-home-{tag}")
        page.click("#admin-links a[href='/admin/definitions']")
        page.wait_for_load_state()
        assert "safe-railway" in page.locator("#definitions").inner_text()
        shoot(page, f"definitions-{tag}")
        no_sideways_scroll(page)

        # a bad definition: its line, key and the line itself
        page.set_input_files("#file", str(files / "bad.yaml"))
        page.click("#upload button[type=submit]")
        page.wait_for_load_state()
        problems = page.locator("#problems").inner_text()
        line = BAD.splitlines().index(next(s for s in BAD.splitlines() if "chief" in s)) + 1
        assert f"第 {line} 行" in problems and "phases[0].tasks[1].assignee" in problems
        assert f"bad.yaml:{line}: phases[0].tasks[1].assignee: unknown role 'chief'" in problems
        assert "assignee: chief" in page.locator(".source-line").first.inner_text()
        shoot(page, f"definition-problems-{tag}")
        no_sideways_scroll(page)

        # a good one: the diagram and each duty's next dates, counted from 1 May 2026
        page.set_input_files("#file", str(files / "monthly.yaml"))
        page.fill("#starts", "2026-05-01")
        page.click("#upload button[type=submit]")
        page.wait_for_load_state()
        nodes = page.locator("#diagram .node").all_inner_texts()
        assert [n.split("\n")[0] for n in nodes[1:-1]] == [
            "1. 宣传发动阶段",
            "2. 全面实施阶段",
            "3. 检查验收阶段",
        ]
        talk = page.locator("#duty-talk .next-dates li").all_inner_texts()
        assert (
            len(talk) == 5
            and talk[0].startswith("2026年5月5日")
            and talk[4].startswith("2026年9月5日")
        )
        assert "组长" in page.locator("#ladder").inner_text()
        shoot(page, f"definition-preview-{tag}")
        no_sideways_scroll(page)
        if not phone:
            page.click("#save-form button[type=submit]")
            page.wait_for_load_state()
            assert "已保存" in page.locator(".flash-success").inner_text()
            shoot(page, f"definition-stored-{tag}")
            # its next version: what changed since version 1
            page.goto(f"{base_url}/admin/definitions")
            page.set_input_files("#file", str(files / "monthly-v2.yaml"))
            page.click("#upload button[type=submit]")
            page.wait_for_load_state()
            changes = page.locator("#changes").inner_text()
            assert "与第 1 版相比的变化" in changes and "制定创建活动计划" in changes
            assert "14d" in changes and "10wd" in changes and "删除" in changes
            shoot(page, f"definition-changes-{tag}")

        # the dry run for 铁路镇 names the role nobody holds in 南村 (added for the phone's run)
        if phone:
            _add_village(url)
        page.goto(f"{base_url}/admin/campaigns/new")
        page.select_option("#definition", "safe-railway-api@1")
        page.select_option("#unit", "town")
        page.fill("#starts", "2026-05-12")
        page.fill("#title", f"第二期（{tag}）")
        page.click("#start-form button[type=submit]")
        page.wait_for_load_state()
        if phone:
            refused = page.locator("#start-problems").inner_text()
            assert "南村" in refused and "村负责人" in refused
            assert page.locator("#confirm-form").count() == 0
            shoot(page, f"start-refused-{tag}")
            no_sideways_scroll(page)
            return
        assert "李村长" in page.locator("#per-person").inner_text()
        shoot(page, f"start-dry-run-{tag}")
        page.click("#confirm-form button[type=submit]")
        page.wait_for_load_state()
        assert (
            "/campaigns/" in page.url
            and "活动已启动" in page.locator(".flash-success").inner_text()
        )
        shoot(page, f"campaign-started-{tag}")
    finally:
        context.close()
    # the village head finds the new campaign's first task in his inbox
    context = browser.new_context(
        viewport={"width": 390, "height": 900}, is_mobile=True, locale="zh-CN"
    )
    page = context.new_page()
    try:
        sign_in(page, base_url, "west@example.org")
        page.goto(f"{base_url}/")
        assert "第二期（desktop）" in page.content()
    finally:
        context.close()


def _add_village(url: str) -> None:
    engine = create_db_engine(url)
    try:
        with session_factory(engine).begin() as session:
            town = session.query(Unit).filter(Unit.code == "town").one()
            if session.query(Unit).filter(Unit.code == "south-village").first() is None:
                session.add(Unit(code="south-village", name="南村", parent_id=town.id))
    finally:
        engine.dispose()
