"""A definition's texts in the reader's language on the pages that had kept them in Chinese (issue 15): the inbox
(its 「待我审核」 too) and the done list, a letter's page, the score sheets, the incident form, the advance
confirmation and the report's final line. SQLite: the database changes nothing here.

The campaign is the assessed railway's year (``tests.support.scenarios.build_campaign_year``, in the inspection phase
on 2026-05-28) over ``BILINGUAL``: its definition with the English twins a definition may give (``title_en``), and a
self-check task for each village in the inspection phase, so that a village head has an open task there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select

from tests.support.actions import OPERATOR
from tests.support.scenarios import Scenario, build_campaign_year
from tests.support.texts import ASSESSED_RAILWAY
from tests.support.web import Visitor, text
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import FixedClock
from workflow.definitions.texts import english_twins
from workflow.models import Petition, Rectification, Task

TITLE, TITLE_EN = "平安铁路创建活动", "Safe Railway campaign"
TWINS = {
    "title: 平安铁路创建活动\n": f"title: 平安铁路创建活动\ntitle_en: {TITLE_EN}\n",
    "    title: 全面实施阶段\n": "    title: 全面实施阶段\n    title_en: Full implementation\n",
    "    title: 检查评比阶段\n    duration: 30d\n": (
        "    title: 检查评比阶段\n    title_en: Inspection and appraisal\n    duration: 30d\n    tasks:\n"
        "      - {id: self-check, title: 自查自评, title_en: Check your own village, assignee: village_head,"
        " per: unit, due: 10d}\n"
    ),
    "    title: 总结阶段\n": "    title: 总结阶段\n    title_en: Summary\n",
    "title: 制定创建活动计划,": "title: 制定创建活动计划, title_en: Draw up the campaign plan,",
    "{id: cattle, title: 耕牛挡道事故}": "{id: cattle, title: 耕牛挡道事故, title_en: Cattle on the track}",
    "title: 会议必须强调,": "title: 会议必须强调, title_en: Meetings stress it,",
    "title: 措施必须落实,": "title: 措施必须落实, title_en: Measures carried out,",
    "title: 隐患问题必须督促整改,": "title: 隐患问题必须督促整改, title_en: Hazards followed up,",
    "title: 失职渎职引发重大问题}": "title: 失职渎职引发重大问题, title_en: Dereliction of duty}",
    "title: 发生铁路行车重大事故,": "title: 发生铁路行车重大事故, title_en: A major train accident,",
}
BILINGUAL = ASSESSED_RAILWAY
for chinese, both in TWINS.items():
    assert BILINGUAL.count(chinese) == 1, chinese
    BILINGUAL = BILINGUAL.replace(chinese, both)


@pytest.fixture
def db_url(sqlite_url):
    """The pages are the same on either database (the engine's tests run on both): SQLite only."""
    return sqlite_url


@pytest.fixture
def scenario(sessions, calendar) -> Scenario:  # type: ignore[no-untyped-def]
    return Scenario(sessions, calendar, BILINGUAL)


@pytest.fixture
def letters(scenario) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return build_campaign_year(scenario)


@pytest.fixture
def reader(letters, report_site) -> Callable[..., Visitor]:  # type: ignore[no-untyped-def]
    """A signed-in person reading the pages in English (``english=False``: in Chinese, the default),
    once the year is built (the app opens on its clock)."""

    def signed_in(who: str, english: bool = True) -> Visitor:
        person = Visitor(report_site.test_client())
        assert person.sign_in(f"{who}@example.org").status_code == 302
        if english:
            assert person.post("/language", {"language": "en", "next": "/"}).status_code == 302
        return person

    return signed_in


# --- the inbox and the done list ----------------------------------------------------------------


def test_the_inbox_names_the_campaign_and_the_task_in_the_reader_s_language(scenario, reader):
    page = reader("east").page("/")
    task = text(page, "overdue") + text(page, "soon") + text(page, "later")
    assert "Check your own village" in task and "自查自评" not in task
    assert TITLE_EN in task
    # east's letter, overdue: its campaign too
    assert TITLE_EN in text(page, "petitions")
    assert TITLE not in text(page)

    chinese = text(reader("east", english=False).page("/"))
    assert "自查自评" in chinese and TITLE in chinese and TITLE_EN not in chinese


def test_the_done_list_names_the_campaign_and_the_task_in_the_reader_s_language(reader):
    done = text(reader("east").page("/done"))
    assert "Draw up the campaign plan" in done and TITLE_EN in done
    assert "制定创建活动计划" not in done and TITLE not in done

    chinese = text(reader("east", english=False).page("/done"))
    assert "制定创建活动计划" in chinese and TITLE in chinese and TITLE_EN not in chinese


def test_what_awaits_the_office_s_decision_is_named_in_the_reader_s_language(reader):
    # the villages' plans, checked off and not yet verified
    review = text(reader("office").page("/"), "review")
    assert "Draw up the campaign plan" in review and TITLE_EN in review
    assert "制定创建活动计划" not in review and TITLE not in review

    chinese = text(reader("office", english=False).page("/"), "review")
    assert "制定创建活动计划" in chinese and TITLE in chinese and TITLE_EN not in chinese


def test_a_campaign_title_given_by_hand_stays_as_given_in_the_inbox(scenario, reader):
    with scenario.sessions.begin() as session:
        start_campaign(
            session,
            scenario.definition,
            "town",
            date(2026, 5, 25),
            by=OPERATOR,
            clock=FixedClock(scenario.clock.now()),
            calendar=scenario.calendar,
            title="铁路镇道口专项整治",
        )
    page = text(reader("east").page("/"))
    assert "铁路镇道口专项整治" in page and TITLE_EN in page
    # its tasks are still the definition's, in English
    assert "Draw up the campaign plan" in page


# --- a letter's page ----------------------------------------------------------------------------


def test_a_letter_s_page_names_its_campaign_in_the_reader_s_language(reader, letters):
    path = f"/petitions/{letters['overdue_letter']}"
    facts = text(reader("east").page(path), "petition-facts")
    assert TITLE_EN in facts and TITLE not in facts
    # the leading group's crumbs link to the campaign by the same title
    assert f">{TITLE_EN}</a>" in reader("office").page(path)

    chinese = reader("office", english=False).page(path)
    assert f">{TITLE}</a>" in chinese and TITLE_EN not in chinese


# --- the score sheets, the incident form, the report's final line -------------------------------


def test_the_score_sheets_name_the_items_rules_and_phase_in_the_reader_s_language(scenario, reader):
    page = reader("member").page(f"/campaigns/{scenario.campaign}/scores")
    sheet = text(page, "sheet-east")
    for english, chinese in (
        ("Meetings stress it", "会议必须强调"),
        ("Measures carried out", "措施必须落实"),
        ("Hazards followed up", "隐患问题必须督促整改"),
        ("Dereliction of duty", "失职渎职引发重大问题"),  # a veto entered on the form
    ):
        assert english in sheet and chinese not in sheet, english
    assert "Inspection and appraisal" in text(page, "sheet-state")
    assert f">{TITLE_EN}</a>" in page and TITLE not in text(page)
    # north's veto follows from its train accident: named by the rule's twin
    assert "A major train accident" in text(page, "sheet-north")

    chinese = reader("member", english=False).page(f"/campaigns/{scenario.campaign}/scores")
    assert "会议必须强调" in text(chinese, "sheet-east") and "检查评比阶段" in text(
        chinese, "sheet-state"
    )
    assert "Meetings stress it" not in chinese and TITLE_EN not in chinese


def test_the_incident_form_offers_the_kinds_in_the_reader_s_language(scenario, reader):
    path = f"/campaigns/{scenario.campaign}/incidents"
    kinds = re.search(r'<select[^>]*id="i-kind".*?</select>', reader("office").page(path), re.S)
    assert '<option value="cattle">Cattle on the track</option>' in kinds.group(0)
    chinese = re.search(
        r'<select[^>]*id="i-kind".*?</select>', reader("office", english=False).page(path), re.S
    )
    assert '<option value="cattle">耕牛挡道事故</option>' in chinese.group(0)


def test_the_report_s_final_line_and_the_frozen_sheets_name_the_phase_in_the_reader_s_language(
    scenario, reader
):
    scenario.advance()  # the inspection phase is left: the scores are final
    office = reader("office")
    report = text(office.page(f"/campaigns/{scenario.campaign}/report"))
    assert "frozen when the phase Inspection and appraisal ended" in report
    assert "检查评比阶段" not in report
    sheets = text(office.page(f"/campaigns/{scenario.campaign}/scores"), "sheet-state")
    assert "left the phase Inspection and appraisal" in sheets

    chinese = text(reader("office", english=False).page(f"/campaigns/{scenario.campaign}/report"))
    assert "检查评比阶段" in chinese and "Inspection and appraisal" not in chinese


# --- the advance and the campaign's phases --------------------------------------------------------


def test_the_advance_confirmation_names_the_campaign_and_phases_in_the_reader_s_language(
    scenario, reader
):
    scenario.finish_tasks()  # nothing keeps the campaign in the inspection phase
    office = reader("office")
    page = office.page(f"/campaigns/{scenario.campaign}/advance")
    assert f"<title>Advance to the next phase · {TITLE_EN}" in page
    assert f">{TITLE_EN}</a>" in page and TITLE not in text(page)
    step = text(page, "advance-step")
    assert "Inspection and appraisal" in step and "Summary" in step
    assert "检查评比阶段" not in step and "总结阶段" not in step
    # the campaign's own page names its phases the same way
    campaign = text(office.page(f"/campaigns/{scenario.campaign}"))
    assert "Full implementation" in campaign and "全面实施阶段" not in campaign

    chinese = reader("office", english=False).page(f"/campaigns/{scenario.campaign}/advance")
    assert TITLE in chinese and "检查评比阶段" in text(chinese, "advance-step")
    assert TITLE_EN not in chinese and "Summary" not in chinese


# --- every other page of the leading group ------------------------------------------------------


def test_no_other_page_in_english_shows_a_definition_text_that_has_a_twin(scenario, reader):
    chinese = set(english_twins(scenario.definition))  # every text given a title_en
    with scenario.sessions() as session:
        items = [
            f"/{table}/{item_id}"
            for table, model in (("tasks", Task), ("rectifications", Rectification))
            for item_id in session.scalars(
                select(model.id).where(model.campaign_id == scenario.campaign)
            )
        ]
        items += [f"/petitions/{item_id}" for item_id in session.scalars(select(Petition.id))]
    assert len(chinese) == len(TWINS) + 1 and len(items) > 6  # the self-check task's twin too
    campaign = f"/campaigns/{scenario.campaign}"
    office = reader("office")
    # not the report and the score sheets: the reasons of their vetoes and criticisms are text the
    # engine composes ("1 × <the incident's kind>", workflow/assessment/grades.py), with no twin
    for path in (
        "/",
        "/done",
        "/campaigns",
        "/leader",
        campaign,
        f"{campaign}/hazards",
        f"{campaign}/escalations",
        f"{campaign}/incidents",
        f"{campaign}/advance",
        *items,
    ):
        page = text(office.page(path))
        assert not [zh for zh in chinese if zh in page], path
