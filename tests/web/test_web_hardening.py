"""The web app against a browser-borne attacker, route by route: CSRF, security headers, markup shown as text.

``test_web_security.py`` checks sign-in, cookies, ``next`` and one form and a
few pages; this module walks the app's whole ``url_map`` instead, so a route
added later is covered without anyone remembering to: every form route of the
pages refuses a post without its CSRF token and changes nothing; every kind of
response (pages, API, error pages 400/401/404/405/413/500, static files,
health, evidence files) carries a Content-Security-Policy with no inline
script, ``nosniff``, a Referrer-Policy and no framing. Text people typed that
looks like markup (a hazard ``<script>``, a task title and note that close an
attribute and open an ``<img onerror>``) is shown as text on every page that
shows it, and stays plain text in the mail (SQLite: the pages do not depend on
the database; the API tests run on both).

Counts are printed at the end of the route walks:
``timeout 900 .venv/bin/python -m pytest tests/web/test_web_hardening.py``.
"""

from __future__ import annotations

import io
import json
import os
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.support.clock import shanghai
from tests.support.terminal import print_past_capture
from tests.support.texts import RAILWAY_WITH_ESCALATION
from tests.support.web import PASSWORD, PNG, started_site, text, url_for_rule
from webapp import create_app, wiring_of
from webapp.mail import mailer_from_env
from workflow.clock import FixedClock
from workflow.escalation.sweep import run_sweep
from workflow.models import Base, Campaign, EvidenceFile, OutboxMail, Rectification, Task
from workflow.organisation.directory import person_by_email
from workflow.organisation.tokens import issue_token

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE_BREAK = '"><img src=x onerror=alert(1)>'
TASK_TITLE = f"{ATTRIBUTE_BREAK}制定计划"
CAMPAIGN_TITLE = "<svg onload=alert(1)>平安铁路"
XSS_DEFINITION = (
    RAILWAY_WITH_ESCALATION.replace("id: safe-railway-api", "id: safe-railway-xss")
    .replace("title: 平安铁路创建活动", f"title: {json.dumps(CAMPAIGN_TITLE)}", 1)
    .replace("title: 制定创建活动计划,", f"title: {json.dumps(TASK_TITLE)},", 1)
)
API_PREFIX = "/api/"
# what a Referrer-Policy may say without leaking the page's address (and its ids) to other sites
SAFE_REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}


@pytest.fixture
def db_url(sqlite_url):
    """Headers and markup do not depend on the database: SQLite only, as the other page tests."""
    return sqlite_url


@pytest.fixture
def site(db_url, sessions, clock, tmp_path):
    app = started_site(db_url, sessions, clock, tmp_path, XSS_DEFINITION)
    yield app
    wiring_of(app).engine.dispose()


@pytest.fixture
def report(request: pytest.FixtureRequest):
    """Print a count at the end of the test (the issue's closing note quotes them), without -s."""
    lines: list[str] = []
    yield lines.append
    if lines:
        print_past_capture(request, [f"{request.node.name}: {line}" for line in lines])


def task_of(site, email: str, spec: str = "plan") -> int:
    with wiring_of(site).transaction(readonly=True) as session:
        person = person_by_email(session, email).id
        return session.scalar(
            select(Task.id).where(Task.assignee_id == person, Task.spec_key == spec)
        )


def register_hazard(visitor, site, **fields: str) -> int:
    office = visitor("office@example.org")
    answer = office.post(
        f"/campaigns/{site.campaign_id}/hazards",
        {
            "description": SCRIPT,
            "severity": "minor",
            "site": "crossing-3",
            "responsible": "east@example.org",
            "working_days": "3",
            **fields,
        },
    )
    assert answer.status_code == 302
    with wiring_of(site).transaction(readonly=True) as session:
        return session.scalar(select(func.max(Rectification.id)))


