"""People in the browser's administration (issue #18, items 2 and 3), through the pages as an office would use them:
the town's administrator finds, adds and edits people, gives a role and hands the post's open work over, sends a
reset link, deactivates someone only after a hand-over; everyone may sign in with a mobile number; a new password is
refused when it is the phone, the e-mail or a common one. SQLite and PostgreSQL.

The town (铁路镇: 东村, 西村, 北村) runs the railway campaign (``site``); 赵主任 (office@) administers the town.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.support.actions import OPERATOR
from tests.support.web import PASSWORD, Visitor, text
from webapp import wiring_of
from workflow.models import AuditEvent, OutboxMail, PasswordReset, Person, Task
from workflow.people.administrators import grant_administrator

ADMIN = "office@example.org"
NEW_PASSWORD = "晨光道口2026安全"


@pytest.fixture
def office(site, clock):  # type: ignore[no-untyped-def]
    """赵主任 administers 铁路镇; signed in, reading Chinese."""
    with wiring_of(site).transaction() as session:
        grant_administrator(session, ADMIN, "town", by=OPERATOR, now=clock.now())
    return signed_in(site, ADMIN)


def signed_in(site, email: str, password: str = PASSWORD) -> Visitor:  # type: ignore[no-untyped-def]
    person = Visitor(site.test_client())
    answer = person.sign_in(email, password)
    assert answer.status_code == 302 and "/login" not in answer.headers["Location"], email
    return person


def person_id(site, email: str) -> int:  # type: ignore[no-untyped-def]
    with wiring_of(site).transaction(readonly=True) as session:
        return session.scalar(select(Person.id).where(Person.email == email))


def flash(page: str) -> str:
    return " ".join(re.findall(r'<p class="flash flash-\w+"[^>]*>([^<]*)</p>', page))


def test_the_administrator_finds_adds_and_edits_people_and_each_change_is_in_their_history(
    site, office
):
    found = office.page("/admin/people?q=李")
    assert "李村长" in found and "张组长" not in found

    answer = office.post(
        "/admin/people",
        {
            "name": "钱新人",
            "title": "治保主任",
            "email": "New@Example.org",
            "phone": "139 0013 9000",
            "unit": str(site_unit(site, "east-village")),
        },
    )
    assert answer.status_code == 302
    page = office.page(answer.headers["Location"])
    assert "钱新人 已添加。" in flash(page) or "钱新人" in flash(page)
    # no mail server in tests: the link is shown once, on this page only
    assert "/reset?token=" in page
    assert "/reset?token=" not in office.page(answer.headers["Location"])
    assert "钱新人" in office.page("/admin/people?q=13900139000")

    new_id = person_id(site, "new@example.org")
    taken = office.post(
        f"/admin/people/{new_id}",
        {"name": "钱新人", "title": "", "email": "new@example.org", "phone": "13800000001"},
    )
    # east's head is given the phone first; then it is someone else's
    office.post(
        f"/admin/people/{person_id(site, 'east@example.org')}",
        {"name": "李村长", "title": "", "email": "east@example.org", "phone": "13700137000"},
    )
    clash = office.post(
        f"/admin/people/{new_id}",
        {"name": "钱新人", "title": "", "email": "new@example.org", "phone": "13700137000"},
    )
    page = office.page(clash.headers["Location"])
    assert taken.status_code == 302 and "13700137000" in flash(page)
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.get(Person, new_id).phone == "13800000001", (
            "the refused edit changed nothing"
        )
    history = text(page, "history")
    assert "新增" in history and "信息修改" in history and "13900139000 → 13800000001" in history


def site_unit(site, code: str) -> int:  # type: ignore[no-untyped-def]
    from workflow.models import Unit

    with wiring_of(site).transaction(readonly=True) as session:
        return session.scalar(select(Unit.id).where(Unit.code == code))


def test_anyone_signs_in_with_their_mobile_number_as_with_their_e_mail(site, office):
    office.post(
        f"/admin/people/{person_id(site, 'east@example.org')}",
        {"name": "李村长", "title": "", "email": "east@example.org", "phone": "+86 137-0013-7000"},
    )
    by_phone = Visitor(site.test_client()).sign_in("13700137000")
    assert by_phone.status_code == 302 and by_phone.headers["Location"] == "/"
    wrong = Visitor(site.test_client()).sign_in("13700137000", "not the password")
    assert wrong.status_code == 401 and "电子邮箱、手机号或密码错误" in wrong.get_data(as_text=True)


@pytest.mark.parametrize(
    "new, says",
    [
        ("password123", "最常用的密码"),
        ("woaini1314", "最常用的密码"),
        ("1234567890", "最常用的密码"),
        ("13700137000", "不能是您的手机号"),
        ("east@example.org", "不能是您的电子邮箱"),
        ("short", "至少"),
    ],
)
def test_a_new_password_is_refused_when_it_is_common_the_phone_or_the_e_mail(
    site, office, new, says
):
    office.post(
        f"/admin/people/{person_id(site, 'east@example.org')}",
        {"name": "李村长", "title": "", "email": "east@example.org", "phone": "13700137000"},
    )
    east = signed_in(site, "east@example.org")
    answer = east.post("/account/password", {"current": PASSWORD, "new": new, "again": new})
    assert answer.status_code == 422 and says in text(answer.get_data(as_text=True))
    assert signed_in(site, "east@example.org").page("/").count("李村长") >= 1, (
        "the old one still works"
    )


def test_a_reset_link_works_once_within_24_hours_and_ends_every_session(site, office, clock):
    east_id = person_id(site, "east@example.org")
    earlier = signed_in(site, "east@example.org")
    page = office.page(office.post(f"/admin/people/{east_id}/reset").headers["Location"])
    link = re.search(r'value="(http://[^"]+/reset\?token=[^"]+)"', page).group(1)
    path = (
        link.split("127.0.0.1:5000", 1)[-1]
        if "127.0.0.1:5000" in link
        else link[link.index("/reset") :]
    )

    stranger = Visitor(site.test_client())
    form = stranger.get(path)
    assert form.status_code == 200 and "李村长" in form.get_data(as_text=True)
    token = path.split("token=", 1)[1]
    weak = stranger.client.post(
        "/reset",
        data={
            "csrf_token": stranger.csrf_token(path),
            "token": token,
            "new": "qwertyuiop",
            "again": "qwertyuiop",
        },
    )
    assert weak.status_code == 422 and "最常用的密码" in weak.get_data(as_text=True)
    done = stranger.client.post(
        "/reset",
        data={
            "csrf_token": stranger.csrf_token(path),
            "token": token,
            "new": NEW_PASSWORD,
            "again": NEW_PASSWORD,
        },
    )
    assert done.status_code == 302 and done.headers["Location"].startswith("/login")
    assert earlier.get("/").status_code == 302, "the session from before the reset has ended"
    signed_in(site, "east@example.org", NEW_PASSWORD)
    again = stranger.get(path)
    assert again.status_code == 410 and "24" in again.get_data(as_text=True)

    # a second link, used a day and a minute later: expired, and the password stays
    page = office.page(office.post(f"/admin/people/{east_id}/reset").headers["Location"])
    late = re.search(r"/reset\?token=([^\"]+)", page).group(1)
    clock.instant += timedelta(hours=24, minutes=1)
    stale = stranger.get(f"/reset?token={late}")
    assert stale.status_code == 410
    with wiring_of(site).transaction(readonly=True) as session:
        used = session.scalars(
            select(PasswordReset.used_at).where(PasswordReset.person_id == east_id)
        ).all()
        assert len(used) == 2 and used.count(None) == 1, "the late link was never used"


def test_with_a_mail_server_the_reset_link_is_mailed_and_never_shown(site, office):
    site.config["MAIL_CONFIGURED"] = True
    east_id = person_id(site, "east@example.org")
    page = office.page(office.post(f"/admin/people/{east_id}/reset").headers["Location"])
    assert "/reset?token=" not in page and "east@example.org" in flash(page)
    with wiring_of(site).transaction(readonly=True) as session:
        mail = session.scalar(select(OutboxMail).where(OutboxMail.recipient == "east@example.org"))
    assert "设置密码" in mail.subject and "/reset?token=" in mail.body and "24" not in mail.subject


def test_deactivating_someone_with_open_work_is_refused_until_it_is_handed_over(site, office):
    east_id = person_id(site, "east@example.org")
    holding = text(office.page(f"/admin/people/{east_id}"), "holding")
    assert re.search(r"任务 ?：制定创建活动计划", holding) and "3号道口" in holding, holding
    refused = office.post(f"/admin/people/{east_id}/deactivate", {"successor": "0"})
    said = flash(office.page(refused.headers["Location"].split("#")[0]))
    assert "仍有未完成的工作" in said and "请选择接手人" in said, said
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.get(Person, east_id).active, "refused: still active"
        open_before = session.scalar(
            select(func.count())
            .select_from(Task)
            .where(Task.assignee_id == east_id, Task.state == "open")
        )
    assert open_before > 0
    west_id = person_id(site, "west@example.org")
    done = office.post(f"/admin/people/{east_id}/deactivate", {"successor": str(west_id)})
    assert done.status_code == 302
    with wiring_of(site).transaction(readonly=True) as session:
        assert not session.get(Person, east_id).active
        assert (
            session.scalar(
                select(func.count())
                .select_from(Task)
                .where(Task.assignee_id == west_id, Task.state == "open")
            )
            >= open_before
        )
    assert Visitor(site.test_client()).sign_in("east@example.org").status_code == 401
    office.post(f"/admin/people/{east_id}/reactivate")
    assert signed_in(site, "east@example.org")


def test_a_new_village_head_takes_the_post_and_the_old_one_s_open_work_of_it(site, office):
    east_id = person_id(site, "east@example.org")
    east_unit = site_unit(site, "east-village")
    office.post(
        "/admin/people",
        {"name": "孙新村长", "email": "sun@example.org", "unit": str(east_unit), "phone": ""},
    )
    sun_id = person_id(site, "sun@example.org")
    given = office.post(f"/admin/people/{sun_id}/roles", {"role": "village_head"})
    page = office.page(given.headers["Location"].split("#")[0])
    offer = text(page, "hand-over")
    assert "李村长" in offer and "village_head" in office.page(f"/admin/people/{sun_id}")
    with wiring_of(site).transaction(readonly=True) as session:
        east_tasks = session.scalars(
            select(Task.id).where(
                Task.assignee_id == east_id, Task.state == "open", Task.spec_key == "plan"
            )
        ).all()
    assert east_tasks
    office.post(
        f"/admin/people/{sun_id}/hand-over", {"role": "village_head", "previous": str(east_id)}
    )
    with wiring_of(site).transaction(readonly=True) as session:
        assert {session.get(Task, t).assignee_id for t in east_tasks} == {sun_id}
        mails = session.scalars(
            select(OutboxMail.subject).where(OutboxMail.recipient == "sun@example.org")
        ).all()
        events = session.scalars(
            select(AuditEvent.event).where(
                AuditEvent.entity == "task", AuditEvent.entity_id.in_(east_tasks)
            )
        ).all()
    assert mails and "reassign" in events
    assert "village_head" not in text(office.page(f"/admin/people/{east_id}"), "roles")
    assert "李村长" in office.page(f"/admin/people/{east_id}")


def test_a_village_administrator_cannot_touch_the_town_above(site, clock):
    with wiring_of(site).transaction() as session:
        grant_administrator(
            session, "east@example.org", "east-village", by=OPERATOR, now=clock.now()
        )
    east = signed_in(site, "east@example.org")
    leader = person_id(site, "leader@example.org")
    assert east.get(f"/admin/people/{leader}").status_code == 403
    assert east.post(f"/admin/people/{leader}/reset").status_code == 403
    town = site_unit(site, "town")
    refused = east.post(
        "/admin/people", {"name": "某人", "email": "x@example.org", "unit": str(town)}
    )
    assert refused.status_code == 403
    assert "张组长" not in east.page("/admin/people")


def test_passwords_and_reset_tokens_never_reach_a_log_line(json_logging, site, clock, capsys):
    """With JSON logs and their access lines on: a reset link sent, opened, used with a refused and then a good
    password, and a sign-in with it — none of the secrets is in any line, and the access lines name ``/reset`` only."""
    with wiring_of(site).transaction() as session:
        grant_administrator(session, ADMIN, "town", by=OPERATOR, now=clock.now())
    office = signed_in(site, ADMIN)
    east_id = person_id(site, "east@example.org")
    page = office.page(office.post(f"/admin/people/{east_id}/reset").headers["Location"])
    token = re.search(r"/reset\?token=([^\"&]+)", page).group(1)
    stranger = Visitor(site.test_client())
    assert stranger.get(f"/reset?token={token}").status_code == 200
    for new in ("qwertyuiop", NEW_PASSWORD):
        stranger.client.post(
            "/reset",
            data={
                "csrf_token": stranger.csrf_token(f"/reset?token={token}"),
                "token": token,
                "new": new,
                "again": new,
            },
        )
    signed_in(site, "east@example.org", NEW_PASSWORD)
    logged = capsys.readouterr().err
    lines = [line for line in logged.splitlines() if line.strip()]
    assert any('"/reset"' in line for line in lines), "the access lines are on"
    for secret in (token, NEW_PASSWORD, "qwertyuiop", PASSWORD):
        assert secret not in logged, secret
    with wiring_of(site).transaction(readonly=True) as session:
        assert session.scalar(select(Person.password_hash).where(Person.id == east_id)).startswith(
            "scrypt:"
        )
        assert token not in str(session.scalars(select(PasswordReset.digest)).all()), (
            "only a digest is stored"
        )


def test_the_town_s_administrator_makes_a_village_head_administrator_of_his_village_and_ends_it(
    site, office
):
    east_id = person_id(site, "east@example.org")
    east_unit = site_unit(site, "east-village")
    office.post(f"/admin/people/{east_id}/administers", {"unit": str(east_unit)})
    east = signed_in(site, "east@example.org")
    assert east.get("/admin/people").status_code == 200, "管理 opens for him"
    assert "东村" in text(office.page(f"/admin/people/{east_id}"), "administration")
    assert east.get(f"/admin/people/{person_id(site, 'leader@example.org')}").status_code == 403
    office.post(f"/admin/people/{east_id}/administers/{east_unit}/remove")
    assert east.get("/admin/people").status_code == 403
    history = text(office.page(f"/admin/people/{east_id}"), "history")
    assert "设为管理员" in history and "取消管理员" in history


def test_someone_who_administers_nothing_learns_no_person_ids(site):
    east = signed_in(site, "east@example.org")
    for path in ("/admin/people/1", "/admin/people/999999"):
        assert east.get(path).status_code == 403, path
        assert east.post(f"{path}/reset").status_code == 403, path
