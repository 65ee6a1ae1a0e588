"""The API against its own OpenAPI document, with Schemathesis generating the requests (SQLite and PostgreSQL).

Every operation the document lists at ``GET /api/v1/openapi.json`` is called
with generated requests — valid ones (positive) and invalid ones (negative:
wrong types, missing fields, unknown fields, bad path parameters) — signed in
with a real API token, through the WSGI app. Some are sent to ids that do not
exist, some to the real campaign, tasks, rectification and extension request
of the test, so the bodies reach the engine and the database. Whatever is
sent: no 5xx; every 4xx is the project's JSON error shape; status codes,
content types and response bodies conform to what the document says.

The counts (operations × examples) are printed at the end of each test; to
reproduce: ``timeout 900 .venv/bin/python -m pytest tests/api/test_schemathesis.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from workflow.models import Task
from workflow.organisation.directory import person_by_email
from workflow.organisation.tokens import issue_token

# bounded: every operation × both modes × two kinds of ids × two databases must stay well under two minutes
EXAMPLES = 12
ERROR_CODE = re.compile(r"^[a-z][a-z_]*$")
PATH_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")  # Flask's <int:task_id> is OpenAPI's {task_id}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def tokens(sessions, clock, campaign) -> dict[str, str]:
    """Real API tokens: a village head (the assignee) and the office director (a coordinator)."""
    with sessions.begin() as session:
        return {
            email: issue_token(session, email, clock.now())
            for email in ("east@example.org", "office@example.org")
        }


@pytest.fixture
def real_ids(app, sessions, campaign, tokens) -> dict[str, int | str]:
    """Ids that exist: the campaign, the village head's first task, a rectification and an extension request."""
    client = app.test_client()
    office = {"Authorization": f"Bearer {tokens['office@example.org']}"}
    east = {"Authorization": f"Bearer {tokens['east@example.org']}"}
    hazard = {
        "site": "crossing-3",
        "description": "道口护栏损坏",
        "responsible": "east@example.org",
        "deadline_working_days": 3,
    }
    rectification = client.post(
        f"/api/v1/campaigns/{campaign}/hazards", json=hazard, headers=office
    ).json["id"]
    extension = client.post(
        f"/api/v1/rectifications/{rectification}/extensions",
        json={"reason": "材料未到", "until": "2026-06-30"},
        headers=east,
    ).json["id"]
    with sessions() as session:
        east_id = person_by_email(session, "east@example.org").id
        task = session.scalar(select(Task.id).where(Task.assignee_id == east_id).order_by(Task.id))
    return {
        "campaign_id": campaign,
        "task_id": task,
        "rectification_id": rectification,
        "extension_id": extension,
        "unit_code": "east-village",
    }


@pytest.fixture
def api_schema(app, tokens):
    """The document as the app serves it, loaded by Schemathesis over WSGI (no server, no network)."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


class Sent:
    """Requests sent, per operation and per status answered."""

    def __init__(self) -> None:
        self.operations: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()

    def count(self, label: str, status: int) -> None:
        self.operations[label] += 1
        self.statuses[status] += 1


@pytest.fixture
def tally(request: pytest.FixtureRequest) -> Iterator[Sent]:
    """The requests a test sent, printed when it ends (the issue's closing note quotes the counts)."""
    sent = Sent()
    yield sent
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(sent.statuses.items()))
    line = (
        f"{request.node.name}: {len(sent.operations)} operations, {sum(sent.operations.values())} requests "
        f"(answers {statuses})"
    )
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():
        print(f"\n{line}")


def assert_error_shape(response: Any, label: str) -> None:
    """A 4xx is ``{"error": CODE, "message": TEXT}`` (plus ``blockers`` on a refused move), as JSON."""
    assert header(response, "Content-Type").startswith("application/json"), (
        label,
        response.status_code,
    )
    body = response.json()
    assert isinstance(body, dict), (label, body)
    assert set(body) <= {"error", "message", "blockers"}, (label, body)
    assert isinstance(body.get("error"), str) and ERROR_CODE.match(body["error"]), (label, body)
    assert isinstance(body.get("message"), str) and body["message"].strip(), (label, body)


def header(response: Any, name: str) -> str:
    """A header of a Schemathesis response (it keeps every header as a list under its lower-case name)."""
    return (response.headers.get(name.lower()) or [""])[0]


