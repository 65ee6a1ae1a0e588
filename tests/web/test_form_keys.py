"""The same form posted twice creates one thing (a double click, a reload of the page a POST answered): the
incident form and the hazard form carry a one-time key made when they are rendered, and a report-fixed form one
per rectification. Through Flask's test client, on SQLite and PostgreSQL (two posts at once are settled by the
database)."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.support.web import PASSWORD, Visitor, give_everyone_a_password, text
from webapp.pages import hazards as hazard_pages
from webapp.pages import incidents as incident_pages
from workflow.models import AuditEvent, Incident, OutboxMail, Rectification

AGAIN = "已提交过，未重复登记"


@dataclass(frozen=True)
class CreateForm:
    """A page form that creates something: where it is shown and posted, what is typed, what it creates (a row
    of ``table``, and ``mails`` queued mails whose subject holds ``subject``)."""

    page: str
    fields: dict[str, str]
    table: type
    mails: int
    subject: str
    done: str  # the message after the first post
    use_case: tuple[object, str]  # the page module and the name of the engine call it makes

    def path(self, campaign: int) -> str:
        return self.page.format(campaign=campaign)


INCIDENT = CreateForm(
    page="/campaigns/{campaign}/incidents",
    fields={
        "kind": "train-accident",
        "unit": "east",
        "occurred_on": "2026-05-04",
        "description": "列车撞击道口护栏",
    },
    table=Incident,
    mails=3,  # the leader and both liaisons, at once
    subject="立即报告",
    done="已登记 2026-05-04 的事件",
    use_case=(incident_pages, "record_incident"),
)
HAZARD = CreateForm(
    page="/campaigns/{campaign}/hazards",
    fields={
        "description": "道口护栏损坏",
        "severity": "major",
        "unit": "east",
        "working_days": "3",
    },
    table=Rectification,
    mails=1,  # east's head, who is to rectify it
    subject="道口护栏损坏",
    done="隐患已登记",
    use_case=(hazard_pages, "register_hazard"),
)
FORMS = pytest.mark.parametrize("form", [INCIDENT, HAZARD], ids=["incident", "hazard"])


@pytest.fixture
def scenario(scenario):
    """The assessed railway campaign in its first phase, on 2026-05-04; everyone can sign in."""
    with scenario.sessions.begin() as session:
        give_everyone_a_password(session)
    return scenario.at(2026, 5, 4, 10)


@pytest.fixture
def visitor(report_site):
    def signed_in(email: str) -> Visitor:
        person = Visitor(report_site.test_client())
        assert person.sign_in(email, PASSWORD).status_code == 302
        return person

    return signed_in


def form_key(page: str) -> str:
    """The one-time key of the page's first form that has one: the form that creates (the incident
    log then has a form under each incident still to be reported to outside bodies)."""
    keys = re.findall(r'name="form_key"[^>]*value="([^"]+)"', page)
    assert keys and len(set(keys)) == len(keys), keys  # each form its own key
    return keys[0]


def created(sessions, form: CreateForm) -> tuple[int, int, int]:
    """Rows of the form's table, mails about it queued, audit events: what a post leaves behind."""
    with sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(form.table)),
            session.scalar(
                select(func.count())
                .select_from(OutboxMail)
                .where(OutboxMail.subject.contains(form.subject))
            ),
            session.scalar(select(func.count()).select_from(AuditEvent)),
        )


def newest(sessions, form: CreateForm) -> int:
    with sessions() as session:
        return session.scalar(select(func.max(form.table.id)))


@FORMS
def test_a_form_posted_twice_creates_one_thing_and_a_fresh_form_another(scenario, visitor, form):
    office = visitor("office@example.org")
    path = form.path(scenario.campaign)
    before = created(scenario.sessions, form)
    typed = {**form.fields, "form_key": form_key(office.page(path))}

    first = office.post(path, typed)
    assert first.status_code == 302
    assert form.done in text(office.page(first.location))
    thing = newest(scenario.sessions, form)
    after_first = created(scenario.sessions, form)
    assert after_first[:2] == (before[0] + 1, before[1] + form.mails)

    # the reload of the page the post answered, or the second click: sent on to what the first created
    again = office.post(path, typed)
    assert again.status_code == 302
    if form is INCIDENT:
        assert again.location.endswith(f"{path}#incident-{thing}")
    else:
        assert again.location.endswith(f"/rectifications/{thing}")
    shown = office.page(again.location)
    assert AGAIN in text(shown)
    assert created(scenario.sessions, form) == after_first, "nothing recorded, nobody mailed again"
    if form is INCIDENT:
        assert text(shown, "incidents").count("列车撞击道口护栏") == 1

    # a fresh form is a new key: the same words typed again are a second one
    fresh = {**form.fields, "form_key": form_key(office.page(path))}
    assert fresh["form_key"] != typed["form_key"]
    third = office.post(path, fresh)
    assert third.status_code == 302
    assert form.done in text(office.page(third.location))
    assert created(scenario.sessions, form)[:2] == (before[0] + 2, before[1] + 2 * form.mails)


