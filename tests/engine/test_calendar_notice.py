"""The daily digest tells the coordinators, from 1 November, that next year's official holiday schedule is
missing (issue 16), until it is entered. SQLite and PostgreSQL.

The town's railway campaign (``campaign``): the leader, the deputy and the office director coordinate it.
chinesecalendar knows 2026 and not 2027. 1 November 2026 is a Sunday (no digest on a day off): the first digest
of November is Monday the 2nd's. The 2027 entered below is a MADE-UP test schedule, NOT the State Council's.
"""

from __future__ import annotations

from sqlalchemy import select

from tests.support.actions import OPERATOR
from tests.support.clock import shanghai
from workflow.calendar import import_calendar, load_calendar
from workflow.calendar_files import parse_calendar_file
from workflow.escalation.digest import send_digests
from workflow.models import OutboxMail

COORDINATORS = {"office@example.org", "leader@example.org", "deputy@example.org"}
NOTICE_ZH = "2027 年的国务院节假日安排（放假和调休）尚未录入"
NOTICE_EN = (
    "The official 2027 holiday schedule (days off and adjusted workdays) has not been entered"
)
MADE_UP_2027 = "date,kind,name\n2027-01-01,off,测试元旦\n"


def digests(sessions, year: int, month: int, day: int, calendar=None) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """That day's digests at 9:00 (the calendar: what is entered, unless given): recipient → (subject, body)."""
    with sessions.begin() as session:
        send_digests(
            session,
            shanghai(year, month, day, 9),
            calendar or load_calendar(session),
            tz="Asia/Shanghai",
            hour=8,
            base_url="http://pingan.test",
        )
    with sessions() as session:
        return {
            recipient: (subject, body)
            for recipient, subject, body in session.execute(
                select(OutboxMail.recipient, OutboxMail.subject, OutboxMail.body).where(
                    OutboxMail.key.like(f"digest-{year}-{month:02d}-{day:02d}-%")
                )
            )
        }


def test_from_1_november_every_coordinator_is_told_next_year_s_schedule_is_missing(
    sessions, campaign
):
    # Friday 30 October: some digests go out (overdue work), none speaks of 2027
    october = digests(sessions, 2026, 10, 30)
    assert october, "the office director's meeting is overdue: there is a digest to look at"
    assert not any("2027" in subject + body for subject, body in october.values())

    november = digests(sessions, 2026, 11, 2)
    # every coordinator, those with nothing else to read included; the village heads are not told
    assert COORDINATORS <= set(november)
    for email in COORDINATORS:
        subject, body = november[email]
        assert "2027 年节假日安排未录入" in subject and "2027 holiday schedule missing" in subject
        assert NOTICE_ZH in body and NOTICE_EN in body, email
    for email, (subject, body) in november.items():
        if email not in COORDINATORS:
            assert "2027" not in subject + body, email


def test_once_next_year_is_entered_the_digest_says_nothing_of_it(sessions, campaign):
    with sessions.begin() as session:
        import_calendar(
            session,
            parse_calendar_file(MADE_UP_2027, "made-up-2027.csv", "csv"),
            by=OPERATOR,
            now=shanghai(2026, 11, 2, 8),
        )
    november = digests(sessions, 2026, 11, 3)
    assert "office@example.org" in november, (
        "the office director's overdue meeting: a digest to read"
    )
    assert not any(NOTICE_ZH in body for _, body in november.values())
    assert not any("2027" in subject for subject, _ in november.values())


def test_in_a_year_still_without_its_schedule_the_digest_keeps_saying_so(sessions, campaign):
    # Monday 4 January 2027: nobody entered 2027; the coordinators are still told
    january = digests(sessions, 2027, 1, 4)
    assert COORDINATORS <= set(january)
    assert all(NOTICE_ZH in january[email][1] for email in COORDINATORS)
