"""A due date or deadline counted over a year whose official holiday schedule is not entered (Monday–Friday, issue
16) is shown as an estimate wherever it is printed: 「预计」 next to exactly those dates, its reason in the title
and, on an item's own page, in the text (a phone has no hover); "estimate" in English; a marker in the report's
ledger CSV."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest

from tests.support.actions import BASE_URL, OPERATOR, sweep
from tests.support.clock import shanghai
from tests.support.web import register, task_id, text
from webapp import wiring_of
from workflow.calendar import WorkingCalendar
from workflow.clock import FixedClock
from workflow.models import Rectification, Task
from workflow.petitions.handling import PetitionReport, record_petition

EAST, WEST, LEADER = "east@example.org", "west@example.org", "leader@example.org"
REASON = "2027年节假日安排未录入，按周一至周五推算"
NOTE = f"（{REASON}）"
# the end of 2027-01-06 in Beijing, as stored
END_OF_DAY = datetime(2027, 1, 6, 16, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Marked:
    estimated_task: int  # east's plan, due 2027-01-06 (an estimate)
    plain_task: int  # west's plan, due 2026-05-15
    estimated_hazard: int  # east's, rectify by 2027-01-06 (an estimate)
    plain_hazard: int  # east's, rectify by 2026-05-08


@pytest.fixture
def marked(site) -> Marked:  # type: ignore[no-untyped-def]
    """The town's campaign on 2026-05-12 with east's plan and one of east's two hazards counted into 2027, as
    the engine stores a date counted over a year without the official calendar."""
    estimated_hazard = register(site, "道口护栏损坏")
    plain_hazard = register(site, "警示牌缺失")
    estimated_task = task_id(site, EAST, "plan")
    with wiring_of(site).transaction() as session:
        task = session.get(Task, estimated_task)
        task.due_on, task.due_at, task.due_estimated = date(2027, 1, 6), END_OF_DAY, True
        rect = session.get(Rectification, estimated_hazard)
        rect.deadline, rect.deadline_at, rect.deadline_estimated = (
            date(2027, 1, 6),
            END_OF_DAY,
            True,
        )
    return Marked(estimated_task, task_id(site, WEST, "plan"), estimated_hazard, plain_hazard)


def listed(page: str, kind: str, item_id: int) -> str:
    """The text of an item's line in a list marked with data-kind and data-id (the campaign page)."""
    found = re.search(rf'<li data-kind="{kind}" data-id="{item_id}">(.*?)</li>', page, re.S)
    assert found, (kind, item_id)
    return text(found.group(1))


def test_the_inbox_marks_exactly_the_estimated_dates(visitor, marked):
    page = visitor(EAST).page("/")
    assert "2027年1月6日 预计" in text(page, f"task-{marked.estimated_task}")
    assert "2027年1月6日 预计" in text(page, f"rectification-{marked.estimated_hazard}")
    assert "预计" not in text(page, f"rectification-{marked.plain_hazard}")
    # the reason is there for whoever points at the marker (or reads it aloud)
    assert f'title="预计：{REASON}"' in page and f'aria-label="预计：{REASON}"' in page
    assert page.count('class="badge estimate"') == 2


def test_the_item_pages_say_why_the_date_is_an_estimate(visitor, marked):
    east = visitor(EAST)
    task = text(east.page(f"/tasks/{marked.estimated_task}"))
    assert f"2027年1月6日 预计 {NOTE}" in task
    hazard = text(east.page(f"/rectifications/{marked.estimated_hazard}"))
    assert f"2027年1月6日 预计 {NOTE}" in hazard
    plain = text(east.page(f"/rectifications/{marked.plain_hazard}"))
    assert "预计" not in plain and "2026年5月8日" in plain
    plain_task = text(visitor(WEST).page(f"/tasks/{marked.plain_task}"))
    assert "2026年5月15日" in plain_task and "预计" not in plain_task


def test_the_campaign_page_marks_the_estimated_due_date_only(site, visitor, marked):
    page = visitor(LEADER).page(f"/campaigns/{site.campaign_id}")
    assert "2027年1月6日 预计" in listed(page, "task", marked.estimated_task)
    plain = listed(page, "task", marked.plain_task)
    assert "2026年5月15日" in plain and "预计" not in plain


