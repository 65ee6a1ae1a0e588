"""Photos as evidence, in the engine: what is refused (and why, in words that name the file), and
what is kept of a photo that is accepted (re-encoded JPEG, at most 1,600 px, a thumbnail, the
capture time, the location only where the campaign allows it)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlalchemy import select

from tests.support.actions import BASE_URL, OPERATOR, start
from tests.support.photos import (
    EXIF_IFD,
    GPS,
    GPS_IFD,
    huge_file,
    jpeg,
    pdf,
    png_bomb,
    truncated_jpeg,
)
from tests.support.texts import RAILWAY_WITH_ESCALATION, TOWN_WITH_CROSSING
from workflow.definitions.reader import PhotoRules, parse_definition
from workflow.errors import InvalidInput
from workflow.field.photos import process_photo
from workflow.hazards.evidence import (
    Upload,
    accept_uploads,
    attach_evidence,
    attach_hazard_photos,
    photo_rules,
    photos_by_stage,
)
from workflow.hazards.rectifications import HazardReport, register_hazard
from workflow.limits import MAX_FILE_BYTES, PHOTO_LONG_SIDE, THUMBNAIL_LONG_SIDE
from workflow.models import EvidenceFile
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation

ZONE = "Asia/Shanghai"


def upload(name: str, data: bytes, *, photo_only: bool = True) -> Upload:
    size = len(data)
    return Upload(name, data[:16], size, data if size <= MAX_FILE_BYTES else None, photo_only)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- refused -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "现场.jpg",
            pdf(),
            "现场.jpg is not a photo: only JPEG, PNG, GIF and WebP images are accepted",
        ),
        ("半张.jpg", truncated_jpeg(), "半张.jpg is damaged or incomplete: take or send it again"),
        ("bomb.png", png_bomb(), "bomb.png has too many pixels: at most 50 megapixels"),
        (
            "big-bomb.png",
            png_bomb(8000),
            "big-bomb.png has too many pixels (8000 × 8000): at most 50 megapixels",
        ),
        ("大.jpg", huge_file(30), "大.jpg is too large (30720 KB; at most 12 MB)"),
    ],
    ids=["pdf-named-jpg", "truncated", "bomb-20000", "bomb-8000", "30-mb"],
)
def test_a_file_that_is_no_whole_photo_is_refused_with_a_message_naming_it(name, data, message):
    with pytest.raises(InvalidInput) as refused:
        accept_uploads([upload("first.jpg", jpeg(800, 600)), upload(name, data)])
    assert refused.value.message == message


def test_a_pdf_is_still_accepted_as_a_document_where_documents_are_but_never_as_a_photo():
    (document,) = accept_uploads([upload("验收单.pdf", pdf(), photo_only=False)])
    assert (document.content_type, document.data, document.thumb_name) == (
        "application/pdf",
        None,  # kept as sent
        None,
    )
    with pytest.raises(InvalidInput, match="验收单.pdf is not a photo"):
        accept_uploads([upload("验收单.pdf", pdf())])


# --- kept ----------------------------------------------------------------------------------------


def test_a_photo_is_re_encoded_as_a_jpeg_at_most_1600_px_with_a_thumbnail_of_at_most_320():
    photo = process_photo(jpeg(4000, 3000), keep_location=False, zone=ZONE)

    stored, thumb = opened(photo.data), opened(photo.thumbnail)
    assert stored.format == thumb.format == "JPEG"
    assert stored.size == (photo.width, photo.height) == (PHOTO_LONG_SIDE, 1200)
    assert max(thumb.size) == THUMBNAIL_LONG_SIDE


def test_a_png_becomes_a_jpeg_and_a_small_photo_is_not_enlarged():
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 128, 0, 0)).save(out, "PNG")
    photo = process_photo(out.getvalue(), keep_location=False, zone=ZONE)
    assert opened(photo.data).format == "JPEG" and (photo.width, photo.height) == (300, 200)
    assert opened(photo.data).getpixel((10, 10)) == pytest.approx((255, 255, 255), abs=3), (
        "what was transparent is white, as a browser shows it"
    )


def test_a_portrait_photo_is_turned_upright_by_its_orientation_tag():
    photo = process_photo(jpeg(2000, 1500, orientation=6), keep_location=False, zone=ZONE)
    assert (photo.width, photo.height) == (1200, 1600)
    assert opened(photo.data).getexif().get(0x0112) is None, "no second turn by a viewer"


def test_location_is_stripped_unless_the_campaign_keeps_it_and_the_capture_time_is_kept():
    taken = jpeg(taken="2026:05:12 09:30:00", gps=True)

    stripped = opened(process_photo(taken, keep_location=False, zone=ZONE).data).getexif()
    kept = opened(process_photo(taken, keep_location=True, zone=ZONE).data).getexif()

    assert stripped.get_ifd(GPS_IFD) == {} and GPS_IFD not in stripped
    assert kept.get_ifd(GPS_IFD) == GPS
    for exif in (stripped, kept):
        assert exif.get_ifd(EXIF_IFD) == {0x9003: "2026:05:12 09:30:00"}


def test_the_capture_time_is_read_in_the_campaign_s_zone_unless_the_camera_gave_its_offset():
    local = process_photo(jpeg(taken="2026:05:12 09:30:00"), keep_location=False, zone=ZONE)
    tokyo = process_photo(
        jpeg(taken="2026:05:12 09:30:00", offset="+09:00"), keep_location=False, zone=ZONE
    )
    unknown = process_photo(jpeg(taken=None), keep_location=False, zone=ZONE)
    nonsense = process_photo(jpeg(taken="0000:00:00 00:00:00"), keep_location=False, zone=ZONE)

    assert local.captured_at == datetime(2026, 5, 12, 1, 30, tzinfo=UTC)
    assert tokyo.captured_at == datetime(2026, 5, 12, 0, 30, tzinfo=UTC)
    assert unknown.captured_at is None and nonsense.captured_at is None


# --- the campaign's rule, and the rows ------------------------------------------------------------


def test_the_campaign_s_definition_decides_whether_location_is_kept(sessions, clock, calendar):
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_CROSSING, "org.yaml"))
    plain = start(sessions, parse_definition(RAILWAY_WITH_ESCALATION, "def.yaml"), clock, calendar)
    keeping_text = RAILWAY_WITH_ESCALATION.replace("version: 1", "version: 2", 1)
    keeping_text += "\nphotos: {keep_location: true}\n"
    keeping = start(
        sessions, parse_definition(keeping_text, "def.yaml"), clock, calendar, unit="town"
    )
    with sessions.begin() as session:
        assert photo_rules(session, plain) == (PhotoRules(keep_location=False), ZONE)
        assert photo_rules(session, keeping) == (PhotoRules(keep_location=True), ZONE)

        rules, zone = photo_rules(session, keeping)
        accepted = accept_uploads([upload("现场.jpg", jpeg(gps=True))], rules=rules, zone=zone)
        rectification = register_hazard(
            session,
            keeping,
            HazardReport(description="护栏损坏", site="crossing-3", deadline_working_days=3),
            by=OPERATOR,
            clock=clock,
            calendar=calendar,
            base_url=BASE_URL,
        )
        (row,) = attach_hazard_photos(
            session, rectification, accepted, by=OPERATOR, now=clock.now()
        )
        after = accept_uploads([upload("修好.jpg", jpeg(1000, 800, taken=None))])
        attach_evidence(
            session,
            "rectification",
            rectification.id,
            after,
            by=OPERATOR,
            now=clock.now(),
            stage="after",
        )
        rectification_id = rectification.id
        stored = accepted[0].data
    assert opened(stored).getexif().get_ifd(GPS_IFD) == GPS

    with sessions.begin() as session:
        stages = photos_by_stage(session, [rectification_id])[rectification_id]
        assert [(p.file_name, p.stage, p.width, p.height) for p in stages["before"]] == [
            ("现场.jpg", "before", 1600, 1200)
        ]
        assert [(p.file_name, p.captured_at) for p in stages["after"]] == [("修好.jpg", None)]
        assert stages["before"][0].captured_at == datetime(2026, 5, 12, 1, 30, tzinfo=UTC)
        assert session.scalar(select(EvidenceFile.thumb_name).where(EvidenceFile.id == row.id))
