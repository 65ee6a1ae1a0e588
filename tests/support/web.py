"""The pages as a person in a browser meets them: the app over a started campaign, a signed-in ``Visitor``
(Flask's test client, the sign-in form, CSRF tokens), a page's text as a reader sees it, and the engine's moves
that set a page up (a hazard registered, a phase's work done)."""

from __future__ import annotations

import io
import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask import Flask
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.routing import AnyConverter, IntegerConverter
from werkzeug.security import generate_password_hash

from tests.support.actions import BASE_URL, OPERATOR, start
from tests.support.clock import shanghai
from tests.support.texts import TOWN_WITH_CROSSING
from webapp import create_app, wiring_of
from workflow.calendar import WorkingCalendar
from workflow.campaigns.tasks import complete_task
from workflow.clock import FixedClock
from workflow.definitions.reader import parse_definition
from workflow.hazards.rectifications import HazardReport, register_hazard
from workflow.machines import TASK_SETTLED_STATES
from workflow.models import Campaign, Person, Task
from workflow.organisation.directory import import_organisation, person_by_email
from workflow.organisation.org_file import parse_organisation


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 60, 40)).save(out, "PNG")
    return out.getvalue()


PASSWORD = "correct horse"
# a real photo, if a small one: the evidence upload decodes it (workflow/field/photos.py) and stores
# it re-encoded as JPEG
PNG = _png()


def give_everyone_a_password(session: Session, password: str = PASSWORD) -> None:
    """Everyone of the organisation signs in with ``password``, under a cheap hash: these tests sign in often, and
    the app accepts any Werkzeug hash."""
    cheap = generate_password_hash(password, method="pbkdf2:sha256:1000")
    for person in session.scalars(select(Person)):
        person.password_hash = cheap
        person.must_change_password = False


def started_site(
    db_url: str,
    sessions: sessionmaker[Session],
    clock: FixedClock,
    tmp_path: Path,
    definition_text: str,
    opens_at: datetime | None = None,
) -> Flask:
    """The app over the town's campaign of ``definition_text`` (``TOWN_WITH_CROSSING``), started on the clock's day;
    everyone can sign in with ``PASSWORD``. With ``opens_at``, the clock is moved there before the app opens."""
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_CROSSING, "org.yaml"))
        give_everyone_a_password(session)
    campaign_id = start(
        sessions, parse_definition(definition_text, "definition.yaml"), clock, WorkingCalendar()
    )
    if opens_at is not None:
        clock.instant = opens_at
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "CLOCK": clock,
            "SECRET_KEY": "test",
            "BASE_URL": BASE_URL,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "LOGIN_CLOCK": FixedClock(clock.now()),
        }
    )
    app.campaign_id = campaign_id  # type: ignore[attr-defined]
    return app


class Visitor:
    """A browser of one person: signs in through the sign-in form and posts forms with their CSRF token."""

    def __init__(self, client):
        self.client = client

    def csrf_token(self, path: str = "/login") -> str:
        page = self.client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    def sign_in(self, email: str, password: str = PASSWORD, next_path: str | None = None, **extra):
        query = f"?next={next_path}" if next_path is not None else ""
        data = {"email": email, "password": password, "csrf_token": self.csrf_token(), **extra}
        return self.client.post(f"/login{query}", data=data)

    def get(self, path: str):
        return self.client.get(path)

    def post(self, path: str, data: dict | None = None, **options):
        return self.client.post(
            path, data={"csrf_token": self.csrf_token("/"), **(data or {})}, **options
        )

    def page(self, path: str) -> str:
        answer = self.client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        return answer.get_data(as_text=True)


def text(html: str, element_id: str | None = None) -> str:
    """What a reader sees (of one element, by id): the text without tags, spaces collapsed."""
    reader = _TextReader(element_id)
    reader.feed(html)
    return " ".join("".join(reader.parts).split())


def task_id(site: Flask, email: str, spec: str) -> int:
    """The id of the task ``spec`` assigned to ``email`` in the site's database."""
    with wiring_of(site).transaction(readonly=True) as session:
        person = person_by_email(session, email).id
        return session.scalar(
            select(Task.id).where(Task.assignee_id == person, Task.spec_key == spec)
        )


def register(app: Flask, description: str = "道口护栏损坏", **changes: object) -> int:
    """A hazard at 3号道口 for east's head, due in 3 working days, registered by the operator on 2026-05-01
    (``changes``: other fields of the report, ``site=None`` for none)."""
    fields: dict[str, object] = {
        "site": "crossing-3",
        "responsible": "east@example.org",
        "deadline_working_days": 3,
        **changes,
    }
    report = HazardReport(description=description, **fields)  # type: ignore[arg-type]
    clock = FixedClock(shanghai(2026, 5, 1, 10))
    with wiring_of(app).transaction() as session:
        return register_hazard(
            session,
            app.campaign_id,
            report,
            by=OPERATOR,
            clock=clock,  # type: ignore[attr-defined]
            calendar=WorkingCalendar(),
            base_url=BASE_URL,
        ).id


def finish_the_phase(site: Flask) -> None:
    """Every required task of the campaign's current phase checked off by the operator: nothing but
    an open major hazard keeps the campaign there now."""
    wiring = wiring_of(site)
    with wiring.transaction() as session:
        campaign = session.get(Campaign, site.campaign_id)  # type: ignore[attr-defined]
        for task in session.scalars(
            select(Task).where(
                Task.campaign_id == campaign.id,
                Task.phase_key == campaign.state,
                Task.required.is_(True),
                Task.state.not_in(TASK_SETTLED_STATES),
            )
        ):
            complete_task(session, task.id, by=OPERATOR, clock=wiring.clock)


def url_for_rule(rule: Any, ids: dict[str, Any]) -> str:
    """A path of ``rule`` with the real ids of the test where it names one (1 or "x" where it names another)."""
    values: dict[str, Any] = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if name in ids:
            values[name] = ids[name]
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        elif name == "filename":
            values[name] = "app.css"
        else:
            values[name] = "x"
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(value), path)
    return path


class _TextReader(HTMLParser):
    VOID = {"input", "br", "img", "meta", "link", "hr"}

    def __init__(self, element_id: str | None) -> None:
        super().__init__()
        self.element_id, self.depth, self.parts = element_id, 0 if element_id else 1, []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.element_id:
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth and self.element_id:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data + " ")
