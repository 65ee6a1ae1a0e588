"""The official calendar's page (``/admin/calendar``, issue 16): an administrator of the top unit sees each year's
source, enters a year from a file, is told what is wrong with a malformed one; from 1 November a banner says next
year's schedule is missing. Everyone else is refused. SQLite and PostgreSQL.

2031 (and the 2027 of the last test) are MADE-UP test years with made-up holidays: NOT the State Council's
schedule, never to be shown or used as the official one.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func, select

from tests.support.actions import OPERATOR
from tests.support.clock import shanghai
from tests.support.texts import MADE_UP_2031
from tests.support.web import Visitor, text
from webapp import wiring_of
from workflow.calendar import import_calendar
from workflow.calendar_files import parse_calendar_file
from workflow.clock import as_utc
from workflow.models import AuditEvent, CalendarDay, CalendarImport
from workflow.people.administrators import grant_administrator

ADMIN, VILLAGE_ADMIN, COORDINATOR = "office@example.org", "east@example.org", "leader@example.org"

# made up, entered by the operator before the page opens: two days off in 2029
MADE_UP_2029 = "date,kind,name\n2029-03-05,off,测试假日\n2029-03-06,off,测试假日\n"


@pytest.fixture
def calendar_site(site, clock):  # type: ignore[no-untyped-def]
    """The town's site with the office director administering the town (its top unit) and east's head his
    village; 2029 entered by the operator; the clock on 2026-05-12."""
    wiring = wiring_of(site)
    with wiring.transaction() as session:
        now = clock.now()
        grant_administrator(session, ADMIN, "town", by=OPERATOR, now=now)
        grant_administrator(session, VILLAGE_ADMIN, "east-village", by=OPERATOR, now=now)
        import_calendar(
            session,
            parse_calendar_file(MADE_UP_2029, "made-up-2029.csv", "csv"),
            by=OPERATOR,
            now=now,
        )
    return site


def visitor(site, email: str | None) -> Visitor:  # type: ignore[no-untyped-def]
    person = Visitor(site.test_client())
    if email:
        assert person.sign_in(email).status_code == 302
        assert person.post("/language", {"language": "en", "next": "/"}).status_code == 302
    return person


def upload(person: Visitor, content: bytes, name: str, signed_in: bool = True):  # type: ignore[no-untyped-def]
    token = person.csrf_token("/" if signed_in else "/login")
    return person.client.post(
        "/admin/calendar",
        data={"csrf_token": token, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def calendar_rows(site) -> tuple[int, int, int, list[tuple]]:  # type: ignore[no-untyped-def]
    """The calendar's days, imports and audit events: a refused file changes none of them."""
    with wiring_of(site).transaction(readonly=True) as session:
        return (
            session.scalar(select(func.count()).select_from(CalendarDay)),
            session.scalar(select(func.count()).select_from(CalendarImport)),
            session.scalar(select(func.count()).select_from(AuditEvent)),
            [tuple(row) for row in session.execute(select(CalendarDay.day, CalendarDay.workday))],
        )


def flashes(page: str) -> list[str]:
    return [
        text(found) for found in re.findall(r'<p class="flash flash-\w+"[^>]*>.*?</p>', page, re.S)
    ]


def test_the_administrator_sees_each_year_s_source(calendar_site):
    page = visitor(calendar_site, ADMIN).page("/admin/calendar")
    table = text(page, "calendar-years")
    assert "2004" in table, "the package's first year"
    assert text(page, "year-2026") == "2026 Package data 33 6"
    # next year: nobody has entered it, the package does not know it
    assert text(page, "year-2027") == "2027 None: estimated Monday–Friday — —"
    entered = text(page, "year-2029")
    assert entered.startswith("2029 Entered by cli:")
    assert entered.endswith("from made-up-2029.csv 2 0")
    assert "year-2030" not in page, "the table ends at the last year entered"
    # the menu leads here; in May no banner yet
    assert re.search(r'<a href="/admin"[^>]*>Administration</a>', page)
    assert 'id="missing-schedule"' not in page


