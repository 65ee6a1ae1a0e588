"""Stand-ins while away (代理, issue #19 item 4): a stand-in named for a range of dates gets the absent person's
mails marked 「代 张三」 during it and not after, acts on their items with the audit trail naming both, resolves
through a chain, and is refused for a loop, an outsider or someone with no say."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.support.actions import BASE_URL, OPERATOR, actor, person_id, register, sweep
from tests.support.clock import shanghai
from workflow.audit import trail
from workflow.campaigns.reassign import reassign_task
from workflow.campaigns.tasks import complete_task
from workflow.clock import FixedClock
from workflow.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflow.escalation.digest import send_digests
from workflow.hazards.rectifications import get_rectification, submit_rectification
from workflow.models import OutboxMail, Person, Rectification, Task
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation
from workflow.people.stand_ins import (
    absent_for,
    acting_for,
    end_stand_in,
    name_stand_in,
    stand_ins_of,
)
from workflow.views.inbox import inbox_page
from workflow.worklists.filters import WorkFilter

NAMED_AT = FixedClock(shanghai(2026, 9, 21, 9))

OTHER_TOWN = """
units:
  - id: river-town
    name: 河镇
people:
  - {email: river@example.org, name: 钱镇长, unit: river-town, roles: []}
"""


def name(sessions, away: str, standing: str, starts: date, ends: date, by=None) -> int:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        return name_stand_in(
            session,
            person_id(sessions, away),
            person_id(sessions, standing),
            starts,
            ends,
            by=by or actor(sessions, away),
            clock=NAMED_AT,
        ).id


def test_the_stand_in_gets_the_new_item_and_escalation_mails_during_the_range_and_not_after(
    sessions, hazard_campaign, calendar, smtp
):
    first = register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    name(sessions, "keeper@example.org", "west@example.org", date(2026, 9, 28), date(2026, 9, 30))
    sweep(sessions, shanghai(2026, 9, 21, 10))
    sweep(sessions, shanghai(2026, 9, 24, 8))  # the keeper's reminder
    assert len(smtp.to("keeper@example.org")) == 2
    assert smtp.to("west@example.org") == [], "not before the range"

    second = register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 29, 10), deadline=date(2026, 10, 20)
    )
    sweep(sessions, shanghai(2026, 9, 29, 10))
    [registered] = smtp.to("west@example.org")
    assert "代 陈道口看守" in registered["subject"] and "【隐患整改通知】" in registered["subject"]
    assert f"/rectifications/{second}" in registered["body"]

    sweep(sessions, shanghai(2026, 9, 30, 0, 30))  # level 1 of the first, the keeper away
    escalated = smtp.to("west@example.org")[1:]
    assert [
        m["subject"].startswith("【代 陈道口看守 / for 陈道口看守】【黄色催办·第1级】")
        for m in escalated
    ] == [True]
    body = escalated[0]["body"]
    assert body.startswith("周村长（代 陈道口看守）：")
    assert "You stand in for 陈道口看守" in body and f"/rectifications/{first}" in body
    assert len(smtp.to("keeper@example.org")) == 4, "the keeper is told as ever"

    before = len(smtp.messages)
    sweep(sessions, shanghai(2026, 10, 21, 9))  # level 1 of the second: the range is over
    arrived = [r for m in smtp.messages[before:] for r in m["to"]]
    assert "keeper@example.org" in arrived
    assert "west@example.org" not in arrived, "it ends by itself"


def test_a_chain_resolves_to_its_end_and_a_loop_is_refused(sessions, hazard_campaign):
    keeper, east, west = (
        person_id(sessions, e)
        for e in ("keeper@example.org", "east@example.org", "west@example.org")
    )
    name(sessions, "keeper@example.org", "east@example.org", date(2026, 10, 1), date(2026, 10, 7))
    name(sessions, "east@example.org", "west@example.org", date(2026, 10, 3), date(2026, 10, 5))
    with sessions() as session:
        assert acting_for(session, keeper, date(2026, 10, 2)) == east
        assert acting_for(session, keeper, date(2026, 10, 4)) == west, "A → B, B away → C: C"
        assert acting_for(session, keeper, date(2026, 10, 8)) is None
        assert absent_for(session, west, date(2026, 10, 4)) == sorted([keeper, east])
        assert absent_for(session, east, date(2026, 10, 4)) == []

    with pytest.raises(Conflict, match="cannot close a loop"):
        name(
            sessions, "west@example.org", "keeper@example.org", date(2026, 10, 4), date(2026, 10, 4)
        )
    with pytest.raises(Conflict, match="cannot close a loop"):
        name(sessions, "west@example.org", "east@example.org", date(2026, 10, 5), date(2026, 10, 9))
    with sessions.begin() as session:  # west leaves: the chain stops at east
        session.get(Person, west).active = False
    with sessions() as session:
        assert acting_for(session, keeper, date(2026, 10, 4)) == east
    with sessions.begin() as session:
        session.get(Person, west).active = True
    # after the chain's days the same names make no loop
    name(sessions, "west@example.org", "keeper@example.org", date(2026, 10, 10), date(2026, 10, 12))
    with pytest.raises(Conflict, match="already has a stand-in"):
        name(
            sessions, "keeper@example.org", "west@example.org", date(2026, 10, 7), date(2026, 10, 9)
        )


def test_the_stand_in_acts_on_the_absent_person_s_items_and_the_trail_names_both(
    sessions, hazard_campaign, calendar
):
    rect = register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    row = name(
        sessions, "keeper@example.org", "west@example.org", date(2026, 9, 28), date(2026, 9, 30)
    )
    name(sessions, "east@example.org", "west@example.org", date(2026, 9, 28), date(2026, 9, 30))
    west = actor(sessions, "west@example.org")
    east_id, keeper_id = (
        person_id(sessions, "east@example.org"),
        person_id(sessions, "keeper@example.org"),
    )

    with pytest.raises(NotFound), sessions.begin() as session:  # not yet: the keeper's is private
        submit_rectification(
            session, rect, by=west, clock=FixedClock(shanghai(2026, 9, 27, 23)), note="已修复"
        )
    with sessions.begin() as session:
        submit_rectification(
            session, rect, by=west, clock=FixedClock(shanghai(2026, 9, 28, 0, 5)), note="已修复"
        )
        east_task = session.scalar(select(Task.id).where(Task.assignee_id == east_id))
        complete_task(session, east_task, by=west, clock=FixedClock(shanghai(2026, 9, 30, 23)))
    with sessions() as session:
        assert session.get(Rectification, rect).state == "submitted"
        assert session.get(Task, east_task).state == "done"
        moves = [
            (e.entity, e.event, e.actor, e.actor_id)
            for e in trail(session, hazard_campaign)
            if e.event in ("submit", "complete")
        ]
    west_id = west.person_id
    assert moves == [
        ("rectification", "submit", "west@example.org for keeper@example.org", west_id),
        ("task", "complete", "west@example.org for east@example.org", west_id),
    ]

    with sessions.begin() as session:
        end_stand_in(session, row, by=OPERATOR, clock=NAMED_AT)
        assert stand_ins_of(session, keeper_id, date(2026, 9, 1)) == []
    with pytest.raises(NotFound), sessions.begin() as session:  # ended: no longer theirs
        get_rectification(session, rect, west, shanghai(2026, 9, 29, 9))


def test_an_outsider_an_inactive_person_and_someone_with_no_say_are_refused(
    sessions, hazard_campaign
):
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(OTHER_TOWN, "river.yaml"))
    days = (date(2026, 10, 1), date(2026, 10, 7))
    with pytest.raises(InvalidInput, match="not of keeper@example.org's organisation"):
        name(sessions, "keeper@example.org", "river@example.org", *days)
    with pytest.raises(InvalidInput, match="has passed"):
        name(
            sessions, "keeper@example.org", "west@example.org", date(2026, 9, 1), date(2026, 9, 20)
        )
    with pytest.raises(InvalidInput, match="is before the first"):
        name(sessions, "keeper@example.org", "west@example.org", days[1], days[0])
    with pytest.raises(InvalidInput, match="themselves"):
        name(sessions, "keeper@example.org", "keeper@example.org", *days)
    with pytest.raises(Forbidden, match="may name their stand-in"):
        name(
            sessions,
            "keeper@example.org",
            "west@example.org",
            *days,
            by=actor(sessions, "east@example.org"),
        )
    # a coordinator of the keeper's campaign? The keeper holds no role: only themself or an administrator
    name(sessions, "keeper@example.org", "west@example.org", *days, by=OPERATOR)
    # the office director coordinates the campaign the village head is in
    name(
        sessions,
        "east@example.org",
        "west@example.org",
        *days,
        by=actor(sessions, "office@example.org"),
    )


def test_the_stand_in_s_inbox_lists_the_absent_person_s_open_items_during_the_range(
    sessions, hazard_campaign, calendar
):
    rect = register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    name(sessions, "keeper@example.org", "west@example.org", date(2026, 9, 28), date(2026, 9, 30))
    west = person_id(sessions, "west@example.org")

    def listed(when) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
        with sessions() as session:
            paged = inbox_page(
                session, west, WorkFilter(), clock=FixedClock(when), calendar=calendar
            )
            return [(item.kind, item.id) for item in paged.inbox.items()]

    assert ("rectification", rect) not in listed(shanghai(2026, 9, 27, 23))
    during = listed(shanghai(2026, 9, 28, 9))
    assert ("rectification", rect) in during
    assert any(kind == "task" for kind, _id in during), "west's own task as ever"
    assert ("rectification", rect) not in listed(shanghai(2026, 10, 1, 0, 5)), "it ends by itself"


def test_a_task_given_to_someone_away_reaches_their_stand_in_too(sessions, hazard_campaign, smtp):
    name(sessions, "east@example.org", "west@example.org", date(2026, 9, 28), date(2026, 9, 30))
    office = actor(sessions, "office@example.org")
    with sessions() as session:
        task = session.scalar(
            select(Task.id).where(Task.assignee_id == person_id(sessions, "west@example.org"))
        )
    with sessions.begin() as session:
        reassign_task(
            session,
            task,
            "east@example.org",
            by=office,
            clock=FixedClock(shanghai(2026, 9, 29, 9)),
            base_url=BASE_URL,
        )
    sweep(sessions, shanghai(2026, 9, 29, 9))
    [copy] = smtp.to("west@example.org")
    assert copy["subject"].startswith("【代 李村长 / for 李村长】")
    assert f"/tasks/{task}" in copy["body"]
    assert len(smtp.to("east@example.org")) == 1


def test_the_stand_in_reads_the_absent_person_s_daily_digest_too(
    sessions, hazard_campaign, calendar
):
    register(
        sessions, hazard_campaign, calendar, shanghai(2026, 9, 21, 10), deadline=date(2026, 9, 29)
    )
    name(sessions, "keeper@example.org", "west@example.org", date(2026, 9, 28), date(2026, 9, 30))

    def digests(day: int) -> dict[str, str]:
        with sessions.begin() as session:
            send_digests(
                session,
                shanghai(2026, 9, day, 9),
                calendar,
                tz="Asia/Shanghai",
                hour=8,
                base_url=BASE_URL,
            )
        with sessions() as session:
            return dict(
                session.execute(
                    select(OutboxMail.recipient, OutboxMail.subject).where(
                        OutboxMail.key.like(f"digest-2026-09-{day:02d}-%")
                    )
                ).all()
            )

    assert "keeper@example.org" in (before := digests(24)) and "west@example.org" not in before
    on_the_day = digests(28)
    assert on_the_day["west@example.org"].startswith("【代 陈道口看守 / for 陈道口看守】")
    assert "keeper@example.org" in on_the_day
