"""The API's authorisation matrix: for every route, the people whose role covers it succeed, everyone else gets
403 (or 404 where the item's existence is private), and a refused call changes nothing. SQLite and PostgreSQL.

The routes of incidents, letters and visits, scores and the report (``reports_api``) are tried on the assessed
railway campaign of ``tests.support.scenarios``, whose leading group has an inspecting member and two liaisons.

Among the people is ``outsider``, the office director of another campaign (``tests/web/test_web_access_matrix.py``): a
coordinator there, nobody here: every route of this campaign answers them 404, and nothing answered to them names
anything of it. The number of cells checked is printed at the end of the run."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from tests.support.api import HAZARD
from tests.support.databases import row_counts
from tests.support.scenarios import Scenario, start_another_campaign
from tests.support.terminal import print_past_capture
from tests.support.texts import LETTERED_RAILWAY
from workflow.campaigns.letters import issue_letter
from workflow.models import Letter, Site, Task
from workflow.organisation.directory import person_by_email
from workflow.organisation.tokens import issue_token

PEOPLE = ("leader", "deputy", "office", "east", "west", "keeper", "outsider")
# what the outsider must never be told: this campaign's title, units, task and hazard
SECRETS = ("平安铁路创建活动", "铁路镇", "东村", "西村", "北村", "道口", "制定创建活动计划")
# someone who takes no part in a campaign: its page is 404 to them, so a move on it should be 404 too; the keeper
# takes no part either, but holds a hazard of it: he reads the campaign (his own items only), and nothing more
KEEPER_HAZARD = {"description": "道口栏杆油漆剥落", "responsible": "keeper@example.org"}
# per database: the route × person cells asserted in this run
CELLS_CHECKED: Counter[str] = Counter()


class World:
    """One campaign with a hazard of east's, east's plan task and a hazard of the keeper's (who holds no role in
    it); ``ids`` for the paths."""

    def __init__(self, as_person, sessions, campaign_id):
        self.call = {who: as_person(f"{who}@example.org") for who in PEOPLE}
        self.sessions = sessions
        created = self.call["office"].post(f"/campaigns/{campaign_id}/hazards", HAZARD)
        assert created.status_code == 201, created.json
        keepers = self.call["office"].post(
            f"/campaigns/{campaign_id}/hazards", {**HAZARD, **KEEPER_HAZARD}
        )
        assert keepers.status_code == 201, keepers.json
        with sessions() as session:
            east = person_by_email(session, "east@example.org").id
            plan = session.scalar(
                select(Task.id).where(Task.assignee_id == east, Task.spec_key == "plan")
            )
            crossing = session.scalar(select(Site.id).where(Site.code == "crossing-3"))
        self.ids = {
            "campaign_id": campaign_id,
            "rectification_id": created.json["id"],
            "task_id": plan,
            "site_id": crossing,
        }

    def ok(self, who, method, path, body=None, status=200):
        answer = self.call[who].get(path) if method == "GET" else self.call[who].post(path, body)
        assert answer.status_code == status, (who, method, path, answer.json)
        return answer.json


# How each route is brought into a state where its move is possible: (who, method, path, body) calls.
SUBMIT = ("east", "POST", "/rectifications/{rectification_id}/submit", {"note": "已整改"})
ASK = (
    "east",
    "POST",
    "/rectifications/{rectification_id}/extensions",
    {"reason": "材料未到", "until": "2026-06-30"},
)

# the railway definition's default coordinators
COORDINATORS = {
    "office": 200,
    "leader": 200,
    "deputy": 200,
}

# method, path, body, the people it is for (and the status they get), preparation, what everyone else gets
MATRIX = [
    ("GET", "/me", None, {who: 200 for who in PEOPLE}, [], {}),
    ("GET", "/inbox", None, {who: 200 for who in PEOPLE}, [], {}),
    ("GET", "/done", None, {who: 200 for who in PEOPLE}, [], {}),
    ("GET", "/campaigns", None, {who: 200 for who in PEOPLE}, [], {}),
    (
        "GET",
        "/campaigns/{campaign_id}/hazards",
        None,
        {w: 200 for w in ("leader", "deputy", "office")},
        [],
        {"east": 404, "west": 404, "keeper": 404, "outsider": 404},
    ),
    ("GET", "/openapi.json", None, {who: 200 for who in PEOPLE}, [], {}),
    (
        "GET",
        "/campaigns/{campaign_id}",
        None,
        {w: 200 for w in ("leader", "deputy", "office", "east", "west", "keeper")},
        [],
        {"outsider": 404},
    ),
    (
        "GET",
        "/campaigns/{campaign_id}/escalations",
        None,
        {w: 200 for w in ("leader", "deputy", "office")},
        [],
        {"east": 404, "west": 404, "keeper": 404, "outsider": 404},
    ),
    # the levels below: this campaign cascades to none, so a coordinator's late start is refused
    # for what it asks (422), not for who asks
    (
        "GET",
        "/campaigns/{campaign_id}/sub-campaigns",
        None,
        {w: 200 for w in ("leader", "deputy", "office")},
        [],
        {"east": 404, "west": 404, "keeper": 404, "outsider": 404},
    ),
    (
        "POST",
        "/campaigns/{campaign_id}/sub-campaigns",
        {"unit": "east"},
        {w: 422 for w in ("leader", "deputy", "office")},
        [],
        {"east": 403, "west": 403, "keeper": 404, "outsider": 404},
    ),
    # a key site (3号道口, kept by east) and a check-in there: its keeper and the leading group
    (
        "GET",
        "/sites/{site_id}",
        None,
        {w: 200 for w in ("leader", "deputy", "office", "east")},
        [],
        {"west": 404, "keeper": 404, "outsider": 404},
    ),
    (
        "POST",
        "/sites/{site_id}/check-ins",
        {"note": "巡查正常", "latitude": 34.62, "longitude": 105.72},
        {w: 201 for w in ("leader", "deputy", "office", "east")},
        [],
        {"west": 404, "keeper": 404, "outsider": 404},
    ),
    (
        "GET",
        "/rectifications/{rectification_id}",
        None,
        {w: 200 for w in ("leader", "deputy", "office", "east")},
        [],
        {"west": 404, "keeper": 404, "outsider": 404},
    ),
    (
        "POST",
        "/campaigns/{campaign_id}/hazards",
        {**HAZARD, "description": "另一处隐患"},
        {"office": 201, "leader": 201, "deputy": 201},
        [],
        {"east": 403, "west": 403, "keeper": 404, "outsider": 404},
    ),
    (
        "POST",
        "/campaigns/{campaign_id}/advance",
        None,
        {"office": 409, "deputy": 409, "leader": 409},
        [],
        {"east": 403, "west": 403, "keeper": 404, "outsider": 404},
    ),
    (
        "POST",
        "/tasks/{task_id}/complete",
        {"note": "done"},
        {"east": 200, **COORDINATORS},
        [],
        {"west": 404, "keeper": 404, "outsider": 404},
    ),
    (
        "POST",
        "/tasks/{task_id}/reject",
        {"note": "缺少分工"},
        COORDINATORS,
        [("east", "POST", "/tasks/{task_id}/complete", {"note": "done"})],
        {"east": 403, "west": 404, "keeper": 404, "outsider": 404},
    ),
    (
        "POST",
        "/rectifications/{rectification_id}/submit",
        {"note": "已整改"},
        {"east": 200},
        [],
        {"office": 403, "leader": 403, "deputy": 403, "west": 404, "keeper": 404, "outsider": 404},
    ),
    (
        "POST",
        "/rectifications/{rectification_id}/verify",
        {"note": "合格"},
        COORDINATORS,
        [SUBMIT],
        {"east": 403, "west": 404, "keeper": 404, "outsider": 404},
    ),
    (
        "POST",
        "/rectifications/{rectification_id}/reject",
        {"reason": "仍松动", "deadline_working_days": 3},
        {"deputy": 200, "office": 200, "leader": 200},
        [SUBMIT],
        {"east": 403, "west": 404, "keeper": 404, "outsider": 404},
    ),
    (
        "POST",
        "/rectifications/{rectification_id}/reopen",
        {"reason": "回头看", "deadline_working_days": 3},
        {"leader": 200, "office": 200, "deputy": 200},
        [SUBMIT, ("office", "POST", "/rectifications/{rectification_id}/verify", None)],
        {"east": 403, "west": 404, "keeper": 404, "outsider": 404},
    ),
    (
        "POST",
        "/rectifications/{rectification_id}/extensions",
        {"reason": "材料未到", "until": "2026-06-30"},
        {"east": 201},
        [],
        {"office": 403, "leader": 403, "deputy": 403, "west": 404, "keeper": 404, "outsider": 404},
    ),
    (
        "POST",
        "/extensions/{extension_id}/approve",
        {"note": "同意"},
        COORDINATORS,
        [ASK],
        {"east": 403, "west": 404, "keeper": 404, "outsider": 404},
    ),
    (
        "POST",
        "/extensions/{extension_id}/refuse",
        {"note": "不同意"},
        {"deputy": 200, "office": 200, "leader": 200},
        [ASK],
        {"east": 403, "west": 404, "keeper": 404, "outsider": 404},
    ),
    # many items at once: each item's refusal is its outcome in a 200 (tests/api/test_decisions_api.py
    # shows a refused caller changes nothing, and what a coordinator's batch decides)
    (
        "POST",
        "/decisions",
        {"items": [{"kind": "task", "id": 1, "state": "done"}], "decision": "verify"},
        {who: 200 for who in PEOPLE},
        [],
        {},
    ),
]


@pytest.fixture
def another_campaign(sessions, clock, calendar, campaign):
    """The campaign over another town whose office director is ``outsider@example.org``."""
    return start_another_campaign(sessions, clock, calendar)


@pytest.fixture(scope="module", autouse=True)
def cells_report(request):
    """After the module's last test: how many route × person cells were checked (the issue's closing note quotes it)."""
    yield
    routes, people = len(MATRIX) + len(REPORT_MATRIX), f"{len(PEOPLE)} or {len(REPORT_PEOPLE)}"
    print_past_capture(
        request,
        [
            f"api: {routes} routes × {people} people; cells checked on {database}: {count}"
            for database, count in sorted(CELLS_CHECKED.items())
        ],
    )


def database(db_url):
    return "sqlite" if db_url.startswith("sqlite") else "postgresql"


def assert_tells_the_outsider_nothing(who, answer, where):
    if who == "outsider":
        told = [secret for secret in SECRETS if secret in answer.get_data(as_text=True)]
        assert told == [], f"{where}: the outsider learns {told}"


def prepared(world, preparation):
    for who, step_method, step_path, step_body in preparation:
        answer = world.ok(
            who,
            step_method,
            step_path.format(**world.ids),
            step_body,
            status=201 if step_path.endswith("extensions") else 200,
        )
        if step_path.endswith("extensions"):
            world.ids["extension_id"] = answer["id"]
    return world


@pytest.mark.parametrize(
    "method, path, body, allowed, preparation, refused",
    MATRIX,
    ids=[f"{m} {p}" for m, p, *_ in MATRIX],
)
def test_each_route_is_for_the_roles_it_covers(
    as_person,
    sessions,
    campaign,
    another_campaign,
    db_url,
    method,
    path,
    body,
    allowed,
    preparation,
    refused,
):
    world = prepared(World(as_person, sessions, campaign), preparation)
    target = path.format(**world.ids)
    assert sorted([*allowed, *refused]) == sorted(PEOPLE), "every person is accounted for, once"

    before = row_counts(sessions)
    for who, status in refused.items():
        answer = (
            world.call[who].get(target) if method == "GET" else world.call[who].post(target, body)
        )
        assert answer.status_code == status, (who, answer.json)
        assert answer.json["error"] in ("forbidden", "not_found")
        assert "道口" not in answer.json["message"], "nothing of the item leaks"
        assert_tells_the_outsider_nothing(who, answer, (method, path))
        CELLS_CHECKED[database(db_url)] += 1
    assert row_counts(sessions) == before, "a refused call changes nothing"

    # GETs: everyone allowed reads; a move happens once: the first allowed person makes it
    for who, status in allowed.items() if method == "GET" else list(allowed.items())[:1]:
        answer = (
            world.call[who].get(target) if method == "GET" else world.call[who].post(target, body)
        )
        assert answer.status_code == status, (who, method, target, answer.json)
        assert_tells_the_outsider_nothing(who, answer, (method, path))
        CELLS_CHECKED[database(db_url)] += 1


# --- reports_api --------------------------------------------------------------------------------

REPORT_PEOPLE = (
    "leader",
    "deputy",
    "office",
    "member",
    "rail",
    "police",
    "east",
    "west",
    "north",
    "outsider",
)
LEADING_GROUP = ("leader", "deputy", "office", "member", "rail", "police")
OUTSIDE_THE_GROUP_NOT_FOUND = {"east": 404, "west": 404, "north": 404, "outsider": 404}
SCENARIO_COORDINATORS = {"office": 201, "leader": 201, "deputy": 201}
INCIDENT = {
    "kind": "cattle",
    "unit": "east",
    "occurred_on": "2026-05-11",
    "description": "耕牛在道口附近挡道",
}
LETTER = {"subject": "反映道口无人看守", "unit": "west"}


def into_inspection(world):
    world.scenario.at(2026, 6, 1, 9).advance()  # scores are entered in the inspection phase only


def a_train_accident_in_east(world):
    world.ids["incident_id"] = world.scenario.incident("train-accident", "east", date(2026, 5, 12))


def a_letter_for_west(world):
    world.ids["petition_id"] = world.scenario.petition("west", subject=LETTER["subject"])


def east_s_letter(world):
    """East's responsibility letter (``LETTERED_RAILWAY``), drafted: the leader issues it, east signs it."""
    with world.scenario.sessions() as session:
        east = person_by_email(session, "east@example.org").id
        world.ids["letter_id"] = session.scalar(select(Letter.id).where(Letter.signer_id == east))


