"""The work lists' pages and API (issue 19): the filter bar's address, pages, search with its
highlighting, saved views in the navigation and shared with the leading group (SQLite; the
engine's queries are tried on both databases in tests/engine/test_work_lists.py)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.web import register, text
from workflow.organisation.tokens import issue_token


@pytest.fixture
def db_url(sqlite_url):
    return sqlite_url


def titles(html):
    """The titles listed, their highlighting aside."""
    found = re.findall(r'class="item-title"[^>]*>(.*?)</a>', html, re.S)
    return [re.sub(r"<[^>]+>", "", title).strip() for title in found]


def next_page(html):
    found = re.search(r'<a class="next" rel="next" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_register_pages_by_keyset_and_counts_the_whole_filter(site, visitor, monkeypatch):
    monkeypatch.setattr("workflow.limits.PAGE_SIZE", 2)
    for number in range(5):
        register(site, description=f"护栏隐患{number}", severity="major" if number % 2 else "minor")
    office = visitor("office@example.org")
    base = f"/campaigns/{site.campaign_id}/hazards"

    first = office.page(base + "?severity=minor")
    assert "共 3 条隐患" in text(first) and len(titles(first)) == 2
    link = next_page(first)
    assert parse_qs(urlsplit(link).query)["severity"] == ["minor"], "the filter rides along"
    second = office.page(link)
    assert len(titles(second)) == 1 and next_page(second) is None
    assert sorted(titles(first) + titles(second)) == ["护栏隐患0", "护栏隐患2", "护栏隐患4"]
    assert "首页" in text(second)


def test_a_search_highlights_the_words_found(site, visitor):
    register(site, description="道口护栏损坏")
    register(site, description="信号灯不亮", location="道口北侧护栏旁")
    register(site, description="杂物堆放")
    html = visitor("office@example.org").page(
        f"/campaigns/{site.campaign_id}/hazards?q=%E6%8A%A4%E6%A0%8F"  # 护栏
    )

    assert titles(html) == ["道口护栏损坏", "信号灯不亮"]
    assert "道口<mark>护栏</mark>损坏" in html
    assert "道口北侧<mark>护栏</mark>旁" in html


def test_a_bad_filter_value_is_said_and_the_list_shown_whole(site, visitor):
    register(site, description="道口护栏损坏")
    html = visitor("office@example.org").page(f"/campaigns/{site.campaign_id}/hazards?due=tomorrow")

    assert "due" in text(html) and 'class="flash flash-error"' in html
    assert titles(html) == ["道口护栏损坏"]
    altered = visitor("office@example.org").page(
        f"/campaigns/{site.campaign_id}/hazards?after=not-a-key"
    )
    assert titles(altered) == ["道口护栏损坏"] and "flash-error" in altered


def test_the_inbox_filters_by_the_address_and_keeps_its_groups(site, visitor):
    register(site, description="道口护栏损坏", severity="major")
    east = visitor("east@example.org")

    whole = titles(east.page("/"))
    assert "道口护栏损坏" in whole and len(whole) > 1
    only_hazards = east.page("/?kind=rectification")
    assert titles(only_hazards) == ["道口护栏损坏"]
    assert "1 项匹配" in text(only_hazards)
    assert titles(east.page("/?kind=rectification&severity=minor")) == []


def test_the_inbox_narrows_to_a_unit_or_key_site_of_its_items(site, visitor):
    register(site, description="道口护栏损坏")  # at 3号道口, in east's village
    register(site, description="线路旁堆放杂物", site=None, unit="west-village")
    east = visitor("east@example.org")
    # east's unit is one village: no choice of units; the town's office chooses among its villages
    assert 'name="unit"' not in east.page("/")
    assert 'name="unit"' in visitor("office@example.org").page("/")
    in_the_west = east.page("/?unit=west-village")
    assert titles(in_the_west) == ["线路旁堆放杂物"] and 'name="unit"' in in_the_west
    assert titles(east.page("/?site=crossing-3")) == ["道口护栏损坏"]


def test_a_saved_view_is_in_its_owner_s_navigation_and_shared_with_the_leading_group(site, visitor):
    register(site, description="道口护栏损坏", severity="major")
    office, deputy, east = (
        visitor(email) for email in ("office@example.org", "deputy@example.org", "east@example.org")
    )
    register_page = f"/campaigns/{site.campaign_id}/hazards"
    answer = office.post(
        "/views",
        {
            "name": "本周到期的重大隐患",
            "list_name": "register",
            "campaign": str(site.campaign_id),
            "query": "severity=major&state=open",
        },
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"{register_page}?state=open&severity=major")
    assert "本周到期的重大隐患" in text(office.page("/"))
    assert "本周到期的重大隐患" not in text(deputy.page("/")), "not shared yet"

    view_id = re.search(r'/views/(\d+)/share"', office.page("/views")).group(1)
    assert office.post(f"/views/{view_id}/share").status_code == 302
    menu = deputy.page("/")
    assert "本周到期的重大隐患" in text(menu) and "共享" in text(menu)
    shared_link = re.search(r'href="([^"]+)">本周到期的重大隐患', menu).group(1)
    assert titles(deputy.page(shared_link.replace("&amp;", "&"))) == ["道口护栏损坏"]
    assert "本周到期的重大隐患" not in text(east.page("/")), "a village head is not of the group"
    assert deputy.post(f"/views/{view_id}/delete").status_code == 404, "the owner's only"


def test_the_api_takes_the_same_names_and_answers_a_page(site, sessions, clock):
    register(site, description="道口护栏损坏", severity="major")
    register(site, description="信号灯不亮")
    client = site.test_client()
    with sessions.begin() as session:
        token = issue_token(session, "office@example.org", clock.now())
    headers = {"Authorization": f"Bearer {token}"}
    answer = client.get(
        f"/api/v1/campaigns/{site.campaign_id}/hazards?severity=major", headers=headers
    )
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["count"] == 1 and body["next_after"] is None
    assert [item["description"] for item in body["items"]] == ["道口护栏损坏"]

    refused = client.get("/api/v1/inbox?due=tomorrow", headers=headers)
    assert refused.status_code == 422 and "due must be one of" in refused.get_json()["message"]
    described = client.get("/api/v1/openapi.json").get_json()
    names = [
        p["name"]
        for p in described["paths"]["/campaigns/{campaign_id}/hazards"]["get"]["parameters"]
    ]
    assert {"unit", "site", "severity", "due", "level", "responsible", "q", "sort", "after"} <= set(
        names
    )


def test_the_campaign_list_answers_the_api_with_the_page_s_names(site, sessions, clock):
    client = site.test_client()
    with sessions.begin() as session:
        token = issue_token(session, "office@example.org", clock.now())
    headers = {"Authorization": f"Bearer {token}"}
    body = client.get("/api/v1/campaigns?q=铁路&state=running", headers=headers).get_json()
    assert body["count"] == 1 and body["next_after"] is None
    [campaign] = body["items"]
    assert campaign["id"] == site.campaign_id and campaign["title"] == "平安铁路创建活动"
    assert campaign["coordinator"] and campaign["leading_group"] and campaign["state"] != "closed"
    assert client.get("/api/v1/campaigns?state=closed", headers=headers).get_json()["count"] == 0
    assert client.get("/api/v1/campaigns?q=家庭", headers=headers).get_json()["items"] == []
    refused = client.get("/api/v1/campaigns?after=not-a-key", headers=headers)
    assert refused.status_code == 422
    described = client.get("/api/v1/openapi.json").get_json()
    names = [p["name"] for p in described["paths"]["/campaigns"]["get"]["parameters"]]
    assert {"q", "state", "unit", "after"} <= set(names)
