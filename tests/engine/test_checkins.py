"""Check-ins at key sites (issue 21, item 2): one tap at the site records who and when (the phone's
time beside the server's when they differ), where only when given, and checks off the site's open
patrol of the person for the period; the site page and the report count the visits per period and
show the sites with none where one was due."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.actions import actor, start, sweep
from tests.support.clock import shanghai
from tests.support.databases import row_counts
from tests.support.texts import PATROLLED, TOWN_WITH_CROSSING
from workflow.clock import FixedClock
from workflow.definitions.reader import parse_definition
from workflow.errors import InvalidInput, NotFound
from workflow.field.checkins import Location, check_in
from workflow.field.sites import site_page, visitable_site
from workflow.field.visits import MISSED, VISITED, WAITING, occurrence_visits
from workflow.form_keys import AlreadySubmitted
from workflow.models import Site, SiteVisit, Task
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation
from workflow.views.report import build_report

MAY_10 = shanghai(2026, 5, 10, 15, 30)


@pytest.fixture
def patrolled(sessions, clock, calendar):
    """3号道口 with its May patrol open (李村长's), the campaign started on 1 May."""
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_CROSSING, "org.yaml"))
    campaign = start(sessions, parse_definition(PATROLLED, "def.yaml"), clock, calendar)
    with sessions() as session:
        site = session.scalar(select(Site).where(Site.code == "crossing-3"))
        return campaign, site.id


def tap(sessions, site_id, who="east@example.org", at=MAY_10, **fields):
    by = actor(sessions, who)
    with sessions.begin() as session:
        done = check_in(session, site_id, by=by, clock=FixedClock(at), **fields)
        return done.visit.id, [task.id for task in done.fulfilled]


def patrols(sessions):
    with sessions() as session:
        return [
            (task.period, task.state, task.findings, task.visit_id)
            for task in session.scalars(select(Task).order_by(Task.due_at))
        ]


def test_a_check_in_records_the_visit_and_completes_the_keepers_patrol_for_the_period(
    sessions, patrolled
):
    _, site_id = patrolled
    assert patrols(sessions) == [("2026-05", "open", None, None)]
    visit_id, fulfilled = tap(
        sessions,
        site_id,
        note="护栏完好",
        phone_at=MAY_10 - timedelta(minutes=40),
        location=Location(34.62, 105.72, 12.0),
    )
    assert len(fulfilled) == 1
    assert patrols(sessions) == [("2026-05", "done", "none", visit_id)], (
        "an inspection checked off by the check-in found no problems"
    )
    with sessions() as session:
        visit = session.get(SiteVisit, visit_id)
        assert visit.at == MAY_10
        assert visit.phone_at == MAY_10 - timedelta(minutes=40), "the phone's time kept beside"
        assert (visit.latitude, visit.longitude, visit.accuracy_m) == (34.62, 105.72, 12.0)
        assert visit.note == "护栏完好"
    # a second visit that month is kept, and fulfils nothing more
    second, fulfilled = tap(sessions, site_id, at=MAY_10 + timedelta(days=3))
    assert fulfilled == []
    east = actor(sessions, "east@example.org")
    with sessions() as session:
        page = site_page(session, site_id, by=east, now=MAY_10)
        assert [row.visit.id for row in page.visits] == [second, visit_id]
        assert [(o.period, o.visits, o.standing) for o in page.occurrences] == [
            ("2026-05", 2, VISITED)
        ]


def test_the_phone_time_is_kept_only_when_it_differs_and_location_is_never_required(
    sessions, patrolled
):
    _, site_id = patrolled
    visit_id, _ = tap(sessions, site_id, phone_at=MAY_10 + timedelta(seconds=30))
    with sessions() as session:
        visit = session.get(SiteVisit, visit_id)
        assert visit.phone_at is None and visit.latitude is None


def test_the_same_check_in_sent_twice_is_recorded_once(sessions, patrolled):
    _, site_id = patrolled
    tap(sessions, site_id, form_key="outbox-3f2a")
    before = row_counts(sessions)
    with pytest.raises(AlreadySubmitted):
        tap(sessions, site_id, form_key="outbox-3f2a")
    assert row_counts(sessions) == before


