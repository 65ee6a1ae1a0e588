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
them. A refused answer changes nothing in the database, and no answer names to an administrator a person outside
what they administer (``HIDDEN``).

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
from tests.support.databases import every_row
from tests.support.rosters import xlsx
from tests.support.texts import RAILWAY, RIVER_TOWN
from tests.support.web import PASSWORD, Visitor
from webapp import wiring_of
from workflow.models import Person, PersonRole, Site, Unit
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
# what an answer must never name to these administrators: the people outside what they administer
HIDDEN = {
    "admin_village": ("张组长", "赵主任", "leader@example.org", "周村长", "西村"),
    "admin_other": ("张组长", "赵主任", "李村长", "east@example.org"),
}


@dataclass(frozen=True)
class Row:
    """One route: its method and path (``{town}``-style ids from ``AdminWorld.ids``), and each persona's outcome.

    ``form`` is posted (values formatted with the ids); ``files`` names form fields whose value is a file
    ``(bytes, filename)``; ``shows`` is a text an allowed page must contain (or one per persona); ``prepare`` runs before the route.
    """

    method: str
    path: str
    outcomes: dict[str, Any]
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    shows: str | dict[str, str] | None = None
    prepare: tuple[Callable[[AdminWorld], None], ...] = ()

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


def row(method: str, path: str, *cells: Any, **options: Any) -> Row:
    """A row with one outcome per persona, in ``PERSONAS``' order."""
    assert len(cells) == len(PERSONAS), (method, path)
    return Row(method, path, dict(zip(PERSONAS, cells)), **options)


NEW_PERSON = {
    "name": "钱新人",
    "email": "new@example.org",
    "unit": "{town}",
    "phone": "13900139000",
}
NEW_UNIT = {"code": "east-group-1", "name": "东村一组"}
NEW_SITE = {"code": "crossing-9", "name": "9号道口", "responsible": ""}
LEADER_RENAMED = {"name": "张组长", "title": "镇长", "email": "leader@example.org", "phone": ""}


def newcomer_takes_east_s_post(world: AdminWorld) -> None:
    """东村 elected a new head, 孙新村长, who holds village_head already (the hand-over moves the old head's work)."""
    world.ids["newcomer"] = world.add_person(
        "newcomer@example.org", "孙新村长", "east-village", ["village_head"]
    )


def east_s_head_administers_east(world: AdminWorld) -> None:
    with wiring_of(world.site).transaction() as session:
        grant_administrator(
            session,
            "east@example.org",
            "east-village",
            by=OPERATOR,
            now=wiring_of(world.site).clock.now(),
        )


def east_admin_is_known(world: AdminWorld) -> None:
    """东村's administrator, a person of 东村: who stands in for its head."""
    with wiring_of(world.site).transaction(readonly=True) as session:
        world.ids["east_admin"] = session.scalar(
            select(Person.id).where(Person.email == EMAILS["admin_village"])
        )


def someone_of_east_left(world: AdminWorld) -> None:
    world.ids["gone"] = world.add_person(
        "gone@example.org", "周离开", "east-village", [], active=False
    )


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

# a roster of 铁路镇 with one person added (tests/web/test_roster_page.py has the flows)
ROSTER = xlsx(("新镇干部", "", "town", "", "new-town@example.org", ""))


def roster_uploaded(world: AdminWorld) -> None:
    """铁路镇's administrator has uploaded ``ROSTER`` and seen its preview: ``roster_file`` and
    ``roster_fingerprint`` are what the preview's apply form carries."""
    admin = world.visitor("admin_here")
    answer = admin.post(
        "/admin/roster",
        {"unit": str(world.ids["town"]), "file": (io.BytesIO(ROSTER), "roster.xlsx")},
        content_type="multipart/form-data",
    )
    world.ids["roster_file"] = answer.headers["Location"].rsplit("/", 1)[-1]
    page = admin.page(answer.headers["Location"])
    world.ids["roster_fingerprint"] = re.search(r'name="fingerprint"[^>]*value="(\w+)"', page)[1]


