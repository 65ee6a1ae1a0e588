"""The main menu by role, a campaign's page for someone who only holds items in it, the escalation log by name,
and a definition's texts in the reader's language (issue 15). SQLite and PostgreSQL.

The town is ``tests.support.keeper_town``'s: 3号道口 is kept by 陈道口看守, who holds no role in the campaign but a
hazard; east's head holds another one; the definition gives English titles (``title_en``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask

from tests.support.actions import BASE_URL, OPERATOR
from tests.support.api import Caller
from tests.support.clock import shanghai
from tests.support.keeper_town import (
    BILINGUAL_SCREENING,
    EAST,
    EAST_HAZARD,
    KEEPER,
    KEEPER_HAZARD,
    LEADER,
    NOW,
    OFFICE,
    TITLE,
    TITLE_EN,
    build_keeper_town,
)
from tests.support.texts import TOWN_WITH_KEEPER
from tests.support.web import Visitor, give_everyone_a_password, text
from webapp import create_app, wiring_of
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import FixedClock, as_utc
from workflow.definitions.reader import parse_definition
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation
from workflow.organisation.tokens import issue_token


class Town:
    """The app over the keeper's town (``tests.support.keeper_town``) on 2026-09-30."""

    def __init__(self, app: Flask, campaign: int, hazards: dict[str, int]) -> None:
        self.app, self.campaign, self.hazards = app, campaign, hazards

    def visitor(self, email: str, language: str | None = None) -> Visitor:
        person = Visitor(self.app.test_client())
        assert person.sign_in(email).status_code == 302
        if language:
            assert person.post("/language", {"language": language, "next": "/"}).status_code == 302
        return person


@pytest.fixture
def town(db_url, sessions, calendar, tmp_path) -> Iterator[Town]:  # type: ignore[no-untyped-def]
    built = build_keeper_town(sessions, calendar)
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "CLOCK": FixedClock(NOW),
            "SECRET_KEY": "test",
            "BASE_URL": BASE_URL,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "LOGIN_CLOCK": FixedClock(NOW),
        }
    )
    yield Town(app, built.campaign, built.hazards)
    wiring_of(app).engine.dispose()


def menu(page: str) -> dict[str, str]:
    """The main menu's entries: link target → text."""
    nav = re.search(r'<nav class="main-nav".*?</nav>', page, re.S).group(0)
    return {
        href: text(label)
        for href, label in re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', nav)
    }


# --- the menu -----------------------------------------------------------------------------------


def test_the_keeper_s_menu_has_his_campaigns_and_no_leader_view(town):
    keeper = town.visitor(KEEPER, "en")
    for path in ("/", "/done", f"/campaigns/{town.campaign}"):
        entries = menu(keeper.page(path))
        assert "/leader" not in entries and "Leader view" not in entries.values(), path
        assert entries["/campaigns"] == "Campaigns", path
    # the campaign list holds the campaign he has a hazard in, and its link works
    listed = keeper.page("/campaigns")
    assert f'href="/campaigns/{town.campaign}"' in listed
    assert TITLE_EN in text(listed)


def test_the_leader_sees_both_entries_and_a_village_head_no_leader_view(town):
    assert {"/campaigns", "/leader"} <= set(menu(town.visitor(LEADER).page("/")))
    head = menu(town.visitor(EAST).page("/"))
    assert "/campaigns" in head and "/leader" not in head


def test_someone_with_neither_role_nor_items_sees_neither_entry(town, sessions):
    west = menu(
        town.visitor("west@example.org").page("/")
    )  # a village head: west has a screening task
    assert "/campaigns" in west
    with sessions.begin() as session:
        import_organisation(
            session,
            parse_organisation(
                TOWN_WITH_KEEPER.replace(
                    "people:\n",
                    "people:\n  - {email: clerk@example.org, name: 孙文书, unit: town, roles: []}\n",
                ),
                "org.yaml",
            ),
        )
        give_everyone_a_password(session)
    clerk = town.visitor("clerk@example.org")
    entries = menu(clerk.page("/"))
    assert "/campaigns" not in entries and "/leader" not in entries
    assert clerk.get(f"/campaigns/{town.campaign}").status_code == 404


# --- the keeper's campaign page: his items, read-only ------------------------------------------


def test_the_keeper_s_campaign_page_shows_his_hazard_read_only(town):
    keeper = town.visitor(KEEPER)
    page = keeper.page(f"/campaigns/{town.campaign}")
    own = text(page, "own-items")
    assert KEEPER_HAZARD in own
    assert f'href="/rectifications/{town.hazards[KEEPER]}"' in page
    assert keeper.get(f"/rectifications/{town.hazards[KEEPER]}").status_code == 200
    # the phases with their dates, nothing to act on, nothing of anyone else's
    assert 'class="machine"' in page and "2026年9月10日" in page
    for move in ("/hazards", "/advance", "/hand-over", "/escalations", "/report", "/scores"):
        assert f"/campaigns/{town.campaign}{move}" not in page, move
    assert "<form" not in page.split("<main>", 1)[1]
    assert EAST_HAZARD not in page and "李村长" not in page and "周村长" not in page


