"""Dates as a person reads them: every shown date is the last day on which the thing is still on
time, and late starts the day after it. A phase's planned end is stored exclusive (the next phase's
start); the tobacco campaign's setup phase ("2006年1月完成", 31d from 2006-01-01) must read
2006-01-01 – 2006-01-31 wherever it is shown."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.actions import BASE_URL, OPERATOR, start
from tests.support.api import Caller
from tests.support.clock import shanghai
from tests.support.web import Visitor, give_everyone_a_password, text
from webapp import create_app, wiring_of
from workflow.campaigns.phase_windows import report_late_phases
from workflow.clock import FixedClock
from workflow.definitions.reader import parse_definition
from workflow.durations import last_day
from workflow.models import CampaignPhase, OutboxMail
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation
from workflow.organisation.tokens import issue_token
from workflow.views.progress import campaign_status
from workflow.views.report import build_report

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
DIRECTOR = "security@dingxi-tobacco.example.org"  # 领导小组办公室主任 (office_director)


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """Date arithmetic does not depend on the database."""
    return sqlite_url


@pytest.fixture
def tobacco(sessions, calendar) -> int:  # type: ignore[no-untyped-def]
    """The shipped 平安烟草 campaign for the Dingxi branch, started 2006-01-01 as its text has it."""
    org = (DEFINITIONS / "org" / "dingxi-branch.yaml").read_text(encoding="utf-8")
    definition = (DEFINITIONS / "safe-tobacco.yaml").read_text(encoding="utf-8")
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(org, "dingxi-branch.yaml"))
        give_everyone_a_password(session)
    return start(
        sessions,
        parse_definition(definition, "safe-tobacco.yaml"),
        FixedClock(shanghai(2006, 1, 1, 9)),
        calendar,
        starts=date(2006, 1, 1),
        unit="dingxi-tobacco",
    )


@pytest.fixture
def site(db_url, tobacco, tmp_path):  # type: ignore[no-untyped-def]
    """The app over the tobacco campaign on 20 January 2006, inside the setup phase."""
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "CLOCK": FixedClock(shanghai(2006, 1, 20, 9)),
            "SECRET_KEY": "test",
            "BASE_URL": BASE_URL,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "LOGIN_CLOCK": FixedClock(shanghai(2006, 1, 20, 9)),
        }
    )
    yield app
    wiring_of(app).engine.dispose()


def status_at(sessions, campaign_id: int, *moment: int):  # type: ignore[no-untyped-def]
    with sessions() as session:
        return campaign_status(session, campaign_id, clock=FixedClock(shanghai(*moment)))


# --- stored exclusive, shown inclusive ----------------------------------------------------------


def test_the_stored_end_stays_exclusive_and_one_rule_gives_the_last_day(sessions, tobacco):
    with sessions() as session:
        setup = session.scalar(
            select(CampaignPhase).where(
                CampaignPhase.campaign_id == tobacco, CampaignPhase.phase_key == "setup"
            )
        )
    assert (setup.planned_start, setup.planned_end) == (date(2006, 1, 1), date(2006, 2, 1))
    assert last_day(setup.planned_end) == date(2006, 1, 31)
    assert last_day(None) is None


def test_pingan_status_shows_the_setup_phase_ending_on_31_january(pingan, tobacco):
    shown = pingan("status", str(tobacco), now="2006-01-20T09:00")
    assert shown.exit_code == 0, shown.output
    setup = next(line for line in shown.output.splitlines() if line.startswith("  ▶ setup "))
    assert "2006-01-01 → 2006-01-31" in setup
    assert "LATE" not in setup

    answer = pingan("status", str(tobacco), "--json", now="2006-01-20T09:00")
    phase = json.loads(answer.output)["phases"][0]
    assert (phase["id"], phase["planned_start"], phase["planned_last_day"]) == (
        "setup",
        "2006-01-01",
        "2006-01-31",
    )
    assert "planned_end" not in phase  # the exclusive date is never shown


def test_the_campaign_page_and_the_report_page_read_1_to_31_january(site, tobacco):
    director = Visitor(site.test_client())
    assert director.sign_in(DIRECTOR).status_code == 302

    campaign = text(director.page(f"/campaigns/{tobacco}"))
    # the next phase starts the day after: 31d + 120d from 1 January
    assert "计划: 2006年1月1日 – 2006年1月31日" in campaign
    assert "计划: 2006年2月1日 – 2006年5月31日" in campaign

    report = text(director.page(f"/campaigns/{tobacco}/report"))
    assert "2006年1月1日 – 2006年1月31日" in report
    assert "2006年2月1日 – 2006年5月31日" in report


def test_the_report_csv_and_the_api_give_the_last_day(site, sessions, tobacco):
    director = Visitor(site.test_client())
    assert director.sign_in(DIRECTOR).status_code == 302
    answer = director.get(f"/campaigns/{tobacco}/report.csv?table=phases")
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    setup = rows[0]
    assert (setup["计划开始 planned start"], setup["计划结束 planned last day"]) == (
        "2006-01-01",
        "2006-01-31",
    )

    with sessions.begin() as session:
        token = issue_token(session, DIRECTOR, shanghai(2006, 1, 20, 9))
    api = Caller(site.test_client(), token)
    answer = api.get(f"/campaigns/{tobacco}")
    assert answer.status_code == 200, answer.json
    phase = answer.json["phases"][0]
    assert (phase["planned_start"], phase["planned_last_day"], phase["late"]) == (
        "2006-01-01",
        "2006-01-31",
        False,
    )
    report = api.get(f"/campaigns/{tobacco}/report").json["phases"][0]
    assert report["planned_last_day"] == "2006-01-31" and "planned_end" not in report


# --- late: from the day after the last day ------------------------------------------------------


def test_a_phase_is_late_from_the_day_after_its_last_day_not_on_it(sessions, tobacco):
    on_the_last_day = status_at(sessions, tobacco, 2006, 1, 31, 23, 30).phases[0]
    the_day_after = status_at(sessions, tobacco, 2006, 2, 1, 8).phases[0]
    assert (on_the_last_day.late, the_day_after.late) == (False, True)

    with sessions() as session:
        days_late = {
            moment: build_report(
                session, tobacco, by=OPERATOR, clock=FixedClock(shanghai(*moment))
            ).phases[0]["days_late"]
            for moment in ((2006, 1, 31, 23, 30), (2006, 2, 1, 8), (2006, 2, 3, 8))
        }
    assert list(days_late.values()) == [0, 1, 3]


def test_the_late_phase_mail_names_the_last_day_and_comes_the_day_after(sessions, tobacco):
    with sessions.begin() as session:
        assert report_late_phases(session, shanghai(2006, 1, 31, 23, 30), BASE_URL) == 0
    with sessions.begin() as session:
        assert report_late_phases(session, shanghai(2006, 2, 1, 8), BASE_URL) == 1
    with sessions() as session:
        mail = session.scalars(select(OutboxMail).where(OutboxMail.key.like("late-phase-%"))).one()
    assert mail.recipient == DIRECTOR
    assert "计划于 2006-01-31 结束，已超期 1 天" in mail.body
    assert "planned to end on 2006-01-31; it is 1 day(s) late" in mail.body
