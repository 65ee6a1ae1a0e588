"""Dates counted in working days over a year without the official calendar are estimates, stored as
such, and counted again when that year's schedule is entered (issue 16 item 5).

The schedules below are MADE UP for the test years 2030 and 2031: they are NOT the State Council's.
2030 is entered first (one made-up day off), so it is "the last year with data"; 2031 has none
until a test enters it. Made-up 2031: 1–3 January (Wed–Fri) off, Saturday 4 January worked.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from tests.support.actions import BASE_URL, OPERATOR, actor, register
from tests.support.clock import shanghai
from workflow.audit import trail
from workflow.calendar import WorkingCalendar, load_calendar
from workflow.calendar_files import parse_calendar_file
from workflow.clock import FixedClock, end_of_day
from workflow.durations import count, estimate_reason, parse_duration
from workflow.escalation.estimates import enter_year_schedule
from workflow.hazards.rectifications import submit_rectification, verify_rectification
from workflow.models import EscalationQueueEntry, OutboxMail, Petition, Rectification, Task
from workflow.petitions.handling import PetitionReport, record_petition

MADE_UP_2030 = "2030-10-01,off,测试国庆\n"
MADE_UP_2031 = (
    "2031-01-01,off,测试元旦\n2031-01-02,off,测试元旦\n2031-01-03,off,测试元旦\n"
    "2031-01-04,work,测试调休\n"
)
# made up as well: only a worked Saturday in early January (a holiday far from the counts)
MADE_UP_2031_WORKED_SATURDAY = "2031-01-04,work,测试调休\n2031-02-10,off,测试春节\n"
FRIDAY = shanghai(2030, 12, 27, 10)  # the last working Friday of 2030


def enter(sessions, text: str, year: int, when: datetime):  # type: ignore[no-untyped-def]
    """Enter a made-up schedule as ``pingan calendar import`` does; what the recount did."""
    with sessions.begin() as session:
        _record, summary = enter_year_schedule(
            session,
            parse_calendar_file(text, f"made-up-{year}.csv", "csv"),
            by=OPERATOR,
            now=when,
            base_url=BASE_URL,
        )
    return summary


def calendar_of(sessions) -> WorkingCalendar:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return load_calendar(session)


def estimate_of(sessions, rect: int) -> tuple:  # type: ignore[no-untyped-def]
    with sessions() as session:
        row = session.get(Rectification, rect)
        return (row.deadline, row.deadline_estimated, row.deadline_basis, row.deadline_rule)


def recounts(sessions, campaign: int, entity: str, item: int) -> list[tuple]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return [
            (e.from_state, e.to_state, e.actor)
            for e in trail(session, campaign, entity, item)
            if e.event == "recount"
        ]


def recount_mails(sessions) -> list[OutboxMail]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return list(session.scalars(select(OutboxMail).where(OutboxMail.key.like("recount-%"))))


def test_a_deadline_counted_into_a_year_without_data_is_an_estimate_until_the_year_is_entered(
    sessions, hazard_campaign
):
    enter(sessions, MADE_UP_2030, 2030, shanghai(2030, 11, 1, 9))
    # a major hazard's default is 5 working days: Mon–Fri assumed in 2031, so Friday 3 January
    rect = register(sessions, hazard_campaign, calendar_of(sessions), FRIDAY, severity="major")
    assert estimate_of(sessions, rect) == (date(2031, 1, 3), True, date(2030, 12, 27), "5wd")

    summary = enter(sessions, MADE_UP_2031, 2031, shanghai(2030, 12, 28, 9))

    # 30, 31 December, then 1–3 January off, Saturday 4th worked, Monday 6th, Tuesday 7th
    assert estimate_of(sessions, rect) == (date(2031, 1, 7), False, None, None)
    assert (summary.looked_at, summary.later, summary.earlier, summary.mails) == (1, 1, 0, 0)
    assert recounts(sessions, hazard_campaign, "rectification", rect) == [
        ("2031-01-03", "2031-01-07", "cli:test")
    ]
    with sessions() as session:
        row = session.get(Rectification, rect)
        assert row.deadline_at == end_of_day(date(2031, 1, 7), "Asia/Shanghai")
        assert row.original_deadline == date(2031, 1, 3)  # what it was registered with
        # escalation planned again for the new deadline, in a new round
        assert row.deadline_round == 1
        queued = session.scalars(
            select(EscalationQueueEntry.due_at).where(
                EscalationQueueEntry.item_kind == "rectification",
                EscalationQueueEntry.item_id == rect,
                EscalationQueueEntry.deadline_round == 1,
            )
        ).all()
    # the blue reminder: two working days before 7 January is Saturday the 4th (worked)
    assert queued == [end_of_day(date(2031, 1, 3), "Asia/Shanghai")]
    assert recount_mails(sessions) == []  # later: nobody needs telling


def test_a_deadline_moved_earlier_by_a_worked_saturday_mails_the_responsible_person(
    sessions, hazard_campaign
):
    enter(sessions, MADE_UP_2030, 2030, shanghai(2030, 11, 1, 9))
    # a minor hazard: 15 working days, Friday 17 January 2031 counted Mon–Fri
    rect = register(sessions, hazard_campaign, calendar_of(sessions), FRIDAY, severity="minor")
    assert estimate_of(sessions, rect) == (date(2031, 1, 17), True, date(2030, 12, 27), "15wd")

    summary = enter(sessions, MADE_UP_2031_WORKED_SATURDAY, 2031, shanghai(2030, 12, 30, 9))

    # Saturday 4 January is a working day: the 15th working day is Thursday the 16th
    assert estimate_of(sessions, rect) == (date(2031, 1, 16), False, None, None)
    assert (summary.earlier, summary.mails) == (1, 1)
    assert recounts(sessions, hazard_campaign, "rectification", rect) == [
        ("2031-01-17", "2031-01-16", "cli:test")
    ]
    (mail,) = recount_mails(sessions)
    assert mail.recipient == "keeper@example.org"
    assert "2031-01-17" in mail.subject and "2031-01-16" in mail.subject
    assert mail.subject.startswith("【期限提前】道口护栏损坏")
    assert "2031 年国务院节假日安排已录入" in mail.body
    assert "The State Council's 2031 holiday schedule was entered" in mail.body
    assert f"{BASE_URL}/rectifications/{rect}" in mail.body

    # the same file entered again: nothing left to count, nothing moves, nobody is mailed twice
    again = enter(sessions, MADE_UP_2031_WORKED_SATURDAY, 2031, shanghai(2030, 12, 30, 10))
    assert (again.looked_at, again.earlier, again.later) == (0, 0, 0)
    assert len(recount_mails(sessions)) == 1
    assert len(recounts(sessions, hazard_campaign, "rectification", rect)) == 1


def test_a_passed_or_closed_estimate_is_left_as_it_was(sessions, hazard_campaign):
    enter(sessions, MADE_UP_2030, 2030, shanghai(2030, 11, 1, 9))
    calendar = calendar_of(sessions)
    # three working days: Wednesday 1 January 2031, counted Mon–Fri; passed when 2031 is entered
    passed = register(sessions, hazard_campaign, calendar, FRIDAY, deadline_working_days=3)
    closed = register(sessions, hazard_campaign, calendar, FRIDAY, severity="major")
    still_open = register(sessions, hazard_campaign, calendar, FRIDAY, severity="major")
    keeper, office = actor(sessions, "keeper@example.org"), actor(sessions, "office@example.org")
    clock = FixedClock(shanghai(2030, 12, 30, 9))
    with sessions.begin() as session:
        submit_rectification(session, closed, by=keeper, clock=clock, note="已修复")
    with sessions.begin() as session:
        verify_rectification(session, closed, by=office, clock=clock)

    summary = enter(sessions, MADE_UP_2031, 2031, shanghai(2031, 1, 2, 9))

    assert estimate_of(sessions, passed) == (date(2031, 1, 1), True, date(2030, 12, 27), "3wd")
    assert estimate_of(sessions, closed) == (date(2031, 1, 3), True, date(2030, 12, 27), "5wd")
    assert estimate_of(sessions, still_open) == (date(2031, 1, 7), False, None, None)
    assert summary.looked_at == 1
    assert recounts(sessions, hazard_campaign, "rectification", passed) == []
    assert recounts(sessions, hazard_campaign, "rectification", closed) == []


def test_a_date_typed_in_or_counted_in_calendar_days_is_never_an_estimate(
    sessions, hazard_campaign
):
    enter(sessions, MADE_UP_2030, 2030, shanghai(2030, 11, 1, 9))
    calendar = calendar_of(sessions)
    typed = register(sessions, hazard_campaign, calendar, FRIDAY, deadline=date(2031, 1, 10))
    assert estimate_of(sessions, typed) == (date(2031, 1, 10), False, None, None)

    basis = date(2030, 12, 27)
    assert count(parse_duration("14d"), basis, calendar).estimated is False
    assert count(parse_duration("14d"), basis, calendar).day == date(2031, 1, 10)
    assert count(parse_duration("10wd"), basis, calendar).estimated is True
    assert count("-5wd", date(2031, 1, 10), calendar).estimated is True
    assert count(parse_duration("1wd"), basis, calendar).estimated is False  # Monday 30 December

    # a letter's default is 60 calendar days (信访条例): never an estimate; a working-day one is
    with sessions.begin() as session:
        letter, counted = (
            record_petition(
                session,
                hazard_campaign,
                PetitionReport(
                    subject=subject,
                    responsible="keeper@example.org",
                    deadline_working_days=working_days,
                ),
                by=OPERATOR,
                clock=FixedClock(FRIDAY),
                calendar=calendar,
                base_url=BASE_URL,
            ).id
            for subject, working_days in (("道口噪声", None), ("道口积水", 5))
        )
    summary = enter(sessions, MADE_UP_2031, 2031, shanghai(2030, 12, 28, 9))
    with sessions() as session:
        rows = {p.id: p for p in session.scalars(select(Petition))}
    assert (rows[letter].deadline, rows[letter].deadline_estimated) == (date(2031, 2, 25), False)
    assert (rows[counted].deadline, rows[counted].deadline_estimated) == (date(2031, 1, 7), False)
    assert recounts(sessions, hazard_campaign, "petition", counted) == [
        ("2031-01-03", "2031-01-07", "cli:test")
    ]
    assert summary.looked_at == 1
    assert "2031 年国务院节假日安排尚未录入" in estimate_reason(2031)


def test_an_estimated_task_due_date_is_counted_again_either_way(sessions, hazard_campaign):
    enter(sessions, MADE_UP_2030, 2030, shanghai(2030, 11, 1, 9))
    zone = "Asia/Shanghai"
    # until task rows store it themselves: two open tasks made estimates by hand, one counting
    # forward from Friday 27 December, one counting back from Friday 10 January
    with sessions.begin() as session:
        first, second, *_ = session.scalars(
            select(Task).where(Task.campaign_id == hazard_campaign).order_by(Task.id)
        ).all()
        for task, day, basis, rule in (
            (first, date(2031, 1, 3), date(2030, 12, 27), "5wd"),
            (second, date(2031, 1, 3), date(2031, 1, 10), "-5wd"),
        ):
            task.due_on, task.due_at = day, end_of_day(day, zone)
            task.due_estimated, task.due_basis, task.due_rule = True, basis, rule
        ids = first.id, second.id

    summary = enter(sessions, MADE_UP_2031, 2031, shanghai(2030, 12, 28, 9))

    with sessions() as session:
        rows = [session.get(Task, task_id) for task_id in ids]
        assert [(t.due_on, t.due_estimated, t.due_basis, t.due_rule) for t in rows] == [
            (date(2031, 1, 7), False, None, None),
            # back from the 10th: 9, 8, 7, 6, then Saturday 4th (worked)
            (date(2031, 1, 4), False, None, None),
        ]
        assert rows[0].due_at == end_of_day(date(2031, 1, 7), zone)
        queued = session.scalar(
            select(func.count())
            .select_from(EscalationQueueEntry)
            .where(
                EscalationQueueEntry.item_kind == "task",
                EscalationQueueEntry.item_id == ids[0],
                EscalationQueueEntry.due_at == end_of_day(date(2031, 1, 3), zone),
            )
        )
    assert queued == 1  # the reminder for the new due date (the screening task is required)
    assert summary.later == 2 and summary.mails == 0
    assert recounts(sessions, hazard_campaign, "task", ids[1]) == [
        ("2031-01-03", "2031-01-04", "cli:test")
    ]


def test_the_import_command_says_what_it_counted_again(sessions, hazard_campaign, pingan, tmp_path):
    enter(sessions, MADE_UP_2030, 2030, shanghai(2030, 11, 1, 9))
    rect = register(sessions, hazard_campaign, calendar_of(sessions), FRIDAY, severity="major")
    path = tmp_path / "made-up-2031.csv"
    path.write_text(MADE_UP_2031, encoding="utf-8")

    result = pingan("calendar", "import", str(path))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "2031: 3 holiday day(s) and 1 adjusted workday(s) entered from made-up-2031.csv",
        "1 open estimated date(s) counted again: 0 earlier (0 mail(s) queued), 1 later, "
        "0 on the same day; 0 still estimated",
    ]
    assert estimate_of(sessions, rect) == (date(2031, 1, 7), False, None, None)
