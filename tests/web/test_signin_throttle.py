"""The sign-in throttle as people meet it (SQLite and PostgreSQL): a guesser locks out itself, not the owner
elsewhere; an address spraying many accounts and a guesser spread over many addresses are stopped too; parallel
guesses get no more checks than the limit."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from werkzeug.security import generate_password_hash

from tests.support.web import PASSWORD, Visitor, text
from webapp.auth import signin, throttle
from workflow.clock import FixedClock

GUESSER, OWNER = "203.0.113.7", "198.51.100.9"
LOCKED = "登录失败次数过多"


@pytest.fixture
def cheap_dummy(monkeypatch):  # type: ignore[no-untyped-def]
    """Unknown e-mails are checked against a dummy hash as cheap as the site's own (scrypt's 100 ms × 30 adds
    up); the throttle is what is tested here, not the cost."""
    cheap = generate_password_hash("not anybody's password", method="pbkdf2:sha256:1000")
    monkeypatch.setattr(signin, "_dummy_hash", lambda: cheap)


def from_address(site, address: str) -> Visitor:  # type: ignore[no-untyped-def]
    """A browser whose requests come from ``address``."""
    client = site.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Visitor(client)


def later(site, minutes: int) -> None:  # type: ignore[no-untyped-def]
    site.config["LOGIN_CLOCK"] = FixedClock(
        site.config["LOGIN_CLOCK"].now() + timedelta(minutes=minutes)
    )


def test_a_guesser_locks_out_itself_but_not_the_owner_signing_in_elsewhere(site):
    guesser = from_address(site, GUESSER)
    for _ in range(throttle.ACCOUNT_AT_ADDRESS_LIMIT):
        assert guesser.sign_in("east@example.org", password="wrong").status_code == 401
    locked = guesser.sign_in("east@example.org")  # even the right password, from there
    assert locked.status_code == 429 and LOCKED in text(locked.get_data(as_text=True))
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60 + 1

    assert from_address(site, OWNER).sign_in("east@example.org").status_code == 302
    assert guesser.sign_in("east@example.org").status_code == 429, (
        "the owner's sign-in frees nobody"
    )
    assert from_address(site, GUESSER).sign_in("west@example.org").status_code == 302, (
        "the address may try other accounts"
    )

    later(site, 16)
    assert from_address(site, GUESSER).sign_in("east@example.org").status_code == 302, (
        "the lock ends after 15 minutes"
    )


def test_the_owner_signing_in_ends_the_run_of_failures_from_that_address(site):
    owner = from_address(site, OWNER)
    for _ in range(throttle.ACCOUNT_AT_ADDRESS_LIMIT - 1):
        assert owner.sign_in("east@example.org", password="typo").status_code == 401
    assert owner.sign_in("east@example.org").status_code == 302
    for _ in range(throttle.ACCOUNT_AT_ADDRESS_LIMIT):
        assert (
            from_address(site, OWNER).sign_in("east@example.org", password="typo").status_code
            == 401
        )
    assert from_address(site, OWNER).sign_in("east@example.org").status_code == 429


def test_an_address_trying_many_accounts_is_locked_but_only_that_address(site, cheap_dummy):
    sprayer = from_address(site, GUESSER)
    for n in range(throttle.ADDRESS_LIMIT):
        assert sprayer.sign_in(f"person{n}@example.org", password="123456").status_code == 401
    assert sprayer.sign_in("someone-else@example.org", password="123456").status_code == 429
    assert sprayer.sign_in("east@example.org").status_code == 429, "a locked address checks nothing"
    assert from_address(site, OWNER).sign_in("east@example.org").status_code == 302


def test_sign_ins_that_succeed_never_add_up_against_an_office_behind_one_address(site):
    people = ("east@example.org", "west@example.org", "office@example.org")
    for n in range(throttle.ADDRESS_LIMIT + 5):
        assert from_address(site, OWNER).sign_in(people[n % 3]).status_code == 302, n


def test_guesses_spread_over_many_addresses_lock_the_account_at_the_backstop(site):
    per_address = throttle.ACCOUNT_AT_ADDRESS_LIMIT
    addresses = [f"192.0.2.{n}" for n in range(1, throttle.ACCOUNT_LIMIT // per_address + 1)]
    for address in addresses[:-1]:
        for _ in range(per_address):
            assert (
                from_address(site, address).sign_in("east@example.org", password="x").status_code
                == 401
            )
    # under the backstop the owner still signs in, and that does not give the guesser a fresh allowance
    assert from_address(site, OWNER).sign_in("east@example.org").status_code == 302
    for _ in range(per_address):
        assert (
            from_address(site, addresses[-1]).sign_in("east@example.org", password="x").status_code
            == 401
        )

    locked = from_address(site, OWNER).sign_in("east@example.org")
    assert locked.status_code == 429, (
        f"{throttle.ACCOUNT_LIMIT} failures from anywhere lock the account"
    )
    assert (
        from_address(site, "192.0.2.200").sign_in("east@example.org", password="x").status_code
        == 429
    )
    assert from_address(site, OWNER).sign_in("west@example.org").status_code == 302, (
        "other accounts are open"
    )
    later(site, 16)
    assert from_address(site, OWNER).sign_in("east@example.org").status_code == 302


def test_an_ipv6_guesser_cannot_escape_by_changing_addresses_within_its_network(site):
    for n in range(throttle.ACCOUNT_AT_ADDRESS_LIMIT):
        guesser = from_address(site, f"2001:db8:1:2::{n + 1:x}")
        assert guesser.sign_in("east@example.org", password="x").status_code == 401
    assert from_address(site, "2001:db8:1:2::ffff").sign_in("east@example.org").status_code == 429
    assert from_address(site, "2001:db8:1:3::1").sign_in("east@example.org").status_code == 302


def test_parallel_guesses_get_no_more_password_checks_than_the_limit(site, monkeypatch):
    guesses = 25
    checked = []
    real = signin.check_password_hash

    def slow_check(hashed: str, password: str) -> bool:
        checked.append(password)
        time.sleep(0.3)  # every guess is in flight before the first is answered
        return real(hashed, password)

    monkeypatch.setattr(signin, "check_password_hash", slow_check)
    browsers = [from_address(site, GUESSER) for _ in range(guesses)]
    tokens = [browser.csrf_token() for browser in browsers]
    start = threading.Barrier(guesses)
    answers: list[int] = []

    def guess(browser: Visitor, token: str, n: int) -> None:
        data = {"email": "east@example.org", "password": f"guess-{n}", "csrf_token": token}
        start.wait()
        answers.append(browser.client.post("/login", data=data).status_code)

    threads = [
        threading.Thread(target=guess, args=(browser, token, n))
        for n, (browser, token) in enumerate(zip(browsers, tokens, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    limit = throttle.ACCOUNT_AT_ADDRESS_LIMIT
    assert sorted(answers) == [401] * limit + [429] * (guesses - limit)
    assert len(checked) == limit, "only the guesses within the limit reach the password"
    assert (
        from_address(site, OWNER).sign_in("east@example.org", password=PASSWORD).status_code == 302
    )
