"""The administration pages' authorisation matrix (issue #18): every ``/admin`` route × every kind of person, on
SQLite and PostgreSQL.

The world is the town's campaign (``site``: 铁路镇 with 东村, 西村, 北村) and another town, 河口镇 (``RIVER_TOWN``).
Three administrators are added: ``admin_here`` administers 铁路镇 (and so its villages), ``admin_village``
administers 东村 only, ``admin_other`` administers 河口镇. The campaign's own people keep their roles: the office
director is a coordinator, east's head an assignee, the leader a leader; ``outsider`` is 河口镇's office director,
with no grant.

Each cell says what the person gets: ``PAGE`` (200), ``DONE`` (the form does what it says: a redirect, and the
database changed), ``SIGN_IN`` (sent to sign in), or a status (403: not theirs to administer). A village's
administrator cannot touch the town above it: every route about 铁路镇 itself or its town-level people refuses
them. A refused answer changes nothing in the database and names none of the refused unit's people.

Routes are rows of ``MATRIX``; a route added under ``/admin`` without a row fails
``test_the_matrix_covers_every_admin_route``.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from tests.support.actions import OPERATOR
from tests.support.texts import RAILWAY, RIVER_TOWN
from tests.support.web import PASSWORD, Visitor
from webapp import wiring_of
from workflow.models import Base, Person, Unit
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation
from workflow.people.administrators import grant_administrator

PAGE, DONE, SIGN_IN = "page", "done", "sign in"
PERSONAS = (
    "admin_here",
    "admin_village",
    "admin_other",
    "coordinator",
    "assignee",
    "leader",
    "outsider",
    "anonymous",
)
EMAILS = {
    "admin_here": "town-admin@example.org",
    "admin_village": "east-admin@example.org",
    "admin_other": "river-admin@example.org",
    "coordinator": "office@example.org",
    "assignee": "east@example.org",
    "leader": "leader@example.org",
    "outsider": "outsider@example.org",
    "anonymous": None,
}
# the administrators' grants: (person, unit, name)
ADMINISTRATORS = {
    "admin_here": ("town", "镇管理员"),
    "admin_village": ("east-village", "东村管理员"),
    "admin_other": ("river-town", "河口镇管理员"),
}
# what a refused answer must not name: the town's own people (a village's administrator asks about the town)
TOWN_SECRETS = ("张组长", "赵主任", "leader@example.org")


@dataclass(frozen=True)
class Row:
    """One route: its method and path (``{town}``-style ids from ``AdminWorld.ids``), and each persona's outcome.

    ``form`` is posted (values formatted with the ids); ``files`` names form fields whose value is a file
    ``(bytes, filename)``; ``shows`` is a text an allowed page must contain; ``prepare`` runs before the route.
    """

    method: str
    path: str
    outcomes: dict[str, Any]
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    shows: str | None = None
    prepare: tuple[Callable[[AdminWorld], None], ...] = ()

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


def row(method: str, path: str, *cells: Any, **options: Any) -> Row:
    """A row with one outcome per persona, in ``PERSONAS``' order."""
    assert len(cells) == len(PERSONAS), (method, path)
    return Row(method, path, dict(zip(PERSONAS, cells)), **options)


# a definition uploaded and stored through the pages
UPLOADED = RAILWAY.replace("id: safe-railway-test", "id: uploaded-matrix")
# a campaign of the site's definition for 铁路镇
START = {
    "definition": "safe-railway-api@1",
    "unit": "town",
    "starts": "2026-06-01",
    "form_key": "matrix-start-000000000",
}

# the refusal every non-administrator gets from every administration route
NOT_ADMIN = (403, 403, 403, 403, SIGN_IN)

MATRIX = [
    row("GET", "/admin", PAGE, PAGE, PAGE, *NOT_ADMIN, shows="管理"),
    # the official calendar is kept by a top unit's administrators (tests/web/test_calendar_page.py)
    row("GET", "/admin/calendar", PAGE, 403, PAGE, *NOT_ADMIN),
    # an empty form: sent back to the page with a message, nothing entered
    row("POST", "/admin/calendar", 302, 403, 302, *NOT_ADMIN, form={}),
    # definitions are every administrator's to read and upload; the campaigns listed are of their own units
    row("GET", "/admin/definitions", PAGE, PAGE, PAGE, *NOT_ADMIN, shows="safe-railway-api"),
    row(
        "GET",
        "/admin/definitions/{definition}/{version}",
        PAGE,
        PAGE,
        PAGE,
        *NOT_ADMIN,
        shows="宣传发动阶段",
    ),
    row("GET", "/admin/definitions/{definition}/{version}/download", PAGE, PAGE, PAGE, *NOT_ADMIN),
    # checking an upload writes nothing: its preview
    row(
        "POST",
        "/admin/definitions/upload",
        PAGE,
        PAGE,
        PAGE,
        *NOT_ADMIN,
        form={"starts": "2026-05-01"},
        files={"file": (UPLOADED.encode(), "new.yaml")},
        shows="uploaded-matrix",
    ),
    row(
        "POST",
        "/admin/definitions",
        DONE,
        DONE,
        DONE,
        *NOT_ADMIN,
        form={
            "text": base64.b64encode(UPLOADED.encode()).decode(),
            "form_key": "matrix-key-0000000000",
        },
    ),
    # starting: only for a unit the administrator administers (a village's cannot start for the town above)
    row("GET", "/admin/campaigns/new", PAGE, PAGE, PAGE, *NOT_ADMIN, shows="safe-railway-api"),
    row("POST", "/admin/campaigns/dry-run", PAGE, 403, 403, *NOT_ADMIN, form=START, shows="李村长"),
    row("POST", "/admin/campaigns", DONE, 403, 403, *NOT_ADMIN, form=START),
]


