"""What the phone needs to work with no signal, through Flask's test client: the manifest, the service
worker from the root, the outbox page, a fresh CSRF token, and the JSON answers a queued send
(``X-Pingan-Queue: 1``) gets from any page form: done, done before (its answer was lost and it was
sent again), refused for the state of things (409) or for what was entered (422)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.support.web import register
from webapp import wiring_of
from workflow.models import Rectification, Site, SiteVisit

QUEUED = {"X-Pingan-Queue": "1"}


def test_the_manifest_installs_the_app_under_its_chinese_name(visitor):
    anonymous = visitor()
    answer = anonymous.get("/manifest.webmanifest")
    assert answer.status_code == 200
    assert answer.mimetype == "application/manifest+json"
    manifest = answer.get_json(force=True)
    assert manifest["name"] == "平安创建" and manifest["lang"] == "zh-CN"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/",
        "/",
        "standalone",
    )
    assert manifest["theme_color"] and manifest["background_color"]
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        image = anonymous.get(icon["src"])
        assert (image.status_code, image.mimetype) == (200, "image/png"), icon["src"]
        width = int.from_bytes(image.data[16:20], "big")  # the PNG's IHDR
        assert f"{width}x{width}" == icon["sizes"]


def test_the_service_worker_is_served_from_the_root_and_always_checked_for_a_new_one(visitor):
    answer = visitor().get("/sw.js")
    assert answer.status_code == 200
    assert answer.mimetype == "text/javascript"
    assert answer.headers["Cache-Control"] == "no-cache"
    body = answer.get_data(as_text=True)
    assert 'request.method !== "GET"' in body, "posts are left to the network"


def test_every_page_links_the_manifest_and_the_outbox_script_and_carries_the_badge_texts(visitor):
    page = visitor("east@example.org").page("/")
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert re.search(r'<script src="/static/field\.js[^"]*" defer>', page)
    assert 'data-waiting="待上传 {n} 条"' in page
    assert re.search(r'id="outbox-badge"[^>]*hidden', page), "hidden until something waits"


def test_the_outbox_page_opens_for_anyone_and_names_nobody(visitor):
    page = visitor("east@example.org").page("/outbox")
    assert "待上传" in page and "data-outbox-list" in page
    assert "csrf_token" not in page, "the worker keeps it for whoever uses the phone"
    assert 'data-person=""' in page
    assert visitor().get("/outbox").status_code == 200


def test_a_fresh_token_for_the_signed_in_person_and_none_for_anybody_else(visitor):
    answer = visitor().get("/field/token")
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "unauthorized"

    east = visitor("east@example.org")
    answer = east.get("/field/token")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.get_json()["csrf_token"] and answer.get_json()["person"]


def test_a_queued_hazard_is_recorded_once_however_often_it_is_sent(site, visitor):
    office = visitor("office@example.org")
    path = f"/campaigns/{site.campaign_id}/hazards"
    token = office.get("/field/token").get_json()["csrf_token"]
    # a key the phone made (crypto.randomUUID), not the page's
    form = {
        "description": "道口护栏损坏（无信号时记录）",
        "severity": "major",
        "site": "crossing-3",
        "working_days": "3",
        "form_key": "3f2c1a9e-8d4b-4c55-9a61-2b7e0c9d1f00",
    }
    before = _rectifications(site)

    first = office.client.post(path, data=form, headers={"X-CSRFToken": token, **QUEUED})
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json()["ok"] is True and first.get_json()["url"] == path
    assert "隐患已登记" in first.get_json()["message"]

    # its answer was lost on the way: the phone sends it again
    again = office.client.post(path, data=form, headers={"X-CSRFToken": token, **QUEUED})
    assert again.status_code == 200
    assert again.get_json()["ok"] is True and again.get_json()["already"] is True
    assert _rectifications(site) == before + 1


def test_a_queued_check_in_with_its_phone_time_is_recorded_once(site, visitor):
    east = visitor("east@example.org")
    with wiring_of(site).transaction(readonly=True) as session:
        crossing = session.scalar(select(Site.id).where(Site.code == "crossing-3"))
    path = f"/sites/{crossing}/check-in"
    token = east.get("/field/token").get_json()["csrf_token"]
    form = {
        "note": "无信号时巡查：设施完好",
        "phone_time": "2026-05-12T00:40:00.000Z",
        "form_key": "0b9f6c1e-5d2a-4e7b-8c3d-9a1f2e3b4c5d",
    }
    for _ in range(2):  # the second: its answer was lost on the way
        answer = east.client.post(path, data=form, headers={"X-CSRFToken": token, **QUEUED})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.get_json()["ok"] is True
    assert answer.get_json()["already"] is True
    with wiring_of(site).transaction(readonly=True) as session:
        visits = session.scalars(select(SiteVisit).where(SiteVisit.note == form["note"])).all()
    assert len(visits) == 1


def test_a_queued_send_the_state_of_things_refuses_is_409_and_a_wrong_form_422(site, visitor):
    rectification = register(site)
    east, office = visitor("east@example.org"), visitor("office@example.org")
    path = f"/rectifications/{rectification}/submit"
    token = east.get("/field/token").get_json()["csrf_token"]
    headers = {"X-CSRFToken": token, **QUEUED}

    empty = east.client.post(path, data={"note": "", "form_key": "k-empty"}, headers=headers)
    assert empty.status_code == 422
    assert empty.get_json()["error"] == "refused" and empty.get_json()["message"]

    # reported fixed and verified while the phone had no signal
    assert east.post(path, {"note": "护栏已更换"}).status_code == 302
    verify = office.post(f"/rectifications/{rectification}/verify", {"note": "现场核验"})
    assert verify.status_code == 302
    late = east.client.post(
        path, data={"note": "护栏已更换", "form_key": "k-late"}, headers=headers
    )
    assert late.status_code == 409
    assert late.get_json()["error"] == "refused"
    assert late.get_json()["message"].startswith("暂时无法")


def test_a_form_that_is_not_queued_still_leads_back_to_its_page(site, visitor):
    office = visitor("office@example.org")
    path = f"/campaigns/{site.campaign_id}/hazards"
    answer = office.post(
        path, {"description": "道口标志缺失", "site": "crossing-3", "working_days": "3"}
    )
    assert answer.status_code == 302 and answer.location.endswith(path)


# --- helpers ------------------------------------------------------------------------------------


def _rectifications(site) -> int:  # type: ignore[no-untyped-def]
    with wiring_of(site).transaction(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(Rectification))