def snapshot(site) -> tuple[Any, ...]:
    """Everything a refused form must leave as it was: the rows of every table, and the states of the work."""
    with wiring_of(site).transaction(readonly=True) as session:
        counts = tuple(
            session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        )
        states = tuple(
            session.execute(
                select(Task.id, Task.state, Task.note, Task.assignee_id).order_by(Task.id)
            )
        )
        hazards = tuple(
            session.execute(
                select(
                    Rectification.id,
                    Rectification.state,
                    Rectification.deadline,
                    Rectification.responsible_id,
                ).order_by(Rectification.id)
            )
        )
        campaigns = tuple(session.execute(select(Campaign.id, Campaign.state)))
    return counts, states, hazards, campaigns


def rules(site, method: str, *, pages_only: bool) -> list[Any]:
    """The app's rules answering ``method`` (the JSON API's left out with ``pages_only``)."""
    return sorted(
        (
            rule
            for rule in site.url_map.iter_rules()
            if method in rule.methods
            and not (pages_only and (rule.rule.startswith(API_PREFIX) or rule.endpoint == "static"))
        ),
        key=lambda rule: rule.rule,
    )


def assert_security_headers(answer: Any, where: str) -> None:
    headers = answer.headers
    policy = headers.get("Content-Security-Policy", "")
    assert policy, f"{where}: no Content-Security-Policy"
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts is not None, f"{where}: scripts are not restricted: {policy}"
    assert (
        "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts and "*" not in scripts
    ), (where, policy)
    assert "'unsafe-inline'" not in directives.get("default-src", []), (where, policy)
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") in SAFE_REFERRER_POLICIES, (
        where,
        headers.get("Referrer-Policy"),
    )
    assert headers.get("X-Frame-Options") == "DENY" or directives.get("frame-ancestors") == [
        "'none'"
    ], where


# --- CSRF: every form route of the pages --------------------------------------------------------


def test_every_form_route_of_the_pages_refuses_a_post_without_its_csrf_token_and_changes_nothing(
    site, visitor, report
):
    rectification = register_hazard(visitor, site)
    ids = {
        "campaign_id": site.campaign_id,
        "task_id": task_of(site, "east@example.org"),
        "rectification_id": rectification,
        "item_id": task_of(site, "east@example.org"),
    }
    forms = rules(site, "POST", pages_only=True)
    assert len(forms) >= 12, [rule.rule for rule in forms]
    office = visitor("office@example.org")
    valid = office.csrf_token("/")
    # what each form would need to do something, were its token right
    fields = {
        "note": "已完成",
        "reason": "仍未整改",
        "working_days": "5",
        "description": "护栏损坏",
        "severity": "minor",
        "site": "crossing-3",
        "responsible": "east@example.org",
        "to": "west@example.org",
        "leaving": "east@example.org",
        "successor": "west@example.org",
        "language": "en",
        "email": "office@example.org",
        "password": PASSWORD,
        "task_id": str(ids["task_id"]),
    }
    before = snapshot(site)
    for rule in forms:
        path = url_for_rule(rule, ids)
        for token in (None, "forged", valid[:-4] + "abcd"):
            data = fields | ({"csrf_token": token} if token else {})
            answer = office.client.post(path, data=data)
            assert answer.status_code == 400, (path, token, answer.status_code)
            assert "表单已失效" in text(answer.get_data(as_text=True)), path
            assert_security_headers(answer, path)
        assert snapshot(site) == before, f"{path} changed something without a CSRF token"
    assert office.get("/").status_code == 200, (
        "still signed in: /logout without a token did not sign out"
    )
    report(
        f"{len(forms)} form routes × 3 missing or forged tokens refused: "
        + ", ".join(f"POST {rule.rule}" for rule in forms)
    )


# --- headers on every kind of response ----------------------------------------------------------


