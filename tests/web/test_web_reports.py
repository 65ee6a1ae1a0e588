"""The report page, its downloads, the incident log, the score sheets and a letter's page, through Flask's test client
on SQLite and PostgreSQL, over a campaign built by the engine's own use cases (``tests.support.scenarios``)."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.support.actions import BASE_URL
from tests.support.scenarios import Scenario, build_campaign_year
from tests.support.texts import ASSESSED_RAILWAY
from tests.support.web import Visitor, give_everyone_a_password, text
from webapp import create_app, wiring_of
from workflow.assessment.scores import ScoreSheet, enter_scores
from workflow.clock import FixedClock
from workflow.models import AuditEvent, Incident, OutboxMail, Petition, Score, Task
from workflow.organisation.tokens import issue_token

TITLE = "平安铁路创建活动"


@pytest.fixture
def year(scenario):
    return build_campaign_year(scenario)


@pytest.fixture
def visitor(report_site):
    def signed_in(who: str) -> Visitor:
        person = Visitor(report_site.test_client())
        answer = person.sign_in(f"{who}@example.org")
        assert answer.status_code == 302, answer.get_data(as_text=True)
        return person

    return signed_in


def rows(sessions, *tables) -> tuple[int, ...]:
    with sessions() as session:
        return tuple(session.scalar(select(func.count()).select_from(table)) for table in tables)


def form_error(page: str) -> str:
    """The refusal shown on a form, as the reader sees it."""
    found = re.search(r'class="flash flash-error form-error" role="alert">([^<]*)<', page)
    return html.unescape(found.group(1)) if found else ""


# --- the report page ----------------------------------------------------------------------------


def test_the_report_page_shows_every_section_with_the_engine_s_numbers(scenario, year, visitor):
    page = visitor("leader").page(f"/campaigns/{scenario.campaign}/report")

    figures = text(page, "key-figures")
    for figure in (
        "66.7% 整改率",
        "33.3% 按期整改率（以原定期限计）",
        "1 逾期未整改数",
        "3 隐患总数",
        "12.5 平均整改天数",
        "19 90分位整改天数",
    ):
        assert figure in figures, figure
    phases = text(page, "phases")
    # 60d from 4 May: the last day on time is 2 July (stored exclusive as 3 July)
    assert re.search(
        r"全面实施阶段 2026年5月4日 – 2026年7月2日 2026年5月4日 – 2026年5月27日 已结束 0 3 / 3 100%",
        phases,
    )
    assert "检查评比阶段" in phases and "2026年5月27日 – 至今 当前阶段" in phases
    assert "总结阶段 2026年8月2日 – 2026年8月31日 — 未开始" in phases
    # per unit: tasks, completion, overdue tasks, hazards closed, 整改率, 按期, 逾期未整改, letters, incidents, 督办, targets
    assert text(page, "unit-east") == "东村 1 / 1 100% 0 1 / 1 100% 0% 0 0 / 1 0 0 1"
    assert text(page, "unit-west") == "西村 1 / 1 100% 0 0 / 1 0% 0% 1 1 / 1 2 1 2"
    assert text(page, "unit-north") == "北村 1 / 1 100% 0 1 / 1 100% 100% 0 0 / 0 1 0 1"
    rectifications = text(page, "rectifications")
    assert "隐患总数 3 整改中 1 待验收 0 已销号 2" in rectifications
    assert text(page, "ageing") == "登记以来天数 未销号隐患 0–7 0 8–30 1 31–90 0 90+ 0"
    escalations = text(page, "escalations")
    assert "到期提醒 蓝色 隐患 1" in escalations and "第 1 级督办 黄色 隐患 1" in escalations
    assert 'class="badge colour-blue"' in page and 'class="badge colour-yellow"' in page
    targets = text(page, "targets")
    assert "耕牛挡道事故不超出控制目标 西村 未达标 2 ≤ 1 /年" in targets
    assert "来信来访处理率达100% 全活动 未达标 50 ≥ 100% 1/2" in targets
    assert "群众满意 东村 由检查组评定" in targets
    # rank, unit, the three items, deducted, score, grade, veto; the reasons below the table
    assert text(page, "assessed-east") == "1 东村 38.5 30 28 −2 94.5 表彰 —"
    assert text(page, "assessed-west") == "2 西村 35 25 20 −8 72 合格 —"
    assert text(page, "assessed-north") == "3 北村 40 30 30 0 100 不合格 一票否决"
    assert 'id="assessed-north" class="vetoed"' in page
    notes = text(page, "assessment-notes")
    assert "东村 未按原定期限整改的隐患 ×1 −2" in notes
    assert "西村 未按原定期限整改的隐患 ×1 −2; 督办次数 ×1 −1; 未达目标 ×1 −5" in notes
    assert "北村 一票否决 : 发生铁路行车重大事故 (1 × 因治安问题导致的铁路行车重大事故)" in notes
    assert text(page, "commended") == "表彰名单 东村 得分 94.5，第 1 名"
    criticised = text(page, "criticised")
    assert "西村 耕牛挡道事故超出控制目标" in criticised and "北村 考核不合格" in criticised
    ledger = text(page, "ledger")
    assert ledger.count("逾期未整改 overdue") == 1 and ledger.count("验收合格 accepted") == 2
    assert "道口护栏损坏 一般 2026年5月6日 李村长 2026年5月20日 2026年5月29日 （已延期）" in ledger

    charts = json.loads(
        re.search(
            r'<script type="application/json" id="report-charts">(.*?)</script>', page, re.S
        ).group(1)
    )
    assert charts["units"]["labels"] == ["东村", "北村", "西村"]
    assert charts["units"]["rectification_rate"] == [100.0, 100.0, 0.0]
    assert charts["ageing"]["counts"] == [0, 1, 0, 0]
    assert (charts["escalations"]["counts"], charts["escalations"]["colours"]) == (
        [1, 1],
        ["blue", "yellow"],
    )
    assert (charts["scores"]["scores"], charts["scores"]["vetoed"]) == (
        [94.5, 72.0, 100.0],
        [False, False, True],
    )
    assert charts["phases"]["actual"][1] == ["2026-05-27", "2026-05-28"], (
        "the current phase runs to today"
    )


def test_the_report_marks_what_the_definition_proposes_where_the_text_is_silent(
    scenario, year, visitor
):
    page = visitor("leader").page(f"/campaigns/{scenario.campaign}/report")
    targets = text(page, "targets")
    assert "≤ 1 /年 建议值 控制数由上级下达，原文未给出数字" in targets, targets
    assert targets.count("建议值") == 3, "the cattle control number, once per village"
    assert "建议值 原文未规定分值" in text(page, "assessment")


def test_the_report_reads_in_english_with_the_charts_words_too(scenario, year, visitor):
    leader = visitor("leader")
    leader.post("/language", {"language": "en"})
    page = leader.page(f"/campaigns/{scenario.campaign}/report")
    assert "66.7% Rectification rate" in text(page, "key-figures")
    assert "Reminder Blue Hazard 1" in text(page, "escalations")
    assert text(page, "assessed-north") == "3 北村 40 30 30 0 100 Failed Vetoed"
    assert "As of 28 May 2026 09:00" in page
    charts = json.loads(re.search(r'id="report-charts">(.*?)</script>', page, re.S).group(1))
    assert charts["language"] == "en" and charts["phases"]["words"] == {
        "planned": "Planned",
        "actual": "Actual",
    }


def test_the_report_page_keeps_to_the_content_security_policy(scenario, year, visitor):
    answer = visitor("office").get(f"/campaigns/{scenario.campaign}/report")
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    page = answer.get_data(as_text=True)
    assert " style=" not in page and "<style" not in page and " on" + "click=" not in page
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all(
        'src="/static/' in attrs or attrs == ' type="application/json" id="report-charts"'
        for attrs in scripts
    ), scripts
    assert 'src="/static/vendor/chart.umd.min.js"' in page


def test_the_report_downloads_as_csv_and_xlsx_from_the_page(scenario, year, visitor):
    leader = visitor("leader")
    page = leader.page(f"/campaigns/{scenario.campaign}/report")
    links = dict(
        (label, href) for href, label in re.findall(r'<a href="([^"]+)" download>([^<]+)</a>', page)
    )
    assert set(links) == {
        "下载完整报告（XLSX）",
        "上级考核报送表（XLSX）",
        "各单位情况（CSV）",
        "隐患台账（CSV）",
    }

    units = leader.get(links["各单位情况（CSV）"].replace("&amp;", "&"))
    assert units.status_code == 200 and units.content_type == "text/csv; charset=utf-8"
    assert (
        units.headers["Content-Disposition"]
        == f'attachment; filename="campaign-{scenario.campaign}-units.csv"'
    )
    body = list(csv.reader(io.StringIO(units.data.decode("utf-8-sig"))))
    assert units.data.startswith("\ufeff".encode()) and len(body) == 1 + 3
    assert sorted((row[0], row[8]) for row in body[1:]) == [
        ("east", "100.0"),
        ("north", "100.0"),
        ("west", "0.0"),
    ]
    ledger = leader.get(links["隐患台账（CSV）"].replace("&amp;", "&"))
    assert len(list(csv.reader(io.StringIO(ledger.data.decode("utf-8-sig"))))) == 1 + 3

    workbook = leader.get(links["下载完整报告（XLSX）"])
    assert workbook.status_code == 200 and workbook.content_type.startswith(
        "application/vnd.openxmlformats"
    )
    book = load_workbook(io.BytesIO(workbook.data))
    assert book["单位 units"].max_row == 1 + 3 and book["考核 assessment"].max_row == 1 + 3

    unknown = leader.get(f"/campaigns/{scenario.campaign}/report.csv?table=nope")
    assert unknown.status_code == 422 and "未知的表" in unknown.get_data(as_text=True)


def test_the_results_go_up_to_the_higher_level_assessment_as_its_form(scenario, year, visitor):
    # 考核结果作为干部政绩评定 / 纳入年终综治考评: one sheet a unit's row, signed and sealed
    leader = visitor("leader")
    page = leader.page(f"/campaigns/{scenario.campaign}/report")
    href = f"/campaigns/{scenario.campaign}/report.xlsx?table=results"
    assert f'href="{href}" download>上级考核报送表（XLSX）</a>' in page
    answer = leader.get(href)
    assert answer.status_code == 200
    assert "campaign-1-results.xlsx" in answer.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(answer.data))["考核结果"]
    rows = [[c for c in row if c not in (None, "")] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["平安铁路创建活动考核结果报送表"]
    assert rows[1] == [
        "报送单位：铁路镇　　考核截至：2026-05-28　　满分：100（评分未结束，仅供参考）"
    ]
    assert rows[2][:8] == ["序号", "单位", "检查得分", "扣分", "总得分", "一票否决", "等次", "名次"]
    east, west, north = rows[3:6]
    assert east[:8] == [1, "东村", 96.5, 2, 94.5, "否", "优秀", 1]
    assert east[8] == "表彰"
    assert west[:8] == [2, "西村", 80, 8, 72, "否", "合格", 2]
    assert west[8] == "通报批评"  # over its cattle control number
    assert north[:7] == [
        3,
        "北村",
        100,
        0,
        100,
        "发生铁路行车重大事故：1 × 因治安问题导致的铁路行车重大事故",
        "不合格",
    ]
    assert rows[-2:] == [["考核组（签字）："], ["领导小组（盖章）：", "年　　月　　日"]]


def test_in_the_scoring_phase_with_no_sheet_complete_nobody_is_criticised(
    scenario, visitor, sessions, report_site
):
    # the year's incidents (west over its cattle control number, north's train accident) stand,
    # but no unit's sheet is complete: no verdict yet, on the page, in the JSON and in the files
    build_campaign_year(scenario, scored=False)
    with sessions.begin() as session:
        enter_scores(
            session,
            scenario.campaign,
            "west",
            ScoreSheet(items={"meetings": 10}),
            by=scenario.actor("member@example.org"),
            clock=scenario.clock,
        )
    leader = visitor("leader")
    page = leader.page(f"/campaigns/{scenario.campaign}/report")
    assert text(page, "assessment").count("评分中") == 3 and "不合格" not in page
    assert text(page, "criticised") == "通报批评 无。"
    with sessions.begin() as session:
        token = issue_token(session, "leader@example.org", scenario.clock.now())
    report = report_site.test_client().get(
        f"/api/v1/campaigns/{scenario.campaign}/report",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert report.json["criticised"] == []
    assert {
        unit["code"]: (unit["grade"], unit["rank"]) for unit in report.json["assessment"]["units"]
    } == {code: ("scoring", None) for code in ("east", "west", "north")}
    files = leader.get(f"/campaigns/{scenario.campaign}/report.csv?table=criticised")
    listed = list(csv.reader(io.StringIO(files.data.decode("utf-8-sig"))))
    assert listed[1:] == [], "the criticised table is empty"
    grades = leader.get(f"/campaigns/{scenario.campaign}/report.csv?table=assessment")
    cells = {row[1]: row for row in csv.reader(io.StringIO(grades.data.decode("utf-8-sig")))}
    assert {code: cells[code][0] for code in ("east", "west", "north")} == {
        "east": "",
        "west": "",
        "north": "",
    }, "nobody ranked"
    assert all("评分中 scoring" in cells[code] for code in ("east", "west", "north"))


@pytest.mark.parametrize(
    "path",
    ["/report", "/report.csv", "/report.csv?table=ledger", "/report.xlsx", "/incidents", "/scores"],
)
def test_a_village_head_gets_no_report_and_learns_no_title(scenario, year, visitor, path):
    answer = visitor("east").get(f"/campaigns/{scenario.campaign}{path}")
    assert answer.status_code == 404
    assert answer.content_type.startswith("text/html")
    assert TITLE not in answer.get_data(as_text=True) and "东村" not in answer.get_data(
        as_text=True
    )


def test_the_campaign_page_links_the_report_for_the_leading_group_only(scenario, year, visitor):
    report = f'href="/campaigns/{scenario.campaign}/report"'
    assert report in visitor("office").page(f"/campaigns/{scenario.campaign}")
    assert report not in visitor("east").page(f"/campaigns/{scenario.campaign}")


def test_the_summary_phase_s_task_links_the_report(db_url, sessions, calendar, tmp_path):
    """The final phase is the summary: its task of writing the summary report leads to the report."""
    definition = ASSESSED_RAILWAY.replace(
        "  - id: summary\n    title: 总结阶段\n    duration: 30d\n",
        "  - id: summary\n    title: 总结阶段\n    duration: 30d\n    tasks:\n"
        "      - {id: summary-report, title: 撰写活动总结报告, assignee: office_director, due: 20d}\n",
    )
    scenario = Scenario(sessions, calendar, definition)
    with sessions.begin() as session:
        give_everyone_a_password(session)
    with sessions() as session:
        plan = session.scalar(select(Task.id).where(Task.spec_key == "plan").limit(1))
    scenario.at(2026, 6, 1, 9).advance()
    scenario.at(2026, 6, 20, 9).advance()
    with sessions() as session:
        summary = session.scalar(select(Task.id).where(Task.spec_key == "summary-report"))
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "CLOCK": scenario.clock,
            "SECRET_KEY": "test",
            "BASE_URL": BASE_URL,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "LOGIN_CLOCK": FixedClock(scenario.clock.now()),
        }
    )
    try:
        office = Visitor(app.test_client())
        assert office.sign_in("office@example.org").status_code == 302
        summary_page = office.page(f"/tasks/{summary}")
        assert "撰写活动总结报告" in summary_page
        assert f'<a href="/campaigns/{scenario.campaign}/report">打开活动报告</a>' in summary_page
        assert 'id="report-link"' not in office.page(f"/tasks/{plan}"), (
            "an earlier phase's task does not"
        )
    finally:
        wiring_of(app).engine.dispose()


# --- the incident log ---------------------------------------------------------------------------


def test_a_coordinator_records_an_incident_and_who_must_know_is_told(scenario, year, visitor):
    office = visitor("office")
    log = f"/campaigns/{scenario.campaign}/incidents"
    page = office.page(log)
    assert '<option value="train-accident">因治安问题导致的铁路行车重大事故</option>' in page
    assert '<option value="north">北村</option>' in page
    before = rows(scenario.sessions, Incident, OutboxMail)

    answer = office.post(
        log,
        {
            "kind": "train-accident",
            "unit": "east",
            "occurred_on": "2026-05-27",
            "description": "列车撞击道口护栏",
        },
    )
    assert answer.status_code == 302
    page = office.page(log)
    assert "已登记 2026-05-27 的事件" in page
    assert "列车撞击道口护栏" in text(page, "incidents") and "立即报告" in text(page, "incidents")
    incidents, mails = rows(scenario.sessions, Incident, OutboxMail)
    assert (incidents, mails) == (before[0] + 1, before[1] + 3), (
        "the leader and both liaisons are told at once"
    )


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"kind": "flood"}, "未知的事件类别 'flood'"),
        ({"unit": "nowhere"}, "本创建活动中没有单位“nowhere”"),
        ({"occurred_on": "2026-06-30"}, "发生日期 2026-06-30 在未来"),
        ({"description": " "}, "请说明事件经过。"),
    ],
)
def test_a_bad_incident_is_refused_on_the_form_and_nothing_is_recorded(
    scenario, year, visitor, fields, message
):
    before = rows(scenario.sessions, Incident, OutboxMail, AuditEvent)
    typed = {
        "kind": "cattle",
        "unit": "east",
        "occurred_on": "2026-05-27",
        "description": "耕牛闯入线路",
        **fields,
    }
    answer = visitor("office").post(f"/campaigns/{scenario.campaign}/incidents", typed)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert message in form_error(page), form_error(page)
    if "description" not in fields:
        assert "耕牛闯入线路" in page, "what was typed is kept"
    assert rows(scenario.sessions, Incident, OutboxMail, AuditEvent) == before


def test_the_office_records_whom_an_incident_was_reported_to_on_the_log(scenario, year, visitor):
    office = visitor("office")
    log = f"/campaigns/{scenario.campaign}/incidents"
    with scenario.sessions() as session:
        accident = session.scalar(select(Incident.id).where(Incident.kind == "train-accident"))
    page = office.page(log)
    reports = text(page, f"incident-{accident}")
    assert "铁路部门: 尚未报告" in reports and "公安机关: 尚未报告" in reports
    assert "须于 2026年5月27日 11:00 前报告" in reports, "recorded at 10:00 on 27 May: one hour"
    assert "未按时上报" in reports, "and it is now the 28th"
    action = f"{log}/{accident}/reports"
    assert f'action="{action}"' in page

    answer = office.post(
        action, {"body": "铁路部门", "reported_at": "2026-05-27T11:20", "note": "电话报车站值班室"}
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/incidents#incident-{accident}")
    page = office.page(log)
    assert "已登记向铁路部门的报告。" in page
    reports = text(page, f"incident-{accident}")
    assert "铁路部门: 已于 2026年5月27日 11:20 报告 · 赵主任 超时 电话报车站值班室" in reports
    assert '<option value="公安机关">' in page and '<option value="铁路部门">' not in page

    before = rows(scenario.sessions, AuditEvent)
    again = office.post(action, {"body": "铁路部门", "reported_at": "", "note": ""})
    assert again.status_code == 409
    assert "向 铁路部门 的报告已经登记" in form_error(again.get_data(as_text=True))
    future = office.post(action, {"body": "公安机关", "reported_at": "2027-01-01T09:00"})
    assert future.status_code == 422
    assert "在未来" in form_error(future.get_data(as_text=True))
    assert rows(scenario.sessions, AuditEvent) == before

    key = re.findall(r'name="form_key"[^>]*value="([^"]+)"', office.page(log))[-1]
    posted = {"body": "公安机关", "reported_at": "", "note": "", "form_key": key}
    assert office.post(action, posted).status_code == 302
    twice = office.post(action, posted)  # a reload: nothing recorded twice
    assert twice.status_code == 302
    assert "已提交过" in office.page(twice.headers["Location"])
    assert rows(scenario.sessions, AuditEvent) == (before[0] + 1,)
    assert f'action="{action}"' not in office.page(log), "every body told: no form left"


# --- the score sheets ---------------------------------------------------------------------------


def test_the_inspecting_group_enters_a_unit_s_scores_on_its_sheet(scenario, year, visitor):
    member = visitor("member")
    sheets = f"/campaigns/{scenario.campaign}/scores"
    page = member.page(sheets)
    assert 'name="item:meetings"' in page and 'value="38.5"' in page
    assert (
        'name="veto:dereliction-veto"' in page and 'name="veto:train-accident-veto"' not in page
    ), "a veto that follows from the incident log is not entered"

    answer = member.post(
        f"{sheets}/east",
        {
            "item:meetings": "40",
            "item:measures": "30",
            "item:hazards": "",
            "veto:dereliction-veto": "",
        },
    )
    assert answer.status_code == 302 and answer.headers["Location"].endswith("#sheet-east")
    page = member.page(sheets)
    assert "已保存：东村 现得 68 分。" in page
    east = {code: unit_id for unit_id, code in scenario.unit_codes().items()}["east"]
    with scenario.sessions() as session:
        assert sorted(
            session.execute(select(Score.item_key, Score.points).where(Score.unit_id == east)).all()
        ) == [("measures", 30.0), ("meetings", 40.0)]


@pytest.mark.parametrize(
    "who, fields, status, message",
    [
        ("member", {"item:meetings": "41"}, 422, "超出该项的分值范围 0–40"),
        ("member", {"item:meetings": "-1"}, 422, "超出该项的分值范围 0–40"),
        ("member", {"item:meetings": "很好"}, 422, "分值必须是数字"),
        ("member", {"item:punctuality": "3"}, 422, "未知的评分项 'punctuality'"),
        ("member", {"veto:train-accident-veto": "事故"}, 422, "由事件记录和目标自动得出"),
        ("rail", {"item:meetings": "40"}, 403, "只有检查考核组"),
    ],
)
def test_a_bad_score_sheet_is_refused_on_the_sheet_and_nothing_changes(
    scenario, year, visitor, who, fields, status, message
):
    before = rows(scenario.sessions, Score, AuditEvent)
    answer = visitor(who).post(
        f"/campaigns/{scenario.campaign}/scores/east", {"item:measures": "12", **fields}
    )
    assert answer.status_code == status
    page = answer.get_data(as_text=True)
    assert message in form_error(page), form_error(page)
    assert text(page, "sheet-east").count("已保存") == 0
    if who == "member":
        assert 'value="12"' in page, "what was typed is kept"
    assert rows(scenario.sessions, Score, AuditEvent) == before


def test_someone_outside_the_inspecting_group_reads_the_sheets_without_a_form(
    scenario, year, visitor
):
    page = visitor("rail").page(f"/campaigns/{scenario.campaign}/scores")
    assert "只有检查组录入评分" in text(page, "sheet-state")
    assert "<input" not in re.sub(r'<input type="hidden"[^>]*>', "", page.split("<main>")[1])
    assert "会议必须强调 38.5 / 40" in text(page, "sheet-east")
    before = rows(scenario.sessions, Score, AuditEvent)
    assert (
        visitor("east")
        .post(f"/campaigns/{scenario.campaign}/scores/east", {"item:meetings": "40"})
        .status_code
        == 404
    )
    assert rows(scenario.sessions, Score, AuditEvent) == before


def test_scores_are_frozen_once_the_inspection_phase_is_left(scenario, year, visitor):
    scenario.at(2026, 6, 20, 9).advance()
    member = visitor("member")
    page = member.page(f"/campaigns/{scenario.campaign}/scores")
    assert "已冻结" in text(page, "sheet-state") and 'name="item:meetings"' not in page
    assert "会议必须强调 38.5 / 40" in text(page, "sheet-east")
    before = rows(scenario.sessions, Score, AuditEvent)
    answer = member.post(f"/campaigns/{scenario.campaign}/scores/east", {"item:meetings": "40"})
    assert answer.status_code == 409 and "frozen" in form_error(answer.get_data(as_text=True))
    assert rows(scenario.sessions, Score, AuditEvent) == before
    assert "评分已于检查评比阶段结束时冻结" in visitor("leader").page(
        f"/campaigns/{scenario.campaign}/report"
    )


# --- letters and visits -------------------------------------------------------------------------


def test_the_responsible_person_sees_an_overdue_letter_in_the_inbox_and_marks_it_processed(
    scenario, year, visitor
):
    letter = year["overdue_letter"]
    east = visitor("east")
    inbox = east.page("/")
    listed = text(inbox, "petitions")
    assert "待办信访件 1" in listed and "反映道口无人看守" in listed and "逾期 10 天" in listed
    assert f'id="petition-{letter}"' in inbox and "item-overdue" in inbox
    page = east.page(f"/petitions/{letter}")
    assert "反映道口无人看守" in page and "逾期 10 天" in text(page, "petition-facts")

    refused = east.post(f"/petitions/{letter}/process", {"outcome": "  "})
    assert (
        refused.status_code == 422
        and form_error(refused.get_data(as_text=True)) == "请说明办理结果。"
    )
    with scenario.sessions() as session:
        assert session.get(Petition, letter).state == "open"

    assert (
        east.post(
            f"/petitions/{letter}/process", {"outcome": "已安排专人看守并答复来信人"}
        ).status_code
        == 302
    )
    page = east.page(f"/petitions/{letter}")
    assert "已办结" in text(page, "petition-facts") and "已安排专人看守并答复来信人" in page
    assert 'id="process"' not in page
    assert 'id="petitions"' not in east.page("/"), "nothing left to process"
    again = east.post(f"/petitions/{letter}/process", {"outcome": "再次办结"})
    assert again.status_code == 409 and "已是 processed 状态" in form_error(
        again.get_data(as_text=True)
    )


def test_a_letter_is_for_its_responsible_person_and_the_leading_group_only(scenario, year, visitor):
    letter = year["overdue_letter"]
    assert 'id="process"' in visitor("office").page(f"/petitions/{letter}"), (
        "a coordinator may process it"
    )
    rail = visitor("rail").page(f"/petitions/{letter}")
    assert "反映道口无人看守" in rail and 'id="process"' not in rail, "the leading group reads it"
    for who in ("west", "north"):
        answer = visitor(who).get(f"/petitions/{letter}")
        assert answer.status_code == 404 and "反映道口无人看守" not in answer.get_data(as_text=True)
        assert (
            visitor(who).post(f"/petitions/{letter}/process", {"outcome": "x"}).status_code == 404
        )
    with scenario.sessions() as session:
        assert session.get(Petition, letter).state == "open"
