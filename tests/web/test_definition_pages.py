"""The definitions' administration pages and starting a campaign from the browser (issue #18, items 5 and 6), through
Flask's test client on SQLite and PostgreSQL: a bad file's problems by line and key, a preview, what changed, the
refusals (same id and version with other text, too big, a YAML bomb), a save posted twice stores once, a dry run
writes nothing, a start lands its tasks in the inboxes."""

from __future__ import annotations

import base64
import io
import re

import pytest
from sqlalchemy import func, select

from tests.support.actions import OPERATOR
from tests.support.paths import ROOT
from tests.support.texts import RAILWAY, RAILWAY_WITH_ESCALATION
from tests.support.web import text
from webapp import wiring_of
from workflow.definitions.catalogue import register_definition
from workflow.definitions.reader import parse_definition
from workflow.limits import MAX_DEFINITION_BYTES
from workflow.models import AuditEvent, Base, Campaign, DefinitionRow, Site, Unit
from workflow.people.administrators import grant_administrator

ADMIN = "leader@example.org"  # the town's leader, made its administrator
NEW = (
    RAILWAY.replace("id: safe-railway-test", "id: uploaded-test")
    + """
recurring:
  - {id: talk, title: 月度安全教育, assignee: village_head, per: unit, every: month, on: 5, due: 3wd}
"""
)
# version 2 of the site's own definition: a task's due date changed, the inspection phase dropped, a level added
SECOND = (
    RAILWAY_WITH_ESCALATION.replace("version: 1", "version: 2")
    .replace(
        "召开动员大会, assignee: office_director, due: 7d",
        "召开动员大会, assignee: office_director, due: 10d",
    )
    .replace("  - id: inspection\n    title: 检查验收阶段\n    duration: 30d\n", "")
    + "    - {after: 10wd, notify: [leader]}\n"
)


@pytest.fixture
def admin(site, visitor):  # type: ignore[no-untyped-def]
    wiring = wiring_of(site)
    with wiring.transaction() as session:
        grant_administrator(session, ADMIN, "town", by=OPERATOR, now=wiring.clock.now())
    return visitor(ADMIN)


def upload(person, content: bytes | str, name: str = "mine.yaml", **extra):  # type: ignore[no-untyped-def]
    raw = content.encode("utf-8") if isinstance(content, str) else content
    return person.post(
        "/admin/definitions/upload",
        {"file": (io.BytesIO(raw), name), "starts": "2026-05-01", **extra},
        content_type="multipart/form-data",
    )


def counts(site) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with wiring_of(site).sessions() as session:
        return {
            t.name: session.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
            if t.name != "login_failures"
        }


def saved_text(page: str) -> str:
    return re.search(r'id="save-form".*?name="text"[^>]*value="([^"]+)"', page, re.S).group(1)


def test_the_list_shows_shipped_and_stored_definitions_with_their_campaigns(admin, site):
    page = admin.page("/admin/definitions")
    assert "safe-railway" in page and "standard" in page  # shipped
    row = text(page, "definition-safe-railway-api-1")
    assert "平安铁路创建活动 · 铁路镇" in row
    assert f'/campaigns/{site.campaign_id}"' in page
    answer = admin.get("/admin/definitions/safe-railway-api/1/download")
    assert answer.status_code == 200
    assert answer.get_data(as_text=True) == RAILWAY_WITH_ESCALATION
    assert "attachment" in answer.headers["Content-Disposition"]


def test_a_bad_file_shows_each_problem_by_line_and_key_with_the_line(admin, site):
    bad = NEW.replace("assignee: office_director, due: 7d", "assignee: chief, due: 7d")
    before = counts(site)
    answer = upload(admin, bad, "bad.yaml")
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    problems = text(page, "problems")
    line = bad.splitlines().index(next(s for s in bad.splitlines() if "chief" in s)) + 1
    assert f"bad.yaml:{line}: phases[0].tasks[1].assignee: unknown role 'chief'" in problems
    assert "{id: meeting, title: 召开动员大会, assignee: chief, due: 7d}" in problems
    assert f"第 {line} 行" in problems and "键 phases[0].tasks[1].assignee" in problems
    assert counts(site) == before


