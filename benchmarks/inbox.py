"""The inbox page and GET /api/v1/inbox over 1,000,000 tasks and 20,000 people, against a fixed page
(the floor).

Builds a SQLite database (two campaigns started through the engine for a town
of N villages, then the rest of the tasks and some rectifications bulk-inserted
across every person, due dates around the pinned clock, a third of them open),
signs random people in through the real sign-in form, and times each request
inside the app (WSGI call to the last byte) for: the inbox page, the API inbox,
and a fixed page that goes through the same app, sign-in, layout and headers
(the floor). Prints p50/p95 of each; the last line is ``ratio=N.NN``, the inbox
page's p95 over the floor's (target ≤ 3, and the inbox p95 under 20 ms).

    .venv/bin/python benchmarks/inbox.py [--tasks 1000000] [--people 20000] [--samples 300]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

from flask import render_template_string
from flask_login import login_required
from sqlalchemy import insert, select, text, update
from werkzeug.security import generate_password_hash

from scenario import definition_text, populate_town, sqlite_database
from webapp import create_app, wiring_of
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import FixedClock, end_of_day
from workflow.db import create_db_engine, session_factory
from workflow.definitions.reader import parse_definition
from workflow.models import Person, Rectification, Task

NOW = datetime(2026, 6, 15, 1, 0, tzinfo=timezone.utc)  # 09:00 in Beijing
PASSWORD = "bench"
TZ = "Asia/Shanghai"
FLOOR_PAGE = """{% extends "base.html" %}{% block title %}floor{% endblock %}
{% block content %}<h1>{{ _("My inbox") }}</h1><p>{{ current_user.person.name }}</p>
{% endblock %}"""


def build(url: str, tasks: int, people: int) -> dict[str, float]:
    """The database: people, two campaigns, ``tasks`` tasks in all, rectifications; returns
    counts."""
    began = time.perf_counter()
    engine = create_db_engine(url)
    populate_town(engine, people)
    sessions = session_factory(engine)
    by, calendar = Actor.operator("bench"), WorkingCalendar()
    campaign_ids = []
    with sessions.begin() as session:
        for number in range(2):
            definition = parse_definition(definition_text(1, f"bench-inbox-{number}"), "bench.yaml")
            campaign_ids.append(
                start_campaign(
                    session,
                    definition,
                    "town",
                    date(2026, 5, 1) + timedelta(days=number),
                    by=by,
                    clock=FixedClock(NOW - timedelta(days=45)),
                    calendar=calendar,
                ).id
            )
    with engine.begin() as connection:
        connection.execute(
            update(Person).values(
                password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
            )
        )
        heads = connection.execute(
            text("select p.id, p.unit_id from people p where p.email like 'head%'")
        ).all()
        existing = connection.execute(select(Task.id)).all()
    rng = random.Random(2026)
    remaining = tasks - len(existing)
    created = NOW - timedelta(days=45)
    batch: list[dict[str, object]] = []
    with engine.begin() as connection:
        for i in range(remaining):
            person_id, unit_id = heads[i % len(heads)]
            due_on = date(2026, 5, 1) + timedelta(days=rng.randrange(0, 120))
            state = "open" if rng.random() < 0.33 else "done"
            batch.append(
                {
                    "campaign_id": campaign_ids[i % 2],
                    "phase_key": "mobilization",
                    "spec_key": "t0",
                    "occurrence_key": f"bench:{i}",
                    "unit_id": unit_id,
                    "assignee_id": person_id,
                    "title": f"检查任务{i % 97}",
                    "required": True,
                    "state": state,
                    "due_on": due_on,
                    "due_at": end_of_day(due_on, TZ),
                    "created_at": created,
                    "completed_at": created + timedelta(days=3) if state == "done" else None,
                }
            )
            if len(batch) == 20_000:
                connection.execute(insert(Task), batch)
                batch.clear()
        if batch:
            connection.execute(insert(Task), batch)
        rectifications = [
            {
                "campaign_id": campaign_ids[i % 2],
                "phase_key": "mobilization",
                "unit_id": heads[i % len(heads)][1],
                "description": f"隐患{i}",
                "severity": "major" if i % 10 == 0 else "minor",
                "responsible_id": heads[i % len(heads)][0],
                "state": "open" if i % 3 else "closed",
                "original_deadline": (
                    deadline := date(2026, 6, 1) + timedelta(days=rng.randrange(0, 40))
                ),
                "deadline": deadline,
                "deadline_at": end_of_day(deadline, TZ),
                "deadline_round": 0,
                "extensions": 0,
                "registered_at": created,
            }
            for i in range(max(tasks // 50, 1))
        ]
        for start in range(0, len(rectifications), 20_000):
            connection.execute(insert(Rectification), rectifications[start : start + 20_000])
        counts = {
            name: connection.execute(text(f"select count(*) from {name}")).scalar_one()
            for name in ("tasks", "rectifications", "people")
        }
        counts["open"] = connection.execute(
            text("select count(*) from tasks where state = 'open'")
        ).scalar_one()
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    counts["seconds"] = time.perf_counter() - began
    return counts


class Timer:
    """WSGI middleware: the app's own time per request, from the call to the last byte of the
    body."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.last = 0.0

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        body = list(self.app(environ, start_response))
        self.last = time.perf_counter() - began
        return body


