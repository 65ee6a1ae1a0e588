"""Photos through the pages (Flask's test client): a hazard registered with photos from the camera,
reported fixed with an "after" photo, shown before | after where a coordinator verifies it and in
the ledger (the printed page, the XLSX); bad files refused with a message, nothing stored."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select

from tests.support.clock import shanghai
from tests.support.photos import huge_file, jpeg, pdf, png_bomb, truncated_jpeg
from tests.support.texts import INSPECTING
from tests.support.web import Visitor, register, started_site, text
from webapp import wiring_of
from workflow.limits import PHOTO_LONG_SIDE, THUMBNAIL_LONG_SIDE
from workflow.models import EvidenceFile, Rectification, Task


@pytest.fixture
def db_url(sqlite_url):
    """The pages are the same on either database (the engine's tests run on both): SQLite only."""
    return sqlite_url


HAZARD = {
    "description": "道口护栏损坏",
    "severity": "major",
    "site": "crossing-3",
    "responsible": "east@example.org",
    "working_days": "3",
}


def register_with_photos(site, office, photos, **fields):  # type: ignore[no-untyped-def]
    return office.post(
        f"/campaigns/{site.campaign_id}/hazards",
        {**HAZARD, **fields, "photos": [(io.BytesIO(data), name) for name, data in photos]},
        content_type="multipart/form-data",
    )


def stored_files(site) -> list[str]:  # type: ignore[no-untyped-def]
    folder = Path(site.config["EVIDENCE_FOLDER"])
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def evidence_rows(site) -> list[EvidenceFile]:  # type: ignore[no-untyped-def]
    with wiring_of(site).transaction(readonly=True) as session:
        return list(session.scalars(select(EvidenceFile).order_by(EvidenceFile.id)))


def test_before_and_after_photos_are_shown_side_by_side_where_the_coordinator_verifies(
    site, visitor
):
    office, east = visitor("office@example.org"), visitor("east@example.org")

    answer = register_with_photos(
        site, office, [("现场1.jpg", jpeg(4000, 3000)), ("现场2.jpg", jpeg(1200, 1600))]
    )

    assert answer.status_code == 302
    assert "隐患已登记" in text(office.page(answer.headers["Location"]))
    before = evidence_rows(site)
    assert [(row.file_name, row.stage) for row in before] == [
        ("现场1.jpg", "before"),
        ("现场2.jpg", "before"),
    ]
    assert max(before[0].width, before[0].height) == PHOTO_LONG_SIDE
    assert stored_files(site) == sorted(
        name for row in before for name in (row.stored_name, row.thumb_name)
    )
    rect = before[0].item_id

    east.post(
        f"/rectifications/{rect}/submit",
        {
            "note": "护栏已更换",
            "photos": [(io.BytesIO(jpeg(2000, 1500, taken="2026:05:13 15:05:00")), "修好.jpg")],
            "next": f"/rectifications/{rect}",
        },
        content_type="multipart/form-data",
    )

    after = evidence_rows(site)[2:]
    assert [(row.file_name, row.stage) for row in after] == [("修好.jpg", "after")]
    html = office.page(f"/rectifications/{rect}")
    seen = text(html)
    assert "整改前" in seen and "整改后" in seen
    assert "拍摄于 2026年5月12日 09:30" in seen and "拍摄于 2026年5月13日 15:05" in seen
    for row in before + after:
        assert f'href="/evidence/{row.id}"' in html and f'src="/evidence/{row.id}/thumb"' in html
    assert html.index("/evidence/%d/thumb" % before[1].id) < html.index(
        "/evidence/%d/thumb" % after[0].id
    ), "before, then after"
    register_page = office.page(f"/campaigns/{site.campaign_id}/hazards")
    assert f'src="/evidence/{after[0].id}/thumb"' in register_page, "on the submitted row too"

    thumb = office.get(f"/evidence/{after[0].id}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.data)).size) == THUMBNAIL_LONG_SIDE
    assert visitor("west@example.org").get(f"/evidence/{after[0].id}/thumb").status_code == 404

    office.post(f"/rectifications/{rect}/verify", {"note": "已验收", "next": "/"})
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.get(Rectification, rect).state == "closed"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("现场.jpg", pdf(), "现场.jpg 不是照片：只接受 JPEG、PNG、GIF 和 WebP 图片"),
        ("半张.jpg", truncated_jpeg(), "半张.jpg 已损坏或不完整：请重新拍摄或发送"),
        ("炸弹.png", png_bomb(), "炸弹.png 像素过多：最多 50 百万像素"),
        ("大.jpg", huge_file(30), "大.jpg 太大（30720 KB；最多 12 MB）"),
    ],
    ids=["pdf-named-jpg", "truncated", "png-bomb", "30-mb"],
)
def test_a_bad_file_is_refused_with_a_message_and_nothing_is_stored(
    site, visitor, name, data, message
):
    office, east = visitor("office@example.org"), visitor("east@example.org")
    good = ("好.jpg", jpeg(800, 600))

    answer = register_with_photos(site, office, [good, (name, data)])

    assert answer.status_code == 302
    assert message in text(office.page(answer.headers["Location"]))
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Rectification)) == 0
    assert evidence_rows(site) == [] and stored_files(site) == []

    rect = register(site)
    answer = east.post(
        f"/rectifications/{rect}/submit",
        {
            "note": "护栏已更换",
            "photos": [(io.BytesIO(good[1]), good[0]), (io.BytesIO(data), name)],
            "next": f"/rectifications/{rect}",
        },
        content_type="multipart/form-data",
    )
    assert message in text(east.page(answer.headers["Location"]))
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.get(Rectification, rect).state == "open", "not reported fixed"
    assert evidence_rows(site) == [] and stored_files(site) == []