def test_the_keeper_s_other_campaign_routes_still_refuse_him(town):
    keeper = town.visitor(KEEPER)
    for path in ("/hazards", "/escalations", "/report", "/incidents", "/scores"):
        answer = keeper.get(f"/campaigns/{town.campaign}{path}")
        assert answer.status_code == 404, path
        assert EAST_HAZARD not in answer.get_data(as_text=True)
    assert keeper.get(f"/rectifications/{town.hazards[EAST]}").status_code == 404
    assert keeper.post(f"/campaigns/{town.campaign}/advance").status_code == 404


def test_the_keeper_reads_the_campaign_through_the_api_with_his_own_overdue_work_only(
    town, sessions
):
    # 2026-12-21: the villages' screening tasks (due 100 days after 09-10) are overdue
    wiring_of(town.app).clock.instant = as_utc(shanghai(2026, 12, 21, 9))
    with sessions.begin() as session:
        callers = {
            who: Caller(
                town.app.test_client(), issue_token(session, who, shanghai(2026, 12, 21, 9))
            )
            for who in (KEEPER, LEADER)
        }
    leaders = callers[LEADER].get(f"/campaigns/{town.campaign}")
    assert leaders.status_code == 200 and leaders.json["overdue_count"] == 2
    keepers = callers[KEEPER].get(f"/campaigns/{town.campaign}")
    assert keepers.status_code == 200
    assert (keepers.json["title"], keepers.json["allowed_moves"]) == (TITLE, [])
    assert (keepers.json["overdue_count"], keepers.json["overdue"]) == (0, [])
    assert "李村长" not in keepers.get_data(as_text=True)


# --- the escalation log by name -----------------------------------------------------------------


def test_the_escalation_log_names_the_people_told(town):
    page = town.visitor(OFFICE).page(f"/campaigns/{town.campaign}/escalations")
    told = [text(cell) for cell in re.findall(r'<dd class="told">(.*?)</dd>', page, re.S)]
    assert told, "the keeper's hazard was escalated"
    assert all("@" not in names for names in told), told
    assert any("陈道口看守" in names and "赵主任" in names for names in told), told
    # the address is still there, for whoever needs it
    assert 'title="keeper@example.org">陈道口看守</span>' in page


# --- the definition's texts in the reader's language -------------------------------------------


def test_the_campaign_s_texts_follow_the_language(town):
    leader = town.visitor(LEADER, "en")
    listed = text(leader.page("/campaigns"))
    assert TITLE_EN in listed and TITLE not in listed
    assert "Implementation" in listed
    campaign = leader.page(f"/campaigns/{town.campaign}")
    assert re.search(rf"<h1>\s*{TITLE_EN}\s*</h1>", campaign)
    assert f"<title>{TITLE_EN}" in campaign
    assert "Implementation" in text(campaign) and "全面实施阶段" not in text(campaign)
    assert TITLE_EN in text(leader.page("/leader"))
    log = leader.page(f"/campaigns/{town.campaign}/escalations")
    assert TITLE_EN in text(log) and TITLE not in text(log)

    # the pages that name the campaign on the way: the register, the report, a hazard's own page
    for path in ("/hazards", "/report"):
        assert f">{TITLE_EN}</a>" in leader.page(f"/campaigns/{town.campaign}{path}"), path
    assert re.search(rf"<h1>\s*{TITLE_EN}", leader.page(f"/campaigns/{town.campaign}/report"))
    hazard = leader.page(f"/rectifications/{town.hazards[KEEPER]}")
    assert f"<dd>{TITLE_EN}</dd>" in hazard

    chinese = town.visitor(LEADER).page("/campaigns")
    assert TITLE in chinese and TITLE_EN not in chinese
    assert "全面实施阶段" in chinese


def test_a_task_title_follows_the_language_on_the_village_head_s_pages(town):
    east = town.visitor(EAST, "en")
    campaign = text(east.page(f"/campaigns/{town.campaign}"))
    assert "Hazard screening" in campaign and "隐患排查" not in campaign


def test_a_title_given_by_hand_stays_as_given(town, sessions, calendar):
    with sessions.begin() as session:
        start_campaign(
            session,
            parse_definition(BILINGUAL_SCREENING, "def.yaml"),
            "town",
            date(2026, 9, 20),
            by=OPERATOR,
            clock=FixedClock(shanghai(2026, 9, 20, 9)),
            calendar=calendar,
            title="铁路镇道口专项整治",
        )
    listed = text(town.visitor(LEADER, "en").page("/campaigns"))
    assert "铁路镇道口专项整治" in listed and TITLE_EN in listed
