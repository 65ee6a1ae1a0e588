"""``/admin/roster`` (issue #18 item 4): a roster uploaded, previewed, applied once; its problems at
their row and column in Chinese; a scope's export that changes nothing when uploaded back; hostile
files refused with a reason, nothing written."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from tests.support.actions import OPERATOR
from tests.support.databases import every_row
from tests.support.rosters import (
    billion_laughs,
    million_rows,
    xlsx,
    xml_entity_bomb,
    zip_bomb,
)
from tests.support.web import text
from webapp import wiring_of
from workflow.models import Person, Unit
from workflow.people.administrators import grant_administrator

ADMIN = "office@example.org"  # 赵主任, granted 铁路镇 here
VILLAGE_ADMIN = "west@example.org"  # 周村长, granted 西村


@pytest.fixture
def admin(site, visitor):  # type: ignore[no-untyped-def]
    wiring = wiring_of(site)
    with wiring.transaction() as session:
        now = wiring.clock.now()
        grant_administrator(session, ADMIN, "town", by=OPERATOR, now=now)
        grant_administrator(session, VILLAGE_ADMIN, "west-village", by=OPERATOR, now=now)
    return visitor(ADMIN)


def unit_id(site, code: str) -> int:  # type: ignore[no-untyped-def]
    with wiring_of(site).transaction(readonly=True) as session:
        return session.scalar(select(Unit.id).where(Unit.code == code))


def upload(person, site, code: str, raw: bytes, name: str = "花名册.xlsx"):  # type: ignore[no-untyped-def]
    return person.post(
        "/admin/roster",
        {"unit": str(unit_id(site, code)), "file": (io.BytesIO(raw), name)},
        content_type="multipart/form-data",
    )


def preview_of(person, answer) -> str:  # type: ignore[no-untyped-def]
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    return person.page(answer.headers["Location"])


def apply_form(page: str) -> dict[str, str]:
    form = re.search(r'<form[^>]*id="roster-apply".*?</form>', page, re.S).group(0)
    fields = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', form))
    fields.pop("csrf_token", None)
    return fields


def test_a_bad_row_is_named_by_row_and_column_in_chinese_and_nothing_is_written(site, admin):
    raw = xlsx(
        ("李村长", "", "东村", "", "east@example.org", "village_head"),
        ("孙新人", "", "东村", "1380013800", "new@example.org", ""),
    )
    before = every_row(wiring_of(site).sessions)
    page = preview_of(admin, upload(admin, site, "east-village", raw))
    problems = text(page, "roster-problems")
    assert "第 3 行 手机 列（D）" in problems, problems
    assert "不是手机号码" in problems
    assert 'id="roster-apply"' not in page
    assert every_row(wiring_of(site).sessions) == before


def test_a_good_roster_is_previewed_then_applied_once(site, admin):
    raw = xlsx(
        ("李村长", "村支书", "东村", 13900139000, "east@example.org", "village_head"),
        ("陈道口看守", "", "东村", "", "keeper@example.org", ""),
        ("孙新人", "", "east-village", 13800138000.0, "new@example.org", "member"),
    )
    sessions = wiring_of(site).sessions
    before = every_row(sessions)
    page = preview_of(admin, upload(admin, site, "east-village", raw))
    assert every_row(sessions) == before  # the preview writes nothing
    assert text(page, "count-added").split()[0] == "1"
    assert text(page, "count-changed").split()[0] == "1"
    rows = text(page, "roster-table")
    assert "职务: — → 村支书" in rows and "手机: — → 13900139000" in rows
    assert "13800138000" in rows
    form = apply_form(page)
    path = f"/admin/roster/{unit_id(site, 'east-village')}/apply"
    answer = admin.post(path, form)
    assert answer.status_code == 302
    done = admin.page(answer.headers["Location"])
    assert "1 人新增" in done, done
    with sessions() as session:
        new = session.scalar(select(Person).where(Person.email == "new@example.org"))
        assert (new.name, new.phone, new.active) == ("孙新人", "13800138000", True)
    after = every_row(sessions)
    again = admin.post(path, form)  # a double click, a reload
    assert again.status_code == 302
    assert every_row(sessions) == after


def test_an_apply_after_the_directory_changed_shows_a_fresh_preview(site, admin):
    raw = xlsx(
        ("李村长", "村支书", "东村", "", "east@example.org", "village_head"),
        ("陈道口看守", "", "东村", "", "keeper@example.org", ""),
    )
    page = preview_of(admin, upload(admin, site, "east-village", raw))
    with wiring_of(site).transaction() as session:
        session.scalar(select(Person).where(Person.email == "east@example.org")).name = "李四"
    before = every_row(wiring_of(site).sessions)
    answer = admin.post(f"/admin/roster/{unit_id(site, 'east-village')}/apply", apply_form(page))
    assert "/preview/" in answer.headers["Location"]
    fresh = admin.page(answer.headers["Location"])
    assert "目录在预览之后有变动" in fresh, fresh
    assert "姓名: 李四 → 李村长" in text(fresh, "roster-table")
    assert every_row(wiring_of(site).sessions) == before


def test_a_village_administrator_cannot_post_a_roster_for_the_town(site, admin, visitor):
    village = visitor(VILLAGE_ADMIN)
    before = every_row(wiring_of(site).sessions)
    answer = upload(village, site, "town", xlsx(("x", "", "town", "", "x@example.org", "")))
    assert answer.status_code == 403
    assert village.get(f"/admin/roster/{unit_id(site, 'town')}/export.xlsx").status_code == 403
    assert every_row(wiring_of(site).sessions) == before


@pytest.mark.parametrize("form", ["xlsx", "yaml"])
def test_an_export_uploaded_back_changes_nothing(site, admin, form):
    town = unit_id(site, "town")
    exported = admin.get(f"/admin/roster/{town}/export.{form}")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["Content-Disposition"]
    page = preview_of(admin, upload(admin, site, "town", exported.data, f"export.{form}"))
    assert text(page, "count-unchanged").split()[0] == "6"
    assert 'id="roster-nothing"' in page and 'id="roster-apply"' not in page


@pytest.mark.parametrize(
    "make, name, says",
    [
        (zip_bomb, "bomb.xlsx", "zip 炸弹"),
        (million_rows, "million.xlsx", "超过 5000 行"),
        (lambda: xlsx(("钱", "", "=A1", "", "q@example.org", "")), "formula.xlsx", "公式"),
        (billion_laughs, "laughs.yaml", "别名展开"),
        (xml_entity_bomb, "entities.xlsx", "XML 实体"),
    ],
)
def test_a_hostile_upload_is_refused_with_a_reason_and_nothing_written(
    site, admin, make, name, says
):
    before = every_row(wiring_of(site).sessions)
    page = preview_of(admin, upload(admin, site, "east-village", make(), name))
    assert says in text(page, "roster-problems")
    assert every_row(wiring_of(site).sessions) == before


def test_who_the_roster_leaves_out_is_named_deactivated_or_kept_with_their_open_work(site, admin):
    raw = xlsx(("新村长", "", "东村", "", "new-head@example.org", "village_head"))
    page = preview_of(admin, upload(admin, site, "east-village", raw))
    leaving = text(page, "roster-leaving")
    assert "陈道口看守" in leaving and "将被停用" in leaving
    # east holds the crossing and the campaign's tasks: kept, and why, in Chinese
    assert "李村长" in leaving and "保留：仍有未办结事项" in leaving
    assert "重点部位：crossing-3 (3号道口)" in leaving
    assert "task " not in leaving and "key site" not in leaving


def test_a_yaml_roster_s_problems_name_line_and_key_in_chinese(site, admin):
    raw = (
        "units:\n  - id: east-village\n    name: 东村\n"
        "people:\n  - {email: east@example.org, name: 李村长, unit: east-village, phone: '12'}\n"
        "  - {email: x@example.org, unit: east-village}\n"
    ).encode()
    page = preview_of(admin, upload(admin, site, "east-village", raw, "org.yaml"))
    problems = text(page, "roster-problems")
    assert "第 5 行 people[0].phone ：不是手机号码" in problems, problems
    assert "第 6 行 people[1] ：“name”缺失" in problems, problems
