"""Leaving a phase, safely (issue 15): the campaign page lists what blocks the phase before anyone
clicks; the advance button leads to a confirmation naming both phases; the confirmation's form is
the only move, and every answer to it is a redirect, so a reload asks again for nothing and a second
post of the same form is told the campaign has already moved on."""

from __future__ import annotations

import re

from tests.support.actions import OPERATOR
from tests.support.web import finish_the_phase, register, task_id, text
from webapp import wiring_of
from workflow.audit import trail
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import advance_campaign
from workflow.models import Campaign


def test_a_refused_advance_redirects_and_reloading_where_it_lands_changes_nothing(site, visitor):
    office = in_english(visitor("office@example.org"))
    campaign = f"/campaigns/{site.campaign_id}"

    refused = office.post(f"{campaign}/advance", {"from": "mobilization"})

    assert refused.status_code in (302, 303), "a refusal is not a page at the POST address"
    assert refused.headers["Location"] == f"{campaign}#blockers"
    landing = office.page(campaign)
    assert "The campaign cannot leave this phase yet: 3 items are still open." in flash(landing)
    assert len(blocker_links(landing)) == 3, "the landing page lists what blocks the phase"

    finish_the_phase(site)  # the blockers are gone: reloading used to advance the campaign now
    again = office.get(campaign)

    assert again.status_code == 200 and flash(again.get_data(as_text=True)) == ""
    assert (state(site), advances(site)) == ("mobilization", 0)


def test_a_second_post_of_the_same_confirmation_moves_nothing_and_says_where_the_campaign_is(
    site, visitor
):
    finish_the_phase(site)
    office = in_english(visitor("office@example.org"))
    campaign = f"/campaigns/{site.campaign_id}"
    confirmation = office.page(f"{campaign}/advance")
    seen = re.search(r'<input type="hidden" name="from" value="([^"]+)">', confirmation).group(1)

    first = office.post(f"{campaign}/advance", {"from": seen})
    assert "The campaign moved on to the next phase" in flash(
        office.page(first.headers["Location"])
    )
    second = office.post(f"{campaign}/advance", {"from": seen})

    assert (first.status_code, second.status_code) == (302, 302)
    assert second.headers["Location"] == campaign
    landing = office.page(campaign)
    assert flash(landing) == "Already advanced to 全面实施阶段."
    assert '<p class="flash flash-info"' in landing, "news, not an error: nothing went wrong"
    assert (state(site), advances(site)) == ("implementation", 1)


def test_the_confirmation_names_both_phases_and_says_when_the_next_has_no_required_work(
    site, visitor
):
    office = in_english(visitor("office@example.org"))
    confirm = f"/campaigns/{site.campaign_id}/advance"
    finish_the_phase(site)

    page = office.page(confirm)
    assert phases_named(page) == (
        ("mobilization", "宣传发动阶段"),
        ("implementation", "全面实施阶段"),
    )
    assert 'id="no-required-work"' not in page, "the implementation phase has its patrol plans"
    form = re.search(r'<form method="post" action="([^"]+)"', page)
    assert form is not None and form.group(1) == confirm
    assert '<input type="hidden" name="from" value="mobilization">' in page

    advance(site)
    finish_the_phase(site)
    page = office.page(confirm)
    assert phases_named(page) == (
        ("implementation", "全面实施阶段"),
        ("inspection", "检查验收阶段"),
    )
    assert (
        "The next phase has no required work: once entered, it could be left again at once."
        in text(page, "no-required-work")
    )

    advance(site)
    page = office.page(confirm)
    assert phases_named(page) == (
        ("inspection", "检查验收阶段"),
        ("closed", "None: the campaign closes."),
    )
    assert 'id="no-required-work"' not in page
    assert (state(site), advances(site)) == ("inspection", 2), "opening the page moves nothing"

    advance(site)  # closed: nothing left to confirm
    answer = office.get(confirm)
    assert (answer.status_code, answer.headers["Location"]) == (
        302,
        f"/campaigns/{site.campaign_id}",
    )
    assert flash(office.page(answer.headers["Location"])) == (
        "The campaign is closed: there is no phase to leave."
    )


def test_the_confirmation_offers_no_move_while_items_block_and_is_a_coordinator_s(site, visitor):
    office = in_english(visitor("office@example.org"))
    page = office.page(f"/campaigns/{site.campaign_id}/advance")

    assert "The campaign cannot leave this phase yet: 3 items are still open." in text(page)
    assert 'method="post" action="/campaigns' not in page, "no confirm button to be refused"
    assert f'href="/campaigns/{site.campaign_id}#blockers"' in page
    east = visitor("east@example.org")
    assert east.get(f"/campaigns/{site.campaign_id}/advance").status_code == 403
    assert (
        visitor("keeper@example.org").get(f"/campaigns/{site.campaign_id}/advance").status_code
        == 404
    )


