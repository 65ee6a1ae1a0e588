"""The API says which due dates and deadlines are estimates (「预计」) and why: counted in working days
over a year whose official holiday schedule is not entered (issue 16 item 5).

The app's clock stands at 2026-05-01 and chinesecalendar's data ends with 2026, so 366 working days
(the most one may give) reach into 2027, which has no data. The 2027 schedule entered below is MADE
UP for the test, NOT the State Council's.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.support.actions import BASE_URL, OPERATOR
from tests.support.api import register
from workflow.calendar_files import parse_calendar_file
from workflow.clock import end_of_day
from workflow.escalation.estimates import enter_year_schedule
from workflow.models import Task
from workflow.organisation.directory import person_by_email

REASON_2027 = (
    "2027 年国务院节假日安排尚未录入，按周一至周五推算 / the State Council's 2027 schedule is "
    "not entered; counted Monday–Friday"
)


def made_up_2027(sessions, clock, *days: date) -> None:  # type: ignore[no-untyped-def]
    """Enter a made-up 2027 schedule with ``days`` off."""
    text = "".join(f"{day.isoformat()},off,测试假日\n" for day in days)
    with sessions.begin() as session:
        enter_year_schedule(
            session,
            parse_calendar_file(text, "made-up-2027.csv", "csv"),
            by=OPERATOR,
            now=clock.now(),
            base_url=BASE_URL,
        )


def test_a_deadline_counted_into_a_year_without_data_is_an_estimate_with_its_reason(
    as_person, campaign, sessions, clock
):
    estimated = register(as_person, campaign, deadline_working_days=366)
    plain = register(as_person, campaign)  # three working days: in May 2026

    assert estimated["deadline"].startswith("2027-")
    assert estimated["deadline_estimated"] is True
    assert estimated["estimate_reason"] == REASON_2027
    assert plain["deadline_estimated"] is False and "estimate_reason" not in plain
    shown = as_person("east@example.org").get(f"/rectifications/{estimated['id']}").json
    assert (shown["deadline_estimated"], shown["estimate_reason"]) == (True, REASON_2027)

    # entered, with a made-up day off on the estimated deadline: counted again, one day later
    day = date.fromisoformat(estimated["deadline"])
    made_up_2027(sessions, clock, day)

    shown = as_person("east@example.org").get(f"/rectifications/{estimated['id']}").json
    assert shown["deadline_estimated"] is False and "estimate_reason" not in shown
    assert shown["deadline"] > estimated["deadline"]
    assert shown["original_deadline"] == estimated["deadline"]


def test_a_task_and_a_letter_say_whether_their_dates_are_estimates(as_person, campaign, sessions):
    with sessions.begin() as session:
        east = person_by_email(session, "east@example.org")
        task = session.scalars(
            select(Task).where(Task.assignee_id == east.id, Task.spec_key == "plan")
        ).one()
        # as task rows store it: five working days counted from a Friday of 2027
        task.due_on, task.due_at = date(2027, 1, 15), end_of_day(date(2027, 1, 15), "Asia/Shanghai")
        task.due_estimated, task.due_basis, task.due_rule = True, date(2027, 1, 8), "5wd"
        task_id = task.id

    done = as_person("east@example.org").post(f"/tasks/{task_id}/complete", {"note": "计划已制定"})
    assert done.status_code == 200, done.json
    assert (done.json["due_on"], done.json["due_estimated"]) == ("2027-01-15", True)
    assert done.json["estimate_reason"] == REASON_2027

    office = as_person("office@example.org")
    letters = [
        office.post(
            f"/campaigns/{campaign}/petitions",
            {"subject": subject, "responsible": "east@example.org", **extra},
        )
        for subject, extra in (("道口噪声", {}), ("道口积水", {"deadline_working_days": 366}))
    ]
    assert [answer.status_code for answer in letters] == [201, 201], [a.json for a in letters]
    sixty_days, counted = (answer.json for answer in letters)
    # the default, 60 calendar days (信访条例 art. 33), is never an estimate
    assert (sixty_days["deadline"], sixty_days["deadline_estimated"]) == ("2026-06-30", False)
    assert "estimate_reason" not in sixty_days
    assert (counted["deadline_estimated"], counted["estimate_reason"]) == (True, REASON_2027)


def test_the_openapi_document_describes_the_estimate_fields(app):
    schemas = app.test_client().get("/api/v1/openapi.json").json["components"]["schemas"]

    for name, flag in (("Rectification", "deadline_estimated"), ("Task", "due_estimated")):
        properties = schemas[name]["properties"]
        assert properties[flag]["type"] == "boolean"
        assert "预计" in properties[flag]["description"]
        assert "estimate_reason" in properties
    assert schemas["Petition"]["properties"]["deadline_estimated"]["type"] == "boolean"
    assert schemas["InboxItem"]["properties"]["due_estimated"]["type"] == "boolean"