def test_every_page_api_answer_and_file_carries_the_security_headers(site, visitor, report):
    rectification = register_hazard(visitor, site)
    east = visitor("east@example.org")
    plan = task_of(site, "east@example.org")
    east.post(
        f"/tasks/{plan}/complete",
        {"note": "见附件", "evidence": (io.BytesIO(PNG), "照片.png")},
        content_type="multipart/form-data",
    )
    with wiring_of(site).transaction(readonly=True) as session:
        evidence = session.scalar(select(EvidenceFile.id))
    ids = {
        "campaign_id": site.campaign_id,
        "task_id": plan,
        "rectification_id": rectification,
        "item_id": plan,
        "evidence_id": evidence,
    }
    office, anonymous = visitor("office@example.org"), visitor()
    checked = 0
    for rule in rules(site, "GET", pages_only=False):
        path = url_for_rule(rule, ids)
        for who, person in (("office", office), ("anonymous", anonymous)):
            answer = person.get(path)
            assert answer.status_code < 500, (path, who, answer.status_code)
            assert_security_headers(answer, f"GET {path} as {who}")
            checked += 1
    download = east.get(f"/evidence/{evidence}")
    # a photo is served as stored: re-encoded as JPEG
    assert download.status_code == 200 and download.data.startswith(b"\xff\xd8\xff")
    assert "sandbox" in download.headers["Content-Security-Policy"], (
        "an evidence file may run nothing"
    )

    errors = {
        "page 404": office.get("/no-such-page"),
        "API 404": office.get("/api/v1/no-such-thing"),
        "page 405": office.get(f"/campaigns/{site.campaign_id}/hand-over"),
        "API 405": office.client.get("/api/v1/tasks/1/complete"),
        "API 401": anonymous.get("/api/v1/me"),
        "page 400 (CSRF)": office.client.post("/inbox/check-off", data={}),
        "API 400": office.client.post(
            "/api/v1/tasks/1/complete", data="{", content_type="application/json"
        ),
        "page 413": office.client.post(
            f"/campaigns/{site.campaign_id}/hazards", data={"description": "x" * (2 * 1024 * 1024)}
        ),
        "page 404 (too large an id)": office.get("/tasks/99999999999999999999"),
    }
    for where, answer in errors.items():
        assert answer.status_code in (400, 401, 404, 405, 413), (where, answer.status_code)
        assert_security_headers(answer, where)
    report(
        f"{checked} GET responses of {len(rules(site, 'GET', pages_only=False))} routes, "
        f"the evidence download and {len(errors)} error answers carry the headers"
    )


def test_an_unexpected_error_is_answered_with_the_security_headers_too(site):
    app = create_app(dict(site.config))
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error handler answers

    def boom():
        raise RuntimeError("SELECT secret FROM nowhere")

    app.add_url_rule("/boom", view_func=boom)
    app.add_url_rule("/api/v1/boom", endpoint="api_boom", view_func=boom)
    client = app.test_client()
    for path in ("/boom", "/api/v1/boom"):
        answer = client.get(path)
        assert answer.status_code == 500
        assert "secret" not in answer.get_data(as_text=True)
        assert_security_headers(answer, f"500 at {path}")
    wiring_of(app).engine.dispose()


# --- markup people typed is text ----------------------------------------------------------------


