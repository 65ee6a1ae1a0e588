"""Sweep 10,000 newly overdue rectifications among 1,000,000; compare with a plain select + Core
insert.

The database holds a town of 1,000 villages, one campaign whose definition has
an ``escalation:`` block (reminder 2wd before; levels 0d → responsible and
office director, 3wd → deputy, 7wd → leader) and ``--rows`` rectifications
inserted with Core ``insert()``, each open one with its next step in the
escalation queue. ``--due`` of them came due for their next level at midnight,
between the previous sweep (one minute earlier: the scheduler runs one a
minute) and ``now``; 60 % of the others are open and due later, the rest are
closed (nothing queued).

Printed per back end: the set-up seconds (not a figure), the floor (one plain
SQL select of the due ids through the queue's primary key, the sweep's index,
joined to their rectifications, plus one Core ``insert()`` of as many escalation
rows, in one transaction), the engine's
``run_sweep`` seconds with its summary line, and a second sweep at the same
``now`` (nothing new, target < 0.1 s). Then, once on SQLite, mail throughput:
1,000 outbox mails delivered by ``workflow.mail.outbox.deliver`` through Flask-Mail
to a local aiosmtpd server. The last line is the SQLite ratio sweep / floor
(target ≤ 3).

Each figure is the best of ``--trials`` runs, each on a fresh copy of the set-up
database (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL),
so that a busy machine does not decide the ratio.

    .venv/bin/python benchmarks/sweep.py [--rows 1000000] [--due 10000] [--trials 3]
    [--skip-postgres]
"""

from __future__ import annotations

import argparse
import random
import socket
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    Engine,
    Integer,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
)

from scenario import (
    Copies,
    definition_text,
    populate_town,
    postgres_database,
    sqlite_database,
)
from webapp.mail import mailer_from_env
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import FixedClock, end_of_day
from workflow.db import create_db_engine, session_factory
from workflow.definitions.reader import Definition, parse_definition
from workflow.escalation.levels import REMINDER, first_step_at, steps_for
from workflow.escalation.sweep import run_sweep
from workflow.mail import texts as mailtext
from workflow.mail.outbox import deliver, enqueue
from workflow.models import (
    Escalation,
    EscalationQueueEntry,
    OutboxMail,
    Person,
    PersonRole,
    Rectification,
    UTCDateTime,
)

TZ = "Asia/Shanghai"
SHANGHAI = ZoneInfo(TZ)
# half a minute after midnight on a Wednesday: the levels that came due at midnight are found by
# this sweep
NOW = datetime(2026, 6, 10, 0, 0, 30, tzinfo=SHANGHAI).astimezone(timezone.utc)
PREVIOUS_SWEEP = NOW - timedelta(minutes=1)
# its first phase (30 days) is not yet past its planned end at NOW: no late-phase report in the
# figures
CAMPAIGN_START = date(2026, 5, 15)
VILLAGES = 1000
CHUNK = 20_000
MAILS = 1000
BASE_URL = "http://pingan.test"

ESCALATION = """escalation:
  deadline_by_severity: {major: 5wd, minor: 15wd}
  remind_before: 2wd
  levels:
    - {after: 0d, notify: [responsible, office_director]}
    - {after: 3wd, notify: [deputy]}
    - {after: 7wd, notify: [leader]}
"""


def sweep_definition_text() -> str:
    """The scenario's definition with a deputy and an escalation block; its one per-village task is
    due long after now."""
    base = definition_text(1, slug="sweep-bench").replace("due: 7d", "due: 120d")
    base = base.replace(
        "  - {id: office_director", "  - {id: deputy, title: 副组长}\n  - {id: office_director", 1
    )
    return base + ESCALATION


# --- set-up -------------------------------------------------------------------------------------


