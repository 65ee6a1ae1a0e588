"""The audit log: every change of state leaves an event naming who made it, and nothing can rewrite one.

A campaign is walked through the command line, the API and the pages (start,
tasks checked off, sent back and verified, a hazard registered, reported
fixed, rejected, verified, reopened, extensions asked for, approved and
refused, work reassigned and handed over, the phase advanced): each move adds
an audit event with the actor's e-mail and person id. No route of the app
changes or removes an event: none is declared for it, and driving every
state-changing route of the app leaves every earlier event as it was. The
database itself refuses UPDATE and DELETE on ``audit_events`` (migration 0007:
triggers on SQLite and PostgreSQL), whatever SQLAlchemy sends; the downgrade
removes the triggers again. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import delete, select, text, update
from sqlalchemy import exc as sa_exc

from tests.support.actions import person_id
from tests.support.texts import RAILWAY_WITH_ESCALATION, TOWN_WITH_CROSSING
from tests.support.web import (
    PASSWORD,
    Visitor,
    give_everyone_a_password,
    started_site,
    url_for_rule,
)
from tests.support.web import text as page_text
from webapp import create_app, wiring_of
from workflow.audit import Actor, record
from workflow.clock import FixedClock
from workflow.db import alembic_config, create_db_engine, current_revision, upgrade_schema
from workflow.models import AuditEvent, Campaign, DeadlineExtension, Task
from workflow.organisation.directory import import_organisation, person_by_email
from workflow.organisation.org_file import parse_organisation
from workflow.organisation.tokens import issue_token, revoke_tokens

# SQLite's RAISE(ABORT); PostgreSQL's exception
REFUSED = (
    sa_exc.IntegrityError,
    sa_exc.ProgrammingError,
)
TRIGGERS_REVISION = "0007"  # workflow/migrations/versions/0007_audit_events_append_only.py


@pytest.fixture
def site(db_url, sessions, clock, tmp_path):
    app = started_site(db_url, sessions, clock, tmp_path, RAILWAY_WITH_ESCALATION)
    yield app
    wiring_of(app).engine.dispose()


class Walk:
    """The people of the campaign, each through the API (a real token) and through the pages (signed in)."""

    def __init__(self, site, sessions, clock) -> None:
        self.site, self.sessions, self.clock = site, sessions, clock
        self.tokens: dict[str, str] = {}
        self.browsers: dict[str, Visitor] = {}

    def api(self, email: str, path: str, body: dict | None = None) -> dict:
        if email not in self.tokens:
            with self.sessions.begin() as session:
                self.tokens[email] = issue_token(session, email, self.clock.now())
        answer = self.site.test_client().post(
            f"/api/v1{path}",
            json=body or {},
            headers={"Authorization": f"Bearer {self.tokens[email]}"},
        )
        assert answer.status_code in (200, 201), (path, answer.get_data(as_text=True))
        return answer.json

    def page(self, email: str, path: str, data: dict) -> None:
        if email not in self.browsers:
            self.browsers[email] = Visitor(self.site.test_client())
            assert self.browsers[email].sign_in(email, password=PASSWORD).status_code == 302
        answer = self.browsers[email].post(path, data)
        assert answer.status_code == 302, (path, answer.status_code)
        shown = self.browsers[email].page("/")  # the message of the move is shown on the next page
        assert "flash-error" not in shown, (path, page_text(shown))

    def task(self, email: str, spec: str) -> int:
        with self.sessions() as session:
            person = person_by_email(session, email).id
            return session.scalar(
                select(Task.id).where(Task.assignee_id == person, Task.spec_key == spec)
            )


def events_since(sessions, last_id: int) -> list[AuditEvent]:
    with sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id)
            )
        )


def last_event_id(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


# --- every move is audited, with its actor ------------------------------------------------------


def test_every_change_of_state_through_the_command_line_the_api_and_the_pages_is_audited_with_its_actor(
    pingan, sessions, clock, tmp_path, db_url
):
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_CROSSING, "org.yaml"))
        give_everyone_a_password(session)
    definition = tmp_path / "railway.yaml"
    definition.write_text(RAILWAY_WITH_ESCALATION, encoding="utf-8")
    started = pingan(
        "start",
        str(definition),
        "--org",
        "town",
        "--starts",
        "2026-05-01",
        "--as",
        "office@example.org",
    )
    assert started.exit_code == 0, started.stderr
    campaign = int(started.stdout.strip())

    site = create_app(
        {
            "DATABASE_URL": db_url,
            "CLOCK": clock,
            "SECRET_KEY": "test",
            "BASE_URL": "http://pingan.test",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "LOGIN_CLOCK": FixedClock(clock.now()),
        }
    )
    walk = Walk(site, sessions, clock)
    east_plan, west_plan, meeting = (
        walk.task("east@example.org", "plan"),
        walk.task("west@example.org", "plan"),
        walk.task("office@example.org", "meeting"),
    )
    banner = walk.task("east@example.org", "banner")
    hazard = {
        "site": "crossing-3",
        "description": "道口护栏损坏",
        "responsible": "east@example.org",
        "deadline_working_days": 3,
    }
    state: dict[str, int] = {}

    def register() -> None:
        state["rect"] = walk.api("office@example.org", f"/campaigns/{campaign}/hazards", hazard)[
            "id"
        ]

    def ask(reason: str, until: str) -> None:
        state["ext"] = walk.api(
            "east@example.org",
            f"/rectifications/{state['rect']}/extensions",
            {"reason": reason, "until": until},
        )["id"]

    steps = [
        # (what, who, do it, (entity, entity id, event))
        (
            "check a task off (API)",
            "east@example.org",
            lambda: walk.api(
                "east@example.org", f"/tasks/{east_plan}/complete", {"note": "计划已制定"}
            ),
            lambda: ("task", east_plan, "complete"),
        ),
        (
            "send it back (API)",
            "office@example.org",
            lambda: walk.api(
                "office@example.org", f"/tasks/{east_plan}/reject", {"note": "缺少时间表"}
            ),
            lambda: ("task", east_plan, "reject"),
        ),
        (
            "check it off again (page)",
            "east@example.org",
            lambda: walk.page(
                "east@example.org", f"/tasks/{east_plan}/complete", {"note": "已补充时间表"}
            ),
            lambda: ("task", east_plan, "complete"),
        ),
        (
            "verify it (page)",
            "office@example.org",
            lambda: walk.page("office@example.org", f"/tasks/{east_plan}/verify", {"note": "合格"}),
            lambda: ("task", east_plan, "verify"),
        ),
        (
            "reassign a task (page)",
            "office@example.org",
            lambda: walk.page(
                "office@example.org", f"/tasks/{banner}/reassign", {"to": "keeper@example.org"}
            ),
            lambda: ("task", banner, "reassign"),
        ),
        (
            "register a hazard (API)",
            "office@example.org",
            register,
            lambda: ("rectification", state["rect"], "register"),
        ),
        (
            "report it fixed (API)",
            "east@example.org",
            lambda: walk.api(
                "east@example.org", f"/rectifications/{state['rect']}/submit", {"note": "已修复"}
            ),
            lambda: ("rectification", state["rect"], "submit"),
        ),
        (
            "reject the report (page)",
            "office@example.org",
            lambda: walk.page(
                "office@example.org",
                f"/rectifications/{state['rect']}/reject",
                {"reason": "护栏仍松动", "working_days": "5"},
            ),
            lambda: ("rectification", state["rect"], "reject"),
        ),
        (
            "ask for more time (API)",
            "east@example.org",
            lambda: ask("材料未到", "2026-06-30"),
            lambda: ("rectification", state["rect"], "request_extension"),
        ),
        (
            "approve it (API)",
            "office@example.org",
            lambda: walk.api(
                "office@example.org", f"/extensions/{state['ext']}/approve", {"note": "同意"}
            ),
            lambda: ("rectification", state["rect"], "approve_extension"),
        ),
        (
            "ask again (API)",
            "east@example.org",
            lambda: ask("还需一周", "2026-07-07"),
            lambda: ("rectification", state["rect"], "request_extension"),
        ),
        (
            "refuse it (API)",
            "office@example.org",
            lambda: walk.api(
                "office@example.org", f"/extensions/{state['ext']}/refuse", {"note": "不同意"}
            ),
            lambda: ("rectification", state["rect"], "refuse_extension"),
        ),
        (
            "report it fixed (page)",
            "east@example.org",
            lambda: walk.page(
                "east@example.org",
                f"/rectifications/{state['rect']}/submit",
                {"note": "已更换护栏"},
            ),
            lambda: ("rectification", state["rect"], "submit"),
        ),
        (
            "verify and close it (销号, API)",
            "office@example.org",
            lambda: walk.api(
                "office@example.org",
                f"/rectifications/{state['rect']}/verify",
                {"note": "复核合格"},
            ),
            lambda: ("rectification", state["rect"], "verify"),
        ),
        (
            "reopen it after a look-back (API)",
            "office@example.org",
            lambda: walk.api(
                "office@example.org",
                f"/rectifications/{state['rect']}/reopen",
                {"reason": "回头看发现反弹", "deadline_working_days": 3},
            ),
            lambda: ("rectification", state["rect"], "reopen"),
        ),
        (
            "reassign the rectification (page)",
            "office@example.org",
            lambda: walk.page(
                "office@example.org",
                f"/rectifications/{state['rect']}/reassign",
                {"to": "keeper@example.org"},
            ),
            lambda: ("rectification", state["rect"], "reassign"),
        ),
        (
            "hand a person's work over (page)",
            "office@example.org",
            lambda: walk.page(
                "office@example.org",
                f"/campaigns/{campaign}/hand-over",
                {"leaving": "west@example.org", "successor": "keeper@example.org"},
            ),
            lambda: ("campaign", campaign, "hand_over"),
        ),
        (
            "the successor checks the plan off (page, bulk)",
            "keeper@example.org",
            lambda: walk.page(
                "keeper@example.org",
                "/inbox/check-off",
                {"task_id": str(west_plan), "note": "接手完成"},
            ),
            lambda: ("task", west_plan, "complete"),
        ),
        (
            "the office checks the meeting off (API)",
            "office@example.org",
            lambda: walk.api(
                "office@example.org", f"/tasks/{meeting}/complete", {"note": "已召开"}
            ),
            lambda: ("task", meeting, "complete"),
        ),
        (
            "advance the phase (API)",
            "office@example.org",
            lambda: walk.api("office@example.org", f"/campaigns/{campaign}/advance"),
            lambda: ("campaign", campaign, "advance"),
        ),
    ]

    with sessions() as session:
        start_event = session.scalar(
            select(AuditEvent).where(
                AuditEvent.entity == "campaign", AuditEvent.entity_id == campaign
            )
        )
    assert (start_event.event, start_event.actor, start_event.actor_id, start_event.to_state) == (
        "start",
        "office@example.org",
        person_id(sessions, "office@example.org"),
        "mobilization",
    )
    for what, who, do, expected in steps:
        before = last_event_id(sessions)
        do()
        new = [
            (e.entity, e.entity_id, e.event, e.actor, e.actor_id)
            for e in events_since(sessions, before)
        ]
        assert (*expected(), who, person_id(sessions, who)) in new, (what, new)
        # the walk's own set-up: a token for the API
        moves = [event for event in new if event[0] != "token"]
        assert all(actor and actor_id for *_, actor, actor_id in moves), (
            what,
            "an event without its actor",
            new,
        )
    with sessions() as session:
        assert session.get(Campaign, campaign).state == "implementation"
        assert (
            session.scalar(
                select(DeadlineExtension.state).where(DeadlineExtension.id == state["ext"])
            )
            == "refused"
        )
    wiring_of(site).engine.dispose()


def test_issuing_and_revoking_an_api_token_is_audited(sessions, clock):
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_CROSSING, "org.yaml"))
    before = last_event_id(sessions)
    with sessions.begin() as session:
        issue_token(session, "east@example.org", clock.now())
        assert revoke_tokens(session, "east@example.org", clock.now()) == 1
    events = [(e.entity, e.event, e.actor) for e in events_since(sessions, before)]
    assert ("token", "issue", "operator") in events and ("token", "revoke", "operator") in events


# --- no route rewrites history ------------------------------------------------------------------


def test_no_route_of_the_app_is_declared_to_change_or_remove_audit_events(site):
    methods = {rule.rule: rule.methods - {"HEAD", "OPTIONS"} for rule in site.url_map.iter_rules()}
    assert not [rule for rule, allowed in methods.items() if allowed & {"DELETE", "PATCH"}], (
        "no route deletes or patches anything"
    )
    assert not [
        rule for rule, allowed in methods.items() if "audit" in rule.lower() and allowed - {"GET"}
    ]


def test_driving_every_state_changing_route_leaves_every_earlier_audit_event_as_it_was(
    site, sessions
):
    walk = Walk(site, sessions, wiring_of(site).clock)
    east_plan = walk.task("east@example.org", "plan")
    walk.api("east@example.org", f"/tasks/{east_plan}/complete", {"note": "计划已制定"})
    walk.api(
        "office@example.org",
        f"/campaigns/{site.campaign_id}/hazards",
        {
            "site": "crossing-3",
            "description": "护栏",
            "responsible": "east@example.org",
            "deadline_working_days": 3,
        },
    )
    with sessions() as session:
        history = [
            (
                e.id,
                e.at,
                e.entity,
                e.entity_id,
                e.event,
                e.from_state,
                e.to_state,
                e.actor,
                e.actor_id,
                e.note,
            )
            for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]
    assert len(history) >= 3

    # signing out last: the routes before it are driven signed in
    changing = sorted(
        (
            rule
            for rule in site.url_map.iter_rules()
            if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
        ),
        key=lambda rule: rule.rule == "/logout",
    )
    office = Visitor(site.test_client())
    assert office.sign_in("office@example.org", password=PASSWORD).status_code == 302
    token = walk.tokens["office@example.org"]
    answered = 0
    for rule in changing:
        # the ids of the history's items, so each route acts on something that has audit events
        path = url_for_rule(
            rule,
            {
                "task_id": east_plan,
                "item_id": east_plan,
                "campaign_id": site.campaign_id,
                "rectification_id": 1,
                "extension_id": 1,
            },
        )
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            if path.startswith("/api/"):
                answer = site.test_client().open(
                    path,
                    method=method,
                    json={"note": "x", "reason": "x"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            else:
                answer = office.client.open(
                    path,
                    method=method,
                    data={"csrf_token": office.csrf_token("/"), "note": "x", "reason": "x"},
                )
            assert answer.status_code < 500, (method, path, answer.status_code)
            answered += 1
    assert answered >= 25
    with sessions() as session:
        now = {
            e.id: (
                e.id,
                e.at,
                e.entity,
                e.entity_id,
                e.event,
                e.from_state,
                e.to_state,
                e.actor,
                e.actor_id,
                e.note,
            )
            for e in session.scalars(select(AuditEvent))
        }
    assert [now.get(row[0]) for row in history] == history, (
        "an earlier event was changed or removed"
    )


# --- the database refuses -----------------------------------------------------------------------


def _an_event(sessions, clock) -> int:
    with sessions.begin() as session:
        event = record(
            session,
            at=clock.now(),
            by=Actor.operator("cli:test"),
            entity="campaign",
            entity_id=1,
            event="start",
            from_state="draft",
            to_state="mobilization",
            campaign_id=None,
            note="原始记录",
        )
        session.flush()
        return event.id


@pytest.mark.parametrize(
    "change", ["orm update", "core update", "orm delete", "core delete", "raw sql"]
)
def test_the_database_refuses_to_update_or_delete_an_audit_event(sessions, engine, clock, change):
    event_id = _an_event(sessions, clock)
    with pytest.raises(REFUSED) as refused, sessions.begin() as session:
        if change == "orm update":
            session.get(AuditEvent, event_id).actor = "someone-else@example.org"
            session.flush()
        elif change == "core update":
            session.execute(update(AuditEvent).where(AuditEvent.id == event_id).values(note="改写"))
        elif change == "orm delete":
            session.delete(session.get(AuditEvent, event_id))
            session.flush()
        elif change == "core delete":
            session.execute(delete(AuditEvent))
        else:
            session.execute(
                text("UPDATE audit_events SET at = :at"),
                {"at": datetime(2000, 1, 1, tzinfo=timezone.utc)},
            )
    assert "audit_events is append-only" in str(refused.value)
    with sessions() as session:
        event = session.get(AuditEvent, event_id)
        assert (event.actor, event.note) == ("cli:test", "原始记录")
    assert _an_event(sessions, clock) > event_id, "adding events goes on as before"


def test_a_campaign_with_a_history_cannot_be_deleted_with_it(sessions, clock, site):
    with pytest.raises(REFUSED), sessions.begin() as session:
        # its ON DELETE CASCADE would remove the campaign's audit events
        session.execute(delete(Campaign).where(Campaign.id == site.campaign_id))
    with sessions() as session:
        assert session.get(Campaign, site.campaign_id) is not None


def test_the_migration_adds_the_triggers_and_its_downgrade_removes_them(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'migrated.sqlite'}")
    head = upgrade_schema(engine)
    config = alembic_config()
    before_triggers = (
        ScriptDirectory.from_config(config).get_revision(TRIGGERS_REVISION).down_revision
    )
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, before_triggers)
    assert current_revision(engine) == before_triggers
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_events (at, entity, entity_id, event, actor) "
                "VALUES ('2026-05-01 01:00:00', 'campaign', 1, 'start', 'cli:test')"
            )
        )
        # nothing stops it at 0006
        connection.execute(text("UPDATE audit_events SET actor = 'rewritten'"))
    assert upgrade_schema(engine) == head
    with pytest.raises(REFUSED), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events"))
    engine.dispose()