def test_bad_input_is_refused_and_nothing_is_recorded(sessions, patrolled):
    _, site_id = patrolled
    before = row_counts(sessions)
    with pytest.raises(InvalidInput, match="not on the earth"):
        tap(sessions, site_id, location=Location(134.0, 105.7))
    with pytest.raises(InvalidInput, match="too long"):
        tap(sessions, site_id, note="巡" * 5000)
    assert row_counts(sessions) == before


def test_only_the_sites_people_and_leading_group_open_the_site(sessions, patrolled):
    _, site_id = patrolled
    people = {
        who: actor(sessions, who)
        for who in ("east", "office", "leader", "west", "keeper")
        for who in [f"{who}@example.org"]
    }
    with sessions() as session:
        for who in ("east@example.org", "office@example.org", "leader@example.org"):
            assert visitable_site(session, site_id, people[who], MAY_10).id == site_id
        for who in ("west@example.org", "keeper@example.org"):
            with pytest.raises(NotFound):
                visitable_site(session, site_id, people[who], MAY_10)


def test_a_coordinators_visit_does_not_complete_the_keepers_patrol(sessions, patrolled):
    _, site_id = patrolled
    _, fulfilled = tap(sessions, site_id, who="office@example.org")
    assert fulfilled == []
    assert patrols(sessions) == [("2026-05", "open", None, None)]


def test_visits_per_period_show_the_months_with_no_visit(sessions, patrolled, smtp):
    campaign, site_id = patrolled
    tap(sessions, site_id, at=MAY_10)
    # June's patrol comes and goes with no visit; July's is running
    sweep(sessions, shanghai(2026, 6, 1, 8, 0))
    sweep(sessions, shanghai(2026, 7, 2, 8, 0))
    with sessions() as session:
        rows = occurrence_visits(session, now=shanghai(2026, 7, 2, 9, 0), campaign_ids=[campaign])
    assert [(o.period, o.visits, o.standing) for o in rows] == [
        ("2026-07", 0, WAITING),
        ("2026-06", 0, MISSED),
        ("2026-05", 1, VISITED),
    ]


def test_a_check_in_that_waited_on_the_phone_counts_for_when_it_happened(sessions, patrolled, smtp):
    campaign, site_id = patrolled
    sweep(sessions, shanghai(2026, 6, 1, 8, 0))
    # captured on 25 May with no signal, sent on 1 June after June's patrol began
    tap(sessions, site_id, at=shanghai(2026, 6, 1, 10, 0), phone_at=shanghai(2026, 5, 25, 16, 0))
    with sessions() as session:
        rows = occurrence_visits(session, now=shanghai(2026, 6, 1, 11, 0), campaign_ids=[campaign])
    assert [(o.period, o.visits, o.state) for o in rows] == [
        ("2026-06", 0, "open"),
        ("2026-05", 1, "done"),
    ], "May's patrol was done by the visit of 25 May, June's is still to do"


def test_the_report_shows_the_visits_per_period_and_the_sites_not_visited(
    sessions, patrolled, smtp
):
    campaign, site_id = patrolled
    tap(sessions, site_id, at=MAY_10)
    sweep(sessions, shanghai(2026, 6, 1, 8, 0))
    sweep(sessions, shanghai(2026, 7, 2, 8, 0))
    office = actor(sessions, "office@example.org")
    with sessions() as session:
        report = build_report(
            session, campaign, by=office, clock=FixedClock(shanghai(2026, 7, 2, 9, 0))
        ).to_dict()
    assert [
        (row["period"], row["site"], row["visits"], row["standing"], row["due_on"])
        for row in report["site_visits"]
    ] == [
        ("2026-07", "3号道口", 0, "waiting", "2026-07-26"),
        ("2026-06", "3号道口", 0, "missed", "2026-06-26"),
        ("2026-05", "3号道口", 1, "visited", "2026-05-26"),
    ]