def test_a_valid_file_opens_its_preview_and_saving_it_twice_stores_it_once(admin, site):
    answer = upload(admin, NEW)
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "宣传发动阶段" in text(page, "diagram") and "检查验收阶段" in text(page, "diagram")
    # the monthly duty's next five dates from 1 May 2026, each with its due date
    assert text(page, "duty-talk").count("2026年") >= 10
    assert "2026年5月5日" in text(page, "duty-talk") and "2026年9月5日" in text(page, "duty-talk")
    key = re.search(r'name="form_key"[^>]*value="([^"]+)"', page).group(1)
    name = re.search(r'id="save-form".*?name="name"[^>]*value="([^"]+)"', page, re.S).group(1)
    form = {"text": saved_text(page), "form_key": key, "name": name}
    first = admin.post("/admin/definitions", form)
    assert first.status_code == 302 and first.headers["Location"].endswith(
        "/admin/definitions/uploaded-test/1"
    )
    before = counts(site)
    again = admin.post("/admin/definitions", form)
    assert again.status_code == 302
    assert counts(site) == before
    with wiring_of(site).sessions() as session:
        row = session.scalar(select(DefinitionRow).where(DefinitionRow.slug == "uploaded-test"))
        assert row.text == NEW  # byte for byte the file: the CLI's start of the same file finds it
        stored = session.scalars(select(AuditEvent).where(AuditEvent.entity == "definition")).all()
        assert [(e.event, e.entity_id, e.note) for e in stored] == [
            ("store", row.id, "uploaded-test v1 from mine.yaml")
        ]
        assert stored[0].actor == ADMIN
    assert "uploaded-test" in admin.page("/admin/definitions")


def test_a_new_version_shows_what_changed(admin):
    page = upload(admin, SECOND).get_data(as_text=True)
    changes = text(page, "changes")
    assert "与第 1 版相比" in changes
    for expected in ("召开动员大会", "meeting", "7d", "10d", "检查验收阶段", "inspection"):
        assert expected in changes, expected
    assert "新增 督办层级 10wd → leader" in changes


def test_the_same_id_and_version_with_other_text_is_refused_and_told_to_raise_the_version(
    admin, site
):
    changed = RAILWAY_WITH_ESCALATION.replace("duration: 30d", "duration: 31d", 1)
    page = upload(admin, changed).get_data(as_text=True)
    refusal = text(page, "version-taken")
    assert "safe-railway-api" in refusal and "version: 2" in refusal
    assert 'id="save-form"' not in page
    before = counts(site)
    packed = base64.b64encode(changed.encode()).decode()
    answer = admin.post("/admin/definitions", {"text": packed, "form_key": "k" * 22})
    assert answer.status_code == 302
    assert counts(site) == before


def test_a_shipped_id_and_version_with_other_text_is_refused_too(admin, site):
    shipped = (ROOT / "definitions" / "standard.yaml").read_text(encoding="utf-8")
    page = upload(admin, shipped).get_data(as_text=True)
    assert (
        'id="save-form"' in page and 'id="version-taken"' not in page
    )  # the very text: nothing to refuse
    changed = shipped.replace("title:", "title: 改 ", 1)
    page = upload(admin, changed).get_data(as_text=True)
    assert "standard" in text(page, "version-taken") and 'id="save-form"' not in page
    before = counts(site)
    packed = base64.b64encode(changed.encode()).decode()
    assert (
        admin.post("/admin/definitions", {"text": packed, "form_key": "s" * 22}).status_code == 302
    )
    assert counts(site) == before


def test_a_file_too_big_and_a_yaml_bomb_are_refused_with_a_reason(admin, site):
    before = counts(site)
    big = upload(admin, b"# " + b"x" * MAX_DEFINITION_BYTES)
    assert big.status_code == 422
    assert f"{MAX_DEFINITION_BYTES // 1024} KB" in text(big.get_data(as_text=True), "problems")
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    bomb = upload(admin, "id: bomb\nversion: 1\n" + "\n".join(levels) + "\n", "bomb.yaml")
    assert bomb.status_code == 422
    assert "aliases expand to more than" in text(bomb.get_data(as_text=True), "problems")
    assert counts(site) == before


