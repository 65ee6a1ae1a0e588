"""An inspection's findings through the API and the command line (issue 17, item 3)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.api import assert_error
from tests.support.clock import shanghai
from tests.support.texts import INSPECTING, TOWN_WITH_CROSSING
from tests.support.web import started_site
from webapp import wiring_of
from workflow.models import Task
from workflow.organisation.tokens import issue_token


@pytest.fixture
def api(db_url, sessions, clock, tmp_path):
    app = started_site(db_url, sessions, clock, tmp_path, INSPECTING, opens_at=shanghai(2026, 5, 6))
    with sessions.begin() as session:
        token = issue_token(session, "east@example.org", clock.now())
        task_id = session.scalar(select(Task.id).where(Task.spec_key == "site-check"))
    client = app.test_client()

    def post(path, body):
        return client.post(
            f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"}
        )

    yield post, app.campaign_id, task_id
    wiring_of(app).engine.dispose()


def test_the_api_checks_an_inspection_off_only_with_its_findings(api):
    post, campaign_id, task_id = api
    refused = post(f"/tasks/{task_id}/complete", {"note": "已检查"})
    assert_error(refused, 422, "invalid")
    assert "is an inspection: record what it found" in refused.json["message"]
    assert_error(post(f"/tasks/{task_id}/complete", {"no_problems": "yes"}), 422, "invalid")
    done = post(f"/tasks/{task_id}/complete", {"no_problems": True})
    assert (done.status_code, done.json["state"], done.json["findings"]) == (200, "done", "none")


def test_the_api_registers_what_the_inspection_found(api):
    post, campaign_id, task_id = api
    found = post(
        f"/campaigns/{campaign_id}/hazards", {"description": "护栏松动", "task_id": task_id}
    )
    assert found.status_code == 201, found.json
    done = post(f"/tasks/{task_id}/complete", {})
    assert done.json["findings"] == "hazards"


@pytest.fixture
def db_url(sqlite_url):
    return sqlite_url  # the engine's rule is tested on both databases in tests/engine


def test_the_command_line_records_an_inspection_s_findings(pingan, tmp_path):
    (tmp_path / "org.yaml").write_text(TOWN_WITH_CROSSING, encoding="utf-8")
    (tmp_path / "def.yaml").write_text(INSPECTING, encoding="utf-8")
    assert pingan("import-org", str(tmp_path / "org.yaml")).exit_code == 0
    campaign = pingan(
        "start", str(tmp_path / "def.yaml"), "--org", "town", "--starts", "2026-05-01"
    )
    campaign_id = campaign.stdout.strip()
    refused = pingan("task", "complete", "1", "--as", "east@example.org")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: task 1 is an inspection: record what it found")
    found = pingan(
        "hazard",
        "register",
        campaign_id,
        "--task",
        "1",
        "--description",
        "护栏松动",
        "--as",
        "east@example.org",
    )
    assert found.exit_code == 0, found.output
    assert pingan("task", "complete", "1", "--as", "east@example.org").stdout == "task 1: done\n"