class RowMaker:
    """The rectification rows: ``due`` spread evenly through the id range, the others open-later or
    closed."""

    def __init__(
        self,
        definition: Definition,
        campaign_id: int,
        heads: list[tuple[int, int, str]],
        office_id: int,
        rows: int,
        due: int,
    ) -> None:
        self.spec = definition.escalation
        self.calendar = WorkingCalendar()
        self.campaign_id = campaign_id
        self.heads = heads  # (unit id, village head id, village name), in unit order
        self.office_id = office_id
        self.rows = rows
        self.due = due
        self.stride = max(rows // due, 1)
        self._steps: dict[date, list] = {}
        # villages and levels drawn independently, the same each run
        self.random = random.Random(20260610)
        # (item kind, level) → due rows, as the sweep should record
        self.levels: dict[tuple[str, int], int] = {}
        today = NOW.astimezone(SHANGHAI).date()
        self.today = today
        # deadlines a few days back whose next level came due between the previous sweep and now:
        # exactly one each
        self.due_choices: list[tuple[date, datetime, int]] = []
        for back in range(1, 15):
            deadline = today - timedelta(days=back)
            window = [s for s in self.steps(deadline) if PREVIOUS_SWEEP < s.due_at <= NOW]
            if len(window) == 1 and window[0].level != REMINDER:
                self.due_choices.append((deadline, window[0].due_at, window[0].level))
        if not self.due_choices:
            raise SystemExit("no deadline has a level due between the previous sweep and now")

    def registered_at(self, deadline: date) -> datetime:
        """Ten days before the deadline, at ten in the morning, and never after the previous
        sweep."""
        registered = datetime.combine(
            deadline - timedelta(days=10), datetime.min.time().replace(hour=10), tzinfo=SHANGHAI
        ).astimezone(timezone.utc)
        return min(registered, PREVIOUS_SWEEP - timedelta(hours=1))

    def steps(self, deadline: date) -> list:
        if deadline not in self._steps:
            self._steps[deadline] = steps_for(
                self.spec, deadline, TZ, self.calendar, self.registered_at(deadline)
            )
        return self._steps[deadline]

    def is_due(self, i: int) -> bool:
        return i % self.stride == 0 and i // self.stride < self.due

    def chunks(self) -> Iterator[tuple[list[dict[str, object]], list[dict[str, object]]]]:
        """Rectification rows and their queue entries, ``CHUNK`` rows at a time."""
        for start in range(0, self.rows, CHUNK):
            rows = [self.row(i) for i in range(start, min(start + CHUNK, self.rows))]
            yield [row for row, _ in rows], [entry for _, entry in rows if entry is not None]

    def row(self, i: int) -> tuple[dict[str, object], dict[str, object] | None]:
        unit_id, head_id, village = self.heads[self.random.randrange(len(self.heads))]
        closed_at = None
        if self.is_due(i):
            deadline, next_at, level = self.due_choices[
                self.random.randrange(len(self.due_choices))
            ]
            self.levels[("rectification", level)] = self.levels.get(("rectification", level), 0) + 1
            state = "open"
        elif (i * 7) % 10 < 6:  # open, its next step (the reminder) weeks ahead
            deadline = self.today + timedelta(days=10 + i % 80)
            next_at = first_step_at(self.steps(deadline))
            state = "open"
        else:
            deadline = self.today - timedelta(days=1 + i % 20)
            next_at = None
            state = "closed"
            closed_at = self.registered_at(deadline) + timedelta(days=5)
        row = {
            "id": i + 1,
            "campaign_id": self.campaign_id,
            "phase_key": "mobilization",
            "unit_id": unit_id,
            "location": f"{village}第{i % 17 + 1}组",
            "description": f"隐患{i}：消防通道堆放杂物，电线私拉乱接",
            "severity": "major" if i % 5 == 0 else "minor",
            "responsible_id": head_id,
            "temporary_measures": "设置警示标志，专人看守" if i % 3 == 0 else None,
            "state": state,
            "original_deadline": deadline,
            "deadline": deadline,
            "deadline_at": end_of_day(deadline, TZ),
            "deadline_round": 0,
            "extensions": 0,
            "registered_at": self.registered_at(deadline),
            "registered_by_id": self.office_id,
            "closed_at": closed_at,
            "closed_by_id": self.office_id if closed_at else None,
        }
        entry = (
            None
            if next_at is None
            else {
                "due_at": next_at,
                "item_kind": "rectification",
                "item_id": i + 1,
                "deadline_round": 0,
            }
        )
        return row, entry


def set_up(engine: Engine, rows: int, due: int) -> tuple[int, RowMaker]:
    populate_town(engine, VILLAGES)
    with engine.begin() as connection:
        town_id = connection.execute(text("select id from units where code = 'town'")).scalar_one()
        deputy_id = connection.execute(
            insert(Person).returning(Person.id),
            {
                "email": "deputy@town.example.org",
                "name": "副组长",
                "unit_id": town_id,
                "active": True,
            },
        ).scalar_one()
        connection.execute(insert(PersonRole), {"person_id": deputy_id, "role": "deputy"})
        office_id = connection.execute(
            text("select id from people where email = 'office@town.example.org'")
        ).scalar_one()
        heads = [
            (u, p, n)
            for u, p, n in connection.execute(
                text(
                    "select p.unit_id, p.id, u.name from people p join person_roles r on "
                    "r.person_id = p.id "
                    "join units u on u.id = p.unit_id where r.role = 'village_head' order by u.code"
                )
            )
        ]
    definition = parse_definition(sweep_definition_text(), "sweep-bench.yaml")
    sessions = session_factory(engine)
    started = datetime.combine(CAMPAIGN_START, datetime.min.time().replace(hour=9), tzinfo=SHANGHAI)
    with sessions.begin() as session:
        campaign_id = start_campaign(
            session,
            definition,
            "town",
            CAMPAIGN_START,
            by=Actor.operator("bench"),
            clock=FixedClock(started),
            calendar=WorkingCalendar(),
        ).id
    maker = RowMaker(definition, campaign_id, heads, office_id, rows, due)
    for rows, entries in maker.chunks():
        with engine.begin() as connection:
            connection.execute(insert(Rectification.__table__), rows)
            connection.execute(insert(EscalationQueueEntry.__table__), entries)
    # a database in service has statistics (and PostgreSQL's autovacuum would otherwise run during
    # the figures)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:  # the ids were given: move the sequence past them
            connection.execute(
                text("SELECT setval('rectifications_id_seq', (SELECT max(id) FROM rectifications))")
            )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return campaign_id, maker


# --- the figures --------------------------------------------------------------------------------

FLOOR_SELECT = (
    text(
        "SELECT r.id, r.campaign_id, r.deadline, q.due_at FROM escalation_queue q "
        "JOIN rectifications r ON r.id = q.item_id "
        "WHERE q.item_kind = 'rectification' AND q.due_at <= :now AND r.state = 'open'"
    )
    .bindparams(bindparam("now", type_=UTCDateTime()))
    .columns(id=Integer, campaign_id=Integer, deadline=Date, due_at=UTCDateTime())
)


def floor(engine: Engine) -> tuple[float, int]:
    """One plain select of the due ids through the sweep's index, one Core insert of their
    escalation rows."""
    began = time.perf_counter()
    with engine.begin() as connection:
        found = connection.execute(FLOOR_SELECT, {"now": NOW}).all()
        if found:  # an empty list would insert one row of defaults
            connection.execute(
                insert(Escalation.__table__),
                [
                    {
                        "campaign_id": campaign_id,
                        "item_kind": "rectification",
                        "item_id": item_id,
                        "deadline_round": 0,
                        "level": 1,
                        "colour": "yellow",
                        "deadline": deadline,
                        "due_at": due_at,
                        "reached_at": NOW,
                        "recipients": "head@town.example.org,office@town.example.org",
                    }
                    for item_id, campaign_id, deadline, due_at in found
                ],
            )
    seconds = time.perf_counter() - began
    with engine.begin() as connection:  # not timed: the engine's sweep starts clean
        connection.execute(delete(Escalation.__table__))
    return seconds, len(found)


def escalation_counts(engine: Engine) -> dict[tuple[str, int], int]:
    with engine.connect() as connection:
        return {
            (kind, level): count
            for kind, level, count in connection.execute(
                select(Escalation.item_kind, Escalation.level, func.count()).group_by(
                    Escalation.item_kind, Escalation.level
                )
            )
        }


def measure(
    label: str, url: str, rows: int, due: int, trials: int, began: float, failures: list[str]
) -> tuple[float, float]:
    """Set the database up once, then per trial: a fresh copy, the floor, the sweep, a second sweep;
    the best of each."""
    engine = create_db_engine(url)
    _campaign_id, maker = set_up(engine, rows, due)
    engine.dispose()
    print(
        f"{label}: set-up {rows} rectifications ({due} due, over {len(maker.due_choices)} "
        "deadlines) "
        f"{time.perf_counter() - began:.1f} s (not a figure)"
    )
    floors, sweeps = [], []
    with Copies(url) as copies:
        for trial in range(1, trials + 1):
            floor_seconds, sweep_seconds = one_trial(
                f"{label} #{trial}", copies.fresh(), due, maker, failures
            )
            floors.append(floor_seconds)
            sweeps.append(sweep_seconds)
    floor_best, sweep_best = min(floors), min(sweeps)
    print(
        f"{label}: best of {trials}: floor {floor_best:.3f} s, sweep {sweep_best:.3f} s, "
        f"ratio sweep / floor {sweep_best / floor_best:.2f}"
    )
    return sweep_best, floor_best


def one_trial(
    label: str, url: str, due: int, maker: RowMaker, failures: list[str]
) -> tuple[float, float]:
    engine = create_db_engine(url)
    # a fresh copy starts with cold caches: whichever figure ran first would pay for warming them
    # (the floor, until this read: on PostgreSQL its best of three ranged 0.30-0.46 s)
    with engine.connect() as connection:
        connection.execute(FLOOR_SELECT, {"now": NOW}).all()
    floor_seconds, floor_rows = floor(engine)
    print(
        f"{label}: floor (plain select + Core insert of {floor_rows} escalation rows) "
        f"{floor_seconds:.3f} s"
    )
    if floor_rows != due:
        failures.append(f"{label}: the floor select found {floor_rows} due rows, expected {due}")

    sessions = session_factory(engine)
    clock = FixedClock(NOW)
    began = time.perf_counter()
    summary = run_sweep(sessions, clock=clock, mailer=None, base_url=BASE_URL)
    sweep_seconds = time.perf_counter() - began
    counts = escalation_counts(engine)
    recorded = sum(counts.values())
    print(f"{label}: sweep {sweep_seconds:.3f} s — {summary.escalation.items} items; {summary}")
    if recorded != due or counts != maker.levels:
        failures.append(
            f"{label}: {recorded} escalation rows {dict(counts)}, expected {due} {maker.levels}"
        )
    with engine.connect() as connection:
        entry = EscalationQueueEntry
        still_due = connection.scalar(
            select(func.count())
            .select_from(entry)
            .where(entry.due_at <= NOW, entry.item_kind == "rectification")
        )
        queued = connection.scalar(select(func.count()).select_from(OutboxMail))
    if still_due:
        failures.append(f"{label}: after the sweep {still_due} rectifications are still due")
    print(f"{label}: {recorded} escalation rows recorded, {queued} mails queued")

    began = time.perf_counter()
    again = run_sweep(sessions, clock=clock, mailer=None, base_url=BASE_URL)
    again_seconds = time.perf_counter() - began
    print(f"{label}: second sweep at the same now (nothing new) {again_seconds:.3f} s — {again}")
    if again.escalation.items or sum(escalation_counts(engine).values()) != recorded:
        failures.append(f"{label}: the second sweep did something: {again}")
    engine.dispose()
    return floor_seconds, sweep_seconds


# --- mail ---------------------------------------------------------------------------------------


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 that counts what arrives (the approach of
    tests/support/mail.py)."""

    def __init__(self) -> None:
        with socket.socket() as probe:  # aiosmtpd's start() connects to itself: port 0 won't do
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.received = 0
        self.recipients: set[str] = set()
        self.controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001 - aiosmtpd's hook name
                sink.received += 1
                sink.recipients.update(envelope.rcpt_tos)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def mail_throughput(failures: list[str]) -> float:
    sink = SmtpSink()
    sink.start()
    try:
        with sqlite_database() as url:
            engine = create_db_engine(url)
            sessions = session_factory(engine)
            clock = FixedClock(NOW)
            items = [
                mailtext.ItemLine(
                    kind="rectification",
                    id=n,
                    title=f"隐患{n}：消防通道堆放杂物",
                    site=None,
                    unit="村00001",
                    deadline=date(2026, 6, 9),
                    severity="minor",
                    overdue_working_days=1,
                    responsible="村长00001",
                    temporary_measures="设置警示标志",
                )
                for n in range(3)
            ]
            with sessions.begin() as session:
                for n in range(MAILS):
                    recipient = Person(email=f"head{n:05d}@town.example.org", name=f"村长{n:05d}")
                    subject, body = mailtext.escalation_mail(
                        level=1,
                        colour="yellow",
                        recipient=recipient,
                        items=items,
                        campaign_title="基准测试创建活动",
                        base_url=BASE_URL,
                    )
                    enqueue(
                        session,
                        key=f"bench-{n}",
                        recipient=recipient.email,
                        subject=subject,
                        body=body,
                        now=NOW,
                    )
            mailer = mailer_from_env(
                {
                    "MAIL_SERVER": "127.0.0.1",
                    "MAIL_PORT": str(sink.port),
                    "MAIL_DEFAULT_SENDER": "pingan@example.org",
                }
            )
            began = time.perf_counter()
            report = deliver(sessions, mailer, clock)
            seconds = time.perf_counter() - began
            engine.dispose()
    finally:
        sink.stop()
    print(
        f"sqlite: mail delivery {report.sent} sent, {report.failed} failed, {report.waiting} "
        "waiting "
        f"in {seconds:.3f} s; server received {sink.received}; {report.sent / seconds:.0f} mails/s"
    )
    if sink.received != MAILS or report.sent != MAILS or len(sink.recipients) != MAILS:
        failures.append(
            f"mail: the server received {sink.received} ({len(sink.recipients)} recipients), "
            f"deliver reported {report.sent} sent; expected {MAILS}"
        )
    return report.sent / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument(
        "--trials", type=int, default=3, help="fresh copies swept; the best of each figure counts"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    if not 0 < args.due <= args.rows:
        parser.error("--due must be between 1 and --rows")

    failures: list[str] = []
    began = time.perf_counter()
    with sqlite_database() as url:
        sweep_seconds, floor_seconds = measure(
            "sqlite", url, args.rows, args.due, args.trials, began, failures
        )
    if args.skip_postgres:
        print("postgresql: skipped (--skip-postgres)")
    else:
        began = time.perf_counter()
        with postgres_database() as pg_url:
            if pg_url is None:
                print("postgresql: not reachable, skipped")
            else:
                measure("postgresql", pg_url, args.rows, args.due, args.trials, began, failures)
    mail_throughput(failures)
    for failure in failures:
        print(f"CHECK FAILED: {failure}")
    print(f"ratio={sweep_seconds / floor_seconds:.2f}")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