def test_a_dry_run_writes_nothing_and_names_each_role_nobody_holds(admin, site):
    with wiring_of(site).transaction() as session:
        town = session.scalar(select(Unit).where(Unit.code == "town"))
        session.add(Unit(code="south-village", name="南村", parent_id=town.id))
    before = counts(site)
    answer = admin.post(
        "/admin/campaigns/dry-run",
        {"definition": "safe-railway-api@1", "unit": "town", "starts": "2026-06-01"},
    )
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "南村" in text(page, "start-problems") and "村负责人" in text(page, "start-problems")
    assert 'id="confirm-form"' not in page
    assert counts(site) == before


def test_a_dry_run_names_a_key_site_with_nobody_responsible_in_chinese(admin, site):
    patrols = RAILWAY.replace("id: safe-railway-test", "id: patrol-test").replace(
        "      - {id: banner, title: 悬挂宣传标语, assignee: village_head, per: unit, required: false}\n",
        "      - {id: patrol, title: 道口巡查, assignee: responsible, per: site}\n",
    )
    wiring = wiring_of(site)
    with wiring.transaction() as session:
        register_definition(session, parse_definition(patrols, "patrol.yaml"), wiring.clock.now())
        east = session.scalar(select(Unit).where(Unit.code == "east-village"))
        session.add(Site(code="crossing-9", name="9号道口", unit_id=east.id))
    before = counts(site)
    page = admin.post(
        "/admin/campaigns/dry-run",
        {"definition": "patrol-test@1", "unit": "town", "starts": "2026-06-01"},
    ).get_data(as_text=True)
    assert text(page, "start-problems") == "重点部位 9号道口（crossing-9） 没有责任人。"
    assert counts(site) == before


def test_a_start_from_the_page_puts_the_first_tasks_into_the_inboxes_once(admin, site, visitor):
    before = counts(site)
    dry = admin.post(
        "/admin/campaigns/dry-run",
        {
            "definition": "safe-railway-api@1",
            "unit": "town",
            "starts": "2026-05-12",
            "title": "第二期",
        },
    )
    assert counts(site) == before
    page = dry.get_data(as_text=True)
    per_person = text(page, "per-person")
    assert "李村长" in per_person and "周村长" in per_person and "赵主任" in per_person
    assert "2026年5月26日" in per_person  # the plan, 14 days after 12 May
    assert "制定巡防方案" in text(page, "later-work") and "东村: 李村长" in text(page, "later-work")
    confirm = page.split('id="confirm-form"')[1]
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', confirm))
    form["form_key"] = re.search(r'name="form_key"[^>]*value="([^"]+)"', confirm).group(1)
    started = admin.post("/admin/campaigns", form)
    assert started.status_code == 302
    campaign = int(started.headers["Location"].rsplit("/", 1)[1])
    assert "第二期" in admin.page(f"/campaigns/{campaign}")
    again = admin.post("/admin/campaigns", form)
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/campaigns/{campaign}")
    with wiring_of(site).sessions() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 2
    assert "第二期" in visitor("west@example.org").page("/")


def test_a_village_administrator_cannot_start_for_the_town(site, visitor):
    wiring = wiring_of(site)
    with wiring.transaction() as session:
        grant_administrator(
            session, "west@example.org", "west-village", by=OPERATOR, now=wiring.clock.now()
        )
    west = visitor("west@example.org")
    units = re.search(
        r'<select[^>]*name="unit".*?</select>', west.page("/admin/campaigns/new"), re.S
    ).group(0)
    assert "西村" in units and "铁路镇" not in units and "东村" not in units
    before = counts(site)
    answer = west.post(
        "/admin/campaigns/dry-run",
        {"definition": "safe-railway-api@1", "unit": "town", "starts": "2026-06-01"},
    )
    assert answer.status_code == 403
    answer = west.post(
        "/admin/campaigns",
        {"definition": "safe-railway-api@1", "unit": "town", "starts": "2026-06-01"},
    )
    assert answer.status_code == 403
    assert counts(site) == before


def test_the_pages_read_in_english_too(admin, site):
    admin.client.set_cookie("lang", "en")
    page = admin.page("/admin/definitions/safe-railway-api/1?starts=2026-05-01")
    assert "14 days after the start" in text(page, "phase-mobilization")
    assert "Level 3" in text(page, "ladder") and "7 working days overdue" in text(page, "ladder")
    assert "Start a campaign" in admin.page("/admin/campaigns/new")
