"""Campaigns at every level through the pages and the API (issue 20): the county's campaign page,
report and leader view roll its towns up; a village's escalation reaches the county office's inbox;
a town's coordinator starts a village that joined late; a village head reads nothing of the other
town. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.support.actions import OPERATOR, sweep
from tests.support.api import Caller
from tests.support.clock import shanghai
from tests.support.levels import COUNTY_ORG, start_county, write_level_definitions
from tests.support.web import Visitor, give_everyone_a_password, text
from webapp import create_app, wiring_of
from workflow.clock import FixedClock
from workflow.hazards.rectifications import HazardReport, register_hazard
from workflow.models import AuditEvent, Campaign, Unit
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation
from workflow.organisation.tokens import issue_token


@pytest.fixture
def county_site(db_url, sessions, calendar, tmp_path, smtp):  # type: ignore[no-untyped-def]
    """The county's campaign cascaded to its towns and villages, a village hazard climbed to the
    county office; the app opens on 2026-05-26."""
    clock = FixedClock(shanghai(2026, 5, 4, 9))
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(COUNTY_ORG, "org.yaml"))
        give_everyone_a_password(session)
    with sessions.begin() as session:
        start_county(session, clock, calendar, write_level_definitions(tmp_path / "definitions"))
    with sessions.begin() as session:
        village = session.scalar(
            select(Campaign.id).join(Unit, Unit.id == Campaign.unit_id).where(Unit.code == "e1")
        )
        register_hazard(
            session,
            village,
            HazardReport(
                "护路段护栏损坏", responsible="e1-patrol@example.org", deadline=date(2026, 5, 11)
            ),
            by=OPERATOR,
            clock=clock,
            calendar=calendar,
            base_url="http://pingan.test",
        )
    sweep(sessions, shanghai(2026, 5, 25, 8))  # levels 1, 2 (the town office) and 3 (the county's)
    clock.instant = shanghai(2026, 5, 26, 9)
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "CLOCK": clock,
            "SECRET_KEY": "test",
            "BASE_URL": "http://pingan.test",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "LOGIN_CLOCK": FixedClock(clock.now()),
        }
    )
    yield app
    wiring_of(app).engine.dispose()


def campaign_of(app, unit_code: str) -> int:  # type: ignore[no-untyped-def]
    with wiring_of(app).transaction(readonly=True) as session:
        return session.scalar(
            select(Campaign.id)
            .join(Unit, Unit.id == Campaign.unit_id)
            .where(Unit.code == unit_code)
        )


def signed_in(app, email: str) -> Visitor:  # type: ignore[no-untyped-def]
    person = Visitor(app.test_client())
    assert person.sign_in(email).status_code == 302
    return person


def api(app, email: str) -> Caller:  # type: ignore[no-untyped-def]
    with wiring_of(app).transaction() as session:
        return Caller(app.test_client(), issue_token(session, email, shanghai(2026, 5, 26, 9)))


def test_the_county_reads_its_towns_rolled_up_on_its_page_report_and_leader_view(county_site):
    county = campaign_of(county_site, "county")
    office = signed_in(county_site, "county-office@example.org")
    page = office.page(f"/campaigns/{county}")
    table = text(page, "sub-campaigns")
    assert "下级创建活动" in table and "东风镇" in table and "西岭镇" in table
    assert "第3级：1" in table  # the village's hazard reached the county office: level 3, once
    assert "合计" in table

    report = office.page(f"/campaigns/{county}/report")
    assert "东风镇" in text(report, "sub-campaigns") and "含下级 2 个" in text(
        report, "sub-campaigns"
    )

    # the county's ledger lists the village's hazard after its own, under the village
    ledger = office.get(f"/campaigns/{county}/report.csv?table=ledger").get_data(as_text=True)
    header, first, *_rest = ledger.splitlines()
    assert header.endswith("所属单位创建活动 campaign of")
    assert "护路段护栏损坏" in first and first.endswith(",东一村")

    leader = office.page("/leader")
    assert "下级创建活动" in leader and "护路段护栏损坏" in leader
    # the inbox says what climbed to them from the village, linked to its page
    inbox = office.page("/")
    climbed = text(inbox, "escalated")
    assert "护路段护栏损坏" in climbed and "第 3 级督办" in climbed
    rectification = office.get("/rectifications/1")
    assert rectification.status_code == 200, "the county office opens the village's hazard"

    answer = api(county_site, "county-office@example.org").get(f"/campaigns/{county}/sub-campaigns")
    assert answer.status_code == 200
    body = answer.get_json()
    east = next(row for row in body["sub_campaigns"] if row["unit"] == "东风镇")
    assert (east["campaigns"], east["rectifications"], east["overdue_open"]) == (3, 1, 1)
    assert east["escalations"] == {"1": 1, "2": 1, "3": 1}
    assert body["total"]["rectifications"] == 1 and body["total"]["campaigns"] == 5


def test_a_village_head_reads_nothing_of_the_other_town_nor_above(county_site):
    head = signed_in(county_site, "e1-head@example.org")
    for unit in ("w1", "west-town", "east-town", "county"):
        assert head.get(f"/campaigns/{campaign_of(county_site, unit)}").status_code == 404, unit
    assert head.get(f"/campaigns/{campaign_of(county_site, 'e1')}").status_code == 200
    answer = api(county_site, "e1-head@example.org").get(
        f"/campaigns/{campaign_of(county_site, 'county')}/sub-campaigns"
    )
    assert answer.status_code == 404


def test_a_town_starts_a_village_that_joined_late_and_the_county_may_not(county_site):
    with wiring_of(county_site).transaction() as session:
        town = session.scalar(select(Unit).where(Unit.code == "east-town"))
        session.add(Unit(code="e3", name="东三村", parent_id=town.id))
    with wiring_of(county_site).transaction() as session:
        import_organisation(
            session,
            parse_organisation(
                COUNTY_ORG.replace(
                    "          - {id: e2, name: 东二村}\n",
                    "          - {id: e2, name: 东二村}\n          - {id: e3, name: 东三村}\n",
                )
                + "  - {email: e3-head@example.org, name: 东三村书记, unit: e3, roles: [leader]}\n"
                "  - {email: e3-office@example.org, name: 东三村治保主任, unit: e3, "
                "roles: [office_director]}\n",
                "org.yaml",
            ),
        )
    east = campaign_of(county_site, "east-town")
    # the county office reads the town's page, and is offered no start there
    county_office = signed_in(county_site, "county-office@example.org")
    assert "东三村" not in county_office.page(f"/campaigns/{east}")
    refused = api(county_site, "county-office@example.org").post(
        f"/campaigns/{east}/sub-campaigns", {"unit": "e3"}
    )
    assert refused.status_code == 403

    office = signed_in(county_site, "east-office@example.org")
    page = office.page(f"/campaigns/{east}")
    assert "尚未开展创建活动的下级单位" in page and "东三村" in text(page, "late-units")
    answer = office.post(f"/campaigns/{east}/sub-campaigns", {"unit": "e3"})
    assert answer.status_code == 302
    child = campaign_of(county_site, "e3")
    assert answer.headers["Location"] == f"/campaigns/{child}"
    assert "东三村平安铁路创建活动已启动" in office.page(f"/campaigns/{child}")
    assert "late-units" not in office.page(f"/campaigns/{east}")
    again = api(county_site, "east-office@example.org").post(
        f"/campaigns/{east}/sub-campaigns", {"unit": "e3"}
    )
    assert again.status_code == 409
    with wiring_of(county_site).transaction(readonly=True) as session:
        late = session.scalars(
            select(AuditEvent.note).where(AuditEvent.event == "late child")
        ).all()
    assert late == [f"campaign {child} started late for e3"]