@FORMS
def test_two_posts_of_one_key_at_once_create_one_thing(scenario, visitor, form, monkeypatch):
    path = form.path(scenario.campaign)
    clicks = [visitor("office@example.org") for _ in range(2)]
    typed = {**form.fields, "form_key": form_key(clicks[0].page(path))}
    tokens = [click.csrf_token("/") for click in clicks]
    before = created(scenario.sessions, form)

    # the first to get in holds its transaction open a while: the other's post comes while it is uncommitted
    module, name = form.use_case
    engine_call = getattr(module, name)

    def slow(*args, **kwargs):
        made = engine_call(*args, **kwargs)
        time.sleep(0.5)
        return made

    monkeypatch.setattr(module, name, slow)
    start = threading.Barrier(2)
    answers: list = [None, None]
    spans: list = [None, None]

    def click(n: int) -> None:
        start.wait()
        began = time.monotonic()
        answers[n] = clicks[n].client.post(path, data={"csrf_token": tokens[n], **typed})
        spans[n] = (began, time.monotonic())

    threads = [threading.Thread(target=click, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert max(span[0] for span in spans) < min(span[1] for span in spans), "the posts overlapped"
    assert [answer.status_code for answer in answers] == [302, 302]
    assert created(scenario.sessions, form)[:2] == (before[0] + 1, before[1] + form.mails)
    told = sorted(
        "again" if AGAIN in shown else "done" if form.done in shown else shown
        for shown in (text(c.page(a.location)) for c, a in zip(clicks, answers))
    )
    assert told == ["again", "done"]


def test_another_person_s_key_is_a_new_key_for_them(scenario, visitor):
    office, leader = visitor("office@example.org"), visitor("leader@example.org")
    path = INCIDENT.path(scenario.campaign)
    typed = {**INCIDENT.fields, "form_key": form_key(office.page(path))}
    before = created(scenario.sessions, INCIDENT)

    assert office.post(path, typed).status_code == 302
    answer = leader.post(path, typed)

    assert INCIDENT.done in text(leader.page(answer.location))
    assert created(scenario.sessions, INCIDENT)[0] == before[0] + 2


def test_each_rectification_in_the_inbox_has_its_own_key(scenario, visitor):
    """Two hazards of east's head reported fixed from one inbox page: both are; a repost of one is not again."""
    hazards = [
        scenario.hazard("east", date(2026, 5, 15), description=f"隐患{n}", by="office@example.org")
        for n in range(2)
    ]
    east = visitor("east@example.org")
    inbox = east.page("/")
    keys = {
        hazard: re.search(
            rf'action="/rectifications/{hazard}/submit".*?name="form_key" value="([^"]+)"',
            inbox,
            re.S,
        ).group(1)
        for hazard in hazards
    }
    assert len(set(keys.values())) == 2

    for hazard in hazards:
        typed = {"note": "已加装护栏", "next": "/", "form_key": keys[hazard]}
        answer = east.post(f"/rectifications/{hazard}/submit", typed)
        assert answer.status_code == 302
        assert "已报告整改完成" in text(east.page(answer.location))
    again = east.post(
        f"/rectifications/{hazards[0]}/submit",
        {"note": "已加装护栏", "next": "/", "form_key": keys[hazards[0]]},
    )
    assert again.location.endswith(f"/rectifications/{hazards[0]}")
    assert AGAIN in text(east.page(again.location)), "not 'not possible now'"
    with scenario.sessions() as session:
        states = session.scalars(select(Rectification.state).where(Rectification.id.in_(hazards)))
        assert sorted(states) == ["submitted", "submitted"]