def test_an_uploaded_file_is_entered_under_the_administrator_s_name(calendar_site):
    office = visitor(calendar_site, ADMIN)
    answer = upload(office, json.dumps(MADE_UP_2031).encode(), "made-up-2031.json")
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/calendar"
    page = office.page("/admin/calendar")
    assert flashes(page) == [
        "2031 entered from made-up-2031.json: 5 holiday day(s) and 1 adjusted workday(s)."
    ]
    row = text(page, "year-2031")
    assert row.startswith(f"2031 Entered by {ADMIN} on 12 May 2026")
    assert row.endswith("from made-up-2031.json 5 1")
    assert text(page, "year-2030").startswith("2030 None"), "the years between are still missing"
    with wiring_of(calendar_site).transaction(readonly=True) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.entity == "calendar")).all()[-1]
        assert (event.actor, event.entity_id, event.to_state) == (ADMIN, 2031, "made-up-2031.json")
    # reloading the page after the post re-sends nothing: a GET
    assert office.get("/admin/calendar").status_code == 200


@pytest.mark.parametrize(
    "name, content, problem",
    [
        (
            "bad-date.json",
            json.dumps(
                {"year": 2031, "days": [{"name": "x", "date": "2031-02-30", "isOffDay": True}]}
            ),
            "bad-date.json: days[0].date: not a date: '2031-02-30' (no such day)",
        ),
        (
            "twice.csv",
            "date,kind,name\n2031-02-10,off,测试\n2031-02-10,off,测试\n",
            "twice.csv:3: date: 2031-02-10 is listed twice (first at line 2)",
        ),
        (
            "wrong-year.yaml",
            "- {date: 2031-02-10, kind: off, name: 测试}\n- {date: 2030-02-11, kind: off, name: 测试}\n",
            "wrong-year.yaml:2: [1].date: 2030-02-11 is not in 2031, the year of this file",
        ),
        ("notes.txt", "2031-02-10,off", "notes.txt: not a JSON, YAML or CSV file"),
    ],
)
def test_a_malformed_file_says_where_and_changes_nothing(calendar_site, name, content, problem):
    office = visitor(calendar_site, ADMIN)
    before = calendar_rows(calendar_site)
    answer = upload(office, content.encode(), name)
    assert answer.status_code == 302
    shown = flashes(office.page("/admin/calendar"))
    assert shown[0] == "The file was not entered; nothing was changed."
    assert shown[1].startswith(problem), shown
    assert calendar_rows(calendar_site) == before
    assert "year-2031" not in office.page("/admin/calendar")


@pytest.mark.parametrize(
    "who", [VILLAGE_ADMIN, COORDINATOR, None], ids=["village admin", "coordinator", "anonymous"]
)
def test_everyone_else_is_refused_and_changes_nothing(calendar_site, who):
    person = visitor(calendar_site, who)
    before = calendar_rows(calendar_site)
    page = person.get("/admin/calendar")
    posted = upload(person, json.dumps(MADE_UP_2031).encode(), "made-up-2031.json", bool(who))
    if who is None:
        for answer in (page, posted):
            assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    else:
        assert (page.status_code, posted.status_code) == (403, 403)
        assert "made-up-2029.csv" not in page.get_data(as_text=True)
        assert "/admin/calendar" not in person.page("/"), "no Administration entry in the menu"
    assert calendar_rows(calendar_site) == before


def test_from_1_november_a_banner_says_next_year_is_missing(calendar_site, clock):
    office = visitor(calendar_site, ADMIN)
    clock.instant = as_utc(shanghai(2026, 10, 31, 23, 30))
    assert 'id="missing-schedule"' not in office.page("/admin/calendar")
    clock.instant = as_utc(shanghai(2026, 11, 1, 8, 0))
    banner = text(office.page("/admin/calendar"), "missing-schedule")
    assert banner.startswith("The official schedule for 2027 is missing")
    # once a 2027 schedule is entered (made up here: NOT the State Council's), the banner goes
    made_up_2027 = {
        "year": 2027,
        "days": [{"name": "测试", "date": "2027-01-01", "isOffDay": True}],
    }
    assert upload(office, json.dumps(made_up_2027).encode(), "made-up-2027.json").status_code == 302
    page = office.page("/admin/calendar")
    assert 'id="missing-schedule"' not in page
    assert text(page, "year-2027").startswith("2027 Entered by")
