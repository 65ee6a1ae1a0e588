"""The reports API (incidents, letters and visits, scores, the report) through Flask's test client."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.support.api import assert_error
from webapp.api.description import description_of, operation_spec
from workflow.models import AuditEvent, Incident, OutboxMail, Petition, Score
from workflow.organisation.tokens import issue_token


@pytest.fixture
def scenario(scenario):
    scenario.at(2026, 5, 12, 10)
    scenario.finish_tasks()
    scenario.hazard("west", date(2026, 5, 20))
    return scenario


@pytest.fixture
def as_person(report_app, scenario):
    def caller(email):
        with scenario.sessions.begin() as session:
            token = issue_token(session, email, scenario.clock.now())
        client, headers = report_app.test_client(), {"Authorization": f"Bearer {token}"}

        def call(method, path, body=None):
            return client.open(f"/api/v1{path}", method=method, json=body, headers=headers)

        return call

    return caller


def rows(sessions, table):
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(table))


def test_the_report_comes_as_json_csv_and_xlsx_to_the_leading_group(as_person, scenario):
    leader = as_person("leader@example.org")
    answer = leader("GET", f"/campaigns/{scenario.campaign}/report")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert answer.json["rectifications"]["total"] == 1 and len(answer.json["units"]) == 3
    assert answer.json["ledger"][0]["original_deadline"] == "2026-05-20"

    as_csv = leader("GET", f"/campaigns/{scenario.campaign}/report?format=csv")
    assert as_csv.status_code == 200 and as_csv.content_type == "text/csv; charset=utf-8"
    assert 'filename="campaign-' in as_csv.headers["Content-Disposition"]
    assert as_csv.data.startswith("\ufeff".encode())
    body = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))[1:]
    assert sorted((row[0], row[6]) for row in body) == [
        ("east", "0"),
        ("north", "0"),
        ("west", "1"),
    ]

    as_xlsx = leader("GET", f"/campaigns/{scenario.campaign}/report?format=xlsx")
    assert as_xlsx.status_code == 200 and as_xlsx.content_type.startswith(
        "application/vnd.openxmlformats"
    )
    assert load_workbook(io.BytesIO(as_xlsx.data))["单位 units"].max_row == 1 + 3

    assert_error(leader("GET", f"/campaigns/{scenario.campaign}/report?format=pdf"), 422, "invalid")
    assert_error(
        leader("GET", f"/campaigns/{scenario.campaign}/report?format=csv&table=nope"),
        422,
        "invalid",
    )
    assert_error(
        as_person("east@example.org")("GET", f"/campaigns/{scenario.campaign}/report"),
        404,
        "not_found",
    )


def test_an_incident_is_recorded_mailed_and_listed(as_person, scenario):
    office = as_person("office@example.org")
    answer = office(
        "POST",
        f"/campaigns/{scenario.campaign}/incidents",
        {
            "kind": "train-accident",
            "unit": "east",
            "occurred_on": "2026-05-11",
            "description": "列车撞击道口护栏",
        },
    )
    assert answer.status_code == 201, answer.json
    assert (answer.json["kind"], answer.json["unit"]["code"]) == ("train-accident", "east")
    # three told at once, besides the hazard's mail
    assert rows(scenario.sessions, OutboxMail) >= 3 + 1
    listed = office("GET", f"/campaigns/{scenario.campaign}/incidents?kind=train-accident")
    assert [(e["id"], e["notified"]) for e in listed.json] == [
        (answer.json["id"], ["leader", "railway_liaison", "police_liaison"])
    ]


@pytest.mark.parametrize(
    "body, status",
    [
        ({"kind": "flood", "unit": "east", "occurred_on": "2026-05-11", "description": "?"}, 422),
        ({"kind": "cattle", "unit": "east", "occurred_on": "11/05/2026", "description": "?"}, 422),
        (
            {
                "kind": "cattle",
                "unit": "east",
                "occurred_on": "2026-05-11",
                "description": "?",
                "severity": "x",
            },
            422,
        ),
    ],
)
def test_a_bad_incident_is_refused_with_the_error_shape_and_nothing_is_recorded(
    as_person, scenario, body, status
):
    before = (rows(scenario.sessions, Incident), rows(scenario.sessions, OutboxMail))
    assert_error(
        as_person("office@example.org")("POST", f"/campaigns/{scenario.campaign}/incidents", body),
        status,
        "invalid",
    )
    assert (rows(scenario.sessions, Incident), rows(scenario.sessions, OutboxMail)) == before


def test_a_letter_is_recorded_and_processed(as_person, scenario):
    answer = as_person("office@example.org")(
        "POST",
        f"/campaigns/{scenario.campaign}/petitions",
        {
            "subject": "反映道口无人看守",
            "unit": "west",
            "channel": "visit",
            "deadline_working_days": 5,
        },
    )
    assert answer.status_code == 201, answer.json
    assert (answer.json["state"], answer.json["responsible"]["email"], answer.json["deadline"]) == (
        "open",
        "west@example.org",
        "2026-05-19",
    )
    processed = as_person("west@example.org")(
        "POST", f"/petitions/{answer.json['id']}/process", {"outcome": "已安排专人看守并答复"}
    )
    assert processed.status_code == 200 and processed.json["state"] == "processed"
    assert_error(
        as_person("west@example.org")("POST", f"/petitions/{answer.json['id']}/process", {}),
        422,
        "invalid",
    )
    assert rows(scenario.sessions, Petition) == 1


def test_a_major_letter_is_recorded_as_major_and_a_flag_that_is_not_true_or_false_is_refused(
    as_person, scenario
):
    office = as_person("office@example.org")
    url = f"/campaigns/{scenario.campaign}/petitions"
    refused = office("POST", url, {"subject": "反映道口无人看守", "unit": "west", "major": "yes"})
    assert_error(refused, 422, "invalid")
    assert "major must be true or false" in refused.json["message"]
    assert rows(scenario.sessions, Petition) == 0
    answer = office("POST", url, {"subject": "反映道口无人看守", "unit": "west", "major": True})
    assert answer.status_code == 201 and answer.json["major"] is True
    # this definition declares no meeting: the letter is marked, no task is made
    assert rows(scenario.sessions, Petition) == 1


def test_scores_are_entered_by_the_inspecting_group_and_read_in_the_assessment(as_person, scenario):
    scenario.at(2026, 6, 1, 9).advance()
    member = as_person("member@example.org")
    answer = member(
        "PUT",
        f"/campaigns/{scenario.campaign}/scores/east",
        {"items": {"meetings": 38.5, "measures": 30, "hazards": 28}},
    )
    assert answer.status_code == 200, answer.json
    assert (answer.json["score"], answer.json["grade"], answer.json["rank"]) == (
        96.5,
        "commended",
        1,
    )
    table = as_person("leader@example.org")(
        "GET", f"/campaigns/{scenario.campaign}/assessment"
    ).json
    assert (table["state"], table["max_points"], table["commended"]) == ("open", 100, ["east"])
    assert [unit["code"] for unit in table["units"]][0] == "east"


def test_bad_scores_are_refused_with_the_error_shape_and_nothing_changes(as_person, scenario):
    scenario.at(2026, 6, 1, 9).advance()
    url = f"/campaigns/{scenario.campaign}/scores/east"
    member, village_head = as_person("member@example.org"), as_person("east@example.org")
    # issuing their tokens was audited: count from here
    before = rows(scenario.sessions, AuditEvent)
    assert_error(member("PUT", url, {"items": {"meetings": 41}}), 422, "invalid")  # outside 0–40
    assert_error(member("PUT", url, {"items": {"meetings": 10, "measures": -0.5}}), 422, "invalid")
    assert_error(member("PUT", url, {"items": [40]}), 422, "invalid")
    assert_error(member("PUT", url, {"points": {"meetings": 10}}), 422, "invalid")
    assert_error(village_head("PUT", url, {"items": {"meetings": 40}}), 403, "forbidden")
    assert_error(
        member("PUT", f"/campaigns/{scenario.campaign}/scores/nowhere", {"items": {"meetings": 1}}),
        404,
        "not_found",
    )
    assert (rows(scenario.sessions, Score), rows(scenario.sessions, AuditEvent)) == (0, before)
    assert member("PUT", url, {"items": {"meetings": 40}}).status_code == 200
    scenario.at(2026, 6, 20, 9).advance()
    assert_error(member("PUT", url, {"items": {"meetings": 1}}), 409, "conflict")
    with scenario.sessions() as session:
        assert session.scalars(select(Score.points)).all() == [40]


def test_the_served_openapi_document_describes_every_route_of_the_blueprint(report_app):
    rules = [
        rule for rule in report_app.url_map.iter_rules() if rule.endpoint.startswith("reports_api.")
    ]
    assert len(rules) == 8 and all(rule.rule.startswith("/api/v1/") for rule in rules)
    served = report_app.test_client().get("/api/v1/openapi.json").json
    for rule in rules:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            described = description_of(report_app.view_functions[rule.endpoint])
            assert described is not None, f"{method} {path}"
            assert served["paths"][path][method.lower()] == operation_spec(
                method.lower(), path, described
            ), f"{method} {path}"
    schemas = served["components"]["schemas"]
    assert {
        "Report",
        "Incident",
        "Petition",
        "UnitResult",
        "Assessment",
        "IncidentReport",
        "OutsideReportEntry",
        "OutsideReport",
        "ScoreSheet",
    } <= set(schemas)
    scores = served["paths"]["/campaigns/{campaign_id}/scores/{unit_code}"]["put"]
    assert [p["schema"]["type"] for p in scores["parameters"]] == ["integer", "string"]
    assert scores["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ScoreSheet"
    }


def test_the_json_api_needs_no_csrf_token_and_a_page_form_does(report_app, as_person, scenario):
    """create_app exempts the token-authenticated API from the pages' CSRF check, and only the API."""
    report_app.config["WTF_CSRF_ENABLED"] = True
    answer = as_person("office@example.org")(
        "POST",
        f"/campaigns/{scenario.campaign}/incidents",
        {"kind": "cattle", "unit": "east", "occurred_on": "2026-05-11", "description": "耕牛挡道"},
    )
    assert answer.status_code == 201, answer.json
    assert (
        report_app.test_client().post(f"/campaigns/{scenario.campaign}/incidents").status_code
        == 400
    )


def test_before_scoring_has_started_nobody_is_graded_or_criticised(as_person, scenario):
    # west's hazard is overdue and escalated, and every score is 0: still no verdict on anyone
    scenario.at(2026, 5, 26, 9)
    leader = as_person("leader@example.org")
    report = leader("GET", f"/campaigns/{scenario.campaign}/report").json
    assert report["assessment"]["state"] == "pending"
    assert {
        unit["code"]: (unit["grade"], unit["rank"]) for unit in report["assessment"]["units"]
    } == {code: (None, None) for code in ("east", "west", "north")}
    assert report["criticised"] == [] and report["commended"] == []
    assert not any(
        mark["rule"] == "grade"
        for unit in report["assessment"]["units"]
        for mark in unit["criticisms"]
    ), "no 考核不合格 for a score of 0 nobody gave"
    as_csv = leader("GET", f"/campaigns/{scenario.campaign}/report?format=csv&table=criticised")
    assert list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))[1:] == []
