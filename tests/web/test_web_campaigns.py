"""The coordinator's pages and the leader's view through Flask's test client (SQLite)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import insert, select

from tests.support.clock import shanghai
from tests.support.web import register, task_id, text
from webapp import wiring_of
from workflow.clock import FixedClock
from workflow.escalation.sweep import run_sweep
from workflow.mail.outbox import mail_row
from workflow.models import AuditEvent, OutboxMail, Rectification, Task


@pytest.fixture
def db_url(sqlite_url):
    """The pages are the same on either database: these tests run on SQLite only."""
    return sqlite_url


def outbox_to(site, email):
    with wiring_of(site).transaction(readonly=True) as session:
        return [
            m.subject
            for m in session.scalars(select(OutboxMail).where(OutboxMail.recipient == email))
        ]


def test_the_campaign_list_shows_each_person_the_campaigns_they_take_part_in(site, visitor):
    office = text(visitor("office@example.org").page("/campaigns"))
    assert "平安铁路创建活动" in office and "办公室" in office and "隐患台账" in office
    east = text(visitor("east@example.org").page("/campaigns"))
    assert "平安铁路创建活动" in east and "隐患台账" not in east
    assert "您没有参与任何创建活动。" in text(visitor("keeper@example.org").page("/campaigns"))


def test_the_campaign_page_draws_the_phases_with_the_current_one_marked_and_dates(site, visitor):
    html = visitor("office@example.org").page(f"/campaigns/{site.campaign_id}")
    phases = text(html, "phases-heading") and re.search(
        r'<ol class="machine">.*?</ol>', html, re.S
    ).group(0)
    nodes = re.findall(r'<li class="node ([^"]*)"[^>]*>(.*?)</li>', phases, re.S)
    assert [classes.split()[0] for classes, _ in nodes] == [
        "terminal",
        "current",
        "pending",
        "pending",
        "terminal",
    ]
    current = text(nodes[1][1])
    assert "宣传发动阶段" in current and "当前阶段" in current
    assert (
        # 30d from 1 May: the last day on time is 30 May (stored exclusive as 31 May)
        "计划: 2026年5月1日 – 2026年5月30日" in current and "实际: 2026年5月1日 – 至今" in current
    )
    assert "任务完成 0 / 5" in current
    assert 'aria-current="step"' in phases


def test_a_phase_past_its_planned_end_is_flagged_late(site, visitor, clock):
    clock.instant = shanghai(2026, 6, 5, 9)
    html = visitor("office@example.org").page(f"/campaigns/{site.campaign_id}")
    assert "已超过计划结束日期" in text(html)
    assert re.search(r'<li class="node current late"', html)


def test_the_blockers_are_listed_as_links_and_once_done_the_advance_is_confirmed(site, visitor):
    office = visitor("office@example.org")
    html = office.page(f"/campaigns/{site.campaign_id}")

    assert "本阶段还有 3 项必办事项未完成。" in text(html, "blockers")
    blockers = re.search(r'<ul class="blockers">(.*?)</ul>', html, re.S).group(1)
    links = re.findall(r'<a href="/tasks/(\d+)">([^<]+)</a>', blockers)
    assert sorted(title for _, title in links) == sorted(
        ["召开动员大会", "制定创建活动计划", "制定创建活动计划"]
    )
    assert "东村" in text(blockers) and "李村长" in text(blockers)
    refused = office.post(f"/campaigns/{site.campaign_id}/advance", {"from": "mobilization"})
    assert refused.status_code == 302
    assert "暂不能进入下一阶段：还有 3 项未完成。" in text(office.page(refused.headers["Location"]))

    for blocker_id, _ in links:
        assert office.post(f"/tasks/{blocker_id}/complete", {"note": "已完成"}).status_code == 302
    confirmation = office.page(f"/campaigns/{site.campaign_id}/advance")
    assert '<input type="hidden" name="from" value="mobilization">' in confirmation
    moved = office.post(f"/campaigns/{site.campaign_id}/advance", {"from": "mobilization"})
    assert moved.status_code == 302
    page = text(office.page(f"/campaigns/{site.campaign_id}"))
    assert "已进入下一阶段（新建任务 2 项）。" in page


def test_a_village_head_sees_the_campaign_but_cannot_advance_it(site, visitor):
    east = visitor("east@example.org")
    assert "进入下一阶段" not in text(east.page(f"/campaigns/{site.campaign_id}"))
    assert east.post(f"/campaigns/{site.campaign_id}/advance").status_code == 403
    assert visitor("keeper@example.org").get(f"/campaigns/{site.campaign_id}").status_code == 404


def test_the_units_are_coloured_with_the_counts_behind_the_colour(site, visitor):
    register(site)  # east's hazard, overdue since 5-08
    units = text(
        visitor("leader@example.org").page(f"/campaigns/{site.campaign_id}"), "units-heading"
    )
    html = visitor("leader@example.org").page(f"/campaigns/{site.campaign_id}")
    standing = re.search(r'<ul class="standing">(.*?)</ul>', html, re.S).group(1)
    rows = {
        text(name): (colour, text(rest))
        for colour, name, rest in re.findall(
            r'<li class="unit colour-(\w+)">.*?<span class="unit-name">(.*?)</span>(.*?)</li>',
            standing,
            re.S,
        )
    }
    assert units == "各单位情况"
    assert (
        rows["东村"][0] == "red"
        and "逾期 1 · 3个工作日内到期 1 · 未完成 3 · 已完成 0" in rows["东村"][1]
    )
    assert rows["西村"][0] == "amber" and "红色" not in rows["西村"][1]
    assert rows["铁路镇"][0] == "red"


def test_the_register_filters_by_unit_site_severity_state_and_overdue(site, visitor, clock):
    register(site, description="道口护栏损坏")
    register(site, description="信号灯不亮", severity="major")
    office = visitor("office@example.org")
    base = f"/campaigns/{site.campaign_id}/hazards"

    def shown(query=""):
        html = office.page(base + query)
        return sorted(text(t) for t in re.findall(r'class="item-title"[^>]*>(.*?)</a>', html))

    assert shown() == ["信号灯不亮", "道口护栏损坏"]
    assert shown("?severity=major") == ["信号灯不亮"]
    assert shown("?site=crossing-3&unit=east-village") == ["信号灯不亮", "道口护栏损坏"]
    assert shown("?unit=west-village") == []
    assert shown("?due=overdue") == ["信号灯不亮", "道口护栏损坏"]
    assert shown("?state=submitted") == []
    clock.instant = shanghai(2026, 5, 2, 9)
    assert shown("?due=overdue") == []
    assert 'class="late"' not in office.page(base), "nothing is marked overdue"


def test_a_coordinator_registers_a_hazard_and_its_responsible_person_is_told(site, visitor):
    office = visitor("office@example.org")
    answer = office.post(
        f"/campaigns/{site.campaign_id}/hazards",
        {
            "description": "围墙破损",
            "severity": "minor",
            "unit": "west-village",
            "site": "",
            "responsible": "",
            "location": "村口",
            "working_days": "5",
            "temporary_measures": "拉警戒线",
        },
    )
    assert answer.status_code == 302
    register_page = text(office.page(f"/campaigns/{site.campaign_id}/hazards"))
    assert (
        "隐患已登记：由 周村长 于 2026-05-19 前整改。" in register_page
        and "围墙破损" in register_page
    )
    assert any("隐患整改通知" in subject for subject in outbox_to(site, "west@example.org"))
    assert (
        visitor("east@example.org").get(f"/campaigns/{site.campaign_id}/hazards").status_code == 404
    )


def test_a_submitted_rectification_is_verified_or_sent_back_from_the_register(site, visitor):
    first, second = register(site, description="甲"), register(site, description="乙")
    east, office = visitor("east@example.org"), visitor("office@example.org")
    for rect in (first, second):
        east.post(f"/rectifications/{rect}/submit", {"note": "已整改"})
    base = f"/campaigns/{site.campaign_id}/hazards?state=submitted"
    assert "验收销号" in text(office.page(base))

    office.post(f"/rectifications/{first}/verify", {"next": base})
    office.post(
        f"/rectifications/{second}/reject",
        {"reason": "仍有隐患", "working_days": "3", "next": base},
    )

    with wiring_of(site).transaction(readonly=True) as session:
        assert session.get(Rectification, first).state == "closed"
        rejected = session.get(Rectification, second)
        assert (rejected.state, rejected.deadline.isoformat()) == ("open", "2026-05-15")
    assert "已退回，并给出新的整改期限。" in text(office.page(base))


def test_the_escalation_log_lists_what_was_escalated_to_whom(site, visitor):
    register(site)
    run_sweep(
        wiring_of(site).sessions,
        clock=FixedClock(shanghai(2026, 5, 9, 9)),
        mailer=None,
        base_url="http://pingan.test",
    )
    log = text(visitor("leader@example.org").page(f"/campaigns/{site.campaign_id}/escalations"))
    # the people told by name (issue 15), their addresses only on hover
    assert "第 1 级督办" in log and "赵主任" in log and "2026年5月8日" in log
    assert "office@example.org" not in log
    assert (
        visitor("east@example.org").get(f"/campaigns/{site.campaign_id}/escalations").status_code
        == 404
    )


def test_the_escalation_log_shows_the_mails_given_up_on_in_chinese(site, visitor):
    with wiring_of(site).transaction() as session:
        session.execute(
            insert(OutboxMail),
            [
                mail_row(
                    key="given-up",
                    recipient="nobody@example.org",
                    subject="【隐患整改通知】道口护栏损坏",
                    body="b",
                    now=shanghai(2026, 5, 9, 9),
                    campaign_id=site.campaign_id,
                )
                | {
                    "failed_at": shanghai(2026, 5, 9, 9, 1),
                    "last_error": "SMTPRecipientsRefused: 550",
                }
            ],
        )
    log = text(visitor("leader@example.org").page(f"/campaigns/{site.campaign_id}/escalations"))
    assert "无法投递的邮件" in log and "nobody@example.org" in log and "550" in log


def test_a_coordinator_reassigns_a_task_and_the_new_assignee_sees_it(site, visitor):
    plan = task_id(site, "east@example.org", "plan")
    office = visitor("office@example.org")
    assert "转交" in text(office.page(f"/tasks/{plan}"))
    office.post(f"/tasks/{plan}/reassign", {"to": "keeper@example.org", "note": "临时代办"})

    assert "已转交，并已邮件通知新的责任人。" in text(office.page(f"/tasks/{plan}"))
    assert "制定创建活动计划" in text(visitor("keeper@example.org").page("/"))
    assert visitor("east@example.org").get(f"/tasks/{plan}").status_code == 404
    assert any("转交给您" in subject for subject in outbox_to(site, "keeper@example.org"))
    with wiring_of(site).transaction(readonly=True) as session:
        assert (
            session.scalar(select(AuditEvent.note).where(AuditEvent.event == "reassign"))
            == "east@example.org → keeper@example.org: 临时代办"
        )
    assert (
        visitor("east@example.org")
        .post(f"/tasks/{plan}/reassign", {"to": "east@example.org"})
        .status_code
        == 404
    )


def test_a_hand_over_moves_all_open_work_of_a_person_who_leaves(site, visitor):
    register(site)
    office = visitor("office@example.org")
    answer = office.post(
        f"/campaigns/{site.campaign_id}/hand-over",
        {"leaving": "east@example.org", "successor": "keeper@example.org", "note": "调岗"},
    )
    assert answer.status_code == 302
    assert "已移交：任务 2 项、整改 1 项，并已邮件通知接任者。" in text(
        office.page(f"/campaigns/{site.campaign_id}")
    )
    keeper = text(visitor("keeper@example.org").page("/"))
    assert "道口护栏损坏" in keeper and "制定创建活动计划" in keeper
    assert "暂无待办" in text(visitor("east@example.org").page("/"))
    with wiring_of(site).transaction(readonly=True) as session:
        assert (
            session.scalars(
                select(Task).where(
                    Task.state == "open", Task.assignee.has(email="east@example.org")
                )
            ).all()
            == []
        )


def test_the_leader_sees_what_was_escalated_to_them_and_each_campaign_s_standing(
    site, visitor, clock
):
    register(site)
    for when in (shanghai(2026, 5, 9, 9), shanghai(2026, 5, 13, 9)):
        run_sweep(
            wiring_of(site).sessions,
            clock=FixedClock(when),
            mailer=None,
            base_url="http://pingan.test",
        )
    clock.instant = shanghai(2026, 5, 15, 9)

    html = visitor("deputy@example.org").page("/leader")
    escalated = text(html, "escalated-heading")
    assert escalated.startswith("督办给我的事项")
    page = text(html)
    assert "第 2 级督办" in page and "道口护栏损坏" in page and "2026年5月8日" in page
    # 5-09 (a Saturday made a workday), 5-11 … 5-15: six working days late; level 2 reached on 5-13
    assert "已逾期 6 个工作日" in page and "2026年5月13日 · 2 天前" in page
    assert "红色 2 个" in page and "黄色 1 个" in page and "绿色 0 个" in page, (
        "the plans are due today, 5-15"
    )

    east = text(visitor("east@example.org").page("/leader"))
    assert "第 1 级督办 道口护栏损坏" in east, "the responsible person is told at level 1"
    assert "红色" not in east, "a village head sees no campaign's standing"
    assert "目前没有督办给您的未办结事项。" in text(visitor("keeper@example.org").page("/leader"))
