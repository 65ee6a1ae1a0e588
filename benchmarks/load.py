"""The scale-out deployment under load: PostgreSQL, gunicorn with 4 workers, 1,000,000 tasks, many
API clients.

Builds a scratch PostgreSQL database (a town of ``--people`` villages with a
head each; two campaigns started through the engine, the rest of the tasks
bulk-loaded with COPY, a third of them open, due dates around the pinned
clock; a hazard per 50 tasks), gives ``--tokens`` village heads an API token,
then starts gunicorn exactly as the compose file does (4 sync workers, JSON
logs unless ``--log-format text``) and drives it from ``--procs`` separate
load-generator processes holding ``--clients`` concurrent HTTP/1.1 clients in
all, each for ``--seconds`` per route after a short warm-up:

- the floor: ``GET /static/app.css``, the cheapest route through the same
  server, app, hooks and headers (no database), measured right before each
  route and that route compared with it (the machine's speed drifts over a
  run); and ``GET /healthz`` (one ``SELECT 1`` from the pool), printed for
  reference: what a route that reads the database at all can reach;
- ``GET /api/v1/inbox`` with a random client's token; the same filtered
  (``?due=overdue``) and searched (``?q=任务1``, a trigram-indexed word of the
  titles);
- ``POST /api/v1/tasks/<id>/complete`` of a fresh open task of the client.

Prints requests/s, p50, p95 and p99 per route, what the load generator itself
used of the CPU, each inbox's and the complete route's requests/s over the
floor's (targets: ≥ 0.60 for every inbox, ≥ 0.30 for complete), and last
``ratio=N.NN``: the smallest of the inbox ratios. Server, database and load
generator share this machine's cores, which the output says.

    .venv/bin/python benchmarks/load.py [--tasks 1000000] [--people 20000] [--tokens 5000]
                                        [--clients 16] [--procs 2] [--seconds 20] [--log-format
                                        json|text]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

NOW = datetime(2026, 6, 15, 1, 0, tzinfo=timezone.utc)  # 09:00 in Beijing: PINGAN_NOW of the server
TZ = "Asia/Shanghai"
WORKERS = 4
WARM_UP_SECONDS = 2.0
STATIC_FLOOR = "/static/app.css"
FLOOR_KEY = "floor:"  # the figures' key of the floor measured before a route: floor:<route>
# a 3-character word of the bulk-loaded titles (检查任务0 … 检查任务96): a trigram-indexed search
SEARCH_WORD = "任务1"
# the inbox as the API serves it: plain, filtered to what is overdue, searched
INBOX_ROUTES = {
    "inbox": "/api/v1/inbox",
    "inbox-overdue": "/api/v1/inbox?due=overdue",
    "inbox-search": "/api/v1/inbox?q=" + urllib.parse.quote(SEARCH_WORD),
}
TASK_COLUMNS = (
    "campaign_id",
    "phase_key",
    "spec_key",
    "occurrence_key",
    "unit_id",
    "assignee_id",
    "title",
    "required",
    "state",
    "due_on",
    "due_at",
    "created_at",
    "completed_at",
)


INBOX_TARGET = 0.60  # each inbox route's req/s over the floor's (issue 19)
COMPLETE_TARGET = 0.30  # checking a task off, over the floor's


# --- the database -------------------------------------------------------------------------------


def build(url: str, tasks: int, people: int, tokens: int) -> dict[str, Any]:
    """People, two campaigns, ``tasks`` tasks, hazards and API tokens; returns counts and the
    clients' work."""
    from sqlalchemy import insert, select, text

    from scenario import definition_text, populate_town
    from workflow.audit import Actor
    from workflow.calendar import WorkingCalendar
    from workflow.campaigns.lifecycle import start_campaign
    from workflow.clock import FixedClock, end_of_day
    from workflow.db import create_db_engine, session_factory
    from workflow.definitions.reader import parse_definition
    from workflow.models import ApiToken, Rectification, Task
    from workflow.organisation.tokens import token_digest

    began = time.perf_counter()
    engine = create_db_engine(url, statement_timeout_ms=0)  # bulk loading is not a web request
    populate_town(engine, people)
    sessions = session_factory(engine)
    campaign_ids = []
    with sessions.begin() as session:
        for number in range(2):
            definition = parse_definition(definition_text(1, f"bench-load-{number}"), "bench.yaml")
            campaign_ids.append(
                start_campaign(
                    session,
                    definition,
                    "town",
                    date(2026, 5, 1) + timedelta(days=number),
                    by=Actor.operator("bench"),
                    clock=FixedClock(NOW - timedelta(days=45)),
                    calendar=WorkingCalendar(),
                ).id
            )
    with engine.begin() as connection:
        heads = connection.execute(
            text("select id, unit_id from people where email like 'head%' order by id")
        ).all()
        existing = connection.execute(select(Task.id)).all()
    rng = random.Random(2026)
    # stored naive UTC (models.UTCDateTime)
    created = (NOW - timedelta(days=45)).replace(tzinfo=None)
    due_ats: dict[date, datetime] = {}

    def rows():  # type: ignore[no-untyped-def]
        for i in range(tasks - len(existing)):
            person_id, unit_id = heads[i % len(heads)]
            due_on = date(2026, 5, 1) + timedelta(days=rng.randrange(0, 120))
            if due_on not in due_ats:
                due_ats[due_on] = (
                    end_of_day(due_on, TZ).astimezone(timezone.utc).replace(tzinfo=None)
                )
            state = "open" if rng.random() < 0.33 else "done"
            yield (
                campaign_ids[i % 2],
                "mobilization",
                "t0",
                f"bench:{i}",
                unit_id,
                person_id,
                f"检查任务{i % 97}",
                True,
                state,
                due_on,
                due_ats[due_on],
                created,
                created + timedelta(days=3) if state == "done" else None,
            )

    raw = engine.raw_connection()
    try:
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY tasks ({', '.join(TASK_COLUMNS)}) FROM STDIN") as copy,
        ):
            for row in rows():
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as connection:
        hazards = [
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
                "registered_at": NOW - timedelta(days=45),
            }
            for i in range(max(tasks // 50, 1))
        ]
        for start in range(0, len(hazards), 20_000):
            connection.execute(insert(Rectification), hazards[start : start + 20_000])
        chosen = rng.sample(heads, min(tokens, len(heads)))
        issued = {person_id: secrets.token_urlsafe(32) for person_id, _ in chosen}
        # what workflow.organisation.tokens.issue_token stores, in one statement for thousands of
        # people
        connection.execute(
            insert(ApiToken),
            [
                {"person_id": person_id, "digest": token_digest(token), "created_at": NOW}
                for person_id, token in issued.items()
            ],
        )
        open_tasks = connection.execute(
            select(Task.assignee_id, Task.id).where(
                Task.assignee_id.in_(list(issued)), Task.state == "open"
            )
        ).all()
        counts = {
            name: connection.execute(text(f"select count(*) from {name}")).scalar_one()
            for name in ("tasks", "rectifications", "people")
        }
        counts["open"] = connection.execute(
            text("select count(*) from tasks where state = 'open'")
        ).scalar_one()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    completions = [(issued[person_id], task_id) for person_id, task_id in open_tasks]
    random.Random(7).shuffle(completions)
    return {
        "counts": counts,
        "tokens": list(issued.values()),
        "completions": completions,
        "seconds": time.perf_counter() - began,
    }


# --- the server ---------------------------------------------------------------------------------


def start_server(url: str, port: int, log_format: str, log_path: Path) -> subprocess.Popen[bytes]:
    """gunicorn as docker-compose.yml's web service runs it (and the image's GUNICORN_CMD_ARGS)."""
    environment = {
        **os.environ,
        "PINGAN_DATABASE_URL": url,
        "PINGAN_NOW": "2026-06-15T09:00",
        "PINGAN_SECRET_KEY": "bench-load",
        "PINGAN_BASE_URL": f"http://127.0.0.1:{port}",
        "PINGAN_LOG_FORMAT": log_format,
        "GUNICORN_CMD_ARGS": "--logger-class webapp.logs.GunicornLogger",
    }
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                "-",
                "webapp.wsgi:app",
            ],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10).status == 200:
                return server
        except OSError:
            time.sleep(0.5)
    stop_server(server)
    raise SystemExit(f"gunicorn did not answer /healthz; its log: {log_path}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


# --- the load generator (separate processes: it must not share the GIL with anything it measures)


def generate(
    port: int,
    route: str,
    clients: int,
    seconds: float,
    warm_up: float,
    work: list[Any],
    seed: int,
    barrier: Any,
    results: Any,
) -> None:
    """``clients`` threads, each its own HTTP/1.1 connection, requesting ``route`` for ``warm_up`` +
    ``seconds``."""
    barrier.wait()
    started = time.perf_counter()
    measure_from, stop_at = started + warm_up, started + warm_up + seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: list[dict[int, int]] = [{} for _ in range(clients)]
    exhausted = [False] * clients

    def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        mine = work[number::clients] if route == "complete" else work
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        position = 0
        while True:
            began = time.perf_counter()
            if began >= stop_at:
                break
            if route == "complete":
                if position >= len(mine):
                    exhausted[number] = True
                    break
                token, task_id = mine[position]
                position += 1
                method, path, body = (
                    "POST",
                    f"/api/v1/tasks/{task_id}/complete",
                    b'{"note": "load"}',
                )
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            elif route in INBOX_ROUTES:
                method, path, body = "GET", INBOX_ROUTES[route], None
                headers = {"Authorization": f"Bearer {rng.choice(mine)}"}
            else:
                method, path, body, headers = "GET", route, None, {}
            try:
                connection.request(method, path, body=body, headers=headers)
                answer = connection.getresponse()
                answer.read()
                status = answer.status
                if answer.will_close:
                    # gunicorn's sync workers close after each answer: the next one reconnects
                    connection.close()
            except (OSError, http.client.HTTPException):
                connection.close()
                status = 0
            ended = time.perf_counter()
            if began >= measure_from:
                latencies[number].append(ended - began)
                statuses[number][status] = statuses[number].get(status, 0) + 1
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    used = resource.getrusage(resource.RUSAGE_SELF)
    merged: dict[int, int] = {}
    for counted in statuses:
        for status, times in counted.items():
            merged[status] = merged.get(status, 0) + times
    results.put(
        {
            "latencies": [value for values in latencies for value in values],
            "statuses": merged,
            "exhausted": any(exhausted),
            "cpu": used.ru_utime + used.ru_stime,
        }
    )


def run_route(
    port: int, route: str, clients: int, procs: int, seconds: float, work: list[Any]
) -> dict[str, Any]:
    """One route under load from ``procs`` processes; latencies in ms, requests/s over the measured
    seconds."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(procs + 1), context.Queue()
    shares = [clients // procs + (1 if n < clients % procs else 0) for n in range(procs)]
    workers = []
    for number, share in enumerate(shares):
        # completions: each process gets its own slice, so no task is completed twice
        part = work[number::procs] if route == "complete" else work
        workers.append(
            context.Process(
                target=generate,
                args=(port, route, share, seconds, WARM_UP_SECONDS, part, number, barrier, results),
            )
        )
    for worker in workers:
        worker.start()
    barrier.wait()
    collected = [results.get(timeout=seconds + WARM_UP_SECONDS + 120) for _ in workers]
    for worker in workers:
        worker.join()
    latencies = sorted(value * 1000 for part in collected for value in part["latencies"])
    statuses: dict[int, int] = {}
    for part in collected:
        for status, times in part["statuses"].items():
            statuses[status] = statuses.get(status, 0) + times
    return {
        "requests": len(latencies),
        "rps": len(latencies) / seconds,
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "statuses": statuses,
        "exhausted": any(part["exhausted"] for part in collected),
        "generator_cpu": sum(part["cpu"] for part in collected),
    }


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=20_000, help="village heads (the assignees)")
    parser.add_argument(
        "--tokens", type=int, default=5_000, help="village heads with an API token (the clients)"
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients in all")
    parser.add_argument(
        "--procs", type=int, default=2, help="load-generator processes sharing the clients"
    )
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="measured seconds per route (after a warm-up)"
    )
    parser.add_argument(
        "--log-format",
        choices=("json", "text"),
        default="json",
        help="the server's PINGAN_LOG_FORMAT (json: as docker-compose.yml, with an access line)",
    )
    args = parser.parse_args()

    from scenario import postgres_database

    with postgres_database() as url:
        if url is None:
            raise SystemExit(
                "no PostgreSQL server at PINGAN_TEST_POSTGRES_URL: this benchmark needs one"
            )
        built = build(url, args.tasks, args.people, args.tokens)
        counts = built["counts"]
        print(
            f"database: postgresql, {counts['tasks']:,} tasks ({counts['open']:,} open), "
            f"{counts['rectifications']:,} rectifications, {counts['people']:,} people, "
            f"{len(built['tokens']):,} API clients; built in {built['seconds']:.0f} s"
        )
        print(
            f"machine: {os.cpu_count()} cores shared by PostgreSQL, gunicorn ({WORKERS} sync "
            "workers) and the "
            f"load generator ({args.procs} processes, {args.clients} clients); load average "
            "before: "
            f"{os.getloadavg()[0]:.2f}"
        )
        print(
            "connections: HTTP/1.1 clients; gunicorn's sync workers (as docker-compose.yml runs "
            "them) close each "
            "connection after its answer, so every request opens a new one; with more clients than "
            "workers, "
            "p50/p95 include the wait in gunicorn's queue (latency ≈ clients / throughput)"
        )
        port = free_port()
        with tempfile.TemporaryDirectory() as folder:
            server = start_server(url, port, args.log_format, Path(folder) / "gunicorn.log")
            try:
                measured = [
                    ("GET /healthz (SELECT 1)", "/healthz", []),
                    ("GET /api/v1/inbox", "inbox", built["tokens"]),
                    ("GET /api/v1/inbox?due=overdue", "inbox-overdue", built["tokens"]),
                    (f"GET /api/v1/inbox?q={SEARCH_WORD}", "inbox-search", built["tokens"]),
                    ("POST /api/v1/tasks/<id>/complete", "complete", built["completions"]),
                ]
                # the floor right before each route: this machine's speed drifts by half over a run
                # (a shared host), so a route is compared with the floor of its own minute
                routes = []
                for name, route, work in measured:
                    routes.append((f"floor before {route}", f"{FLOOR_KEY}{route}", []))
                    routes.append((name, route, work))
                figures = {}
                for name, route, work in routes:
                    path = STATIC_FLOOR if route.startswith(FLOOR_KEY) else route
                    figures[route] = result = run_route(
                        port, path, args.clients, args.procs, args.seconds, work
                    )
                    wrong = {status: n for status, n in result["statuses"].items() if status != 200}
                    print(
                        f"{name:<42} {result['rps']:8.1f} req/s  p50={result['p50']:7.2f} ms  "
                        f"p95={result['p95']:7.2f} ms  p99={result['p99']:7.2f} ms  "
                        f"(n={result['requests']}"
                        + (f", not 200: {wrong}" if wrong else "")
                        + (", ran out of open tasks" if result["exhausted"] else "")
                        + ")"
                    )
                    generator_share = result["generator_cpu"] / (args.seconds + WARM_UP_SECONDS)
                    print(f"{'':<42} load generator CPU: {generator_share:.2f} of one core")
                lines = (
                    Path(folder, "gunicorn.log")
                    .read_text(encoding="utf-8", errors="replace")
                    .splitlines()
                )
            finally:
                stop_server(server)
        errors = [
            line
            for line in lines
            if '"level": "ERROR"' in line or " ERROR " in line or "Traceback" in line
        ]
        print(
            f"server log: {len(lines):,} lines, {len(errors)} errors"
            + (f"; first: {errors[0][:200]}" if errors else "")
        )
        if args.log_format == "json":
            bad = [line for line in lines if line.strip() and not _is_json(line)]
            print(f"server log lines that are not JSON: {len(bad)}")
    floors = [figures[route]["rps"] for route in figures if route.startswith(FLOOR_KEY)]
    print(f"floor: {min(floors):.0f}–{max(floors):.0f} req/s over the run")

    def over_floor(route: str) -> float:
        return figures[route]["rps"] / figures[f"{FLOOR_KEY}{route}"]["rps"]

    health, inbox = figures["/healthz"], figures["inbox"]
    print(
        f"/healthz / floor: {over_floor('/healthz'):.2f} (one SELECT 1: the most any route that "
        "reads the database can reach)"
    )
    print(f"inbox / /healthz: {inbox['rps'] / health['rps']:.2f}")
    ratios = {route: over_floor(route) for route in INBOX_ROUTES}
    for route, ratio in ratios.items():
        print(f"{route} / floor: {ratio:.2f}")
    complete = over_floor("complete")
    print(
        f"complete / floor: {complete:.2f} (target ≥ {COMPLETE_TARGET:.2f}: "
        f"{'met' if complete >= COMPLETE_TARGET else 'NOT met'})"
    )
    smallest = min(ratios.values())
    print(
        f"target: every inbox's req/s ≥ {INBOX_TARGET:.2f} × the floor's "
        f"({'met' if smallest >= INBOX_TARGET else 'NOT met'})"
    )
    print(f"ratio={smallest:.2f}")


def _is_json(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


if __name__ == "__main__":
    main()
