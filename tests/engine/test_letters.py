"""Responsibility letters (issue 17, item 1) through the engine, on SQLite and PostgreSQL: drafted when their phase
is entered, one per key site; issued by the leader (the signer is mailed), signed by the site's responsible person,
each move audited; refused to anyone else, before its time or twice, with nothing changed; an unsigned letter keeps
the campaign in its phase, named among the blockers."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from tests.support.actions import BASE_URL, actor, start
from tests.support.databases import row_counts
from tests.support.texts import LETTERS, TOWN_WITH_KEEPER
from workflow.audit import trail
from workflow.campaigns.letters import issue_letter, sign_letter
from workflow.campaigns.lifecycle import advance_campaign
from workflow.campaigns.tasks import complete_task
from workflow.definitions.reader import DefinitionError, parse_definition
from workflow.errors import Forbidden, NotFound, StartRefused, TransitionRefused
from workflow.models import Letter, OutboxMail, Site, Task
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation
from workflow.views.letters import campaign_letters, letter_sheet, letters_to_act_on
from workflow.views.report import build_report
from workflow.views.report_files import report_csv


@pytest.fixture
def campaign(sessions, clock, calendar):
    """The town's campaign in its mobilization phase: 3号道口's letter, kept by the crossing keeper (no role)."""
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_KEEPER, "org.yaml"))
    return start(sessions, parse_definition(LETTERS, "def.yaml"), clock, calendar)


@pytest.fixture
def letter(sessions, campaign):
    with sessions() as session:
        return session.scalar(select(Letter.id))


def issue(sessions, clock, letter_id, who="leader@example.org"):
    by = actor(sessions, who)
    with sessions.begin() as session:
        return issue_letter(session, letter_id, by=by, clock=clock, base_url=BASE_URL).state


def sign(sessions, clock, letter_id, who="keeper@example.org"):
    by = actor(sessions, who)
    with sessions.begin() as session:
        return sign_letter(session, letter_id, by=by, clock=clock).state


def state_of(sessions, letter_id):
    with sessions() as session:
        return session.get(Letter, letter_id).state


def test_entering_the_phase_drafts_a_letter_per_key_site_with_both_parties_and_its_content(
    sessions, clock, campaign, letter
):
    keeper, leader = actor(sessions, "keeper@example.org"), actor(sessions, "leader@example.org")
    with sessions() as session:
        row = session.get(Letter, letter)
        assert (row.state, row.site.code, row.issuer.name, row.signer.name) == (
            "drafted",
            "crossing-3",
            "张组长",
            "陈道口看守",
        )
        assert row.due_on.isoformat() == "2026-05-11"  # 10d after the phase's start
        waiting = letters_to_act_on(session, leader.person_id)
        assert [(item.id, item.move, item.counterpart) for item in waiting] == [
            (letter, "issue", "陈道口看守")
        ]
        assert letters_to_act_on(session, keeper.person_id) == [], (
            "nothing to sign before it is issued"
        )
        sheet = letter_sheet(session, campaign, letter, by=keeper, clock=clock)
    assert (sheet.issuing_unit, sheet.issuer, sheet.signer, sheet.unit, sheet.site) == (
        "铁路镇",
        "张组长",
        "陈道口看守",
        "东村",
        "3号道口",
    )
    assert sheet.duties == ("责任必须明确：包片区段每日巡查一次", "发现危及行车安全的隐患立即报告")
    assert [t.title for t in sheet.targets] == ["不发生因治安问题导致的铁路行车重大事故"]
    assert (sheet.may_issue, sheet.may_sign) == (False, False)


def test_the_leader_issues_it_the_signer_is_mailed_and_signs_it_each_move_audited(
    sessions, clock, campaign, letter
):
    assert issue(sessions, clock, letter) == "issued"
    keeper, office = actor(sessions, "keeper@example.org"), actor(sessions, "office@example.org")
    with sessions() as session:
        mail = session.scalar(select(OutboxMail))
        waiting = letters_to_act_on(session, keeper.person_id)
    assert mail.recipient == "keeper@example.org"
    assert mail.subject.startswith(
        "【责任书待签订】签订铁路安全包片责任区段责任书，请于 2026-05-11 前签订"
    )
    assert "甲方 issued by: 张组长" in mail.body and "乙方 signed by: 陈道口看守" in mail.body
    assert f"{BASE_URL}/campaigns/{campaign}/letters/{letter}" in mail.body
    assert [(item.id, item.move, item.counterpart) for item in waiting] == [
        (letter, "sign", "张组长")
    ]

    assert sign(sessions, clock, letter) == "signed"
    with sessions() as session:
        events = [
            (e.event, e.from_state, e.to_state, e.actor)
            for e in trail(session, campaign, "letter", letter)
        ]
        rows = campaign_letters(session, campaign, by=office)
    assert events == [
        ("issue", "drafted", "issued", "leader@example.org"),
        ("sign", "issued", "signed", "keeper@example.org"),
    ]
    assert [(r.state, r.issued_on.isoformat(), r.signed_on.isoformat()) for r in rows] == [
        ("signed", "2026-05-01", "2026-05-01")
    ]


def test_signing_before_it_is_issued_is_refused_and_changes_nothing(sessions, clock, letter):
    before = row_counts(sessions)
    with pytest.raises(TransitionRefused, match=f"letter {letter} is not issued yet"):
        sign(sessions, clock, letter)
    assert (row_counts(sessions), state_of(sessions, letter)) == (before, "drafted")


def test_only_its_signer_signs_it(sessions, clock, letter):
    issue(sessions, clock, letter)
    before = row_counts(sessions)
    with pytest.raises(Forbidden, match=f"only 陈道口看守, its signer, signs letter {letter}"):
        sign(sessions, clock, letter, who="office@example.org")  # the leading group sees it
    with pytest.raises(NotFound):  # another village's head: it does not exist for him
        sign(sessions, clock, letter, who="west@example.org")
    assert (row_counts(sessions), state_of(sessions, letter)) == (before, "issued")


def test_only_the_issuing_role_issues_it_and_only_once(sessions, clock, letter):
    before = row_counts(sessions)
    with pytest.raises(Forbidden, match="only the letter's issuer \\(role 'leader'"):
        issue(sessions, clock, letter, who="office@example.org")
    with pytest.raises(Forbidden):  # its signer cannot issue it to himself
        issue(sessions, clock, letter, who="keeper@example.org")
    assert (row_counts(sessions), state_of(sessions, letter)) == (before, "drafted")

    issue(sessions, clock, letter)
    before = row_counts(sessions)
    with pytest.raises(
        TransitionRefused, match=f"letter {letter} is already issued: it is issued once"
    ):
        issue(sessions, clock, letter)
    assert (row_counts(sessions), state_of(sessions, letter)) == (before, "issued")


def test_an_unsigned_letter_keeps_the_campaign_in_its_phase_named_among_the_blockers(
    sessions, clock, calendar, campaign, letter
):
    office = actor(sessions, "office@example.org")
    with sessions.begin() as session:
        plan = session.scalar(select(Task.id).where(Task.spec_key == "plan"))
        complete_task(session, plan, by=office, clock=clock)

    def advance():
        with sessions.begin() as session:
            return advance_campaign(session, campaign, by=office, clock=clock, calendar=calendar)

    with pytest.raises(TransitionRefused) as refused:
        advance()
    assert [b.describe() for b in refused.value.blockers] == [
        f"letter #{letter} 签订铁路安全包片责任区段责任书 [东村 · 3号道口] → 张组长 (drafted)"
    ]
    issue(sessions, clock, letter)
    with pytest.raises(TransitionRefused) as refused:
        advance()
    assert [b.assignee for b in refused.value.blockers] == ["陈道口看守"], "now the signer's move"
    sign(sessions, clock, letter)
    assert advance().to_state == "implementation"


def test_a_site_without_a_responsible_person_refuses_the_start(sessions, clock, calendar):
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_KEEPER, "org.yaml"))
        session.scalar(select(Site)).responsible_id = None
    with pytest.raises(
        StartRefused, match="key site 'crossing-3' \\(3号道口\\) has no responsible person"
    ):
        start(sessions, parse_definition(LETTERS, "def.yaml"), clock, calendar)


def test_a_letter_names_known_roles_and_targets_by_line():
    broken = LETTERS.replace("issued_by: leader", "issued_by: village_head").replace(
        "targets: [no-train-accident]", "targets: [no-train-accident, no-such-target]"
    )
    with pytest.raises(DefinitionError) as error:
        parse_definition(broken, "def.yaml")
    assert [str(p) for p in error.value.problems] == [
        "def.yaml:20: phases[0].letters[0].issued_by: role 'village_head' is held in each sub-unit "
        "(scope: unit): a letter is issued by a leading-group role of the campaign's unit",
        "def.yaml:25: phases[0].letters[0].targets[1]: unknown target 'no-such-target' (declared under "
        "targets: no-train-accident)",
    ]


def test_the_report_lists_each_letter_with_its_parties_in_its_json_and_its_csv(
    sessions, clock, letter
):
    issue(sessions, clock, letter)
    sign(sessions, clock, letter)
    office = actor(sessions, "office@example.org")
    with sessions() as session:
        campaign = session.get(Letter, letter).campaign_id
        report = build_report(session, campaign, by=office, clock=clock)
    assert report.to_dict()["letters"] == [
        {
            "id": letter,
            "title": "签订铁路安全包片责任区段责任书",
            "unit": "东村",
            "site": "3号道口",
            "issuer": "张组长",
            "signer": "陈道口看守",
            "state": "signed",
            "due_on": "2026-05-11",
            "issued_on": "2026-05-01",
            "signed_on": "2026-05-01",
        }
    ]
    rows = list(csv.reader(io.StringIO(report_csv(report, "letters").decode("utf-8-sig"))))
    assert rows[0][:6] == [
        "编号 no.",
        "名称 title",
        "单位 unit",
        "部位 site",
        "甲方 issued by",
        "乙方 signed by",
    ]
    assert rows[1][4:7] == ["张组长", "陈道口看守", "已签订 signed"]
