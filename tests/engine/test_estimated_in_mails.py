"""A deadline counted over a year whose official holiday schedule is not entered (Monday–Friday, issue 16) reads
as an estimate in the mails: 「（预计）」 / "(estimate)" after the date, and once per mail the line that says why
and that it will be recomputed. A deadline that is no estimate reads as before."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from tests.support.actions import BASE_URL, register, sweep
from tests.support.clock import shanghai
from workflow.escalation.digest import send_digests
from workflow.mail.texts import ItemLine, hazard_registered_mail
from workflow.models import OutboxMail, Person, Rectification, Task

EXPLAINED = "标注“预计”的日期按周一至周五推算：2027年国务院节假日安排尚未录入，录入后将重新计算。"
EXPLAINED_EN = "Dates marked “estimate” are counted Monday to Friday"


def _two_hazards(sessions, campaign: int, calendar, *, estimate_first: bool) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Two hazards at 3号道口 due 2027-01-06, registered 2026-12-21; the first one's deadline marked as an
    estimate when asked."""
    guard = register(
        sessions, campaign, calendar, shanghai(2026, 12, 21, 10), deadline=date(2027, 1, 6)
    )
    lamp = register(
        sessions,
        campaign,
        calendar,
        shanghai(2026, 12, 21, 10),
        description="警示灯不亮",
        deadline=date(2027, 1, 6),
    )
    with sessions.begin() as session:
        for rect_id, estimated in ((guard, estimate_first), (lamp, False)):
            session.get(Rectification, rect_id).deadline_estimated = estimated
    return guard, lamp


def _blocks(body: str) -> dict[str, str]:
    """Each listed item's block of an escalation mail, by the item's title."""
    blocks: dict[str, str] = {}
    for part in re.split(r"\n\d+\. ", body)[1:]:
        title, _, rest = part.partition("\n")
        blocks[title] = rest.split("\n\n")[0]
    return blocks


def test_an_escalation_mail_marks_the_estimated_deadline_and_says_why_once(
    sessions, hazard_campaign, calendar, smtp
):
    _two_hazards(sessions, hazard_campaign, calendar, estimate_first=True)
    sweep(sessions, shanghai(2027, 1, 7, 9))  # level 1: overdue the day after the deadline

    body = smtp.to("office@example.org")[0]["body"].replace("\r\n", "\n")
    blocks = _blocks(body)
    assert "期限 deadline: 2027-01-06（预计） (estimate)" in blocks["道口护栏损坏"]
    assert "预计" not in blocks["警示灯不亮"] and "estimate" not in blocks["警示灯不亮"]
    assert "期限 deadline: 2027-01-06\n" in blocks["警示灯不亮"] + "\n"
    assert body.count(EXPLAINED) == 1 and body.count(EXPLAINED_EN) == 1


def test_an_escalation_mail_without_an_estimate_says_nothing_of_estimates(
    sessions, hazard_campaign, calendar, smtp
):
    _two_hazards(sessions, hazard_campaign, calendar, estimate_first=False)
    sweep(sessions, shanghai(2027, 1, 7, 9))

    body = smtp.to("office@example.org")[0]["body"].replace("\r\n", "\n")
    assert "期限 deadline: 2027-01-06\n" in body
    assert "预计" not in body and "estimate" not in body


def test_the_digest_marks_the_estimated_due_date_for_its_reader_only(sessions, campaign, calendar):
    # the village plans are due 2026-05-15, within 3 working days of 2026-05-12; east's is an estimate
    with sessions.begin() as session:
        east = session.scalar(select(Person.id).where(Person.email == "east@example.org"))
        plan = session.scalar(select(Task).where(Task.assignee_id == east, Task.spec_key == "plan"))
        plan.due_estimated = True
        send_digests(
            session,
            shanghai(2026, 5, 12, 8),
            calendar,
            tz="Asia/Shanghai",
            hour=8,
            base_url=BASE_URL,
        )
    with sessions() as session:
        bodies = dict(
            session.execute(
                select(OutboxMail.recipient, OutboxMail.body).where(
                    OutboxMail.key.like("digest-2026-05-12-%")
                )
            ).all()
        )
    east_body, west_body = bodies["east@example.org"], bodies["west@example.org"]
    assert "2026-05-15（预计） 到期 / due 2026-05-15 (estimate)" in east_body
    assert east_body.count("标注“预计”的日期按周一至周五推算：2026年国务院节假日安排尚未录入") == 1
    assert east_body.count(EXPLAINED_EN) == 1
    assert "2026-05-15 到期 / due 2026-05-15" in west_body
    assert "预计" not in west_body and "estimate" not in west_body


def test_the_hazard_notice_marks_an_estimated_deadline_in_its_subject_and_body():
    class Reader:
        name = "陈道口看守"

    line = ItemLine(
        "rectification",
        7,
        "道口护栏损坏",
        "3号道口",
        "东村",
        date(2027, 1, 6),
        "minor",
        0,
        "陈道口看守",
        None,
    )
    for estimated in (True, False):
        subject, body = hazard_registered_mail(
            recipient=Reader(),
            item=line._replace(estimated=estimated),
            campaign_title="平安铁路创建活动",
            registered_by="赵主任",
            base_url=BASE_URL,
        )
        if estimated:
            assert (
                "限 2027-01-06（预计） 前整改" in subject and "by 2027-01-06 (estimate)" in subject
            )
            assert "期限 deadline: 2027-01-06（预计） (estimate)" in body
            assert body.count(EXPLAINED) == 1
        else:
            assert "预计" not in subject + body and "estimate" not in subject + body
