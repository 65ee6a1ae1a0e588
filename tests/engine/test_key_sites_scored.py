"""Key sites as scored units (issue 17, item 2): Lingtai's six key sites, three of them inside the
bureau itself, each a row of the assessment, scored on what a site answers for, with the hazards at
the site deducted from it; through the engine, the report and the score sheets page. SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.support.actions import BASE_URL, OPERATOR
from tests.support.clock import shanghai
from tests.support.paths import SHIPPED
from tests.support.web import PASSWORD, Visitor, give_everyone_a_password, text
from webapp import create_app, wiring_of
from workflow.assessment.incidents import IncidentReport, record_incident
from workflow.assessment.scores import ScoreSheet, assess, enter_scores
from workflow.audit import Actor
from workflow.calendar import load_calendar
from workflow.campaigns.letters import issue_letter, sign_letter
from workflow.campaigns.lifecycle import advance_campaign, start_campaign
from workflow.campaigns.tasks import complete_task
from workflow.clock import FixedClock, local_date
from workflow.definitions.reader import load_definition_file
from workflow.errors import InvalidInput
from workflow.hazards.rectifications import HazardReport, register_hazard
from workflow.models import Campaign, CampaignPhase, Letter, Task
from workflow.organisation.directory import import_organisation, person_by_email
from workflow.organisation.org_file import load_organisation_file
from workflow.views.report import build_report
from workflow.views.report_files import report_csv

SITES = {
    "lt-bureau-internal": "灵台县广播电影电视局",
    "lt-staff-housing": "灵台县广播电影电视局",
    "lt-residential-area": "灵台县广播电影电视局",
    "lt-tv-station": "灵台县广播电视台",
    "lt-hujiayuan-relay": "灵台县广播电视台",
    "lt-film-company": "灵台县电影公司",
}
MEMBER = "union@lingtai-rftv.example.org"  # 局工会主席, of the inspecting group


@pytest.fixture
def lingtai(sessions):
    """The Lingtai campaign started on its text's day, a hazard at the relay station left overdue,
    then moved into its inspection phase, where scores are entered."""
    clock = FixedClock(shanghai(2006, 5, 23, 9, 0))
    with sessions.begin() as session:
        import_organisation(
            session, load_organisation_file(SHIPPED / "org" / "lingtai-bureau.yaml")
        )
        give_everyone_a_password(session)
        calendar = load_calendar(session)
        campaign = start_campaign(
            session,
            load_definition_file(SHIPPED / "safe-unit-lingtai.yaml"),
            "lingtai-rftv",
            date(2006, 5, 23),
            by=OPERATOR,
            clock=clock,
            calendar=calendar,
        ).id
    with sessions.begin() as session:
        office = Actor.person(person_by_email(session, "office@lingtai-rftv.example.org"))
        register_hazard(
            session,
            campaign,
            HazardReport(
                description="转播台机房灭火器过期", site="lt-hujiayuan-relay", severity="minor",
                deadline=date(2006, 6, 10),
            ),
            by=office, clock=clock, calendar=calendar, base_url=BASE_URL,
        )  # fmt: skip
    while True:
        with sessions() as session:
            state = session.get(Campaign, campaign).state
            end = session.scalar(
                select(CampaignPhase.planned_end).where(
                    CampaignPhase.campaign_id == campaign, CampaignPhase.phase_key == state
                )
            )
        if state == "inspection":
            break
        clock.instant = shanghai(end.year, end.month, end.day, 9, 0) - timedelta(hours=1)
        _settle_the_phase(sessions, campaign, clock)
        with sessions.begin() as session:
            advance_campaign(session, campaign, by=OPERATOR, clock=clock, calendar=calendar)
    return sessions, clock, campaign


def test_the_assessment_has_a_row_for_each_of_the_six_key_sites(lingtai):
    sessions, clock, campaign = lingtai
    with sessions() as session:
        leader = Actor.person(person_by_email(session, "director@lingtai-rftv.example.org"))
        result = assess(session, campaign, by=leader, clock=clock)
    sites = {row.code: row for row in result.units if row.is_site}
    assert {code: row.site_of for code, row in sites.items()} == SITES
    assert [row.code for row in result.units if not row.is_site] == ["lingtai-film", "lingtai-tv"]
    relay = sites["lt-hujiayuan-relay"]
    # a site is scored on what it answers for: its group and letter, fire safety (25 + 20)
    assert list(relay.items) == ["key-site-management", "fire-safety"]
    # the hazard at the relay station, rectified late, is taken off the site and its unit
    assert [(d.each, d.times, d.points) for d in relay.deductions] == [
        ("overdue_rectification", 1, 2)
    ]
    tv = next(row for row in result.units if row.code == "lingtai-tv")
    assert ("overdue_rectification", 1, 2) in [(d.each, d.times, d.points) for d in tv.deductions]
    assert not sites["lt-tv-station"].deductions


def test_the_inspecting_group_scores_a_site_and_it_is_graded_on_its_share(lingtai):
    sessions, clock, campaign = lingtai
    with sessions() as session:
        member = Actor.person(person_by_email(session, MEMBER))
    with sessions.begin() as session:
        # a site is held to 60 % / 90 % of its 45 points (27, 40.5): 40 less the late hazard's 2
        # passes, 43 is commended
        relay = enter_scores(
            session,
            campaign,
            "lt-hujiayuan-relay",
            ScoreSheet(items={"key-site-management": 22, "fire-safety": 18}),
            by=member,
            clock=clock,
        )
        housing = enter_scores(
            session,
            campaign,
            "lt-staff-housing",
            ScoreSheet(items={"key-site-management": 24, "fire-safety": 19}),
            by=member,
            clock=clock,
        )
    assert (relay.score, relay.grade) == (38, "passed")
    assert (housing.score, housing.grade, housing.rank) == (43, "commended", 1)
    with sessions.begin() as session:
        with pytest.raises(InvalidInput, match="three-ones"):
            enter_scores(
                session, campaign, "lt-tv-station", ScoreSheet(items={"three-ones": 20}),
                by=member, clock=clock,
            )  # fmt: skip
        with pytest.raises(InvalidInput, match="key site: vetoes and notices"):
            enter_scores(
                session, campaign, "lt-tv-station",
                ScoreSheet(items={"fire-safety": 10}, criticisms={"x": "y"}),
                by=member, clock=clock,
            )  # fmt: skip
    with sessions() as session:
        report = build_report(session, campaign, by=member, clock=clock)
    rows = {row["code"]: row for row in report.assessment["units"]}
    assert rows["lt-staff-housing"]["kind"] == "site" and rows["lt-staff-housing"]["rank"] == 1
    assert rows["lingtai-tv"]["kind"] == "unit"
    table = list(csv.reader(io.StringIO(report_csv(report, "assessment").decode("utf-8-sig"))))
    assert len(table) == 1 + 2 + 6
    # the commendation and criticism lists name units: the staff housing's 优秀 is its own row's
    listed = {row["code"] for row in (*report.commended, *report.criticised)}
    assert not listed & set(SITES)


def test_a_site_is_held_to_its_target_by_the_incidents_at_the_site(lingtai):
    sessions, clock, campaign = lingtai
    with sessions.begin() as session:
        office = Actor.person(person_by_email(session, "office@lingtai-rftv.example.org"))
        record_incident(
            session,
            campaign,
            IncidentReport(
                "signal-accident", None, local_date(clock.now(), "Asia/Shanghai"),
                "胡家塬转播台敏感时期信号中断12分钟", site="lt-hujiayuan-relay",
            ),
            by=office, clock=clock, base_url=BASE_URL,
        )  # fmt: skip
        with pytest.raises(InvalidInput, match="not in unit 'lingtai-film'"):
            record_incident(
                session, campaign,
                IncidentReport("signal-accident", "lingtai-film", date(2006, 6, 1), "x", site="lt-tv-station"),
                by=office, clock=clock, base_url=BASE_URL,
            )  # fmt: skip
    with sessions() as session:
        report = build_report(session, campaign, by=office, clock=clock)
    held = {
        row["unit"]: row["status"]
        for row in report.targets
        if row["target"] == "no-signal-accident"
    }
    assert held == {code: "missed" if code == "lt-hujiayuan-relay" else "met" for code in SITES}, (
        "each site is held to it, no unit"
    )
    relay = next(row for row in report.assessment["units"] if row["code"] == "lt-hujiayuan-relay")
    assert [d["each"] for d in relay["deductions"]] == ["overdue_rectification", "missed_target"]


def test_the_report_and_the_score_sheets_show_the_sites(lingtai, db_url):
    sessions, clock, campaign = lingtai
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "CLOCK": clock,
            "TESTING": True,
            "SECRET_KEY": "test",
            "BASE_URL": BASE_URL,
        }
    )
    try:
        member = Visitor(app.test_client())
        assert member.sign_in(MEMBER, PASSWORD).status_code == 302
        page = member.page(f"/campaigns/{campaign}/report")
        # rank, site, its unit, five items (three not a site's, two not scored yet), the late
        # hazard's −2, a score of 0, 评分中, no veto
        assert text(page, "assessed-lt-hujiayuan-relay") == (
            "— 胡家塬转播台 重点部位 · 灵台县广播电视台 — — — — — −2 0 评分中 —"
        )
        sheets = member.page(f"/campaigns/{campaign}/scores")
        assert 'id="sheet-lt-residential-area"' in sheets
        assert 'id="lt-residential-area-three-ones"' not in sheets, "not a site's item"
        answer = member.post(
            f"/campaigns/{campaign}/scores/lt-residential-area",
            {"item:key-site-management": "20", "item:fire-safety": "15"},
        )
        assert answer.status_code == 302
        assert "35" in text(
            member.page(f"/campaigns/{campaign}/scores"), "sheet-lt-residential-area"
        )
    finally:
        wiring_of(app).engine.dispose()


# --- helpers ------------------------------------------------------------------------------------


def _settle_the_phase(sessions, campaign, clock):  # noqa: ANN001, ANN202
    """Every letter of the phase issued and signed, every open task checked off by its assignee."""
    with sessions() as session:
        letters = [
            (letter.id, Actor.person(letter.issuer), Actor.person(letter.signer))
            for letter in session.scalars(
                select(Letter).where(Letter.campaign_id == campaign, Letter.state != "signed")
            )
        ]
    for letter_id, issuer, signer in letters:
        with sessions.begin() as session:
            issue_letter(session, letter_id, by=issuer, clock=clock, base_url=BASE_URL)
        with sessions.begin() as session:
            sign_letter(session, letter_id, by=signer, clock=clock)
    with sessions.begin() as session:
        for task in session.scalars(
            select(Task).where(Task.campaign_id == campaign, Task.state == "open")
        ).all():
            complete_task(
                session, task.id, by=Actor.person(task.assignee), clock=clock, note="已完成",
                no_problems=True,
            )  # fmt: skip
