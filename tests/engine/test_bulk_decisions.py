"""A coordinator decides many items at once (verify, send back, reassign), each on its own: an item
moved meanwhile or not theirs is reported and left as it is, the others are decided, each with its
own audit event and mails. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.support.actions import BASE_URL, actor, start
from tests.support.desk import laid_out
from tests.support.races import at_once, succeeded
from tests.support.texts import RAILWAY
from workflow.audit import trail
from workflow.campaigns.bulk import DECIDED, MOVED, REFUSED, Selected, decide_many
from workflow.campaigns.tasks import reject_task
from workflow.definitions.reader import parse_definition
from workflow.errors import InvalidInput
from workflow.form_keys import AlreadySubmitted
from workflow.hazards.rectifications import reject_rectification
from workflow.limits import MAX_DECIDED_AT_ONCE
from workflow.models import AuditEvent, OutboxMail, Rectification, Task

# the same town, a campaign whose decisions are the leader's alone: the office does not coordinate it
LEADER_ONLY = RAILWAY.replace("id: safe-railway-test", "id: safe-railway-leader") + (
    "coordinators: [leader]\n"
)


@pytest.fixture
def desk(sessions, campaign, clock, calendar):
    return laid_out(sessions, campaign, clock, calendar)


def decide(sessions, clock, calendar, items, decision, email="office@example.org", **more):
    with sessions.begin() as session:
        return decide_many(
            session,
            items,
            decision,
            by=actor(sessions, email),
            clock=clock,
            calendar=calendar,
            base_url=BASE_URL,
            **more,
        )


def seen(desk):
    return [Selected("task", t, "done") for t in desk.done_tasks] + [
        Selected("rectification", r, "submitted") for r in desk.submitted
    ]


def states(sessions, desk):
    with sessions() as session:
        return {
            **{("task", t): session.get(Task, t).state for t in desk.done_tasks + desk.open_tasks},
            **{("rectification", r): session.get(Rectification, r).state for r in desk.submitted},
        }


def test_a_bulk_verify_leaves_an_item_reopened_meanwhile_and_verifies_the_others(
    sessions, desk, clock, calendar
):
    items = seen(desk)
    reopened = desk.done_tasks[0]
    with sessions.begin() as session:  # the leader sends one back while the office looks
        reject_task(
            session, reopened, by=actor(sessions, "leader@example.org"), clock=clock, note="不全"
        )

    outcomes = decide(sessions, clock, calendar, items, "verify", note="同意")

    assert [(o.kind, o.id) for o in outcomes] == [(i.kind, i.id) for i in items]
    moved = [o for o in outcomes if o.result == MOVED]
    assert [(o.id, o.seen, o.state) for o in moved] == [(reopened, "done", "open")]
    assert all(o.result == DECIDED for o in outcomes if o.id != reopened or o.kind != "task")
    now = states(sessions, desk)
    assert now[("task", reopened)] == "open"
    assert {now[("task", t)] for t in desk.done_tasks[1:]} == {"verified"}
    assert {now[("rectification", r)] for r in desk.submitted} == {"closed"}
    with sessions() as session:
        for kind, ids in (("task", desk.done_tasks[1:]), ("rectification", desk.submitted)):
            for item in ids:
                [event] = [
                    e for e in trail(session, desk.campaign, kind, item) if e.event == "verify"
                ]
                assert (event.actor, event.note) == ("office@example.org", "同意")
        assert [e.event for e in trail(session, desk.campaign, "task", reopened)][-1] == "reject"


def test_a_bulk_reject_gives_one_reason_audits_and_mails_each_assignee(
    sessions, desk, clock, calendar
):
    outcomes = decide(
        sessions,
        clock,
        calendar,
        seen(desk),
        "reject",
        note="材料不全，请补充",
        deadline_working_days=3,
    )

    assert {o.result for o in outcomes} == {DECIDED}
    now = states(sessions, desk)
    assert {now[("task", t)] for t in desk.done_tasks} == {"open"}
    assert {now[("rectification", r)] for r in desk.submitted} == {"open"}
    with sessions() as session:
        for kind, ids in (("task", desk.done_tasks), ("rectification", desk.submitted)):
            for item in ids:
                [event] = [
                    e for e in trail(session, desk.campaign, kind, item) if e.event == "reject"
                ]
                assert event.note.startswith("材料不全，请补充")
        mails = session.scalars(
            select(OutboxMail).where(OutboxMail.subject.contains("【退回】"))
        ).all()
        assignees = sorted(session.get(Task, t).assignee.email for t in desk.done_tasks) + [
            "east@example.org"
        ] * len(desk.submitted)
    assert sorted(m.recipient for m in mails) == sorted(assignees)
    assert all("材料不全，请补充" in m.body for m in mails)
    assert sum("新的整改期限" in m.body for m in mails) == len(desk.submitted)


def test_a_bulk_reassign_gives_open_tasks_and_rectifications_to_one_person(
    sessions, campaign, clock, calendar
):
    desk = laid_out(sessions, campaign, clock, calendar)
    rect = desk.submitted[0]
    leader = actor(sessions, "leader@example.org")
    with sessions.begin() as session:  # one hazard sent back: open again
        reject_rectification(
            session,
            rect,
            by=leader,
            clock=clock,
            calendar=calendar,
            reason="仍松动",
            deadline_working_days=3,
        )
        tasks = session.scalars(
            select(Task.id).where(Task.campaign_id == campaign, Task.state == "open")
        ).all()
    items = [Selected("task", t, "open") for t in tasks] + [
        Selected("rectification", rect, "open"),
        Selected("rectification", desk.submitted[1], "submitted"),
    ]

    outcomes = decide(
        sessions, clock, calendar, items, "reassign", to_email="deputy@example.org", note="统筹"
    )

    assert {o.result for o in outcomes} == {DECIDED}, outcomes
    with sessions() as session:
        assert {session.get(Task, t).assignee.email for t in tasks} == {"deputy@example.org"}
        for r in (rect, desk.submitted[1]):
            assert session.get(Rectification, r).responsible.email == "deputy@example.org"
        events = session.scalar(
            select(func.count()).where(
                AuditEvent.event == "reassign", AuditEvent.campaign_id == campaign
            )
        )
        mails = session.scalar(
            select(func.count()).where(OutboxMail.recipient == "deputy@example.org")
        )
    assert events == len(items) and mails == len(items)


def test_items_of_a_campaign_not_coordinated_are_refused_and_left_alone(
    sessions, desk, clock, calendar
):
    other = start(sessions, parse_definition(LEADER_ONLY, "def.yaml"), clock, calendar)
    other_desk = laid_out(sessions, other, clock, calendar, hazards=1)
    items = seen(desk) + seen(other_desk) + [Selected("task", 999_999, "done")]
    with sessions() as session:
        audits = session.scalar(select(func.count()).select_from(AuditEvent))

    outcomes = decide(sessions, clock, calendar, items, "verify")

    refused = [o for o in outcomes if o.result == REFUSED]
    assert sorted((o.kind, o.id) for o in refused) == sorted(
        [(i.kind, i.id) for i in seen(other_desk)] + [("task", 999_999)]
    )
    # the same words for an item not theirs and for no item: which ids exist is not told
    assert {o.reason.split(" is ")[1] for o in refused} == {"not among the items you decide"}
    assert all(o.state is None and o.title is None for o in refused)
    assert set(states(sessions, other_desk).values()) == {"done", "submitted", "open"}
    assert {o.result for o in outcomes if o not in refused} == {DECIDED}
    with sessions() as session:
        added = session.scalar(select(func.count()).select_from(AuditEvent)) - audits
    assert added == len(seen(desk))


def test_a_refused_item_undoes_nothing_of_the_others(sessions, desk, clock, calendar):
    # the rectification has a reason but the campaign's verify of a task does not need one: a
    # reassignment to the one who has it already is refused for that item only
    with sessions() as session:
        east_task = session.scalar(
            select(Task.id).where(Task.id.in_(desk.done_tasks), Task.spec_key == "plan")
        )
    outcomes = decide(
        sessions,
        clock,
        calendar,
        [Selected("rectification", r, "submitted") for r in desk.submitted],
        "reassign",
        to_email="east@example.org",
    )
    assert {o.result for o in outcomes} == {REFUSED}
    assert all("already has this work" in o.reason for o in outcomes)
    outcomes = decide(
        sessions,
        clock,
        calendar,
        [Selected("task", east_task, "done"), Selected("task", east_task, "done")],
        "verify",
    )
    assert [o.result for o in outcomes] == [DECIDED]  # the same item twice: decided once


def test_a_batch_that_cannot_be_read_is_refused_whole(sessions, desk, clock, calendar):
    items = seen(desk)
    for decision, more, words in (
        ("approve", {}, "unknown decision"),
        ("reject", {}, "needs a reason"),
        ("reject", {"note": "不全"}, "new deadline is required"),
        ("reassign", {}, "name the person"),
    ):
        with pytest.raises(InvalidInput, match=words):
            decide(sessions, clock, calendar, items, decision, **more)
    with pytest.raises(InvalidInput, match="at most"):
        decide(sessions, clock, calendar, items * MAX_DECIDED_AT_ONCE, "verify")
    with pytest.raises(InvalidInput, match="select at least one"):
        decide(sessions, clock, calendar, [], "verify")
    assert set(states(sessions, desk).values()) == {"done", "submitted", "open"}


def test_the_same_form_posted_twice_decides_once(sessions, desk, clock, calendar):
    decide(sessions, clock, calendar, seen(desk), "verify", form_key="k" * 22)
    with pytest.raises(AlreadySubmitted):
        decide(sessions, clock, calendar, seen(desk), "verify", form_key="k" * 22)
    with sessions() as session:
        verified = session.scalar(
            select(func.count()).where(
                AuditEvent.event == "verify", AuditEvent.campaign_id == desk.campaign
            )
        )
    assert verified == len(seen(desk))


def test_two_coordinators_verifying_the_same_batch_at_once_decide_each_item_once(
    sessions, desk, clock, calendar
):
    items = seen(desk)

    def verifying(email):
        by = actor(sessions, email)

        def verify():
            with sessions.begin() as session:
                return decide_many(
                    session,
                    items,
                    "verify",
                    by=by,
                    clock=clock,
                    calendar=calendar,
                    base_url=BASE_URL,
                )

        return verify

    first = desk.done_tasks[0]
    outcomes = at_once(
        sessions,
        lambda session: session.execute(
            select(Task).where(Task.id == first).with_for_update()
        ).one(),
        verifying("office@example.org"),
        verifying("deputy@example.org"),
    )

    batches = succeeded(outcomes)
    assert len(batches) == 2, [o.error for o in outcomes]
    results = {frozenset(o.result for o in batch) for batch in batches}
    # one batch decided every item; the other found each of them moved (done → verified)
    assert results == {frozenset({DECIDED}), frozenset({MOVED})}
    [late] = [batch for batch in batches if batch[0].result == MOVED]
    assert {(o.seen, o.state) for o in late} == {("done", "verified"), ("submitted", "closed")}
    assert verified_events(sessions, desk) == len(items)


def verified_events(sessions, desk):
    with sessions() as session:
        return session.scalar(
            select(func.count()).where(
                AuditEvent.event == "verify", AuditEvent.campaign_id == desk.campaign
            )
        )
