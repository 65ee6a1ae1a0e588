"""The outbox as the people waiting for its mail see it: a subject is one line whatever was typed,
and a mail that can never be sent is marked failed once without holding up the ones behind it.
Mail is read from a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, select

from tests.support.actions import register, sweep
from tests.support.clock import shanghai
from workflow.audit import Actor
from workflow.limits import SUBJECT_LIMIT
from workflow.mail.outbox import mail_row, one_line
from workflow.models import OutboxMail
from workflow.organisation.directory import person_by_email
from workflow.views.undelivered import undeliverable_mails

WHEN = shanghai(2026, 9, 21, 10)


def test_a_hazard_described_on_two_lines_is_mailed_with_a_one_line_subject(
    sessions, hazard_campaign, calendar, smtp
):
    register(
        sessions,
        hazard_campaign,
        calendar,
        WHEN,
        description="道口护栏损坏\r\n右侧立柱\t倾斜",
        deadline=date(2026, 9, 29),
    )
    summary = sweep(sessions, shanghai(2026, 9, 21, 10, 1))
    assert (summary.delivery.sent, summary.delivery.failed, summary.delivery.waiting) == (1, 0, 0)
    subject = smtp.to("keeper@example.org")[0]["subject"]
    assert "\n" not in subject and "\r" not in subject
    # (RFC 2047 decoding drops the white space between encoded words, so compare without it)
    assert subject.replace(" ", "").startswith(
        "【隐患整改通知】道口护栏损坏右侧立柱倾斜，限2026-09-29前整改"
    )


def test_a_mail_queued_with_a_line_break_before_the_fix_is_sent_all_the_same(
    sessions, hazard_campaign, smtp
):
    with sessions.begin() as session:
        row = mail_row(key="old-1", recipient="keeper@example.org", subject="x", body="b", now=WHEN)
        row["subject"] = (
            "【隐患整改通知】道口护栏损坏\n右侧立柱倾斜"  # as an older version wrote it
        )
        session.execute(insert(OutboxMail), [row])
    assert sweep(sessions, WHEN).delivery.sent == 1
    subject = smtp.to("keeper@example.org")[0]["subject"]
    assert subject.replace(" ", "") == "【隐患整改通知】道口护栏损坏右侧立柱倾斜"


def test_a_long_subject_is_cut_to_the_limit_with_an_ellipsis():
    subject = one_line("隐患 " * 150)
    assert len(subject) == SUBJECT_LIMIT and subject.endswith("…")
    assert one_line("  a \n\n b\t c  ") == "a b c"


def test_a_mail_refused_for_good_is_failed_once_and_the_sixty_behind_it_still_go(
    sessions, hazard_campaign, smtp
):
    smtp.refuse["gone@example.org"] = "550 5.1.1 no such mailbox"
    rows = [mail_row(key="m-00", recipient="gone@example.org", subject="先", body="b", now=WHEN)]
    rows += [
        mail_row(
            key=f"m-{n:02}", recipient="office@example.org", subject=f"第{n}封", body="b", now=WHEN
        )
        for n in range(1, 62)
    ]
    with sessions.begin() as session:
        session.execute(insert(OutboxMail), rows)

    first = sweep(sessions, WHEN)
    assert (first.delivery.sent, first.delivery.failed, first.delivery.waiting) == (61, 1, 0)
    assert len(smtp.to("office@example.org")) == 61
    with sessions() as session:
        failed = session.execute(
            select(OutboxMail.failed_at, OutboxMail.last_error).where(OutboxMail.key == "m-00")
        ).one()
    assert failed.failed_at is not None and "550" in failed.last_error

    smtp.refuse.clear()  # never retried, even once the address would work
    later = sweep(sessions, shanghai(2026, 9, 22, 10))
    assert (later.delivery.sent, later.delivery.failed) == (0, 0)
    assert smtp.to("gone@example.org") == []


def test_a_temporary_refusal_of_one_mail_is_retried_and_does_not_stop_the_others(
    sessions, hazard_campaign, smtp
):
    smtp.refuse["busy@example.org"] = "451 4.3.0 mailbox busy, try later"
    rows = [mail_row(key="t-0", recipient="busy@example.org", subject="先", body="b", now=WHEN)]
    rows += [
        mail_row(key=f"t-{n}", recipient="office@example.org", subject="后", body="b", now=WHEN)
        for n in range(1, 60)
    ]
    with sessions.begin() as session:
        session.execute(insert(OutboxMail), rows)
    first = sweep(sessions, WHEN)
    assert (first.delivery.sent, first.delivery.waiting) == (59, 1)
    smtp.refuse.clear()
    assert sweep(sessions, shanghai(2026, 9, 21, 11)).delivery.sent == 1
    assert len(smtp.to("busy@example.org")) == 1


def test_a_header_no_mail_can_carry_is_failed_at_once(sessions, hazard_campaign, smtp):
    with sessions.begin() as session:
        session.execute(
            insert(OutboxMail),
            [
                mail_row(
                    key="h-1",
                    recipient="x@example.org\nBcc: all@example.org",
                    subject="s",
                    body="b",
                    now=WHEN,
                ),
                mail_row(
                    key="h-2", recipient="office@example.org", subject="s", body="b", now=WHEN
                ),
            ],
        )
    summary = sweep(sessions, WHEN)
    assert (summary.delivery.sent, summary.delivery.failed, summary.delivery.waiting) == (1, 1, 0)
    with sessions() as session:
        error = session.scalar(
            select(OutboxMail.last_error).where(OutboxMail.failed_at.is_not(None))
        )
    assert error.startswith("Undeliverable:")


def test_the_leading_group_sees_the_mails_given_up_on_the_escalation_log(
    sessions, hazard_campaign, smtp
):
    smtp.refuse["gone@example.org"] = "550 5.1.1 no such mailbox"
    with sessions.begin() as session:
        session.execute(
            insert(OutboxMail),
            [
                mail_row(
                    key="g-1",
                    recipient="gone@example.org",
                    subject="【隐患整改通知】道口护栏损坏",
                    body="b",
                    now=WHEN,
                    campaign_id=hazard_campaign,
                )
            ],
        )
    sweep(sessions, WHEN)
    with sessions() as session:
        office = Actor.person(person_by_email(session, "office@example.org"))
        listed = undeliverable_mails(session, hazard_campaign, office)
    assert [(m.recipient, m.subject) for m in listed] == [
        ("gone@example.org", "【隐患整改通知】道口护栏损坏")
    ]
    assert "550" in listed[0].reason