class AdminWorld:
    """The ``site`` app with 河口镇 imported and the three administrators granted; ``ids`` for the paths."""

    def __init__(self, site: Any) -> None:
        self.site = site
        wiring = wiring_of(site)
        self.sessions = wiring.sessions
        with wiring.transaction() as session:
            import_organisation(session, parse_organisation(RIVER_TOWN, "river.yaml"))
            units = {u.code: u for u in session.scalars(select(Unit))}
            cheap = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
            for persona, (unit, name) in ADMINISTRATORS.items():
                session.add(
                    Person(
                        email=EMAILS[persona],
                        name=name,
                        unit_id=units[unit].id,
                        password_hash=cheap,
                        active=True,
                    )
                )
            session.flush()
            outsider = session.scalar(select(Person).where(Person.email == EMAILS["outsider"]))
            outsider.password_hash = cheap
            now = wiring.clock.now()
            for persona, (unit, _name) in ADMINISTRATORS.items():
                grant_administrator(session, EMAILS[persona], unit, by=OPERATOR, now=now)
            people = {p.email: p.id for p in session.scalars(select(Person))}
            self.ids: dict[str, Any] = {
                "campaign": site.campaign_id,
                "town": units["town"].id,
                "east": units["east-village"].id,
                "river": units["river-town"].id,
                "leader_id": people["leader@example.org"],
                "east_head": people["east@example.org"],
                "ferry_head": people["ferry@example.org"],
                "definition": "safe-railway-api",
                "version": 1,
            }

    def visitor(self, persona: str) -> Visitor:
        person = Visitor(self.site.test_client())
        email = EMAILS[persona]
        if email:
            answer = person.sign_in(email)
            assert answer.status_code == 302, (persona, answer.get_data(as_text=True)[:300])
        return person


@pytest.fixture
def world(site):  # type: ignore[no-untyped-def]
    return AdminWorld(site)


@pytest.mark.parametrize("route", MATRIX, ids=[route.name for route in MATRIX])
def test_each_person_gets_what_the_table_says_and_a_refusal_changes_nothing(world, route):
    for prepare in route.prepare:
        prepare(world)
    path = route.path.format(**world.ids)
    before = snapshot(world.sessions)
    for persona, outcome in route.outcomes.items():
        if outcome == DONE:
            continue
        answer = send(world.visitor(persona), route, path, world.ids, persona)
        where = (route.name, persona)
        if outcome == PAGE:
            assert answer.status_code == 200, (*where, answer.status_code)
            assert route.shows is None or route.shows in answer.get_data(as_text=True), where
        elif outcome == SIGN_IN:
            assert answer.status_code == 302, where
            assert answer.headers["Location"].startswith("/login"), where
        else:
            assert answer.status_code == outcome, (*where, answer.status_code)
            body = answer.get_data(as_text=True)
            if persona == "admin_village":
                assert [s for s in TOWN_SECRETS if s in body] == [], where
        assert snapshot(world.sessions) == before, f"{where}: the answer changed the database"


ALLOWED = [
    (route, p) for route in MATRIX for p, outcome in route.outcomes.items() if outcome == DONE
]


@pytest.mark.parametrize("route, persona", ALLOWED, ids=[f"{r.name} as {p}" for r, p in ALLOWED])
def test_each_administrator_allowed_a_form_can_use_it(world, route, persona):
    """An allowed form, each in a world of its own: it answers with a redirect and leaves a trace."""
    for prepare in route.prepare:
        prepare(world)
    before = snapshot(world.sessions)
    answer = send(world.visitor(persona), route, route.path.format(**world.ids), world.ids, persona)
    assert answer.status_code in (302, 303), (route.name, persona, answer.status_code)
    assert snapshot(world.sessions) != before, (route.name, persona, "the move left no trace")


def test_the_matrix_covers_every_admin_route(site):
    covered = {(r.method, _shape(r.path)) for r in MATRIX}
    routes = set()
    for rule in site.url_map.iter_rules():
        if rule.rule.startswith("/admin"):
            path = _shape(rule.rule)
            routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert sorted(routes - covered) == [], "admin routes without a row"
    assert sorted(covered - routes) == [], "rows of routes that no longer exist"
    assert len(MATRIX) == len(covered), "one row per route"


# --- helpers ------------------------------------------------------------------------------------


def send(visitor: Visitor, route: Row, path: str, ids: dict[str, Any], persona: str) -> Any:
    if route.method == "GET":
        return visitor.get(path)
    data: dict[str, Any] = {name: value.format(**ids) for name, value in route.form.items()}
    for name, (content, filename) in route.files.items():
        data[name] = (io.BytesIO(content), filename)
    token = visitor.csrf_token("/" if EMAILS[persona] else "/login")
    return visitor.client.post(
        path, data={"csrf_token": token, **data}, content_type="multipart/form-data"
    )


def snapshot(sessions) -> dict[str, list[tuple[Any, ...]]]:  # type: ignore[no-untyped-def]
    """Every row of every table but the sign-in throttle's (a refused sign-in is counted there by design)."""
    with sessions() as session:
        return {
            table.name: [
                tuple(r)
                for r in session.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
            if table.name != "login_failures"
        }


def _shape(path: str) -> str:
    return re.sub(r"<[^>]+>|\{\w*\}", "{}", path)
