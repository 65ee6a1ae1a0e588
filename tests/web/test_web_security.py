"""Signing in and out, the throttle, CSRF, cookies, ``next`` and the security headers (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.web import PASSWORD, Visitor, task_id, text
from webapp import create_app, wiring_of
from webapp.auth import signin
from workflow.clock import FixedClock
from workflow.models import LoginFailure, Task


def test_signing_in_leads_home_with_a_cookie_that_scripts_cannot_read(site, visitor):
    answer = visitor().sign_in("east@example.org")
    assert (answer.status_code, answer.headers["Location"]) == (302, "/")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_over_https_the_cookies_are_secure_and_the_remember_cookie_is_safe_too(site):
    app = create_app(
        {
            **site.config,
            "BASE_URL": "https://pingan.example.org",
            "SESSION_COOKIE_SECURE": True,
            "REMEMBER_COOKIE_SECURE": True,
        }
    )
    person = Visitor(app.test_client())
    answer = person.sign_in("east@example.org", remember="y")
    cookies = answer.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    remember = next(c for c in cookies if c.startswith("remember_token="))
    for cookie in (session_cookie, remember):
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Strict-Transport-Security" in app.test_client().get("/login").headers
    wiring_of(app).engine.dispose()


def test_pages_need_sign_in_and_come_back_after_it(site, visitor):
    person = visitor()
    answer = person.get("/campaigns")
    assert (answer.status_code, answer.headers["Location"]) == (302, "/login?next=%2Fcampaigns")
    assert (
        person.sign_in("office@example.org", next_path="/campaigns").headers["Location"]
        == "/campaigns"
    )


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\\/evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/%0d%0aSet-Cookie:x",
        " //evil.example",
        "/\tevil",
    ],
)
def test_next_never_leads_off_the_site(site, visitor, target):
    answer = visitor().sign_in("east@example.org", next_path=target)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert (
        location.startswith("/")
        and not location.startswith("//")
        and "evil" not in location.split("?")[0][:2]
    )
    assert "\\" not in location and "\n" not in location
    if target in ("https://evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example"):
        assert location == "/"


def test_a_wrong_password_and_an_unknown_person_get_the_same_answer_at_the_same_cost(
    site, visitor, monkeypatch
):
    checked = []
    real = signin.check_password_hash
    monkeypatch.setattr(signin, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))

    wrong = visitor().sign_in("east@example.org", password="guess")
    unknown = visitor().sign_in("nobody@example.org", password="guess")

    for answer in (wrong, unknown):
        assert answer.status_code == 401 and "电子邮箱、手机号或密码错误。" in text(
            answer.get_data(as_text=True)
        )
    assert len(checked) == 2 and checked[1] == signin._dummy_hash(), (
        "an unknown person is checked against a dummy"
    )


def test_five_wrong_passwords_in_a_row_lock_the_account_for_every_worker(site, visitor):
    for _ in range(5):
        assert visitor().sign_in("east@example.org", password="wrong").status_code == 401

    locked = visitor().sign_in("east@example.org")  # even the right password
    assert locked.status_code == 429
    assert "登录失败次数过多，请 15 分钟后再试。" in text(locked.get_data(as_text=True))
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60 + 1

    # another web worker (another app on the same database) counts the same failures
    other_worker = create_app(dict(site.config))
    assert Visitor(other_worker.test_client()).sign_in("east@example.org").status_code == 429
    with wiring_of(site).transaction(readonly=True) as session:
        row = session.get(LoginFailure, "account:east@example.org")
        assert row.failures == 5
    wiring_of(other_worker).engine.dispose()

    site.config["LOGIN_CLOCK"] = FixedClock(
        site.config["LOGIN_CLOCK"].now() + timedelta(minutes=16)
    )
    assert visitor().sign_in("east@example.org").status_code == 302, (
        "the lock ends after a quarter of an hour"
    )
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.get(LoginFailure, "account:east@example.org") is None


def test_failures_of_others_do_not_lock_an_account(site, visitor):
    for _ in range(5):
        visitor().sign_in("west@example.org", password="wrong")
    assert visitor().sign_in("east@example.org").status_code == 302


def test_a_form_without_its_csrf_token_or_with_a_forged_one_is_refused_and_changes_nothing(
    site, visitor
):
    east = visitor("east@example.org")
    plan = task_id(site, "east@example.org", "plan")
    for token in (None, "forged", east.csrf_token("/")[:-3] + "abc"):
        data = {"note": "x"} | ({"csrf_token": token} if token else {})
        answer = east.client.post(f"/tasks/{plan}/complete", data=data)
        assert answer.status_code == 400
        assert "表单已失效" in text(answer.get_data(as_text=True))
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.get(Task, plan).state == "open"

    no_token = visitor().client.post(
        "/login", data={"email": "east@example.org", "password": PASSWORD}
    )
    assert no_token.status_code == 400 and "remember_token" not in str(no_token.headers)


def test_signing_out_ends_every_copy_of_the_session(site, visitor):
    east = visitor("east@example.org")
    copied = Visitor(site.test_client())
    copied.client.set_cookie("session", east.client.get_cookie("session").value)
    assert copied.get("/").status_code == 200, "a copy works while the session lives"

    answer = east.post("/logout")
    assert (answer.status_code, answer.headers["Location"]) == (302, "/login")

    assert east.get("/").status_code == 302
    assert copied.get("/").status_code == 302, "the copied cookie no longer signs anyone in"


def test_every_response_carries_the_security_headers(site, visitor):
    east = visitor("east@example.org")
    for answer in (
        east.get("/"),
        east.get("/login"),
        east.get("/api/v1/me"),
        east.get("/no-such-page"),
    ):
        policy = answer.headers["Content-Security-Policy"]
        assert (
            "script-src 'self'" in policy
            and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        )
        assert "frame-ancestors 'none'" in policy
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "same-origin"
        assert answer.headers["X-Frame-Options"] == "DENY"
    assert east.get("/").headers["Cache-Control"] == "no-store"


def test_pages_load_nothing_from_other_sites_and_have_no_inline_script(site, visitor):
    html = visitor("office@example.org").page(f"/campaigns/{site.campaign_id}")
    assert "http://" not in html.split("<body")[0] and "https://" not in html
    assert "<script>" not in html and " on" + "click=" not in html and "style=" not in html


def test_someone_else_s_task_page_does_not_exist_for_a_village_head(site, visitor):
    west_plan = task_id(site, "west@example.org", "plan")
    assert visitor("east@example.org").get(f"/tasks/{west_plan}").status_code == 404
    assert visitor("office@example.org").get(f"/tasks/{west_plan}").status_code == 200
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.scalar(select(Task.state).where(Task.id == west_plan)) == "open"