def measure(url: str, samples: int) -> dict[str, list[float]]:
    app = create_app(
        {
            "DATABASE_URL": url,
            "CLOCK": FixedClock(NOW),
            "SECRET_KEY": "bench",
            "BASE_URL": "http://bench.test",
        }
    )

    @login_required
    def floor() -> str:
        return render_template_string(FLOOR_PAGE)

    app.add_url_rule("/bench/floor", view_func=floor)
    timer = Timer(app.wsgi_app)
    app.wsgi_app = timer  # type: ignore[method-assign]
    with wiring_of(app).transaction(readonly=True) as session:
        emails = list(session.scalars(select(Person.email).where(Person.email.like("head%"))))
    chosen = random.Random(7).sample(emails, min(samples, len(emails)))
    timings: dict[str, list[float]] = defaultdict(list)
    items = []
    routes = [
        ("inbox page", "/"),
        ("GET /api/v1/inbox", "/api/v1/inbox"),
        ("floor (fixed page)", "/bench/floor"),
    ]
    for number, email in enumerate(chosen):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        signed_in = client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
        )
        assert signed_in.status_code == 302, signed_in.status_code
        for name, path in random.Random(number).sample(routes, len(routes)):
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.status_code)
            if number >= max(samples // 10, 1):  # the first tenth warms caches and the page cache
                timings[name].append(timer.last * 1000)
            if path == "/api/v1/inbox":
                items.append(len(answer.get_json()["items"]))
    wiring_of(app).engine.dispose()
    timings["_items"] = items  # type: ignore[assignment]
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=20_000, help="village heads (the assignees)")
    parser.add_argument(
        "--samples", type=int, default=300, help="random people signed in and timed"
    )
    args = parser.parse_args()

    with sqlite_database() as url:
        counts = build(url, args.tasks, args.people)
        print(
            f"database: sqlite, {counts['tasks']:,} tasks ({counts['open']:,} open), "
            f"{counts['rectifications']:,} rectifications, {counts['people']:,} people; "
            f"built in {counts['seconds']:.0f} s"
        )
        timings = measure(url, args.samples)
    items = timings.pop("_items")
    print(f"items per inbox: mean {statistics.mean(items):.1f}, max {max(items)}")
    for name, values in timings.items():
        print(
            f"{name:<20} p50={percentile(values, 0.5):6.2f} ms  "
            f"p95={percentile(values, 0.95):6.2f} ms  "
            f"(n={len(values)})"
        )
    inbox_p95 = percentile(timings["inbox page"], 0.95)
    api_p95 = percentile(timings["GET /api/v1/inbox"], 0.95)
    floor_p95 = percentile(timings["floor (fixed page)"], 0.95)
    print(
        f"target: inbox p95 < 20 ms ({'met' if max(inbox_p95, api_p95) < 20 else 'NOT met'}), "
        f"ratio <= 3 ({'met' if inbox_p95 / floor_p95 <= 3 else 'NOT met'})"
    )
    print(f"ratio={inbox_p95 / floor_p95:.2f}")


if __name__ == "__main__":
    main()