def run_operations(
    api_schema,
    headers: dict[str, str],
    tally: Sent,
    mode: GenerationMode,
    path_ids: dict[str, int | str] | None = None,
    extra_checks: list[Callable[..., Any]] | None = None,
) -> None:
    """Every operation of the document, ``EXAMPLES`` generated requests each, every answer checked."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert operations, "the document lists no operation"
    for operation in operations:
        fixed = {
            name: value
            for name, value in (path_ids or {}).items()
            if any(parameter.name == name for parameter in operation.path_parameters)
        }
        if path_ids is not None and not fixed and operation.path_parameters:
            continue  # a path parameter we have no real id for: covered by the random-id run
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.filter_too_much,
                HealthCheck.function_scoped_fixture,
            ],
        )
        @given(strategy)
        def call(case):  # type: ignore[no-untyped-def]
            response = case.call(headers=headers)
            tally.count(operation.label, response.status_code)
            case.validate_response(response, checks=CHECKS + (extra_checks or []), headers=headers)
            assert response.status_code < 500, (
                operation.label,
                response.status_code,
                response.text[:300],
            )
            if 400 <= response.status_code < 500:
                assert_error_shape(response, operation.label)

        call()


def test_every_operation_of_the_document_is_called(api_schema, app):
    documented = {
        f"{operation.method.upper()} /api/v1{operation.path}"
        for operation in (result.ok() for result in api_schema.get_all_operations())
    }
    # the document lists what the app routes under /api/v1 (openapi.py keeps the table; test_api checks it too)
    routed = {
        method + " " + PATH_PARAMETER.sub(r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    # Schemathesis leaves out the one operation that serves the document it loaded
    assert documented == routed - {"GET /api/v1/openapi.json"}
    assert len(documented) >= 17, "the routes of DESIGN.md's HTTP API, at least"


def test_valid_requests_to_ids_that_may_not_exist_get_no_5xx_and_documented_answers(
    api_schema, tokens, tally
):
    east = {"Authorization": f"Bearer {tokens['east@example.org']}"}
    run_operations(api_schema, east, tally, GenerationMode.POSITIVE)
    assert sum(tally.statuses[code] for code in tally.statuses if code >= 500) == 0
    assert len(tally.operations) >= 17, "every operation was called"


def test_valid_requests_to_the_real_items_get_no_5xx_and_documented_answers(
    api_schema, tokens, real_ids, tally
):
    office = {"Authorization": f"Bearer {tokens['office@example.org']}"}
    run_operations(api_schema, office, tally, GenerationMode.POSITIVE, path_ids=real_ids)
    assert sum(tally.statuses[code] for code in tally.statuses if code >= 500) == 0
    assert any(200 <= code < 300 for code in tally.statuses), "a real item was answered"


def test_invalid_requests_are_refused_with_4xx_in_the_json_error_shape(
    api_schema, tokens, real_ids, tally
):
    office = {"Authorization": f"Bearer {tokens['office@example.org']}"}
    run_operations(
        api_schema,
        office,
        tally,
        GenerationMode.NEGATIVE,
        path_ids=real_ids,
        extra_checks=[negative_data_rejection],
    )
    run_operations(
        api_schema, office, tally, GenerationMode.NEGATIVE, extra_checks=[negative_data_rejection]
    )


def test_without_a_token_every_operation_but_the_document_itself_is_a_401(api_schema, tally):
    for operation in (result.ok() for result in api_schema.get_all_operations()):
        # ids a route matches (a negative one matches no route: 404 before anyone is asked who they are)
        ids = {
            parameter.name: 1
            for parameter in operation.path_parameters
            if parameter.name.endswith("_id")
        }

        @settings(
            max_examples=3,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
        @given(operation.as_strategy(path_parameters=ids or None))
        def call(case):  # type: ignore[no-untyped-def]
            response = case.call()
            tally.count(operation.label, response.status_code)
            if operation.label == "GET /api/v1/openapi.json":
                assert response.status_code == 200
                return
            assert response.status_code == 401, (operation.label, response.status_code)
            assert_error_shape(response, operation.label)
            assert header(response, "WWW-Authenticate").lower().startswith("bearer")

        call()
