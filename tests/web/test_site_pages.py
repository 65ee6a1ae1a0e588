"""A key site on its page (issue 21, items 1 and 2): the address its QR code holds opens, signed in,
the site's keeper, open rectifications, patrols and check-ins; one tap checks in with a note and a
photo and the month's patrol is done; the coordinators print the sheet of codes; nobody else opens
either."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from tests.support.clock import shanghai
from tests.support.databases import row_counts
from tests.support.texts import PATROLLED
from tests.support.web import Visitor, started_site, text
from webapp import wiring_of
from workflow.models import EvidenceFile, Site, SiteVisit, Task


@pytest.fixture
def site(db_url, sessions, clock, tmp_path):
    app = started_site(
        db_url, sessions, clock, tmp_path, PATROLLED, opens_at=shanghai(2026, 5, 6, 9)
    )
    yield app
    wiring_of(app).engine.dispose()


@pytest.fixture
def crossing(sessions):
    with sessions() as session:
        return session.scalar(select(Site.id).where(Site.code == "crossing-3"))


def signed_in(site, email):
    person = Visitor(site.test_client())
    assert person.sign_in(email).status_code == 302
    return person


def photo() -> tuple[io.BytesIO, str]:
    image, data = Image.new("RGB", (64, 48), (200, 40, 40)), io.BytesIO()
    image.save(data, "JPEG")
    data.seek(0)
    return data, "crossing.jpg"


def test_the_keeper_opens_the_site_and_checks_in_with_a_photo(site, sessions, crossing):
    east = signed_in(site, "east@example.org")
    page = east.page(f"/sites/{crossing}")
    assert "3号道口" in text(page) and "李村长" in text(page)
    assert "本次打卡将完成你 1 项未完成的巡查或检查" in text(page, "check-in")
    assert "2026-05" in text(page, "site-duties")

    answer = east.post(
        f"/sites/{crossing}/check-in",
        {
            "note": "护栏完好",
            "phone_time": "2026-05-06T00:55:00Z",
            "latitude": "34.62",
            "longitude": "105.72",
            "accuracy": "15",
            "photos": [photo()],
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302
    shown = east.page(answer.headers["Location"])
    assert "已打卡：1 项巡查或检查已完成。" in text(shown)
    assert "护栏完好" in text(shown, "site-visits") and "李村长" in text(shown, "site-visits")
    with sessions() as session:
        visit = session.scalar(select(SiteVisit))
        assert (visit.latitude, visit.longitude, visit.accuracy_m) == (34.62, 105.72, 15.0)
        assert session.scalar(select(Task.state)) == "done"
        (evidence,) = session.scalars(select(EvidenceFile)).all()
        assert (evidence.item_kind, evidence.item_id) == ("visit", visit.id)
    # the photo opens for those who open the site
    assert east.get(f"/evidence/{evidence.id}").status_code == 200
    thumbnail = east.get(f"/evidence/{evidence.id}/thumb")
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    assert f"/evidence/{evidence.id}/thumb" in east.page(f"/sites/{crossing}")
    assert signed_in(site, "west@example.org").get(f"/evidence/{evidence.id}").status_code == 404


def test_nobody_else_opens_the_site_or_checks_in(site, sessions, crossing):
    west = signed_in(site, "west@example.org")
    assert west.get(f"/sites/{crossing}").status_code == 404
    before = row_counts(sessions)
    answer = west.post(f"/sites/{crossing}/check-in", {"note": "路过"})
    assert answer.status_code in (302, 404)
    assert row_counts(sessions) == before
    assert west.get("/sites/9999").status_code == 404


def test_bad_check_in_fields_are_refused_with_a_message_and_nothing_kept(site, sessions, crossing):
    east = signed_in(site, "east@example.org")
    before = row_counts(sessions)
    answer = east.post(f"/sites/{crossing}/check-in", {"latitude": "north", "longitude": "105.7"})
    assert "请更正：位置不是一对数字" in text(east.page(answer.headers["Location"]))
    answer = east.post(f"/sites/{crossing}/check-in", {"phone_time": "yesterday"})
    assert "手机时间不是日期时间" in text(east.page(answer.headers["Location"]))
    assert row_counts(sessions) == before


def test_the_coordinators_print_the_sheet_of_qr_codes(site, crossing):
    office = signed_in(site, "office@example.org")
    sheet = office.page(f"/campaigns/{site.campaign_id}/site-codes")
    assert sheet.count("<svg") == 1 and "3号道口" in text(sheet)
    # the site page's address, from BASE_URL: a code printed today still opens after a move
    assert f"http://pingan.test/sites/{crossing}" not in sheet  # in the code, not as text
    east = signed_in(site, "east@example.org")
    assert east.get(f"/campaigns/{site.campaign_id}/site-codes").status_code in (403, 404)


def test_the_report_counts_the_visits_and_names_the_sites_not_visited(site, sessions, crossing):
    east = signed_in(site, "east@example.org")
    assert east.post(f"/sites/{crossing}/check-in", {"note": "正常"}).status_code == 302
    office = signed_in(site, "office@example.org")
    report = office.page(f"/campaigns/{site.campaign_id}/report")
    assert "1 项巡查或检查中有 1 项在其部位打过卡" in text(report, "site-visits")
    csv = office.get(f"/campaigns/{site.campaign_id}/report.csv?table=site_visits")
    assert csv.status_code == 200
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("周期 period,重点部位 key site")
    assert lines[1].split(",")[:2] == ["2026-05", "3号道口"] and "已打卡 visited" in lines[1]
    assert lines[1].endswith("已完成 done"), "the patrol the check-in checked off"
    book = load_workbook(
        io.BytesIO(office.get(f"/campaigns/{site.campaign_id}/report.xlsx").get_data())
    )
    patrols = list(book["巡查打卡 patrols"].iter_rows(values_only=True))
    assert patrols[1][:2] == ("2026-05", "3号道口") and patrols[1][6] == 1


def test_the_inbox_leads_the_keeper_to_his_sites_and_the_campaign_page_to_the_sheet(site, crossing):
    east = signed_in(site, "east@example.org")
    assert f'href="/sites/{crossing}"' in east.page("/")
    assert "我的重点部位 3号道口" in text(east.page("/"), "my-sites")
    assert "/site-codes" not in east.page(f"/campaigns/{site.campaign_id}")
    office = signed_in(site, "office@example.org")
    assert f"/campaigns/{site.campaign_id}/site-codes" in office.page(
        f"/campaigns/{site.campaign_id}"
    )


def test_a_code_scanned_signed_out_opens_the_site_once_signed_in(site, crossing):
    patrol = Visitor(site.test_client())
    answer = patrol.get(f"/sites/{crossing}")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    signed = patrol.sign_in("east@example.org", next_path=f"/sites/{crossing}")
    assert (signed.status_code, signed.headers["Location"]) == (302, f"/sites/{crossing}")
    assert "3号道口" in text(patrol.page(f"/sites/{crossing}"))