def test_the_report_marks_the_estimated_deadline_on_the_page_and_in_the_csv(site, visitor, marked):
    leader = visitor(LEADER)
    page = leader.page(f"/campaigns/{site.campaign_id}/report")
    assert "2027年1月6日 预计" in text(page, f"ledger-{marked.estimated_hazard}")
    assert "预计" not in text(page, f"ledger-{marked.plain_hazard}")

    answer = leader.get(f"/campaigns/{site.campaign_id}/report.csv?table=ledger")
    header, *rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    estimate = header.index("预计 estimate")
    assert header[estimate - 1] == "逾期天数 days overdue", "added after the columns it found"
    by_id = {row[0]: row for row in rows}
    assert by_id[str(marked.estimated_hazard)][estimate] == f"预计 estimate：{REASON}"
    assert by_id[str(marked.plain_hazard)][estimate] == ""


def test_the_english_pages_say_estimate(visitor, marked):
    east = visitor(EAST)
    assert east.post("/language", {"language": "en", "next": "/"}).status_code == 302
    inbox = east.page("/")
    assert "6 Jan 2027 estimate" in text(inbox, f"task-{marked.estimated_task}")
    assert "estimate" not in text(inbox, f"rectification-{marked.plain_hazard}")
    task = text(east.page(f"/tasks/{marked.estimated_task}"))
    assert (
        "6 Jan 2027 estimate (the 2027 holiday schedule is not entered yet: counted Monday to Friday)"
        in task
    )


def escalation_line(page: str, rect_id: int) -> str:
    """The text of the escalation log's or leader view's item that links to rectification ``rect_id``."""
    for item in re.findall(r'<li class="item[^"]*colour-[^"]*">(.*?)</li>', page, re.S):
        if f'/rectifications/{rect_id}"' in item:
            return text(item)
    raise AssertionError(f"rectification {rect_id} is not listed")


def test_the_register_the_escalation_log_and_the_leader_view_mark_the_estimate(
    site, sessions, visitor, marked, smtp
):
    # level 1 on 2026-05-12 for the hazards due 2026-05-08; then one of them found to be an estimate
    loose = register(site, "栏杆松动")
    sweep(sessions, shanghai(2026, 5, 12, 9))
    with wiring_of(site).transaction() as session:
        session.get(Rectification, loose).deadline_estimated = True

    leader = visitor(LEADER)
    register_page = leader.page(f"/campaigns/{site.campaign_id}/hazards")
    assert "2026年5月8日 预计" in text(register_page, f"rectification-{loose}")
    assert "2027年1月6日 预计" in text(register_page, f"rectification-{marked.estimated_hazard}")
    assert "预计" not in text(register_page, f"rectification-{marked.plain_hazard}")

    log = leader.page(f"/campaigns/{site.campaign_id}/escalations")
    assert "2026年5月8日 预计" in escalation_line(log, loose)
    assert "预计" not in escalation_line(log, marked.plain_hazard)

    escalated = visitor("office@example.org").page("/leader")
    assert "2026年5月8日 预计" in escalation_line(escalated, loose)
    assert "预计" not in escalation_line(escalated, marked.plain_hazard)


def test_a_letter_s_deadline_is_marked_on_its_page_in_the_inbox_and_awaiting_a_decision(
    site, visitor
):
    with wiring_of(site).transaction() as session:
        petition = record_petition(
            session,
            site.campaign_id,
            PetitionReport(subject="反映道口夜间无人看守", unit="east-village"),
            by=OPERATOR,
            clock=FixedClock(shanghai(2026, 5, 11, 10)),
            calendar=WorkingCalendar(),
            base_url=BASE_URL,
        )
        petition.deadline, petition.deadline_at = date(2027, 1, 6), END_OF_DAY
        petition.deadline_estimated = True
        letter = petition.id
    east = visitor(EAST)
    assert f"2027年1月6日 预计 {NOTE}" in text(east.page(f"/petitions/{letter}"))
    assert "2027年1月6日 预计" in text(east.page("/"), f"petition-{letter}")
    awaiting = text(visitor("office@example.org").page("/"), "review")
    assert "反映道口夜间无人看守" in awaiting and "2027年1月6日 预计" in awaiting
