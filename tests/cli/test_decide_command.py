"""`pingan decide`: many items decided at once from the command line, one line per item; a batch that
cannot be read is one line on stderr, exit 1, and changes nothing. SQLite: the engine's rules are tested on
both databases in tests/engine/test_bulk_decisions.py."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.support.databases import row_counts
from tests.support.texts import RAILWAY, TOWN_WITH_CROSSING
from workflow.models import Task


@pytest.fixture
def db_url(sqlite_url):
    return sqlite_url


@pytest.fixture
def done(pingan, tmp_path, sessions):
    """The campaign's village-head plans, checked off by their assignees: (task ids)."""
    (tmp_path / "org.yaml").write_text(TOWN_WITH_CROSSING, encoding="utf-8")
    (tmp_path / "def.yaml").write_text(RAILWAY, encoding="utf-8")
    assert pingan("import-org", str(tmp_path / "org.yaml")).exit_code == 0
    started = pingan("start", str(tmp_path / "def.yaml"), "--org", "town", "--starts", "2026-05-01")
    assert started.exit_code == 0, started.output
    with sessions() as session:
        plans = session.execute(
            select(Task.id, Task.assignee_id).where(Task.spec_key == "plan").order_by(Task.id)
        ).all()
        emails = [session.get(Task, task).assignee.email for task, _ in plans]
    for (task, _), email in zip(plans, emails, strict=True):
        checked = pingan("task", "complete", str(task), "--as", email, "--note", "已制定")
        assert checked.exit_code == 0, checked.output
    return [task for task, _ in plans]


def test_the_office_verifies_two_plans_and_is_told_of_one_moved(pingan, done, sessions):
    first, second = done
    sent_back = pingan("task", "reject", str(first), "--as", "leader@example.org", "--note", "不全")
    assert sent_back.exit_code == 0, sent_back.output

    answer = pingan(
        "decide",
        "verify",
        f"task:{first}:done",
        f"task:{second}:done",
        "--as",
        "office@example.org",
    )

    assert answer.exit_code == 0, answer.output
    assert answer.stdout.splitlines() == [
        f"task {first}: moved meanwhile (done → open), left unchanged",
        f"task {second}: verify done, now verified",
    ]
    again = pingan("decide", "verify", f"task:{second}:done", "--json")
    assert json.loads(again.stdout)[0]["result"] == "moved"


def test_a_batch_that_cannot_be_read_is_one_line_and_changes_nothing(pingan, done, sessions):
    before = row_counts(sessions)
    for args in (
        ("reject", f"task:{done[0]}:done"),
        ("verify", "task:twelve:done"),
        ("reassign", f"task:{done[0]}:open"),
    ):
        answer = pingan("decide", *args, "--as", "office@example.org")
        assert answer.exit_code == 1 and len(answer.stderr.strip().splitlines()) == 1, answer.output
    assert row_counts(sessions) == before
