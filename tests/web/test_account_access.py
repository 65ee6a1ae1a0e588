"""Access taken away as a signed-in person and an API client meet it: a role removed in the
organisation, a person deactivated, a one-time password, a password changed — on SQLite and
PostgreSQL."""

from __future__ import annotations

from tests.support.actions import BASE_URL, OPERATOR
from tests.support.api import HAZARD, Caller, assert_error
from tests.support.texts import TOWN_WITH_CROSSING
from tests.support.web import PASSWORD, text
from webapp import wiring_of
from workflow.organisation.org_file import parse_organisation
from workflow.organisation.tokens import issue_token
from workflow.people.deactivation import deactivate_person
from workflow.people.passwords import set_one_time_password
from workflow.people.rebinding import import_and_rebind

NEW_PASSWORD = "晨光道口2026安全"


def token_of(site, email: str) -> Caller:  # type: ignore[no-untyped-def]
    wiring = wiring_of(site)
    with wiring.transaction() as session:
        return Caller(site.test_client(), issue_token(session, email, wiring.clock.now()))


def change(person, current: str, new: str, again: str | None = None):  # type: ignore[no-untyped-def]
    """The change-password form as the person fills it in (its CSRF token from the page itself)."""
    data = {"current": current, "new": new, "again": new if again is None else again}
    token = person.csrf_token("/account/password")
    return person.client.post("/account/password", data={"csrf_token": token, **data})


def operator_does(site, move):  # type: ignore[no-untyped-def]
    """An operator's command, in its own transaction, as `pingan person …` or `import-org` runs."""
    wiring = wiring_of(site)
    with wiring.transaction() as session:
        return move(session, wiring.clock)


def test_a_role_removed_in_the_organisation_stops_at_once_for_sessions_and_tokens(site, visitor):
    office = visitor("office@example.org")
    api = token_of(site, "office@example.org")
    campaign = f"/campaigns/{site.campaign_id}"
    assert "hand-over" in office.page(campaign)
    assert api.post(f"{campaign}/hazards", HAZARD).status_code == 201

    operator_does(
        site,
        lambda session, clock: import_and_rebind(
            session,
            parse_organisation(
                TOWN_WITH_CROSSING.replace("roles: [office_director]", "roles: []"), "org.yaml"
            ),
            now=clock.now(),
            by=OPERATOR,
        ),
    )

    # the same browser session and the same token, the very next request
    # the items still in their hands keep the campaign's page open to them, read-only
    page = office.get(campaign)
    assert page.status_code in (200, 403, 404)
    assert "hand-over" not in page.get_data(as_text=True)
    refused = office.post(
        f"{campaign}/hand-over", {"leaving": "east@example.org", "successor": "keeper@example.org"}
    )
    assert refused.status_code in (403, 404)
    answer = api.post(f"{campaign}/hazards", HAZARD)
    assert answer.status_code in (403, 404)
    assert_error(answer, answer.status_code, answer.json["error"])


def test_a_deactivated_person_cannot_sign_in_nor_use_a_session_or_a_token(site, visitor):
    east = visitor("east@example.org")
    api = token_of(site, "east@example.org")
    assert east.get("/").status_code == 200
    assert api.get("/inbox").status_code == 200

    operator_does(
        site,
        lambda session, clock: deactivate_person(
            session,
            "east@example.org",
            by=OPERATOR,
            clock=clock,
            base_url=BASE_URL,
            hand_over_to="keeper@example.org",
        ),
    )

    assert east.get("/").status_code == 302  # signed out: to the sign-in page
    assert_error(api.get("/inbox"), 401, "unauthorized")
    assert visitor().sign_in("east@example.org").status_code == 401


def test_a_one_time_password_opens_nothing_but_the_page_that_replaces_it(site, visitor):
    east_before = visitor("east@example.org")
    api = token_of(site, "east@example.org")
    one_time = operator_does(
        site,
        lambda session, clock: set_one_time_password(
            session, "east@example.org", now=clock.now(), by=OPERATOR
        ),
    )
    # the reset ended every session and token at once
    assert east_before.get("/").status_code == 302
    assert_error(api.get("/inbox"), 401, "unauthorized")
    assert visitor().sign_in("east@example.org", PASSWORD).status_code == 401

    east = visitor()
    signed_in = east.sign_in("east@example.org", one_time)
    assert signed_in.headers["Location"].endswith("/account/password")
    for path in ("/", "/done", f"/campaigns/{site.campaign_id}"):
        answer = east.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].endswith(
            "/account/password"
        ), path
    assert_error(east.client.get("/api/v1/inbox"), 403, "forbidden")
    page = text(east.page("/account/password"))
    assert "一次性密码" in page or "one-time password" in page

    mismatch = change(east, one_time, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert mismatch.status_code == 422
    too_short = change(east, one_time, "短密码")
    assert too_short.status_code == 422

    changed = change(east, one_time, NEW_PASSWORD)
    assert changed.status_code == 302
    assert east.get("/").status_code == 200  # this browser carries on
    assert visitor().sign_in("east@example.org", one_time).status_code == 401
    assert visitor().sign_in("east@example.org", NEW_PASSWORD).status_code == 302


def test_changing_a_password_ends_every_other_session_and_token(site, visitor):
    here, elsewhere = visitor("west@example.org"), visitor("west@example.org")
    api = token_of(site, "west@example.org")

    changed = change(here, PASSWORD, NEW_PASSWORD)

    assert changed.status_code == 302
    told = text(here.page("/"))  # this browser carries on, and is told what the change did
    assert "密码已修改" in told or "password is changed" in told
    assert elsewhere.get("/").status_code == 302
    assert_error(api.get("/inbox"), 401, "unauthorized")


def test_a_wrong_current_password_changes_nothing(site, visitor):
    west = visitor("west@example.org")

    refused = change(west, "not my password", NEW_PASSWORD)

    assert refused.status_code == 422
    assert visitor().sign_in("west@example.org", PASSWORD).status_code == 302
    assert visitor().sign_in("west@example.org", NEW_PASSWORD).status_code == 401