def test_a_photo_is_stored_without_its_location_and_a_pdf_is_still_a_document(site, visitor):
    east = visitor("east@example.org")
    rect = register(site)
    # made once: Pillow dates each PDF it writes, so two calls a second apart differ
    document_bytes = pdf()

    east.post(
        f"/rectifications/{rect}/submit",
        {
            "note": "护栏已更换",
            "photos": [(io.BytesIO(jpeg(gps=True)), "带定位.jpg")],
            "evidence": [(io.BytesIO(document_bytes), "验收单.pdf")],
            "next": "/",
        },
        content_type="multipart/form-data",
    )

    photo, document = evidence_rows(site)
    exif = Image.open(io.BytesIO(east.get(f"/evidence/{photo.id}").data)).getexif()
    assert exif.get_ifd(0x8825) == {} and exif.get_ifd(0x8769)[0x9003] == "2026:05:12 09:30:00"
    assert (document.content_type, document.stage, document.thumb_name) == (
        "application/pdf",
        None,
        None,
    )
    assert east.get(f"/evidence/{document.id}").data == document_bytes


def test_the_ledger_prints_and_the_workbook_embeds_the_before_and_after_thumbnails(site, visitor):
    office, east = visitor("office@example.org"), visitor("east@example.org")
    register_with_photos(site, office, [("现场.jpg", jpeg())])
    (before,) = evidence_rows(site)
    east.post(
        f"/rectifications/{before.item_id}/submit",
        {"note": "护栏已更换", "photos": [(io.BytesIO(jpeg()), "修好.jpg")], "next": "/"},
        content_type="multipart/form-data",
    )
    after = evidence_rows(site)[1]
    leader = visitor("leader@example.org")

    report = leader.page(f"/campaigns/{site.campaign_id}/report")
    row = report[report.index(f'id="ledger-{before.item_id}"') :]
    row = row[: row.index("</tr>")]
    assert (
        f'src="/evidence/{before.id}/thumb"' in row and f'src="/evidence/{after.id}/thumb"' in row
    )

    workbook = leader.get(f"/campaigns/{site.campaign_id}/report.xlsx")
    sheet = load_workbook(io.BytesIO(workbook.data))["隐患台账 ledger"]
    headers = [cell.value for cell in sheet[1]]
    assert headers[-2:] == ["整改前照片 before", "整改后照片 after"]
    anchors = sorted((image.anchor._from.col, image.anchor._from.row) for image in sheet._images)
    assert anchors == [(len(headers) - 2, 1), (len(headers) - 1, 1)], "both in the hazard's row"


def test_an_inspector_registers_what_they_found_with_photos_from_the_inspection_page(
    db_url, sessions, clock, tmp_path
):
    inspecting = started_site(
        db_url, sessions, clock, tmp_path, INSPECTING, opens_at=shanghai(2026, 5, 6, 9)
    )
    try:
        with sessions() as session:
            inspection = session.scalar(select(Task.id).where(Task.spec_key == "site-check"))
        east = Visitor(inspecting.test_client())  # 李村长: 3号道口's keeper, no coordinator
        assert east.sign_in("east@example.org").status_code == 302
        form = east.page(f"/tasks/{inspection}")
        assert 'name="photos" multiple accept="image/*" capture="environment"' in form

        for photos, registered in (([("现场.jpg", pdf())], 0), ([("现场.jpg", jpeg())], 1)):
            east.post(
                f"/tasks/{inspection}/hazards",
                {
                    "description": "道口护栏松动",
                    "photos": [(io.BytesIO(data), name) for name, data in photos],
                    "next": f"/tasks/{inspection}",
                },
                content_type="multipart/form-data",
            )
            with sessions() as session:
                assert session.scalar(select(func.count()).select_from(Rectification)) == registered

        (photo,) = evidence_rows(inspecting)
        assert (photo.stage, photo.item_kind) == ("before", "rectification")
        assert len(stored_files(inspecting)) == 2
    finally:
        wiring_of(inspecting).engine.dispose()
