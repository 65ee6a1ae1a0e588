"""Stand-ins while away (代理, issue #19 item 4) through the pages: a village head names a colleague for the days
away on their account page, in Chinese; the colleague opens and checks off the absent head's task, recorded as
acting for them; an administrator names one for a person of the town; a refused naming says why in Chinese and
changes nothing. SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.support.actions import OPERATOR
from tests.support.web import task_id, text
from webapp import wiring_of
from workflow.audit import trail
from workflow.models import Person, StandIn, Task
from workflow.people.administrators import grant_administrator


def person_id(site, email: str) -> int:  # type: ignore[no-untyped-def]
    with wiring_of(site).transaction(readonly=True) as session:
        return session.scalar(select(Person.id).where(Person.email == email))


def stand_ins(site) -> int:  # type: ignore[no-untyped-def]
    with wiring_of(site).transaction(readonly=True) as session:
        return session.scalar(select(func.count(StandIn.id)))


def test_a_head_names_a_stand_in_who_checks_the_absent_head_s_task_off(site, visitor):
    east, west = visitor("east@example.org"), visitor("west@example.org")
    plan = task_id(site, "east@example.org", "plan")
    assert west.get(f"/tasks/{plan}").status_code == 404, "not theirs before"

    page = east.page("/account/stand-ins")
    assert "指定代理人" in page and "尚未指定代理人" in text(page, "named")
    answer = east.post(
        "/account/stand-ins",
        {
            "stand_in": str(person_id(site, "west@example.org")),
            "starts_on": "2026-05-12",
            "ends_on": "2026-05-14",
        },
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/account/stand-ins"
    page = east.page("/account/stand-ins")
    assert "已指定代理人" in page
    assert "周村长，2026-05-12 至 2026-05-14" in text(page, "named")
    assert "李村长，2026-05-12 至 2026-05-14" in text(
        west.page("/account/stand-ins"), "standing-in"
    )

    task_page = west.page(f"/tasks/{plan}")
    assert "制定创建活动计划" in task_page and f"/tasks/{plan}/complete" in task_page
    answer = west.post(f"/tasks/{plan}/complete", {"note": "代李村长上报计划"})
    assert answer.status_code == 302
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.get(Task, plan).state == "done"
        [checked] = [e for e in trail(session, site.campaign_id) if e.event == "complete"]
        assert checked.actor == "west@example.org for east@example.org"


def test_a_refused_stand_in_says_why_in_chinese_and_changes_nothing(site, visitor):
    east = visitor("east@example.org")
    answer = east.post(
        "/account/stand-ins",
        {
            "stand_in": str(person_id(site, "west@example.org")),
            "starts_on": "2026-05-14",
            "ends_on": "2026-05-12",
        },
    )
    assert answer.status_code == 422
    assert "代理的结束日期（2026-05-12）早于开始日期（2026-05-14）" in answer.get_data(as_text=True)
    answer = east.post(
        "/account/stand-ins", {"stand_in": "0", "starts_on": "2026-05-12", "ends_on": "2026-05-14"}
    )
    assert answer.status_code == 422 and "请选择" in answer.get_data(as_text=True)
    assert stand_ins(site) == 0


def test_an_administrator_names_and_ends_a_stand_in_for_a_person_of_the_town(site, visitor, clock):
    with wiring_of(site).transaction() as session:
        grant_administrator(session, "office@example.org", "town", by=OPERATOR, now=clock.now())
    office, west = visitor("office@example.org"), visitor("west@example.org")
    east_id = person_id(site, "east@example.org")
    assert f"/admin/people/{east_id}/stand-ins" in office.page(f"/admin/people/{east_id}")
    assert west.get(f"/admin/people/{east_id}/stand-ins").status_code == 403

    answer = office.post(
        f"/admin/people/{east_id}/stand-ins",
        {
            "stand_in": str(person_id(site, "deputy@example.org")),
            "starts_on": "2026-05-13",
            "ends_on": "2026-05-20",
        },
    )
    assert answer.status_code == 302, text(answer.get_data(as_text=True), "stand-ins")
    page = office.page(f"/admin/people/{east_id}/stand-ins")
    assert "王副组长，2026-05-13 至 2026-05-20" in text(page, "named")
    with wiring_of(site).transaction(readonly=True) as session:
        row = session.scalar(select(StandIn))
    answer = office.post(f"/stand-ins/{row.id}/end", {"next": f"/admin/people/{east_id}/stand-ins"})
    assert answer.status_code == 302
    assert "尚未指定代理人" in text(office.page(f"/admin/people/{east_id}/stand-ins"), "named")
    history = text(office.page(f"/admin/people/{east_id}"), "history")
    assert "指定了代理人" in history and "结束了代理" in history
    assert west.post(f"/stand-ins/{row.id}/end").status_code == 404, "not theirs to know"


def test_a_coordinator_names_a_stand_in_from_the_campaign_s_page(site, visitor):
    """The office coordinates the campaign: it names west to stand in for east, who is away; a
    village head of the campaign is refused, and so is a person holding no role in it."""
    office = visitor("office@example.org")
    campaign = f"/campaigns/{site.campaign_id}"
    page = office.page(campaign)
    assert "指定外出期间的代理人（代理）" in page and "外出人员" in page
    form = {"absent": "east@example.org", "stand_in": "west@example.org"}
    answer = office.post(
        f"{campaign}/stand-ins", {**form, "starts_on": "2026-05-12", "ends_on": "2026-05-14"}
    )
    assert answer.status_code == 302 and answer.headers["Location"] == campaign
    assert "2026年5月12日 至 2026年5月14日，由 周村长 代理 李村长。" in text(office.page(campaign))
    assert "周村长，2026-05-12 至 2026-05-14" in text(
        visitor("east@example.org").page("/account/stand-ins"), "named"
    )
    with wiring_of(site).transaction(readonly=True) as session:
        [named] = session.scalars(select(StandIn)).all()
        assert named.created_by == "office@example.org"

    answer = office.post(
        f"{campaign}/stand-ins",
        {"absent": "keeper@example.org", "stand_in": "west@example.org", **DAYS},
    )
    assert answer.status_code == 302
    assert "外出人员在本活动中没有角色" in text(office.page(campaign))
    head = visitor("west@example.org")
    assert "指定外出期间的代理人" not in head.page(campaign)
    answer = head.post(f"{campaign}/stand-ins", {**form, **DAYS})
    assert answer.status_code == 403
    assert stand_ins(site) == 1, "the refusals changed nothing"


DAYS = {"starts_on": "2026-05-20", "ends_on": "2026-05-22"}
