"""Administration of people in a real browser (Debian's chromium through Playwright) against `pingan serve`
(issue #18): an initial password is changed at the first sign-in before anything opens; the town's administrator
adds a new village head, whose reset link works once; gives him the post and hands the old head's open work over
to him, which he then finds in his inbox; and deactivates someone with open work only after a hand-over. Pages are
in Chinese, shown at 390 px (a phone) and at desktop width; screenshots go to test-artifacts/ for a person to look
at, and no page shows an English engine message.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from tests.support.actions import OPERATOR
from tests.support.browser import sign_in
from tests.support.paths import ROOT
from tests.support.processes import serving
from tests.support.texts import RAILWAY_WITH_ESCALATION, TOWN_WITH_CROSSING
from tests.support.web import give_everyone_a_password
from webapp.engine_messages import _templates
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import FixedClock, parse_instant
from workflow.db import create_db_engine, session_factory
from workflow.definitions.reader import parse_definition
from workflow.models import PasswordReset, Person
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation
from workflow.organisation.tokens import token_digest
from workflow.people.administrators import grant_administrator

ARTIFACTS = ROOT / "test-artifacts"
ADMIN = "office@example.org"
INITIAL = "initial-pw-2026"  # as an organisation file would give it
NEW = "晨光道口2026安全"
# a link handed out on 2026-05-04 08:00, so a day past its 24 hours when the server's clock reads 2026-05-06
EXPIRED_TOKEN = "expired-link-token-of-the-deputy-0123456789abc"


def english_engine_sentences() -> list[str]:
    """The English the engine words its refusals and file problems in (its catalogue entries' longest literal
    parts): none may reach a Chinese page."""
    parts = [max(re.split(r"%\(p\d+\)s", t.msgid), key=len) for t in _templates()]
    return sorted({part.strip() for part in parts if len(part.strip()) >= 14})


pytestmark = pytest.mark.slow  # a server of its own: seconds to start


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template) -> Iterator[str]:
    """`pingan serve` over the town's railway campaign (started 2026-05-01), 赵主任 administering 铁路镇;
    陈道口看守 still has the initial password of the organisation file."""
    folder = tmp_path_factory.mktemp("admin")
    database = folder / "pingan.sqlite"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    engine = create_db_engine(url)
    with session_factory(engine).begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_CROSSING, "org.yaml"))
        give_everyone_a_password(session)
        keeper = session.scalar(select(Person).where(Person.email == "keeper@example.org"))
        keeper.password_hash = generate_password_hash(INITIAL, method="pbkdf2:sha256:1000")
        keeper.must_change_password = True
        started = FixedClock(parse_instant("2026-05-01T09:00"))
        start_campaign(
            session,
            parse_definition(RAILWAY_WITH_ESCALATION, "def.yaml"),
            "town",
            date(2026, 5, 1),
            by=OPERATOR,
            clock=started,
            calendar=WorkingCalendar(),
        )
        grant_administrator(session, ADMIN, "town", by=OPERATOR, now=started.now())
        deputy = session.scalar(select(Person.id).where(Person.email == "deputy@example.org"))
        handed = parse_instant("2026-05-04T08:00")
        session.add(
            PasswordReset(
                person_id=deputy,
                digest=token_digest(EXPIRED_TOKEN),
                created_at=handed,
                expires_at=handed + timedelta(hours=24),
                created_by=ADMIN,
            )
        )
    engine.dispose()
    with serving(url, "2026-05-06T09:00", folder / "instance") as base_url:
        yield base_url


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    yield context.new_page()
    context.close()


@pytest.fixture
def desk(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    yield context.new_page()
    context.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    body = page.locator("main").inner_text()
    english = [sentence for sentence in english_engine_sentences() if sentence in body]
    assert english == [], (name, english)
    scroll, client = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= client + 1, (name, scroll, client)


def test_an_initial_password_is_changed_at_the_first_sign_in_before_anything_opens(server, phone):
    sign_in(phone, server, "keeper@example.org", INITIAL)
    assert phone.url.endswith("/account/password")
    assert (
        "一次性密码" in phone.locator("main").inner_text()
        or "初始" in phone.locator("main").inner_text()
    )
    phone.goto(f"{server}/")
    assert phone.url.endswith("/account/password"), "nothing else opens"
    phone.fill("#current", INITIAL)
    phone.fill("#new", "password123")
    phone.fill("#again", "password123")
    phone.click("main form button[type=submit]")
    assert "最常用的密码" in phone.locator(".flash-error").inner_text()
    shot(phone, "admin-forced-change-390")
    phone.fill("#current", INITIAL)
    phone.fill("#new", NEW)
    phone.fill("#again", NEW)
    phone.click("main form button[type=submit]")
    phone.wait_for_load_state()
    assert not phone.url.endswith("/account/password")
    assert "其他设备" in phone.locator(".flash-success").inner_text()


def test_a_new_village_head_is_added_sets_his_password_once_and_takes_over_the_post(
    server, desk, phone
):
    sign_in(desk, server, ADMIN)
    desk.goto(f"{server}/admin")
    assert "人员" in desk.locator("#admin-links").inner_text()
    shot(desk, "admin-home-desktop")
    desk.click("#admin-links a[href='/admin/people']")
    desk.fill("#name", "孙新村长")
    desk.select_option("#unit", label="\u3000东村")
    desk.fill("#phone", "139 0013 9000")
    desk.fill("#email", "sun@example.org")
    desk.click("#add-person button[type=submit]")
    desk.wait_for_load_state()
    link = desk.locator("#reset-link input").input_value()
    assert "/reset?token=" in link
    shot(desk, "admin-person-added-desktop")

    # he opens the link on his phone: once
    phone.goto(link)
    phone.fill("#new", NEW)
    phone.fill("#again", NEW)
    shot(phone, "admin-reset-390")
    phone.click("#reset-form button[type=submit]")
    phone.wait_for_load_state()
    assert "新密码已设置" in phone.locator(".flash-success").inner_text()
    phone.goto(link)
    assert "已使用" in phone.locator("#link-invalid").inner_text()

    # the post: 孙 gets village_head, and 李村长's open tasks of it with it
    desk.fill("#role", "village_head")
    desk.click("#give-role button[type=submit]")
    desk.wait_for_load_state()
    offer = desk.locator("#hand-over")
    assert "李村长" in offer.inner_text()
    shot(desk, "admin-hand-over-offer-desktop")
    offer.locator("button[type=submit]").click()
    desk.wait_for_load_state()
    assert "已移交" in desk.locator(".flash-success").inner_text()

    sign_in(phone, server, "13900139000", NEW)  # his mobile number signs him in
    assert "制定创建活动计划" in phone.locator("main").inner_text()
    shot(phone, "admin-new-head-inbox-390")


def test_a_reset_link_older_than_24_hours_opens_nothing(server, phone):
    phone.goto(f"{server}/reset?token={EXPIRED_TOKEN}")
    assert "24 小时" in phone.locator("#link-invalid").inner_text()
    assert phone.locator("#reset-form").count() == 0
    shot(phone, "admin-reset-expired-390")


def test_someone_with_open_work_is_deactivated_only_after_a_hand_over(server, phone):
    sign_in(phone, server, ADMIN)
    phone.goto(f"{server}/admin/people?q=周村长")
    phone.locator("#people a", has_text="周村长").click()
    phone.wait_for_load_state()
    assert "制定创建活动计划" in phone.locator("#holding").inner_text()
    phone.click("#deactivate button[type=submit]")
    phone.wait_for_load_state()
    assert "仍有未完成的工作" in phone.locator(".flash-error").inner_text()
    shot(phone, "admin-deactivate-refused-390")
    keeper = phone.locator("#successor option", has_text="陈道口看守").get_attribute("value")
    phone.select_option("#successor", value=keeper)
    phone.click("#deactivate button[type=submit]")
    phone.wait_for_load_state()
    assert "已停用" in phone.locator(".flash-success").inner_text()
    assert "恢复启用" in phone.locator("#access").inner_text()
    assert "deactivate" in phone.locator("#history").inner_text()
    phone.goto(f"{server}/admin/units")
    shot(phone, "admin-units-390")