def east_s_letter_issued(world):
    east_s_letter(world)
    leader = world.scenario.actor("leader@example.org")
    with world.scenario.sessions.begin() as session:
        issue_letter(
            session,
            world.ids["letter_id"],
            by=leader,
            clock=world.scenario.clock,
            base_url="http://pingan.test",
        )


LETTER_SEERS_REFUSED = {w: 403 for w in ("deputy", "office", "member", "rail", "police")}

REPORT_MATRIX = [
    # each of the campaign sees their own letters (the leading group all of them)
    (
        "GET",
        "/campaigns/{campaign_id}/letters",
        None,
        {w: 200 for w in (*LEADING_GROUP, "east", "west", "north")},
        [],
        {"outsider": 404},
    ),
    (
        "POST",
        "/letters/{letter_id}/issue",
        None,
        {"leader": 200},
        [east_s_letter],
        {**LETTER_SEERS_REFUSED, "east": 403, "west": 404, "north": 404, "outsider": 404},
    ),
    (
        "POST",
        "/letters/{letter_id}/sign",
        None,
        {"east": 200},
        [east_s_letter_issued],
        {**LETTER_SEERS_REFUSED, "leader": 403, "west": 404, "north": 404, "outsider": 404},
    ),
    (
        "GET",
        "/campaigns/{campaign_id}/report",
        None,
        {w: 200 for w in LEADING_GROUP},
        [],
        OUTSIDE_THE_GROUP_NOT_FOUND,
    ),
    (
        "GET",
        "/campaigns/{campaign_id}/assessment",
        None,
        {w: 200 for w in LEADING_GROUP},
        [],
        OUTSIDE_THE_GROUP_NOT_FOUND,
    ),
    (
        "GET",
        "/campaigns/{campaign_id}/incidents",
        None,
        {w: 200 for w in LEADING_GROUP},
        [],
        OUTSIDE_THE_GROUP_NOT_FOUND,
    ),
    # the leading group records against any unit, a unit's own people against theirs
    (
        "POST",
        "/campaigns/{campaign_id}/incidents",
        INCIDENT,
        {**{w: 201 for w in LEADING_GROUP}, "east": 201},
        [],
        {"west": 403, "north": 403, "outsider": 404},
    ),
    # who records an incident records its reports to the railway department and the police
    (
        "POST",
        "/incidents/{incident_id}/reports",
        {"body": "铁路部门", "note": "电话报车站值班室"},
        {**{w: 201 for w in LEADING_GROUP}, "east": 201},
        [a_train_accident_in_east],
        {"west": 403, "north": 403, "outsider": 404},
    ),
    (
        "POST",
        "/campaigns/{campaign_id}/petitions",
        LETTER,
        SCENARIO_COORDINATORS,
        [],
        {
            **{w: 403 for w in ("member", "rail", "police", "east", "west", "north")},
            "outsider": 404,
        },
    ),
    (
        "POST",
        "/petitions/{petition_id}/process",
        {"outcome": "已安排专人看守"},
        {"west": 200, "office": 200, "leader": 200, "deputy": 200},
        [a_letter_for_west],
        # the leading group sees it (its page) but does not process it; to another village's head
        # it does not exist, like a number no petition has
        {
            **{w: 403 for w in ("member", "rail", "police")},
            **{w: 404 for w in ("east", "north", "outsider")},
        },
    ),
    (
        "PUT",
        "/campaigns/{campaign_id}/scores/{unit_code}",
        {"items": {"meetings": 36}},
        {"member": 200, "leader": 200, "deputy": 200, "office": 200},
        [into_inspection],
        {**{w: 403 for w in ("rail", "police", "east", "west", "north")}, "outsider": 404},
    ),
]


