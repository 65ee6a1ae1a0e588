"""Responsibility letters on the pages (issue 17, item 1): the leader issues 3号道口's letter from his inbox, its
signer (李村长) signs it from his, the letter's page shows both parties and prints on one A4 sheet, the campaign's
list shows where each stands; a post twice is one move, and someone else's post is refused."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.support.clock import shanghai
from tests.support.texts import LETTERS
from tests.support.web import Visitor, started_site, text
from webapp import wiring_of
from workflow.models import Letter, OutboxMail


@pytest.fixture
def site(db_url, sessions, clock, tmp_path):
    app = started_site(db_url, sessions, clock, tmp_path, LETTERS, opens_at=shanghai(2026, 5, 6, 9))
    yield app
    wiring_of(app).engine.dispose()


@pytest.fixture
def letter(sessions):
    with sessions() as session:
        return session.scalar(select(Letter.id))


def signed_in(site, email):
    person = Visitor(site.test_client())
    assert person.sign_in(email).status_code == 302
    return person


def after(visitor, answer):
    """The page a post's redirect leads to, as the person sees it."""
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return visitor.page(answer.headers["Location"])


def inbox_form(page, letter_id):
    """The action and one-time key of the letter's button in the inbox, as a browser would post them."""
    found = re.search(
        rf'<li class="item item-later" id="letter-{letter_id}">.*?<form method="post" class="act" '
        r'action="([^"]+)">.*?name="form_key" value="([^"]+)"',
        page,
        re.S,
    )
    assert found, "the letter has a button in the inbox"
    return found.group(1), found.group(2)


def test_the_leader_issues_and_the_signer_signs_from_their_inboxes(site, sessions, letter):
    campaign = site.campaign_id
    leader = signed_in(site, "leader@example.org")
    page = leader.page("/")
    assert "签订铁路安全包片责任区段责任书" in text(page, "letters") and "待下达" in text(
        page, "letters"
    )
    action, key = inbox_form(page, letter)
    assert action == f"/campaigns/{campaign}/letters/{letter}/issue"
    shown = after(leader, leader.post(action, {"form_key": key, "next": "/"}))
    assert "已下达：签订铁路安全包片责任区段责任书" in text(shown)
    assert 'id="letters"' not in shown, "nothing left to issue"
    again = leader.post(action, {"form_key": key, "next": "/"})  # a double click: one move
    assert "已提交过" in text(after(leader, again))
    with sessions() as session:
        mail = session.scalar(select(OutboxMail).where(OutboxMail.key == f"letter-{letter}-issued"))
        assert mail.recipient == "east@example.org" and "责任书待签订" in mail.subject
        assert f"/campaigns/{campaign}/letters/{letter}" in mail.body

    east = signed_in(site, "east@example.org")
    page = east.page("/")
    assert "待签订" in text(page, "letters") and "张组长" in text(page, "letters")
    action, key = inbox_form(page, letter)
    after(east, east.post(action, {"form_key": key, "next": "/"}))
    with sessions() as session:
        signed = session.get(Letter, letter)
        assert (signed.state, signed.signed_by_id is not None) == ("signed", True)

    sheet = text(east.page(f"/campaigns/{campaign}/letters/{letter}"), "letter")
    assert "已签订" in sheet
    assert (
        "甲方（下达方） 铁路镇 · 张组长" in sheet
        and "乙方（签订方） 李村长 · 东村 · 3号道口" in sheet
    )
    assert "责任必须明确：包片区段每日巡查一次" in sheet
    assert "不发生因治安问题导致的铁路行车重大事故" in sheet
    assert sheet.count("签字：") == 2 and "2026年5月6日" in sheet

    listed = text(leader.page(f"/campaigns/{campaign}/letters"), "letters-summary")
    assert listed == "已签订 1 份，共 1 份。"


def test_signing_before_it_is_issued_is_refused_and_changes_nothing(site, sessions, letter):
    east = signed_in(site, "east@example.org")
    path = f"/campaigns/{site.campaign_id}/letters/{letter}"
    assert "签订" not in text(east.page("/"), "letters"), "nothing to sign yet"
    refused = after(east, east.post(f"{path}/sign", {"next": path}))
    assert f"letter {letter} is not issued yet" in text(refused)
    with sessions() as session:
        assert session.get(Letter, letter).state == "drafted"


def test_only_the_issuer_issues_and_only_the_signer_signs(site, sessions, letter):
    path = f"/campaigns/{site.campaign_id}/letters/{letter}"
    office = signed_in(site, "office@example.org")  # the leading group sees it, but issues nothing
    assert office.post(f"{path}/issue").status_code == 403
    west = signed_in(site, "west@example.org")  # another village's head: it does not exist for him
    assert west.get(path).status_code == 404
    assert west.post(f"{path}/issue").status_code == 404
    with sessions() as session:
        assert session.get(Letter, letter).state == "drafted"
