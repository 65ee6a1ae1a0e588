"""The inbox's bulk check-off with task ids no form of ours sends: refused like an unknown task,
never a 500, nothing checked off (issue 14, item 6)."""

from __future__ import annotations

import pytest

from tests.support.web import task_id
from webapp import wiring_of
from workflow.models import Task


@pytest.mark.parametrize(
    "odd",
    ["²", "٣", "9" * 4300, str(2**63), str(2**31)],
    ids=["superscript-two", "arabic-three", "4300-digits", "2^63", "2^31"],
)
def test_an_odd_task_id_beside_a_real_one_changes_nothing(site, visitor, odd):
    east = visitor("east@example.org")
    mine = task_id(site, "east@example.org", "plan")
    answer = east.post("/inbox/check-off", {"task_id": [str(mine), odd]})
    assert answer.status_code in (302, 303, 400, 404)
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.get(Task, mine).state == "open"
