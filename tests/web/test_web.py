"""The pages through Flask's test client: what a village head sees in the inbox and does there (SQLite)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.actions import start
from tests.support.clock import shanghai
from tests.support.paths import ROOT
from tests.support.texts import RAILWAY_WITH_ESCALATION
from tests.support.web import PNG, register, task_id, text
from webapp import wiring_of
from workflow.calendar import WorkingCalendar
from workflow.clock import FixedClock
from workflow.definitions.reader import parse_definition
from workflow.limits import MAX_FILE_BYTES
from workflow.models import EvidenceFile, Task


@pytest.fixture
def db_url(sqlite_url):
    """The pages are the same on either database: these tests run on SQLite only."""
    return sqlite_url


# --- the inbox ----------------------------------------------------------------------------------


def test_the_inbox_groups_a_village_head_s_work_and_says_how_late_it_is(site, visitor):
    register(site)  # due 2026-05-08
    html = visitor("east@example.org").page("/")

    overdue, soon, later = text(html, "overdue"), text(html, "soon"), text(html, "later")
    assert overdue.startswith("已逾期 1") and "道口护栏损坏" in overdue and "一般隐患" in overdue
    assert "2026年5月8日" in overdue and "逾期 4 天 （3 个工作日）" in overdue.replace(
        "(", "（"
    ).replace(")", "）")
    assert (
        "3号道口" in overdue
        and "东村" in overdue
        and "平安铁路创建活动" in overdue
        and "宣传发动阶段" in overdue
    )
    assert (
        soon.startswith("3个工作日内到期 1")
        and "制定创建活动计划" in soon
        and "2026年5月15日" in soon
    )
    assert later.startswith("以后到期 1") and "悬挂宣传标语" in later and "无期限" in later


def test_checking_a_task_off_with_a_note_takes_it_out_of_the_inbox_into_done(site, visitor):
    east = visitor("east@example.org")
    plan = task_id(site, "east@example.org", "plan")

    answer = east.post(f"/tasks/{plan}/complete", {"note": "计划已上报镇综治办", "next": "/"})

    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    home = east.page("/")
    assert "已办结：制定创建活动计划" in text(home)
    assert f'id="task-{plan}"' not in home
    done = text(east.page("/done"))
    assert (
        "制定创建活动计划" in done
        and "计划已上报镇综治办" in done
        and "2026年5月12日 09:00" in done
    )


def test_several_tasks_are_checked_off_at_once(site, visitor):
    office = visitor("office@example.org")
    east_plan, west_plan = (
        task_id(site, "east@example.org", "plan"),
        task_id(site, "west@example.org", "plan"),
    )
    # a coordinator may check off anyone's task; the bulk form sends the ids of the ticked boxes
    answer = office.post(
        "/inbox/check-off", {"task_id": [str(east_plan), str(west_plan)], "note": "统一上报"}
    )
    assert answer.status_code == 302
    assert "已完成 2 项任务。" in text(office.page("/"))
    with wiring_of(site).transaction(readonly=True) as session:
        assert {session.get(Task, t).state for t in (east_plan, west_plan)} == {"done"}


def test_a_bulk_check_off_that_includes_someone_else_s_task_changes_nothing(site, visitor):
    east = visitor("east@example.org")
    mine, theirs = (
        task_id(site, "east@example.org", "plan"),
        task_id(site, "west@example.org", "plan"),
    )
    answer = east.post("/inbox/check-off", {"task_id": [str(mine), str(theirs)]})
    assert answer.status_code == 404
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.get(Task, mine).state == "open"


def test_checking_off_with_nothing_selected_says_so(site, visitor):
    east = visitor("east@example.org")
    east.post("/inbox/check-off", {"note": "x"})
    assert "请先选择要办结的任务。" in text(east.page("/"))


def test_a_rectification_is_reported_fixed_with_a_photo_only_its_people_may_open(site, visitor):
    rect = register(site)
    east = visitor("east@example.org")

    answer = east.post(
        f"/rectifications/{rect}/submit",
        {"note": "护栏已更换", "evidence": (io.BytesIO(PNG), "现场照片.png"), "next": "/"},
        content_type="multipart/form-data",
    )

    assert answer.status_code == 302
    assert "已报告整改完成，等待办公室验收。" in text(east.page("/"))
    with wiring_of(site).transaction(readonly=True) as session:
        evidence = session.scalar(select(EvidenceFile).where(EvidenceFile.item_id == rect))
        stored = Path(site.config["EVIDENCE_FOLDER"]) / evidence.stored_name
    # a photo is stored re-encoded as JPEG (workflow/field/photos.py), under the name it was sent with
    assert (evidence.file_name, evidence.content_type) == ("现场照片.png", "image/jpeg")
    assert stored.read_bytes().startswith(b"\xff\xd8\xff")
    assert stored.is_relative_to(site.config["INSTANCE_PATH"])
    html = east.page(f"/rectifications/{rect}")
    # shown as the "after" photo: its thumbnail opens it
    assert f'href="/evidence/{evidence.id}"' in html and f"/evidence/{evidence.id}/thumb" in html
    assert "待验收" in text(html)

    for email, status in (
        ("east@example.org", 200),
        ("office@example.org", 200),
        ("west@example.org", 404),
        ("keeper@example.org", 404),
    ):
        download = visitor(email).get(f"/evidence/{evidence.id}")
        assert download.status_code == status, email
        if status == 200:
            assert download.data == stored.read_bytes() and download.mimetype == "image/jpeg"
            assert "sandbox" in download.headers["Content-Security-Policy"]
    assert visitor().get(f"/evidence/{evidence.id}").status_code == 302, (
        "signed out: to the sign-in page"
    )


def test_an_oversized_file_is_refused_with_a_message_and_the_task_stays_open(site, visitor):
    east = visitor("east@example.org")
    plan = task_id(site, "east@example.org", "plan")
    big = PNG + b"\x00" * MAX_FILE_BYTES

    answer = east.post(
        f"/tasks/{plan}/complete",
        {"note": "x", "evidence": (io.BytesIO(big), "big.png"), "next": "/"},
        content_type="multipart/form-data",
    )

    assert answer.status_code == 302
    assert "big.png 太大" in text(east.page("/"))
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.get(Task, plan).state == "open"
        assert session.scalars(select(EvidenceFile)).all() == []
    assert (
        not any(Path(site.config["EVIDENCE_FOLDER"]).glob("*"))
        if Path(site.config["EVIDENCE_FOLDER"]).exists()
        else True
    )


def test_a_request_larger_than_all_files_allowed_together_is_refused_with_a_page_saying_so(
    site, visitor
):
    east = visitor("east@example.org")
    plan = task_id(site, "east@example.org", "plan")
    files = [(io.BytesIO(PNG + b"\x00" * (MAX_FILE_BYTES + 1)), f"p{i}.png") for i in range(6)]
    answer = east.post(
        f"/tasks/{plan}/complete",
        {"note": "x", "evidence": files},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 413
    assert "上传的文件过大" in text(answer.get_data(as_text=True))


def test_a_file_that_is_not_a_photo_or_pdf_is_refused_whatever_its_name(site, visitor):
    east = visitor("east@example.org")
    plan = task_id(site, "east@example.org", "plan")
    east.post(
        f"/tasks/{plan}/complete",
        {"evidence": (io.BytesIO(b"<script>alert(1)</script>"), "photo.png")},
        content_type="multipart/form-data",
    )
    assert "只接受照片（JPEG、PNG、GIF、WebP）和 PDF 文件" in text(east.page("/"))


def test_text_people_typed_is_shown_escaped_never_run(site, visitor):
    register(site, description='<script>alert("x")</script><b>护栏</b>')
    html = visitor("east@example.org").page("/")
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


# --- language -----------------------------------------------------------------------------------


def test_chinese_is_the_default_and_the_switch_shows_english_with_dates_written_the_english_way(
    site, visitor
):
    east = visitor("east@example.org")
    assert "我的待办" in text(east.page("/"))

    answer = east.post("/language", {"language": "en", "next": "/"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert (
        "HttpOnly" in answer.headers["Set-Cookie"]
        and "SameSite=Lax" in answer.headers["Set-Cookie"]
    )
    html = east.page("/")
    assert (
        "My inbox" in text(html)
        and "Due within 3 working days" in text(html)
        and "15 May 2026" in text(html)
    )
    assert '<html lang="en">' in html

    east.post("/language", {"language": "zh_CN", "next": "//evil.example"})
    assert "我的待办" in text(east.page("/"))


def test_english_titles_from_the_definition_are_used_in_english(site, visitor, sessions):
    english = (
        RAILWAY_WITH_ESCALATION.replace("id: safe-railway-api", "id: safe-railway-en")
        .replace("title: 宣传发动阶段", "title: 宣传发动阶段\n    title_en: Mobilization", 1)
        .replace(
            "title: 制定创建活动计划,",
            "title: 制定创建活动计划, title_en: Write the campaign plan,",
        )
    )
    start(
        sessions,
        parse_definition(english, "english.yaml"),
        FixedClock(shanghai(2026, 5, 11, 9)),
        WorkingCalendar(),
    )
    east = visitor("east@example.org")
    assert "Write the campaign plan" not in text(east.page("/"))

    east.post("/language", {"language": "en"})
    soon = text(east.page("/"), "soon")
    assert "Write the campaign plan" in soon and "Phase Mobilization" in soon
    assert "制定创建活动计划" in soon, (
        "the first campaign's definition has no English titles: Chinese stays"
    )


def test_every_page_string_is_in_the_catalogues(tmp_path):
    import subprocess
    import sys

    from babel.messages.pofile import read_po

    project = ROOT
    root = project / "webapp" / "translations"
    extracted = tmp_path / "now.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--no-location",
            "-o",
            str(extracted),
            ".",  # babel.cfg's patterns (webapp/**.py) are relative to this folder
        ],
        cwd=project,
        check=True,
        capture_output=True,
    )
    in_code = {
        m.id if isinstance(m.id, str) else m.id[0] for m in read_po(extracted.open("rb")) if m.id
    }
    chinese = read_po((root / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb"))
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in chinese
        if m.id and (m.string if isinstance(m.string, str) else all(m.string))
    }
    assert len(in_code) > 300, "the extraction found the page strings (it once read no file)"
    assert sorted(in_code - translated) == []
    for language in ("zh_Hans_CN", "en"):
        assert (root / language / "LC_MESSAGES" / "messages.mo").stat().st_size > 0
