"""The coordinator's page of decisions on many items (/decisions): select, confirm once, see each item's
outcome; a reload or a second post of the confirmation decides nothing twice. SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.support.actions import actor
from tests.support.desk import laid_out
from tests.support.web import text
from workflow.campaigns.tasks import reject_task
from workflow.models import AuditEvent, Rectification, Task


@pytest.fixture
def desk(site, sessions, clock, calendar):
    return laid_out(sessions, site.campaign_id, clock, calendar)


def values(desk):
    return [f"task:{t}:done" for t in desk.done_tasks] + [
        f"rectification:{r}:submitted" for r in desk.submitted
    ]


def confirmed(office, data):
    """The confirmation page for ``data``, and the form it carries to apply (with its one-time key)."""
    page = office.post("/decisions/confirm", data)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    html = page.get_data(as_text=True)
    key = re.search(r'name="form_key"[^>]*value="([^"]+)"', html).group(1)
    return html, {**data, "form_key": key}


def verified_count(sessions, campaign):
    with sessions() as session:
        return session.scalar(
            select(func.count()).where(
                AuditEvent.event == "verify", AuditEvent.campaign_id == campaign
            )
        )


def test_a_coordinator_verifies_many_once_and_sees_each_outcome(visitor, desk, sessions, clock):
    office = visitor("office@example.org")
    page = office.page("/decisions")
    for value in values(desk):
        assert f'value="{value}"' in page
    moved = desk.done_tasks[0]
    with sessions.begin() as session:  # the leader sends one back while the office decides
        reject_task(
            session, moved, by=actor(sessions, "leader@example.org"), clock=clock, note="不全"
        )

    html, form = confirmed(office, {"item": values(desk), "decision": "verify", "note": "同意"})
    assert f"确认审核通过 {len(values(desk))} 项？" in html
    assert verified_count(sessions, desk.campaign) == 0, "the confirmation changes nothing"

    answer = office.post("/decisions/apply", form)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/decisions/result")
    result = office.page("/decisions/result")
    assert f'id="outcome-task-{moved}" data-result="moved"' in result
    # in Chinese, the reader's language: which one moved, from what to what
    assert "期间已变动，未作更改" in text(result, f"outcome-task-{moved}")
    assert "原为「已办结」，现为「未完成」" in text(result, f"outcome-task-{moved}")
    for rect in desk.submitted:
        assert f'id="outcome-rectification-{rect}" data-result="decided"' in result
    with sessions() as session:
        assert session.get(Task, moved).state == "open"
        assert {session.get(Rectification, r).state for r in desk.submitted} == {"closed"}
    decided = verified_count(sessions, desk.campaign)
    assert decided == len(values(desk)) - 1

    # a reload of the result, a second post of the confirmation: nothing is decided twice
    assert office.page("/decisions/result") == result
    again = office.post("/decisions/apply", form)
    assert again.status_code == 302
    assert verified_count(sessions, desk.campaign) == decided


def test_a_rejection_needs_its_reason_before_the_confirmation(visitor, desk, sessions):
    office = visitor("office@example.org")
    answer = office.post("/decisions/confirm", {"item": values(desk), "decision": "reject"})
    assert answer.status_code == 302 and "/decisions" in answer.headers["Location"]
    html, form = confirmed(
        office,
        {"item": values(desk), "decision": "reject", "note": "照片不清楚", "working_days": "3"},
    )
    assert office.post("/decisions/apply", form).status_code == 302
    with sessions() as session:
        assert {session.get(Task, t).state for t in desk.done_tasks} == {"open"}


def test_a_village_head_is_refused_each_item_and_changes_nothing(visitor, desk, sessions):
    east = visitor("east@example.org")
    assert "task:" not in east.page("/decisions")
    html, form = confirmed(east, {"item": values(desk), "decision": "verify"})
    assert east.post("/decisions/apply", form).status_code == 302
    result = east.page("/decisions/result")
    assert result.count('data-result="refused"') == len(values(desk))
    assert "道口护栏损坏" not in result, "nothing of the items is told"
    assert verified_count(sessions, desk.campaign) == 0


def test_reassigning_open_work_from_the_page(visitor, desk, sessions):
    office = visitor("office@example.org")
    page = office.page("/decisions")
    open_values = sorted(set(re.findall(r'value="((?:task|rectification):\d+:open)"', page)))
    assert open_values
    html, form = confirmed(
        office, {"item": open_values, "decision": "reassign", "to": "deputy@example.org"}
    )
    assert office.post("/decisions/apply", form).status_code == 302
    result = office.page("/decisions/result")
    assert result.count('data-result="decided"') == len(open_values)
    with sessions() as session:
        ids = [int(v.split(":")[1]) for v in open_values if v.startswith("task:")]
        assert {session.get(Task, t).assignee.email for t in ids} == {"deputy@example.org"}