MATRIX = [
    row("GET", "/admin", PAGE, PAGE, PAGE, *NOT_ADMIN, shows="管理"),
    # the official calendar is kept by a top unit's administrators (tests/web/test_calendar_page.py)
    row("GET", "/admin/calendar", PAGE, 403, PAGE, *NOT_ADMIN),
    # an empty form: sent back to the page with a message, nothing entered
    row("POST", "/admin/calendar", 302, 403, 302, *NOT_ADMIN, form={}),
    # people: a village's administrator reaches the village's people only, never the town's own
    row(
        "GET",
        "/admin/people",
        PAGE,
        PAGE,
        PAGE,
        *NOT_ADMIN,
        shows={"admin_here": "张组长", "admin_village": "李村长", "admin_other": "韩村长"},
    ),
    row("POST", "/admin/people", DONE, 403, 403, *NOT_ADMIN, form=NEW_PERSON),
    row("GET", "/admin/people/{leader_id}", PAGE, 403, 403, *NOT_ADMIN, shows="张组长"),
    row("GET", "/admin/people/{east_head}", PAGE, PAGE, 403, *NOT_ADMIN, shows="李村长"),
    row("POST", "/admin/people/{leader_id}", DONE, 403, 403, *NOT_ADMIN, form=LEADER_RENAMED),
    row(
        "POST",
        "/admin/people/{leader_id}/roles",
        DONE,
        403,
        403,
        *NOT_ADMIN,
        form={"role": "deputy"},
    ),
    row("POST", "/admin/people/{east_head}/roles/{head_role}/remove", DONE, DONE, 403, *NOT_ADMIN),
    row(
        "POST",
        "/admin/people/{newcomer}/hand-over",
        DONE,
        DONE,
        403,
        *NOT_ADMIN,
        form={"role": "village_head", "previous": "{east_head}"},
        prepare=(newcomer_takes_east_s_post,),
    ),
    row("POST", "/admin/people/{east_head}/reset", DONE, DONE, 403, *NOT_ADMIN),
    # stand-ins while away (代理) named for a person of the administrator's units
    row("GET", "/admin/people/{east_head}/stand-ins", PAGE, PAGE, 403, *NOT_ADMIN, shows="李村长"),
    row(
        "POST",
        "/admin/people/{east_head}/stand-ins",
        DONE,
        DONE,
        403,
        *NOT_ADMIN,
        form={"stand_in": "{east_admin}", "starts_on": "2026-05-13", "ends_on": "2026-05-14"},
        prepare=(east_admin_is_known,),
    ),
    # administration is granted for a unit the granting administrator administers
    row(
        "POST",
        "/admin/people/{east_head}/administers",
        DONE,
        DONE,
        403,
        *NOT_ADMIN,
        form={"unit": "{east}"},
    ),
    row(
        "POST",
        "/admin/people/{leader_id}/administers",
        DONE,
        403,
        403,
        *NOT_ADMIN,
        form={"unit": "{town}"},
    ),
    row(
        "POST",
        "/admin/people/{east_head}/administers/{east}/remove",
        DONE,
        DONE,
        403,
        403,
        DONE,  # east's head administers east here: he may end his own grant
        403,
        403,
        SIGN_IN,
        prepare=(east_s_head_administers_east,),
    ),
    row(
        "POST",
        "/admin/people/{east_head}/deactivate",
        DONE,
        DONE,
        403,
        *NOT_ADMIN,
        form={"successor": "{newcomer}"},
        prepare=(newcomer_takes_east_s_post,),
    ),
    row(
        "POST",
        "/admin/people/{gone}/reactivate",
        DONE,
        DONE,
        403,
        *NOT_ADMIN,
        prepare=(someone_of_east_left,),
    ),
    # units and key sites: what a village's administrator adds or renames stays inside the village
    row(
        "GET",
        "/admin/units",
        PAGE,
        PAGE,
        PAGE,
        *NOT_ADMIN,
        shows={"admin_here": "西村", "admin_village": "3号道口", "admin_other": "渡口村"},
    ),
    row("POST", "/admin/units/{town}/units", DONE, 403, 403, *NOT_ADMIN, form=NEW_UNIT),
    row("POST", "/admin/units/{east}/units", DONE, DONE, 403, *NOT_ADMIN, form=NEW_UNIT),
    row("POST", "/admin/units/{town}", DONE, 403, 403, *NOT_ADMIN, form={"name": "铁路镇人民政府"}),
    row("POST", "/admin/units/{east}/sites", DONE, DONE, 403, *NOT_ADMIN, form=NEW_SITE),
    row(
        "POST",
        "/admin/sites/{crossing}",
        DONE,
        DONE,
        403,
        *NOT_ADMIN,
        form={"name": "3号道口（东）"},
    ),
    # rosters: a village's administrator, or another town's, is refused 铁路镇's
    row("GET", "/admin/roster", PAGE, PAGE, PAGE, *NOT_ADMIN),
    row(
        "POST",
        "/admin/roster",
        302,
        403,
        403,
        *NOT_ADMIN,
        form={"unit": "{town}"},
        files={"file": (ROSTER, "roster.xlsx")},
    ),
    row(
        "GET",
        "/admin/roster/{town}/preview/{roster_file}",
        PAGE,
        403,
        403,
        *NOT_ADMIN,
        prepare=(roster_uploaded,),
        shows="new-town@example.org",
    ),
    row(
        "POST",
        "/admin/roster/{town}/apply",
        DONE,
        403,
        403,
        *NOT_ADMIN,
        form={"file": "{roster_file}", "fingerprint": "{roster_fingerprint}"},
        prepare=(roster_uploaded,),
    ),
    row("GET", "/admin/roster/{town}/export.xlsx", PAGE, 403, 403, *NOT_ADMIN),
    row("GET", "/admin/roster/{town}/export.yaml", PAGE, 403, 403, *NOT_ADMIN, shows="铁路镇"),
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
                "head_role": "village_head",
                "crossing": session.scalar(select(Site.id).where(Site.code == "crossing-3")),
                "definition": "safe-railway-api",
                "version": 1,
            }

    def add_person(
        self, email: str, name: str, unit: str, roles: list[str], active: bool = True
    ) -> int:
        with wiring_of(self.site).transaction() as session:
            unit_id = session.scalar(select(Unit.id).where(Unit.code == unit))
            person = Person(email=email, name=name, unit_id=unit_id, active=active)
            session.add(person)
            session.flush()
            session.add_all(PersonRole(person_id=person.id, role=role) for role in roles)
            return person.id

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
    before = every_row(world.sessions)
    for persona, outcome in route.outcomes.items():
        if outcome == DONE:
            continue
        answer = send(world.visitor(persona), route, path, world.ids, persona)
        where = (route.name, persona)
        if outcome == PAGE:
            assert answer.status_code == 200, (*where, answer.status_code)
            shows = route.shows.get(persona) if isinstance(route.shows, dict) else route.shows
            assert shows is None or shows in answer.get_data(as_text=True), (*where, shows)
        elif outcome == SIGN_IN:
            assert answer.status_code == 302, where
            assert answer.headers["Location"].startswith("/login"), where
        else:
            assert answer.status_code == outcome, (*where, answer.status_code)
        body = answer.get_data().decode("utf-8", "replace")  # an export may be XLSX, not text
        assert [name for name in HIDDEN.get(persona, ()) if name in body] == [], where
        assert every_row(world.sessions) == before, f"{where}: the answer changed the database"


