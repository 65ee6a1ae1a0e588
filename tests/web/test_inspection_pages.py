"""An inspection on its page (issue 17, item 3): its inspector registers what it found there, is
refused a check-off with nothing recorded, checks it off with "no problems found"; the report lists
the inspections with their findings, and the ledger which one found each hazard."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.clock import shanghai
from tests.support.texts import INSPECTING
from tests.support.web import Visitor, started_site, text
from webapp import wiring_of
from workflow.models import Rectification, Task


@pytest.fixture
def site(db_url, sessions, clock, tmp_path):
    app = started_site(
        db_url, sessions, clock, tmp_path, INSPECTING, opens_at=shanghai(2026, 5, 6, 9)
    )
    yield app
    wiring_of(app).engine.dispose()


@pytest.fixture
def inspection(sessions):
    with sessions() as session:
        return session.scalar(select(Task.id).where(Task.spec_key == "site-check"))


def signed_in(site, email):
    person = Visitor(site.test_client())
    assert person.sign_in(email).status_code == 302
    return person


def after(visitor, answer):
    """The page a post's redirect leads to, as the person sees it."""
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return visitor.page(answer.headers["Location"])


def test_the_inspector_records_findings_on_the_inspection_page(site, sessions, inspection):
    east = signed_in(site, "east@example.org")  # 李村长: 3号道口's keeper, no coordinator
    page = east.page(f"/tasks/{inspection}")
    assert "检查发现" in text(page, "findings") and "尚未记录检查结果" in text(page, "findings")

    refused = after(east, east.post(f"/tasks/{inspection}/complete", {"note": "已检查"}))
    assert "是一次检查：办结前请记录检查结果" in text(refused)
    with sessions() as session:
        assert session.get(Task, inspection).state == "open", "nothing was checked off"

    shown = after(
        east,
        east.post(
            f"/tasks/{inspection}/hazards",
            {
                "description": "道口护栏松动",
                "severity": "minor",
                "temporary_measures": "设置警示标志",
                "next": f"/tasks/{inspection}",
            },
        ),
    )
    assert "道口护栏松动" in text(shown, "findings")
    with sessions() as session:
        hazard = session.scalar(select(Rectification))
        assert (hazard.task_id, hazard.site.code, hazard.temporary_measures) == (
            inspection,
            "crossing-3",
            "设置警示标志",
        )
    done = after(east, east.post(f"/tasks/{inspection}/complete", {"note": "已检查"}))
    assert "已办结：要害部位安全检查" in text(done)
    with sessions() as session:
        assert (session.get(Task, inspection).state, session.get(Task, inspection).findings) == (
            "done",
            "hazards",
        )

    report = signed_in(site, "office@example.org").page(f"/campaigns/{site.campaign_id}/report")
    assert "发现隐患 1 项" in text(report, "inspections")
    assert f"发现于：要害部位安全检查 #{inspection}" in text(report, "ledger")


def test_an_inspection_that_found_nothing_is_checked_off_with_no_problems(
    site, sessions, inspection
):
    east = signed_in(site, "east@example.org")
    after(east, east.post(f"/tasks/{inspection}/complete", {"no_problems": "y"}))
    with sessions() as session:
        assert session.get(Task, inspection).findings == "none"
    assert "未发现问题。" in text(east.page(f"/tasks/{inspection}"), "findings")
    report = signed_in(site, "office@example.org").page(f"/campaigns/{site.campaign_id}/report")
    assert "已记录检查 1 次：1 次未发现问题，0 次发现隐患。" in text(report, "inspections")


def test_someone_else_cannot_register_from_the_inspection(site, sessions, inspection):
    west = signed_in(site, "west@example.org")
    answer = west.post(f"/tasks/{inspection}/hazards", {"description": "伪造的隐患"})
    assert answer.status_code == 404, "someone else's task does not exist for him"
    with sessions() as session:
        assert session.scalar(select(Rectification)) is None