def test_the_campaign_page_lists_what_blocks_the_phase_before_any_click(site, visitor):
    hazard = register(site, "道口护栏断裂", severity="major")  # east's, due 05-08 as the meeting
    campaign = f"/campaigns/{site.campaign_id}"
    office = in_english(visitor("office@example.org"))

    page = office.page(campaign)
    assert "4 required items are still open in this phase." in text(page, "blockers")
    shown = blocker_links(page)
    assert shown == [  # soonest due first; on the same day a hazard first, as in the inbox
        (f"/rectifications/{hazard}", "道口护栏断裂"),
        (f"/tasks/{task_id(site, 'office@example.org', 'meeting')}", "召开动员大会"),
        (f"/tasks/{task_id(site, 'east@example.org', 'plan')}", "制定创建活动计划"),
        (f"/tasks/{task_id(site, 'west@example.org', 'plan')}", "制定创建活动计划"),
    ]
    east_plan = blocker_text(page, "task", task_id(site, "east@example.org", "plan"))
    assert "东村" in east_plan and "李村长" in east_plan and "Due 15 May 2026" in east_plan
    assert "Major hazard" in blocker_text(page, "rectification", hazard)
    assert 'aria-labelledby="advance-heading"' not in page, "no advance offered while blocked"
    assert "The campaign can move on once the required items above are done." in text(
        page, "blockers"
    )
    for link, _ in shown:
        assert office.get(link).status_code == 200

    east = in_english(visitor("east@example.org"))
    page = east.page(campaign)
    assert "4 required items are still open in this phase." in text(page, "blockers")
    assert "Yours among them:" in text(page, "blockers")
    assert blocker_links(page) == [
        (f"/rectifications/{hazard}", "道口护栏断裂"),
        (f"/tasks/{task_id(site, 'east@example.org', 'plan')}", "制定创建活动计划"),
    ], "a village head is listed their own items, not west's plan or the office's meeting"
    assert "Advance" not in text(page)


def test_the_campaign_page_says_when_nothing_blocks_and_leads_to_the_confirmation(site, visitor):
    finish_the_phase(site)
    page = in_english(visitor("office@example.org")).page(f"/campaigns/{site.campaign_id}")

    assert "Every required item of this phase is done." in text(page, "blockers")
    assert blocker_links(page) == []
    step = section(page, "advance-heading")
    assert f'<form method="get" action="/campaigns/{site.campaign_id}/advance">' in step
    assert 'name="from"' not in step, "the page itself carries no move"


# --- helpers ------------------------------------------------------------------------------------


def in_english(person):  # type: ignore[no-untyped-def]
    """The person's pages in English: the new messages are checked in the language they are written
    in (the Chinese catalogue is merged separately)."""
    assert person.post("/language", {"language": "en"}).status_code == 302
    return person


def advance(site) -> None:  # type: ignore[no-untyped-def]
    with wiring_of(site).transaction() as session:
        advance_campaign(
            session,
            site.campaign_id,
            by=OPERATOR,
            clock=wiring_of(site).clock,
            calendar=WorkingCalendar(),
        )


def state(site) -> str:  # type: ignore[no-untyped-def]
    with wiring_of(site).transaction(readonly=True) as session:
        return session.get(Campaign, site.campaign_id).state


def advances(site) -> int:  # type: ignore[no-untyped-def]
    with wiring_of(site).transaction(readonly=True) as session:
        events = trail(session, site.campaign_id, "campaign")
        return len([event for event in events if event.event == "advance"])


def flash(html: str) -> str:
    """The messages at the top of the page ("" for none)."""
    return " ".join(
        text(message) for message in re.findall(r'<p class="flash flash-\w+"[^>]*>(.*?)</p>', html)
    )


def blocker_links(html: str) -> list[tuple[str, str]]:
    """The blocking items the page lists, as (link, title), in their order."""
    listed = re.search(r'<ul class="blockers">(.*?)</ul>', html, re.S)
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', listed.group(1)) if listed else []


def blocker_text(html: str, kind: str, item_id: int) -> str:
    item = re.search(rf'<li data-kind="{kind}" data-id="{item_id}">(.*?)</li>', html, re.S)
    assert item is not None, (kind, item_id)
    return text(item.group(1))


def phases_named(html: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The confirmation's phase left and phase entered, as (phase id, what the reader sees)."""
    named = re.findall(
        r'<div id="(?:leaving|entering)">.*?<dd data-phase="([^"]+)">(.*?)</dd>', html, re.S
    )
    assert len(named) == 2, named
    return (named[0][0], text(named[0][1])), (named[1][0], text(named[1][1]))


def section(html: str, heading_id: str) -> str:
    found = re.search(rf'<section[^>]*aria-labelledby="{heading_id}">(.*?)</section>', html, re.S)
    assert found is not None, heading_id
    return found.group(1)
