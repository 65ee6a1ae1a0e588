"""Text in any script, through the API and the pages: kept intact, shown back intact, limits refused cleanly.

Chinese (with characters outside the Basic Multilingual Plane), emoji with
joiners, right-to-left text and the marks that steer it, combining accents,
very long strings and NUL characters, in definition titles, hazard
descriptions, task notes and evidence file names. Stored and shown back as
typed; NUL is dropped, as the engine drops it from every free text (YAML cannot
carry it at all: a definition with one is refused with its line); text longer
than a field's limit is refused in the API's error shape or beside the form;
never a 5xx. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
import unicodedata

import pytest
from sqlalchemy import func, select
from werkzeug.http import parse_options_header

from tests.support.texts import RAILWAY_WITH_ESCALATION
from tests.support.web import PASSWORD, PNG, Visitor, started_site, text
from webapp import wiring_of
from workflow.definitions.reader import DefinitionError, parse_definition
from workflow.hazards.evidence import clean_file_name
from workflow.limits import NOTE_LIMIT, TEXT_LIMIT
from workflow.models import AuditEvent, EvidenceFile, OutboxMail, Rectification, Task
from workflow.organisation.directory import person_by_email
from workflow.organisation.tokens import issue_token

# every kind of text people and intruders type: CJK beyond the BMP, emoji joined by ZWJ, Hebrew and Arabic,
# the bidi marks and overrides, a combining accent (NFD), a zero-width space, a full-width form
CJK = "道口护栏损坏，𠀀𪚥需立即整改"
EMOJI = "🚧⚠️👷‍♀️🇨🇳"
RIGHT_TO_LEFT = (
    "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \u200f\u202eevil\u202c\u200e"
)
ODDITIES = "Cafe\u0301 a\u200bb ＡＢＣ ﹤tag﹥"
MIXED = f"{CJK} {EMOJI} {RIGHT_TO_LEFT} {ODDITIES}"

TASK_TITLE = f"制定计划 {EMOJI} {RIGHT_TO_LEFT}"
CAMPAIGN_TITLE = "平安铁路🚄创建活动 \u05e9\u05dc\u05d5\u05dd"
# YAML double quotes take \u escapes: the file itself stays plain
UNICODE_DEFINITION = (
    RAILWAY_WITH_ESCALATION.replace("id: safe-railway-api", "id: safe-railway-unicode")
    .replace("title: 平安铁路创建活动", f"title: {json.dumps(CAMPAIGN_TITLE)}", 1)
    .replace("title: 制定创建活动计划,", f"title: {json.dumps(TASK_TITLE)},", 1)
)


@pytest.fixture
def site(db_url, sessions, clock, tmp_path):
    """The app over a campaign whose definition titles are in several scripts."""
    definition = parse_definition(UNICODE_DEFINITION, "unicode.yaml")
    assert (definition.title, definition.phases[0].tasks[0].title) == (CAMPAIGN_TITLE, TASK_TITLE)
    app = started_site(db_url, sessions, clock, tmp_path, UNICODE_DEFINITION)
    yield app
    wiring_of(app).engine.dispose()


@pytest.fixture
def api(site, sessions, clock):
    """A caller of the API with a real token of the given person."""

    def caller(email: str) -> ApiCaller:
        with sessions.begin() as session:
            return ApiCaller(site.test_client(), issue_token(session, email, clock.now()))

    return caller


class ApiCaller:
    def __init__(self, client, token: str) -> None:
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def get(self, path: str):
        answer = self.client.get(f"/api/v1{path}", headers=self.headers)
        assert answer.status_code < 500, answer.get_data(as_text=True)
        return answer

    def post(self, path: str, body: dict):
        answer = self.client.post(f"/api/v1{path}", json=body, headers=self.headers)
        assert answer.status_code < 500, answer.get_data(as_text=True)
        return answer


def plan_of(site, email: str) -> int:
    with wiring_of(site).transaction(readonly=True) as session:
        person = person_by_email(session, email).id
        return session.scalar(
            select(Task.id).where(Task.assignee_id == person, Task.spec_key == "plan")
        )


def register(api, app, **changes) -> dict:
    body = {
        "site": "crossing-3",
        "description": MIXED,
        "responsible": "east@example.org",
        "deadline_working_days": 3,
        **changes,
    }
    answer = api("office@example.org").post(f"/campaigns/{app.campaign_id}/hazards", body)
    assert answer.status_code == 201, answer.json
    return answer.json


def assert_refused(answer, status: int = 422, code: str = "invalid", fragment: str = "") -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.is_json and answer.json["error"] == code and fragment in answer.json["message"]


def rows(site, *models) -> tuple[int, ...]:
    with wiring_of(site).transaction(readonly=True) as session:
        return tuple(session.scalar(select(func.count()).select_from(model)) for model in models)


# --- kept intact --------------------------------------------------------------------------------


def test_definition_titles_in_any_script_are_shown_intact_by_the_api_and_the_pages(
    site, api, visitor
):
    items = api("east@example.org").get("/inbox").json["items"]
    plan = next(item for item in items if item["id"] == plan_of(site, "east@example.org"))
    assert (plan["title"], plan["campaign"]["title"]) == (TASK_TITLE, CAMPAIGN_TITLE)

    east = visitor("east@example.org")
    assert TASK_TITLE in text(east.page("/")) and CAMPAIGN_TITLE in text(east.page("/"))
    assert TASK_TITLE in text(east.page(f"/tasks/{plan['id']}"))
    assert CAMPAIGN_TITLE in text(
        visitor("office@example.org").page(f"/campaigns/{site.campaign_id}")
    )


def test_a_hazard_described_in_any_script_is_stored_and_shown_back_intact(site, api, visitor):
    rectification = register(
        api,
        site,
        description=MIXED + "\n第二行",
        location=f"{CJK} {RIGHT_TO_LEFT}",
        temporary_measures=f"设置警示牌 {EMOJI}",
    )
    assert rectification["description"] == MIXED + "\n第二行"
    again = api("east@example.org").get(f"/rectifications/{rectification['id']}").json
    assert (again["description"], again["location"], again["temporary_measures"]) == (
        MIXED + "\n第二行",
        f"{CJK} {RIGHT_TO_LEFT}",
        f"设置警示牌 {EMOJI}",
    )
    # not normalised either: the accent stays a combining character, as typed
    assert "Cafe\u0301" in again["description"] and unicodedata.normalize("NFC", MIXED) != MIXED

    office = visitor("office@example.org")
    for page in (
        f"/rectifications/{rectification['id']}",
        f"/campaigns/{site.campaign_id}/hazards",
    ):
        assert MIXED in text(office.page(page)), page
    assert MIXED in text(visitor("east@example.org").page("/"))
    with wiring_of(site).transaction(readonly=True) as session:
        mail = session.scalar(select(OutboxMail).where(OutboxMail.recipient == "east@example.org"))
        assert MIXED in mail.body


def test_a_note_in_any_script_is_kept_through_the_api_and_through_the_form(
    site, api, visitor, sessions
):
    east_plan = plan_of(site, "east@example.org")
    done = api("east@example.org").post(f"/tasks/{east_plan}/complete", {"note": MIXED})
    assert done.status_code == 200 and done.json["note"] == MIXED
    assert MIXED in text(visitor("office@example.org").page(f"/tasks/{east_plan}"))

    west_plan = plan_of(site, "west@example.org")
    west = visitor("west@example.org")
    answer = west.post(f"/tasks/{west_plan}/complete", {"note": f"{EMOJI} {RIGHT_TO_LEFT}"})
    assert answer.status_code == 302
    with sessions() as session:
        assert session.get(Task, west_plan).note == f"{EMOJI} {RIGHT_TO_LEFT}"
        assert (
            session.scalar(
                select(AuditEvent.note).where(
                    AuditEvent.entity_id == west_plan, AuditEvent.event == "complete"
                )
            )
            == f"{EMOJI} {RIGHT_TO_LEFT}"
        )
    assert f"{EMOJI} {RIGHT_TO_LEFT}" in text(west.page("/done"))


def test_the_longest_text_allowed_is_kept_whole(site, api):
    longest = ("长" * (TEXT_LIMIT - 2)) + "🚧"  # an astral character counts as one
    assert register(api, site, description=longest)["description"] == longest


# --- NUL ----------------------------------------------------------------------------------------


def test_nul_is_dropped_from_text_as_the_engine_drops_it(site, api, visitor, sessions):
    rectification = register(
        api,
        site,
        description="道口\x00护栏\x00损坏",
        temporary_measures="\x00警示牌",
        location="东\x00侧",
    )
    assert (
        rectification["description"],
        rectification["temporary_measures"],
        rectification["location"],
    ) == ("道口护栏损坏", "警示牌", "东侧")

    plan = plan_of(site, "east@example.org")
    assert (
        api("east@example.org").post(f"/tasks/{plan}/complete", {"note": "已\x00完成"}).json["note"]
        == "已完成"
    )

    west_plan = plan_of(site, "west@example.org")
    assert (
        visitor("west@example.org")
        .post(f"/tasks/{west_plan}/complete", {"note": "已\x00完成"})
        .status_code
        == 302
    )
    with sessions() as session:
        assert session.get(Task, west_plan).note == "已完成"


def test_nul_in_a_code_or_an_e_mail_is_dropped_too_never_a_database_error(site, api):
    # PostgreSQL cannot hold NUL at all: passed on as it came, the lookup itself failed with a 500
    rectification = register(api, site, site="crossing-3\x00", responsible="east@example.org\x00")
    assert (rectification["site"]["code"], rectification["responsible"]["email"]) == (
        "crossing-3",
        "east@example.org",
    )
    assert_refused(
        api("office@example.org").post(
            f"/campaigns/{site.campaign_id}/hazards",
            {"description": "x", "unit": "\x00", "responsible": "\x00"},
        ),
        fragment="responsible",
    )


def test_nul_in_a_select_of_a_page_form_is_refused_never_a_database_error(site, visitor):
    office = visitor("office@example.org")
    before = rows(site, Rectification, OutboxMail)
    answer = office.post(
        f"/campaigns/{site.campaign_id}/hazards",
        {
            "description": "护栏损坏",
            "severity": "minor",
            "site": "crossing-3\x00",
            "responsible": "east@example.org\x00",
            "working_days": "3",
        },
    )
    assert answer.status_code in (302, 422), answer.status_code
    assert rows(site, Rectification, OutboxMail) == before
    filtered = office.get(
        f"/campaigns/{site.campaign_id}/hazards?unit=east%00&site=%00&state=open%00"
    )
    assert filtered.status_code in (200, 422), filtered.status_code


def test_a_nul_in_the_sign_in_form_signs_nobody_in_and_is_no_server_error(site):
    person = Visitor(site.test_client())
    for email, password in (
        ("east@example.org\x00", PASSWORD),
        ("\x00", "\x00"),
        ("east@example.org", "\x00"),
    ):
        answer = person.sign_in(email, password=password)
        assert answer.status_code in (401, 422), (email, answer.status_code)
        assert person.get("/").status_code == 302, "still signed out"
    assert person.sign_in("east@example.org", password=PASSWORD).status_code == 302


def test_a_definition_with_a_nul_in_a_title_is_refused_with_its_line():
    with pytest.raises(DefinitionError) as refused:
        parse_definition(
            UNICODE_DEFINITION.replace("title: 宣传发动阶段", "title: 宣传\x00发动阶段"), "nul.yaml"
        )
    line = next(
        n for n, row in enumerate(UNICODE_DEFINITION.splitlines(), 1) if "宣传发动阶段" in row
    )
    assert str(refused.value) == f"nul.yaml:{line}: the character U+0000 is not allowed in YAML"


# --- too long -----------------------------------------------------------------------------------


def test_text_longer_than_its_limit_is_refused_in_the_error_shape_and_nothing_is_written(site, api):
    office, east = api("office@example.org"), api("east@example.org")
    before = rows(site, Rectification, OutboxMail, AuditEvent)
    hazards = f"/campaigns/{site.campaign_id}/hazards"
    body = {"site": "crossing-3", "responsible": "east@example.org", "deadline_working_days": 3}
    assert_refused(
        office.post(hazards, {**body, "description": "长" * (TEXT_LIMIT + 1)}), fragment="too long"
    )
    assert_refused(
        office.post(
            hazards, {**body, "description": "x", "temporary_measures": "🚧" * (TEXT_LIMIT + 1)}
        ),
        fragment="too long",
    )
    # the location has a column of 300 characters: on PostgreSQL a longer one was a 500, on SQLite it was kept
    assert_refused(
        office.post(hazards, {**body, "description": "x", "location": "东" * 301}),
        fragment="location",
    )
    plan = plan_of(site, "east@example.org")
    assert_refused(
        east.post(f"/tasks/{plan}/complete", {"note": "注" * (NOTE_LIMIT + 1)}), fragment="too long"
    )
    assert rows(site, Rectification, OutboxMail, AuditEvent) == before
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.get(Task, plan).state == "open"


def test_a_form_with_text_longer_than_its_limit_says_so_and_changes_nothing(site, visitor):
    office = visitor("office@example.org")
    before = rows(site, Rectification, OutboxMail)
    answer = office.post(
        f"/campaigns/{site.campaign_id}/hazards",
        {
            "description": "长" * 5001,
            "severity": "minor",
            "site": "crossing-3",
            "responsible": "east@example.org",
            "working_days": "3",
        },
    )
    assert answer.status_code == 302
    assert rows(site, Rectification, OutboxMail) == before
    shown = text(office.page(f"/campaigns/{site.campaign_id}/hazards"))
    assert "5000" in shown, "the message beside the form names the limit"


# --- evidence file names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent, kept",
    [
        ("隐患照片🚧 שלום.png", "隐患照片🚧 שלום.png"),
        # one way to write each name (NFC): the same photo does not look like two
        (
            "Cafe\u0301.png",
            "Café.png",
        ),
        ("../../etc/passwd\x00.png", "passwd.png"),
        # a terminal's colour codes, a tab, a pipe
        (
            "tab\there\x1b[31m|red.png",
            "tabhere[31mred.png",
        ),
        ("长" * 300 + ".png", "长" * 110 + ".png"),
    ],
)
def test_an_evidence_file_name_in_any_script_is_kept_clean_and_offered_back_for_download(
    site, visitor, sent, kept
):
    assert clean_file_name(sent) == kept
    east = visitor("east@example.org")
    plan = plan_of(site, "east@example.org")
    answer = east.post(
        f"/tasks/{plan}/complete",
        {"note": "见附件", "evidence": (io.BytesIO(PNG), sent)},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302
    with wiring_of(site).transaction(readonly=True) as session:
        evidence = session.scalar(select(EvidenceFile).where(EvidenceFile.item_id == plan))
    assert evidence.file_name == kept
    assert kept in text(east.page(f"/tasks/{plan}"))

    download = east.get(f"/evidence/{evidence.id}")
    # stored re-encoded (workflow/field/photos.py): a JPEG, under the name it was sent with
    assert download.status_code == 200 and download.data.startswith(b"\xff\xd8\xff")
    disposition = download.headers["Content-Disposition"]
    assert "\n" not in disposition and "\r" not in disposition
    # filename*=UTF-8''… decoded, as a browser does
    _kind, options = parse_options_header(disposition)
    assert options["filename"] == kept


def test_bidi_controls_are_removed_from_an_evidence_file_name_so_it_cannot_pose_as_another_type():
    # shown right to left after U+202E, "invoice\u202egnp.pdf" reads "invoicefdp.png"
    assert clean_file_name("invoice\u202egnp.pdf") == "invoicegnp.pdf"
