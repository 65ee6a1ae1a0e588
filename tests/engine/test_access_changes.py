"""Access that can be taken away: roles follow the organisation into running campaigns, people leave
(deactivation, with their work handed over), passwords are reset and changed — on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from tests.support.actions import BASE_URL, OPERATOR, actor
from tests.support.databases import row_counts
from tests.support.texts import TOWN_WITH_CROSSING
from workflow.access import campaign_access, roles_of
from workflow.audit import trail
from workflow.campaigns.reassign import hand_over
from workflow.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflow.hazards.rectifications import HazardReport, register_hazard
from workflow.models import AuditEvent, Campaign, OutboxMail, Person, Task
from workflow.organisation.directory import person_by_email
from workflow.organisation.org_file import parse_organisation
from workflow.organisation.tokens import actor_for_token, issue_token
from workflow.people.deactivation import deactivate_person, reactivate_person
from workflow.people.passwords import (
    PasswordProblem,
    PasswordRefused,
    change_password,
    set_one_time_password,
)
from workflow.people.rebinding import import_and_rebind

WITHOUT_OFFICE_ROLE = TOWN_WITH_CROSSING.replace("roles: [office_director]", "roles: []")
KEEPER_AS_HEAD = TOWN_WITH_CROSSING.replace(
    "unit: east-village, roles: []}", "unit: east-village, roles: [village_head]}"
)


def reimport(sessions, clock, text: str):  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        return import_and_rebind(
            session, parse_organisation(text, "org.yaml"), now=clock.now(), by=OPERATOR
        )


def campaign_roles(sessions, campaign: int, email: str) -> set[str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return roles_of(session, campaign, person_by_email(session, email).id)


def role_events(sessions, campaign: int) -> list[tuple[str, str | None, str | None, str]]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return [
            (e.event, e.from_state, e.to_state, e.actor)
            for e in trail(session, campaign)
            if e.entity == "role"
        ]


def test_a_role_removed_from_the_organisation_stops_working_in_the_running_campaign(
    sessions, clock, calendar, campaign
):
    office = actor(sessions, "office@example.org")
    with sessions() as session:
        assert campaign_access(session, session.get(Campaign, campaign), office).coordinator

    summary, rebinding = reimport(sessions, clock, WITHOUT_OFFICE_ROLE)

    assert (rebinding.granted, rebinding.withdrawn) == (0, 1)
    assert rebinding.vacant == [
        f"campaign {campaign}: role 'office_director' of town (铁路镇) is now held by nobody"
    ]
    assert campaign_roles(sessions, campaign, "office@example.org") == set()
    with sessions() as session:
        access = campaign_access(session, session.get(Campaign, campaign), office)
        assert (access.takes_part, access.coordinator) == (False, False)
    with pytest.raises((Forbidden, NotFound)), sessions.begin() as session:
        register_hazard(
            session,
            campaign,
            HazardReport(description="护栏损坏", site="crossing-3"),
            by=office,
            clock=clock,
            calendar=calendar,
            base_url=BASE_URL,
        )
    # who held what when stays on record: the withdrawal is an event of the campaign, by whom
    assert role_events(sessions, campaign) == [
        ("withdraw", "office_director", None, OPERATOR.label)
    ]
    # the same file again changes nothing more
    assert reimport(sessions, clock, WITHOUT_OFFICE_ROLE)[1].withdrawn == 0


def test_a_role_taken_up_in_the_organisation_is_bound_in_the_running_campaign(
    sessions, clock, campaign
):
    assert campaign_roles(sessions, campaign, "keeper@example.org") == set()

    _summary, rebinding = reimport(sessions, clock, KEEPER_AS_HEAD)

    assert rebinding.granted == 1
    assert campaign_roles(sessions, campaign, "keeper@example.org") == {"village_head"}
    assert role_events(sessions, campaign) == [("grant", None, "village_head", OPERATOR.label)]


def test_a_coordinators_hand_over_survives_the_next_import(sessions, clock, campaign):
    with sessions.begin() as session:
        hand_over(
            session,
            campaign,
            "east@example.org",
            "keeper@example.org",
            by=OPERATOR,
            clock=clock,
            base_url=BASE_URL,
        )

    _summary, rebinding = reimport(sessions, clock, TOWN_WITH_CROSSING)

    assert (rebinding.granted, rebinding.withdrawn) == (0, 0)
    assert campaign_roles(sessions, campaign, "keeper@example.org") == {"village_head"}
    assert campaign_roles(sessions, campaign, "east@example.org") == set()


def test_the_import_names_active_people_the_file_no_longer_lists(sessions, clock, campaign):
    without_west = "\n".join(
        line for line in TOWN_WITH_CROSSING.splitlines() if "west@example.org" not in line
    )
    summary, _rebinding = reimport(sessions, clock, without_west)

    assert summary.not_in_file == ["west@example.org"]
    assert "pingan person deactivate" in str(summary)


def test_deactivation_is_refused_while_work_is_open_and_names_it(sessions, clock, campaign):
    before = row_counts(sessions)

    with pytest.raises(Conflict) as refused, sessions.begin() as session:
        deactivate_person(session, "east@example.org", by=OPERATOR, clock=clock, base_url=BASE_URL)

    with sessions() as session:
        east = person_by_email(session, "east@example.org")
        open_tasks = session.scalars(
            select(Task.id).where(Task.assignee_id == east.id, Task.state == "open")
        ).all()
        assert east.active
    assert open_tasks
    assert all(f"task {task_id} " in refused.value.message for task_id in open_tasks)
    assert "key site crossing-3" in refused.value.message
    assert "--hand-over-to" in refused.value.message
    assert row_counts(sessions) == before


def test_a_deactivated_person_is_out_everywhere_and_their_work_with_their_successor(
    sessions, clock, campaign
):
    with sessions.begin() as session:
        token = issue_token(session, "east@example.org", clock.now())
        east_id = person_by_email(session, "east@example.org").id
        keeper_id = person_by_email(session, "keeper@example.org").id
        was_open = set(
            session.scalars(
                select(Task.id).where(Task.assignee_id == east_id, Task.state == "open")
            )
        )
        token_before = person_by_email(session, "east@example.org").session_token

    with sessions.begin() as session:
        result = deactivate_person(
            session,
            "east@example.org",
            by=OPERATOR,
            clock=clock,
            base_url=BASE_URL,
            hand_over_to="keeper@example.org",
        )

    assert result.tokens_revoked == 1
    with sessions() as session:
        east = session.get(Person, east_id)
        assert not east.active
        assert east.session_token != token_before  # every browser session ends
        assert actor_for_token(session, token) is None
        moved = {t.id for t in session.scalars(select(Task).where(Task.id.in_(was_open)))}
        assert {t.assignee_id for t in session.scalars(select(Task).where(Task.id.in_(moved)))} == {
            keeper_id
        }
        assert roles_of(session, campaign, east_id) == set()
        assert roles_of(session, campaign, keeper_id) == {"village_head"}
        events = [
            e.event
            for e in session.scalars(
                select(AuditEvent).where(
                    AuditEvent.entity == "person", AuditEvent.entity_id == east_id
                )
            )
        ]
        assert events == ["deactivate"]

    with pytest.raises(InvalidInput), sessions.begin() as session:
        deactivate_person(session, "east@example.org", by=OPERATOR, clock=clock, base_url=BASE_URL)


def test_reactivation_binds_the_organisations_roles_again(sessions, clock, campaign):
    reimport(sessions, clock, KEEPER_AS_HEAD)
    with sessions.begin() as session:
        deactivate_person(
            session,
            "keeper@example.org",
            by=OPERATOR,
            clock=clock,
            base_url=BASE_URL,
            hand_over_to="east@example.org",
        )
    assert campaign_roles(sessions, campaign, "keeper@example.org") == set()

    with sessions.begin() as session:
        summary = reactivate_person(session, "keeper@example.org", by=OPERATOR, clock=clock)

    assert "1 campaign role(s) bound again" in summary
    assert campaign_roles(sessions, campaign, "keeper@example.org") == {"village_head"}


def test_a_successor_must_be_an_active_other_person(sessions, clock, campaign):
    for successor in ("east@example.org", "nobody@example.org"):
        with pytest.raises((InvalidInput, NotFound)), sessions.begin() as session:
            deactivate_person(
                session,
                "east@example.org",
                by=OPERATOR,
                clock=clock,
                base_url=BASE_URL,
                hand_over_to=successor,
            )


def test_a_one_time_password_ends_every_session_and_token_and_must_be_changed(
    sessions, clock, campaign
):
    with sessions.begin() as session:
        token = issue_token(session, "office@example.org", clock.now())
    with sessions.begin() as session:
        one_time = set_one_time_password(
            session, "office@example.org", now=clock.now(), by=OPERATOR
        )

    assert len(one_time) >= 12
    with sessions() as session:
        office = person_by_email(session, "office@example.org")
        assert office.must_change_password
        assert check_password_hash(office.password_hash, one_time)
        assert actor_for_token(session, token) is None
        office_id, rotated = office.id, office.session_token

    for current, new, problem in [
        ("wrong password", "a brand new secret", PasswordProblem.WRONG_CURRENT),
        (one_time, "short", PasswordProblem.TOO_SHORT),
        (one_time, "office@example.org", PasswordProblem.IS_EMAIL),
        (one_time, one_time, PasswordProblem.UNCHANGED),
    ]:
        with pytest.raises(PasswordRefused) as refused, sessions.begin() as session:
            change_password(session, office_id, current, new, now=clock.now())
        assert refused.value.problem is problem

    with sessions.begin() as session:
        change_password(session, office_id, one_time, "a brand new secret", now=clock.now())
    with sessions() as session:
        office = session.get(Person, office_id)
        assert not office.must_change_password
        assert check_password_hash(office.password_hash, "a brand new secret")
        assert office.session_token != rotated


@pytest.mark.parametrize(
    "by, leaving",
    [
        ("office@example.org", "leader@example.org"),  # above oneself
        ("office@example.org", "office@example.org"),  # one's own post
        ("deputy@example.org", "leader@example.org"),
    ],
)
def test_a_leading_group_post_is_handed_over_only_from_above(
    sessions, clock, campaign, by, leaving
):
    before = row_counts(sessions)

    with pytest.raises(Forbidden) as refused, sessions.begin() as session:
        hand_over(
            session,
            campaign,
            leaving,
            "west@example.org",
            by=actor(sessions, by),
            clock=clock,
            base_url=BASE_URL,
        )

    assert "higher standing" in refused.value.message
    assert row_counts(sessions) == before


@pytest.mark.parametrize("by", ["leader@example.org", None])
def test_a_leading_group_post_handed_over_from_above_is_mailed_to_both(
    sessions, clock, campaign, by
):
    with sessions.begin() as session:
        hand_over(
            session,
            campaign,
            "office@example.org",
            "keeper@example.org",
            by=actor(sessions, by) if by else OPERATOR,
            clock=clock,
            base_url=BASE_URL,
        )

    assert campaign_roles(sessions, campaign, "keeper@example.org") == {"office_director"}
    with sessions() as session:
        mails = {
            mail.recipient: mail.subject
            for mail in session.scalars(select(OutboxMail))
            if "职务移交" in mail.subject
        }
    assert sorted(mails) == ["keeper@example.org", "office@example.org"]
    assert all("办公室主任：赵主任 → 陈道口看守" in subject for subject in mails.values())


def test_a_village_post_is_handed_over_by_any_coordinator_without_a_post_mail(
    sessions, clock, campaign
):
    with sessions.begin() as session:
        hand_over(
            session,
            campaign,
            "east@example.org",
            "keeper@example.org",
            by=actor(sessions, "office@example.org"),
            clock=clock,
            base_url=BASE_URL,
        )

    with sessions() as session:
        subjects = [mail.subject for mail in session.scalars(select(OutboxMail))]
    assert not any("职务移交" in subject for subject in subjects)
    assert any("工作移交" in subject for subject in subjects)
