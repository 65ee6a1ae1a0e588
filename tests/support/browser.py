"""A real browser: Debian's chromium (driven by Playwright, never `playwright install`), and signing in on its page."""

from __future__ import annotations

from pathlib import Path

from tests.support.web import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")


def sign_in(page, base: str, email: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Sign ``email`` in through the sign-in form of the app at ``base``."""
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()