class MarkupAudit(HTMLParser):
    """What a browser would run in a page: script elements and event-handler attributes, and every <img>."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self.images: list[dict[str, str | None]] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handlers += [(tag, name) for name, _value in attrs if name.startswith("on")]
        if tag == "img":
            self.images.append(dict(attrs))
        self._in_script = tag == "script"
        if tag == "script":
            self.scripts.append(dict(attrs).get("src") or "")

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.scripts.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def assert_shown_as_text(html: str, *payloads: str, where: str) -> None:
    audit = MarkupAudit()
    audit.feed(html)
    assert audit.handlers == [], f"{where}: event handlers in the page: {audit.handlers}"
    assert not any("alert" in script for script in audit.scripts), f"{where}: {audit.scripts}"
    assert all(script.startswith("/static/") for script in audit.scripts if script), (
        where,
        audit.scripts,
    )
    assert not any(image.get("src") == "x" for image in audit.images), (
        f"{where}: an <img> from the text"
    )
    shown = text(html)
    for payload in payloads:
        assert payload in shown, f"{where}: {payload!r} is not shown as text"


def test_markup_in_a_hazard_and_in_a_task_title_and_note_is_shown_as_text_on_every_page_that_shows_it(
    site, visitor, sessions, clock
):
    rectification = register_hazard(
        visitor, site, location=ATTRIBUTE_BREAK, temporary_measures=SCRIPT
    )
    west_plan = task_of(site, "west@example.org")
    west = visitor("west@example.org")
    assert west.post(f"/tasks/{west_plan}/complete", {"note": ATTRIBUTE_BREAK}).status_code == 302
    east = visitor("east@example.org")
    assert east.post(f"/rectifications/{rectification}/submit", {"note": SCRIPT}).status_code == 302
    office = visitor("office@example.org")
    rejected = office.post(
        f"/rectifications/{rectification}/reject", {"reason": SCRIPT, "working_days": "1"}
    )
    assert rejected.status_code == 302
    # five weeks on (the app's clock is the test's): the hazard and the plans are overdue, escalated to the leader
    clock.instant = shanghai(2026, 6, 10, 9)
    run_sweep(sessions, clock=clock, mailer=None, base_url="http://pingan.test")

    campaign = site.campaign_id
    pages = {
        ("hazard register", "office@example.org", f"/campaigns/{campaign}/hazards"): (
            SCRIPT,
            ATTRIBUTE_BREAK,
        ),
        ("rectification page", "office@example.org", f"/rectifications/{rectification}"): (
            SCRIPT,
            ATTRIBUTE_BREAK,
        ),
        ("rectification page", "east@example.org", f"/rectifications/{rectification}"): (SCRIPT,),
        ("inbox", "east@example.org", "/"): (SCRIPT, TASK_TITLE),
        ("leader view", "leader@example.org", "/leader"): (SCRIPT, TASK_TITLE, CAMPAIGN_TITLE),
        ("campaign page", "office@example.org", f"/campaigns/{campaign}"): (
            CAMPAIGN_TITLE,
            TASK_TITLE,
        ),
        ("escalation log", "office@example.org", f"/campaigns/{campaign}/escalations"): (
            SCRIPT,
            TASK_TITLE,
        ),
        ("task page", "office@example.org", f"/tasks/{west_plan}"): (TASK_TITLE, ATTRIBUTE_BREAK),
        ("done", "west@example.org", "/done"): (TASK_TITLE, ATTRIBUTE_BREAK),
        ("campaign list", "office@example.org", "/campaigns"): (CAMPAIGN_TITLE,),
    }
    for (name, email, path), payloads in pages.items():
        assert_shown_as_text(visitor(email).page(path), *payloads, where=f"{name} ({email})")

    refused = office.post(f"/campaigns/{campaign}/advance")
    assert refused.status_code == 302, "the open plans block the phase"
    assert_shown_as_text(
        office.page(refused.headers["Location"]),
        TASK_TITLE,
        where="advance refused, back to the campaign page with its blockers",
    )


def test_markup_stays_plain_text_in_the_mails_and_json_text_in_the_api(
    site, visitor, sessions, smtp
):
    rectification = register_hazard(visitor, site, temporary_measures=ATTRIBUTE_BREAK)
    run_sweep(
        sessions,
        clock=FixedClock(shanghai(2026, 5, 25, 9)),
        mailer=mailer_from_env(dict(os.environ)),
        base_url="http://pingan.test",
    )
    with sessions() as session:
        bodies = [
            mail.body
            for mail in session.scalars(select(OutboxMail).where(OutboxMail.body.contains(SCRIPT)))
        ]
    assert bodies, "the hazard mail and its escalations carry the description"
    assert all("&lt;" not in body and "&#34;" not in body for body in bodies), (
        "plain text is not HTML-escaped"
    )
    delivered = [message for message in smtp.messages if SCRIPT in message["body"]]
    # the sink decodes a single text part: a multipart (HTML) message would not have a body to read
    assert len(delivered) == len(bodies)
    assert any(TASK_TITLE in message["body"] for message in smtp.messages), (
        "overdue-task mails name the task"
    )

    token = _token(sessions, "office@example.org")
    answer = site.test_client().get(
        f"/api/v1/rectifications/{rectification}", headers={"Authorization": f"Bearer {token}"}
    )
    assert (
        answer.mimetype == "application/json"
        and answer.headers["X-Content-Type-Options"] == "nosniff"
    )
    assert (answer.json["description"], answer.json["temporary_measures"]) == (
        SCRIPT,
        ATTRIBUTE_BREAK,
    )


def _token(sessions, email: str) -> str:
    with sessions.begin() as session:
        return issue_token(session, email, shanghai(2026, 5, 1, 9))