class ReportWorld:
    """The assessed campaign in its implementation phase, a token for each of its people; ``ids`` for the paths."""

    def __init__(self, app, scenario):
        self.scenario = scenario
        client = app.test_client()
        with scenario.sessions.begin() as session:
            tokens = {
                who: issue_token(session, f"{who}@example.org", scenario.clock.now())
                for who in REPORT_PEOPLE
            }

        def caller(token):
            def call(method, path, body=None):
                return client.open(
                    f"/api/v1{path}",
                    method=method,
                    json=body,
                    headers={"Authorization": f"Bearer {token}"},
                )

            return call

        self.call = {who: caller(token) for who, token in tokens.items()}
        self.ids = {"campaign_id": scenario.campaign, "unit_code": "east"}


@pytest.fixture
def scenario(sessions, calendar):
    scenario = Scenario(sessions, calendar, LETTERED_RAILWAY)  # with a letter per village
    scenario.at(2026, 5, 12, 10)
    start_another_campaign(sessions, scenario.clock, calendar)  # the outsider's
    return scenario


@pytest.mark.parametrize(
    "method, path, body, allowed, preparation, refused",
    REPORT_MATRIX,
    ids=[f"{m} {p}" for m, p, *_ in REPORT_MATRIX],
)
def test_each_report_route_is_for_the_roles_it_covers(
    report_app, scenario, db_url, method, path, body, allowed, preparation, refused
):
    world = ReportWorld(report_app, scenario)
    for prepare in preparation:
        prepare(world)
    target = path.format(**world.ids)
    assert sorted([*allowed, *refused]) == sorted(REPORT_PEOPLE), (
        "every person is accounted for, once"
    )

    before = row_counts(scenario.sessions)
    for who, status in refused.items():
        answer = world.call[who](method, target, body)
        assert answer.status_code == status, (who, answer.json)
        assert answer.json["error"] in ("forbidden", "not_found")
        assert "道口" not in answer.json["message"] and "平安铁路" not in answer.json["message"]
        assert_tells_the_outsider_nothing(who, answer, (method, path))
        CELLS_CHECKED[database(db_url)] += 1
    assert row_counts(scenario.sessions) == before, "a refused call changes nothing"

    for who, status in allowed.items() if method == "GET" else list(allowed.items())[:1]:
        answer = world.call[who](method, target, body)
        assert answer.status_code == status, (who, method, target, answer.json)
        CELLS_CHECKED[database(db_url)] += 1


def test_the_matrix_covers_every_api_route(app):
    covered = {(method, path) for method, path, *_ in [*MATRIX, *REPORT_MATRIX]}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes - covered == set()
