"""The JSON API under /api/v1 through Flask's test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from flask_login import login_user
from sqlalchemy import select

from tests.support.actions import BASE_URL
from tests.support.api import HAZARD, assert_error, register
from tests.support.clock import shanghai
from tests.support.databases import row_counts
from webapp import wiring_of
from webapp.auth.identity import SignedInPerson
from workflow.clock import FixedClock
from workflow.escalation.sweep import run_sweep
from workflow.models import Person, Rectification, Task
from workflow.organisation.directory import person_by_email
from workflow.organisation.tokens import revoke_tokens


def rectification_row(sessions, rectification_id):
    with sessions() as session:
        row = session.get(Rectification, rectification_id)
        return row.state, row.deadline


# --- who is asking ------------------------------------------------------------------------------


def test_a_request_without_a_token_is_refused_with_401_in_the_json_error_shape(app, campaign):
    answer = app.test_client().get("/api/v1/me")
    assert_error(answer, 401, "unauthorized")
    assert answer.headers["WWW-Authenticate"].lower().startswith("bearer")


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer not-a-token", "Basic ZWFzdDpjaGFuZ2UtbWU=", "Token abc"]
)
def test_a_malformed_or_unknown_credential_is_refused_with_401(app, campaign, header):
    answer = app.test_client().get("/api/v1/me", headers={"Authorization": header})
    assert_error(answer, 401, "unauthorized")


def test_me_says_who_i_am_and_my_roles(as_person):
    answer = as_person("east@example.org").get("/me")
    assert answer.status_code == 200
    assert answer.json | {"id": 0} == {
        "id": 0,
        "email": "east@example.org",
        "name": "李村长",
        "title": None,
        "unit": {"code": "east-village", "name": "东村"},
        "roles": ["village_head"],
    }
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_revoked_token_is_refused_on_the_very_next_request(as_person, sessions, clock):
    east = as_person("east@example.org")
    assert east.get("/me").status_code == 200
    with sessions.begin() as session:
        revoke_tokens(session, "east@example.org", clock.now())
    assert_error(east.get("/me"), 401, "unauthorized")


def test_the_browser_session_signs_in_as_well_and_its_cookie_is_http_only_and_same_site(
    app, sessions, campaign
):
    sign_in_route(app)
    client = app.test_client()
    with sessions.begin() as session:
        east = person_by_email(session, "east@example.org")
        east.must_change_password = False  # the organisation file's initial password is replaced
        east_id = east.id

    signed_in = client.post(f"/test-sign-in/{east_id}")
    cookie = signed_in.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie

    assert client.get("/api/v1/me").json["email"] == "east@example.org"
    # a cross-site form can post text/plain with the cookie; only JSON is taken from a session
    form_post = client.post(
        "/api/v1/tasks/1/complete", data='{"note": "x"}', content_type="text/plain"
    )
    assert_error(form_post, 400, "bad_request")


def test_a_session_cookie_copied_to_another_browser_is_not_accepted(app, sessions, campaign):
    sign_in_route(app)
    client = app.test_client()
    with sessions() as session:
        east_id = person_by_email(session, "east@example.org").id
    client.post(f"/test-sign-in/{east_id}")

    copied = client.get("/api/v1/me", headers={"User-Agent": "somebody else's browser"})

    assert_error(copied, 401, "unauthorized")


def test_changing_the_password_ends_the_browser_session(app, sessions, campaign):
    sign_in_route(app)
    client = app.test_client()
    with sessions() as session:
        east_id = person_by_email(session, "east@example.org").id
    client.post(f"/test-sign-in/{east_id}")
    with sessions.begin() as session:
        session.get(Person, east_id).password_hash = "a-new-hash"
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")


# --- hazards and their rectification ------------------------------------------------------------


def test_a_coordinator_registers_a_hazard_with_a_working_day_deadline(
    as_person, campaign, sessions
):
    rect = register(as_person, campaign)

    # 2026-05-01..05 is the Labour Day holiday: three working days after 5-01 end on 5-08
    assert (rect["deadline"], rect["original_deadline"]) == ("2026-05-08", "2026-05-08")
    assert rect["state"] == "open" and rect["overdue"] is False and rect["extensions"] == 0
    assert rect["campaign_id"] == campaign
    assert rect["site"] == {"code": "crossing-3", "name": "3号道口"}
    assert rect["unit"] == {"code": "east-village", "name": "东村"}
    assert rect["responsible"] == {"email": "east@example.org", "name": "李村长"}
    assert rect["temporary_measures"] == "设置警示牌"
    assert rect["link"] == f"{BASE_URL}/rectifications/{rect['id']}"
    assert rect["registered_at"] == "2026-05-01T01:00:00+00:00", (
        "09:00 in Beijing, stored and shown in UTC"
    )
    assert rectification_row(sessions, rect["id"]) == ("open", date(2026, 5, 8))


def test_a_village_head_may_not_register_a_hazard(as_person, campaign, sessions):
    east = as_person("east@example.org")
    before = row_counts(sessions)
    answer = east.post(f"/campaigns/{campaign}/hazards", HAZARD)
    assert_error(answer, 403, "forbidden")
    assert row_counts(sessions) == before


def test_the_responsible_person_submits_and_a_coordinator_verifies_it_closed(
    as_person, campaign, sessions
):
    rect = register(as_person, campaign)
    east, office = as_person("east@example.org"), as_person("office@example.org")

    submitted = east.post(
        f"/rectifications/{rect['id']}/submit", {"note": "护栏已修复", "evidence": "photo-1.jpg"}
    )
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["state"] == "submitted" and submitted.json["submitted_at"]
    assert submitted.json["evidence"] == "photo-1.jpg"

    verified = office.post(f"/rectifications/{rect['id']}/verify", {"note": "现场复核合格"})
    assert verified.status_code == 200, verified.json
    assert verified.json["state"] == "closed" and verified.json["closed_at"]
    assert rectification_row(sessions, rect["id"])[0] == "closed"
    assert east.get(f"/rectifications/{rect['id']}").json["state"] == "closed"


def test_another_village_head_gets_404_on_a_rectification_not_theirs(as_person, campaign, sessions):
    rect = register(as_person, campaign)
    west = as_person("west@example.org")

    for answer in (
        west.get(f"/rectifications/{rect['id']}"),
        west.post(f"/rectifications/{rect['id']}/submit", {"note": "我来报"}),
    ):
        assert_error(answer, 404, "not_found")
        assert "道口" not in answer.json["message"], "nothing of the item leaks"
    assert rectification_row(sessions, rect["id"])[0] == "open"


def test_verifying_an_open_rectification_is_refused_and_changes_nothing(
    as_person, campaign, sessions
):
    rect = register(as_person, campaign)
    office = as_person("office@example.org")
    before = row_counts(sessions)

    answer = office.post(f"/rectifications/{rect['id']}/verify", {"note": "ok"})

    assert_error(answer, 409, "conflict")
    assert set(answer.json) <= {"error", "message", "blockers"}
    assert answer.json["message"] == f"cannot verify rectification {rect['id']}: it is open"
    assert row_counts(sessions) == before
    assert rectification_row(sessions, rect["id"]) == ("open", date(2026, 5, 8))


def test_rejecting_a_submission_needs_a_new_deadline(as_person, campaign, sessions):
    rect = register(as_person, campaign)
    as_person("east@example.org").post(f"/rectifications/{rect['id']}/submit", {"note": "已修复"})
    office = as_person("office@example.org")

    refused = office.post(f"/rectifications/{rect['id']}/reject", {"reason": "护栏仍松动"})
    assert_error(refused, 422, "invalid")
    assert "deadline" in refused.json["message"]
    assert rectification_row(sessions, rect["id"])[0] == "submitted"

    rejected = office.post(
        f"/rectifications/{rect['id']}/reject", {"reason": "护栏仍松动", "deadline": "2026-05-20"}
    )
    assert rejected.status_code == 200, rejected.json
    assert (
        rejected.json["state"],
        rejected.json["deadline"],
        rejected.json["original_deadline"],
    ) == ("open", "2026-05-20", "2026-05-08")


def test_a_closed_rectification_is_reopened_after_a_look_back(as_person, campaign):
    rect = register(as_person, campaign)
    office = as_person("office@example.org")
    as_person("east@example.org").post(f"/rectifications/{rect['id']}/submit", {"note": "已修复"})
    office.post(f"/rectifications/{rect['id']}/verify")

    reopened = office.post(
        f"/rectifications/{rect['id']}/reopen",
        {"reason": "回头看发现反弹", "deadline_working_days": 3},
    )
    assert reopened.status_code == 200, reopened.json
    assert (reopened.json["state"], reopened.json["closed_at"]) == ("open", None)


def test_an_approved_extension_moves_the_deadline_and_keeps_the_original(
    as_person, campaign, sessions
):
    rect = register(as_person, campaign)
    east, office = as_person("east@example.org"), as_person("office@example.org")

    asked = east.post(
        f"/rectifications/{rect['id']}/extensions", {"reason": "材料未到", "until": "2026-05-29"}
    )
    assert asked.status_code == 201, asked.json
    assert (asked.json["state"], asked.json["requested_deadline"]) == ("requested", "2026-05-29")
    assert_error(
        office.post(
            f"/rectifications/{rect['id']}/extensions", {"reason": "x", "until": "2026-06-01"}
        ),
        403,
        "forbidden",
    )

    approved = office.post(f"/extensions/{asked.json['id']}/approve", {"note": "同意"})
    assert approved.status_code == 200, approved.json
    assert approved.json["state"] == "approved"
    moved = approved.json["rectification"]
    assert (moved["deadline"], moved["original_deadline"], moved["extensions"]) == (
        "2026-05-29",
        "2026-05-08",
        1,
    )
    assert_error(office.post(f"/extensions/{asked.json['id']}/refuse"), 409, "conflict")


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({k: v for k, v in HAZARD.items() if k != "description"}, "description is required"),
        ({**HAZARD, "description": "   "}, "description is required"),
        (
            {
                **{k: v for k, v in HAZARD.items() if k != "deadline_working_days"},
                "deadline": "next week",
            },
            "deadline must be a date written YYYY-MM-DD",
        ),
        (
            {
                **{k: v for k, v in HAZARD.items() if k != "deadline_working_days"},
                "deadline": "2026-02-30",
            },
            "not a calendar date",
        ),
        ({**HAZARD, "deadline_working_days": "3"}, "deadline_working_days must be a whole number"),
        (
            {**HAZARD, "responsible": "nobody@example.org"},
            "no active person of this campaign's units has the e-mail address",
        ),
        ({**HAZARD, "colour": "red", "priority": 1}, "unknown field(s): colour, priority"),
        ({**HAZARD, "severity": "huge"}, "severity must be one of minor, major"),
        ({**HAZARD, "site": "crossing-99"}, "no key site 'crossing-99'"),
    ],
    ids=[
        "missing-description",
        "blank-description",
        "next-week",
        "no-such-day",
        "days-as-text",
        "unknown-responsible",
        "unknown-fields",
        "unknown-severity",
        "unknown-site",
    ],
)
def test_bad_hazard_input_is_refused_with_422_and_writes_nothing(
    as_person, campaign, sessions, body, fragment
):
    office = as_person("office@example.org")
    before = row_counts(sessions)
    answer = office.post(f"/campaigns/{campaign}/hazards", body)
    assert_error(answer, 422, "invalid")
    assert fragment in answer.json["message"]
    assert row_counts(sessions) == before


@pytest.mark.parametrize("raw", ['{"description": "道口', "[1, 2]", '"text"', b"\xff\xfe"])
def test_a_malformed_or_non_object_body_is_a_400_and_writes_nothing(
    as_person, campaign, sessions, raw
):
    office = as_person("office@example.org")
    before = row_counts(sessions)
    answer = office.post(f"/campaigns/{campaign}/hazards", raw=raw)
    assert_error(answer, 400, "bad_request")
    assert row_counts(sessions) == before


# --- tasks and campaigns ------------------------------------------------------------------------


def test_an_assignee_checks_a_task_off_and_a_coordinator_sends_it_back(
    as_person, campaign, sessions
):
    with sessions() as session:
        east_id = person_by_email(session, "east@example.org").id
        task_id = session.scalar(
            select(Task.id).where(Task.assignee_id == east_id, Task.spec_key == "plan")
        )
    east = as_person("east@example.org")

    done = east.post(f"/tasks/{task_id}/complete", {"note": "计划已制定"})
    assert done.status_code == 200, done.json
    assert (done.json["state"], done.json["note"], done.json["assignee"]["email"]) == (
        "done",
        "计划已制定",
        "east@example.org",
    )
    assert_error(
        as_person("west@example.org").post(f"/tasks/{task_id}/reject", {"note": "x"}),
        404,
        "not_found",
    )
    assert_error(
        as_person("office@example.org").post(f"/tasks/{task_id}/reject", {}), 422, "invalid"
    )

    sent_back = as_person("office@example.org").post(
        f"/tasks/{task_id}/reject", {"note": "缺少责任分工"}
    )
    assert sent_back.status_code == 200 and sent_back.json["state"] == "open"


def test_advance_is_refused_with_409_listing_the_blockers(as_person, campaign, sessions):
    office = as_person("office@example.org")
    before = row_counts(sessions)
    answer = office.post(f"/campaigns/{campaign}/advance")

    assert_error(answer, 409, "conflict")
    blockers = answer.json["blockers"]
    assert sorted(
        (b["kind"], b["title"], b["unit"], b["assignee"], b["state"]) for b in blockers
    ) == [
        ("task", "制定创建活动计划", "东村", "李村长", "open"),
        ("task", "制定创建活动计划", "西村", "周村长", "open"),
        ("task", "召开动员大会", None, "赵主任", "open"),
    ]
    assert all(isinstance(b["id"], int) for b in blockers)
    assert row_counts(sessions) == before


def test_advance_moves_to_the_next_phase_once_the_work_is_done(as_person, campaign, sessions):
    with sessions() as session:
        task_ids = session.scalars(
            select(Task.id).where(Task.campaign_id == campaign, Task.required.is_(True))
        ).all()
    office = as_person("office@example.org")
    for task_id in task_ids:
        assert office.post(f"/tasks/{task_id}/complete").status_code == 200

    answer = office.post(f"/campaigns/{campaign}/advance")

    assert answer.status_code == 200, answer.json
    assert answer.json == {
        "campaign_id": campaign,
        "from": "mobilization",
        "to": "implementation",
        "tasks_created": 2,
    }


def test_a_village_head_may_not_advance_the_campaign(as_person, campaign):
    assert_error(
        as_person("east@example.org").post(f"/campaigns/{campaign}/advance"), 403, "forbidden"
    )


def test_the_campaign_status_is_shown_only_to_people_bound_to_it(as_person, campaign):
    status = as_person("east@example.org").get(f"/campaigns/{campaign}")
    assert status.status_code == 200
    # the advance is a coordinator's move: a village head is not offered it (issue 14)
    assert (status.json["state"], status.json["allowed_moves"], status.json["blocking"]) == (
        "mobilization",
        [],
        3,
    )

    assert_error(as_person("keeper@example.org").get(f"/campaigns/{campaign}"), 404, "not_found")
    assert_error(
        as_person("office@example.org").get(f"/campaigns/{campaign + 1000}"), 404, "not_found"
    )


def test_escalations_are_listed_newest_first_to_the_leading_group_only(
    as_person, campaign, sessions
):
    rect = register(as_person, campaign)
    # deadline 5-08: level 1 once it is over; level 2 three working days on (5-09 is a 调休 Saturday workday)
    for when in (shanghai(2026, 5, 9, 9, 0), shanghai(2026, 5, 13, 9, 0)):
        run_sweep(sessions, clock=FixedClock(when), mailer=None, base_url=BASE_URL)

    answer = as_person("leader@example.org").get(f"/campaigns/{campaign}/escalations")

    assert answer.status_code == 200
    reached = [row["reached_at"] for row in answer.json]
    assert reached == sorted(reached, reverse=True)
    of_hazard = [
        (row["level"], row["colour"], row["deadline"], row["recipients"])
        for row in answer.json
        if (row["item_kind"], row["item_id"]) == ("rectification", rect["id"])
    ]
    assert of_hazard == [
        (2, "red", "2026-05-08", ["deputy@example.org"]),
        (1, "yellow", "2026-05-08", ["east@example.org", "office@example.org"]),
    ]
    assert_error(
        as_person("east@example.org").get(f"/campaigns/{campaign}/escalations"), 404, "not_found"
    )


# --- the error shape and the document -----------------------------------------------------------


def test_unknown_routes_and_wrong_methods_answer_in_the_json_error_shape(as_person):
    office = as_person("office@example.org")
    assert_error(office.get("/no-such-thing"), 404, "not_found")
    assert_error(office.get("/rectifications/abc"), 404, "not_found")
    wrong_method = office.get("/tasks/1/complete")
    assert_error(wrong_method, 405, "method_not_allowed")
    assert "POST" in wrong_method.headers["Allow"]


def test_an_unexpected_error_is_a_json_500_that_reveals_nothing(app, campaign):
    def boom():
        raise RuntimeError("SELECT * FROM rectifications -- 道口护栏损坏")

    app.add_url_rule("/api/v1/boom", view_func=boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    answer = app.test_client().get("/api/v1/boom")

    assert answer.status_code == 500
    assert answer.json == {"error": "internal", "message": "internal error"}


def test_the_openapi_document_covers_every_route(app):
    document = app.test_client().get("/api/v1/openapi.json")
    assert document.status_code == 200, "the document needs no token"
    spec = document.json
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert set(spec["components"]["schemas"]["Error"]["required"]) == {"error", "message"}

    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method.lower() not in spec["paths"].get(path, {}):
                missing.append(f"{method} {path}")
    assert missing == []
    operation_ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


# --- helpers ------------------------------------------------------------------------------------


def sign_in_route(app: Flask) -> None:
    """A stand-in for the web UI's sign-in form (a later issue): signs a person in by id."""

    def sign_in(person_id):
        with wiring_of(app).transaction(readonly=True) as session:
            person = session.get(Person, person_id)
        login_user(SignedInPerson(person, app.config["SECRET_KEY"]))
        return "signed in"

    app.add_url_rule("/test-sign-in/<int:person_id>", view_func=sign_in, methods=["POST"])
