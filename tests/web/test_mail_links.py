"""Every mail of a site links to one host: ``PINGAN_BASE_URL``, else one default for every process.

The mails are written the way a deployment writes them: by the app that
`pingan serve` builds (listening on a port of its own, which must not leak into
the links), by the WSGI app gunicorn loads, by `pingan` commands, by `pingan
sweep` and by a pass of `pingan scheduler`; all are delivered to a real SMTP
server, and every URL in every mail that arrives is read.
"""

from __future__ import annotations

import logging
import re
import runpy
from collections import Counter
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.support.processes import free_port
from tests.support.web import PASSWORD, Visitor, give_everyone_a_password
from webapp.config import DEFAULT_BASE_URL
from workflow.models import Task
from workflow.organisation.directory import person_by_email

URL = re.compile(r"https?://[^\s<>\"'）)]+")
# what the outbox key of each kind of mail starts with (workflow/: hazards, assessment, campaigns,
# petitions, escalation)
KINDS = {
    "hazard": "a hazard registered (the page)",
    "incident": "an incident to report at once (the page)",
    "reassign": "a task given to someone else (the page)",
    "handover": "a hand-over (the page, and `pingan person deactivate`)",
    "petition": "a letter or visit recorded (the API of the WSGI app)",
    "esc-L0": "a reminder before the deadline (`pingan sweep`)",
    "esc-L1": "the first level of escalation (`pingan sweep`)",
    "esc-L2": "the next level (`pingan sweep`)",
    "digest": "the daily digest (`pingan sweep`)",
    "late-phase": "a phase past its planned end (`pingan scheduler`)",
}
WARNING = "PINGAN_BASE_URL is not set"
SECRET = "0123456789abcdef" * 4


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    # what a link says does not depend on the database
    return sqlite_url


