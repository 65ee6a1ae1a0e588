"""The inbox's 「待我审核」 (awaiting my decision) for the coordinators, the extension request decided on its
rectification's page, and the bulk check-off panel only for people with tasks (SQLite).

The town's railway campaign (``site``) on 2026-05-12: the leader, the deputy and the office director coordinate it;
east's head is responsible for 3号道口. Texts are checked in English (the language switch), structure by ids and
links.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.support.actions import BASE_URL, OPERATOR
from tests.support.clock import shanghai
from tests.support.web import register, task_id, text
from webapp import wiring_of
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.clock import FixedClock
from workflow.hazards.rectifications import (
    HazardReport,
    register_hazard,
    request_extension,
    submit_rectification,
)
from workflow.models import Rectification
from workflow.organisation.directory import person_by_email
from workflow.petitions.handling import PetitionReport, record_petition


@pytest.fixture
def db_url(sqlite_url):
    """The pages are the same on either database (the engine's tests run on both): SQLite only."""
    return sqlite_url


@pytest.fixture
def in_english(visitor):  # type: ignore[no-untyped-def]
    """A signed-in visitor reading the pages in English."""

    def signed_in(email: str):  # type: ignore[no-untyped-def]
        person = visitor(email)
        person.post("/language", {"language": "en", "next": "/"})
        return person

    return signed_in


def as_east(site, move, when):  # type: ignore[no-untyped-def]
    """East's head does ``move(session, by, clock)`` at ``when``, through the engine."""
    with wiring_of(site).transaction() as session:
        east = Actor.person(person_by_email(session, "east@example.org"))
        return move(session, east, FixedClock(when))


def reported_fixed(site, rect, when):  # type: ignore[no-untyped-def]
    as_east(
        site,
        lambda session, by, clock: submit_rectification(
            session, rect, by=by, clock=clock, note="护栏已更换"
        ),
        when,
    )


def asked_for_more_time(site, rect, when, until=date(2026, 6, 30)) -> int:  # type: ignore[no-untyped-def]
    return as_east(
        site,
        lambda session, by, clock: (
            request_extension(
                session,
                rect,
                by=by,
                clock=clock,
                calendar=WorkingCalendar(),
                reason="护栏需厂家定制",
                until=until,
            ).id
        ),
        when,
    )


def letter(site, when, subject="反映道口夜间无人看守") -> int:  # type: ignore[no-untyped-def]
    with wiring_of(site).transaction() as session:
        return record_petition(
            session,
            site.campaign_id,
            PetitionReport(subject=subject, unit="east-village"),
            by=OPERATOR,
            clock=FixedClock(when),
            calendar=WorkingCalendar(),
            base_url=BASE_URL,
        ).id


def review_items(html: str) -> list[tuple[str, str]]:
    """The 待我审核 group's items in the order shown: (the item's id, where its title links)."""
    section = re.search(r'<section[^>]*id="review".*?</section>', html, re.S)
    assert section, "the group 待我审核 is on the page"
    return re.findall(
        r'<li class="item item-review" id="(review-[a-z]+-\d+)"[^>]*>\s*<div class="item-head">\s*'
        r'<a class="item-title" href="([^"]+)"',
        section.group(0),
    )


# --- 待我审核 -------------------------------------------------------------------------------------


def test_a_leader_with_nothing_of_their_own_is_told_a_hazard_reported_fixed_awaits_them(
    site, visitor, in_english
):
    rect = register(site)
    leader = in_english("leader@example.org")
    before = leader.page("/")
    assert 'id="review"' not in before and "Nothing to do" in text(before)

    reported_fixed(site, rect, shanghai(2026, 5, 7, 10))

    html = leader.page("/")
    assert "Nothing to do" not in text(html)
    assert review_items(html) == [(f"review-rectification-{rect}", f"/rectifications/{rect}")]
    shown = text(html, "review")
    assert shown.startswith("Awaiting my decision 1")
    assert "道口护栏损坏" in shown and "Reported fixed" in shown and "3号道口" in shown
    assert "Responsible 李村长" in shown
    # from Thursday 5-07 to Tuesday 5-12: 5 days, 4 working days (Saturday 5-09 is a workday, 调休)
    assert "Waiting 5 days (4 working days)" in shown
    # the office director reads it too, in Chinese (the English words until the catalogue has them)
    heading = text(visitor("office@example.org").page("/"), "heading-review")
    assert heading.startswith(("待我审核", "Awaiting my decision")), heading


def test_each_kind_links_to_the_page_where_it_is_decided_the_oldest_first(
    site, visitor, in_english
):
    rect = register(site)
    reported_fixed(site, rect, shanghai(2026, 5, 6, 10))
    other = register(site, "警示牌缺失")
    asked = asked_for_more_time(site, other, shanghai(2026, 5, 7, 10))
    petition = letter(site, shanghai(2026, 5, 8, 10))
    plan = task_id(site, "east@example.org", "plan")
    assert (
        visitor("east@example.org").post(f"/tasks/{plan}/complete", {"note": "已上报"}).status_code
        == 302
    )

    office = in_english("office@example.org")
    html = office.page("/")

    assert review_items(html) == [
        (f"review-rectification-{rect}", f"/rectifications/{rect}"),
        (f"review-extension-{asked}", f"/rectifications/{other}#extension-{asked}"),
        (f"review-petition-{petition}", f"/petitions/{petition}"),
        (f"review-task-{plan}", f"/tasks/{plan}"),
    ]
    assert text(html, "review").startswith("Awaiting my decision 4")
    extension = text(html, f"review-extension-{asked}")
    assert "Extension request" in extension and "Asked until 30 Jun 2026" in extension
    assert "Asked by 李村长" in extension and "Waiting 5 days (4 working days)" in extension
    assert "Letter" in text(html, f"review-petition-{petition}")
    task = text(html, f"review-task-{plan}")
    assert "Checked off: to verify" in task and "Checked off by 李村长" in task
    assert "Waiting since today" in task
    # each link opens a page with the decision's form on it
    assert 'action="/rectifications/%d/verify"' % rect in office.page(f"/rectifications/{rect}")
    assert f'action="/extensions/{asked}/decide"' in office.page(f"/rectifications/{other}")
    assert f'action="/tasks/{plan}/verify"' in office.page(f"/tasks/{plan}")
    assert f'action="/petitions/{petition}/process"' in office.page(f"/petitions/{petition}")


def test_the_group_is_absent_when_nothing_awaits_and_for_whoever_decides_nothing(site, visitor):
    rect = register(site)
    assert 'id="review"' not in visitor("office@example.org").page("/")

    reported_fixed(site, rect, shanghai(2026, 5, 7, 10))
    letter(site, shanghai(2026, 5, 8, 10))

    # east reported it fixed and has the letter among their own letters and visits: nothing to decide
    east = visitor("east@example.org").page("/")
    assert 'id="review"' not in east and 'id="petitions"' in east
    assert 'id="review"' not in visitor("west@example.org").page("/")


def test_verifying_through_the_page_takes_the_item_out_of_the_group(site, visitor):
    rect = register(site)
    reported_fixed(site, rect, shanghai(2026, 5, 7, 10))
    office = visitor("office@example.org")
    assert review_items(office.page("/"))

    answer = office.post(
        f"/rectifications/{rect}/verify",
        {"note": "现场核验合格", "next": f"/rectifications/{rect}"},
    )

    assert answer.status_code == 302
    assert 'id="review"' not in office.page("/")
    assert 'id="review"' not in visitor("leader@example.org").page("/")


# --- the extension request, decided on its rectification's page ------------------------------


def test_a_coordinator_approves_an_extension_on_the_rectification_page(site, visitor, in_english):
    rect = register(site)
    asked = asked_for_more_time(site, rect, shanghai(2026, 5, 7, 10))
    page_path = f"/rectifications/{rect}"

    # the responsible person sees the request waiting, and no form to decide it
    east = text(in_english("east@example.org").page(page_path), f"extension-{asked}")
    assert "Asked until 30 Jun 2026" in east and "护栏需厂家定制" in east
    assert "Waiting for a coordinator's decision." in east
    office = in_english("office@example.org")
    page = office.page(page_path)
    assert f'action="/extensions/{asked}/decide"' in page
    assert 'name="decision" value="approve"' in page and 'name="decision" value="refuse"' in page

    answer = office.post(
        f"/extensions/{asked}/decide",
        {"decision": "approve", "note": "同意", "next": page_path},
    )

    assert (answer.status_code, answer.headers["Location"]) == (302, page_path)
    after = office.page(page_path)
    assert "Extension approved: the deadline moved." in text(after)
    assert f'id="extension-{asked}"' not in after
    with wiring_of(site).transaction(readonly=True) as session:
        row = session.get(Rectification, rect)
        assert (row.deadline, row.extensions) == (date(2026, 6, 30), 1)
    assert f"review-extension-{asked}" not in office.page("/")

    # posted again (a reload, a second tab): decided once, and said so
    again = office.post(f"/extensions/{asked}/decide", {"decision": "refuse", "next": page_path})
    assert again.status_code == 302
    assert "Not possible now" in text(office.page(page_path))
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.get(Rectification, rect).deadline == date(2026, 6, 30)


def test_a_refused_extension_keeps_the_deadline_and_a_decision_must_be_named(site, in_english):
    rect = register(site)
    asked = asked_for_more_time(site, rect, shanghai(2026, 5, 7, 10))
    office = in_english("office@example.org")
    with wiring_of(site).transaction(readonly=True) as session:
        deadline = session.get(Rectification, rect).deadline

    office.post(
        f"/extensions/{asked}/decide", {"decision": "maybe", "next": f"/rectifications/{rect}"}
    )
    assert "Approve or refuse the request." in text(office.page(f"/rectifications/{rect}"))

    office.post(
        f"/extensions/{asked}/decide", {"decision": "refuse", "next": f"/rectifications/{rect}"}
    )
    assert "Extension refused." in text(office.page(f"/rectifications/{rect}"))
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.get(Rectification, rect).deadline == deadline


# --- the bulk check-off panel --------------------------------------------------------------------


def test_the_bulk_panel_is_only_for_people_with_tasks_and_folded(site, visitor):
    keeper_hazard = hazard_for(site, "keeper@example.org")

    keeper = visitor("keeper@example.org").page("/")
    assert f'id="rectification-{keeper_hazard}"' in keeper, "the keeper's hazard is in their inbox"
    assert 'id="bulk' not in keeper, "no tasks: no panel"

    east = visitor("east@example.org").page("/")
    panel = re.search(r'<details class="bulk card" id="bulk"( open)?>(.*?)</details>', east, re.S)
    assert panel and panel.group(1) is None, "folded until opened"
    assert '<form id="bulk-form"' in panel.group(2)
    assert 'form="bulk-form"' in east, "each task's box belongs to the panel's form"


def test_an_office_director_left_with_decisions_only_has_no_bulk_panel(site, visitor):
    rect = register(site)
    reported_fixed(site, rect, shanghai(2026, 5, 7, 10))
    office = visitor("office@example.org")
    assert 'id="bulk"' in office.page("/"), "the meeting is theirs to check off"
    meeting = task_id(site, "office@example.org", "meeting")
    assert office.post(f"/tasks/{meeting}/complete", {"note": "已召开"}).status_code == 302

    html = office.page("/")
    assert review_items(html) == [(f"review-rectification-{rect}", f"/rectifications/{rect}")]
    assert 'id="bulk' not in html


# --- helpers ------------------------------------------------------------------------------------


def hazard_for(site, email: str) -> int:  # type: ignore[no-untyped-def]
    """A hazard at 3号道口 with ``email`` responsible for it, registered by the operator on 2026-05-11."""
    with wiring_of(site).transaction() as session:
        return register_hazard(
            session,
            site.campaign_id,
            HazardReport(description="道口警示灯不亮", site="crossing-3", responsible=email),
            by=OPERATOR,
            clock=FixedClock(shanghai(2026, 5, 11, 10)),
            calendar=WorkingCalendar(),
            base_url=BASE_URL,
        ).id