ALLOWED = [
    (route, p) for route in MATRIX for p, outcome in route.outcomes.items() if outcome == DONE
]


@pytest.mark.parametrize("route, persona", ALLOWED, ids=[f"{r.name} as {p}" for r, p in ALLOWED])
def test_each_administrator_allowed_a_form_can_use_it(world, route, persona):
    """An allowed form, each in a world of its own: it answers with a redirect and leaves a trace."""
    for prepare in route.prepare:
        prepare(world)
    before = every_row(world.sessions)
    answer = send(world.visitor(persona), route, route.path.format(**world.ids), world.ids, persona)
    assert answer.status_code in (302, 303), (route.name, persona, answer.status_code)
    assert every_row(world.sessions) != before, (route.name, persona, "the move left no trace")


def test_the_matrix_covers_every_admin_route(site):
    covered = {(r.method, _shape(r.path)) for r in MATRIX}
    routes = set()
    for rule in site.url_map.iter_rules():
        if rule.rule.startswith("/admin"):
            path = _shape(rule.rule)
            routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert sorted(routes - covered) == [], "admin routes without a row"
    assert sorted(covered - routes) == [], "rows of routes that no longer exist"
    # a route may have a row per target (the town's leader, east's head), never the same row twice
    assert len(MATRIX) == len({(r.method, r.path) for r in MATRIX}), "a row twice"


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


def _shape(path: str) -> str:
    return re.sub(r"<[^>]+>|\{\w*\}", "{}", path)


POSTS = [route for route in MATRIX if route.method == "POST"]


@pytest.mark.parametrize("route", POSTS, ids=[route.name for route in POSTS])
def test_every_administration_form_without_its_csrf_token_is_refused_and_changes_nothing(
    world, route
):
    """The administrator of the town, who may post every one of these forms, posts it without its CSRF token."""
    for prepare in route.prepare:
        prepare(world)
    visitor = world.visitor("admin_here")
    data: dict[str, Any] = {name: value.format(**world.ids) for name, value in route.form.items()}
    for name, (content, filename) in route.files.items():
        data[name] = (io.BytesIO(content), filename)
    before = every_row(world.sessions)
    answer = visitor.client.post(
        route.path.format(**world.ids), data=data, content_type="multipart/form-data"
    )
    assert answer.status_code == 400, (route.name, answer.status_code)
    assert every_row(world.sessions) == before
