"""A responsibility letter in a real browser (Debian's chromium through Playwright) against `pingan serve`, on a
phone 360 px wide: 李村长 signs 3号道口's letter, issued by the leader, from his inbox; its page then shows both
parties without sideways scrolling, and printed it is one A4 page with both signature blocks."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select

from tests.support.actions import BASE_URL, OPERATOR
from tests.support.browser import sign_in
from tests.support.paths import ROOT
from tests.support.processes import serving
from tests.support.texts import LETTERS, TOWN_WITH_CROSSING
from tests.support.web import give_everyone_a_password
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.letters import issue_letter
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import FixedClock, parse_instant
from workflow.db import create_db_engine, session_factory
from workflow.definitions.reader import parse_definition
from workflow.models import Letter
from workflow.organisation.directory import import_organisation, person_by_email
from workflow.organisation.org_file import parse_organisation

ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.slow  # a server of its own: seconds to start


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template) -> Iterator[tuple[str, int]]:
    """`pingan serve` over the town's letters campaign, 3号道口's letter issued by the leader on 2026-05-04."""
    folder = tmp_path_factory.mktemp("letters")
    database = folder / "pingan.sqlite"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_CROSSING, "org.yaml"))
        give_everyone_a_password(session)
        campaign = start_campaign(
            session,
            parse_definition(LETTERS, "def.yaml"),
            "town",
            date(2026, 5, 1),
            by=OPERATOR,
            clock=FixedClock(parse_instant("2026-05-01T09:00")),
            calendar=WorkingCalendar(),
        ).id
        letter = session.scalar(select(Letter.id))
        issue_letter(
            session,
            letter,
            by=Actor.person(person_by_email(session, "leader@example.org")),
            clock=FixedClock(parse_instant("2026-05-04T10:00")),
            base_url=BASE_URL,
        )
    engine.dispose()
    with serving(url, "2026-05-06T09:00", folder / "instance") as base_url:
        yield base_url, campaign


def test_the_signer_signs_from_his_inbox_and_the_letter_prints_on_one_a4_page(server, browser):
    base_url, campaign = server
    context = browser.new_context(
        viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    try:
        sign_in(page, base_url, "east@example.org")
        letter = page.locator("#letters li.item", has_text="签订铁路安全包片责任区段责任书")
        assert "待签订" in letter.inner_text() and "张组长" in letter.inner_text()
        letter.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert (
            "已签订：签订铁路安全包片责任区段责任书" in page.locator(".flash-success").inner_text()
        )
        assert page.locator("#letters").count() == 0, "nothing left to sign"

        page.goto(f"{base_url}/campaigns/{campaign}/letters/1")
        assert page.locator("#letter-state").inner_text() == "已签订"
        sheet = page.locator("#letter").inner_text()
        assert (
            "甲方（下达方）" in sheet and "乙方（签订方）" in sheet and sheet.count("签字：") == 2
        )
        scroll, client = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll <= client, (scroll, client)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "letter-phone-360.png"), full_page=True)

        pdf = page.pdf(prefer_css_page_size=True, print_background=False)
        (ARTIFACTS / "letter-a4.pdf").write_bytes(pdf)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert pages == 1, f"the letter prints on {pages} pages"
        assert re.search(rb"/MediaBox\s*\[\s*0 0 59[45]\.\d* 84[12]\.\d*", pdf), "an A4 page"
    finally:
        context.close()