@pytest.fixture
def environment(cli_env, scenario, smtp, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """The assessed railway campaign (started 2026-05-04), everyone with a password; the processes'
    environment: this database, a secret key, the daily digest at 8, the SMTP server."""
    with scenario.sessions.begin() as session:
        give_everyone_a_password(session)
    monkeypatch.setenv("PINGAN_SECRET_KEY", SECRET)
    monkeypatch.setenv("PINGAN_DIGEST_HOUR", "8")
    monkeypatch.setenv("PINGAN_NOW", "2026-05-06T09:00")
    monkeypatch.delenv("PINGAN_ENV", raising=False)
    return scenario


@pytest.mark.parametrize("configured", ["", "http://pingan.example.org:8080"], ids=["unset", "set"])
def test_every_kind_of_mail_links_to_the_same_host(
    environment, pingan, smtp, monkeypatch, caplog, configured
):
    scenario = environment
    if configured:
        monkeypatch.setenv("PINGAN_BASE_URL", configured)
    else:
        monkeypatch.delenv("PINGAN_BASE_URL", raising=False)
    expected = configured or DEFAULT_BASE_URL
    caplog.set_level(logging.WARNING)
    campaign = f"/campaigns/{scenario.campaign}"

    # the app `pingan serve` runs, on a port that is not the default's
    served = serve_app(pingan, monkeypatch)
    office = Visitor(served.test_client())
    assert office.sign_in("office@example.org", PASSWORD).status_code == 302
    registered = office.post(
        f"{campaign}/hazards",
        {
            "description": "道口护栏损坏",
            "severity": "major",
            "unit": "east",
            "working_days": "3",
            "form_key": form_key(office.page(f"{campaign}/hazards")),
        },
    )
    assert registered.status_code == 302, registered.get_data(as_text=True)
    recorded = office.post(
        f"{campaign}/incidents",
        {
            "kind": "train-accident",
            "unit": "north",
            "occurred_on": "2026-05-05",
            "description": "列车撞击道口护栏",
            "form_key": form_key(office.page(f"{campaign}/incidents")),
        },
    )
    assert recorded.status_code == 302, recorded.get_data(as_text=True)
    plan = east_plan(scenario)
    given = office.post(
        f"/tasks/{plan}/reassign", {"to": "member@example.org", "next": f"/tasks/{plan}"}
    )
    assert given.status_code == 302
    handed = office.post(
        f"{campaign}/hand-over",
        {"leaving": "north@example.org", "successor": "deputy@example.org"},
    )
    assert handed.status_code == 302

    # the WSGI app gunicorn loads, through the API
    token = pingan("token", "office@example.org").stdout.strip()
    wsgi = runpy.run_module("webapp.wsgi")["app"]
    answer = wsgi.test_client().post(
        f"/api/v1{campaign}/petitions",
        json={"subject": "反映道口无人看守", "unit": "east", "deadline_working_days": 5},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.get_json()

    # commands, the sweep (reminders, levels, the digest, delivery) and the scheduler
    deactivated = pingan(
        "person", "deactivate", "west@example.org", "--hand-over-to", "rail@example.org"
    )
    assert deactivated.exit_code == 0, deactivated.output
    for day in ("2026-05-07", "2026-05-19"):  # before the hazard's deadline (05-11), and after
        swept = pingan("sweep", "--now", f"{day}T09:00")
        assert swept.exit_code == 0, swept.output
    one_scheduler_pass(pingan, monkeypatch, now="2026-07-10T09:00")

    arrived = Counter(kind_of(message) for message in smtp.messages)
    assert set(KINDS) <= set(arrived), {k: KINDS[k] for k in set(KINDS) - set(arrived)}
    links = [
        (kind_of(message), url)
        for message in smtp.messages
        for url in URL.findall(str(message["body"]))
    ]
    unlinked = [m["subject"] for m in smtp.messages if not URL.search(str(m["body"]))]
    assert unlinked == [], "a mail with nothing to open"
    assert {origin(url) for _kind, url in links} == {expected}, sorted(set(links))
    # and each link opens a page of the site
    pages = served.url_map.bind("pingan.test")
    for _kind, url in links:
        pages.match(urlsplit(url).path, method="GET")

    warned = [r.name for r in caplog.records if WARNING in r.getMessage()]
    if configured:
        assert warned == []
    else:
        # once by each process that starts: `pingan serve`, the WSGI app, `pingan scheduler`
        assert sorted(warned) == ["pingan.scheduler", "pingan.web", "pingan.web"]


def serve_app(pingan, monkeypatch):  # type: ignore[no-untyped-def]
    """The app `pingan serve --port N` builds and hands to waitress (which is not started)."""
    import waitress

    started = {}
    monkeypatch.setattr(waitress, "serve", lambda app, **options: started.update(app=app))
    port = free_port()
    assert port != urlsplit(DEFAULT_BASE_URL).port
    result = pingan("serve", "--host", "127.0.0.1", "--port", str(port))
    assert result.exit_code == 0, result.output
    return started["app"]


def one_scheduler_pass(pingan, monkeypatch, now: str) -> None:  # type: ignore[no-untyped-def]
    """`pingan scheduler` as it starts, running one pass as leader, then stopping."""
    import webapp.cli.scheduler
    import workflow.escalation.scheduler

    def once(pass_fn, **_options) -> None:  # type: ignore[no-untyped-def]
        assert "mails sent" in pass_fn()

    monkeypatch.setattr(workflow.escalation.scheduler, "run_scheduler", once)
    # the test process keeps its own signal handlers
    monkeypatch.setattr(webapp.cli.scheduler, "_stop_on_signals", lambda stop: None)
    result = pingan("scheduler", now=now)
    assert result.exit_code == 0, result.output


def east_plan(scenario) -> int:  # type: ignore[no-untyped-def]
    with scenario.sessions() as session:
        east = person_by_email(session, "east@example.org").id
        return session.scalar(select(Task.id).where(Task.assignee_id == east))


def form_key(page: str) -> str:
    keys = re.findall(r'name="form_key"[^>]*value="([^"]+)"', page)
    assert len(keys) == 1, keys
    return keys[0]


def kind_of(message: dict[str, object]) -> str:
    """The kind of a mail, from its Message-ID (built from the outbox key, workflow/mail/outbox.py)."""
    key = str(message["message_id"]).strip("<>").split("@")[0]
    if key.startswith("esc-"):
        return key[:6]
    return re.split(r"-(?:\d|p\d|roles|task|rect)", key, maxsplit=1)[0]


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
